//! The scan as users run it: file types, line endings, encodings, hidden and ignored files,
//! binaries, chunk boundaries, stdin, hostile files, exit codes, determinism, and secrecy.

use std::process::Command;

use crate::common::*;

#[test]
fn keys_in_many_file_types_and_line_endings_are_found_at_the_right_place() {
    let t = Tree::new();
    let k: Vec<String> = (1..=8).map(fake_key).collect();
    t.write("app.py", format!("import os\nAPI_KEY = \"{}\"\n", k[0]));
    t.write(
        "web/index.js",
        format!("// config\r\nconst key = '{}';\r\n", k[1]),
    );
    t.write(
        "deploy.yaml",
        format!("env:\n  - name: KEY\n    value: {}\n", k[2]),
    );
    t.write(
        "settings.json",
        format!("{{\"leadey\": {{\"key\": \"{}\"}}}}", k[3]),
    );
    let mut latin1 = b"# pr\xE9nom\nname=caf\xE9 ".to_vec();
    latin1.extend_from_slice(k[4].as_bytes());
    t.write("latin1.txt", latin1);
    t.write("bom.txt", format!("\u{FEFF}{}\n", k[5]));
    t.write("mac.txt", format!("a\rb\n\u{e9}t\u{e9} = {}", k[6]));
    t.write("notes.md", format!("Use `{}` here.\n", k[7]));
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        locations(&v),
        vec![
            ("app.py".to_string(), 2, 12),
            ("bom.txt".to_string(), 1, 1),
            ("deploy.yaml".to_string(), 3, 12),
            ("latin1.txt".to_string(), 2, 11), // invalid UTF-8 line: byte column
            ("mac.txt".to_string(), 2, 7),     // a lone CR does not end a line
            ("notes.md".to_string(), 1, 6),
            ("settings.json".to_string(), 1, 21),
            ("web/index.js".to_string(), 2, 14),
        ]
    );
    let masks: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["masked_key"].as_str().unwrap())
        .collect();
    assert!(masks.contains(&masked(&k[0]).as_str()));
}

#[test]
fn finding_fields_match_the_key() {
    let t = Tree::new();
    let key = fake_key(42);
    t.write("a.txt", format!("x = {key}\n"));
    let (v, _) = json(t.cmd().arg("a.txt"));
    let f = &v["findings"][0];
    assert_eq!(f["rule_id"], "leadey-api-key");
    assert_eq!(f["path"], "a.txt");
    assert_eq!(f["byte_offset"], 4);
    assert_eq!(f["binary"], false);
    assert_eq!(f["masked_key"], masked(&key));
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(f["key_sha256"], hash);
    assert_eq!(f["snippet"], format!("x = {}", masked(&key)));
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    assert!(f["entropy"].as_f64().unwrap() > 4.0);
    assert!(f.get("secret").is_none());
}

#[test]
fn fingerprint_survives_line_moves_but_not_file_moves() {
    let t = Tree::new();
    let key = fake_key(3);
    t.write("a.txt", format!("{key}\n"));
    let (v1, _) = json(t.cmd().arg("."));
    t.write("a.txt", format!("new line\n\n  {key}\n"));
    let (v2, _) = json(t.cmd().arg("."));
    assert_eq!(
        v1["findings"][0]["fingerprint"],
        v2["findings"][0]["fingerprint"]
    );
    assert_ne!(v1["findings"][0]["line"], v2["findings"][0]["line"]);
    std::fs::rename(t.join("a.txt"), t.join("b.txt")).unwrap();
    let (v3, _) = json(t.cmd().arg("."));
    assert_ne!(
        v1["findings"][0]["fingerprint"],
        v3["findings"][0]["fingerprint"]
    );
}

#[test]
fn hidden_files_are_scanned_and_the_git_folder_is_not() {
    let t = Tree::new();
    t.git_init();
    t.write(".env", format!("LEADEY_KEY={}\n", fake_key(1)));
    t.write(
        ".github/workflows/ci.yml",
        format!("key: {}\n", fake_key(2)),
    );
    t.write(".git/leftover", format!("{}\n", fake_key(3)));
    let (v, _) = json(t.cmd().arg("."));
    let paths: Vec<String> = locations(&v).into_iter().map(|l| l.0).collect();
    assert_eq!(paths, vec![".env", ".github/workflows/ci.yml"]);
}

#[test]
fn gitignored_files_are_skipped_in_a_repository_and_found_with_no_ignore() {
    let t = Tree::new();
    t.git_init();
    t.write(".gitignore", "secret.txt\nbuild/\n");
    t.write("secret.txt", format!("{}\n", fake_key(1)));
    t.write("build/out.js", format!("{}\n", fake_key(2)));
    t.write("kept.txt", format!("{}\n", fake_key(3)));
    let (v, _) = json(t.cmd().arg("."));
    assert_eq!(locations(&v).len(), 1);
    assert_eq!(locations(&v)[0].0, "kept.txt");
    let (v, _) = json(t.cmd().args([".", "--no-ignore"]));
    let paths: Vec<String> = locations(&v).into_iter().map(|l| l.0).collect();
    assert_eq!(paths, vec!["build/out.js", "kept.txt", "secret.txt"]);
}

#[test]
fn gitignore_outside_a_repository_does_not_hide_files_but_dot_ignore_does() {
    let t = Tree::new();
    t.write(".gitignore", "secret.txt\n");
    t.write(".ignore", "vendored.txt\n");
    t.write("secret.txt", format!("{}\n", fake_key(1)));
    t.write("vendored.txt", format!("{}\n", fake_key(2)));
    let (v, _) = json(t.cmd().arg("."));
    let paths: Vec<String> = locations(&v).into_iter().map(|l| l.0).collect();
    assert_eq!(paths, vec!["secret.txt"]);
}

#[test]
fn a_path_named_on_the_command_line_is_scanned_even_when_ignored() {
    let t = Tree::new();
    t.git_init();
    t.write(".gitignore", "secret.txt\n");
    t.write("secret.txt", format!("{}\n", fake_key(1)));
    let (v, out) = json(t.cmd().arg("secret.txt"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(locations(&v), vec![("secret.txt".to_string(), 1, 1)]);
}

#[test]
fn paths_are_printed_like_ripgrep() {
    let t = Tree::new();
    t.write("sub/a.txt", format!("{}\n", fake_key(1)));
    for (arg, want) in [
        (".", "sub/a.txt"),
        ("./sub", "sub/a.txt"),
        ("sub/", "sub/a.txt"),
        ("sub", "sub/a.txt"),
    ] {
        let (v, _) = json(t.cmd().arg(arg));
        assert_eq!(locations(&v)[0].0, want, "root {arg}");
    }
    let abs = t.join("sub");
    let (v, _) = json(t.cmd().arg(&abs));
    assert_eq!(locations(&v)[0].0, format!("{}/a.txt", abs.display()));
}

#[test]
fn a_key_in_a_binary_file_reports_its_byte_offset() {
    let t = Tree::new();
    let key = fake_key(9);
    let mut bytes = vec![0u8, 1, 2, 255, 0, 0x7f];
    bytes.extend_from_slice(&[0xAB; 1000]);
    let offset = bytes.len();
    bytes.extend_from_slice(key.as_bytes());
    bytes.extend_from_slice(&[0, 0, 9]);
    t.write("blob.bin", &bytes);
    let (v, _) = json(t.cmd().arg("."));
    let f = &v["findings"][0];
    assert_eq!(f["binary"], true);
    assert_eq!(f["byte_offset"], offset as u64);
    let out = run(t.cmd().args([".", "--color", "never"]));
    assert!(
        stdout(&out).contains(&format!("(binary file, byte offset {offset})")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn keys_across_chunk_boundaries_are_found_once_at_every_chunk_size() {
    let t = Tree::new();
    let mut text = String::new();
    let mut keys = Vec::new();
    for i in 0..60u64 {
        text.push_str(&"filler é ".repeat((i * 37 % 101) as usize));
        let key = fake_key_len(i, 20 + (i as usize % 45));
        text.push_str(&key);
        text.push_str(if i % 2 == 0 { "\n" } else { " ; " });
        keys.push(key);
    }
    t.write("big.txt", &text);
    let (whole, _) = json(t.cmd().arg("big.txt"));
    assert_eq!(whole["findings"].as_array().unwrap().len(), 60);
    for chunk in ["1", "700", "1000", "1237", "4096", "65536"] {
        let (v, _) = json(t.cmd().args(["big.txt", "--chunk-size", chunk]));
        assert_eq!(v["findings"], whole["findings"], "chunk size {chunk}");
    }
}

#[test]
fn keys_at_the_very_start_and_end_without_newline_and_two_on_a_line() {
    let t = Tree::new();
    let (a, b, c) = (fake_key(1), fake_key(2), fake_key(3));
    t.write("edge.txt", format!("{a}\nmiddle\n{b},{c}"));
    let (v, _) = json(t.cmd().arg("."));
    assert_eq!(
        locations(&v),
        vec![
            ("edge.txt".to_string(), 1, 1),
            ("edge.txt".to_string(), 3, 1),
            ("edge.txt".to_string(), 3, (b.len() + 2) as u64),
        ]
    );
    for f in v["findings"].as_array().unwrap() {
        let snippet = f["snippet"].as_str().unwrap();
        for k in [&a, &b, &c] {
            assert!(
                !snippet.contains(&k[15..]),
                "snippet shows a key body: {snippet}"
            );
        }
    }
}

#[test]
fn placeholders_and_documentation_forms_are_not_found() {
    let t = Tree::new();
    let docs = [
        "Your key looks like leadey_sk_live_Xy3f…a1b2 in the docs.",
        "In the dashboard: leadey_sk_live_••••a1b2",
        "LEADEY_API_KEY=leadey_sk_live_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "key = \"leadey_sk_live_00000000000000000000000000000000\"",
        "leadey_sk_live_abababababababababababababababab",
        "leadey_sk_live_12345678901234567890123456789012",
        "leadey_sk_live_abcdefghijklmnopqrstuvwxyz123456",
        "leadey_sk_live_<your key>",
        "leadey_sk_live_${LEADEY_KEY}",
        "export KEY=leadey_sk_live_your_key_here",
        "leadey_sk_live_YourExampleKeyGoesHere1234",
    ];
    t.write("README.md", docs.join("\n"));
    t.write("doc.html", docs.join("<br>\r\n"));
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn stdin_is_scanned_as_stdin() {
    let key = fake_key(5);
    let mut cmd = bin();
    cmd.args(["-", "--format", "json", "--no-timing"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("line one\nkey: {key}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(locations(&v), vec![("<stdin>".to_string(), 2, 6)]);
}

#[test]
fn exit_codes_are_0_clean_1_findings_2_errors() {
    let t = Tree::new();
    t.write("clean.txt", "nothing here\n");
    assert_eq!(run(t.cmd().arg(".")).status.code(), Some(0));
    let out = run(t.cmd().arg("missing.txt"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("warning: missing.txt:"),
        "{}",
        stderr(&out)
    );
    t.write("key.txt", fake_key(1));
    assert_eq!(run(t.cmd().arg(".")).status.code(), Some(1));
    // Findings win over errors: the key is reported and the error warned about.
    let out = run(t.cmd().args([".", "missing.txt"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing.txt"));
    let out = run(t.cmd().args([".", "--format", "yaml"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_documents_the_exit_codes() {
    let out = run(bin().arg("--help"));
    let text = stdout(&out);
    assert!(text.contains("Exit codes:"), "{text}");
    assert!(text.contains("1  at least one key found"));
}

#[test]
fn a_malformed_rule_file_is_a_clear_error_naming_the_file() {
    let t = Tree::new();
    t.write("a.txt", "x");
    t.write("bad.toml", "[[rule]]\nid = \"x\"\ntitel = \"typo\"\n");
    let out = run(t.cmd().args([".", "--rules", "bad.toml"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("leadey-scan: error:"), "{err}");
    assert!(err.contains("bad.toml:3:1: unknown field `titel`"), "{err}");
    t.write("bad2.toml", "[[rule\n");
    let out = run(t.cmd().args([".", "--rules", "bad2.toml"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad2.toml:1:"), "{}", stderr(&out));
    let out = run(t.cmd().args([".", "--rules", "nope.toml"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.toml: cannot read rule file"));
}

#[test]
fn a_user_rule_file_adds_rules() {
    let t = Tree::new();
    t.write(
        "extra.toml",
        r#"[[rule]]
id = "acme-token"
title = "ACME token"
prefix = "acme_"
body_chars = "a-f0-9"
body_min_len = 16
body_max_len = 16
min_entropy = 2.0
severity = "high"
remediation = "Rotate it."
"#,
    );
    t.write(
        "a.txt",
        format!("t=acme_3f9a0c7b12e4d58a {}\n", fake_key(1)),
    );
    let (v, _) = json(t.cmd().args(["a.txt", "--rules", "extra.toml"]));
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["acme-token", "leadey-api-key"]);
}

fn can_drop_privileges() -> bool {
    Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn unreadable_file_and_folder_warn_once_each_and_the_scan_goes_on() {
    if !can_drop_privileges() {
        eprintln!("setpriv not available; skipping");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::new();
    t.write("locked.txt", fake_key(1));
    t.write("locked_dir/inner.txt", fake_key(2));
    t.write("open.txt", fake_key(3));
    std::fs::set_permissions(t.join("locked.txt"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(t.join("locked_dir"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = unprivileged_in(t.path())
        .args([".", "--format", "json", "--no-timing"])
        .output()
        .unwrap();
    std::fs::set_permissions(t.join("locked_dir"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(locations(&v), vec![("open.txt".to_string(), 1, 1)]);
    let errors: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(errors, vec!["locked.txt", "locked_dir"]);
    let err = stderr(&out);
    assert_eq!(err.matches("warning:").count(), 2, "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    // Without the readable key, the same tree is exit 2: the scan was not complete.
    std::fs::remove_file(t.join("open.txt")).unwrap();
    std::fs::set_permissions(t.join("locked_dir"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = unprivileged_in(t.path()).arg(".").output().unwrap();
    std::fs::set_permissions(t.join("locked_dir"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_fifo_is_skipped_without_hanging_and_listed_on_request() {
    let t = Tree::new();
    t.write("a.txt", fake_key(1));
    let st = Command::new("mkfifo").arg(t.join("pipe")).status().unwrap();
    assert!(st.success());
    let (v, out) = json(t.cmd().args([".", "--list-skipped"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        v["skipped"],
        serde_json::json!([{
            "path": "pipe",
            "origin": {"source": "file", "path": "pipe", "members": []},
            "reason": "fifo"
        }])
    );
    assert_eq!(v["stats"]["skipped"], 1);
    assert!(
        stderr(&out).contains("skipped: pipe: named pipe"),
        "{}",
        stderr(&out)
    );
    // Named explicitly, it is still not opened for a blocking read.
    let (v, _) = json(t.cmd().arg("pipe"));
    assert_eq!(v["skipped"][0]["reason"], "fifo");
}

#[test]
fn symlinks_are_skipped_unless_followed_and_loops_are_reported() {
    let t = Tree::new();
    t.write("real/a.txt", fake_key(1));
    std::os::unix::fs::symlink("real", t.join("link")).unwrap();
    std::os::unix::fs::symlink("..", t.join("real/up")).unwrap();
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(locations(&v), vec![("real/a.txt".to_string(), 1, 1)]);
    assert_eq!(v["stats"]["skipped"], 2);
    let (v, out) = json(t.cmd().args([".", "--follow"]));
    assert_eq!(out.status.code(), Some(1));
    let paths: Vec<String> = locations(&v).into_iter().map(|l| l.0).collect();
    assert!(paths.contains(&"link/a.txt".to_string()), "{paths:?}");
    let errors = v["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("symbolic link loop"),
        "{v}"
    );
}

#[test]
fn max_filesize_skips_and_counts_large_files() {
    let t = Tree::new();
    t.write("small.txt", fake_key(1));
    t.write("large.txt", format!("{}{}", "x ".repeat(2000), fake_key(2)));
    let (v, _) = json(t.cmd().args([".", "--max-filesize", "1K"]));
    assert_eq!(locations(&v).len(), 1);
    assert_eq!(
        v["skipped"],
        serde_json::json!([{
            "path": "large.txt",
            "origin": {"source": "file", "path": "large.txt", "members": []},
            "reason": "too-large"
        }])
    );
}

/// The JSON report of scanning `input` from standard input with `args`.
fn scan_stdin(args: &[&str], input: &[u8]) -> (serde_json::Value, std::process::Output) {
    use std::io::Write;
    let mut child = bin()
        .args(["-", "--format", "json", "--no-timing"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The scan may stop reading past the limit: a broken pipe here is expected.
    let _ = stdin.write_all(input);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (serde_json::from_slice(&out.stdout).unwrap(), out)
}

#[test]
fn max_filesize_applies_to_stdin_as_to_files() {
    // #23: standard input takes the same road as files; it was never checked.
    let key = fake_key(3);
    let padded = |len: usize| {
        let mut s = format!("{key}\n");
        s.push_str(&"x".repeat(len - s.len()));
        s.into_bytes()
    };
    let (v, out) = scan_stdin(&["--max-filesize", "1K"], &padded(1024));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(locations(&v), vec![("<stdin>".to_string(), 1, 1)]);
    assert_eq!(v["stats"]["files_scanned"], 1);
    assert_eq!(v["stats"]["bytes_scanned"], 1024);
    let mut big = padded(1025);
    big.extend(vec![b'y'; 1 << 20]);
    let (v, out) = scan_stdin(&["--max-filesize", "1K"], &big);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(locations(&v), vec![]);
    assert_eq!(v["stats"]["files_scanned"], 0);
    assert_eq!(
        v["skipped"],
        serde_json::json!([{
            "path": "<stdin>",
            "origin": {"source": "stdin", "members": []},
            "reason": "too-large"
        }])
    );
}

#[test]
fn exclude_globs_leave_paths_out_and_count_them() {
    let t = Tree::new();
    t.write("src/a.txt", fake_key(1));
    t.write("tests/fixtures/b.txt", fake_key(2));
    t.write("web/app.min.js", fake_key(3));
    let (v, _) = json(
        t.cmd()
            .args([".", "--exclude", "tests/fixtures", "--exclude", "*.min.js"]),
    );
    assert_eq!(locations(&v), vec![("src/a.txt".to_string(), 1, 1)]);
    assert_eq!(v["stats"]["skipped"], 2);
    let out = run(t.cmd().args([".", "--exclude", "a{b"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid --exclude glob `a{b`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn output_is_identical_at_any_thread_count() {
    let t = Tree::new();
    for i in 0..300u64 {
        let body = if i % 7 == 0 {
            format!("k = {}\n", fake_key(i))
        } else {
            format!("nothing {i}\n")
        };
        t.write(&format!("d{}/f{i}.txt", i % 13), body);
    }
    let one = run(t
        .cmd()
        .args([".", "--format", "json", "--no-timing", "--threads", "1"]));
    let eight = run(t
        .cmd()
        .args([".", "--format", "json", "--no-timing", "--threads", "8"]));
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, eight.stdout);
    let h1 = run(t.cmd().args([".", "--threads", "1", "--color", "never"]));
    let h8 = run(t.cmd().args([".", "--threads", "8", "--color", "never"]));
    assert_eq!(h1.stdout, h8.stdout);
}

#[test]
fn no_full_key_is_printed_without_show_secrets() {
    let t = Tree::new();
    let key = fake_key(77);
    t.write("a.txt", format!("{key}\n"));
    t.write(&format!("{key}.txt"), "a key in the file name\n");
    for format in ["human", "json"] {
        for color in ["never", "always"] {
            let out =
                run(t
                    .cmd()
                    .args([".", "--format", format, "--color", color, "--list-skipped"]));
            assert_eq!(out.status.code(), Some(1));
            let all = format!("{}{}", stdout(&out), stderr(&out));
            assert!(
                !all.contains(&key[15..]),
                "{format}: full key printed:\n{all}"
            );
            assert!(all.contains(&masked(&key)));
        }
        let report = t.join(&format!("report.{format}"));
        let out = run(t.cmd().args([".", "--format", format, "-o"]).arg(&report));
        let file = std::fs::read_to_string(&report).unwrap();
        assert!(!file.contains(&key[15..]) && !stderr(&out).contains(&key[15..]));
        assert!(file.contains(&masked(&key)));
        std::fs::remove_file(&report).unwrap();
    }
    let (v, _) = json(t.cmd().args([".", "--show-secrets"]));
    assert_eq!(v["findings"][0]["secret"], key);
    let out = run(t.cmd().args([".", "--show-secrets", "--color", "never"]));
    assert!(stdout(&out).contains(&format!("secret: {key}")));
}

#[test]
fn a_large_file_is_read_in_chunks_and_a_key_near_its_end_is_found() {
    let t = Tree::new();
    let key = fake_key(11);
    let line = "the quick brown fox jumps over the lazy dog 0123456789\n";
    let mut text = line.repeat(100_000); // 5.5 MB: eleven default chunks
    text.push_str(&key);
    t.write("big.log", &text);
    let (v, _) = json(t.cmd().arg("big.log"));
    assert_eq!(locations(&v), vec![("big.log".to_string(), 100_001, 1)]);
    assert_eq!(v["stats"]["bytes_scanned"], text.len() as u64);
}

// #20: counts and labels that agree.

fn gzip_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&tar(files)).expect("gzip");
    e.finish().expect("gzip finish")
}

#[test]
fn archive_members_are_counted_as_members_and_the_archive_as_one_file() {
    let t = Tree::new();
    let (k1, k2) = (fake_key(60), fake_key(61));
    let (a, b) = (format!("K={k1}\n"), format!("K={k2}\n"));
    t.write(
        "app.tgz",
        gzip_tar(&[("pkg/a.env", a.as_bytes()), ("pkg/b.env", b.as_bytes())]),
    );
    t.write("c.env", format!("K={k1}\n"));
    let out = run(t.cmd().args([".", "--no-timing"]));
    let e = stderr(&out);
    assert!(
        e.contains("3 findings of 2 keys in 2 files (2 archive members); scanned 2 files ("),
        "{e}"
    );
    let (v, _) = json(t.cmd().arg("."));
    let s = &v["stats"];
    let counts: Vec<u64> = [
        "findings",
        "keys",
        "files_with_findings",
        "members_with_findings",
        "files_scanned",
    ]
    .iter()
    .map(|k| s[*k].as_u64().unwrap())
    .collect();
    assert_eq!(counts, vec![3, 2, 2, 2, 2], "{s:#}");
}

#[test]
fn history_says_findings_and_keys_and_short_names_the_commit() {
    let t = Tree::new();
    t.git_init();
    let (k1, k2) = (fake_key(62), fake_key(63));
    t.write("a.env", format!("K={k1}\n"));
    t.write("b.env", format!("K={k2}\n"));
    t.git(&["add", "-A"]).git(&["commit", "-qm", "one"]);
    t.write("c.env", format!("K={k2}\n"));
    t.git(&["add", "-A"]).git(&["commit", "-qm", "two"]);
    let out = run(t.cmd().args(["--history", ".", "--no-timing"]));
    let e = stderr(&out);
    assert!(e.contains("3 findings of 2 keys in 3 files;"), "{e}");
    let out = run(t.cmd().args(["--history", ".", "--format", "short", "-q"]));
    let commit = |rev: &str| {
        let o = std::process::Command::new("git")
            .args(["rev-parse", "--short=7", rev])
            .current_dir(t.path())
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "c.env:1:3: leadey-api-key: {} (Leadey API key) [commit {}]\n",
            masked(&k2),
            commit("HEAD")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "a.env:1:3: leadey-api-key: {} (Leadey API key) [commit {}]\n",
            masked(&k1),
            commit("HEAD~1")
        )),
        "{text}"
    );
}

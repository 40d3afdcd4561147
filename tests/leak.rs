//! Nothing leaks (#8): every output format (human with and without colour, JSON, SARIF), report
//! files, stderr with the skip list, verification data, and every error path that can carry
//! input (rule files that quote a key, key-shaped file names, arguments, URLs) are searched for
//! any planted key. Only `--show-secrets` may print one, and the last test proves the search
//! finds keys when they are there.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{
    bin, can_test_permissions, fake_key_len, masked, run_limited, stderr, stdout, unprivileged_in,
    Tree, PREFIX,
};

const LIMIT: Duration = Duration::from_secs(120);

/// Keys planted in one test; `check` fails if any of them, or any 8 consecutive characters of a
/// body, shows in a text.
struct Secrets {
    keys: Vec<String>,
}

impl Secrets {
    fn new() -> Secrets {
        Secrets { keys: Vec::new() }
    }

    /// A fresh key with a `len`-character body, remembered.
    fn key_len(&mut self, len: usize) -> String {
        let key = fake_key_len(9000 + self.keys.len() as u64, len);
        self.keys.push(key.clone());
        key
    }

    fn key(&mut self) -> String {
        self.key_len(32)
    }

    /// Remembers a secret made elsewhere (e.g. a body longer than the maximum).
    fn add(&mut self, secret: String) -> String {
        self.keys.push(secret.clone());
        secret
    }

    /// The first part of a planted key found in `text`.
    fn leak<'a>(&'a self, text: &str) -> Option<&'a str> {
        self.keys.iter().find_map(|key| {
            let body = &key[PREFIX.len()..];
            // The mask shows the last 4 characters; 8 in a row is more than any mask shows.
            (0..=body.len() - 8)
                .map(|i| &body[i..i + 8])
                .find(|window| text.contains(window))
        })
    }

    fn check(&self, what: &str, text: &str) {
        if let Some(window) = self.leak(text) {
            panic!("{what}: part `{window}` of a planted key leaked:\n{text}");
        }
    }

    fn check_output(&self, what: &str, out: &Output) {
        self.check(&format!("{what} (stdout)"), &stdout(out));
        self.check(&format!("{what} (stderr)"), &stderr(out));
    }
}

fn run(cmd: &mut Command) -> Output {
    run_limited(cmd, None, LIMIT)
}

/// The tree every format is run on: keys in contents, in file and folder names, in a binary,
/// on a long line, in a body too long to be a key, in a FIFO's name, a symlink's name, an
/// excluded file's name and a symlink loop's folder.
struct Planted {
    tree: Tree,
    /// Keys reported as findings (masked forms must show).
    found: Vec<String>,
    /// Keys that appear in skipped paths (masked forms must show with `--list-skipped`).
    skipped: Vec<String>,
    stdin_key: String,
    missing: String,
}

fn plant(s: &mut Secrets) -> Planted {
    let t = Tree::new();
    let (k_env, k_line2) = (s.key(), s.key_len(20));
    let too_long = s.add(format!("{}Q", fake_key_len(77, 64)));
    t.write(
        "app/config.env",
        format!("LEADEY_API_KEY={k_env}\nboth={k_line2} and {too_long} and {k_env}\n"),
    );
    let (k_name, k_inside) = (s.key(), s.key_len(64));
    t.write(&format!("{k_name}.txt"), format!("key: {k_inside}\n"));
    let k_dir = s.key();
    t.write(&format!("dir-{k_dir}/inner.txt"), format!("{k_inside}\n"));
    let k_bin = s.key();
    let mut bin = vec![0u8, 1, 2, 0];
    bin.extend_from_slice(k_bin.as_bytes());
    bin.extend_from_slice(&[0, 0xFF, 0]);
    t.write("blob.dat", bin);
    let k_long = s.key();
    t.write(
        "long.js",
        format!(
            "{}{k_long} {}\n",
            "var a=1;".repeat(2000),
            "b=2;".repeat(2000)
        ),
    );
    let k_fifo = s.key();
    let st = Command::new("mkfifo")
        .arg(t.join(&format!("{k_fifo}.fifo")))
        .status()
        .unwrap();
    assert!(st.success());
    let k_link = s.key();
    std::os::unix::fs::symlink("app", t.join(&format!("{k_link}.lnk"))).unwrap();
    let k_excl = s.key();
    t.write(&format!("{k_excl}.min.js"), "nothing\n");
    let k_loop = s.key();
    std::fs::create_dir_all(t.join(&format!("loop-{k_loop}"))).unwrap();
    std::os::unix::fs::symlink("..", t.join(&format!("loop-{k_loop}/up"))).unwrap();
    let stdin_key = s.key();
    let missing = format!("missing-{}.txt", s.key());
    Planted {
        tree: t,
        found: vec![k_env, k_line2, k_inside, k_bin, k_long],
        skipped: vec![k_fifo, k_link, k_excl],
        stdin_key,
        missing,
    }
}

#[test]
fn no_format_report_file_or_stderr_shows_a_key_without_show_secrets() {
    let mut s = Secrets::new();
    let p = plant(&mut s);
    let out_dir = tempfile::tempdir().unwrap();
    let variants: [(&str, &[&str]); 4] = [
        ("human", &["--color", "never"]),
        ("human", &["--color", "always"]),
        ("json", &[]),
        ("sarif", &[]),
    ];
    for (format, extra) in variants {
        for follow in [false, true] {
            let what = format!("{format} {extra:?} follow={follow}");
            let mut args = vec![
                ".",
                "-",
                p.missing.as_str(),
                "--exclude",
                "*.min.js",
                "--list-skipped",
                "--format",
                format,
            ];
            args.extend_from_slice(extra);
            if follow {
                args.push("--follow");
            }
            let input = format!("token={}\n", p.stdin_key);
            let out = run_limited(p.tree.cmd().args(&args), Some(input.as_bytes()), LIMIT);
            assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
            s.check_output(&what, &out);
            let report = stdout(&out);
            for key in p.found.iter().chain([&p.stdin_key]) {
                assert!(report.contains(&masked(key)), "{what}: {key} not reported");
            }
            let err = stderr(&out);
            // Followed, the link is scanned rather than skipped.
            for key in p.skipped.iter().filter(|k| !follow || **k != p.skipped[1]) {
                assert!(err.contains(&masked(key)), "{what}: skip of {key}:\n{err}");
            }
            assert!(
                err.contains("warning: missing-leadey_sk_live_••••"),
                "{err}"
            );
            if follow {
                assert!(err.contains("symbolic link loop"), "{what}: {err}");
            }

            // The same run into a report file: the file and the streams stay clean.
            let file = out_dir.path().join(format!("report-{format}-{follow}"));
            let out = run_limited(
                p.tree.cmd().args(&args).arg("-o").arg(&file),
                Some(input.as_bytes()),
                LIMIT,
            );
            assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
            s.check_output(&format!("{what} -o"), &out);
            let written = std::fs::read_to_string(&file).unwrap();
            s.check(&format!("{what} report file"), &written);
            assert!(written.contains(&masked(&p.found[0])), "{what}");
        }
    }
}

#[test]
fn an_unreadable_file_named_after_a_key_is_reported_masked() {
    if !can_test_permissions() {
        eprintln!("cannot drop privileges (no setpriv); skipping");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let mut s = Secrets::new();
    let t = Tree::new();
    let (k_file, k_dir, k_inside) = (s.key(), s.key(), s.key());
    t.write(&format!("locked-{k_file}.txt"), format!("{k_inside}\n"));
    t.write(&format!("closed-{k_dir}/x.txt"), format!("{k_inside}\n"));
    let locked = t.join(&format!("locked-{k_file}.txt"));
    let closed = t.join(&format!("closed-{k_dir}"));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o000)).unwrap();
    for format in ["human", "json", "sarif"] {
        let out = run(unprivileged_in(t.path()).args([".", "--format", format]));
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        s.check_output(format, &out);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains(&masked(&k_file)), "{format}: {all}");
        assert!(all.contains(&masked(&k_dir)), "{format}: {all}");
    }
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A rule file that is valid apart from `line`, which replaces the line starting with `field`.
fn rule_file(dir: &Path, name: &str, field: &str, line: &str) -> std::path::PathBuf {
    let good = "[[rule]]\nid = \"acme-token\"\ntitle = \"Acme\"\nprefix = \"acme_\"\n\
                body_chars = \"A-Za-z0-9\"\nbody_min_len = 20\nbody_max_len = 40\n\
                min_entropy = 3.0\nseverity = \"high\"\nremediation = \"revoke\"\n";
    let mut text: String = good
        .lines()
        .map(|l| {
            if l.starts_with(field) {
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    if !good.lines().any(|l| l.starts_with(field)) {
        text.push('\n');
        text.push_str(line);
    }
    text.push('\n');
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn errors_that_quote_input_mask_keys() {
    let mut s = Secrets::new();
    let t = Tree::new();
    t.write("a.txt", "nothing here\n");
    let d = t.path();
    let mut cases: Vec<(String, Vec<std::ffi::OsString>)> = Vec::new();
    let mut add = |what: &str, args: Vec<std::ffi::OsString>| cases.push((what.into(), args));
    let rules = |p: std::path::PathBuf| vec!["--rules".into(), p.into_os_string()];

    // Rule files: malformed on a line that holds a key, and invalid values that are keys.
    let k = s.key();
    add(
        "unterminated string",
        rules(rule_file(d, "r1.toml", "title", &format!("title = \"{k}"))),
    );
    let k = s.key();
    add(
        "bare value",
        rules(rule_file(d, "r2.toml", "title", &format!("title = {k}"))),
    );
    let k = s.key();
    add(
        "unknown variant",
        rules(rule_file(
            d,
            "r3.toml",
            "severity",
            &format!("severity = \"{k}\""),
        )),
    );
    let k = s.key();
    add(
        "invalid id",
        rules(rule_file(d, "r4.toml", "id", &format!("id = \"{k}\""))),
    );
    let k = s.key();
    add(
        "unknown field",
        rules(rule_file(d, "r5.toml", "zzz", &format!("{k} = 1"))),
    );
    let k = s.key();
    add(
        "bad class",
        rules(rule_file(
            d,
            "r6.toml",
            "body_chars",
            &format!("body_chars = \"{k}\\\\\""),
        )),
    );
    let k = s.key();
    add(
        "wrong type",
        rules(rule_file(
            d,
            "r7.toml",
            "body_min_len",
            &format!("body_min_len = \"{k}\""),
        )),
    );
    let k = s.key();
    add(
        "key in a later line of a multi-line error",
        rules(rule_file(
            d,
            "r8.toml",
            "zzz",
            &format!("[x]\n{k} = [1, \"a\""),
        )),
    );
    // File names.
    let k = s.key();
    add("missing rule file", rules(d.join(format!("{k}.toml"))));
    let k = s.key();
    add(
        "report file in a missing folder",
        vec![
            ".".into(),
            "-o".into(),
            d.join(format!("no-{k}/r.json")).into(),
        ],
    );
    let k = s.key();
    add("missing path", vec![format!("{k}.txt").into()]);
    let k = s.key();
    add(
        "bad exclude glob",
        vec![".".into(), "--exclude".into(), format!("[{k}").into()],
    );
    // Arguments that clap rejects, quoting them.
    let k = s.key();
    add("bad size", vec!["--max-filesize".into(), k.into()]);
    let k = s.key();
    add("bad format", vec!["--format".into(), k.into()]);
    let k = s.key();
    add("bad number", vec!["--threads".into(), k.into()]);
    let k = s.key();
    add("unknown flag", vec![format!("--{k}").into()]);
    let k = s.key();
    add("unknown flag with value", vec![format!("--x={k}").into()]);
    let k = s.key();
    add("bad colour", vec![format!("--color={k}").into()]);
    // URLs.
    let k = s.key();
    add(
        "cleartext api base",
        vec![
            "--verify".into(),
            "--api-base".into(),
            format!("http://{k}.example/v1").into(),
        ],
    );
    let k = s.key();
    add(
        "api base with a key in the path",
        vec![
            "--verify".into(),
            "--api-base".into(),
            format!("http://example.com/{k}").into(),
        ],
    );
    let k = s.key();
    add(
        "api base that is no URL",
        vec!["--verify".into(), "--api-base".into(), k.into()],
    );

    for (what, args) in &cases {
        for format in ["human", "json", "sarif"] {
            let out = run(bin()
                .current_dir(d)
                .args(args)
                .args(["--format", format, "--color", "always"]));
            assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
            s.check_output(what, &out);
            let err = stderr(&out);
            assert!(err.contains("error"), "{what}: {err}");
            if std::env::var_os("LEAK_SHOW_ERRORS").is_some() {
                eprintln!("{what}: {err}");
            }
        }
    }
    // The same through the environment.
    let k = s.key();
    let out = run(bin()
        .current_dir(d)
        .env("LEADEY_API_BASE", format!("http://{k}.example/v1"))
        .args([".", "--verify"]));
    assert_eq!(out.status.code(), Some(2));
    s.check_output("LEADEY_API_BASE", &out);
}

/// An API that echoes the key it was sent, and another key, in `data`.
fn echo_server(other: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(&stream);
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.strip_prefix("authorization: Bearer ") {
                    auth = v.trim().to_string();
                }
                if let Some(v) = line.strip_prefix("Authorization: Bearer ") {
                    auth = v.trim().to_string();
                }
            }
            let body = serde_json::json!({"data": {
                "echo": auth, "note": format!("your key {auth} is live"),
                "other_keys": [other], "x": format!("glued{other}"),
                "organization": {"id": other, "name": format!("Acme {auth}")},
                auth.clone(): other,
            }})
            .to_string();
            let text = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = (&stream).write_all(text.as_bytes());
        }
    });
    port
}

#[test]
fn verification_data_never_shows_the_key_or_another_key() {
    let mut s = Secrets::new();
    let t = Tree::new();
    let key = s.key();
    let other = s.key();
    t.write("a.txt", format!("{key}\n"));
    let port = echo_server(other.clone());
    let base = format!("http://127.0.0.1:{port}/v1");
    for format in ["human", "json", "sarif"] {
        let mut cmd = t.cmd();
        for v in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env_remove(v);
        }
        let out = run(cmd.args([".", "--verify", "--api-base", &base, "--format", format]));
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        s.check_output(format, &out);
        let all = stdout(&out);
        assert!(all.contains(&masked(&key)), "{format}: {all}");
        if format != "human" {
            assert!(all.contains(&masked(&other)), "{format}: {all}");
        }
    }
}

#[test]
fn show_secrets_prints_the_keys_so_the_search_above_can_fail() {
    let mut s = Secrets::new();
    let p = plant(&mut s);
    for format in ["human", "json", "sarif"] {
        let out = run(p
            .tree
            .cmd()
            .args([".", "--show-secrets", "--format", format]));
        let text = stdout(&out);
        for key in &p.found {
            assert!(text.contains(key.as_str()), "{format}: {key} not shown");
        }
        assert!(
            s.leak(&text).is_some(),
            "{format}: the leak check did not fire"
        );
    }
}

#[test]
fn a_key_pasted_into_a_user_rule_text_is_not_echoed_by_reports() {
    let mut s = Secrets::new();
    let t = Tree::new();
    let (k1, k2, k3) = (s.key(), s.key(), s.key());
    let rules = rule_file(
        t.path(),
        "r.toml",
        "title",
        &format!("title = \"Acme {k1}\""),
    );
    let text = std::fs::read_to_string(&rules).unwrap().replace(
        "remediation = \"revoke\"",
        &format!("remediation = \"revoke {k2}\"\ndescription = \"like {k3}\""),
    );
    std::fs::write(&rules, text).unwrap();
    t.write("a.txt", "acme_Zq8vN3xK2mP7wR4tY6uB1cD5\n");
    for format in ["human", "json", "sarif"] {
        let out = run(t
            .cmd()
            .args([".", "--format", format, "--rules"])
            .arg(&rules));
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        s.check_output(format, &out);
        if format != "json" {
            assert!(
                stdout(&out).contains(&masked(&k2)),
                "{format}: {}",
                stdout(&out)
            );
        }
    }
}

#[test]
fn library_errors_for_rule_files_and_globs_carry_no_key() {
    let mut s = Secrets::new();
    let t = Tree::new();
    let k = s.key();
    let bad_id = rule_file(t.path(), "r.toml", "id", &format!("id = \"{k}\""));
    let k = s.key();
    let named = t.join(&format!("{k}.toml"));
    let k = s.key();
    for config in [
        leadey_scan::ScanConfig {
            rule_files: vec![bad_id],
            ..Default::default()
        },
        leadey_scan::ScanConfig {
            rule_files: vec![named],
            ..Default::default()
        },
        leadey_scan::ScanConfig {
            excludes: vec![format!("[{k}")],
            ..Default::default()
        },
    ] {
        let err = leadey_scan::run(&config).expect_err("the scan must not start");
        let text = format!("{err} {err:?}");
        s.check("library error", &text);
        assert!(text.contains("leadey_sk_live_••••"), "{text}");
    }
}

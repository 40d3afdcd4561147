//! Nothing leaks (#8): every output format (human with and without colour, JSON, SARIF, short),
//! report files, SARIF files, written baselines, stderr with the skip list, verification data,
//! suppressed findings (allow comments, config files, baselines), git scopes (history, staged,
//! ranges, commit messages and authors), and every error path that can carry input (rule,
//! config and baseline files that quote a key, key-shaped file names, arguments, URLs) are
//! searched for any planted key. Only `--show-secrets` may print one, and the tests prove the
//! search finds keys when they are there.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::http::{answer, without_proxies, Server};
use crate::common::{
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

    /// Each (name, template) with a fresh key in place of `KEY`.
    fn fill<'a>(&mut self, templates: &[(&'a str, &str)]) -> Vec<(&'a str, String)> {
        templates
            .iter()
            .map(|(what, template)| (*what, template.replace("KEY", &self.key())))
            .collect()
    }

    /// Remembers a secret made elsewhere (e.g. a body longer than the maximum).
    fn add(&mut self, secret: String) -> String {
        self.keys.push(secret.clone());
        secret
    }

    /// The first part of a planted key found in `text`, plain or encoded (#14).
    fn leak(&self, text: &str) -> Option<String> {
        self.keys.iter().find_map(|key| {
            let body = &key[PREFIX.len()..];
            // The mask shows the last 4 characters; 8 in a row is more than any mask shows.
            let plain = (0..=body.len() - 8)
                .map(|i| body[i..i + 8].to_string())
                .find(|window| text.contains(window.as_str()));
            plain.or_else(|| {
                encoded_windows(key)
                    .into_iter()
                    .find(|window| text.contains(window.as_str()))
            })
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

/// Runs of 12 characters of the encoded forms of `key` that depend on its body alone: base64
/// at each of the three alignments (either alphabet: a body of letters and digits encodes
/// without `+/-_`) and hex of either case. Any of them in a report would let a reader decode
/// part of the key.
fn encoded_windows(key: &str) -> Vec<String> {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for align in 0..3 {
        let data = [&b"\0\0"[..align], key.as_bytes()].concat();
        let enc: Vec<u8> = data
            .chunks(3)
            .flat_map(|c| {
                let n = c.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)) << (8 * (3 - c.len()));
                (0..=c.len()).map(move |i| B64[(n >> (18 - 6 * i) & 63) as usize])
            })
            .collect();
        // Characters from the first one holding only body bits to the last full one.
        let first = ((align + PREFIX.len()) * 8).div_ceil(6);
        let last = data.len() * 8 / 6;
        for w in enc[first..last].windows(12) {
            out.push(String::from_utf8(w.to_vec()).unwrap());
        }
    }
    let hex: String = key[PREFIX.len()..]
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    for w in hex.as_bytes().windows(16).step_by(2) {
        let w = String::from_utf8(w.to_vec()).unwrap();
        out.push(w.to_uppercase());
        out.push(w);
    }
    out
}

/// Unpadded base64 of `text`.
fn b64(text: &str) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    text.as_bytes()
        .chunks(3)
        .flat_map(|c| {
            let n = c.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)) << (8 * (3 - c.len()));
            (0..=c.len()).map(move |i| B64[(n >> (18 - 6 * i) & 63) as usize] as char)
        })
        .collect()
}

#[test]
fn the_leak_check_sees_encoded_forms_of_a_key() {
    let mut s = Secrets::new();
    let k = s.key();
    let hex: String = k.bytes().map(|b| format!("{b:02X}")).collect();
    for text in [
        b64(&k),
        b64(&format!("u:{k}")),
        b64(&format!("ab:{k}")),
        hex.clone(),
        hex.to_lowercase(),
    ] {
        assert!(s.leak(&text).is_some(), "not seen: {text}");
    }
    assert!(s.leak(&b64("leadey_sk_live_••••")).is_none());
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
    // #14: encoded keys, two on one line so each snippet holds the other's encoded form.
    let (k_b64, k_b64b, k_hex, k_pct, k_nested) = (s.key(), s.key(), s.key(), s.key(), s.key());
    let hex: String = k_hex.bytes().map(|b| format!("{b:02x}")).collect();
    t.write(
        "deploy/secret.yaml",
        format!(
            "data:\n  a: {} b: {}\n  h: {hex} p: leadey%5Fsk%5Flive%5F{}\n  n: {}\n",
            b64(&format!("user:{k_b64}")),
            b64(&format!("LEADEY_API_KEY={k_b64b}")),
            &k_pct[PREFIX.len()..],
            b64(&b64(&format!("u:{k_nested}"))),
        ),
    );
    let k_utf16 = s.key();
    let utf16: Vec<u8> = format!("key={k_utf16}\r\n")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    t.write("export.reg", utf16);
    let stdin_key = s.key();
    let missing = format!("missing-{}.txt", s.key());
    Planted {
        tree: t,
        found: vec![
            k_env, k_line2, k_inside, k_bin, k_long, k_b64, k_b64b, k_hex, k_pct, k_nested, k_utf16,
        ],
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
    let variants: [(&str, &[&str]); 5] = [
        ("human", &["--color", "never"]),
        ("human", &["--color", "always"]),
        ("json", &[]),
        ("sarif", &[]),
        ("gitlab", &[]),
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
    let rule_lines = [
        ("unterminated string", "title", "title = \"KEY"),
        ("bare value", "title", "title = KEY"),
        ("unknown variant", "severity", "severity = \"KEY\""),
        ("invalid id", "id", "id = \"KEY\""),
        ("unknown field", "zzz", "KEY = 1"),
        ("bad class", "body_chars", "body_chars = \"KEY\\\\\""),
        ("wrong type", "body_min_len", "body_min_len = \"KEY\""),
        (
            "key in a later line of a multi-line error",
            "zzz",
            "[x]\nKEY = [1, \"a\"",
        ),
    ];
    for (i, (what, field, line)) in rule_lines.into_iter().enumerate() {
        let line = line.replace("KEY", &s.key());
        let name = format!("r{}.toml", i + 1);
        add(what, rules(rule_file(d, &name, field, &line)));
    }
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
    // A path, a glob, arguments that clap rejects quoting them, and URLs; each gets a fresh
    // key in place of `KEY`.
    let arg_lists: [(&str, &[&str]); 11] = [
        ("missing path", &["KEY.txt"]),
        ("bad exclude glob", &[".", "--exclude", "[KEY"]),
        ("bad size", &["--max-filesize", "KEY"]),
        ("bad format", &["--format", "KEY"]),
        ("bad number", &["--threads", "KEY"]),
        ("unknown flag", &["--KEY"]),
        ("unknown flag with value", &["--x=KEY"]),
        ("bad colour", &["--color=KEY"]),
        (
            "cleartext api base",
            &["--verify", "--api-base", "http://KEY.example/v1"],
        ),
        (
            "api base with a key in the path",
            &["--verify", "--api-base", "http://example.com/KEY"],
        ),
        (
            "api base that is no URL",
            &["--verify", "--api-base", "KEY"],
        ),
    ];
    for (what, args) in arg_lists {
        let k = s.key();
        add(
            what,
            args.iter().map(|a| a.replace("KEY", &k).into()).collect(),
        );
    }

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
fn echo_server(other: String) -> Server {
    Server::start(move |request, _| {
        let auth = request
            .authorization
            .as_deref()
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_string();
        let body = serde_json::json!({"data": {
            "echo": auth, "note": format!("your key {auth} is live"),
            "other_keys": [other], "x": format!("glued{other}"),
            "organization": {"id": other, "name": format!("Acme {auth}")},
            auth.clone(): other,
        }});
        answer(200, &body.to_string())
    })
}

#[test]
fn verification_data_never_shows_the_key_or_another_key() {
    let mut s = Secrets::new();
    let t = Tree::new();
    let key = s.key();
    let other = s.key();
    t.write("a.txt", format!("{key}\n"));
    let server = echo_server(other.clone());
    let base = server.base();
    for format in ["human", "json", "sarif"] {
        let mut cmd = t.cmd();
        let out = run(without_proxies(&mut cmd).args([
            ".",
            "--verify",
            "--api-base",
            &base,
            "--format",
            format,
        ]));
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

// ---------------------------------------------------------------------------------------------
// Suppression (#7): allow comments, config files, baselines.

/// Formats and extra flags every suppression case runs in.
const SUPPRESSED_VARIANTS: [(&str, &[&str]); 5] = [
    ("human", &["--color", "never"]),
    ("human", &["--color", "always"]),
    ("json", &[]),
    ("sarif", &[]),
    ("short", &[]),
];

/// The value of `field` of every entry of `list` (`findings` or `suppressed`) of a JSON report.
fn json_field(report: &str, list: &str, field: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(report).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {report}");
    });
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {report}"))
        .iter()
        .map(|f| f[field].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn allow_comments_keep_suppressed_keys_masked_in_every_format() {
    let mut s = Secrets::new();
    let t = Tree::new();
    let (k1, k2, k3) = (s.key(), s.key_len(64), s.key_len(20));
    t.write(
        "app/demo.py",
        format!(
            "KEY = \"{k1}\"  # leadey-scan:allow\nOTHER = '{k2}' # gitleaks:allow {k2}\n\
             x = {k3}  # pragma: allowlist secret\n"
        ),
    );
    let report_dir = tempfile::tempdir().unwrap();
    for (format, extra) in SUPPRESSED_VARIANTS {
        let what = format!("{format} {extra:?}");
        let file = report_dir
            .path()
            .join(format!("r-{format}-{}", extra.len()));
        let out = run(t
            .cmd()
            .args([
                ".",
                "--show-suppressed",
                "--list-skipped",
                "--format",
                format,
            ])
            .args(extra)
            .arg("-o")
            .arg(&file));
        assert_eq!(out.status.code(), Some(0), "{what}: {}", stderr(&out));
        s.check_output(&what, &out);
        let report = std::fs::read_to_string(&file).unwrap();
        s.check(&format!("{what} report"), &report);
        assert!(
            stderr(&out).contains("4 suppressed (4 allow comment)"),
            "{what}: {}",
            stderr(&out)
        );
        // The short format lists open findings only; the others list the suppressed ones.
        if format != "short" {
            for k in [&k1, &k2, &k3] {
                assert!(
                    report.contains(&masked(k)),
                    "{what}: {k} not listed:\n{report}"
                );
            }
        }
    }
    // The check above can fail: with --show-secrets the same reports hold the keys.
    for format in ["human", "json", "sarif"] {
        let out = run(t.cmd().args([
            ".",
            "--show-suppressed",
            "--show-secrets",
            "--format",
            format,
        ]));
        assert!(
            s.leak(&stdout(&out)).is_some(),
            "{format}: the leak check did not fire: {}",
            stdout(&out)
        );
    }
}

/// A tree with four keys, and the key hash of the first and the fingerprint of the second
/// (from a JSON report made without a config).
struct Accepted {
    tree: Tree,
    keys: Vec<String>,
    hash: String,
    fingerprint: String,
}

fn accepted_tree(s: &mut Secrets) -> Accepted {
    let t = Tree::new();
    let keys = vec![s.key(), s.key(), s.key(), s.key(), s.key()];
    t.write("src/app.env", format!("A={}\n", keys[0]));
    t.write("src/other.env", format!("B={}\n", keys[1]));
    t.write("fixtures/demo.env", format!("C={}\n", keys[2]));
    // A folder named after a key, accepted by a glob that spells the key out (#8).
    t.write(&format!("{}/x.env", keys[3]), format!("D={}\n", keys[4]));
    let out = run(t.cmd().args([".", "--format", "json", "--no-config"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = stdout(&out);
    let paths = json_field(&report, "findings", "path");
    let at = |p: &str| paths.iter().position(|x| x == p).expect("finding at path");
    let hash = json_field(&report, "findings", "key_sha256")[at("src/app.env")].clone();
    let fingerprint = json_field(&report, "findings", "fingerprint")[at("src/other.env")].clone();
    Accepted {
        tree: t,
        keys,
        hash,
        fingerprint,
    }
}

#[test]
fn keys_accepted_by_a_config_file_stay_masked_in_every_format() {
    let mut s = Secrets::new();
    let a = accepted_tree(&mut s);
    // Paths are matched as reports show them (a key in a name masked), so a glob that spells
    // out a key matches through another alternative; reports quote the glob.
    let k_glob = s.key();
    let config = format!(
        "[allow]\nkeys = [\"{}\"]\nfingerprints = [\"{}\"]\n\
         paths = [\"{{fixtures,{k_glob}}}/**\", \"leadey_sk_live_*/**\", \"*.toml\"]\n",
        a.hash, a.fingerprint
    );
    // Found at the root, and named by --config with a key in the file's name.
    a.tree.write(".leadey-scan.toml", &config);
    let named = format!("conf-{}.toml", s.key());
    a.tree.write(&named, &config);
    let report_dir = tempfile::tempdir().unwrap();
    for config_args in [vec![], vec!["--config", named.as_str()]] {
        for (format, extra) in SUPPRESSED_VARIANTS {
            let what = format!("{format} {extra:?} {config_args:?}");
            let file = report_dir.path().join("report");
            let out = run(a
                .tree
                .cmd()
                .args([".", "--show-suppressed", "--format", format, "-o"])
                .arg(&file)
                .args(extra)
                .args(&config_args));
            assert_eq!(out.status.code(), Some(0), "{what}: {}", stderr(&out));
            s.check_output(&what, &out);
            let report = std::fs::read_to_string(&file).unwrap();
            s.check(&format!("{what} report"), &report);
            assert!(
                stderr(&out).contains(
                    "6 suppressed (4 config path, 1 accepted key, 1 accepted fingerprint)"
                ),
                "{what}: {}",
                stderr(&out)
            );
            if format != "short" {
                for k in [&a.keys[0], &a.keys[1], &a.keys[2], &a.keys[4]] {
                    assert!(report.contains(&masked(k)), "{what}: {k}:\n{report}");
                }
                // The glob with a key is quoted, masked.
                assert!(report.contains(&masked(&k_glob)), "{what}:\n{report}");
            }
        }
    }
    // The check above can fail: with --show-secrets the same reports hold the keys.
    for format in ["human", "json", "sarif"] {
        let out = run(a.tree.cmd().args([
            ".",
            "--show-suppressed",
            "--show-secrets",
            "--format",
            format,
        ]));
        assert!(
            s.leak(&stdout(&out)).is_some(),
            "{format}: the leak check did not fire"
        );
    }
}

#[test]
fn config_file_errors_that_quote_a_key_mask_it() {
    let mut s = Secrets::new();
    let t = Tree::new();
    t.write("a.txt", "nothing here\n");
    let cases = s.fill(&[
        (
            "unterminated string on the key's line",
            "[allow]\npaths = [\"tests/**\", \"KEY\n",
        ),
        ("bare key as a value", "[allow]\npaths = KEY\n"),
        (
            "unknown field named after a key",
            "[allow]\nKEY = [\"x\"]\n",
        ),
        (
            "unknown field on a line with a key",
            "[allow]\npathz = [\"KEY\"]\n",
        ),
        (
            "unknown field of an override",
            "[rules.leadey-api-key]\ncolour = \"KEY\"\n",
        ),
        ("a key in place of its hash", "[allow]\nkeys = [\"KEY\"]\n"),
        (
            "a key in place of a fingerprint",
            "[allow]\nfingerprints = [\"xKEY\"]\n",
        ),
        ("a key in a bad glob", "[allow]\npaths = [\"[KEY\"]\n"),
        (
            "an override of a rule named after a key",
            "[rules.KEY]\nmin_entropy = 3.0\n",
        ),
        (
            "a wrong type holding a key",
            "[rules.leadey-api-key]\nmin_entropy = \"KEY\"\n",
        ),
        (
            "a rule id that is a key",
            "[[rule]]\nid = \"KEY\"\ntitle = \"t\"\nprefix = \"x_\"\nbody_chars = \"A-Z\"\n\
             body_min_len = 20\nbody_max_len = 40\nmin_entropy = 3.0\nseverity = \"high\"\n\
             remediation = \"r\"\n",
        ),
    ]);
    for (i, (what, text)) in cases.iter().enumerate() {
        // At the root, and by --config with a key in the file's name.
        t.write(".leadey-scan.toml", text);
        let named = format!("c{i}-{}.toml", s.key());
        t.write(&named, text);
        for config_args in [vec![], vec!["--config", named.as_str()]] {
            for format in ["human", "json", "sarif", "short"] {
                let out = run(t
                    .cmd()
                    .args([".", "--format", format, "--color", "always"])
                    .args(&config_args));
                let what = format!("{what} {format} {config_args:?}");
                assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
                s.check_output(&what, &out);
                let err = stderr(&out);
                assert!(
                    err.contains("error: cannot start the scan"),
                    "{what}: {err}"
                );
                // The file is named, masked.
                if !config_args.is_empty() {
                    assert!(err.contains(&format!("c{i}-{PREFIX}••••")), "{what}: {err}");
                }
                if std::env::var_os("LEAK_SHOW_ERRORS").is_some() {
                    eprintln!("{what}: {err}");
                }
            }
        }
        // The library's error, before the binary redacts anything (overrides are checked
        // when the rule set is built).
        for path in [t.join(".leadey-scan.toml"), t.join(&named)] {
            let e = match leadey_scan::suppress::config_file::ConfigFile::load(&path) {
                Ok(config) => config.rule_set(&[]).unwrap_err().to_string(),
                Err(e) => format!("{e} {e:?}"),
            };
            s.check(&format!("{what}: library error"), &e);
        }
    }
    // A --rules file with a key as a rule id, through the library's rule sets: with a config
    // file and without one.
    let k = s.key();
    let bad = rule_file(t.path(), "bad-id.toml", "id", &format!("id = \"{k}\""));
    let config = leadey_scan::suppress::config_file::ConfigFile::parse("", Path::new("c.toml"));
    let with_config = config
        .unwrap()
        .rule_set(std::slice::from_ref(&bad))
        .unwrap_err();
    let options = leadey_scan::suppress::Options {
        config: leadey_scan::suppress::ConfigChoice::Off,
        ..Default::default()
    };
    let suppressor = leadey_scan::suppress::Suppressor::load(&options, &[t.path().into()]);
    let without = suppressor.unwrap().rule_set(&[bad]).unwrap_err();
    for e in [with_config, without] {
        let text = format!("{e} {e:?}");
        s.check("rule set error", &text);
        assert!(text.contains(&masked(&k)), "{text}");
    }
    // A missing --config whose name is a key.
    let k = s.key();
    let missing = format!("{k}.toml");
    let out = run(t.cmd().args([".", "--config", &missing]));
    assert_eq!(out.status.code(), Some(2));
    s.check_output("missing config", &out);
    assert!(stderr(&out).contains(&masked(&k)), "{}", stderr(&out));
    let e = leadey_scan::suppress::config_file::ConfigFile::load(&t.join(&missing)).unwrap_err();
    s.check("missing config: library error", &format!("{e} {e:?}"));
}

#[test]
fn written_baselines_and_baseline_messages_hold_no_key() {
    let mut s = Secrets::new();
    let a = accepted_tree(&mut s);
    let t = &a.tree;
    let k_name = s.key();
    t.write(&format!("{k_name}.txt"), "nothing\n");
    let base = format!("base-{}.json", s.key());
    // --write-baseline: the file, the report and the messages.
    for format in ["human", "json", "sarif", "short"] {
        let out = run(t.cmd().args([
            ".",
            "--no-config",
            "--show-suppressed",
            "--write-baseline",
            &base,
            "--format",
            format,
        ]));
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        s.check_output(&format!("{format} --write-baseline"), &out);
        assert!(stderr(&out).contains("wrote baseline base-leadey_sk_live_••••"));
        let written = std::fs::read_to_string(t.join(&base)).unwrap();
        s.check("the written baseline", &written);
        for k in [&a.keys[0], &a.keys[1], &a.keys[2], &a.keys[4]] {
            assert!(written.contains(&masked(k)), "{k}: {written}");
        }
        // The folder named after a key is recorded masked.
        assert!(written.contains(&masked(&a.keys[3])), "{written}");
    }
    // --baseline and --prune-baseline: every entry of a hand-made baseline is stale, and its
    // review fields (never matched, only shown) hold keys.
    let stale = |fp: &str, rule: &str, path: &str, masked_key: &str| {
        serde_json::json!({"fingerprint": fp, "rule_id": rule, "path": path,
                           "masked_key": masked_key})
    };
    let (k1, k2, k3) = (s.key(), s.key(), s.key());
    let doc = serde_json::json!({"version": 1, "entries": [
        stale(&"0a".repeat(16), "leadey-api-key", &format!("old/{k1}.env"), &k2),
        stale(&"0b".repeat(16), &k3, "old/b.env", "leadey_sk_live_••••abcd"),
    ]});
    let handmade = format!("hand-{}.json", s.key());
    for format in ["human", "json", "sarif", "short"] {
        for prune in [false, true] {
            t.write(&handmade, doc.to_string());
            let mut cmd = t.cmd();
            cmd.args([
                ".",
                "--no-config",
                "--baseline",
                &handmade,
                "--show-suppressed",
            ])
            .args(["--format", format]);
            if prune {
                cmd.arg("--prune-baseline");
            }
            let out = run(&mut cmd);
            let what = format!("{format} prune={prune}");
            assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
            s.check_output(&what, &out);
            let err = stderr(&out);
            if prune {
                assert!(err.contains("stale baseline entry: old/"), "{what}: {err}");
                assert!(err.contains(&masked(&k2)), "{what}: {err}");
                assert!(
                    err.contains("pruned 2 stale entries from hand-leadey_sk_live_••••"),
                    "{what}: {err}"
                );
            } else {
                assert!(
                    err.contains("2 baseline entries matched no finding"),
                    "{err}"
                );
            }
        }
    }
    // The check above can fail: the search finds keys in the hand-made file.
    assert!(s.leak(&doc.to_string()).is_some());
}

#[test]
fn broken_baselines_that_quote_a_key_are_errors_without_it() {
    let mut s = Secrets::new();
    let t = Tree::new();
    t.write("a.txt", "nothing here\n");
    let cases = s.fill(&[
        (
            "broken JSON on the key's line",
            "{\"version\": 1, \"entries\": [\n {\"path\": \"KEY\n",
        ),
        (
            "a key as the fingerprint",
            "{\"version\": 1, \"entries\": [{\"fingerprint\": \"KEY\", \"rule_id\": \"r\", \
             \"path\": \"p\", \"masked_key\": \"m\"}]}",
        ),
        (
            "a key as the fingerprint, after 10 characters",
            "{\"version\": 1, \"entries\": [{\"fingerprint\": \"0123456789KEY\", \
             \"rule_id\": \"r\", \"path\": \"p\", \"masked_key\": \"m\"}]}",
        ),
        (
            "an unknown field named after a key",
            "{\"version\": 1, \"entries\": [], \"KEY\": 1}",
        ),
        (
            "a key as the version",
            "{\"version\": \"KEY\", \"entries\": []}",
        ),
        (
            "a key as an entry",
            "{\"version\": 1, \"entries\": [\"KEY\"]}",
        ),
    ]);
    for (i, (what, text)) in cases.iter().enumerate() {
        let name = format!("b{i}-{}.json", s.key());
        t.write(&name, text);
        for format in ["human", "json", "sarif", "short"] {
            let out = run(t.cmd().args([".", "--baseline", &name, "--format", format]));
            let what = format!("{what} {format}");
            assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
            s.check_output(&what, &out);
            assert!(
                stderr(&out).contains("error: cannot start the scan: b"),
                "{what}: {}",
                stderr(&out)
            );
        }
        let e = leadey_scan::suppress::baseline::Baseline::load(&t.join(&name)).unwrap_err();
        s.check(&format!("{what}: library error"), &format!("{e} {e:?}"));
    }
    let k = s.key();
    let missing = format!("{k}.json");
    let out = run(t.cmd().args([".", "--baseline", &missing]));
    assert_eq!(out.status.code(), Some(2));
    s.check_output("missing baseline", &out);
    assert!(stderr(&out).contains(&masked(&k)), "{}", stderr(&out));
    let e = leadey_scan::suppress::baseline::Baseline::load(&t.join(&missing)).unwrap_err();
    s.check("missing baseline: library error", &format!("{e} {e:?}"));
    // The check above can fail: the search finds the keys in the files' text.
    assert!(s.leak(&cases[0].1).is_some());
}

// ---------------------------------------------------------------------------------------------
// Git scopes (#5): history, staged, ranges, SARIF files, commit messages and authors.

/// Runs git in `dir` with identity, dates and configuration pinned; panics on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.args(["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
        .args(args)
        .current_dir(dir);
    git_env(&mut cmd);
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn git_env(cmd: &mut Command) {
    crate::common::git_env(cmd)
        .env("GIT_AUTHOR_DATE", "1700000000 +0000")
        .env("GIT_COMMITTER_DATE", "1700000000 +0000");
}

/// A repository whose history holds keys in every place git keeps text: a key committed then
/// deleted, a file named after a key, keys in a commit message and an author name, and a key
/// staged but not committed. Returns the tree, the first commit and the keys findings show.
fn planted_repo(s: &mut Secrets) -> (Tree, String, Vec<String>) {
    let t = Tree::new();
    let d = t.path();
    git(d, &["init", "-q", "-b", "main"]);
    t.write("README.md", "hello\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "init"]);
    let base = git(d, &["rev-parse", "HEAD"]);
    let (k_deleted, k_name, k_in_named) = (s.key(), s.key(), s.key_len(64));
    t.write("config/old.env", format!("LEADEY_KEY={k_deleted}\n"));
    t.write(&format!("keys/{k_name}.txt"), format!("k: {k_in_named}\n"));
    let (k_msg, k_msg_body, k_author) = (s.key(), s.key(), s.key());
    git(d, &["add", "-A"]);
    git(
        d,
        &[
            "commit",
            "-q",
            "--author",
            &format!("{k_author} <dev@example.com>"),
            "-m",
            &format!("add config with {k_msg}"),
            "-m",
            &format!("body: {k_msg_body}"),
        ],
    );
    std::fs::remove_file(t.join("config/old.env")).unwrap();
    let k_kept = s.key();
    t.write("src/app.py", format!("KEY = '{k_kept}'\n"));
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "remove the old config"]);
    let k_staged = s.key();
    t.write("staged.env", format!("S={k_staged}\n"));
    git(d, &["add", "staged.env"]);
    (
        t,
        base,
        vec![
            k_deleted, k_in_named, k_kept, k_staged, k_msg, k_name, k_author,
        ],
    )
}

#[test]
fn git_scopes_show_no_key_in_any_format_or_sarif_file() {
    let mut s = Secrets::new();
    let (t, base, keys) = planted_repo(&mut s);
    let range = format!("{base}..HEAD");
    let out_dir = tempfile::tempdir().unwrap();
    let scopes: [&[&str]; 3] = [&["--history"], &["--staged"], &["--range", &range]];
    let formats: [(&str, &[&str]); 5] = SUPPRESSED_VARIANTS;
    for scope in scopes {
        for (format, extra) in formats {
            let what = format!("{scope:?} {format} {extra:?}");
            let sarif = out_dir.path().join("leak.sarif");
            let history = out_dir.path().join("leak.history.sarif");
            let _ = std::fs::remove_file(&history);
            let mut cmd = t.cmd();
            git_env(&mut cmd);
            let out = run(cmd
                .args(scope)
                .args(["--format", format, "--list-skipped", "--sarif-file"])
                .arg(&sarif)
                .args(extra));
            assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
            s.check_output(&what, &out);
            let sarif_text = std::fs::read_to_string(&sarif).unwrap();
            s.check(&format!("{what} --sarif-file"), &sarif_text);
            let report = stdout(&out);
            match scope[0] {
                "--history" => {
                    // The deleted key goes to the history log, with its commit.
                    let history_text = std::fs::read_to_string(&history).unwrap();
                    s.check(&format!("{what} history SARIF"), &history_text);
                    assert!(history_text.contains(&masked(&keys[0])), "{what}");
                    for k in &keys[..3] {
                        assert!(report.contains(&masked(k)), "{what}: {k}:\n{report}");
                    }
                }
                "--staged" => {
                    assert!(report.contains(&masked(&keys[3])), "{what}:\n{report}");
                }
                _ => {
                    for k in &keys[..3] {
                        assert!(report.contains(&masked(k)), "{what}: {k}:\n{report}");
                    }
                }
            }
            // Commit summaries (human, JSON) and paths (not percent-encoded: all but SARIF)
            // are shown, masked.
            if scope[0] != "--staged" && (format == "human" || format == "json") {
                assert!(
                    report.contains(&format!("add config with {}", masked(&keys[4]))),
                    "{what}:\n{report}"
                );
                assert!(report.contains(&masked(&keys[6])), "{what}:\n{report}");
            }
            if scope[0] != "--staged" && format != "sarif" {
                assert!(report.contains(&masked(&keys[5])), "{what}:\n{report}");
            }
        }
    }
    // The check above can fail: with --show-secrets the reports hold the keys.
    for scope in scopes {
        let mut cmd = t.cmd();
        git_env(&mut cmd);
        let out = run(cmd.args(scope).args(["--show-secrets", "--format", "json"]));
        assert!(
            s.leak(&stdout(&out)).is_some(),
            "{scope:?}: the leak check did not fire"
        );
    }
}

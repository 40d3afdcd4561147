//! Suppression (#7): allow comments, the config file's allow lists, how suppressed findings are
//! reported (human summary and `--show-suppressed`, JSON, SARIF validated against the schema),
//! exit codes, and that a live key is never suppressed (`--verify` against a local server).

use crate::common;

use crate::common::http::{answer, without_proxies, Server};
use crate::common::{code, fake_key, json, listed, masked, run, stderr, stdout, Tree};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn sha256(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `suppression.kind` of each suppressed finding.
fn kinds(v: &Value) -> Vec<String> {
    v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["suppression"]["kind"].as_str().unwrap().to_string())
        .collect()
}

fn assert_no_full_key(text: &str, keys: &[&str]) {
    for key in keys {
        assert!(!text.contains(key), "full key {key} in:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Allow comments.

#[test]
fn allow_markers_suppress_whatever_the_comment_syntax() {
    let keys: Vec<String> = (1..=8).map(fake_key).collect();
    let t = Tree::new();
    t.write(
        "app.py",
        format!(
            "a = \"{}\"  # leadey-scan:allow\nb = \"{}\"\n",
            keys[0], keys[1]
        ),
    )
    .write(
        "app.js",
        format!("const k = \"{}\"; // gitleaks:allow\n", keys[2]),
    )
    .write(
        "doc.md",
        format!("<!-- pragma: allowlist secret --> `{}`\n", keys[3]),
    )
    .write(
        "q.sql",
        format!("SELECT '{}'; -- leadey-scan:allow\n", keys[4]),
    )
    .write(
        "s.txt",
        format!("msg = \"{} leadey-scan:allow\"\n", keys[5]),
    )
    .write(
        "next.txt",
        // On the line before or after, a marker does not count.
        format!("# leadey-scan:allow\nk = {}\n# gitleaks:allow\n", keys[6]),
    )
    .write("case.txt", format!("k = {} # LEADEY-SCAN:ALLOW\n", keys[7]));
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        listed(&v, "findings"),
        vec![
            ("app.py".to_string(), 2, masked(&keys[1])),
            ("case.txt".to_string(), 1, masked(&keys[7])),
            ("next.txt".to_string(), 2, masked(&keys[6])),
        ]
    );
    assert_eq!(
        listed(&v, "suppressed"),
        vec![
            ("app.js".to_string(), 1, masked(&keys[2])),
            ("app.py".to_string(), 1, masked(&keys[0])),
            ("doc.md".to_string(), 1, masked(&keys[3])),
            ("q.sql".to_string(), 1, masked(&keys[4])),
            ("s.txt".to_string(), 1, masked(&keys[5])),
        ]
    );
    assert_eq!(kinds(&v), vec!["allow-comment"; 5]);
    let details: Vec<&str> = v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["suppression"]["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        details,
        vec![
            "`gitleaks:allow` on the key's line",
            "`leadey-scan:allow` on the key's line",
            "`pragma: allowlist secret` on the key's line",
            "`leadey-scan:allow` on the key's line",
            "`leadey-scan:allow` on the key's line",
        ]
    );
    assert_eq!(v["stats"]["findings"], 3);
    assert_eq!(v["stats"]["suppressed"], 5);
    assert_eq!(v["stats"]["files_with_findings"], 3);
}

#[test]
fn markers_far_from_the_key_on_long_lines_count_at_any_chunk_size() {
    let (a, b, c) = (fake_key(11), fake_key(12), fake_key(13));
    let pad = "word ".repeat(2000);
    let t = Tree::new();
    t.write(
        "long.txt",
        format!(
            "# leadey-scan:allow {pad}{a}\n{b} {pad} // gitleaks:allow\n{pad}{c} {pad}\n\
             # leadey-scan:allow\n"
        ),
    );
    for chunk in ["1", "1000", "4097", "524288"] {
        let (v, out) = json(t.cmd().args([".", "--chunk-size", chunk]));
        assert_eq!(code(&out), 1, "chunk {chunk}");
        assert_eq!(
            listed(&v, "findings"),
            vec![("long.txt".to_string(), 3, masked(&c))],
            "chunk {chunk}"
        );
        assert_eq!(
            listed(&v, "suppressed"),
            vec![
                ("long.txt".to_string(), 1, masked(&a)),
                ("long.txt".to_string(), 2, masked(&b)),
            ],
            "chunk {chunk}"
        );
    }
}

/// A gzip-compressed tar archive of `(name, content)` regular files.
fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&common::tar(files)).expect("gzip");
    e.finish().expect("gzip finish")
}

#[test]
fn the_nextline_pragma_suppresses_the_key_on_the_next_line_only() {
    // #16: detect-secrets' `pragma: allowlist nextline secret`, in files and archive members.
    let keys: Vec<String> = (31..=39).map(fake_key).collect();
    let member = format!(
        "# pragma: allowlist nextline secret\nK = \"{}\"\nL = \"{}\"\n",
        keys[7], keys[8]
    );
    let t = Tree::new();
    t.write(
        "settings.py",
        format!(
            "# pragma: allowlist nextline secret\nA = \"{}\"\nB = \"{}\"\n",
            keys[0], keys[1]
        ),
    )
    .write(
        "two.yml",
        // Two lines down: not suppressed (detect-secrets looks at the line right above).
        format!("# pragma: allowlist nextline secret\n\nkey: {}\n", keys[2]),
    )
    .write(
        "same.env",
        // On the key's own line it does not count; it does for the line below.
        format!(
            "C={}  # pragma: allowlist nextline secret\nD={}\n",
            keys[3], keys[4]
        ),
    )
    .write(
        "doc.md",
        format!(
            "<!-- pragma: allowlist nextline secret -->\r\n`{}`\r\n\r\n`{}`\r\n",
            keys[5], keys[6]
        ),
    )
    .write(
        "dist/app.tar.gz",
        tar_gz(&[("pkg/config.py", member.as_bytes())]),
    );
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        listed(&v, "findings"),
        vec![
            (
                "dist/app.tar.gz!pkg/config.py".to_string(),
                3,
                masked(&keys[8])
            ),
            ("doc.md".to_string(), 4, masked(&keys[6])),
            ("same.env".to_string(), 1, masked(&keys[3])),
            ("settings.py".to_string(), 3, masked(&keys[1])),
            ("two.yml".to_string(), 3, masked(&keys[2])),
        ]
    );
    assert_eq!(
        listed(&v, "suppressed"),
        vec![
            (
                "dist/app.tar.gz!pkg/config.py".to_string(),
                2,
                masked(&keys[7])
            ),
            ("doc.md".to_string(), 2, masked(&keys[5])),
            ("same.env".to_string(), 2, masked(&keys[4])),
            ("settings.py".to_string(), 2, masked(&keys[0])),
        ]
    );
    assert_eq!(kinds(&v), vec!["allow-comment"; 4]);
    for f in v["suppressed"].as_array().unwrap() {
        assert_eq!(
            f["suppression"]["detail"],
            "`pragma: allowlist nextline secret` on the line above the key"
        );
    }

    // --no-suppress ignores it like any allow comment.
    let (v, out) = json(t.cmd().args([".", "--no-suppress"]));
    assert_eq!(code(&out), 1);
    assert_eq!(v["stats"]["findings"], 9);
    assert_eq!(v["stats"]["suppressed"], 0);
}

#[test]
fn the_nextline_pragma_never_hides_a_live_key() {
    let (live, revoked) = (fake_key(41), fake_key(42));
    let t = Tree::new();
    t.write(
        "demo.py",
        format!(
            "# pragma: allowlist nextline secret\nLIVE = \"{live}\"\n\
             # pragma: allowlist nextline secret\nOLD = \"{revoked}\"\n"
        ),
    );
    let server = start_api(live.clone());
    let (v, out) = json(&mut verify_cmd(&t, &server.base()));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(server.count(), 2, "suppressed keys are verified too");
    assert_eq!(
        listed(&v, "findings"),
        vec![("demo.py".to_string(), 2, masked(&live))]
    );
    let f = &v["findings"][0];
    assert_eq!(f["verification"]["status"], "live");
    assert_eq!(f["suppression"]["kind"], "allow-comment");
    assert!(f["suppression"]["overridden"]
        .as_str()
        .unwrap()
        .starts_with("the key is live"));
    assert_eq!(
        listed(&v, "suppressed"),
        vec![("demo.py".to_string(), 4, masked(&revoked))]
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "leadey-scan: warning: demo.py:2: {} is suppressed by an allow comment, but the \
             suppression is ignored: the key is live",
            masked(&live)
        )),
        "{err}"
    );
    assert_no_full_key(&err, &[&live, &revoked]);
    assert_no_full_key(&stdout(&out), &[&live, &revoked]);
}

#[test]
fn only_suppressed_findings_exit_0_and_the_summary_counts_them_by_reason() {
    let (a, b, c) = (fake_key(21), fake_key(22), fake_key(23));
    let t = Tree::new();
    t.write("x.env", format!("A={a} # leadey-scan:allow\n"))
        .write("fixtures/y.env", format!("B={b}\n"))
        .write("z.env", format!("C={c}\n"))
        .write(
            ".leadey-scan.toml",
            format!(
                "[allow]\npaths = [\"fixtures\"]\nkeys = [\"{}\"]\n",
                sha256(&c)
            ),
        );
    let out = run(t.cmd().args([".", "--no-timing", "--color", "never"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "nothing listed without --show-suppressed");
    assert_eq!(
        stderr(&out),
        "leadey-scan: 0 findings in 0 files; scanned 4 files (275 B); 0 skipped; 0 errors; \
         3 suppressed (1 allow comment, 1 config path, 1 accepted key)\n"
    );
    let out = run(t
        .cmd()
        .args([".", "--no-timing", "--color", "never", "--show-suppressed"]));
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.starts_with("note: 3 suppressed findings (they do not fail the run):\n"),
        "{text}"
    );
    for (path, why) in [
        (
            "fixtures/y.env:1:3",
            "= suppressed: config path (path matches `fixtures` in .leadey-scan.toml)",
        ),
        (
            "x.env:1:3",
            "= suppressed: allow comment (`leadey-scan:allow` on the key's line)",
        ),
        (
            "z.env:1:3",
            "= suppressed: accepted key (key sha256 listed in .leadey-scan.toml)",
        ),
    ] {
        let at = text
            .find(path)
            .unwrap_or_else(|| panic!("{path} in {text}"));
        let block = &text[at..];
        let block = &block[..block.find("\n\n").unwrap()];
        assert!(block.contains(why), "{why} in {block}");
    }
    assert_no_full_key(&text, &[&a, &b, &c]);
    assert_no_full_key(&stderr(&out), &[&a, &b, &c]);
}

// ---------------------------------------------------------------------------------------------
// The config file's allow lists.

#[test]
fn config_paths_are_scanned_and_suppressed_not_skipped() {
    let (a, b, c) = (fake_key(31), fake_key(32), fake_key(33));
    let t = Tree::new();
    t.write("tests/fixtures/deep/a.env", format!("{a}\n"))
        .write("docs/guide.md", format!("{b}\n"))
        .write("src/tests/fixtures/c.env", format!("{c}\n"))
        .write(
            ".leadey-scan.toml",
            "[allow]\npaths = [\"tests/fixtures/**\", \"*.md\"]\n",
        );
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(code(&out), 1);
    assert_eq!(
        listed(&v, "findings"),
        vec![("src/tests/fixtures/c.env".to_string(), 1, masked(&c))],
        "a glob with `/` is relative to the scan root"
    );
    assert_eq!(
        listed(&v, "suppressed"),
        vec![
            ("docs/guide.md".to_string(), 1, masked(&b)),
            ("tests/fixtures/deep/a.env".to_string(), 1, masked(&a)),
        ]
    );
    assert_eq!(v["stats"]["files_scanned"], 4, "suppressed files are read");
    assert_eq!(v["skipped"], json!([]));
    assert_eq!(
        v["suppressed"][1]["suppression"],
        json!({"kind": "config-path",
               "detail": "path matches `tests/fixtures/**` in .leadey-scan.toml"})
    );

    // --no-config ignores the file; --config names another one.
    let (v, out) = json(t.cmd().args([".", "--no-config"]));
    assert_eq!(code(&out), 1);
    assert_eq!(listed(&v, "findings").len(), 3);
    assert_eq!(v["suppressed"], json!([]));
    t.write("ci/other.toml", "[allow]\npaths = [\"src\"]\n");
    let (v, _) = json(t.cmd().args([".", "--config", "ci/other.toml"]));
    assert_eq!(
        listed(&v, "suppressed"),
        vec![("src/tests/fixtures/c.env".to_string(), 1, masked(&c))]
    );
    assert_eq!(
        v["suppressed"][0]["suppression"]["detail"],
        "path matches `src` in ci/other.toml"
    );
}

#[test]
fn the_config_file_is_found_at_the_root_of_a_scanned_directory() {
    let (a, b) = (fake_key(41), fake_key(42));
    let t = Tree::new();
    t.write("repo/fixtures/a.env", format!("{a}\n"))
        .write("repo/src/b.env", format!("{b}\n"))
        .write(
            "repo/.leadey-scan.toml",
            "[allow]\npaths = [\"fixtures/**\"]\n",
        );
    // From the parent: the root is `repo`, globs are relative to it.
    let (v, out) = json(t.cmd().arg("repo"));
    assert_eq!(code(&out), 1);
    assert_eq!(
        listed(&v, "suppressed"),
        vec![("repo/fixtures/a.env".to_string(), 1, masked(&a))]
    );
    assert_eq!(
        v["suppressed"][0]["suppression"]["detail"],
        "path matches `fixtures/**` in repo/.leadey-scan.toml"
    );
    // An absolute root works the same.
    let (v, _) = json(t.cmd().arg(t.join("repo")));
    assert_eq!(listed(&v, "suppressed").len(), 1);
    // Several paths: the root is the current directory, where there is no config file.
    let (v, _) = json(t.cmd().args(["repo/src", "repo/fixtures"]));
    assert_eq!(listed(&v, "findings").len(), 2);
    assert_eq!(v["suppressed"], json!([]));
}

#[test]
fn accepted_keys_match_everywhere_and_fingerprints_one_place() {
    let (demo, other) = (fake_key(51), fake_key(52));
    let t = Tree::new();
    t.write("a.txt", format!("{demo}\n{other}\n"))
        .write("b.txt", format!("{other}\n"))
        .write("c.txt", format!("{demo}\n"));
    let (v, _) = json(t.cmd().arg("."));
    let fp_of_other_in_b = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "b.txt")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    t.write(
        ".leadey-scan.toml",
        format!(
            "[allow]\nkeys = [\"{}\"]\nfingerprints = [\"{}\"]\n",
            sha256(&demo).to_uppercase(),
            fp_of_other_in_b
        ),
    );
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(code(&out), 1);
    assert_eq!(
        listed(&v, "findings"),
        vec![("a.txt".to_string(), 2, masked(&other))],
        "the same key in another file has another fingerprint"
    );
    assert_eq!(
        listed(&v, "suppressed"),
        vec![
            ("a.txt".to_string(), 1, masked(&demo)),
            ("b.txt".to_string(), 1, masked(&other)),
            ("c.txt".to_string(), 1, masked(&demo)),
        ]
    );
    assert_eq!(
        kinds(&v),
        vec!["accepted-key", "accepted-fingerprint", "accepted-key"]
    );
    assert_eq!(
        v["suppressed"][1]["suppression"]["detail"],
        format!("fingerprint {fp_of_other_in_b} listed in .leadey-scan.toml")
    );
}

// ---------------------------------------------------------------------------------------------
// SARIF: suppressed findings are results with `suppressions`, and the log stays valid.

use crate::common::sarif_schema_errors as schema_errors;

#[test]
fn sarif_carries_suppressed_findings_as_suppressed_results() {
    let (a, b, c) = (fake_key(61), fake_key(62), fake_key(63));
    let t = Tree::new();
    t.write(
        "in_source.py",
        format!("k = \"{a}\"  # leadey-scan:allow\n"),
    )
    .write("fixtures/x.env", format!("{b}\n"))
    .write("open.env", format!("{c}\n"))
    .write(".leadey-scan.toml", "[allow]\npaths = [\"fixtures\"]\n");
    let out = run(t.cmd().args([".", "--format", "sarif", "--no-timing"]));
    assert_eq!(code(&out), 1);
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let by_uri = |uri: &str| {
        results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
            .unwrap_or_else(|| panic!("{uri} in {results:#?}"))
    };
    assert_eq!(results.len(), 3);
    assert!(by_uri("open.env").get("suppressions").is_none());
    assert!(by_uri("open.env")["properties"]
        .get("suppression")
        .is_none());
    assert_eq!(
        by_uri("in_source.py")["suppressions"],
        json!([{
            "kind": "inSource",
            "status": "accepted",
            "justification": "allow comment: `leadey-scan:allow` on the key's line"
        }])
    );
    assert_eq!(
        by_uri("fixtures/x.env")["suppressions"],
        json!([{
            "kind": "external",
            "status": "accepted",
            "justification": "config path: path matches `fixtures` in .leadey-scan.toml"
        }])
    );
    assert_eq!(
        by_uri("fixtures/x.env")["properties"]["suppression"]["kind"],
        "config-path"
    );
    // Open results come first.
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "open.env"
    );
    assert_eq!(log["runs"][0]["properties"]["stats"]["suppressed"], 2);
    assert_no_full_key(&stdout(&out), &[&a, &b, &c]);
}

// ---------------------------------------------------------------------------------------------
// A suppression never hides a live key.

/// A server for `GET /v1/me`: 200 with an organization for `live`, 401 for any other key.
fn start_api(live: String) -> Server {
    Server::start(move |request, _| {
        if request.authorization == Some(format!("Bearer {live}")) {
            answer(
                200,
                r#"{"data":{"organization":{"id":"org_1","name":"Acme"}}}"#,
            )
        } else {
            answer(401, r#"{"error":"invalid key"}"#)
        }
    })
}

fn verify_cmd(t: &Tree, base: &str) -> std::process::Command {
    let mut c = t.cmd();
    without_proxies(&mut c).args([
        ".",
        "--verify",
        "--api-base",
        base,
        "--verify-timeout",
        "20",
    ]);
    c
}

#[test]
fn a_suppressed_live_key_is_reported_and_fails_the_run() {
    let (live, revoked) = (fake_key(71), fake_key(72));
    let t = Tree::new();
    t.write(
        "demo.py",
        format!("LIVE = \"{live}\"  # leadey-scan:allow\nOLD = \"{revoked}\"  # gitleaks:allow\n"),
    );
    let server = start_api(live.clone());
    let base = server.base();

    let (v, out) = json(&mut verify_cmd(&t, &base));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(server.count(), 2, "suppressed keys are verified too");
    assert_eq!(
        listed(&v, "findings"),
        vec![("demo.py".to_string(), 1, masked(&live))]
    );
    let f = &v["findings"][0];
    assert_eq!(f["verification"]["status"], "live");
    assert_eq!(f["suppression"]["kind"], "allow-comment");
    let why = f["suppression"]["overridden"].as_str().unwrap();
    assert!(why.starts_with("the key is live: allow comments, config files and baselines are for examples, fixtures and revoked keys, never for a working credential"), "{why}");
    assert_eq!(
        listed(&v, "suppressed"),
        vec![("demo.py".to_string(), 2, masked(&revoked))]
    );
    assert_eq!(v["suppressed"][0]["verification"]["status"], "invalid");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "leadey-scan: warning: demo.py:1: {} is suppressed by an allow comment, but the \
             suppression is ignored: the key is live",
            masked(&live)
        )),
        "{err}"
    );
    assert!(err.contains("1 suppression ignored: live key"), "{err}");
    assert_no_full_key(&err, &[&live, &revoked]);
    assert_no_full_key(&stdout(&out), &[&live, &revoked]);

    // --fail-on live still fails on it; the human report says why.
    let out = run(verify_cmd(&t, &base).args(["--fail-on", "live", "--color", "never"]));
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.contains("= suppression ignored: allow comment (`leadey-scan:allow` on the key's line): the key is live"),
        "{text}"
    );

    // SARIF: the live key is an open result, without `suppressions`.
    let out = run(verify_cmd(&t, &base).args(["--format", "sarif"]));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema_errors(&log).is_empty());
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results[0].get("suppressions").is_none());
    assert_eq!(results[0]["properties"]["verification"]["status"], "live");
    assert!(results[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("the suppression is ignored: the key is live"));
    assert_eq!(results[1]["suppressions"][0]["kind"], "inSource");
}

#[test]
fn a_live_key_is_never_written_to_a_baseline_nor_hidden_by_one() {
    let (live, revoked) = (fake_key(81), fake_key(82));
    let t = Tree::new();
    t.write("a.env", format!("A={live}\nB={revoked}\n"));
    let server = start_api(live.clone());
    let base = server.base();
    // Without --verify both go into the baseline.
    let out = run(t.cmd().args([".", "--write-baseline", "base.json", "-q"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let written: Value =
        serde_json::from_slice(&std::fs::read(t.join("base.json")).unwrap()).unwrap();
    assert_eq!(written["entries"].as_array().unwrap().len(), 2);

    // Using it with --verify: the live key is reported.
    let (v, out) = json(verify_cmd(&t, &base).args(["--baseline", "base.json"]));
    assert_eq!(code(&out), 1);
    assert_eq!(
        listed(&v, "findings"),
        vec![("a.env".to_string(), 1, masked(&live))]
    );
    assert_eq!(v["findings"][0]["suppression"]["kind"], "baseline");
    assert_eq!(kinds(&v), vec!["baseline"]);

    // Writing with --verify leaves the live key out, and says so.
    let (v, out) = json(verify_cmd(&t, &base).args(["--write-baseline", "new.json"]));
    assert_eq!(code(&out), 1);
    assert_eq!(listed(&v, "findings").len(), 1);
    assert!(
        stderr(&out).contains("warning: 1 live key was not written to the baseline: revoke it"),
        "{}",
        stderr(&out)
    );
    let new: Value = serde_json::from_slice(&std::fs::read(t.join("new.json")).unwrap()).unwrap();
    let masked_keys: Vec<&str> = new["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["masked_key"].as_str().unwrap())
        .collect();
    assert_eq!(masked_keys, vec![masked(&revoked)]);
}

#[test]
fn the_short_format_lists_suppressed_findings_with_show_suppressed() {
    let (open, allowed, live) = (fake_key(81), fake_key(82), fake_key(83));
    let t = Tree::new();
    t.write("app.env", format!("A={open}\n"));
    t.write(
        "demo.py",
        format!("K = \"{allowed}\"  # leadey-scan:allow\nL = \"{live}\"  # gitleaks:allow\n"),
    );
    let short = |extra: &[&str]| {
        let out = run(t
            .cmd()
            .args([".", "--format", "short", "--no-timing"])
            .args(extra));
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        assert_no_full_key(&stdout(&out), &[&open, &allowed, &live]);
        stdout(&out)
    };
    // Without the flag: open findings only.
    let plain = short(&[]);
    assert!(plain.starts_with(&format!("app.env:1:3: leadey-api-key: {}", masked(&open))));
    assert!(!plain.contains(&masked(&allowed)), "{plain}");
    // With it: the suppressed ones follow, marked.
    let listed = short(&["--show-suppressed"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines[..3],
        [
            format!(
                "app.env:1:3: leadey-api-key: {} (Leadey API key)",
                masked(&open)
            ),
            format!(
                "demo.py:1:6: leadey-api-key: {} (Leadey API key) [suppressed: allow comment]",
                masked(&allowed)
            ),
            format!(
                "demo.py:2:6: leadey-api-key: {} (Leadey API key) [suppressed: allow comment]",
                masked(&live)
            ),
        ],
        "{listed}"
    );
    // A suppression ignored because the key is live is said so on the open finding.
    let server = start_api(live.clone());
    let out = run(verify_cmd(&t, &server.base()).args(["--format", "short", "--show-suppressed"]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "demo.py:2:6: leadey-api-key: {} (Leadey API key) [live] [allow comment ignored: the key is live]",
            masked(&live)
        )),
        "{}",
        stdout(&out)
    );
    assert_no_full_key(&stdout(&out), &[&open, &allowed, &live]);
}

#[test]
fn no_suppress_reports_everything_for_an_audit_but_keeps_the_config_rules() {
    let (allowed, by_path, by_baseline, short_body) = (
        fake_key(91),
        fake_key(92),
        fake_key(93),
        common::fake_key_len(94, 24),
    );
    let t = Tree::new();
    t.write(
        "demo.py",
        format!("K = \"{allowed}\"  # leadey-scan:allow\n"),
    );
    t.write("tests/fixture.env", format!("K={by_path}\n"));
    t.write("old.env", format!("K={by_baseline}\n"));
    t.write("short.env", format!("K={short_body}\n"));
    // The config accepts tests/ and raises the minimum body length past 24 characters.
    t.write(
        ".leadey-scan.toml",
        "[allow]\npaths = [\"tests/**\"]\n\n[rules.leadey-api-key]\nbody_min_len = 30\n",
    );
    let out = run(t
        .cmd()
        .args([".", "--write-baseline", "base.json", "--exclude", "demo.py"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let (v, out) = json(t.cmd().args([".", "--baseline", "base.json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(v["stats"]["suppressed"], 3);

    let (v, out) = json(
        t.cmd()
            .args([".", "--baseline", "base.json", "--no-suppress"]),
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let mut found: Vec<String> = listed(&v, "findings").into_iter().map(|f| f.0).collect();
    found.sort();
    // Every key the rules find, whatever accepted it; the 24-character body stays below the
    // config's body_min_len.
    assert_eq!(found, ["demo.py", "old.env", "tests/fixture.env"]);
    assert_eq!(v["suppressed"], json!([]));
    assert_eq!(v["stats"]["suppressed"], 0);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f.get("suppression").is_none()));

    // It cannot write or prune a baseline: those are suppression.
    for extra in [
        &["--write-baseline", "b2.json"][..],
        &["--baseline", "base.json", "--prune-baseline"][..],
    ] {
        let out = run(t.cmd().arg("--no-suppress").args(extra));
        assert_eq!(code(&out), 2, "{extra:?}");
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
    }
}

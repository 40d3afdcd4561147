//! `--format sarif`: every log the tests produce is validated against the official SARIF 2.1.0
//! schema (`tests/data/sarif-schema-2.1.0.json`, no network), then checked field by field.

use crate::common;

use std::process::{Command, Output};

use crate::common::{fake_key, masked, run, stderr, stdout, Tree};
use serde_json::{json, Value};

use crate::common::sarif_schema_errors as schema_errors;

fn assert_valid(log: &Value) {
    let errors = schema_errors(log);
    assert!(
        errors.is_empty(),
        "SARIF log is not valid:\n{errors:#?}\n{log:#}"
    );
}

/// Runs `cmd` with `--format sarif --no-timing`, parses and validates stdout.
fn sarif(cmd: &mut Command) -> (Value, Output) {
    let out = run(cmd.args(["--format", "sarif", "--no-timing"]));
    let log = common::stdout_json(&out);
    assert_valid(&log);
    (log, out)
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results array")
}

fn artifact(result: &Value) -> &Value {
    &result["locations"][0]["physicalLocation"]["artifactLocation"]
}

fn notifications(log: &Value) -> &Vec<Value> {
    static NONE: Vec<Value> = Vec::new();
    log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap_or(&NONE)
}

#[test]
fn schema_validation_rejects_a_broken_log() {
    let tree = Tree::new();
    tree.write("a.txt", format!("k = {}\n", fake_key(1)));
    let (mut log, _) = sarif(&mut tree.cmd());
    log["runs"][0]["results"][0]["level"] = json!("fatal");
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        json!("a b\\c");
    let errors = schema_errors(&log).join("\n");
    assert!(errors.contains("/level"), "{errors}");
    assert!(errors.contains("/artifactLocation/uri"), "{errors}");
}

#[test]
fn empty_scan_gives_a_valid_log_with_rules_and_no_results() {
    let tree = Tree::new();
    tree.write("clean.txt", "nothing here\n");
    let (log, out) = sarif(&mut tree.cmd());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    assert_eq!(results(&log).len(), 0);
    let run = &log["runs"][0];
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert!(notifications(&log).is_empty());
    assert_eq!(run["properties"]["truncated"], 0);
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "leadey-scan");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["informationUri"], env!("CARGO_PKG_REPOSITORY"));
    let rule = &driver["rules"][0];
    assert_eq!(rule["id"], "leadey-api-key");
    assert_eq!(rule["name"], "LeadeyApiKey");
    assert_eq!(rule["shortDescription"]["text"], "Leadey API key");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(rule["properties"]["tags"], json!(["security", "secret"]));
    assert_eq!(rule["properties"]["precision"], "very-high");
    assert_eq!(rule["properties"]["security-severity"], "9.8");
    let help = rule["help"]["markdown"].as_str().unwrap();
    assert!(help.contains("Settings → API Keys"), "{help}");
    assert!(help.contains("create a new key"), "{help}");
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap()
        .contains("What leaked"));
    let srcroot = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        srcroot.starts_with("file:///") && srcroot.ends_with('/'),
        "{srcroot}"
    );
    assert_eq!(run["invocations"][0]["workingDirectory"]["uri"], srcroot);
}

#[test]
fn finding_becomes_a_result_that_matches_the_json_report() {
    let tree = Tree::new();
    let key = fake_key(7);
    tree.write("src/config.py", format!("# config\nAPI_KEY = \"{key}\"\n"));
    let (log, out) = sarif(&mut tree.cmd());
    assert_eq!(out.status.code(), Some(1));
    let (json_report, _) = common::json(&mut tree.cmd());
    let finding = &json_report["findings"][0];

    let rs = results(&log);
    assert_eq!(rs.len(), 1);
    let r = &rs[0];
    assert_eq!(r["ruleId"], "leadey-api-key");
    assert_eq!(r["ruleIndex"], 0);
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["message"]["text"],
        format!(
            "Leaked Leadey API key {}. Revoke and rotate it: see the rule's help.",
            masked(&key)
        )
    );
    assert_eq!(
        artifact(r),
        &json!({"uri": "src/config.py", "uriBaseId": "%SRCROOT%"})
    );
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 2);
    assert_eq!(region["startColumn"], 12);
    assert_eq!(region["endLine"], 2);
    assert_eq!(region["endColumn"], 12 + key.len());
    assert_eq!(region["byteOffset"], finding["byte_offset"]);
    assert_eq!(region["byteLength"], key.len());
    assert_eq!(region["snippet"]["text"], finding["snippet"]);
    assert_eq!(
        region["snippet"]["text"],
        format!("API_KEY = \"{}\"", masked(&key))
    );
    let fp = finding["fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 32);
    assert_eq!(
        r["partialFingerprints"],
        json!({"primaryLocationLineHash": fp, "leadeyScan/v1": fp})
    );
    assert_eq!(r["properties"]["masked_key"], masked(&key));
    assert_eq!(r["properties"]["key_sha256"], finding["key_sha256"]);
    assert_eq!(r["properties"]["binary"], false);
    assert!(r["properties"].get("secret").is_none());
    assert!(r["properties"].get("verification").is_none());
}

#[test]
fn fingerprint_survives_a_line_move_and_changes_with_the_path() {
    let tree = Tree::new();
    let key = fake_key(8);
    tree.write("a.env", format!("K={key}\n"));
    let (before, _) = sarif(&mut tree.cmd());
    tree.write("a.env", format!("# moved\n\n\nK={key}\n"));
    tree.write("b.env", format!("K={key}\n"));
    let (after, _) = sarif(&mut tree.cmd());
    let fp = |r: &Value| r["partialFingerprints"]["primaryLocationLineHash"].clone();
    let rs = results(&after);
    assert_eq!(
        rs[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    assert_eq!(fp(&rs[0]), fp(&results(&before)[0]));
    assert_ne!(fp(&rs[1]), fp(&rs[0]));
}

#[test]
fn full_key_is_never_in_the_log_or_stderr_without_show_secrets() {
    let tree = Tree::new();
    let key = fake_key(11);
    tree.write("a.txt", format!("{key}\n"));
    tree.write("b.bin", [b"\x00\x01".as_slice(), key.as_bytes()].concat());
    let (log, out) = sarif(&mut tree.cmd());
    assert_eq!(results(&log).len(), 2);
    let body = &key[common::PREFIX.len()..];
    assert!(!stdout(&out).contains(body));
    assert!(!stderr(&out).contains(body));
    assert!(stdout(&out).contains(&masked(&key)));
}

#[test]
fn show_secrets_puts_the_full_key_only_in_a_result_property() {
    let tree = Tree::new();
    let key = fake_key(12);
    tree.write("a.txt", format!("token: {key}\n"));
    let (log, out) = sarif(tree.cmd().arg("--show-secrets"));
    let r = &results(&log)[0];
    assert_eq!(r["properties"]["secret"], key.as_str());
    assert!(!r["message"]["text"].as_str().unwrap().contains(&key));
    // Exactly once in the whole log: the property.
    assert_eq!(stdout(&out).matches(key.as_str()).count(), 1);
}

#[test]
fn binary_file_result_has_byte_offset_and_length() {
    let tree = Tree::new();
    let key = fake_key(13);
    let mut bytes = vec![0u8, 159, 146, 150, 0, 0, b'\n', 7, 7];
    let offset = bytes.len();
    bytes.extend_from_slice(key.as_bytes());
    bytes.extend_from_slice(&[0, 0, 255]);
    tree.write("blob.bin", &bytes);
    let (log, _) = sarif(&mut tree.cmd());
    let r = &results(&log)[0];
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["byteOffset"], offset);
    assert_eq!(region["byteLength"], key.len());
    assert_eq!(region["startLine"], 2);
    assert_eq!(r["properties"]["binary"], true);
    assert_eq!(artifact(r)["uri"], "blob.bin");
}

#[test]
fn paths_with_spaces_non_ascii_and_reserved_characters_are_percent_encoded() {
    let tree = Tree::new();
    let key = fake_key(14);
    tree.write("dir with space/clé #1?.txt", format!("{key}\n"));
    tree.write("100%/a+b.txt", format!("{key}\n"));
    tree.write("日本/キー.env", format!("{key}\n"));
    let (log, _) = sarif(&mut tree.cmd());
    let uris: Vec<&str> = results(&log)
        .iter()
        .map(|r| artifact(r)["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [
            "100%25/a%2Bb.txt",
            "dir%20with%20space/cl%C3%A9%20%231%3F.txt",
            "%E6%97%A5%E6%9C%AC/%E3%82%AD%E3%83%BC.env",
        ]
    );
}

#[test]
fn absolute_path_under_the_current_directory_becomes_relative() {
    let tree = Tree::new();
    let key = fake_key(15);
    tree.write("sub/a.txt", format!("{key}\n"));
    let root = tree.path().canonicalize().unwrap();
    let (log, _) = sarif(tree.cmd().current_dir(&root).arg(root.join("sub")));
    assert_eq!(
        artifact(&results(&log)[0]),
        &json!({"uri": "sub/a.txt", "uriBaseId": "%SRCROOT%"})
    );
}

#[test]
fn path_outside_the_current_directory_is_an_absolute_file_uri() {
    let tree = Tree::new();
    let key = fake_key(16);
    tree.write("repo/x.txt", "clean\n");
    tree.write("other dir/a.txt", format!("{key}\n"));
    let root = tree.path().canonicalize().unwrap();
    let (log, _) = sarif(
        tree.cmd()
            .current_dir(root.join("repo"))
            .arg("../other dir"),
    );
    let a = artifact(&results(&log)[0]);
    let want = format!(
        "file://{}/other%20dir/a.txt",
        root.to_str().unwrap().replace(' ', "%20")
    );
    assert_eq!(a, &json!({ "uri": want }));
}

#[test]
fn stdin_result_has_no_uri() {
    let key = fake_key(17);
    let mut child = common::bin()
        .args(["--format", "sarif", "--no-timing", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "key={key}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&log);
    assert_eq!(
        artifact(&results(&log)[0]),
        &json!({"description": {"text": "standard input"}})
    );
}

#[test]
fn missing_path_is_an_error_notification_and_an_unsuccessful_execution() {
    let tree = Tree::new();
    let key = fake_key(18);
    tree.write("a.txt", format!("{key}\n"));
    let (log, out) = sarif(tree.cmd().args(["a.txt", "gone dir/missing.txt"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(results(&log).len(), 1);
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    let notes = notifications(&log);
    assert_eq!(notes.len(), 1);
    let n = &notes[0];
    assert_eq!(n["level"], "error");
    assert_eq!(n["descriptor"], json!({"id": "file-error", "index": 0}));
    let text = n["message"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("gone dir/missing.txt: cannot read: "),
        "{text}"
    );
    assert_eq!(
        n["locations"][0]["physicalLocation"]["artifactLocation"],
        json!({"uri": "gone%20dir/missing.txt", "uriBaseId": "%SRCROOT%"})
    );
    assert_eq!(log["runs"][0]["properties"]["stats"]["errors"], 1);
}

#[cfg(unix)]
#[test]
fn symlink_loop_with_follow_is_an_error_notification() {
    let tree = Tree::new();
    tree.write("d/a.txt", "clean\n");
    std::os::unix::fs::symlink("..", tree.join("d/loop")).unwrap();
    let (log, out) = sarif(tree.cmd().args(["--follow", "d"]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    let notes = notifications(&log);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0]["level"], "error");
    assert!(notes[0]["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("d/loop: "));
}

#[test]
fn more_than_5000_findings_are_cut_with_one_warning() {
    let tree = Tree::new();
    let keys = [fake_key(21), fake_key(22), fake_key(23)];
    let mut text = String::new();
    for i in 0..5_001 {
        text.push_str(&format!("k{i} = {}\n", keys[i % 3]));
    }
    tree.write("many.txt", text);
    let (log, out) = sarif(&mut tree.cmd());
    let rs = results(&log);
    assert_eq!(rs.len(), 5_000);
    // Report order is kept: the last line is the one cut.
    assert_eq!(
        rs[4_999]["locations"][0]["physicalLocation"]["region"]["startLine"],
        5_000
    );
    assert_eq!(log["runs"][0]["properties"]["truncated"], 1);
    assert_eq!(log["runs"][0]["properties"]["stats"]["findings"], 5_001);
    let notes = notifications(&log);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "warning");
    assert_eq!(notes[0]["descriptor"]["id"], "results-truncated");
    let warning = "1 of 5001 findings left out of the SARIF log";
    assert!(notes[0]["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with(warning));
    assert_eq!(stderr(&out).matches(warning).count(), 1, "{}", stderr(&out));
    // The execution itself succeeded: nothing was unreadable.
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    // Far below GitHub's 10 MB (gzipped) file limit even before compression.
    assert!(out.stdout.len() < 10_000_000, "{} bytes", out.stdout.len());
}

#[test]
fn report_file_is_a_valid_log() {
    let tree = Tree::new();
    tree.write("a.txt", format!("{}\n", fake_key(24)));
    let out = run(tree
        .cmd()
        .args(["--format", "sarif", "-o", "out.sarif", "a.txt"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let log: Value =
        serde_json::from_slice(&std::fs::read(tree.join("out.sarif")).unwrap()).unwrap();
    assert_valid(&log);
    assert_eq!(results(&log).len(), 1);
}

#[test]
fn small_log_snapshot() {
    let tree = Tree::new();
    tree.write(
        "app/settings.yaml",
        format!("leadey:\n  api_key: {}\n", fake_key(3)),
    );
    tree.write("README.md", "no keys\n");
    let (_, out) = sarif(tree.cmd().args(["app", "README.md", "missing.txt"]));
    let root = tree.path().canonicalize().unwrap();
    let root = root.to_str().unwrap().to_string();
    let root = regex::escape(&root);
    let version = regex::escape(env!("CARGO_PKG_VERSION"));
    insta::with_settings!({filters => vec![
        (root.as_str(), "[ROOT]"),
        (version.as_str(), "[VERSION]"),
        (r"\(os error \d+\)", "(os error N)"),
    ]}, {
        insta::assert_snapshot!(stdout(&out));
    });
}

/// GitHub's ingestion rules (the SARIF Multitool's `--rule-kind Gh`, rule GH2012) want a
/// `fullDescription` and a `help` on every reporting descriptor, rules and notifications alike;
/// `.ci/run` also runs the Multitool itself on tree, history and verified logs.
#[test]
fn every_descriptor_has_a_full_description_and_help() {
    let tree = Tree::new();
    tree.write("clean.txt", "nothing here\n");
    let (log, _) = sarif(&mut tree.cmd());
    let driver = &log["runs"][0]["tool"]["driver"];
    let mut ids = Vec::new();
    for kind in ["rules", "notifications"] {
        for d in driver[kind].as_array().expect("descriptor array") {
            let id = d["id"].as_str().expect("descriptor id");
            for field in ["shortDescription", "fullDescription", "help"] {
                let text = d[field]["text"].as_str().unwrap_or("");
                assert!(
                    !text.trim().is_empty(),
                    "{kind} `{id}` has no {field}: {d:#}"
                );
            }
            ids.push(id.to_string());
        }
    }
    assert_eq!(
        ids,
        [
            "leadey-api-key",
            "file-error",
            "results-truncated",
            "incomplete-content"
        ]
    );
}

/// #23: the byte 0xFF and the four characters `\xFF` display alike (`a\xFFb`); their URIs come
/// from the path's bytes, so they differ, and a key in a name stays masked in the URI too.
#[cfg(unix)]
#[test]
fn a_byte_that_is_not_utf8_and_its_escape_spelt_out_get_different_uris() {
    use std::os::unix::ffi::OsStrExt;
    let tree = Tree::new();
    let raw = |name: &[u8], key: &str| {
        let path = tree.path().join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(path, format!("k = {key}\n")).unwrap();
    };
    let (byte_key, text_key, name_key) = (fake_key(31), fake_key(32), fake_key(33));
    raw(b"a\xFFb", &byte_key);
    raw(b"a\\xFFb", &text_key);
    raw(&[b"\xFE", name_key.as_bytes(), b".env"].concat(), &name_key);
    let uri_of = |log: &Value, key: &str| -> String {
        let r = results(log)
            .iter()
            .find(|r| {
                r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .contains(&masked(key))
            })
            .unwrap_or_else(|| panic!("a result for {}", masked(key)));
        artifact(r)["uri"].as_str().unwrap().to_string()
    };
    let tail = |key: &str| key[key.len() - 4..].to_string();
    let masked_name = format!(
        "%FEleadey_sk_live_{}{}.env",
        "%E2%80%A2".repeat(4),
        tail(&name_key)
    );

    let (log, _) = sarif(&mut tree.cmd());
    assert_eq!(uri_of(&log, &byte_key), "a%FFb");
    assert_eq!(uri_of(&log, &text_key), "a%5CxFFb");
    assert_eq!(uri_of(&log, &name_key), masked_name);
    let (json_report, _) = common::json(&mut tree.cmd());
    let paths: Vec<&str> = json_report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths.iter().filter(|p| **p == "a\\xFFb").count(),
        2,
        "{paths:?}"
    );

    // Outside the current directory: absolute `file://` URIs, from the bytes as well.
    let elsewhere = Tree::new();
    let mut cmd = elsewhere.cmd();
    cmd.arg(tree.path());
    let (log, _) = sarif(&mut cmd);
    let root = tree.path().to_str().unwrap();
    assert_eq!(uri_of(&log, &byte_key), format!("file://{root}/a%FFb"));
    assert_eq!(uri_of(&log, &text_key), format!("file://{root}/a%5CxFFb"));
    let uri = uri_of(&log, &name_key);
    assert!(uri.ends_with(&format!("/{masked_name}")), "{uri}");
    assert!(!uri.contains(&name_key[15..]), "{uri}");
}

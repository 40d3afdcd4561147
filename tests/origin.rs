//! Origins (#12): the same key in the same file gets the same identity whatever the spelling
//! of the scan root, and every finding, skip and error names its origin in JSON.

use crate::common::*;
use serde_json::Value;

/// A repository `repo` inside a temp folder, with keys in two files and a skipped one.
fn tree() -> (Tree, Vec<String>) {
    let t = Tree::new();
    let keys = vec![fake_key(41), fake_key(42)];
    t.write("repo/config/.env", format!("LEADEY_API_KEY={}\n", keys[0]));
    t.write("repo/src/app.py", format!("key = \"{}\"\n", keys[1]));
    t.write("repo/big.txt", "x".repeat(4096));
    (t, keys)
}

/// Runs a scan of `root` from `cwd` and returns the JSON report and the SARIF log.
fn scan(cwd: &std::path::Path, root: &str) -> (Value, Value) {
    let sarif = tempfile::NamedTempFile::new().expect("temp file");
    let out = run(bin()
        .current_dir(cwd)
        .args([
            root,
            "--format",
            "json",
            "--no-timing",
            "--max-filesize",
            "1K",
            "--sarif-file",
        ])
        .arg(sarif.path()));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log: Value =
        serde_json::from_slice(&std::fs::read(sarif.path()).expect("read SARIF")).expect("SARIF");
    (stdout_json(&out), log)
}

/// Findings without their display `path`, which names the root as typed.
fn without_paths(report: &Value) -> Vec<Value> {
    let mut findings = report["findings"].as_array().expect("findings").clone();
    for f in &mut findings {
        f.as_object_mut().expect("object").remove("path");
    }
    findings
}

fn sarif_fingerprints(log: &Value) -> Vec<Value> {
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["partialFingerprints"].clone())
        .collect()
}

#[test]
fn dot_absolute_and_parent_relative_roots_give_one_identity() {
    let (t, keys) = tree();
    let repo = t.join("repo");
    let abs = repo.to_str().expect("UTF-8 temp path").to_string();
    let (dot, dot_sarif) = scan(&repo, ".");
    let (absolute, abs_sarif) = scan(&repo, &abs);
    let (parent, parent_sarif) = scan(t.path(), "repo");

    // The display path keeps the root as typed, as ripgrep prints it...
    let paths = |r: &Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(paths(&dot), ["config/.env", "src/app.py"]);
    assert_eq!(
        paths(&absolute),
        [format!("{abs}/config/.env"), format!("{abs}/src/app.py")]
    );
    assert_eq!(paths(&parent), ["repo/config/.env", "repo/src/app.py"]);

    // ...and everything else is the same: fingerprints, origins, keys, lines.
    assert_eq!(without_paths(&dot), without_paths(&absolute));
    assert_eq!(without_paths(&dot), without_paths(&parent));
    let origin = &dot["findings"][0]["origin"];
    assert_eq!(origin["source"], "file");
    assert_eq!(origin["path"], "config/.env");
    assert_eq!(origin["members"], serde_json::json!([]));
    assert_eq!(parent["findings"][1]["origin"]["path"], "src/app.py");

    let fps = sarif_fingerprints(&dot_sarif);
    assert_eq!(fps.len(), 2);
    assert_eq!(fps, sarif_fingerprints(&abs_sarif));
    assert_eq!(fps, sarif_fingerprints(&parent_sarif));
    assert_eq!(fps[0]["leadeyScan/v1"], dot["findings"][0]["fingerprint"]);

    // Skips carry their origin too, relative to the root.
    for report in [&dot, &absolute, &parent] {
        let skipped = report["skipped"].as_array().unwrap();
        assert_eq!(skipped.len(), 1, "{report}");
        assert_eq!(skipped[0]["origin"]["path"], "big.txt");
        assert_eq!(skipped[0]["reason"], "too-large");
    }
    for text in [dot.to_string(), absolute.to_string(), parent.to_string()] {
        for k in &keys {
            assert!(!text.contains(&k[15..]), "full key in the report");
        }
    }
}

#[test]
fn standard_input_and_git_blobs_name_their_source() {
    let key = fake_key(43);
    let input = format!("k={key}\n");
    let out = run_limited(
        bin().args(["-", "--format", "json", "--no-timing"]),
        Some(input.as_bytes()),
        std::time::Duration::from_secs(60),
    );
    let report = stdout_json(&out);
    assert_eq!(report["findings"][0]["path"], "<stdin>");
    assert_eq!(report["findings"][0]["origin"]["source"], "stdin");

    let t = Tree::new();
    t.git_init();
    t.write("sub/k.env", format!("K={key}\n"));
    let git = |args: &[&str]| {
        t.git(args);
    };
    git(&["add", "."]);
    git(&["commit", "-qm", "k"]);
    // From a subfolder, the shown path is relative to it (#20, as in tree scans); the origin's
    // git path stays repository-relative.
    let (report, _) = json(bin().current_dir(t.join("sub")).args(["--history", ".."]));
    let f = &report["findings"][0];
    assert_eq!(f["path"], "k.env");
    assert_eq!(f["origin"]["source"], "git");
    assert_eq!(f["origin"]["path"], "sub/k.env");
    assert_eq!(f["origin"]["commit"], f["commit"]["id"]);
}

//! Baselines (#7): `--write-baseline` records findings without keys, `--baseline` reports only
//! new ones, across line moves and other path layouts; `--prune-baseline` lists and removes
//! stale entries; a broken baseline is an error with its position.

use crate::common;

use std::path::Path;

use crate::common::{code, fake_key, json, listed, masked, run, stderr, stdout, Tree};
use serde_json::{json, Value};

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Writes a baseline of `t` to `name` (relative to `t`), quietly; the run must succeed.
fn write_baseline(t: &Tree, name: &str) {
    let out = run(t.cmd().args([".", "--write-baseline", name, "-q"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// (path, line, masked key) of each finding of a JSON report.
fn findings(v: &Value) -> Vec<(String, u64, String)> {
    listed(v, "findings")
}

fn suppressed_count(v: &Value) -> usize {
    v["suppressed"].as_array().unwrap().len()
}

/// Copies the files of `from` into `to` (created), recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_written_baseline_holds_no_key_and_suppresses_what_it_recorded() {
    let keys: Vec<String> = (1..=3).map(fake_key).collect();
    let t = Tree::new();
    t.write("src/app.py", format!("KEY = \"{}\"\n", keys[0]))
        .write("config/prod.env", format!("A={}\nB={}\n", keys[1], keys[0]))
        .write("z.txt", format!("{}\n", keys[2]));
    let (before, _) = json(t.cmd().arg("."));

    let out = run(t.cmd().args([
        ".",
        "--write-baseline",
        ".leadey-baseline.json",
        "--no-timing",
    ]));
    assert_eq!(
        code(&out),
        0,
        "the recorded findings are suppressed in this run too"
    );
    assert_eq!(
        stderr(&out),
        "leadey-scan: 0 findings in 0 files; scanned 3 files (204 B); 0 skipped; 0 errors; \
         4 suppressed (4 baseline)\nleadey-scan: wrote baseline .leadey-baseline.json (4 entries)\n"
    );
    let text = std::fs::read_to_string(t.join(".leadey-baseline.json")).unwrap();
    for key in &keys {
        assert!(
            !text.contains(key.as_str()),
            "full key in the baseline:\n{text}"
        );
        assert!(
            !text.contains(&key[15..]),
            "key body in the baseline:\n{text}"
        );
    }
    // Sorted by path, with fingerprints as the JSON report has them (the scan root is `.`).
    let fp = |path: &str, key: &str| {
        before["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path && f["masked_key"] == masked(key))
            .unwrap()["fingerprint"]
            .clone()
    };
    let entry = |path: &str, key: &str| {
        json!({"fingerprint": fp(path, key), "rule_id": "leadey-api-key", "path": path,
               "masked_key": masked(key)})
    };
    let mut config_entries = vec![
        entry("config/prod.env", &keys[1]),
        entry("config/prod.env", &keys[0]),
    ];
    config_entries.sort_by_key(|e| e["masked_key"].as_str().unwrap().to_string());
    let mut want = config_entries;
    want.push(entry("src/app.py", &keys[0]));
    want.push(entry("z.txt", &keys[2]));
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"version": 1, "entries": want})
    );
    // The file is scanned too and gives nothing.
    let (v, out) = json(t.cmd().args([".", "--baseline", ".leadey-baseline.json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(findings(&v), vec![]);
    assert_eq!(suppressed_count(&v), 4);
    assert_eq!(v["stats"]["files_scanned"], 4);
    assert_eq!(
        v["suppressed"][0]["suppression"],
        json!({"kind": "baseline",
               "detail": format!("fingerprint {} in baseline .leadey-baseline.json",
                                 fp("config/prod.env", &keys[1]).as_str().unwrap())})
    );
}

#[test]
fn a_new_key_in_a_baselined_file_is_reported_and_line_moves_are_not() {
    let (old, new) = (fake_key(11), fake_key(12));
    let t = Tree::new();
    t.write("settings.py", format!("OLD = \"{old}\"\n"));
    write_baseline(&t, "b.json");
    // Lines added above the old key, and a new key in the same file.
    t.write(
        "settings.py",
        format!("# settings\nimport os\n\nNEW = \"{new}\"\nOLD = \"{old}\"  # moved\n"),
    );
    let (v, out) = json(t.cmd().args([".", "--baseline", "b.json"]));
    assert_eq!(code(&out), 1);
    assert_eq!(
        findings(&v),
        vec![("settings.py".to_string(), 4, masked(&new))]
    );
    assert_eq!(suppressed_count(&v), 1);
    assert_eq!(v["suppressed"][0]["line"], 5);

    // The old key moved to another file is a new finding.
    t.write(
        "settings.py",
        format!("NEW = \"{new}\" # leadey-scan:allow\n"),
    )
    .write("other.py", format!("OLD = \"{old}\"\n"));
    let (v, out) = json(t.cmd().args([".", "--baseline", "b.json"]));
    assert_eq!(code(&out), 1);
    assert_eq!(
        findings(&v),
        vec![("other.py".to_string(), 1, masked(&old))]
    );
    assert!(
        stderr(&out).contains(
            "leadey-scan: 1 baseline entry matched no finding (--prune-baseline lists and removes them)"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_baseline_works_from_another_directory_and_path_layout() {
    let (a, b, c) = (fake_key(21), fake_key(22), fake_key(23));
    let first = Tree::new();
    first
        .write("repo/src/a.env", format!("{a}\n"))
        .write("repo/tests/b.env", format!("{b}\n"));
    // Written on the first machine from inside the repository.
    let mut cmd = common::bin();
    cmd.current_dir(first.join("repo")).args([
        ".",
        "--write-baseline",
        ".leadey-baseline.json",
        "-q",
    ]);
    assert_eq!(code(&run(&mut cmd)), 0);

    // The second machine checks the repository out elsewhere, with one more key.
    let second = Tree::new();
    copy_tree(&first.join("repo"), &second.join("work/checkout"));
    second.write("work/checkout/src/c.env", format!("{c}\n"));
    let want = |prefix: &str| vec![(format!("{prefix}src/c.env"), 1, masked(&c))];

    // From inside the checkout, as on the first machine.
    let mut cmd = common::bin();
    cmd.current_dir(second.join("work/checkout")).args([
        ".",
        "--baseline",
        ".leadey-baseline.json",
    ]);
    let (v, out) = json(&mut cmd);
    assert_eq!(code(&out), 1);
    assert_eq!(findings(&v), want(""));
    assert_eq!(suppressed_count(&v), 2);

    // From a parent directory: paths are reported as `work/checkout/...`, matched relative to
    // the scan root.
    let (v, out) = json(second.cmd().args([
        "work/checkout",
        "--baseline",
        "work/checkout/.leadey-baseline.json",
    ]));
    assert_eq!(code(&out), 1);
    assert_eq!(findings(&v), want("work/checkout/"));
    assert_eq!(suppressed_count(&v), 2);

    // With an absolute root.
    let root = second.join("work/checkout");
    let (v, out) = json(
        second
            .cmd()
            .arg(&root)
            .args(["--baseline", "work/checkout/.leadey-baseline.json"]),
    );
    assert_eq!(code(&out), 1);
    assert_eq!(findings(&v), want(&format!("{}/", root.display())));
    assert_eq!(suppressed_count(&v), 2);

    // A baseline written from the parent matches a scan from inside, too.
    let (_, out) = json(
        second
            .cmd()
            .args(["work/checkout", "--write-baseline", "parent.json"]),
    );
    assert_eq!(code(&out), 0);
    let entries = read_json(&second.join("parent.json"))["entries"].clone();
    let paths: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["src/a.env", "src/c.env", "tests/b.env"]);
    let mut cmd = common::bin();
    cmd.current_dir(second.join("work/checkout"))
        .args([".", "--baseline", "../../parent.json"]);
    let (v, out) = json(&mut cmd);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(suppressed_count(&v), 3);
}

#[test]
fn prune_lists_and_removes_entries_that_match_nothing() {
    let (a, b, c) = (fake_key(31), fake_key(32), fake_key(33));
    let t = Tree::new();
    t.write("a.env", format!("{a}\n"))
        .write("b.env", format!("{b}\n"))
        .write("c.env", format!("{c}\n"));
    write_baseline(&t, "base.json");
    let before = read_json(&t.join("base.json"));
    std::fs::remove_file(t.join("a.env")).unwrap();
    t.write("c.env", "revoked and removed\n");

    // Without the flag: counted, the file is left alone.
    let out = run(t
        .cmd()
        .args([".", "--baseline", "base.json", "--no-timing"]));
    assert_eq!(code(&out), 0);
    assert_eq!(
        stderr(&out),
        "leadey-scan: 0 findings in 0 files; scanned 3 files (652 B); 0 skipped; 0 errors; \
         1 suppressed (1 baseline)\nleadey-scan: 2 baseline entries matched no finding \
         (--prune-baseline lists and removes them)\n"
    );
    assert_eq!(read_json(&t.join("base.json")), before);

    let out = run(t
        .cmd()
        .args([".", "--baseline", "base.json", "--prune-baseline", "-q"]));
    assert_eq!(code(&out), 0);
    let fp = |i: usize| {
        before["entries"][i]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        stderr(&out),
        format!(
            "leadey-scan: stale baseline entry: a.env leadey-api-key {} (fingerprint {})\n\
             leadey-scan: stale baseline entry: c.env leadey-api-key {} (fingerprint {})\n\
             leadey-scan: pruned 2 stale entries from base.json\n",
            masked(&a),
            fp(0),
            masked(&c),
            fp(2)
        )
    );
    let after = read_json(&t.join("base.json"));
    assert_eq!(after["entries"], json!([before["entries"][1]]));
    // Nothing stale any more.
    let out = run(t
        .cmd()
        .args([".", "--baseline", "base.json", "--prune-baseline", "-q"]));
    assert_eq!(stderr(&out), "");
    assert_eq!(read_json(&t.join("base.json")), after);
}

#[cfg(unix)]
#[test]
fn prune_refuses_to_rewrite_after_an_incomplete_scan() {
    let a = fake_key(41);
    let t = Tree::new();
    t.write("a.env", format!("{a}\n"));
    write_baseline(&t, "base.json");
    let before = read_json(&t.join("base.json"));
    std::fs::remove_file(t.join("a.env")).unwrap();
    // With --follow, a link back to its own folder is a loop: an error, so the scan is not
    // complete and the entry of a file in it could be lost.
    std::os::unix::fs::symlink(".", t.join("loop")).unwrap();
    let out = run(t.cmd().args([
        ".",
        "--follow",
        "--baseline",
        "base.json",
        "--prune-baseline",
        "-q",
    ]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "leadey-scan: warning: baseline not pruned: some paths could not be read, so \
             entries for them would be lost"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(read_json(&t.join("base.json")), before);
}

#[test]
fn broken_baselines_are_errors_with_a_position() {
    let t = Tree::new();
    t.write("a.env", format!("{}\n", fake_key(51)))
        .write("bad.json", "{\n  \"version\": 1,\n  \"entries\": {}\n}\n")
        .write("v2.json", "{\"version\": 2, \"entries\": []}\n")
        .write(
            "fp.json",
            "{\"version\": 1, \"entries\": [{\"fingerprint\": \"xyz\", \"rule_id\": \"r\", \
             \"path\": \"a\", \"masked_key\": \"m\"}]}\n",
        );
    let error = |file: &str| {
        let out = run(t.cmd().args([".", "--baseline", file]));
        assert_eq!(code(&out), 2, "{file}");
        assert_eq!(stdout(&out), "");
        stderr(&out)
    };
    assert_eq!(
        error("bad.json"),
        "leadey-scan: error: cannot start the scan: bad.json:3:13: invalid type: map, expected \
         a sequence; expected a baseline written by --write-baseline ({\"version\": 1, \
         \"entries\": [...]})\n"
    );
    assert_eq!(
        error("v2.json"),
        "leadey-scan: error: cannot start the scan: v2.json: baseline version 2 is not \
         supported: expected 1 (write it again with this version's --write-baseline)\n"
    );
    assert_eq!(
        error("fp.json"),
        "leadey-scan: error: cannot start the scan: fp.json: entry 0: fingerprint `xyz` \
         is not 32 hexadecimal characters\n"
    );
    assert_eq!(
        error("missing.json"),
        "leadey-scan: error: cannot start the scan: missing.json: cannot read baseline: No \
         such file or directory (os error 2)\n"
    );
}

#[test]
fn baseline_flags_are_checked() {
    let t = Tree::new();
    t.write("a.env", "x\n");
    for args in [
        vec!["--prune-baseline"],
        vec![
            "--baseline",
            "b.json",
            "--write-baseline",
            "b.json",
            "--prune-baseline",
        ],
    ] {
        let out = run(t.cmd().args(&args));
        assert_eq!(code(&out), 2, "{args:?}");
    }
}

/// #20: what the pre-commit framework runs (`--pre-commit` with the staged file names): a
/// `git mv` of a file holding a baselined key adds no line, so nothing is reported; a copy of
/// the key into a new file adds one, at a path the baseline does not hold.
#[test]
fn pre_commit_mode_lets_a_moved_baselined_key_pass_and_blocks_a_copy() {
    let t = Tree::new();
    t.git_init();
    let key = fake_key(2301);
    t.write("conf/a.env", format!("K={key}\n"));
    let out = run(t.cmd().args([".", "--write-baseline", "b.json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    t.git(&["add", "."])
        .git(&["commit", "-q", "-m", "baselined"]);
    t.git(&["mv", "conf/a.env", "moved.env"]);
    // A whole-file scan sees a new path, so a new fingerprint: the behaviour before #20.
    let out = run(t.cmd().args(["moved.env", "--baseline", "b.json"]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let out = run(t.cmd().args([
        "--pre-commit",
        "moved.env",
        "--baseline",
        "b.json",
        "--format",
        "short",
    ]));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out), "");
    t.git(&["commit", "-q", "-m", "moved"]);
    t.write("copy.env", format!("K={key}\n"));
    t.git(&["add", "copy.env"]);
    let out = run(t.cmd().args([
        "--pre-commit",
        "copy.env",
        "--baseline",
        "b.json",
        "--format",
        "short",
    ]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().next().unwrap_or_default(),
        format!(
            "copy.env:1:3: leadey-api-key: {} (Leadey API key)",
            masked(&key)
        )
    );
    // Run in CI over every file (`pre-commit run --all-files`: nothing staged), the moved key
    // is scanned whole and is new to the baseline: no silent pass.
    t.git(&["commit", "-q", "-m", "copy"]);
    let out = run(t
        .cmd()
        .args(["--pre-commit", "moved.env", "--baseline", "b.json"]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

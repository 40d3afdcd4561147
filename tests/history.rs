//! `--history` end to end (#20, #23): presence at `HEAD` judged per key, on real repositories
//! built with the git CLI in temp dirs.

use std::process::Output;

use crate::common::{self, fake_key, masked, stderr, stdout, Tree};
use serde_json::Value;

/// A new repository with one branch, `main`.
fn repo() -> Tree {
    let tree = Tree::new();
    common::git_in(tree.path(), &["init", "-q", "-b", "main"]);
    tree
}

fn commit(tree: &Tree, message: &str) {
    common::git_in(tree.path(), &["add", "-A"]);
    common::git_in(tree.path(), &["commit", "-q", "-m", message]);
}

fn history(tree: &Tree, args: &[&str]) -> Output {
    let mut cmd = tree.cmd();
    cmd.arg("--history")
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR");
    common::run(&mut cmd)
}

/// (path, present_at_head, head_path) of every finding, `head_path` empty when absent.
fn presence(v: &Value) -> Vec<(String, bool, String)> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["present_at_head"].as_bool().unwrap(),
                f["head_path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn triple(path: &str, present: bool, head_path: &str) -> (String, bool, String) {
    (path.to_string(), present, head_path.to_string())
}

#[test]
fn git_mv_leaves_the_old_path_present_at_head_under_its_new_name() {
    let (moved, gone) = (fake_key(2301), fake_key(2302));
    let tree = repo();
    tree.write("config/old.env", format!("KEY={moved}\n"));
    tree.write("src/gone.env", format!("KEY={gone}\n"));
    commit(&tree, "keys");
    common::git_in(tree.path(), &["mv", "config/old.env", "config/new.env"]);
    common::git_in(tree.path(), &["rm", "-q", "src/gone.env"]);
    commit(&tree, "move one key, delete the other");

    let out = history(&tree, &["--format", "json", "--no-timing"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = common::stdout_json(&out);
    assert_eq!(
        presence(&v),
        [
            triple("config/new.env", true, ""),
            triple("config/old.env", true, "config/new.env"),
            triple("src/gone.env", false, ""),
        ],
        "{v}"
    );
    assert_eq!(v["findings"][1]["masked_key"], masked(&moved));

    // The human report says "deleted" for the deleted key only, and where the moved one is.
    let text = stdout(&history(&tree, &["--no-timing"]));
    assert_eq!(text.matches("deleted later").count(), 1, "{text}");
    assert_eq!(
        text.matches("now at HEAD in config/new.env, no longer in this file")
            .count(),
        1,
        "{text}"
    );
    let gone_at = text.find("src/gone.env").expect("the deleted key's path");
    assert!(text[gone_at..].contains("deleted later"), "{text}");
    assert!(
        !text.contains(&moved) && !text.contains(&gone),
        "full key printed"
    );

    // SARIF: the moved key is not history-only.
    let out = history(&tree, &["--format", "sarif", "--no-timing"]);
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let history_only: Vec<(String, bool)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["properties"]["history_only"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history_only,
        [
            ("config/new.env".to_string(), false),
            ("config/old.env".to_string(), false),
            ("src/gone.env".to_string(), true),
        ]
    );
}

#[test]
fn a_key_moved_into_another_file_is_present_there_and_deleted_once_gone_from_both() {
    let key = fake_key(2303);
    let tree = repo();
    tree.write("a.env", format!("A=1\nKEY={key}\n"));
    tree.write("b.env", "B=1\n");
    commit(&tree, "key in a");
    tree.write("a.env", "A=1\n");
    tree.write("b.env", format!("B=1\nKEY={key}\n"));
    commit(&tree, "key moves to b");
    let out = history(&tree, &["--format", "json", "--no-timing"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = common::stdout_json(&out);
    assert_eq!(
        presence(&v),
        [triple("a.env", true, "b.env"), triple("b.env", true, "")]
    );
    // Deleted from every file: both findings say so, and neither names a path at HEAD.
    tree.write("b.env", "B=1\n");
    commit(&tree, "key removed");
    let out = history(&tree, &["--format", "json", "--no-timing"]);
    assert_eq!(
        presence(&common::stdout_json(&out)),
        [triple("a.env", false, ""), triple("b.env", false, "")]
    );
}

#[test]
fn presence_on_a_branch_is_judged_at_the_branch_tip() {
    let key = fake_key(2304);
    let tree = repo();
    tree.write("old.env", format!("KEY={key}\n"));
    commit(&tree, "key");
    common::git_in(tree.path(), &["checkout", "-q", "-b", "moved"]);
    common::git_in(tree.path(), &["mv", "old.env", "new.env"]);
    commit(&tree, "move");
    common::git_in(tree.path(), &["checkout", "-q", "main"]);
    common::git_in(tree.path(), &["rm", "-q", "old.env"]);
    commit(&tree, "delete on main");
    let run = |args: &[&str]| {
        let mut all = vec!["--format", "json", "--no-timing"];
        all.extend_from_slice(args);
        presence(&common::stdout_json(&history(&tree, &all)))
    };
    // HEAD is main, where the key is gone from every path.
    assert_eq!(
        run(&[]),
        [triple("new.env", false, ""), triple("old.env", false, "")]
    );
    assert_eq!(
        run(&["--branch", "moved"]),
        [
            triple("new.env", true, ""),
            triple("old.env", true, "new.env")
        ]
    );
}

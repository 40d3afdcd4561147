//! #20 "No silent pass": the one exit rule for incomplete scans, what the ignore rules leave
//! out, and the release mode of the README's recipes.

use std::io::Write;

use crate::common::*;

fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&tar(files)).expect("gzip");
    e.finish().expect("gzip finish")
}

/// A tree with `dist/app.tgz` holding a key in `package/.env`.
fn tree_with_package(key: &str) -> Tree {
    let t = Tree::new();
    let env = format!("LEADEY_API_KEY={key}\n");
    t.write("dist/app.tgz", tgz(&[("package/.env", env.as_bytes())]));
    t.write("README.md", "nothing here\n");
    t
}

#[test]
fn incomplete_content_is_listed_and_exits_0_unless_fail_on_incomplete() {
    let t = tree_with_package(&fake_key(1));
    // The tar header alone is 512 bytes: 100 inflated bytes never reach the key.
    let (v, out) = json(t.cmd().args([".", "--max-archive-bytes", "100"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    let skipped = v["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{v:#}");
    assert_eq!(skipped[0]["reason"], "archive-too-large");
    assert_eq!(skipped[0]["path"], "dist/app.tgz!app.tar");
    assert_eq!(skipped[0]["origin"]["path"], "dist/app.tgz");
    assert_eq!(v["stats"]["incomplete"], 1);

    let out = run(t
        .cmd()
        .args([".", "--max-archive-bytes", "100", "--no-timing"]));
    assert_eq!(out.status.code(), Some(0));
    let e = stderr(&out);
    assert!(
        e.contains("skipped: dist/app.tgz!app.tar: --max-archive-bytes"),
        "listed without --list-skipped: {e}"
    );
    assert!(
        e.contains("; 1 incomplete (1 archive-too-large: --fail-on-incomplete fails the run)"),
        "{e}"
    );

    for strict in ["--fail-on-incomplete", "--release"] {
        let out = run(t.cmd().args([".", "--max-archive-bytes", "100", strict]));
        assert_eq!(out.status.code(), Some(2), "{strict}: {}", stderr(&out));
    }
    // Without the limit the key is found: findings win (1), strict or not.
    let out = run(t.cmd().args([".", "--fail-on-incomplete"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn findings_win_over_incomplete_content_with_fail_on_incomplete() {
    let t = tree_with_package(&fake_key(2));
    t.write("src/k.env", format!("K={}\n", fake_key(3)));
    let out = run(t
        .cmd()
        .args([".", "--max-archive-bytes", "100", "--fail-on-incomplete"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn unreadable_inputs_and_bad_arguments_stay_exit_2() {
    let t = Tree::new();
    t.write("a.txt", "nothing\n");
    assert_eq!(run(t.cmd().arg("a.txt")).status.code(), Some(0));
    assert_eq!(run(t.cmd().arg("missing")).status.code(), Some(2));
    assert_eq!(
        run(t.cmd().args(["a.txt", "--max-archive-bytes", "lots"]))
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn help_states_the_incomplete_rule() {
    let text = stdout(&run(bin().arg("--help")));
    assert!(text.contains("incomplete content"), "{text}");
    assert!(text.contains("--fail-on-incomplete"), "{text}");
}

/// A repository whose `.gitignore` lists the build output, with a key packed in `dist/app.tgz`.
fn repo_with_ignored_build_output(key: &str) -> Tree {
    let t = tree_with_package(key);
    t.git_init();
    t.write(".gitignore", "dist/\n*.tgz\nnode_modules/\n");
    t.write("node_modules/dep/index.js", "nothing\n");
    t.write("src/app.log", "nothing\n");
    t
}

#[test]
fn the_summary_and_json_say_what_the_ignore_rules_left_out() {
    let t = repo_with_ignored_build_output(&fake_key(4));
    t.write(".gitignore", "dist/\n*.log\nnode_modules/\n");
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(v["stats"]["ignored"], 3);
    let paths: Vec<&str> = v["ignored"]
        .as_array()
        .expect("ignored list")
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    // Top-level only: the contents of dist/ and node_modules/ are not walked.
    assert_eq!(paths, vec!["dist/", "node_modules/", "src/app.log"]);
    assert_eq!(v["ignored"][0]["dir"], true);

    let out = run(t.cmd().args([".", "--no-timing"]));
    let e = stderr(&out);
    assert!(
        e.contains("; 3 paths left out by ignore rules (--list-skipped lists them"),
        "{e}"
    );
    assert!(!e.contains("ignored: dist/"), "listed only when asked: {e}");
    let out = run(t.cmd().args([".", "--list-skipped"]));
    let e = stderr(&out);
    for p in ["dist/", "node_modules/", "src/app.log"] {
        assert!(e.contains(&format!("leadey-scan: ignored: {p}\n")), "{e}");
    }
    // Nothing to say when the rules are off.
    let (v, _) = json(t.cmd().args([".", "--no-ignore"]));
    assert_eq!(v["stats"]["ignored"], 0);
    assert!(v.get("ignored").is_none());
}

#[test]
fn a_named_folder_whose_every_file_is_ignored_is_an_error_not_a_pass() {
    let key = fake_key(5);
    let t = repo_with_ignored_build_output(&key);
    let out = run(t.cmd().arg("dist/"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("dist/: every file under it is left out by the ignore rules"),
        "{e}"
    );
    assert!(e.contains("--no-ignore") && e.contains("--release"), "{e}");
    let (v, _) = json(t.cmd().arg("dist/"));
    assert_eq!(v["errors"][0]["path"], "dist/");
    // A folder with one scanned file is no error.
    t.write("dist/notes.txt", "nothing\n");
    t.write(".gitignore", "*.tgz\n");
    assert_eq!(run(t.cmd().arg("dist/")).status.code(), Some(0));
    for flag in ["--no-ignore", "--release"] {
        let (v, out) = json(t.cmd().args(["dist/", flag]));
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", stderr(&out));
        assert_eq!(v["findings"][0]["path"], "dist/app.tgz!package/.env");
    }
}

/// The command lines of the README's "Release gate" section that start with
/// `leadey-scan --release`.
fn readme_release_recipes() -> Vec<Vec<String>> {
    let readme = include_str!("../README.md");
    let section = readme
        .split("\n## Release gate")
        .nth(1)
        .expect("README has a Release gate section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("leadey-scan --release"))
        .map(|l| {
            let command = l.split('#').next().unwrap_or(l);
            command
                .split_whitespace()
                .skip(1)
                .map(String::from)
                .collect()
        })
        .collect()
}

#[test]
fn the_readme_release_recipe_finds_the_key_in_ignored_build_output() {
    let recipes = readme_release_recipes();
    assert!(
        recipes.contains(&vec!["--release".to_string(), ".".to_string()]),
        "{recipes:?}"
    );
    let key = fake_key(6);
    let t = repo_with_ignored_build_output(&key);
    // What a plain scan misses, the release mode finds.
    let out = run(t.cmd().arg("."));
    assert_eq!(out.status.code(), Some(0));
    for args in &recipes {
        let out = run(t.cmd().args(args).args(["--format", "json"]));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let v = stdout_json(&out);
        let paths: Vec<String> = locations(&v).into_iter().map(|l| l.0).collect();
        assert_eq!(paths, vec!["dist/app.tgz!package/.env"], "{args:?}");
        assert!(!stdout(&out).contains(&key[15..]));
    }
}

#[test]
fn incomplete_content_is_a_sarif_notification() {
    let t = tree_with_package(&fake_key(7));
    let out = run(t
        .cmd()
        .args([".", "--max-archive-bytes", "100", "--format", "sarif"]));
    assert_eq!(out.status.code(), Some(0));
    let log = stdout_json(&out);
    let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0]["descriptor"]["id"], "incomplete-content");
    assert_eq!(notes[0]["level"], "warning");
    let text = notes[0]["message"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("dist/app.tgz!app.tar: --max-archive-bytes"),
        "{text}"
    );
    assert!(sarif_schema_errors(&log).is_empty());
}

//! `--format gitlab`: GitLab's secret-detection report from the binary, on a git checkout (the
//! scanned commit), with `--history` (each finding's own commit) and on a plain folder;
//! validated against GitLab's schema (an excerpt of 15.2.1, `tests/data`), never a full key.

use std::path::Path;
use std::process::Command;

use crate::common::gitlab_schema::{schema_errors, undeclared};
use crate::common::{fake_key, masked, run, stderr, stdout, stdout_json, Tree};
use serde_json::Value;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Dev",
            "-c",
            "user.email=dev@example.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Runs `leadey-scan --format gitlab ARGS .` in `t`, checks the exit code, validates the
/// report and checks that none of `keys` is in stdout or stderr.
fn gitlab(t: &Tree, args: &[&str], keys: &[&str]) -> Value {
    let out = run(t.cmd().args(["--format", "gitlab"]).args(args).arg("."));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = stdout_json(&out);
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    let extra = undeclared(&doc);
    assert!(extra.is_empty(), "not in the schema: {extra:?}");
    for key in keys {
        let body = &key[key.len() - 16..];
        assert!(!stdout(&out).contains(body) && !stderr(&out).contains(body));
    }
    doc
}

#[test]
fn a_tree_scan_of_a_checkout_names_the_head_commit() {
    let t = Tree::new();
    git(t.path(), &["init", "-q"]);
    let key = fake_key(161);
    t.write("app/config.env", format!("\nLEADEY={key}\n"));
    git(t.path(), &["add", "."]);
    git(t.path(), &["commit", "-qm", "config"]);
    let head = git(t.path(), &["rev-parse", "HEAD"]);
    let doc = gitlab(&t, &["--show-secrets"], &[&key]);
    assert_eq!(doc["version"], "15.2.1");
    assert_eq!(doc["scan"]["type"], "secret_detection");
    let v = &doc["vulnerabilities"][0];
    assert_eq!(doc["vulnerabilities"].as_array().unwrap().len(), 1);
    assert_eq!(v["location"]["file"], "app/config.env");
    assert_eq!(v["location"]["start_line"], 2);
    assert_eq!(v["location"]["commit"], serde_json::json!({"sha": head}));
    assert_eq!(v["severity"], "Critical");
    assert!(v["description"].as_str().unwrap().contains(&masked(&key)));
}

#[test]
fn a_history_scan_names_each_findings_commit() {
    let t = Tree::new();
    git(t.path(), &["init", "-q"]);
    let key = fake_key(162);
    t.write("old.env", format!("LEADEY={key}\n"));
    git(t.path(), &["add", "."]);
    git(t.path(), &["commit", "-qm", "add a key"]);
    let added = git(t.path(), &["rev-parse", "HEAD"]);
    git(t.path(), &["rm", "-q", "old.env"]);
    git(t.path(), &["commit", "-qm", "remove it"]);
    let doc = gitlab(&t, &["--history"], &[&key]);
    let v = &doc["vulnerabilities"][0];
    assert_eq!(v["location"]["file"], "old.env");
    assert_eq!(v["location"]["commit"]["sha"], added.as_str());
    assert_eq!(v["location"]["commit"]["message"], "add a key");
    assert!(v["description"].as_str().unwrap().contains("deleted later"));
}

#[test]
fn a_plain_folder_gets_the_placeholder_commit_and_the_same_id_every_run() {
    let t = Tree::new();
    let key = fake_key(163);
    t.write("a.env", format!("K={key}\n"));
    let first = gitlab(&t, &[], &[&key]);
    let v = &first["vulnerabilities"][0];
    assert_eq!(v["location"]["commit"]["sha"], "0000000");
    t.write("a.env", format!("# moved down\n\nK={key}\n"));
    let second = gitlab(&t, &[], &[&key]);
    assert_eq!(second["vulnerabilities"][0]["id"], v["id"]);
    assert_eq!(second["vulnerabilities"][0]["location"]["start_line"], 3);
}

#[test]
fn the_report_goes_to_the_file_gitlab_collects() {
    let t = Tree::new();
    let key = fake_key(164);
    t.write("a.env", format!("K={key}\n"));
    let out = run(t.cmd().args([
        "--format",
        "gitlab",
        "--output",
        "gl-secret-detection-report.json",
        ".",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(t.join("gl-secret-detection-report.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(schema_errors(&doc).is_empty());
    assert_eq!(doc["vulnerabilities"].as_array().unwrap().len(), 1);
    assert!(!text.contains(&key[key.len() - 16..]));
}

/// Runs `script` in bash with `env` and a `GITHUB_OUTPUT` file; returns what it wrote there.
fn step_outputs(script: &str, env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("output");
    std::fs::write(&out_file, "").unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .envs(env.iter().copied())
        .env("GITHUB_OUTPUT", &out_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(out_file).unwrap()
}

#[test]
fn the_template_runs_the_image_that_each_release_publishes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap();
    let template: serde_yaml::Value =
        serde_yaml::from_str(&read("templates/gitlab/leadey-scan.gitlab-ci.yml")).unwrap();
    let image = template["variables"]["LEADEY_SCAN_IMAGE"].as_str().unwrap();
    assert_eq!(
        template["leadey-scan"]["image"]["name"],
        "$LEADEY_SCAN_IMAGE"
    );
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let version = manifest["package"]["version"].as_str().unwrap();
    let repo = manifest["package"]["repository"].as_str().unwrap();
    let slug = repo.strip_prefix("https://github.com/").unwrap();
    // The release workflow runs on a `v<version>` tag; its image job pushes the Dockerfile's
    // image under the name its naming step writes (today's main published no image at all).
    let wf: serde_yaml::Value =
        serde_yaml::from_str(&read(".github/workflows/release.yml")).unwrap();
    assert_eq!(wf["on"]["push"]["tags"][0], "v*");
    let steps = wf["jobs"]["image"]["steps"]
        .as_sequence()
        .expect("an image job in release.yml");
    let push = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/build-push-action"))
        })
        .expect("a build-push step");
    assert_eq!(push["with"]["push"], serde_yaml::Value::Bool(true));
    assert_eq!(push["with"]["context"], ".");
    assert_eq!(push["with"]["tags"], "${{ steps.image.outputs.name }}");
    let naming = steps.iter().find(|s| s["id"] == "image").unwrap();
    let written = step_outputs(
        naming["run"].as_str().unwrap(),
        &[("REPO", slug), ("GITHUB_REF_NAME", &format!("v{version}"))],
    );
    assert_eq!(written, format!("name={image}\n"));
    // The include line the template documents pins the same release.
    assert!(
        read("templates/gitlab/leadey-scan.gitlab-ci.yml").contains(&format!(
            "/v{version}/templates/gitlab/leadey-scan.gitlab-ci.yml"
        ))
    );
}

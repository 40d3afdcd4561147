//! GitHub Actions mode (`--github`) on simulated runner environments against real git
//! repositories, the composite action's steps run in bash, and the plain git hook written by
//! `--install-hook` driving a real `git commit`.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.invalid")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.invalid")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

fn commit_file(t: &Tree, rel: &str, text: &str, msg: &str) -> String {
    t.write(rel, text);
    git(t.path(), &["add", rel]);
    git(t.path(), &["commit", "-q", "-m", msg]);
    git(t.path(), &["rev-parse", "HEAD"])
}

/// A repository with a base commit on `main` and a feature branch of three commits, two of
/// which add keys. Returns (tree, base sha, head sha, keys).
fn pr_repo() -> (Tree, String, String, Vec<String>) {
    let t = Tree::new();
    git(t.path(), &["init", "-q", "-b", "main"]);
    let base = commit_file(&t, "README.md", "hello\n", "base");
    git(t.path(), &["checkout", "-q", "-b", "feature"]);
    let keys = vec![fake_key(201), fake_key(202)];
    commit_file(
        &t,
        "app/config.py",
        &format!("KEY = '{}'\n", keys[0]),
        "add config",
    );
    commit_file(&t, "docs.md", "more docs\n", "docs");
    let head = commit_file(
        &t,
        "app/other.env",
        &format!("LEADEY={}\n", keys[1]),
        "add env",
    );
    (t, base, head, keys)
}

struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new(event_name: &str, event: serde_json::Value) -> Runner {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("event.json"), event.to_string()).unwrap();
        std::fs::write(dir.path().join("output"), "").unwrap();
        std::fs::write(dir.path().join("summary"), "").unwrap();
        std::fs::write(dir.path().join("name"), event_name).unwrap();
        Runner { dir }
    }
    fn env(&self, c: &mut Command) {
        let name = std::fs::read_to_string(self.dir.path().join("name")).unwrap();
        c.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", name)
            .env("GITHUB_EVENT_PATH", self.dir.path().join("event.json"))
            .env("GITHUB_OUTPUT", self.dir.path().join("output"))
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary"));
    }
    fn run(&self, t: &Tree, args: &[&str]) -> Output {
        let mut c = t.cmd();
        self.env(&mut c);
        c.arg("--github").args(args).output().unwrap()
    }
    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output")).unwrap()
    }
    fn summary(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("summary")).unwrap()
    }
}

fn pr_event(base: &str, head: &str) -> serde_json::Value {
    serde_json::json!({"pull_request": {"base": {"sha": base}, "head": {"sha": head}}})
}

#[test]
fn pull_request_scans_every_commit_of_the_pr_and_reports_for_github() {
    let (t, base, head, keys) = pr_repo();
    // A key already on the base branch is not the pull request's business.
    let r = Runner::new("pull_request", pr_event(&base, &head));
    let out = r.run(&t, &["--sarif-file", "leadey.sarif", "--color", "never"]);
    // #20: workflow commands go to stderr, which the runner reads as it reads stdout.
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stdout(&out));
    assert!(!stdout(&out).contains("::error"), "{}", stdout(&out));
    assert!(
        text.contains(&format!(
            "leadey-scan: scanning the commits reachable from {} and not from {} (pull_request: the commits it adds)",
            &head[..7],
            &base[..7]
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "::error file=app/config.py,line=1,col=8,title=Leadey API key::{} leaked",
            masked(&keys[0])
        )),
        "{text}"
    );
    assert!(
        text.contains("::error file=app/other.env,line=1,col=8,"),
        "{text}"
    );
    for k in &keys {
        assert!(!text.contains(&k[15..]) && !r.summary().contains(&k[15..]));
    }
    let outputs = r.output();
    assert!(outputs.contains("findings=2\n"), "{outputs}");
    assert!(outputs.contains("live=0\n"));
    assert!(outputs.contains("sarif-file=leadey.sarif\n"));
    assert!(outputs.contains("history-sarif-file=\n"));
    assert!(
        outputs.contains("sarif-category=leadey-scan/pull-request\n"),
        "{outputs}"
    );
    let summary = r.summary();
    assert!(
        summary.contains("Scanned the commits reachable from"),
        "{summary}"
    );
    assert!(summary.contains("| `app/config.py:1:8` |"), "{summary}");
    assert!(summary.contains("add config"), "{summary}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("leadey.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
}

#[test]
fn pull_request_with_base_equal_to_head_is_success() {
    let (t, _base, head, _) = pr_repo();
    let r = Runner::new("pull_request", pr_event(&head, &head));
    let out = r.run(&t, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(r.output().contains("findings=0\n"));
    assert!(r.summary().contains("No Leadey API key found"));
    // #20: an empty result of a commit plan is a notice, not a silent pass.
    assert!(
        stderr(&out)
            .contains("::notice title=leadey-scan::scanned no file: the commits reachable from"),
        "{}",
        stderr(&out)
    );
}

fn push_event(git_ref: &str, before: &str, after: &str) -> serde_json::Value {
    serde_json::json!({"ref": git_ref, "before": before, "after": after,
                       "repository": {"default_branch": "main"}})
}

const ZERO: &str = "0000000000000000000000000000000000000000";

#[test]
fn push_scans_before_to_after_and_a_new_branch_against_the_default_branch() {
    let (t, base, head, keys) = pr_repo();
    let middle = git(t.path(), &["rev-parse", "HEAD~1"]);
    let r = Runner::new("push", push_event("refs/heads/feature", &middle, &head));
    let out = r.run(&t, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(r.output().contains("findings=1\n"), "{}", r.output());
    assert!(stderr(&out).contains(&masked(&keys[1])));
    // A push's analysis is partial: no category, so the action uploads nothing (#20).
    assert!(r.output().contains("sarif-category=\n"), "{}", r.output());
    // A new branch: compared with origin/main.
    git(t.path(), &["update-ref", "refs/remotes/origin/main", &base]);
    let r = Runner::new("push", push_event("refs/heads/feature", ZERO, &head));
    let out = r.run(&t, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(r.output().contains("findings=2\n"), "{}", r.output());
    assert!(
        stderr(&out).contains("not from refs/remotes/origin/main (new branch feature: its commits that are not on main)"),
        "{}",
        stderr(&out)
    );
    // A deleted branch scans nothing, and says so in a notice.
    let mut ev = push_event("refs/heads/feature", &head, ZERO);
    ev["deleted"] = true.into();
    let r = Runner::new("push", ev);
    let out = r.run(&t, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(r.output().contains("findings=0\n"));
    assert!(
        stderr(&out).contains(
            "::notice title=leadey-scan::nothing to scan: the push deleted refs/heads/feature"
        ),
        "{}",
        stderr(&out)
    );
    assert!(r.summary().contains("Scanned nothing"), "{}", r.summary());
}

/// A working repository `work` whose `main` is pushed to the bare repository `remote.git`, as
/// GitHub holds it; `checkout` clones it as actions/checkout does with `fetch-depth: 0`.
struct Remote {
    t: Tree,
}

impl Remote {
    fn new() -> Remote {
        let t = Tree::new();
        git(
            t.path(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        git(t.path(), &["init", "-q", "-b", "main", "work"]);
        git(
            &t.join("work"),
            &["remote", "add", "origin", "../remote.git"],
        );
        Remote { t }
    }
    fn work(&self) -> std::path::PathBuf {
        self.t.join("work")
    }
    fn commit(&self, rel: &str, text: &str, msg: &str) -> String {
        let w = self.work();
        let p = w.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        git(&w, &["add", rel]);
        git(&w, &["commit", "-q", "-m", msg]);
        git(&w, &["rev-parse", "HEAD"])
    }
    /// A fresh clone of the remote, checked out at `rev`.
    fn checkout(&self, rev: &str) -> Tree {
        let c = Tree::new();
        let url = format!("file://{}", self.t.join("remote.git").display());
        git(c.path(), &["clone", "-q", &url, "."]);
        git(c.path(), &["checkout", "-q", rev]);
        c
    }
}

#[test]
fn the_first_push_of_the_default_branch_scans_all_of_its_history() {
    let r = Remote::new();
    let key = fake_key(211);
    r.commit("config.env", &format!("LEADEY={key}\n"), "first");
    r.commit("config.env", "LEADEY=from-the-vault\n", "second");
    let head = r.commit("README.md", "hi\n", "third");
    git(&r.work(), &["push", "-q", "origin", "main"]);
    let c = r.checkout(&head);
    let run = Runner::new("push", push_event("refs/heads/main", ZERO, &head));
    let out = run.run(&c, &[]);
    // Today's main compared main with origin/main, the same commit: 0 files, exit 0.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(run.output().contains("findings=1\n"), "{}", run.output());
    assert!(stderr(&out).contains("first push of the default branch main: all of its history"));
}

#[test]
fn a_force_push_whose_before_is_gone_scans_the_commits_the_event_lists() {
    let r = Remote::new();
    r.commit("README.md", "hi\n", "base");
    git(&r.work(), &["push", "-q", "origin", "main"]);
    git(&r.work(), &["checkout", "-q", "-b", "feature"]);
    let old = r.commit("notes.txt", "draft\n", "draft");
    git(&r.work(), &["push", "-q", "origin", "feature"]);
    // Rewritten and force-pushed: `old` is no longer on any ref of the remote.
    git(&r.work(), &["reset", "-q", "--hard", "HEAD~1"]);
    let key = fake_key(212);
    let new = r.commit("app.env", &format!("LEADEY={key}\n"), "rewrite");
    git(&r.work(), &["push", "-q", "--force", "origin", "feature"]);
    let c = r.checkout(&new);
    let mut ev = push_event("refs/heads/feature", &old, &new);
    ev["forced"] = true.into();
    ev["commits"] = serde_json::json!([{"id": new, "distinct": true}]);
    let run = Runner::new("push", ev);
    let out = run.run(&c, &[]);
    let err = stderr(&out);
    // Today's main: exit 2, "cannot scan the commits …; set fetch-depth: 0".
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("fetch-depth"), "{err}");
    assert!(
        err.contains(&format!(
            "::notice title=leadey-scan::force push to feature, whose previous tip {} is not in the clone: scanning the 1 commit the event lists",
            &old[..7]
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "::error file=app.env,line=1,col=8,title=Leadey API key::{} leaked",
            masked(&key)
        )),
        "{err}"
    );
    assert!(run.output().contains("findings=1\n"), "{}", run.output());
}

#[test]
fn a_force_push_without_a_commit_list_scans_what_no_other_ref_reaches() {
    let r = Remote::new();
    let on_main = fake_key(213);
    r.commit("main.env", &format!("LEADEY={on_main}\n"), "base");
    git(&r.work(), &["push", "-q", "origin", "main"]);
    git(&r.work(), &["checkout", "-q", "-b", "feature"]);
    let old = r.commit("notes.txt", "draft\n", "draft");
    git(&r.work(), &["push", "-q", "origin", "feature"]);
    git(&r.work(), &["reset", "-q", "--hard", "HEAD~1"]);
    let key = fake_key(214);
    r.commit("app.env", &format!("LEADEY={key}\n"), "rewrite 1");
    let new = r.commit("other.txt", "more\n", "rewrite 2");
    git(&r.work(), &["push", "-q", "--force", "origin", "feature"]);
    let c = r.checkout(&new);
    let mut ev = push_event("refs/heads/feature", &old, &new);
    ev["forced"] = true.into();
    ev["commits"] = serde_json::json!([]);
    let run = Runner::new("push", ev);
    let out = run.run(&c, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("that no other branch or tag reaches"), "{err}");
    // The key of main is reached by main: not this push's business.
    assert!(run.output().contains("findings=1\n"), "{}", run.output());
    assert!(err.contains(&masked(&key)) && !err.contains(&masked(&on_main)));
}

#[test]
fn a_tag_push_scans_the_working_tree_in_release_mode() {
    let r = Remote::new();
    let work = r.work();
    std::fs::write(work.join(".gitignore"), "dist/\n").unwrap();
    git(&work, &["add", ".gitignore"]);
    git(&work, &["commit", "-q", "-m", "ignore the build output"]);
    git(&work, &["tag", "v1.0.0"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["push", "-q", "origin", "main", "v1.0.0"]);
    let c = r.checkout(&head);
    // What the job built before the scan: gitignored, and what ships.
    let key = fake_key(215);
    c.write(
        "dist/app.tar",
        tar(&[("pkg/config.env", format!("\nLEADEY={key}\n").as_bytes())]),
    );
    let run = Runner::new("push", push_event("refs/tags/v1.0.0", ZERO, &head));
    let out = run.run(&c, &[]);
    let err = stderr(&out);
    // Today's main planned a commit range for the tag: 0 files, exit 0.
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("leadey-scan: scanning the working tree in release mode"),
        "{err}"
    );
    // #20: the annotation names the member and its line; it points at the archive, no line.
    assert!(
        err.contains(&format!(
            "::error file=dist/app.tar,title=Leadey API key::{} leaked in dist/app.tar!pkg/config.env line 2 column 8:",
            masked(&key)
        )),
        "{err}"
    );
    assert!(
        run.output().contains("sarif-category=leadey-scan/tree\n"),
        "{}",
        run.output()
    );
    // A `release` event is planned the same way.
    let ev = serde_json::json!({"action": "published", "release": {"tag_name": "v1.0.0"}});
    let run = Runner::new("release", ev);
    let out = run.run(&c, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(run.output().contains("findings=1\n"), "{}", run.output());
    assert!(
        run.summary()
            .contains("release v1.0.0 published: what ships, in release mode"),
        "{}",
        run.summary()
    );
}

#[test]
fn an_annotation_on_an_encoded_key_names_the_encoding() {
    let t = Tree::new();
    let key = fake_key(216);
    t.write(
        "k8s/secret.yaml",
        format!(
            "kind: Secret\ndata:\n  key: {}\n",
            crate::decode::b64(key.as_bytes())
        ),
    );
    let r = Runner::new("workflow_dispatch", serde_json::json!({}));
    let out = r.run(&t, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "::error file=k8s/secret.yaml,line=3,col=8,title=Leadey API key::{} leaked (encoded: base64):",
            masked(&key)
        )),
        "{err}"
    );
    assert!(
        err.contains("leadey-scan: scanning the working tree (manual run (workflow_dispatch))"),
        "{err}"
    );
}

#[test]
fn json_and_sarif_reports_stay_clean_documents_with_github() {
    let (t, base, head, keys) = pr_repo();
    for format in ["json", "sarif"] {
        let r = Runner::new("pull_request", pr_event(&base, &head));
        let out = r.run(&t, &["--format", format]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        // Today's main wrote the ::error lines after the document on stdout.
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{format}: {e}\n{}", stdout(&out)));
        assert!(doc.is_object());
        assert_eq!(stderr(&out).matches("::error file=").count(), 2);
        assert!(!stdout(&out).contains(&keys[0][15..]));
    }
}

#[test]
fn merge_group_scans_the_commits_the_queue_adds() {
    let (t, _base, head, keys) = pr_repo();
    let middle = git(t.path(), &["rev-parse", "HEAD~1"]);
    let ev = serde_json::json!({"merge_group": {"base_sha": middle, "head_sha": head,
                                                "head_ref": "refs/heads/gh-readonly-queue/main/pr-1"}});
    let r = Runner::new("merge_group", ev);
    let out = r.run(&t, &[]);
    // Today's main scanned the whole tree for any event it did not know: both keys.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(r.output().contains("findings=1\n"), "{}", r.output());
    assert!(stderr(&out).contains(&masked(&keys[1])));
    assert!(stderr(&out).contains("(merge_group: the commits it adds)"));
}

#[test]
fn schedule_scans_the_whole_tree() {
    let (t, _, _, _) = pr_repo();
    t.write("untracked.txt", fake_key(203));
    let r = Runner::new("schedule", serde_json::json!({"schedule": "0 3 * * *"}));
    let out = r.run(&t, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(r.output().contains("findings=3\n"), "{}", r.output());
}

#[test]
fn a_shallow_checkout_gets_a_clear_message_about_fetch_depth() {
    let (src, base, head, _) = pr_repo();
    let t = Tree::new();
    let url = format!("file://{}", src.path().display());
    git(
        t.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "feature", &url, "repo",
        ],
    );
    let repo = Tree {
        dir: tempfile::tempdir().unwrap(),
    };
    let mut c = Command::new(env!("CARGO_BIN_EXE_leadey-scan"));
    c.current_dir(t.join("repo"));
    let r = Runner::new("pull_request", pr_event(&base, &head));
    r.env(&mut c);
    let out = c.arg("--github").output().unwrap();
    drop(repo);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("fetch-depth: 0"), "{}", stderr(&out));
}

#[test]
fn github_mode_outside_actions_is_a_clear_error() {
    let t = Tree::new();
    let out = t
        .cmd()
        .arg("--github")
        .env_remove("GITHUB_EVENT_NAME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("GITHUB_EVENT_NAME is not set"),
        "{}",
        stderr(&out)
    );
}

fn action() -> serde_yaml::Value {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

#[test]
fn every_action_input_is_used_and_every_flag_exists() {
    let a = action();
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let inputs = a["inputs"].as_mapping().unwrap();
    for (name, _) in inputs {
        let name = name.as_str().unwrap();
        assert!(
            text.contains(&format!("inputs.{name} ")) || text.contains(&format!("inputs.{name}}}")),
            "input {name} is not used by any step"
        );
    }
    let help = stdout(&run(bin().arg("--help")));
    let steps = a["runs"]["steps"].as_sequence().unwrap();
    let mut flags = 0;
    for step in steps {
        if let Some(script) = step["run"].as_str() {
            for word in script.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                let w = word.trim_matches(|c| c == '"' || c == '\'');
                if w.starts_with("--")
                    && w.len() > 2
                    && !script.contains(&format!("cargo install {w}"))
                {
                    if ["--locked", "--path", "--root"].contains(&w) {
                        continue; // cargo install's flags
                    }
                    assert!(help.contains(w), "step flag {w} is not a leadey-scan flag");
                    flags += 1;
                }
            }
        }
    }
    assert!(flags >= 5, "only {flags} flags found in the steps");
    assert_eq!(a["runs"]["using"], "composite");
    for out in ["findings", "live", "sarif-file"] {
        assert!(a["outputs"][out]["value"]
            .as_str()
            .unwrap()
            .contains(&format!("steps.scan.outputs.{out}")));
    }
}

#[test]
fn the_scan_step_runs_in_bash_with_a_simulated_runner() {
    let a = action();
    let step = a["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "scan")
        .unwrap()
        .clone();
    let script = step["run"].as_str().unwrap();
    let (t, base, head, keys) = pr_repo();
    let r = Runner::new("pull_request", pr_event(&base, &head));
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_leadey-scan"))
        .parent()
        .unwrap();
    let mut c = Command::new("bash");
    c.arg("-c").arg(script).current_dir(t.path());
    r.env(&mut c);
    // Inputs as the runner maps them, with the action's defaults.
    for (name, spec) in a["inputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let var = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
        c.env(var, spec["default"].as_str().unwrap_or(""));
    }
    c.env("INPUT_FORMAT", "short")
        .env("INPUT_EXTRA_ARGS", "--no-timing --color never");
    c.env(
        "PATH",
        format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
    );
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains(&format!(
        "app/config.py:1:8: leadey-api-key: {}",
        masked(&keys[0])
    )));
    assert!(
        r.output()
            .contains("findings=2\nlive=0\nsarif-file=leadey-scan.sarif\n"),
        "{}",
        r.output()
    );
    assert!(t.join("leadey-scan.sarif").exists());
}

/// Runs the action's step with id `id` in bash, as the runner does: the action's input
/// defaults (then `inputs`) as `INPUT_*` variables, the binary first on `PATH`.
fn run_step(id: &str, dir: &Path, r: &Runner, inputs: &[(&str, &str)]) -> Output {
    let a = action();
    let step = a["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
        .clone();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_leadey-scan"))
        .parent()
        .unwrap();
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(step["run"].as_str().unwrap())
        .current_dir(dir);
    r.env(&mut c);
    for (name, spec) in a["inputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let var = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
        c.env(var, spec["default"].as_str().unwrap_or(""));
    }
    for (name, value) in inputs {
        c.env(
            format!("INPUT_{}", name.to_uppercase().replace('-', "_")),
            value,
        );
    }
    c.env(
        "PATH",
        format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
    );
    c.output().unwrap()
}

#[test]
fn the_scan_step_keeps_quoted_extra_args_together() {
    let t = Tree::new();
    t.write("a b/k.env", format!("K={}\n", fake_key(221)));
    t.write("c/k.env", format!("K={}\n", fake_key(222)));
    let r = Runner::new("schedule", serde_json::json!({}));
    let out = run_step(
        "scan",
        t.path(),
        &r,
        &[("extra-args", r#"--exclude "a b" --no-timing"#)],
    );
    // Today's main split `"a` from `b"`: a path named `b"` that does not exist, exit 2.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(r.output().contains("findings=1\n"), "{}", r.output());
    assert!(stdout(&out).contains("c/k.env"), "{}", stdout(&out));
    // Nothing is expanded, and an unmatched quote is an error, not a guess.
    let out = run_step(
        "scan",
        t.path(),
        &r,
        &[("extra-args", "--exclude '$(touch pwned)")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).contains("extra-args cannot be split into words"));
    assert!(!t.join("pwned").exists());
    let out = run_step(
        "scan",
        t.path(),
        &r,
        &[("extra-args", "--exclude '$(touch pwned)' -q")],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(!t.join("pwned").exists());
}

#[test]
fn the_binary_cache_key_follows_the_actions_source_not_its_ref() {
    let src = Tree::new();
    src.write("Cargo.toml", "[package]\n")
        .write("Cargo.lock", "")
        .write("src/main.rs", "fn main() {}\n")
        .write("rules/leadey.toml", "");
    let key = || {
        let r = Runner::new("push", serde_json::json!({}));
        let a = action();
        let step = a["runs"]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "cache-key")
            .expect("a cache-key step")
            .clone();
        let cache = a["runs"]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "cache")
            .unwrap()
            .clone();
        let cache_key = cache["with"]["key"].as_str().unwrap();
        assert!(
            cache_key.contains("steps.cache-key.outputs.key"),
            "{cache_key}"
        );
        assert!(!cache_key.contains("action_ref"), "{cache_key}");
        let mut c = Command::new("bash");
        c.arg("-c").arg(step["run"].as_str().unwrap());
        r.env(&mut c);
        let out = c.env("LEADEY_SCAN_SOURCE", src.path()).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let output = r.output();
        let key = output.strip_prefix("key=").unwrap().trim().to_string();
        assert_eq!(key.len(), 32, "{output}");
        key
    };
    let first = key();
    assert_eq!(key(), first, "the same source, the same key");
    // A new commit on a branch the action is pinned to (`@main`): a new binary.
    src.write("src/main.rs", "fn main() { println!(); }\n");
    assert_ne!(key(), first);
}

#[test]
fn sarif_uploads_never_fail_the_job_and_skip_forks_and_partial_analyses() {
    let a = action();
    let steps = a["runs"]["steps"].as_sequence().unwrap();
    let uploads: Vec<_> = steps
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
        })
        .collect();
    assert_eq!(uploads.len(), 2);
    for u in uploads {
        assert_eq!(u["continue-on-error"], serde_yaml::Value::Bool(true));
        let cond = u["if"].as_str().unwrap();
        assert!(
            cond.contains("!github.event.pull_request.head.repo.fork"),
            "{cond}"
        );
        assert!(cond.contains("-category != ''"), "{cond}");
        assert!(u["with"]["category"]
            .as_str()
            .unwrap()
            .contains("steps.scan.outputs."));
    }
    let warn = steps
        .iter()
        .find(|s| s["name"] == "Report a failed upload")
        .unwrap();
    assert!(warn["if"]
        .as_str()
        .unwrap()
        .contains("steps.upload.outcome == 'failure'"));
    // The reusable workflow can turn the upload off.
    let wf: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/scan.yml"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        wf["on"]["workflow_call"]["inputs"]["upload-sarif"]["type"],
        "boolean"
    );
    let with = &wf["jobs"]["scan"]["steps"][1]["with"];
    assert_eq!(with["upload-sarif"], "${{ inputs.upload-sarif }}");
}

#[test]
fn install_hook_blocks_a_real_commit_that_stages_a_key() {
    let t = Tree::new();
    git(t.path(), &["init", "-q"]);
    let out = t.cmd().arg("--install-hook").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let key = fake_key(301);
    t.write("secret.env", format!("K={key}\n"));
    git(t.path(), &["add", "secret.env"]);
    let commit = Command::new("git")
        .args(["commit", "-m", "add secret"])
        .current_dir(t.path())
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "d@example.invalid")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "d@example.invalid")
        .output()
        .unwrap();
    let text = format!("{}{}", stdout(&commit), stderr(&commit));
    assert!(!commit.status.success(), "commit went through:\n{text}");
    assert!(
        text.contains(&format!("secret.env:1:3: leadey-api-key: {}", masked(&key))),
        "{text}"
    );
    assert!(!text.contains(&key[15..]));
    // A clean commit passes; a key only in an unstaged edit does not block it.
    git(t.path(), &["rm", "-q", "--cached", "secret.env"]);
    t.write("ok.txt", "fine\n");
    git(t.path(), &["add", "ok.txt"]);
    t.write("ok.txt", format!("fine\n{}\n", fake_key(302)));
    git(t.path(), &["commit", "-q", "-m", "clean"]);
    // An existing foreign hook is kept unless --force.
    let hook = t.join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\nexit 0\n").unwrap();
    let out = t.cmd().arg("--install-hook").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("use --force"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
    let out = t
        .cmd()
        .args(["--install-hook", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&hook).unwrap().contains("--staged"));
}

/// What the action's install step did, run in bash with a fake `gh` serving a release from a
/// folder and a fake `cargo` that records being called.
struct Install {
    stdout: String,
    cargo_called: bool,
    installed: Option<String>,
    github_path: String,
}

/// Runs the action's install step with a release holding `archive_body` (an executable that
/// prints it) as `leadey-scan-x86_64-linux.tar.gz` and a SHA256SUMS line for `listed_body`.
/// `None` for the release: `gh release download` fails, as for a ref without a release.
fn run_install_step(release: Option<(&str, &str)>) -> Install {
    use sha2::{Digest, Sha256};
    let a = action();
    let step = a["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Install leadey-scan")
        .expect("the install step")
        .clone();
    let script = step["run"].as_str().unwrap();
    let t = Tree::new();
    let tools = t.path().join("tools");
    let assets = t.path().join("assets");
    let runner_temp = t.path().join("runner-temp");
    for d in [&tools, &assets, &runner_temp] {
        std::fs::create_dir_all(d).unwrap();
    }
    let archive = "leadey-scan-x86_64-linux.tar.gz";
    if let Some((archive_body, listed_body)) = release {
        let pack = |body: &str, dir: &Path| {
            std::fs::create_dir_all(dir).unwrap();
            let exe = dir.join("leadey-scan");
            std::fs::write(&exe, format!("#!/bin/sh\necho {body}\n")).unwrap();
            let out = Command::new("chmod").arg("+x").arg(&exe).output().unwrap();
            assert!(out.status.success());
            let out = Command::new("tar")
                .arg("-czf")
                .arg(dir.join(archive))
                .arg("-C")
                .arg(dir)
                .arg("leadey-scan")
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            std::fs::read(dir.join(archive)).unwrap()
        };
        let listed = pack(listed_body, &t.path().join("listed"));
        let served = pack(archive_body, &t.path().join("served"));
        let sum = Sha256::digest(&listed)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        std::fs::write(assets.join(archive), served).unwrap();
        std::fs::write(
            assets.join("SHA256SUMS"),
            format!(
                "{sum}  {archive}\n{}  leadey-scan-arm64-darwin.tar.gz\n",
                "0".repeat(64)
            ),
        )
        .unwrap();
    }
    // gh release download REF -R REPO -p P... -D DIR: copies the patterns from assets/.
    let fake_gh = format!(
        "#!/bin/bash\n[ \"$1 $2\" = 'release download' ] || exit 3\n\
         [ -f '{assets}/SHA256SUMS' ] || exit 1\nshift 3\nps=()\n\
         while [ $# -gt 0 ]; do case \"$1\" in -p) ps+=(\"$2\"); shift 2;; -D) d=\"$2\"; shift 2;; \
         *) shift;; esac; done\nfor p in \"${{ps[@]}}\"; do cp '{assets}'/\"$p\" \"$d\"/ || exit 1; done\n",
        assets = assets.display()
    );
    let fake_cargo = "#!/bin/bash\nset -e\nmkdir -p \"$LEADEY_SCAN_ROOT/bin\"\n\
                      touch \"$LEADEY_SCAN_ROOT/cargo-called\"\n\
                      printf '#!/bin/sh\\necho from-source\\n' > \"$LEADEY_SCAN_ROOT/bin/leadey-scan\"\n\
                      chmod +x \"$LEADEY_SCAN_ROOT/bin/leadey-scan\"\n";
    for (name, text) in [("gh", fake_gh.as_str()), ("cargo", fake_cargo)] {
        std::fs::write(tools.join(name), text).unwrap();
        let out = Command::new("chmod")
            .arg("+x")
            .arg(tools.join(name))
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let root = runner_temp.join("leadey-scan-bin");
    let github_path = t.path().join("github-path");
    std::fs::write(&github_path, "").unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .env(
            "PATH",
            format!("{}:{}", tools.display(), std::env::var("PATH").unwrap()),
        )
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_PATH", &github_path)
        .env("LEADEY_SCAN_ROOT", &root)
        .env("LEADEY_SCAN_SOURCE", t.path())
        .env("LEADEY_SCAN_REF", "v9.9.9")
        .env("LEADEY_SCAN_REPO", "leadey/leadey-scan")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let installed = Command::new(root.join("bin/leadey-scan"))
        .output()
        .ok()
        .map(|o| stdout(&o).trim().to_string());
    Install {
        stdout: stdout(&out),
        cargo_called: root.join("cargo-called").exists(),
        installed,
        github_path: std::fs::read_to_string(&github_path).unwrap(),
    }
}

#[test]
fn the_install_step_uses_a_release_binary_whose_checksum_matches() {
    let i = run_install_step(Some(("from-release", "from-release")));
    assert!(!i.cargo_called, "{}", i.stdout);
    assert_eq!(i.installed.as_deref(), Some("from-release"));
    assert!(
        i.stdout
            .contains("installed leadey-scan-x86_64-linux.tar.gz of v9.9.9"),
        "{}",
        i.stdout
    );
    assert!(
        i.github_path.ends_with("leadey-scan-bin/bin\n"),
        "{}",
        i.github_path
    );
}

#[test]
fn the_install_step_builds_from_source_when_the_checksum_does_not_match() {
    let i = run_install_step(Some(("tampered", "from-release")));
    assert!(i.cargo_called, "{}", i.stdout);
    assert_eq!(i.installed.as_deref(), Some("from-source"));
    assert!(
        i.stdout.contains("::warning title=leadey-scan::leadey-scan-x86_64-linux.tar.gz of release v9.9.9 does not match its SHA256SUMS entry"),
        "{}",
        i.stdout
    );
}

#[test]
fn the_install_step_builds_from_source_without_a_release() {
    let i = run_install_step(None);
    assert!(i.cargo_called, "{}", i.stdout);
    assert_eq!(i.installed.as_deref(), Some("from-source"));
    assert!(
        i.github_path.ends_with("leadey-scan-bin/bin\n"),
        "{}",
        i.github_path
    );
}

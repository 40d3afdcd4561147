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
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
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
    let summary = r.summary();
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
}

#[test]
fn push_scans_before_to_after_and_a_new_branch_against_the_default_branch() {
    let (t, base, head, keys) = pr_repo();
    let middle = git(t.path(), &["rev-parse", "HEAD~1"]);
    let r = Runner::new(
        "push",
        serde_json::json!({"before": middle, "after": head, "repository": {"default_branch": "main"}}),
    );
    let out = r.run(&t, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(r.output().contains("findings=1\n"), "{}", r.output());
    assert!(stdout(&out).contains(&masked(&keys[1])));
    // A new branch: compared with origin/main.
    git(t.path(), &["update-ref", "refs/remotes/origin/main", &base]);
    let r = Runner::new(
        "push",
        serde_json::json!({"before": "0000000000000000000000000000000000000000", "after": head,
                           "repository": {"default_branch": "main"}}),
    );
    let out = r.run(&t, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(r.output().contains("findings=2\n"), "{}", r.output());
    // A deleted branch scans nothing.
    let r = Runner::new(
        "push",
        serde_json::json!({"before": head, "after": "0000000000000000000000000000000000000000", "deleted": true}),
    );
    let out = r.run(&t, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(r.output().contains("findings=0\n"));
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

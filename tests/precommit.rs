//! The pre-commit framework hooks in `.pre-commit-hooks.yaml`, run with the real `pre-commit`
//! tool as its users run them (`pre-commit try-repo`, and `pre-commit install` then `git commit`
//! for `git mv` and copies, #20). If `pre-commit` is not on PATH, the test installs it from PyPI
//! into a venv under the target directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::common::*;

fn pre_commit() -> &'static PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        if Command::new("pre-commit")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return PathBuf::from("pre-commit");
        }
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-venv");
        let exe = venv.join("bin").join("pre-commit");
        if !exe.exists() {
            let st = Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(&venv)
                .status()
                .expect("python3");
            assert!(st.success(), "python3 -m venv failed");
            let st = Command::new(venv.join("bin").join("pip"))
                .args(["install", "--quiet", "pre-commit"])
                .status()
                .expect("pip");
            assert!(st.success(), "pip install pre-commit failed");
        }
        exe
    })
}

fn repo_root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

/// A git repository in a temp dir with an identity set through the environment.
fn git_repo() -> Tree {
    let t = Tree::new();
    t.git_init();
    t
}

fn git(t: &Tree, args: &[&str]) {
    let out = identity(Command::new("git").args(args).current_dir(t.path()))
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

fn identity(c: &mut Command) -> &mut Command {
    c.env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
}

/// `pre-commit try-repo <this repo> <hook> [extra]` in `t`, with our binary first on PATH.
fn try_repo(t: &Tree, hook: &str, extra: &[&str]) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_leadey-scan"))
        .parent()
        .expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut c = Command::new(pre_commit());
    identity(&mut c)
        .args(["try-repo", repo_root(), hook])
        .args(extra)
        .current_dir(t.path())
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", tmp.join("pre-commit-home"))
        // The rust hook builds leadey-scan with `cargo install`; keep its build products so a
        // second run only rebuilds this crate.
        .env("CARGO_TARGET_DIR", tmp.join("pre-commit-cargo-target"))
        // The hook's mechanics are under test, not its speed: build it like a debug build.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env_remove("NO_COLOR");
    c.output().expect("run pre-commit")
}

fn all_output(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

#[test]
fn rust_hook_builds_from_this_repository_and_blocks_a_staged_key() {
    let t = git_repo();
    let key = fake_key(101);
    t.write("config.py", format!("KEY = \"{key}\"\n"));
    git(&t, &["add", "config.py"]);
    let out = try_repo(&t, "leadey-scan", &[]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("config.py:1:8: leadey-api-key: {}", masked(&key))),
        "{text}"
    );
    assert!(!text.contains(&key[15..]), "full key shown:\n{text}");
}

#[test]
fn system_hook_passes_clean_commits_and_finds_committed_and_ignored_keys() {
    let t = git_repo();
    t.write("clean.txt", "nothing to see\n");
    git(&t, &["add", "clean.txt"]);
    let out = try_repo(&t, "leadey-scan-system", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    git(&t, &["commit", "-q", "--no-verify", "-m", "clean"]);

    // A key committed earlier (bypassing hooks) is found by --all-files.
    let key = fake_key(102);
    t.write("old/settings.env", format!("LEADEY={key}\n"));
    git(&t, &["add", "old/settings.env"]);
    git(&t, &["commit", "-q", "--no-verify", "-m", "oops"]);
    let out = try_repo(&t, "leadey-scan-system", &["--all-files"]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "old/settings.env:1:8: leadey-api-key: {}",
            masked(&key)
        )),
        "{text}"
    );
    assert!(text.contains("help[leadey-api-key]: Revoke"), "{text}");
    assert!(!text.contains(&key[15..]), "full key shown:\n{text}");

    // A file named by the framework is scanned even when .gitignore would leave it out.
    let key2 = fake_key(103);
    t.write(".gitignore", "local.env\n");
    t.write("local.env", format!("{key2}\n"));
    let out = try_repo(&t, "leadey-scan-system", &["--files", "local.env"]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&masked(&key2)), "{text}");
}

#[test]
fn short_format_is_one_line_per_finding_and_one_help_line() {
    let t = Tree::new();
    let (a, b) = (fake_key(1), fake_key(2));
    t.write("a.txt", format!("{a}\n{b}\n"));
    let out = run(t.cmd().args(["a.txt", "--format", "short"]));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0],
        format!("a.txt:1:1: leadey-api-key: {} (Leadey API key)", masked(&a))
    );
    assert_eq!(
        lines[1],
        format!("a.txt:2:1: leadey-api-key: {} (Leadey API key)", masked(&b))
    );
    assert!(lines[2].starts_with("help[leadey-api-key]: "));
}

/// A repository holding only this repository's `.pre-commit-hooks.yaml`, committed: what a
/// `.pre-commit-config.yaml` names with `repo:` and `rev:`, as users name ours. Returns it and
/// its commit.
fn hook_repo() -> (Tree, String) {
    let h = git_repo();
    std::fs::copy(
        Path::new(repo_root()).join(".pre-commit-hooks.yaml"),
        h.join(".pre-commit-hooks.yaml"),
    )
    .expect("copy .pre-commit-hooks.yaml");
    git(&h, &["add", "."]);
    git(&h, &["commit", "-q", "-m", "hooks"]);
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(h.path())
        .output()
        .expect("git rev-parse");
    (h, stdout(&out).trim().to_string())
}

/// `git commit -m msg` in `t` through the hook `pre-commit install` wrote, with our binary
/// first on PATH.
fn commit_through_framework(t: &Tree, msg: &str) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_leadey-scan"))
        .parent()
        .expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    identity(&mut Command::new("git"))
        .args(["commit", "-q", "-m", msg])
        .current_dir(t.path())
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", tmp.join("pre-commit-home"))
        .env_remove("NO_COLOR")
        .output()
        .expect("git commit")
}

/// #20: a repository with `moved.env`'s key accepted (by `accept`, which may write files and
/// returns extra hook args), the system hook installed with the real framework; then a
/// `git mv` of the file commits, and a copy of the key into a new file is blocked.
fn mv_passes_and_copy_blocks(accept: impl Fn(&Tree) -> Vec<String>) {
    let t = git_repo();
    let key = fake_key(2101);
    t.write("conf/a.env", format!("K={key}\n"));
    git(&t, &["add", "."]);
    git(&t, &["commit", "-q", "--no-verify", "-m", "accepted key"]);
    let args = accept(&t);
    let (_hooks, rev) = hook_repo();
    let args: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
    t.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n- repo: {}\n  rev: {rev}\n  hooks:\n  - id: leadey-scan-system\n    args: [{}]\n",
            _hooks.path().display(),
            args.join(", ")
        ),
    );
    git(&t, &["add", "."]);
    git(&t, &["commit", "-q", "--no-verify", "-m", "hook config"]);
    let out = Command::new(pre_commit())
        .arg("install")
        .current_dir(t.path())
        .env(
            "PRE_COMMIT_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-home"),
        )
        .output()
        .expect("pre-commit install");
    assert!(out.status.success(), "{}", all_output(&out));

    // Before #20 the framework scanned moved/a.env whole: a new path, a new fingerprint, blocked.
    git(&t, &["mv", "conf", "moved"]);
    let out = commit_through_framework(&t, "move");
    assert_eq!(
        out.status.code(),
        Some(0),
        "git mv blocked:\n{}",
        all_output(&out)
    );

    t.write("copy.env", format!("K={key}\n"));
    git(&t, &["add", "copy.env"]);
    let out = commit_through_framework(&t, "copy");
    let text = all_output(&out);
    assert_ne!(out.status.code(), Some(0), "copy committed:\n{text}");
    assert!(
        text.contains(&format!("copy.env:1:3: leadey-api-key: {}", masked(&key))),
        "{text}"
    );
    assert!(!text.contains("moved/a.env:"), "{text}");
    assert!(!text.contains(&key[15..]), "full key shown:\n{text}");
}

#[test]
fn git_mv_of_a_baselined_key_commits_and_a_copy_is_blocked() {
    mv_passes_and_copy_blocks(|t| {
        let out = run(t
            .cmd()
            .args([".", "--write-baseline", "leadey-baseline.json"]));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        git(t, &["add", "leadey-baseline.json"]);
        git(t, &["commit", "-q", "--no-verify", "-m", "baseline"]);
        ["--format", "short", "--baseline", "leadey-baseline.json"]
            .map(String::from)
            .to_vec()
    });
}

#[test]
fn git_mv_of_an_allow_listed_key_commits_and_a_copy_is_blocked() {
    mv_passes_and_copy_blocks(|t| {
        let out = run(t.cmd().args([".", "--format", "json", "--no-timing"]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
        let fp = v["findings"][0]["fingerprint"]
            .as_str()
            .expect("fingerprint");
        t.write(
            ".leadey-scan.toml",
            format!("[allow]\nfingerprints = [\"{fp}\"]\n"),
        );
        git(t, &["add", ".leadey-scan.toml"]);
        git(t, &["commit", "-q", "--no-verify", "-m", "accept"]);
        ["--format", "short"].map(String::from).to_vec()
    });
}

/// `--pre-commit` scans a named file without a staged change whole (`pre-commit run
/// --all-files` in CI), and a staged file only where the change adds lines.
#[test]
fn pre_commit_mode_scans_unchanged_files_whole_and_changed_files_by_added_lines() {
    let t = git_repo();
    let (old, new) = (fake_key(2201), fake_key(2202));
    t.write("old.env", format!("K={old}\n"))
        .write("edit.env", format!("A={old}\n"));
    git(&t, &["add", "."]);
    git(&t, &["commit", "-q", "--no-verify", "-m", "old keys"]);
    t.write("edit.env", format!("A={old}\nB={new}\n"));
    git(&t, &["add", "edit.env"]);
    let out = run(t
        .cmd()
        .args(["--pre-commit", "--format", "short", "old.env", "edit.env"]));
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("help")).collect();
    assert_eq!(
        lines,
        [
            format!(
                "edit.env:2:3: leadey-api-key: {} (Leadey API key)",
                masked(&new)
            ),
            format!(
                "old.env:1:3: leadey-api-key: {} (Leadey API key)",
                masked(&old)
            ),
        ]
    );
}

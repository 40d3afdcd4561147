//! The pre-commit framework hooks in `.pre-commit-hooks.yaml`, run with the real `pre-commit`
//! tool as its users run them (`pre-commit try-repo`). If `pre-commit` is not on PATH, the test
//! installs it from PyPI into a venv under the target directory.

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

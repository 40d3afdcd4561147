//! Git hooks. `leadey-scan --install-hook`: writes a plain git `pre-commit` hook that runs
//! `leadey-scan --staged`, for users without the pre-commit framework. Never overwrites an
//! existing hook unless asked. `--pre-commit` (#20), the pre-commit framework's mode: which
//! files the index changes, and the rule that keeps, in those files, only the keys the staged
//! change adds. Never scans and never prints: `main.rs` runs the scans.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::finding::Finding;
use crate::report::Report;

/// Marks hooks written by us, so that re-installing over our own hook needs no `--force`.
pub const HOOK_MARKER: &str = "# Installed by `leadey-scan --install-hook`";

/// The part of `HOOK_MARKER` that every version of it has.
const HOOK_MARKER_STEM: &str = "# Installed by `leadey-scan ";

/// Why the hook could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Not inside a git work tree.
    #[error("{0} is not inside a git repository (run `git init` first)")]
    NotARepository(String),
    /// Another hook is there.
    #[error("{0} already exists and was not written by leadey-scan; use --force to replace it (or call `leadey-scan --staged` from it)")]
    Exists(String),
    /// `git` could not say what is staged.
    #[error("cannot list the staged files with git: {0}")]
    Staged(String),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The hook path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The hook script; `exe` is the binary to prefer (falls back to `leadey-scan` on PATH).
pub fn hook_script(exe: &Path) -> String {
    let exe = exe.display().to_string().replace('\'', "'\\''");
    format!(
        "#!/bin/sh\n{HOOK_MARKER}: blocks commits that add a Leadey API key.\n\
         # Scans what the commit adds (the index), not the working tree. Bypass once: git commit --no-verify\n\
         LEADEY_SCAN='{exe}'\n\
         [ -x \"$LEADEY_SCAN\" ] || LEADEY_SCAN=leadey-scan\n\
         exec \"$LEADEY_SCAN\" --staged --format short --quiet\n"
    )
}

/// Where git looks for the pre-commit hook of the repository at `dir` (honours
/// `core.hooksPath` and worktrees).
pub fn hook_path(dir: &Path) -> Result<PathBuf, HookError> {
    let out = Command::new("git")
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "hooks/pre-commit",
        ])
        .current_dir(dir)
        .output()
        .map_err(|_| HookError::NotARepository(dir.display().to_string()))?;
    if !out.status.success() {
        return Err(HookError::NotARepository(dir.display().to_string()));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(text))
}

/// Writes the hook for the repository at `dir`; returns its path.
pub fn install_hook(dir: &Path, exe: &Path, force: bool) -> Result<PathBuf, HookError> {
    let path = hook_path(dir)?;
    let write_err = |source| HookError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        // Hooks of earlier builds say `leadey-scan install-hook`: ours too.
        if !force && !existing.contains(HOOK_MARKER_STEM) {
            return Err(HookError::Exists(path.display().to_string()));
        }
    } else if path.exists() && !force {
        return Err(HookError::Exists(path.display().to_string()));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(write_err)?;
    }
    std::fs::write(&path, hook_script(exe)).map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(write_err)?;
    }
    Ok(path)
}

/// What the index of the repository around the current directory changes (#20).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedFiles {
    /// Repository paths (`/`-separated) whose staged content differs from `HEAD`'s: added,
    /// modified, type-changed, and the new side of a rename or copy.
    pub changed: BTreeSet<String>,
    /// The current directory below the repository top (`git rev-parse --show-prefix`: empty at
    /// the top, else ending in `/`).
    pub prefix: String,
}

impl StagedFiles {
    /// Asks `git` in the current directory (the index `GIT_INDEX_FILE` names when set, as in a
    /// hook of `git commit -a`). An unborn branch compares with the empty tree.
    pub fn from_git() -> Result<StagedFiles, HookError> {
        let git = |args: &[&str]| -> Result<Vec<u8>, HookError> {
            let out = Command::new("git")
                .args(args)
                .output()
                .map_err(|e| HookError::Staged(e.to_string()))?;
            if !out.status.success() {
                return Err(HookError::Staged(
                    String::from_utf8_lossy(&out.stderr).trim().to_string(),
                ));
            }
            Ok(out.stdout)
        };
        let prefix = String::from_utf8_lossy(&git(&["rev-parse", "--show-prefix"])?)
            .trim_end_matches(['\n', '\r'])
            .to_string();
        let names = git(&[
            "-c",
            "core.quotePath=false",
            "diff",
            "--cached",
            "--name-only",
            "--no-renames",
            "--diff-filter=AMT",
            "-z",
        ])?;
        let changed = names
            .split(|b| *b == 0)
            .filter(|n| !n.is_empty())
            .map(crate::origin::display_bytes)
            .collect();
        Ok(StagedFiles { changed, prefix })
    }

    /// The repository path of `display`, a path as a scan of the current directory shows it;
    /// `None` for one that leaves the repository or is absolute.
    fn repository_path(&self, display: &str) -> Option<String> {
        if display.starts_with('/') || Path::new(display).is_absolute() {
            return None;
        }
        let mut parts: Vec<&str> = self.prefix.split('/').filter(|p| !p.is_empty()).collect();
        for part in display.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                p => parts.push(p),
            }
        }
        Some(parts.join("/"))
    }
}

/// `--pre-commit` (#20): keeps, among the findings of `report` (a scan of whole files named by
/// the framework, from the current directory) those in files without a staged change, and in
/// files with one only those that `staged` (the `--staged` scan of the same repository) also
/// reports: the keys on lines the change adds. A `git mv` adds no line, so a baselined or
/// accepted key that moves with its file does not block the commit; a copy into a new file adds
/// every line and still does. A finding whose path cannot be mapped is kept.
pub fn keep_staged_lines(report: &mut Report, staged: &Report, files: &StagedFiles) {
    let key = |path: &str, f: &Finding| {
        (
            path.to_string(),
            f.origin.members.clone(),
            f.location.line,
            f.location.column,
            f.rule_id.clone(),
        )
    };
    let added: HashSet<_> = staged
        .findings
        .iter()
        .map(|f| key(f.origin.outer_relative(), f))
        .collect();
    report.findings.retain(|f| {
        let Some(path) = files.repository_path(f.origin.outer_display()) else {
            return true;
        };
        !files.changed.contains(&path) || added.contains(&key(&path, f))
    });
    report.warnings.extend(staged.warnings.iter().cloned());
    report.stats.findings = report.findings.len() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_of_an_earlier_build_is_replaced_and_a_foreign_one_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ok = Command::new("git")
            .args(["init", "-q"])
            .current_dir(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "git init");
        let hook = hook_path(dir.path()).expect("hook path");
        std::fs::create_dir_all(hook.parent().expect("hooks folder")).expect("hooks folder");
        let exe = Path::new("/usr/bin/leadey-scan");
        std::fs::write(
            &hook,
            "#!/bin/sh\n# Installed by `leadey-scan install-hook`: old\n",
        )
        .expect("old hook");
        install_hook(dir.path(), exe, false).expect("an old hook of ours is replaced");
        assert!(std::fs::read_to_string(&hook)
            .expect("hook")
            .contains(HOOK_MARKER));
        std::fs::write(&hook, "#!/bin/sh\nexit 0\n").expect("foreign hook");
        assert!(matches!(
            install_hook(dir.path(), exe, false),
            Err(HookError::Exists(_))
        ));
    }

    #[test]
    fn displayed_paths_map_to_repository_paths() {
        let at = |prefix: &str| StagedFiles {
            changed: BTreeSet::new(),
            prefix: prefix.into(),
        };
        assert_eq!(
            at("").repository_path("a/b.env").as_deref(),
            Some("a/b.env")
        );
        assert_eq!(
            at("src/").repository_path("b.env").as_deref(),
            Some("src/b.env")
        );
        assert_eq!(
            at("src/app/").repository_path("../x/./b.env").as_deref(),
            Some("src/x/b.env")
        );
        assert_eq!(at("").repository_path("../b.env"), None);
        assert_eq!(at("").repository_path("/etc/b.env"), None);
    }

    #[test]
    fn script_runs_staged_scan_and_quotes_the_path() {
        let s = hook_script(Path::new("/opt/it's/leadey-scan"));
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains(HOOK_MARKER));
        assert!(s.contains("LEADEY_SCAN='/opt/it'\\''s/leadey-scan'"));
        assert!(s.contains("--staged --format short --quiet"));
    }
}

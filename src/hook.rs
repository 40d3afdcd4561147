//! `leadey-scan --install-hook`: writes a plain git `pre-commit` hook that runs
//! `leadey-scan --staged`, for users without the pre-commit framework. Never overwrites an
//! existing hook unless asked.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Marks hooks written by us, so that re-installing over our own hook needs no `--force`.
pub const HOOK_MARKER: &str = "# Installed by `leadey-scan --install-hook`";

/// Why the hook could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Not inside a git work tree.
    #[error("{0} is not inside a git repository (run `git init` first)")]
    NotARepository(String),
    /// Another hook is there.
    #[error("{0} already exists and was not written by leadey-scan; use --force to replace it (or call `leadey-scan --staged` from it)")]
    Exists(String),
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
        if !force && !existing.contains(HOOK_MARKER) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_runs_staged_scan_and_quotes_the_path() {
        let s = hook_script(Path::new("/opt/it's/leadey-scan"));
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains(HOOK_MARKER));
        assert!(s.contains("LEADEY_SCAN='/opt/it'\\''s/leadey-scan'"));
        assert!(s.contains("--staged --format short --quiet"));
    }
}

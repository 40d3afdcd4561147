//! The repository as a push hook sees it (#21): the objects git keeps outside the object
//! directory while a hook runs, which pushed values are commits, what a remote already has and
//! the server's `leadey-scan.*` settings. Never prints, never scans: the push orchestration
//! (`crate::push`) chooses the commits and the git scopes scan them.
//!
//! During `pre-receive` git writes the pushed objects to a quarantine directory and tells the
//! hook through `GIT_OBJECT_DIRECTORY` (the quarantine, also in `GIT_QUARANTINE_PATH`) and
//! `GIT_ALTERNATE_OBJECT_DIRECTORIES` (the repository's own `objects`). gix 0.73 reads neither
//! variable: it follows only `objects/info/alternates`. So when either is set, the scan reads
//! through an *object view*: a temporary directory whose `info/alternates` lists the directories
//! git names, which gix then follows (and their own alternates, as forks borrow from a pool).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use gix::ObjectId;

use super::GitError;

/// A temporary object directory that borrows from the directories git's environment names;
/// removed when dropped.
#[derive(Debug)]
pub struct ObjectView {
    dir: PathBuf,
}

impl ObjectView {
    /// The view's object directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for ObjectView {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Ok(mut live) = LIVE_VIEWS.lock() {
            live.1.retain(|d| d != &self.dir);
        }
    }
}

/// The views not dropped yet, so that a hook that stops waiting for its scan (`--timeout`)
/// can remove them before the process ends; and whether it did (no view is made after).
static LIVE_VIEWS: std::sync::Mutex<(bool, Vec<PathBuf>)> =
    std::sync::Mutex::new((false, Vec::new()));

/// Removes the temporary directory of every object view still alive, and refuses new ones.
/// For a process about to exit while a scan thread still runs; that scan fails from then on.
pub fn remove_object_views() {
    if let Ok(mut live) = LIVE_VIEWS.lock() {
        live.0 = true;
        for dir in live.1.drain(..) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The object directories git's environment adds or substitutes, in lookup order: the object
/// directory (`GIT_OBJECT_DIRECTORY`, else `own`), then each alternate of
/// `GIT_ALTERNATE_OBJECT_DIRECTORIES`. `None` when neither variable is set. Relative paths are
/// taken from `cwd`, as git does.
pub fn object_dirs_from_env(
    var: impl Fn(&str) -> Option<OsString>,
    own: &Path,
    cwd: &Path,
) -> Option<Vec<PathBuf>> {
    let objects = var("GIT_OBJECT_DIRECTORY").filter(|v| !v.is_empty());
    let alternates = var("GIT_ALTERNATE_OBJECT_DIRECTORIES").filter(|v| !v.is_empty());
    if objects.is_none() && alternates.is_none() {
        return None;
    }
    let mut dirs = vec![objects.map_or_else(|| own.to_path_buf(), PathBuf::from)];
    if let Some(list) = alternates {
        dirs.extend(split_alternates(&list));
    }
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let dir = if dir.is_absolute() {
            dir
        } else {
            cwd.join(dir)
        };
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    Some(out)
}

/// Splits `GIT_ALTERNATE_OBJECT_DIRECTORIES` as git does: on `:` (`;` on Windows); an entry that
/// starts with `"` is C-quoted (`\"`, `\\`, `\n`, `\t`) and may hold the separator.
fn split_alternates(list: &OsStr) -> Vec<PathBuf> {
    let sep = if cfg!(windows) { ';' } else { ':' };
    let text = list.to_string_lossy();
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let mut entry = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => entry.push('\n'),
                        Some('t') => entry.push('\t'),
                        Some(other) => entry.push(other),
                        None => {}
                    },
                    c => entry.push(c),
                }
            }
            // Whatever follows the closing quote up to the separator is dropped, as git does.
            for c in chars.by_ref() {
                if c == sep {
                    break;
                }
            }
        } else {
            for c in chars.by_ref() {
                if c == sep {
                    break;
                }
                entry.push(c);
            }
        }
        if !entry.is_empty() {
            out.push(PathBuf::from(entry));
        }
    }
    out
}

/// The quarantine directory of a push during its pre-receive hook (`GIT_QUARANTINE_PATH`, an
/// absolute path git sets only then): it holds exactly the objects the push brings.
pub(super) fn quarantine() -> Option<PathBuf> {
    std::env::var_os("GIT_QUARANTINE_PATH")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
}

/// Replaces the object store of `repo` with an object view when git's environment names other
/// object directories (a hook during a push); otherwise returns `repo` as it is. Keep the view
/// alive as long as `repo` reads objects.
pub(super) fn with_object_env(
    mut repo: gix::ThreadSafeRepository,
) -> Result<(gix::ThreadSafeRepository, Option<ObjectView>), GitError> {
    let cwd = std::env::current_dir().map_err(|e| GitError::read("the current directory", e))?;
    let own = repo.objects.path().to_path_buf();
    let Some(dirs) = object_dirs_from_env(|k| std::env::var_os(k), &own, &cwd) else {
        return Ok((repo, None));
    };
    let view = make_view(&dirs).map_err(|e| GitError::read("the pushed objects", e))?;
    let hash = repo.objects.object_hash();
    let store = gix::odb::Store::at_opts(
        view.dir.clone(),
        &mut std::iter::empty(),
        gix::odb::store::init::Options {
            object_hash: hash,
            current_dir: Some(cwd),
            ..Default::default()
        },
    )
    .map_err(|e| GitError::read("the pushed objects", e))?;
    repo.objects = std::sync::Arc::new(store);
    Ok((repo, Some(view)))
}

/// Writes a temporary object directory whose alternates are `dirs`.
fn make_view(dirs: &[PathBuf]) -> std::io::Result<ObjectView> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "leadey-scan-objects-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    {
        let mut live = LIVE_VIEWS
            .lock()
            .map_err(|_| std::io::Error::other("object views poisoned"))?;
        if live.0 {
            return Err(std::io::Error::other("the hook has decided already"));
        }
        std::fs::create_dir_all(dir.join("info"))?;
        live.1.push(dir.clone());
    }
    let view = ObjectView { dir };
    let mut list = String::new();
    for d in dirs {
        let text = d.to_string_lossy();
        // One path a line; git's quoting for the rare path with a newline or a leading quote.
        if text.contains(['\n', '"']) || text.starts_with('#') {
            list.push('"');
            for c in text.chars() {
                match c {
                    '\n' => list.push_str("\\n"),
                    '"' | '\\' => {
                        list.push('\\');
                        list.push(c);
                    }
                    c => list.push(c),
                }
            }
            list.push('"');
        } else {
            list.push_str(&text);
        }
        list.push('\n');
    }
    std::fs::write(view.dir.join("info").join("alternates"), list)?;
    Ok(view)
}

/// A repository opened for a push hook: the object view (when git's environment asks for one)
/// lives as long as the repository.
pub struct HookRepo {
    repo: gix::Repository,
    _view: Option<ObjectView>,
}

impl HookRepo {
    /// Opens the repository `GIT_DIR` or the current directory names, as git does in a hook.
    pub fn open(dir: &Path) -> Result<HookRepo, GitError> {
        let repo =
            gix::ThreadSafeRepository::discover_with_environment_overrides(dir).map_err(|e| {
                GitError::NotARepository {
                    path: crate::origin::display_path(dir),
                    message: e.to_string(),
                }
            })?;
        let (repo, view) = with_object_env(repo)?;
        Ok(HookRepo {
            repo: repo.to_thread_local(),
            _view: view,
        })
    }

    /// What `id` (full hex) is: `Some(true)` for a commit or a tag that peels to one,
    /// `Some(false)` for another object (a tag of a tree or blob), `None` when the repository
    /// does not hold it.
    pub fn is_commitish(&self, id: &str) -> Option<bool> {
        let id = ObjectId::from_hex(id.as_bytes()).ok()?;
        let object = self.repo.find_object(id).ok()?;
        Some(object.peel_to_commit().is_ok())
    }

    /// The distinct commits the remote-tracking refs of `remote` (`refs/remotes/<remote>/…`)
    /// point at: what the client knows the remote has.
    pub fn remote_tracking_commits(&self, remote: &str) -> Vec<String> {
        let prefix = format!("refs/remotes/{remote}/");
        let mut out: Vec<String> = Vec::new();
        let Ok(platform) = self.repo.references() else {
            return out;
        };
        let Ok(refs) = platform.prefixed(prefix.as_str()) else {
            return out;
        };
        for mut r in refs.flatten() {
            if let Ok(id) = r.peel_to_id_in_place() {
                let hex = id.to_string();
                if self.is_commitish(&hex) == Some(true) && !out.contains(&hex) {
                    out.push(hex);
                }
            }
        }
        out
    }

    /// The repository's `key` setting read as a boolean (`git config --bool`); `None` when
    /// unset or not a boolean.
    pub fn config_bool(&self, key: &str) -> Option<bool> {
        self.repo.config_snapshot().boolean(key)
    }

    /// The repository's `key` setting as a path, `None` when unset.
    pub fn config_path(&self, key: &str) -> Option<PathBuf> {
        let snapshot = self.repo.config_snapshot();
        let value = snapshot.string(key)?;
        gix::path::try_from_bstr(value.as_ref())
            .ok()
            .map(|p| p.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn no_object_variables_means_no_view() {
        let dirs = object_dirs_from_env(env(&[]), Path::new("/r/objects"), Path::new("/r"));
        assert_eq!(dirs, None);
    }

    #[test]
    fn quarantine_comes_first_then_the_alternates_relative_to_the_hook_directory() {
        let dirs = object_dirs_from_env(
            env(&[
                ("GIT_OBJECT_DIRECTORY", "/r/objects/incoming-ab12"),
                ("GIT_ALTERNATE_OBJECT_DIRECTORIES", "/r/objects:./pool"),
            ]),
            Path::new("/r/objects"),
            Path::new("/r"),
        );
        assert_eq!(
            dirs,
            Some(vec![
                PathBuf::from("/r/objects/incoming-ab12"),
                PathBuf::from("/r/objects"),
                PathBuf::from("/r/./pool"),
            ])
        );
    }

    #[test]
    fn alternates_alone_keep_the_repository_objects_first() {
        let dirs = object_dirs_from_env(
            env(&[("GIT_ALTERNATE_OBJECT_DIRECTORIES", "/pool/objects")]),
            Path::new("/r/objects"),
            Path::new("/r"),
        );
        assert_eq!(
            dirs,
            Some(vec![
                PathBuf::from("/r/objects"),
                PathBuf::from("/pool/objects")
            ])
        );
    }

    #[cfg(unix)]
    #[test]
    fn quoted_alternates_may_hold_the_separator() {
        let got = split_alternates(OsStr::new("\"/a:b\\\"c\":/d::/e"));
        assert_eq!(
            got,
            vec![
                PathBuf::from("/a:b\"c"),
                PathBuf::from("/d"),
                PathBuf::from("/e")
            ]
        );
    }

    #[test]
    fn a_view_lists_each_directory_and_is_removed_when_dropped() {
        let view = make_view(&[PathBuf::from("/q"), PathBuf::from("/r/objects")]).unwrap();
        let path = view.path().to_path_buf();
        let list = std::fs::read_to_string(path.join("info/alternates")).unwrap();
        assert_eq!(list, "/q\n/r/objects\n");
        drop(view);
        assert!(!path.exists());
    }
}

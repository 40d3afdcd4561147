//! What the ignore rules (`.gitignore`, `.ignore`, git's exclude files) leave out of a tree
//! scan (#20): the top-level ignored paths, found without walking into them, and the named
//! paths under which every file was left out. Never prints, never reads file contents.
//!
//! The `ignore` walker never yields an ignored entry, so this module compares: each directory
//! the walk descends into is listed once (`read_dir`, names only, in the walker's own thread,
//! while the directory is warm in the cache) and every entry the walker yields is noted under
//! its parent. A listed name that was never yielded is a path the ignore rules left out; its
//! subtree is never read. Nothing is recorded when the ignore rules are off.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use crate::origin::Origin;
use crate::source::FileError;

/// A path the ignore rules left out of a tree scan; a folder's contents are not listed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Ignored {
    /// Display path (`Origin::display`), with a trailing `/` for a folder.
    pub path: String,
    /// Where, structured.
    pub origin: Origin,
    /// Whether it is a folder (whose contents were not walked).
    pub dir: bool,
}

/// What one directory showed: the names `read_dir` listed (when it was descended into) and the
/// names the walker yielded, with how many of those were not folders.
#[derive(Debug, Default)]
struct Dir {
    listed: Option<Vec<OsString>>,
    seen: Vec<OsString>,
    files: u64,
}

impl Dir {
    fn merge(&mut self, other: Dir) {
        if self.listed.is_none() {
            self.listed = other.listed;
        }
        self.seen.extend(other.seen);
        self.files += other.files;
    }
}

type Dirs = HashMap<PathBuf, Dir>;

/// The accumulator shared by the walker's threads; each thread records into its own
/// [`Recorder`], merged here when the recorder is dropped.
#[derive(Debug, Default)]
pub struct Shared {
    enabled: bool,
    dirs: Mutex<Dirs>,
}

impl Shared {
    /// An accumulator that records only when `enabled` (the ignore rules are on).
    pub fn new(enabled: bool) -> Shared {
        Shared {
            enabled,
            dirs: Mutex::default(),
        }
    }

    /// A recorder for one walker thread.
    pub fn recorder(&self) -> Recorder<'_> {
        Recorder {
            shared: self,
            local: HashMap::new(),
        }
    }

    /// The ignored paths under `roots` (sorted, each named by `origin`), and one error per
    /// named folder under which every file was left out: that is no pass, it read nothing.
    pub fn finish(
        self,
        roots: &[PathBuf],
        origin: impl Fn(&Path) -> Origin,
    ) -> (Vec<Ignored>, Vec<FileError>) {
        if !self.enabled {
            return (Vec::new(), Vec::new());
        }
        let dirs = self.dirs.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut ignored: Vec<(PathBuf, bool)> = Vec::new();
        for (dir, d) in &dirs {
            let Some(listed) = &d.listed else { continue };
            let seen: HashSet<&OsString> = d.seen.iter().collect();
            for name in listed.iter().filter(|n| !seen.contains(n)) {
                let path = dir.join(name);
                let is_dir = path.symlink_metadata().is_ok_and(|m| m.is_dir());
                ignored.push((path, is_dir));
            }
        }
        let mut errors = Vec::new();
        for root in roots.iter().filter(|r| r.is_dir()) {
            let under: Vec<&PathBuf> = ignored
                .iter()
                .map(|(p, _)| p)
                .filter(|p| p.starts_with(root))
                .collect();
            let files: u64 = dirs
                .iter()
                .filter(|(dir, _)| dir.starts_with(root))
                .map(|(_, d)| d.files)
                .sum();
            if files == 0 && !under.is_empty() {
                errors.push(FileError::new(
                    Some(origin(root)),
                    every_file_ignored(under.len()),
                ));
            }
        }
        let listed: BTreeSet<Ignored> = ignored
            .into_iter()
            .map(|(path, dir)| {
                let origin = origin(&path);
                let mut display = origin.display();
                if dir {
                    display.push('/');
                }
                Ignored {
                    path: display,
                    origin,
                    dir,
                }
            })
            .collect();
        (listed.into_iter().collect(), errors)
    }
}

/// The error for a named folder whose every file the ignore rules left out.
///
/// ```
/// let text = leadey_scan::ignored::every_file_ignored(2);
/// assert!(text.starts_with("every file under it is left out by the ignore rules"));
/// assert!(text.contains("--no-ignore") && text.contains("--release"));
/// ```
pub fn every_file_ignored(paths: usize) -> String {
    format!(
        "every file under it is left out by the ignore rules (.gitignore, .ignore, git's \
         exclude file: {paths} ignored {}), so nothing was scanned; scan it with --no-ignore, \
         or --release for build output",
        if paths == 1 { "path" } else { "paths" }
    )
}

/// One walker thread's notes; merged into its [`Shared`] when dropped.
#[derive(Debug)]
pub struct Recorder<'s> {
    shared: &'s Shared,
    local: Dirs,
}

impl Recorder<'_> {
    /// Notes an entry the walker yielded at `depth` (roots, at depth 0, are not noted).
    pub fn saw(&mut self, path: &Path, depth: usize, is_dir: bool) {
        if !self.shared.enabled || depth == 0 {
            return;
        }
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return;
        };
        let d = self.dir(parent);
        d.seen.push(name.to_os_string());
        d.files += u64::from(!is_dir);
    }

    /// Notes that the walker descends into folder `path`: lists its names once.
    pub fn descend(&mut self, path: &Path) {
        if !self.shared.enabled {
            return;
        }
        // An unreadable folder is the walker's error to report; nothing is counted for it.
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        let names = entries.filter_map(|e| e.ok().map(|e| e.file_name()));
        self.dir(path).listed = Some(names.collect());
    }

    fn dir(&mut self, path: &Path) -> &mut Dir {
        // Look up before inserting: most entries share a parent already seen.
        if !self.local.contains_key(path) {
            self.local.insert(path.to_path_buf(), Dir::default());
        }
        self.local
            .get_mut(path)
            .expect("the entry was inserted just above")
    }
}

impl Drop for Recorder<'_> {
    fn drop(&mut self) {
        if self.local.is_empty() {
            return;
        }
        let mut dirs = self.shared.dirs.lock().unwrap_or_else(|e| e.into_inner());
        for (path, d) in self.local.drain() {
            dirs.entry(path).or_default().merge(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(p: &Path) -> Origin {
        let s = p.display().to_string();
        Origin::file(s.clone(), s)
    }

    #[test]
    fn listed_names_never_yielded_are_ignored_and_a_root_without_files_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("dist");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("app.tgz"), b"x").unwrap();
        let shared = Shared::new(true);
        {
            let mut r = shared.recorder();
            r.descend(&root);
            r.saw(&root.join("sub"), 1, true);
            r.descend(&root.join("sub"));
        }
        let (ignored, errors) = shared.finish(std::slice::from_ref(&root), origin);
        assert_eq!(ignored.len(), 1);
        assert!(ignored[0].path.ends_with("dist/app.tgz"), "{ignored:?}");
        assert!(!ignored[0].dir);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, every_file_ignored(1));
    }

    #[test]
    fn nothing_is_recorded_when_the_rules_are_off() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"x").unwrap();
        let shared = Shared::new(false);
        shared.recorder().descend(dir.path());
        let (ignored, errors) = shared.finish(&[dir.path().to_path_buf()], origin);
        assert!(ignored.is_empty() && errors.is_empty());
    }
}

//! `--history` (#5): everything ever committed on any ref (or one `--branch`), and what only
//! reflogs still reach. In parts:
//!
//! - `pack`: one pass over the packs (gix's delta-tree traversal: every object inflated once,
//!   on all threads) scans every packed blob and keeps the commits, parsed;
//! - `commits`: the commits in attribution order (parents first, older first; then the commits
//!   only reflogs reach);
//! - `walk`: their trees (read again from the packs, in parallel slices of commits), skipping
//!   every (folder, tree id) already seen, yield each (path, blob) pair once, with the first
//!   commit that had it;
//! - `blobs`: reachable blobs outside the packs (loose objects) are scanned one by one, on the
//!   run's rayon pool; what could not be scanned becomes a skip or an error;
//! - `attribution`: each key is reported once per path, with its first commit and whether
//!   `HEAD` (or the `--branch` tip) still has it, there or at another path.
//!
//! Memory does not grow with the pack (#15): raw trees are kept up to a fixed budget, and the
//! packs' mapped pages are dropped as they are read (`pages`). Threads come from the current
//! rayon pool, which `main` builds once for the run, sized by `--threads` (library callers get
//! rayon's default pool); allocator settings are `main`'s too. Never prints.

mod attribution;
mod blobs;
mod commits;
mod pack;
mod pages;
mod walk;

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;

use gix::bstr::{BString, ByteSlice};
use gix::ObjectId;

use super::{
    display_path_of, is_partial_clone, partial_clone_warning, shallow_commits, shallow_warning,
    Ctx, GitError, Outcome, ProgressFn, Throttle,
};
use crate::source::{FileError, Skip, SkipReason};
use commits::{CommitGraph, Tips};
use pages::Pages;

pub(super) use blobs::Scanned;

/// Scans the history reachable from every ref, or from `branch` only.
pub(super) fn run(
    ctx: &Ctx<'_>,
    branch: Option<&str>,
    progress: ProgressFn<'_>,
) -> Result<Outcome, GitError> {
    let repo = ctx.repo.to_thread_local();
    let shallow = shallow_commits(&repo)?;
    let mut out = Outcome::default();
    if !shallow.is_empty() {
        out.warnings.push(shallow_warning());
    }
    let tips = Tips::read(&repo, branch)?;
    let throttle = Throttle::new(progress);
    let mut background = Background::default();
    let pack::PackPass {
        packs,
        trees,
        mut commits,
        scanned,
    } = pack::pass(ctx, &repo, &shallow, &throttle);
    let graph = CommitGraph::read(&repo, &tips, &shallow, &mut commits, &throttle, &mut out)?;
    background.drop(commits);
    let pages: Vec<Pages<'_>> = packs.iter().map(|b| Pages::of(&b.pack)).collect();
    let intro = walk::introduce(ctx, &graph, &packs, &pages, &trees)?;
    background.drop(trees);
    drop(pages);
    drop(packs);
    out.skipped.extend(intro.excluded.iter().map(|&pid| {
        Skip::new(
            ctx.origin(&intro.display(ctx, pid), None),
            SkipReason::Excluded,
        )
    }));
    let mut scanned = blobs::scan_unpacked(ctx, &intro, scanned, &throttle);
    if scanned.missing > 0 && is_partial_clone(&repo) {
        out.warnings.push(partial_clone_warning(scanned.missing));
    }
    out.merge(std::mem::take(&mut scanned.counted));
    blobs::report_unscanned(ctx, &intro, &scanned, &mut out);
    attribution::report_findings(
        ctx, &repo, &tips, &graph, &shallow, &intro, &scanned, &mut out,
    )?;
    background.finish(&mut out);
    Ok(out)
}

/// #21: the blobs of the packs in object directory `objects` (the packs a push brings, in its
/// quarantine), each inflated once by the pack pass and scanned on all threads. A push's
/// commit-by-commit comparison then takes their scans from here instead of reading each blob
/// by id, which inflates the same delta chains again and again (most of a large push's time).
/// Blobs the pass could not read are not in `done`: the caller reads those itself.
pub(super) fn scan_packs_in(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    objects: &std::path::Path,
    shallow: &[ObjectId],
) -> Scanned {
    let quiet = |_: &super::Progress| {};
    let throttle = Throttle::new(&quiet);
    let pass = pack::pass_over(
        ctx,
        repo,
        pack::pack_indices_in(objects),
        shallow,
        &throttle,
    );
    let mut background = Background::default();
    background.drop(pass.trees);
    background.drop(pass.commits);
    background.drop(pass.packs);
    pass.scanned
}

/// Threads the history uses: those of the current rayon pool.
fn thread_count() -> usize {
    rayon::current_num_threads()
}

/// Large maps (tens of thousands of buffers or nodes) freed on other threads, so that the scan
/// does not wait for them (about 5% of a history scan's wall time). Every thread is joined: by
/// `finish`, which reports one that panicked, or when this is dropped (an early return).
#[derive(Default)]
struct Background {
    drops: Vec<JoinHandle<()>>,
}

impl Background {
    /// Frees `value` on another thread.
    fn drop<T: Send + 'static>(&mut self, value: T) {
        self.drops.push(std::thread::spawn(move || drop(value)));
    }

    /// Waits for the threads; one that panicked is an error of the report.
    fn finish(mut self, out: &mut Outcome) {
        for handle in self.drops.drain(..) {
            if let Err(panic) = handle.join() {
                out.errors
                    .push(FileError::new(None, blobs::stopped(&*panic)));
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for handle in self.drops.drain(..) {
            // An early return already fails the scan; the panic was printed by the hook.
            let _ = catch_unwind(AssertUnwindSafe(|| handle.join()));
        }
    }
}

/// A path where a blob was committed: the first commit (index into the attribution order)
/// that had it there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PathAt {
    path: u32,
    commit: u32,
}

/// The (path, blob) pairs of the history, each with the first commit that had it.
struct Introduced {
    /// Interned repository paths (files and folders); index 0 is the root.
    paths: Vec<BString>,
    /// Distinct blobs, in the order first seen.
    blobs: Vec<ObjectId>,
    /// For each blob in `blobs`: where it was committed, first commit first.
    pairs: Vec<Vec<PathAt>>,
    /// Paths left out by `--exclude`.
    excluded: BTreeSet<u32>,
}

impl Introduced {
    fn display(&self, ctx: &Ctx<'_>, pid: u32) -> String {
        let path = self.paths.get(pid as usize).cloned().unwrap_or_default();
        display_path_of(ctx.detector, path.as_bstr())
    }

    fn pairs_of(&self, blob: usize) -> &[PathAt] {
        self.pairs.get(blob).map(Vec::as_slice).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use crate::config::{GitScope, ScanConfig};

    /// Runs git in `dir` with a pinned identity and no user configuration; returns stdout,
    /// trimmed. For the tests of every part of the history.
    pub(super) fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn history(dir: &Path) -> crate::report::Report {
        let config = ScanConfig {
            paths: vec![dir.to_path_buf()],
            git: Some(GitScope::History { branch: None }),
            ..ScanConfig::default()
        };
        crate::scan::run(&config).expect("the history scan runs")
    }

    /// #23: a blob whose scan panics (a test-only fault, `blobs::tests::FAULT`) is an error of
    /// the report at the blob's path, whichever road read it (loose: the object-by-object scan
    /// on the pool; packed: the pack pass), and the other blobs are still scanned.
    #[test]
    fn a_worker_that_panics_is_an_error_naming_what_it_lost() {
        let dir = tempfile::tempdir().unwrap();
        let key = "leadey_sk_live_u8jzPde0IgxLd6GncfBA";
        git(dir.path(), &["init", "-q"]);
        std::fs::write(dir.path().join("ok.env"), format!("K={key}\n")).unwrap();
        let mut boom = b"x\n".to_vec();
        boom.extend_from_slice(super::blobs::tests::FAULT);
        std::fs::write(dir.path().join("boom.txt"), boom).unwrap();
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "one"]);
        for packed in [false, true] {
            if packed {
                git(dir.path(), &["gc", "-q"]);
            }
            let report = history(dir.path());
            // Repository-relative: shown paths start from the current directory (#20).
            let errors: Vec<(String, &str)> = report
                .errors
                .iter()
                .map(|e| {
                    let origin = e.origin.as_ref().expect("a blob error has an origin");
                    (origin.relative(), e.message.as_str())
                })
                .collect();
            assert_eq!(
                errors,
                [(
                    "boom.txt".to_string(),
                    "internal error: a history worker stopped on this blob: injected test \
                     fault; it was not scanned"
                )],
                "packed: {packed}"
            );
            let found: Vec<String> = report
                .findings
                .iter()
                .map(|f| f.origin.relative())
                .collect();
            assert_eq!(found, ["ok.env"], "packed: {packed}");
            assert_eq!(report.stats.files_scanned, 1, "packed: {packed}");
            assert_eq!(
                crate::exit::exit_code(&report, crate::exit::ExitRule::default()),
                crate::exit::EXIT_FINDINGS
            );
        }
        // Without a finding, the lost blob alone makes the run exit 2.
        let alone = tempfile::tempdir().unwrap();
        git(alone.path(), &["init", "-q"]);
        std::fs::write(alone.path().join("boom.txt"), super::blobs::tests::FAULT).unwrap();
        git(alone.path(), &["add", "-A"]);
        git(alone.path(), &["commit", "-q", "-m", "one"]);
        let report = history(alone.path());
        assert!(report.findings.is_empty());
        assert_eq!(report.errors.len(), 1);
        assert_eq!(
            crate::exit::exit_code(&report, crate::exit::ExitRule::default()),
            crate::exit::EXIT_ERROR
        );
    }
}

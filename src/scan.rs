//! Orchestration: `run(ScanConfig) -> Report`. Owns the parallel walk (the `ignore` crate's
//! parallel walker runs detection in its own threads; no other pool), the walker's per-entry
//! decisions, and the final sort that makes reports identical at any thread count. Every input
//! reaches findings through `blob::Scanner` (#12). Never prints.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use crate::blob::{Bytes, NoStream, Scanner, Tally};
use crate::config::ScanConfig;
use crate::detect::{redact_builtin, Detector};
use crate::origin::{display_path, Origin, ScanRoot, STDIN_ARG};
use crate::report::{Report, Stats};
use crate::rules::{RuleError, RuleSet};
use crate::source::{self, ExcludeError, Excludes, FileError, Skip, SkipReason};

/// What stops a scan before it starts.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A rule file is broken.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// A git scope could not run (#5).
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    /// An `--exclude` glob does not parse.
    #[error(transparent)]
    Exclude(#[from] ExcludeError),
}

/// Scans everything `config` names and returns the sorted report.
pub fn run(config: &ScanConfig) -> Result<Report, ScanError> {
    run_with_progress(config, &|_| {})
}

/// `run`, with progress of long git scans sent to `progress` (#5; never called for file walks).
pub fn run_with_progress(
    config: &ScanConfig,
    progress: crate::git::ProgressFn<'_>,
) -> Result<Report, ScanError> {
    // #8: rule files are input; errors quoting them mask keys here, in the library.
    let rules = RuleSet::load(&config.rule_files).map_err(|e| e.redacted(redact_builtin))?;
    run_with_rules_and_progress(config, rules, progress)
}

/// Scans everything `config` names with `rules` (ignoring `config.rule_files`), and returns
/// the sorted report. For callers that build the rule set themselves (the config file, #7).
pub fn run_with_rules(config: &ScanConfig, rules: RuleSet) -> Result<Report, ScanError> {
    run_with_rules_and_progress(config, rules, &|_| {})
}

/// `run_with_rules` with progress of long git scans sent to `progress`.
pub fn run_with_rules_and_progress(
    config: &ScanConfig,
    rules: RuleSet,
    progress: crate::git::ProgressFn<'_>,
) -> Result<Report, ScanError> {
    let started = Instant::now();
    // #8: rule text is input; reports quoting it (titles, remediation) mask keys.
    let mut rules = rules;
    rules.redact_text(redact_builtin);
    let detector = Detector::with_decode_depth(&rules, config.decode_depth);
    let excludes = compile_excludes(&config.excludes, &detector)?;
    let scanner = Scanner {
        detector: &detector,
        excludes: &excludes,
        max_filesize_bytes: config.max_filesize_bytes,
        chunk_size_bytes: config.chunk_size_bytes,
        archives: config.archives,
    };
    // #5: a git scope reads the repository's objects instead of walking the paths.
    // #20: what the ignore rules leave out of a tree scan is reported.
    let ignored =
        crate::ignored::Shared::new(config.git.is_none() && !config.no_ignore, &config.paths);
    let tally = match &config.git {
        Some(scope) => crate::git::run(scope, config, &scanner, progress)?,
        None => scan_paths(config, &scanner, &ignored),
    };
    let mut report = into_report(tally, rules);
    let root = ScanRoot::of(&config.paths);
    let named = ignored.finish(|p| file_origin(&detector, &root, p));
    report.add_ignored(named);
    report.stats.elapsed_ms = Some(started.elapsed().as_millis() as u64);
    Ok(report)
}

/// The `--exclude` globs, compiled; an error quoting a glob masks keys in it (#8).
fn compile_excludes(globs: &[String], detector: &Detector) -> Result<Excludes, ExcludeError> {
    Excludes::new(globs).map_err(|e| ExcludeError {
        glob: detector.redact(&e.glob).into_owned(),
        message: detector.redact(&e.message).into_owned(),
    })
}

/// Walks the paths of `config` (in parallel) and reads standard input if `-` is among them.
fn scan_paths(
    config: &ScanConfig,
    scanner: &Scanner<'_>,
    ignored: &crate::ignored::Shared,
) -> Tally {
    let root = ScanRoot::of(&config.paths);
    let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) = config
        .paths
        .iter()
        .partition(|p| p.as_os_str() == STDIN_ARG);
    let acc = Mutex::new(Tally::default());
    if let Some((first, rest)) = paths.split_first() {
        let mut walk = WalkBuilder::new(first);
        for p in rest {
            walk.add(p);
        }
        let respect = !config.no_ignore;
        walk.hidden(false)
            .parents(respect)
            .ignore(respect)
            .git_ignore(respect)
            .git_global(respect)
            .git_exclude(respect)
            // `.gitignore` applies inside git repositories only, as in git and ripgrep: outside
            // one (an unpacked tarball) the ignored files are there to be shipped.
            .require_git(true)
            .follow_links(config.follow)
            .threads(config.threads);
        let mut builder = VisitorBuilder {
            scanner,
            root: &root,
            acc: &acc,
            ignored,
        };
        walk.build_parallel().visit(&mut builder);
    }
    let mut tally = acc.into_inner().unwrap_or_else(|e| e.into_inner());
    if !stdin.is_empty() {
        // #23: standard input takes the same road, `--max-filesize` included.
        let bytes = Bytes::Stream(io::stdin().lock());
        scanner.scan_whole(&mut tally, &Origin::stdin, None, bytes, &mut Vec::new());
    }
    tally
}

/// The report of `tally`: findings sorted (path, line, column, rule, offset), skips and errors
/// sorted and deduplicated, and the counts.
fn into_report(tally: Tally, rules: RuleSet) -> Report {
    let mut findings = tally.findings;
    findings.sort_by(|a, b| {
        (
            &a.location.path,
            a.location.line,
            a.location.column,
            &a.rule_id,
            a.location.byte_offset,
        )
            .cmp(&(
                &b.location.path,
                b.location.line,
                b.location.column,
                &b.rule_id,
                b.location.byte_offset,
            ))
    });
    let mut skipped = tally.skipped;
    skipped.sort();
    skipped.dedup();
    let mut errors = tally.errors;
    errors.sort();
    errors.dedup();
    let files_with_findings = findings
        .iter()
        .map(|f| f.origin.outer_display())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    let stats = Stats {
        files_scanned: tally.scanned,
        bytes_scanned: tally.bytes,
        files_with_findings,
        findings: findings.len() as u64,
        skipped: skipped.len() as u64,
        errors: errors.len() as u64,
        suppressed: 0,
        elapsed_ms: None,
    };
    Report {
        findings,
        suppressed: Vec::new(),
        skipped,
        errors,
        stats,
        rules,
        warnings: tally.warnings,
        ignored: Vec::new(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another worker panicked; its partial data is still sound.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct VisitorBuilder<'s> {
    scanner: &'s Scanner<'s>,
    root: &'s ScanRoot,
    acc: &'s Mutex<Tally>,
    ignored: &'s crate::ignored::Shared,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            scanner: self.scanner,
            root: self.root,
            acc: self.acc,
            part: Tally::default(),
            buf: Vec::new(),
            ignored: self.ignored.recorder(),
        })
    }
}

struct Visitor<'s> {
    scanner: &'s Scanner<'s>,
    root: &'s ScanRoot,
    acc: &'s Mutex<Tally>,
    part: Tally,
    buf: Vec<u8>,
    ignored: crate::ignored::Recorder<'s>,
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        lock(self.acc).merge(std::mem::take(&mut self.part));
    }
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let error = walk_error(self.scanner.detector, self.root, &err);
                self.part.errors.push(error);
                return WalkState::Continue;
            }
        };
        let path = entry.path();
        let depth = entry.depth();
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue;
        };
        let excludes = self.scanner.excludes;
        self.ignored.saw(path, depth, ft.is_dir());
        if ft.is_dir() {
            if depth > 0 && entry.file_name() == ".git" {
                return WalkState::Skip; // history is scanned by the git scopes, not here
            }
            if depth > 0 && excludes.is_excluded(path, depth) {
                self.skip(path, SkipReason::Excluded);
                return WalkState::Skip;
            }
            self.ignored.descend(path, depth);
            return WalkState::Continue;
        }
        if excludes.is_excluded(path, depth) {
            self.skip(path, SkipReason::Excluded);
            return WalkState::Continue;
        }
        // A root named on the command line is followed even when it is a link, as ripgrep does.
        if ft.is_symlink() && depth > 0 {
            self.skip(path, SkipReason::Symlink);
            return WalkState::Continue;
        }
        if !ft.is_file() && !ft.is_symlink() {
            self.skip(path, source::skip_reason_for(&ft));
            return WalkState::Continue;
        }
        self.scan_file(path);
        WalkState::Continue
    }
}

impl Visitor<'_> {
    fn origin(&self, path: &Path) -> Origin {
        file_origin(self.scanner.detector, self.root, path)
    }

    fn skip(&mut self, path: &Path, reason: SkipReason) {
        let skip = Skip::new(self.origin(path), reason);
        self.part.skipped.push(skip);
    }

    fn scan_file(&mut self, path: &Path) {
        let (file, meta) = match source::open_file(path) {
            Ok(x) => x,
            Err(e) => {
                let error = FileError::new(Some(self.origin(path)), source::io_message(&e));
                self.part.errors.push(error);
                return;
            }
        };
        if meta.is_dir() {
            return; // a root symlink to a directory: the walker descends into it itself
        }
        if !meta.is_file() {
            self.skip(path, source::skip_reason_for(&meta.file_type()));
            return;
        }
        let (detector, root) = (self.scanner.detector, self.root);
        let bytes = Bytes::<NoStream>::File(file, meta.len());
        self.scanner.scan_whole(
            &mut self.part,
            &|| file_origin(detector, root, path),
            Some(meta.len()),
            bytes,
            &mut self.buf,
        );
    }
}

/// The origin of the walked file at `path`: its display path (key-shaped runs masked) and the
/// same path relative to the scan root.
fn file_origin(detector: &Detector, root: &ScanRoot, path: &Path) -> Origin {
    root.origin_of(path, |text| detector.redact(text).into_owned())
}

fn walk_error(detector: &Detector, root: &ScanRoot, err: &ignore::Error) -> FileError {
    fn parts(err: &ignore::Error) -> (Option<PathBuf>, String) {
        match err {
            ignore::Error::WithPath { path, err } => (Some(path.clone()), parts(err).1),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                parts(err)
            }
            ignore::Error::Loop { child, ancestor } => (
                Some(child.clone()),
                format!(
                    "symbolic link loop (points back to {})",
                    display_path(ancestor)
                ),
            ),
            ignore::Error::Io(e) => (None, source::io_message(e)),
            other => (None, other.to_string()),
        }
    }
    let (path, message) = parts(err);
    FileError::new(
        path.map(|p| file_origin(detector, root, &p)),
        detector.redact(&message).into_owned(),
    )
}

/// Runs the suppression stage (`Suppressor::apply`) on `report`'s findings (#7): moves what it
/// accepts to `report.suppressed`, and updates the counts. A baseline is pruned only when no
/// path failed to be read.
pub fn suppress(
    report: &mut Report,
    suppressor: &crate::suppress::Suppressor,
) -> Result<crate::suppress::Outcome, crate::suppress::SuppressError> {
    let findings = std::mem::take(&mut report.findings);
    let sorted = suppressor.apply(findings, report.errors.is_empty())?;
    report.findings = sorted.findings;
    report.suppressed.extend(sorted.suppressed);
    report.stats.findings = report.findings.len() as u64;
    report.stats.suppressed = report.suppressed.len() as u64;
    report.stats.files_with_findings = report
        .findings
        .iter()
        .map(|f| f.location.path.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    Ok(sorted.outcome)
}

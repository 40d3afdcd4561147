//! Orchestration: `run(ScanConfig) -> Report`. Owns the parallel walk (the `ignore` crate's
//! parallel walker runs detection in its own threads; no other pool), per-file decisions, and
//! the final sort that makes reports identical at any thread count. Never prints.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use crate::config::ScanConfig;
use crate::detect::Detector;
use crate::finding::{Finding, Location};
use crate::report::{Report, Stats};
use crate::rules::{RuleError, RuleSet};
use crate::source::{self, FileError, Skip, SkipReason, StreamScan};

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
    #[error("invalid --exclude glob `{glob}`: {message}")]
    Exclude {
        /// The glob as given.
        glob: String,
        /// What is wrong.
        message: String,
    },
}

/// Path displayed for standard input.
pub const STDIN_PATH: &str = "<stdin>";

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
    let rules = RuleSet::load(&config.rule_files).map_err(|e| e.redacted(crate::redact_builtin))?;
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
    rules.redact_text(crate::redact_builtin);
    let detector = Detector::new(&rules);
    let excludes = Excludes::new(&config.excludes).map_err(|e| match e {
        ScanError::Exclude { glob, message } => ScanError::Exclude {
            glob: detector.redact(&glob).into_owned(),
            message: detector.redact(&message).into_owned(),
        },
        other => other,
    })?;
    let acc = Arc::new(Mutex::new(Partial::default()));

    // #5: a git scope reads the repository's objects instead of walking the paths.
    let git = match &config.git {
        Some(scope) => Some(crate::git::run(
            scope, config, &detector, &excludes, progress,
        )?),
        None => None,
    };
    let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) = match git {
        Some(_) => (Vec::new(), Vec::new()),
        None => config.paths.iter().partition(|p| p.as_os_str() == "-"),
    };
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
            detector: &detector,
            config,
            excludes: &excludes,
            acc: &acc,
        };
        walk.build_parallel().visit(&mut builder);
    }
    if !stdin.is_empty() {
        let mut part = Partial::default();
        let mut buf = Vec::new();
        let result = source::scan_stream(
            io::stdin().lock(),
            &detector,
            &mut buf,
            config.chunk_size_bytes,
        );
        part.record(&detector, || STDIN_PATH.to_string(), result);
        lock(&acc).merge(part);
    }

    let mut warnings = Vec::new();
    if let Some(outcome) = git {
        warnings = outcome.warnings;
        lock(&acc).merge(Partial {
            findings: outcome.findings,
            skipped: outcome.skipped,
            errors: outcome.errors,
            files_scanned: outcome.blobs_scanned,
            bytes_scanned: outcome.bytes_scanned,
        });
    }

    let part = std::mem::take(&mut *lock(&acc));
    let mut findings = part.findings;
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
    let mut skipped = part.skipped;
    skipped.sort();
    skipped.dedup();
    let mut errors = part.errors;
    errors.sort();
    errors.dedup();
    let files_with_findings = findings
        .iter()
        .map(|f| f.location.path.as_str())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    let stats = Stats {
        files_scanned: part.files_scanned,
        bytes_scanned: part.bytes_scanned,
        files_with_findings,
        findings: findings.len() as u64,
        skipped: skipped.len() as u64,
        errors: errors.len() as u64,
        suppressed: 0,
        elapsed_ms: Some(started.elapsed().as_millis() as u64),
    };
    Ok(Report {
        findings,
        suppressed: Vec::new(),
        skipped,
        errors,
        stats,
        rules,
        warnings,
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another worker panicked; its partial data is still sound.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Results gathered by one worker, merged at the end.
#[derive(Default)]
struct Partial {
    findings: Vec<Finding>,
    skipped: Vec<Skip>,
    errors: Vec<FileError>,
    files_scanned: u64,
    bytes_scanned: u64,
}

impl Partial {
    fn merge(&mut self, other: Partial) {
        self.findings.extend(other.findings);
        self.skipped.extend(other.skipped);
        self.errors.extend(other.errors);
        self.files_scanned += other.files_scanned;
        self.bytes_scanned += other.bytes_scanned;
    }

    /// Adds the outcome of one stream; `path` is only computed when something is reported.
    fn record(
        &mut self,
        detector: &Detector,
        path: impl FnOnce() -> String,
        result: io::Result<StreamScan>,
    ) {
        let needs_path = result.as_ref().map_or(true, |s| !s.hits.is_empty());
        let path = if needs_path { path() } else { String::new() };
        match result {
            Ok(scan) => {
                self.files_scanned += 1;
                self.bytes_scanned += scan.bytes;
                for hit in scan.hits {
                    let c = hit.candidate;
                    let rule_id = detector
                        .rules()
                        .get(c.rule_index)
                        .map(|r| r.id.clone())
                        .unwrap_or_default();
                    let location = Location {
                        path: path.clone(),
                        line: hit.line,
                        column: hit.column,
                        byte_offset: c.offset,
                    };
                    let mut finding = Finding::new(
                        rule_id,
                        location,
                        scan.binary,
                        c.key,
                        c.entropy,
                        c.snippet,
                        c.snippet_key_start,
                    );
                    finding.allow_marker = c.allow_marker;
                    self.findings.push(finding);
                }
            }
            Err(e) => self.errors.push(FileError {
                path,
                message: io_message(&e),
            }),
        }
    }
}

/// An I/O error in words, without the path (reports carry the path separately).
fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::InvalidData => "cannot read: invalid data".to_string(),
        _ => format!("cannot read: {e}"),
    }
}

/// `--exclude` globs: a glob without `/` matches any path component's name; one with `/`
/// matches the path relative to the scanned root.
pub(crate) struct Excludes {
    names: GlobSet,
    paths: GlobSet,
    any: bool,
}

impl Excludes {
    fn new(globs: &[String]) -> Result<Excludes, ScanError> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for glob in globs {
            let pattern = glob.trim_start_matches("./").trim_start_matches('/');
            let pattern = pattern.trim_end_matches('/');
            let compiled = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| ScanError::Exclude {
                    glob: glob.clone(),
                    message: e.kind().to_string(),
                })?;
            if pattern.contains('/') {
                paths.add(compiled);
            } else {
                names.add(compiled);
            }
        }
        let build = |b: GlobSetBuilder| {
            b.build().map_err(|e| ScanError::Exclude {
                glob: globs.join(" "),
                message: e.to_string(),
            })
        };
        Ok(Excludes {
            names: build(names)?,
            paths: build(paths)?,
            any: !globs.is_empty(),
        })
    }

    /// Whether the entry at `path`, `depth` levels below its root, is excluded.
    pub(crate) fn is_excluded(&self, path: &Path, depth: usize) -> bool {
        if !self.any {
            return false;
        }
        if path.file_name().is_some_and(|n| self.names.is_match(n)) {
            return true;
        }
        if self.paths.is_empty() {
            return false;
        }
        let rel: PathBuf = if depth == 0 {
            PathBuf::from(source::display_path(path))
        } else {
            let comps: Vec<_> = path.components().collect();
            comps
                .iter()
                .skip(comps.len().saturating_sub(depth))
                .collect()
        };
        self.paths.is_match(rel)
    }
}

struct VisitorBuilder<'s> {
    detector: &'s Detector,
    config: &'s ScanConfig,
    excludes: &'s Excludes,
    acc: &'s Arc<Mutex<Partial>>,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            detector: self.detector,
            config: self.config,
            excludes: self.excludes,
            acc: self.acc,
            part: Partial::default(),
            buf: Vec::new(),
        })
    }
}

struct Visitor<'s> {
    detector: &'s Detector,
    config: &'s ScanConfig,
    excludes: &'s Excludes,
    acc: &'s Arc<Mutex<Partial>>,
    part: Partial,
    buf: Vec<u8>,
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
                self.part.errors.push(walk_error(self.detector, &err));
                return WalkState::Continue;
            }
        };
        let path = entry.path();
        let depth = entry.depth();
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue;
        };
        if ft.is_dir() {
            if depth > 0 && entry.file_name() == ".git" {
                return WalkState::Skip; // history is scanned by the git scopes, not here
            }
            if depth > 0 && self.excludes.is_excluded(path, depth) {
                self.skip(path, SkipReason::Excluded);
                return WalkState::Skip;
            }
            return WalkState::Continue;
        }
        if self.excludes.is_excluded(path, depth) {
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
    fn display(&self, path: &Path) -> String {
        Self::display_with(self.detector, path)
    }

    fn display_with(detector: &Detector, path: &Path) -> String {
        detector.redact(&source::display_path(path)).into_owned()
    }

    fn skip(&mut self, path: &Path, reason: SkipReason) {
        let path = self.display(path);
        self.part.skipped.push(Skip { path, reason });
    }

    fn scan_file(&mut self, path: &Path) {
        let (file, meta) = match source::open_file(path) {
            Ok(x) => x,
            Err(e) => {
                let path = self.display(path);
                self.part.errors.push(FileError {
                    path,
                    message: io_message(&e),
                });
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
        if self
            .config
            .max_filesize_bytes
            .is_some_and(|max| meta.len() > max)
        {
            self.skip(path, SkipReason::TooLarge);
            return;
        }
        use std::io::Read;
        // Read what the file held when opened: a file growing while we read cannot hold us.
        let result = source::scan_stream(
            file.take(meta.len()),
            self.detector,
            &mut self.buf,
            self.config.chunk_size_bytes,
        );
        let detector = self.detector;
        self.part
            .record(detector, || Self::display_with(detector, path), result);
    }
}

fn walk_error(detector: &Detector, err: &ignore::Error) -> FileError {
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
                    source::display_path(ancestor)
                ),
            ),
            ignore::Error::Io(e) => (None, io_message(e)),
            other => (None, other.to_string()),
        }
    }
    let (path, message) = parts(err);
    FileError {
        path: path
            .map(|p| detector.redact(&source::display_path(&p)).into_owned())
            .unwrap_or_default(),
        message: detector.redact(&message).into_owned(),
    }
}

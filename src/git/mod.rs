//! Git scopes (#5): `--staged`, `--since`/`--range` and `--history`. Reads objects with gix (no
//! `git` subprocess), feeds blob bytes to the `Detector`, and returns findings carrying their
//! commits. Owns repository discovery, tree comparison, the added-line filter and history
//! attribution. Never prints: progress goes through a callback, warnings into the outcome.

mod history;
mod lines;
pub mod push;
mod range;
mod staged;
mod tree;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gix::bstr::{BStr, ByteSlice};
use gix::objs::Find;
use gix::prelude::Header;
use gix::ObjectId;

use crate::blob::{self, Bytes, NoStream, Scanner, Tally, TOP_DEPTH};
use crate::config::{GitScope, ScanConfig};
use crate::detect::Detector;
use crate::finding::CommitInfo;
use crate::origin::{display_bytes, display_path, Origin};
use crate::source::{Hit, StreamScan};

/// What stops a git scan before it produces a report.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The scan root is not inside a git repository.
    #[error("{path} is not in a git repository (--staged, --since, --range and --history need one): {message}")]
    NotARepository {
        /// The scan root as given.
        path: String,
        /// What discovery said.
        message: String,
    },
    /// More than one path, or standard input, with a git scope.
    #[error("the git scopes scan one repository: give at most one path, not standard input")]
    Paths,
    /// A revision does not resolve to a commit.
    #[error("cannot resolve `{rev}` to a commit: {message}")]
    Revision {
        /// The revision as given.
        rev: String,
        /// Why.
        message: String,
    },
    /// An object the repository does not hold: a partial clone (`git clone --filter`) leaves
    /// blobs out, and a broken repository loses them.
    #[error("object {id} is not in this repository{note}")]
    Missing {
        /// The object id.
        id: String,
        /// Why, when known (a partial clone).
        note: &'static str,
    },
    /// The repository could not be read.
    #[error("cannot read the git repository: {message}")]
    Read {
        /// What failed.
        message: String,
    },
}

impl GitError {
    fn read(what: &str, err: impl fmt::Display) -> GitError {
        GitError::Read {
            message: format!("{what}: {err}"),
        }
    }
}

/// What a git scan found, ready for `scan::run` to sort and count: `scanned` counts distinct
/// blobs.
pub type Outcome = Tally;

/// Which part of a history scan is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Listing commits and the blobs they introduce; `done` counts commits.
    Commits,
    /// Reading the packs in pack order; `done` of `total` objects, `bytes` of blob content.
    Objects,
    /// Scanning blobs outside the packs; `done` of `total` blobs.
    Blobs,
}

/// A progress report of a long git scan, for a terminal line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// What runs.
    pub phase: Phase,
    /// Items done.
    pub done: u64,
    /// Items to do (0 when not known yet).
    pub total: u64,
    /// Bytes of blob content scanned.
    pub bytes: u64,
    /// Time since the scan started.
    pub elapsed: Duration,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.phase {
            Phase::Commits => write!(f, "reading history: {} commits", self.done),
            Phase::Objects | Phase::Blobs => {
                let what = match self.phase {
                    Phase::Objects => "objects",
                    _ => "blobs",
                };
                let mib = self.bytes as f64 / (1024.0 * 1024.0);
                let secs = self.elapsed.as_secs_f64().max(1e-3);
                write!(
                    f,
                    "scanning {what}: {}/{}, {mib:.1} MiB, {:.1} MiB/s",
                    self.done,
                    self.total,
                    mib / secs
                )
            }
        }
    }
}

/// The callback that receives progress (at most about ten times a second).
pub type ProgressFn<'a> = &'a (dyn Fn(&Progress) + Sync);

/// Runs the git scope of `config`.
pub(crate) fn run(
    scope: &GitScope,
    config: &ScanConfig,
    scanner: &Scanner<'_>,
    progress: ProgressFn<'_>,
) -> Result<Outcome, GitError> {
    // #21: a push hook reads the pushed objects where git's environment says they are.
    let (repo, objects) = push::with_object_env(open(config)?)?;
    let shown = Shown::of(&repo.to_thread_local());
    let ctx = Ctx {
        repo: &repo,
        detector: scanner.detector,
        scanner,
        shown,
        pushed: objects.as_ref().and_then(|_| push::quarantine()),
    };
    match scope {
        GitScope::Staged => staged::run(&ctx),
        GitScope::Range(range) => range::run(&ctx, range),
        GitScope::History { branch } => history::run(&ctx, branch.as_deref(), progress),
    }
}

/// What every scope needs.
struct Ctx<'a> {
    repo: &'a gix::ThreadSafeRepository,
    detector: &'a Detector,
    /// The shared road from bytes to findings (#12).
    scanner: &'a Scanner<'a>,
    /// How repository paths are shown (#20).
    shown: Shown,
    /// #21: the object directory that holds only what a push brings (git's quarantine, during
    /// a pre-receive hook), whose packs are read in one pass.
    pushed: Option<std::path::PathBuf>,
}

impl Ctx<'_> {
    /// The origin of repository path `path` (display form), in `commit` when known, shown
    /// relative to the current directory (#20).
    fn origin(&self, path: &str, commit: Option<&ObjectId>) -> Origin {
        Origin::git_shown(
            self.shown.show(path),
            path.to_string(),
            commit.map(ToString::to_string),
        )
    }
}

/// How repository paths are shown in reports (#20): relative to the current directory, as tree
/// scans show theirs (`ws/k.env` from the parent folder, `../k.env` from a subfolder). Paths
/// stay repository-relative in `Origin::relative`, so fingerprints, baselines and config globs
/// do not depend on where the scan runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Shown {
    /// `..` segments from the current directory up to the nearest folder it shares with the
    /// work tree.
    up: usize,
    /// Segments from there down to the work tree (empty when the current directory is in it).
    down: Vec<String>,
    /// Segments of the current directory below the work tree (when it is in it).
    inside: Vec<String>,
}

impl Shown {
    /// How paths of `repo` are shown from the current directory; as they are (repository-
    /// relative) for a bare repository or when a directory cannot be resolved.
    fn of(repo: &gix::Repository) -> Shown {
        let dirs = repo.workdir().and_then(|w| {
            let work = std::fs::canonicalize(w).ok()?;
            let cwd = std::env::current_dir().ok()?;
            Some((std::fs::canonicalize(cwd).ok()?, work))
        });
        match dirs {
            Some((cwd, work)) => Shown::between(&segments(&cwd), &segments(&work)),
            None => Shown::default(),
        }
    }

    /// From the folder `cwd` to the work tree `work` (both as segments from the file-system
    /// root).
    fn between(cwd: &[String], work: &[String]) -> Shown {
        let common = cwd.iter().zip(work).take_while(|(a, b)| a == b).count();
        let down: Vec<String> = work.get(common..).unwrap_or_default().to_vec();
        let rest = cwd.get(common..).unwrap_or_default().to_vec();
        if down.is_empty() {
            Shown {
                up: 0,
                down,
                inside: rest,
            }
        } else {
            Shown {
                up: rest.len(),
                down,
                inside: Vec::new(),
            }
        }
    }

    /// Repository path `path` as shown from the current directory.
    fn show(&self, path: &str) -> String {
        if self.up == 0 && self.down.is_empty() && self.inside.is_empty() {
            return path.to_string();
        }
        let parts: Vec<&str> = path.split('/').collect();
        // In a subfolder: the segments it shares with the path are dropped, as git does.
        let shared = self
            .inside
            .iter()
            .zip(&parts)
            .take_while(|(a, b)| a.as_str() == **b)
            .count()
            .min(parts.len().saturating_sub(1));
        let up = self.up + self.inside.len() - shared;
        let mut out: Vec<&str> = std::iter::repeat_n("..", up).collect();
        out.extend(self.down.iter().map(String::as_str));
        out.extend(parts.get(shared..).unwrap_or_default());
        out.join("/")
    }
}

/// The normal segments of an absolute path (`/a/b` → `a`, `b`), as display text.
fn segments(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(display_path(Path::new(s))),
            _ => None,
        })
        .collect()
}

/// Opens the repository that holds the scan root, as git finds it (`GIT_DIR` honoured).
fn open(config: &ScanConfig) -> Result<gix::ThreadSafeRepository, GitError> {
    if config.paths.len() > 1 || config.paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(GitError::Paths);
    }
    let root = config.paths.first().map_or(Path::new("."), |p| p.as_path());
    gix::ThreadSafeRepository::discover_with_environment_overrides(root).map_err(|e| {
        GitError::NotARepository {
            path: display_path(root),
            message: e.to_string(),
        }
    })
}

/// The commit `HEAD` points at in the repository that holds the scan root, full hex; `None`
/// outside a repository, for several paths or stdin, or with an unborn `HEAD`. For reports that
/// must name the scanned commit (GitLab's secret-detection report).
pub fn scanned_head(config: &ScanConfig) -> Option<String> {
    let repo = open(config).ok()?.to_thread_local();
    head_commit(&repo).ok().flatten().map(|id| id.to_string())
}

/// Resolves `rev` to a commit id.
fn resolve_commit(repo: &gix::Repository, rev: &str) -> Result<ObjectId, GitError> {
    let err = |message: String| GitError::Revision {
        rev: rev.to_string(),
        message,
    };
    let id = repo.rev_parse_single(rev).map_err(|e| err(e.to_string()))?;
    let commit = id
        .object()
        .map_err(|e| err(e.to_string()))?
        .peel_to_commit()
        .map_err(|e| err(e.to_string()))?;
    Ok(commit.id)
}

/// The commit `HEAD` points to; `None` while the branch is unborn (no commit yet).
fn head_commit(repo: &gix::Repository) -> Result<Option<ObjectId>, GitError> {
    let head = repo.head().map_err(|e| GitError::read("HEAD", e))?;
    head.try_into_peeled_id()
        .map(|id| id.map(|id| id.detach()))
        .map_err(|e| GitError::read("HEAD", e))
}

/// A commit as the scopes need it: its tree and the parents that are available.
#[derive(Debug, Clone)]
struct CommitNode {
    tree: ObjectId,
    /// Parents, empty for a root commit or a shallow clone's boundary commit.
    parents: Vec<ObjectId>,
    /// Committer time, seconds since the epoch (orders commits that the graph does not).
    time: i64,
}

/// Reads commit `id`; the parents of `shallow` commits are not in the repository and are left out.
fn read_commit(
    repo: &gix::Repository,
    id: ObjectId,
    shallow: &[ObjectId],
    buf: &mut Vec<u8>,
) -> Result<CommitNode, GitError> {
    let data = read_object(repo, &id, buf, gix::objs::Kind::Commit)?;
    parse_commit(id, data, shallow)
}

/// Commit `id` from its raw `data` (see `read_commit`).
fn parse_commit(id: ObjectId, data: &[u8], shallow: &[ObjectId]) -> Result<CommitNode, GitError> {
    let commit =
        gix::objs::CommitRef::from_bytes(data).map_err(|e| GitError::read(&id.to_string(), e))?;
    let parents = if shallow.binary_search(&id).is_ok() {
        Vec::new()
    } else {
        commit.parents().collect()
    };
    Ok(CommitNode {
        tree: commit.tree(),
        parents,
        time: commit.time().seconds,
    })
}

/// The shallow boundary commits, sorted (empty for a full clone).
fn shallow_commits(repo: &gix::Repository) -> Result<Vec<ObjectId>, GitError> {
    let commits = repo
        .shallow_commits()
        .map_err(|e| GitError::read("shallow file", e))?;
    let mut v: Vec<ObjectId> = commits
        .map(|c| c.iter().copied().collect())
        .unwrap_or_default();
    v.sort();
    Ok(v)
}

/// The warning for a shallow clone.
fn shallow_warning() -> String {
    "this is a shallow clone: history older than its boundary is not available and was not \
     scanned (run `git fetch --unshallow` to scan it all)"
        .to_string()
}

/// Whether the repository is a partial clone (`git clone --filter`), whose missing blobs are
/// expected rather than damage.
fn is_partial_clone(repo: &gix::Repository) -> bool {
    let config = repo.config_snapshot();
    config.string("extensions.partialClone").is_some()
        || config
            .plumbing()
            .sections_by_name("remote")
            .into_iter()
            .flatten()
            .any(|section| {
                section
                    .value("promisor")
                    .is_some_and(|v| v.as_ref() == b"true")
            })
}

/// The warning for blobs a partial clone does not hold (each is also an error of the report).
fn partial_clone_warning(missing: usize) -> String {
    format!(
        "this is a partial clone: {missing} blob(s) of the scanned commits are not in it and were \
         not scanned (listed as errors); clone without `--filter` (actions/checkout: no \
         `filter` input) to scan them"
    )
}

/// Orders commits so that parents come before their children, older commit times first among
/// commits ready at the same time (ties by id): the order in which keys are attributed.
fn topo_order(nodes: &IdMap<ObjectId, CommitNode>) -> Vec<ObjectId> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut pending: IdMap<ObjectId, usize> = IdMap::default();
    let mut children: IdMap<ObjectId, Vec<ObjectId>> = IdMap::default();
    for (id, node) in nodes {
        let mut n = 0;
        for p in &node.parents {
            if nodes.contains_key(p) {
                n += 1;
                children.entry(*p).or_default().push(*id);
            }
        }
        pending.insert(*id, n);
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId)>> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .filter_map(|(id, _)| nodes.get(id).map(|node| Reverse((node.time, *id))))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, id))) = ready.pop() {
        order.push(id);
        for child in children.get(&id).map(Vec::as_slice).unwrap_or_default() {
            if let Some(n) = pending.get_mut(child) {
                *n -= 1;
                if *n == 0 {
                    if let Some(node) = nodes.get(child) {
                        ready.push(Reverse((node.time, *child)));
                    }
                }
            }
        }
    }
    order
}

/// The raw data of object `id`, which must be of `kind`.
fn read_object<'b>(
    repo: &gix::Repository,
    id: &gix::oid,
    buf: &'b mut Vec<u8>,
    kind: gix::objs::Kind,
) -> Result<&'b [u8], GitError> {
    let data = repo
        .objects
        .try_find(id, buf)
        .map_err(|e| GitError::read(&format!("object {id}"), e))?
        .ok_or_else(|| GitError::Missing {
            id: id.to_string(),
            note: if is_partial_clone(repo) {
                " (this is a partial clone: `git clone --filter` left it out)"
            } else {
                ""
            },
        })?;
    if data.kind != kind {
        return Err(GitError::read(
            &format!("object {id}"),
            format_args!("expected a {kind}, found a {}", data.kind),
        ));
    }
    Ok(data.data)
}

/// Keys found in one blob.
type BlobScan = StreamScan;

/// The size of blob `id` from its object header; `None` when the header cannot be read (the
/// read that follows reports why).
fn blob_size(repo: &gix::Repository, id: &gix::oid) -> Option<u64> {
    repo.objects.try_header(id).ok().flatten().map(|h| h.size())
}

/// `repo` with a delta-base cache of `bytes` that keeps consecutive reads from inflating the
/// same delta chains again (gix's default keeps 64 entries).
fn with_pack_cache(mut repo: gix::Repository, bytes: usize) -> gix::Repository {
    repo.objects.set_pack_cache(move || {
        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(bytes))
    });
    repo
}

/// Hands blob `id` at repository path `path` (display form) to the road (#23): size from its
/// header, bytes read only when the size allows, issues and skips recorded at `path` without a
/// commit. The read's error is handed back.
fn scan_blob(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    out: &mut Outcome,
    path: &str,
    id: &ObjectId,
    read_buf: &mut Vec<u8>,
    scan_buf: &mut Vec<u8>,
) -> Result<blob::Outcome, GitError> {
    ctx.scanner.scan_input(
        out,
        &|| ctx.origin(path, None),
        || blob_size(repo, id),
        || read_object(repo, id, read_buf, gix::objs::Kind::Blob).map(Bytes::<NoStream>::Memory),
        scan_buf,
    )
}

/// Deleted files considered as rename sources of one added file, at most.
const MAX_RENAME_CANDIDATES: usize = 64;

/// The old version of a file added at a path that had none: the deleted file (`deleted`, blob
/// ids) it was renamed from, if one is at least half the same (git's default threshold), so a
/// moved key is not reported as added. `None` when it is a new file.
fn rename_source(
    repo: &gix::Repository,
    new_id: &ObjectId,
    new: &[u8],
    deleted: &[ObjectId],
    buf: &mut Vec<u8>,
) -> Result<Option<Vec<u8>>, GitError> {
    if deleted.contains(new_id) {
        return Ok(Some(new.to_vec()));
    }
    let new_len = new.len() as u64;
    let mut best: Option<(usize, Vec<u8>)> = None;
    for id in deleted.iter().take(MAX_RENAME_CANDIDATES) {
        let size = match repo.objects.try_header(id) {
            Ok(Some(h)) => h.size(),
            _ => continue,
        };
        // Files of very different sizes cannot be half the same.
        if size > 2 * new_len + 64 || new_len > 2 * size + 64 {
            continue;
        }
        // A candidate that cannot be read is no rename source.
        let Ok(old) = read_object(repo, id, buf, gix::objs::Kind::Blob) else {
            continue;
        };
        let added = lines::AddedLines::between(old, new);
        if added.is_rename() && best.as_ref().is_none_or(|(n, _)| added.count() < *n) {
            best = Some((added.count(), old.to_vec()));
        }
    }
    Ok(best.map(|(_, old)| old))
}

/// The hits of `new` that the change from `old` adds (all of them when there is no old side).
fn added_hits(scanner: &Scanner<'_>, hits: &[Hit], old: Option<&[u8]>, new: &[u8]) -> Vec<Hit> {
    match old {
        None => hits.to_vec(),
        Some(old) => added_between(hits, old, new, || {
            scanner.scan_bytes(old, TOP_DEPTH, &mut Vec::new()).hits
        }),
    }
}

/// The added-key rule (#12). A key in the blob itself is added when its line is not in `old`
/// (a line diff: a key moved within the file is not new). A key inside an archive member (#13)
/// has no line in the outer blob, so it is added when `old_hits` (the keys of the old blob,
/// asked for only then) hold none with the same rule, key hash and member chain.
fn added_between(
    hits: &[Hit],
    old: &[u8],
    new: &[u8],
    old_hits: impl FnOnce() -> Vec<Hit>,
) -> Vec<Hit> {
    let lines = hits
        .iter()
        .any(|h| h.members.is_empty())
        .then(|| lines::AddedLines::between(old, new));
    let old_keys: Option<std::collections::HashSet<_>> =
        hits.iter().any(|h| !h.members.is_empty()).then(|| {
            old_hits()
                .into_iter()
                .map(|h| (h.candidate.rule_index, h.candidate.key.hash(), h.members))
                .collect()
        });
    hits.iter()
        .filter(|h| {
            if h.members.is_empty() {
                let lines = lines
                    .as_ref()
                    .expect("lines are compared when a hit has no members");
                lines.contains(h.line)
            } else {
                let keys = old_keys
                    .as_ref()
                    .expect("old keys are read when a hit has members");
                let id = (
                    h.candidate.rule_index,
                    h.candidate.key.hash(),
                    h.members.clone(),
                );
                !keys.contains(&id)
            }
        })
        .cloned()
        .collect()
}

/// Whether `--max-filesize` leaves blob `id` out, from its object header: `--history` asks
/// before reading a blob, as `Scanner::scan_input` asks its size closure (the limit itself is
/// `Scanner::is_too_large`, the one test).
fn is_too_large(ctx: &Ctx<'_>, repo: &gix::Repository, id: &gix::oid) -> bool {
    ctx.scanner.max_filesize_bytes.is_some()
        && blob_size(repo, id).is_some_and(|size| ctx.scanner.is_too_large(size))
}

/// A repository path for reports: `/`-separated as git stores it, bytes that are not UTF-8
/// written as `\xNN`, key-shaped runs masked.
fn display_path_of(detector: &Detector, path: &BStr) -> String {
    detector
        .redact(&display_bytes(path.as_bytes()))
        .into_owned()
}

/// Whether `--exclude` leaves out the repository path `path` (a display path).
fn is_excluded(ctx: &Ctx<'_>, path: &str) -> bool {
    ctx.scanner.excludes.is_excluded_relative(path)
}

/// The report fields of commit `id`, read once per scan and cached in `infos`.
fn cached_commit_info<'a>(
    infos: &'a mut std::collections::HashMap<ObjectId, CommitInfo>,
    repo: &gix::Repository,
    detector: &Detector,
    id: ObjectId,
) -> Result<&'a CommitInfo, GitError> {
    use std::collections::hash_map::Entry;
    match infos.entry(id) {
        Entry::Occupied(e) => Ok(e.into_mut()),
        Entry::Vacant(v) => Ok(v.insert(commit_info(repo, detector, id)?)),
    }
}

/// The report fields of commit `id`, redacted.
fn commit_info(
    repo: &gix::Repository,
    detector: &Detector,
    id: ObjectId,
) -> Result<CommitInfo, GitError> {
    let mut buf = Vec::new();
    let data = read_object(repo, &id, &mut buf, gix::objs::Kind::Commit)?;
    let commit =
        gix::objs::CommitRef::from_bytes(data).map_err(|e| GitError::read(&id.to_string(), e))?;
    let author = commit.author();
    let text = |b: &BStr| detector.redact(&b.to_str_lossy()).into_owned();
    let date = author
        .time()
        .map(|t| t.format(gix::date::time::format::ISO8601_STRICT))
        .unwrap_or_default();
    Ok(CommitInfo {
        id: id.to_string(),
        author_name: text(author.name.trim().as_bstr()),
        author_email: text(author.email.trim().as_bstr()),
        date,
        summary: text(commit.message().summary().as_ref()),
        reflog_only: false,
    })
}

/// Hash maps and sets keyed by object ids (plus small integers): ids are already uniformly
/// random, so a multiply-rotate hasher is enough and much cheaper than SipHash in history scans
/// that hash every (path, object) pair. Keys that hold paths keep the default hasher.
type IdBuild = std::hash::BuildHasherDefault<IdHasher>;
type IdMap<K, V> = HashMap<K, V, IdBuild>;
type IdSet<K> = std::collections::HashSet<K, IdBuild>;

/// The hasher of `IdMap` and `IdSet` (FxHash's mixing step).
#[derive(Default)]
struct IdHasher(u64);

impl IdHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            if let Some(dst) = word.get_mut(..chunk.len()) {
                dst.copy_from_slice(chunk);
            }
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Calls a progress callback at most every 100 ms, from any thread.
struct Throttle<'a> {
    callback: ProgressFn<'a>,
    start: Instant,
    last_ms: AtomicU64,
}

impl<'a> Throttle<'a> {
    fn new(callback: ProgressFn<'a>) -> Throttle<'a> {
        Throttle {
            callback,
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    /// Reports unless a report went out less than 100 ms ago (`force` reports anyway).
    fn tick(&self, phase: Phase, done: u64, total: u64, bytes: u64, force: bool) {
        let elapsed = self.start.elapsed();
        let now = elapsed.as_millis() as u64;
        let last = self.last_ms.load(Ordering::Relaxed);
        if !force && now.saturating_sub(last) < 100 {
            return;
        }
        if self
            .last_ms
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
            && !force
        {
            return;
        }
        (self.callback)(&Progress {
            phase,
            done,
            total,
            bytes,
            elapsed,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topo_order_puts_parents_first_then_older_commits() {
        let id = |n: u8| ObjectId::from_bytes_or_panic(&[n; 20]);
        let node = |parents: Vec<ObjectId>, time| CommitNode {
            tree: id(0),
            parents,
            time,
        };
        // 1 <- 2 <- 4 (merge of 2 and 3), 1 <- 3; 3 has the oldest time but needs 1 first.
        let nodes: IdMap<_, _> = [
            (id(1), node(vec![], 10)),
            (id(2), node(vec![id(1)], 30)),
            (id(3), node(vec![id(1)], 5)),
            (id(4), node(vec![id(2), id(3)], 40)),
        ]
        .into_iter()
        .collect();
        assert_eq!(topo_order(&nodes), vec![id(1), id(3), id(2), id(4)]);
    }

    /// The hits of `text` (built-in rules), each placed in archive member `member` if given.
    fn hits_in(text: &str, member: Option<&str>) -> Vec<Hit> {
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules compile");
        let detector = Detector::new(&rules);
        let scan = crate::source::scan_stream(text.as_bytes(), &detector, &mut Vec::new(), 1 << 16)
            .expect("reading a slice cannot fail");
        scan.hits
            .into_iter()
            .map(|mut h| {
                h.members = member.map(|m| vec![m.to_string()]).unwrap_or_default();
                h
            })
            .collect()
    }

    #[test]
    fn plain_keys_are_added_by_line_and_member_keys_by_key_hash() {
        let (a, b) = (
            "leadey_sk_live_u8jzPde0IgxLd6GncfBA",
            "leadey_sk_live_Qm3vT9xWcL2pRk7HsY4e",
        );
        // Plain: the key moved to another line is not new; a new key on a new line is.
        let old = format!("x\nk={a}\n");
        let new = format!("k={a}\nj={b}\n");
        let added = added_between(&hits_in(&new, None), old.as_bytes(), new.as_bytes(), || {
            panic!("plain hits never need the old blob's keys")
        });
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].line, 2);
        // In a member: lines of the outer blob say nothing; a key the old blob held in the
        // same member is not new, the same key in another member is.
        let old_hits = || hits_in(&format!("k={a}\n"), Some("pkg/config.env"));
        let mut new_hits = hits_in(&format!("k={a}\n"), Some("pkg/config.env"));
        new_hits.extend(hits_in(&format!("k={a}\n"), Some("pkg/other.env")));
        new_hits.extend(hits_in(&format!("k={b}\n"), Some("pkg/config.env")));
        let added = added_between(&new_hits, b"same", b"same", old_hits);
        let got: Vec<_> = added
            .iter()
            .map(|h| (h.members.clone(), h.candidate.key.masked()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    vec!["pkg/other.env".to_string()],
                    "leadey_sk_live_••••cfBA".to_string()
                ),
                (
                    vec!["pkg/config.env".to_string()],
                    "leadey_sk_live_••••sY4e".to_string()
                ),
            ]
        );
    }

    #[test]
    fn repository_paths_are_shown_from_the_current_directory() {
        let seg = |s: &str| -> Vec<String> {
            s.split('/')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        let from = |cwd: &str, work: &str| Shown::between(&seg(cwd), &seg(work));
        assert_eq!(from("/p/ws", "/p/ws"), Shown::default());
        assert_eq!(from("/p/ws", "/p/ws").show("a/k.env"), "a/k.env");
        assert_eq!(from("/p", "/p/ws").show("a/k.env"), "ws/a/k.env");
        assert_eq!(from("/", "/p/ws").show("k.env"), "p/ws/k.env");
        assert_eq!(from("/p/other", "/p/ws").show("k.env"), "../ws/k.env");
        assert_eq!(from("/p/ws/sub", "/p/ws").show("k.env"), "../k.env");
        assert_eq!(from("/p/ws/sub", "/p/ws").show("sub/s.env"), "s.env");
        assert_eq!(from("/p/ws/sub/x", "/p/ws").show("sub/s.env"), "../s.env");
        assert_eq!(
            from("/p/ws/sub", "/p/ws").show("subway/s.env"),
            "../subway/s.env"
        );
        // A file named like the folder the scan runs in is not that folder.
        assert_eq!(from("/p/ws/sub", "/p/ws").show("sub"), "../sub");
    }

    #[test]
    fn progress_reads_as_a_status_line() {
        let p = Progress {
            phase: Phase::Blobs,
            done: 3,
            total: 10,
            bytes: 2 * 1024 * 1024,
            elapsed: Duration::from_secs(2),
        };
        assert_eq!(p.to_string(), "scanning blobs: 3/10, 2.0 MiB, 1.0 MiB/s");
    }
}

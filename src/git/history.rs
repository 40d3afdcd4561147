//! `--history` (#5): everything ever committed on any ref (or one `--branch`), and what only
//! reflogs still reach. First one pass over the packs (gix's delta-tree traversal: every object
//! inflated once, on all threads) scans every packed blob and keeps trees and commits in memory.
//! Then commits are put in attribution order (parents first, older first; then the commits only
//! reflogs reach); walking their trees while skipping every (folder, tree id) already seen yields
//! each (path, blob) pair once, with the first commit that had it. Reachable blobs outside the
//! packs (loose objects) are scanned one by one. Each key is reported once per path, with its
//! first commit and whether `HEAD` (or the `--branch` tip) still has it there. Never prints.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use gix::bstr::{BString, ByteSlice};
use gix::ObjectId;

use super::tree::{blob_at, join, kind_of, Kind};
use super::{
    cached_commit_info, display_path_of, finding, head_commit, is_excluded, is_partial_clone,
    is_too_large, origin, parse_commit, partial_clone_warning, read_commit, read_object,
    resolve_commit, scan_bytes, shallow_commits, shallow_warning, topo_order, BlobScan, CommitNode,
    Ctx, GitError, IdMap, IdSet, Outcome, Phase, ProgressFn, Throttle,
};
use crate::finding::KeyHash;
use crate::source::{FileError, Skip, SkipReason};

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
    let (tips, head, logged) = match branch {
        Some(rev) => {
            let id = resolve_commit(&repo, rev)?;
            (vec![id], Some(id), Vec::new())
        }
        None => {
            let head = head_commit(&repo)?;
            let mut tips = ref_tips(&repo)?;
            tips.extend(head);
            (tips, head, reflog_tips(&repo))
        }
    };
    let throttle = Throttle::new(progress);
    let mut pass = pack_pass(ctx, &repo, &throttle);
    let mut nodes = IdMap::default();
    read_commits(&repo, tips, &shallow, &pass.commits, &throttle, &mut nodes)?;
    // Commits only a reflog still reaches (amended, rebased or reset away) come after every
    // commit a ref reaches, so that a key both hold is attributed to the reachable commit.
    let mut reflog_only = IdMap::default();
    let mut walk = ReflogWalk {
        known: &nodes,
        nodes: &mut reflog_only,
        failed: 0,
    };
    for tip in logged {
        walk.read(&repo, tip, &shallow, &pass.commits);
    }
    if walk.failed > 0 {
        out.warnings.push(format!(
            "{} commit(s) that only a reflog reaches could not be read and were not scanned",
            walk.failed
        ));
    }
    drop_in_background(std::mem::take(&mut pass.commits));
    let mut order = topo_order(&nodes);
    let reachable = order.len();
    order.extend(topo_order(&reflog_only));
    nodes.extend(reflog_only);
    let intro = introduce(ctx, &repo, &nodes, &order, &pass.trees)?;
    drop_in_background(std::mem::take(&mut pass.trees));
    out.skipped.extend(
        intro
            .excluded
            .iter()
            .map(|&pid| Skip::new(origin(&intro.display(ctx, pid), None), SkipReason::Excluded)),
    );

    // Reachable blobs the pack pass did not read: loose objects, alternates.
    let rest: Vec<ObjectId> = intro
        .blobs
        .iter()
        .filter(|id| !pass.scanned.covers(id))
        .copied()
        .collect();
    let mut scanned = pass.scanned;
    scanned.merge(scan_blobs(ctx, &rest, &throttle));
    if scanned.missing > 0 && is_partial_clone(&repo) {
        out.warnings.push(partial_clone_warning(scanned.missing));
    }
    out.scanned = scanned.blobs;
    out.bytes = scanned.bytes;
    for (bi, id) in intro.blobs.iter().enumerate() {
        let pairs = intro.pairs.get(bi).map(Vec::as_slice).unwrap_or_default();
        if scanned.too_large.contains(id) {
            for &(pid, _) in pairs {
                let at = origin(&intro.display(ctx, pid), None);
                out.skipped.push(Skip::new(at, SkipReason::TooLarge));
            }
        }
        if let (Some(message), Some(&(pid, _))) = (scanned.errors.get(id), pairs.first()) {
            let at = origin(&intro.display(ctx, pid), None);
            out.errors.push(FileError::new(Some(at), message.clone()));
        }
    }

    // Each (path, rule, key) keeps its first commit, then its first place in that blob.
    let mut best: HashMap<(u32, usize, KeyHash), (u32, usize, usize)> = HashMap::new();
    for (bi, id) in intro.blobs.iter().enumerate() {
        let Some(scan) = scanned.hits.get(id) else {
            continue;
        };
        for &(pid, k) in intro.pairs.get(bi).map(Vec::as_slice).unwrap_or_default() {
            for (hi, hit) in scan.hits.iter().enumerate() {
                let key = (pid, hit.candidate.rule_index, hit.candidate.key.hash());
                let here = (k, bi, hi);
                best.entry(key)
                    .and_modify(|b| {
                        if (here.0, here.2) < (b.0, b.2) {
                            *b = here;
                        }
                    })
                    .or_insert(here);
            }
        }
    }

    let head_tree = match head {
        Some(id) => Some(match nodes.get(&id) {
            Some(node) => node.tree,
            None => read_commit(&repo, id, &shallow, &mut Vec::new())?.tree,
        }),
        None => None,
    };
    let mut at_head = AtHead {
        tree: head_tree,
        blobs: HashMap::new(),
        scans: HashMap::new(),
        buf: Vec::new(),
        scan_buf: Vec::new(),
    };
    let mut infos = HashMap::new();
    let mut found: Vec<_> = best.into_iter().collect();
    found.sort_by_key(|((pid, rule, hash), (k, bi, hi))| (*pid, *k, *bi, *hi, *rule, *hash));
    for ((pid, rule, hash), (k, bi, hi)) in found {
        let Some(blob) = intro.blobs.get(bi) else {
            continue;
        };
        let (Some(scan), Some(commit_id)) = (scanned.hits.get(blob), order.get(k as usize)) else {
            continue;
        };
        let Some(hit) = scan.hits.get(hi) else {
            continue;
        };
        let mut info = cached_commit_info(&mut infos, &repo, ctx.detector, *commit_id)?.clone();
        info.reflog_only = k as usize >= reachable;
        let path = intro.paths.get(pid as usize).cloned().unwrap_or_default();
        let present = at_head.has_key(ctx, &repo, &scanned, &path, rule, &hash)?;
        let shown = intro.display(ctx, pid);
        let mut f = finding(ctx, &shown, Some(commit_id), scan.binary, hit);
        f.commit = Some(info);
        f.present_at_head = Some(present);
        out.findings.push(f);
    }
    Ok(out)
}

/// Frees the raw trees or commits (tens of thousands of buffers) on another thread: the scan
/// does not wait for it (about 5% of a history scan's wall time).
fn drop_in_background(raw: IdMap<ObjectId, Vec<u8>>) {
    std::thread::spawn(move || drop(raw));
}

/// The commits the refs point to (branches, tags, remotes, stash), peeled; refs to other objects
/// are left out.
fn ref_tips(repo: &gix::Repository) -> Result<Vec<ObjectId>, GitError> {
    let refs = repo
        .references()
        .map_err(|e| GitError::read("references", e))?;
    let all = refs.all().map_err(|e| GitError::read("references", e))?;
    let mut tips = Vec::new();
    for r in all {
        let mut r = r.map_err(|e| GitError::read("references", e))?;
        if let Ok(commit) = r.peel_to_commit() {
            tips.push(commit.id);
        }
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// The commits the reflogs of `HEAD` and of every ref name (old and new values), that are
/// still in the repository; stashes older than the last one live here too.
fn reflog_tips(repo: &gix::Repository) -> Vec<ObjectId> {
    let mut tips = Vec::new();
    let mut add = |mut platform: gix::refs::file::log::iter::Platform<'_, '_>| {
        let Ok(Some(lines)) = platform.all() else {
            return;
        };
        for line in lines.flatten() {
            tips.push(line.new_oid());
            tips.push(line.previous_oid());
        }
    };
    if let Ok(head) = repo.head() {
        add(head.log_iter());
    }
    if let Ok(refs) = repo.references() {
        if let Ok(all) = refs.all() {
            for r in all.flatten() {
                add(r.log_iter());
            }
        }
    }
    tips.sort();
    tips.dedup();
    // The null id of a ref's creation, and objects that are gone or are not commits (a tag
    // is peeled), are not tips.
    tips.into_iter()
        .filter(|id| !id.is_null())
        .filter_map(|id| {
            let object = repo.try_find_object(id).ok().flatten()?;
            object.peel_to_commit().ok().map(|c| c.id)
        })
        .collect()
}

/// Reads what a reflog reaches beyond the commits refs reach, tolerating damage: a commit
/// that cannot be read is counted, and the walk goes on.
struct ReflogWalk<'a> {
    known: &'a IdMap<ObjectId, CommitNode>,
    nodes: &'a mut IdMap<ObjectId, CommitNode>,
    failed: usize,
}

impl ReflogWalk<'_> {
    fn read(
        &mut self,
        repo: &gix::Repository,
        tip: ObjectId,
        shallow: &[ObjectId],
        packed: &IdMap<ObjectId, Vec<u8>>,
    ) {
        let mut stack = vec![tip];
        let mut buf = Vec::new();
        while let Some(id) = stack.pop() {
            if self.known.contains_key(&id) || self.nodes.contains_key(&id) {
                continue;
            }
            let node = match packed.get(&id) {
                Some(data) => parse_commit(id, data, shallow),
                None => read_commit(repo, id, shallow, &mut buf),
            };
            let Ok(node) = node else {
                self.failed += 1;
                continue;
            };
            stack.extend(node.parents.iter().copied());
            self.nodes.insert(id, node);
        }
    }
}

/// Adds every commit reachable from `tips` to `nodes`, each read once.
fn read_commits(
    repo: &gix::Repository,
    tips: Vec<ObjectId>,
    shallow: &[ObjectId],
    packed: &IdMap<ObjectId, Vec<u8>>,
    throttle: &Throttle<'_>,
    nodes: &mut IdMap<ObjectId, CommitNode>,
) -> Result<(), GitError> {
    let mut stack = tips;
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if nodes.contains_key(&id) {
            continue;
        }
        let node = match packed.get(&id) {
            Some(data) => parse_commit(id, data, shallow)?,
            None => read_commit(repo, id, shallow, &mut buf)?,
        };
        stack.extend(node.parents.iter().filter(|p| !nodes.contains_key(*p)));
        nodes.insert(id, node);
        throttle.tick(Phase::Commits, nodes.len() as u64, 0, 0, false);
    }
    Ok(())
}

/// The (path, blob) pairs of the history, each with the first commit that had it.
struct Introduced {
    /// Interned repository paths (files and folders); index 0 is the root.
    paths: Vec<BString>,
    /// Distinct blobs, in the order first seen.
    blobs: Vec<ObjectId>,
    /// Position of each blob in `blobs`.
    blob_index: IdMap<ObjectId, usize>,
    /// For each blob: (path id, attribution index of the first commit with it there).
    pairs: Vec<Vec<(u32, u32)>>,
    /// Paths left out by `--exclude`.
    excluded: BTreeSet<u32>,
}

impl Introduced {
    fn display(&self, ctx: &Ctx<'_>, pid: u32) -> String {
        let path = self.paths.get(pid as usize).cloned().unwrap_or_default();
        display_path_of(ctx.detector, path.as_bstr())
    }
}

/// Walks the trees of the commits in `order`, skipping (folder, tree) pairs already walked.
fn introduce(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    nodes: &IdMap<ObjectId, CommitNode>,
    order: &[ObjectId],
    trees: &IdMap<ObjectId, Vec<u8>>,
) -> Result<Introduced, GitError> {
    let mut intro = Introduced {
        paths: vec![BString::default()],
        blobs: Vec::new(),
        blob_index: IdMap::default(),
        pairs: Vec::new(),
        excluded: BTreeSet::new(),
    };
    let mut path_ids: HashMap<BString, u32> = HashMap::new();
    let mut is_out: HashMap<u32, bool> = HashMap::new();
    let mut seen_trees: IdSet<(u32, ObjectId)> = IdSet::default();
    let mut seen_pairs: IdSet<(u32, ObjectId)> = IdSet::default();
    // The entries of each folder as last walked: an entry unchanged since then (same name, same
    // id) was handled then, and is skipped without building its path.
    let mut last: IdMap<u32, Vec<(u32, ObjectId)>> = IdMap::default();
    let mut buf = Vec::new();
    let mut stack = Vec::new();
    for (k, id) in order.iter().enumerate() {
        let Some(node) = nodes.get(id) else { continue };
        let k = u32::try_from(k).unwrap_or(u32::MAX);
        stack.push((0u32, node.tree));
        while let Some((dir, tree)) = stack.pop() {
            if !seen_trees.insert((dir, tree)) {
                continue;
            }
            let data: &[u8] = match trees.get(&tree) {
                Some(data) => data,
                None if tree.is_empty_tree() => &[],
                None => read_object(repo, &tree, &mut buf, gix::objs::Kind::Tree)?,
            };
            // A folder's entries are named by the tail of their interned path.
            let skip = match intro.paths.get(dir as usize) {
                Some(p) if !p.is_empty() => p.len() + 1,
                _ => 0,
            };
            let prev = last.remove(&dir).unwrap_or_default();
            let mut now = Vec::with_capacity(prev.len());
            let mut j = 0;
            for entry in gix::objs::TreeRefIter::from_bytes(data) {
                let entry = entry.map_err(|e| GitError::read(&format!("tree {tree}"), e))?;
                let kind = kind_of(entry.mode);
                if kind == Kind::Other {
                    continue;
                }
                let name: &[u8] = entry.filename.as_ref();
                let oid = entry.oid.to_owned();
                let name_of = |pid: u32| -> &[u8] {
                    intro
                        .paths
                        .get(pid as usize)
                        .and_then(|p| p.get(skip..))
                        .unwrap_or_default()
                };
                while prev.get(j).is_some_and(|&(p, _)| name_of(p) < name) {
                    j += 1;
                }
                if let Some(&(p, id)) = prev.get(j) {
                    if id == oid && name_of(p) == name {
                        now.push((p, id));
                        continue;
                    }
                }
                let prefix = intro.paths.get(dir as usize).map(|p| p.as_slice());
                let path = join(prefix.unwrap_or_default(), name);
                let pid = match path_ids.get(&path) {
                    Some(pid) => *pid,
                    None => {
                        let pid = u32::try_from(intro.paths.len()).unwrap_or(u32::MAX);
                        intro.paths.push(path.clone());
                        path_ids.insert(path, pid);
                        pid
                    }
                };
                now.push((pid, oid));
                if kind == Kind::Tree {
                    stack.push((pid, oid));
                    continue;
                }
                if !seen_pairs.insert((pid, oid)) {
                    continue;
                }
                let out = *is_out
                    .entry(pid)
                    .or_insert_with(|| is_excluded(ctx, &intro.display(ctx, pid)));
                if out {
                    intro.excluded.insert(pid);
                    continue;
                }
                let bi = match intro.blob_index.get(&oid) {
                    Some(bi) => *bi,
                    None => {
                        let bi = intro.blobs.len();
                        intro.blobs.push(oid);
                        intro.pairs.push(Vec::new());
                        intro.blob_index.insert(oid, bi);
                        bi
                    }
                };
                if let Some(p) = intro.pairs.get_mut(bi) {
                    p.push((pid, k));
                }
            }
            last.insert(dir, now);
        }
    }
    Ok(intro)
}

/// Delta-base cache of each thread of the object-by-object fallback (the default 64-entry
/// cache lets consecutive reads inflate the same delta chains again).
const PACK_CACHE_BYTES: usize = 64 << 20;

/// Raw trees and commits the pack pass keeps for the walks, at most; past it, they are read
/// again (a repository with gigabytes of trees costs time, not memory).
const TREE_MEMORY_BYTES: u64 = 512 << 20;

/// What the blob scans found.
#[derive(Default)]
struct Scanned {
    /// Blobs with keys.
    hits: IdMap<ObjectId, BlobScan>,
    /// Every blob read and scanned.
    done: IdSet<ObjectId>,
    /// Blobs over `--max-filesize`.
    too_large: IdSet<ObjectId>,
    /// Blobs that could not be read, and why.
    errors: IdMap<ObjectId, String>,
    /// How many of those the repository does not hold.
    missing: usize,
    blobs: u64,
    bytes: u64,
}

impl Scanned {
    /// Whether `id` needs no further reading.
    fn covers(&self, id: &ObjectId) -> bool {
        self.done.contains(id) || self.too_large.contains(id)
    }

    fn merge(&mut self, other: Scanned) {
        self.hits.extend(other.hits);
        self.done.extend(other.done);
        self.too_large.extend(other.too_large);
        self.errors.extend(other.errors);
        self.missing += other.missing;
        self.blobs += other.blobs;
        self.bytes += other.bytes;
    }

    /// Scans blob `id` with `data`, unless `--max-filesize` leaves it out.
    fn scan(&mut self, ctx: &Ctx<'_>, id: ObjectId, data: &[u8], scan_buf: &mut Vec<u8>) {
        if ctx.scanner.is_too_large(data.len() as u64) {
            self.too_large.insert(id);
            return;
        }
        let scan = scan_bytes(ctx, data, scan_buf);
        self.blobs += 1;
        self.bytes += scan.bytes;
        self.done.insert(id);
        if !scan.hits.is_empty() {
            self.hits.insert(id, scan);
        }
    }
}

/// One reading thread's results and buffers.
#[derive(Default)]
struct Worker {
    scanned: Scanned,
    trees: IdMap<ObjectId, Vec<u8>>,
    commits: IdMap<ObjectId, Vec<u8>>,
    buf: Vec<u8>,
    scan_buf: Vec<u8>,
}

/// The result of reading the packs.
struct PackPass {
    /// Raw trees, for the tree walk.
    trees: IdMap<ObjectId, Vec<u8>>,
    /// Raw commits, for the commit walk.
    commits: IdMap<ObjectId, Vec<u8>>,
    /// Every packed blob, scanned.
    scanned: Scanned,
}

/// The pack files of the repository (`objects/pack/*.idx`, sorted).
fn pack_indices(repo: &gix::Repository) -> Vec<std::path::PathBuf> {
    let dir = repo.common_dir().join("objects").join("pack");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
}

/// Collects what the pack traversal's threads find: each thread works on its own clone and
/// hands its results over when the clone is dropped.
struct Sink<'a> {
    worker: Worker,
    shared: &'a Mutex<Vec<Worker>>,
}

impl Clone for Sink<'_> {
    fn clone(&self) -> Self {
        Sink {
            worker: Worker::default(),
            shared: self.shared,
        }
    }
}

impl Drop for Sink<'_> {
    fn drop(&mut self) {
        let worker = std::mem::take(&mut self.worker);
        self.shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(worker);
    }
}

/// Reads every object of every pack once with gix's delta-tree traversal: each object is
/// inflated once and built from its base while the base is still in memory, on `--threads`
/// threads. Reading blobs and trees one by one in commit order instead inflates the same delta
/// chains over and over (several times slower). Blobs are scanned (reachable or not: the tree
/// walk decides later which ones count); trees are kept for the tree walk. A pack that cannot
/// be traversed is left to the object-by-object fallback.
fn pack_pass(ctx: &Ctx<'_>, repo: &gix::Repository, throttle: &Throttle<'_>) -> PackPass {
    let mut pass = PackPass {
        trees: IdMap::default(),
        commits: IdMap::default(),
        scanned: Scanned::default(),
    };
    let threads = thread_count(ctx);
    let done = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let tree_bytes = AtomicU64::new(0);
    let indices: Vec<_> = pack_indices(repo)
        .into_iter()
        .filter_map(|path| {
            let index = gix::odb::pack::index::File::at(&path, repo.object_hash()).ok()?;
            let pack =
                gix::odb::pack::data::File::at(path.with_extension("pack"), repo.object_hash())
                    .ok()?;
            Some((index, pack))
        })
        .collect();
    let total: u64 = indices
        .iter()
        .map(|(i, _)| u64::from(i.num_objects()))
        .sum();
    for (index, pack) in &indices {
        let shared = Mutex::new(Vec::new());
        let mut sink = Sink {
            worker: Worker::default(),
            shared: &shared,
        };
        let (done, bytes, tree_bytes) = (&done, &bytes, &tree_bytes);
        let processor = move |kind: gix::objs::Kind,
                              data: &[u8],
                              entry: &gix::odb::pack::index::Entry,
                              _: &dyn gix::features::progress::Progress|
              -> Result<(), std::io::Error> {
            let w = &mut sink.worker;
            match kind {
                gix::objs::Kind::Blob => {
                    let before = w.scanned.bytes;
                    w.scanned.scan(ctx, entry.oid, data, &mut w.scan_buf);
                    bytes.fetch_add(w.scanned.bytes - before, Ordering::Relaxed);
                }
                gix::objs::Kind::Tree | gix::objs::Kind::Commit => {
                    let len = data.len() as u64;
                    if tree_bytes.fetch_add(len, Ordering::Relaxed) + len <= TREE_MEMORY_BYTES {
                        let map = match kind {
                            gix::objs::Kind::Tree => &mut w.trees,
                            _ => &mut w.commits,
                        };
                        map.insert(entry.oid, data.to_vec());
                    }
                }
                _ => {}
            }
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            throttle.tick(
                Phase::Objects,
                d,
                total,
                bytes.load(Ordering::Relaxed),
                false,
            );
            Ok(())
        };
        let result = index.traverse_with_index(
            pack,
            processor,
            &mut gix::progress::Discard,
            &AtomicBool::new(false),
            gix::odb::pack::index::traverse::with_index::Options {
                check: gix::odb::pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                thread_limit: Some(threads),
            },
        );
        let parts = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        if result.is_err() {
            continue; // the fallback reads what this pack holds, one object at a time
        }
        for part in parts {
            pass.trees.extend(part.trees);
            pass.commits.extend(part.commits);
            pass.scanned.merge(part.scanned);
        }
    }
    throttle.tick(
        Phase::Objects,
        done.load(Ordering::Relaxed),
        total,
        bytes.load(Ordering::Relaxed),
        true,
    );
    pass
}

/// `--threads`, or one per CPU.
fn thread_count(ctx: &Ctx<'_>) -> usize {
    match ctx.config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Scans `blobs` (those the pack pass did not read), in parallel.
fn scan_blobs(ctx: &Ctx<'_>, blobs: &[ObjectId], throttle: &Throttle<'_>) -> Scanned {
    if blobs.is_empty() {
        return Scanned::default();
    }
    let total = blobs.len() as u64;
    let done = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let parts = parallel(ctx, blobs.len(), &|r, i, w: &mut Worker| {
        let Some(id) = blobs.get(i) else { return };
        if is_too_large(ctx, r, id) {
            w.scanned.too_large.insert(*id);
            return;
        }
        match read_object(r, id, &mut w.buf, gix::objs::Kind::Blob) {
            Ok(data) => {
                w.scanned.scan(ctx, *id, data, &mut w.scan_buf);
                bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                if matches!(e, GitError::Missing { .. }) {
                    w.scanned.missing += 1;
                }
                w.scanned.errors.insert(*id, e.to_string());
            }
        }
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        throttle.tick(Phase::Blobs, d, total, bytes.load(Ordering::Relaxed), false);
    });
    let mut all = Scanned::default();
    for part in parts {
        all.merge(part.scanned);
    }
    all
}

/// Runs `work` for tasks `0..tasks` on `--threads` threads, each with its own gix handle (with
/// a large delta cache) and `Worker`; returns the workers.
fn parallel(
    ctx: &Ctx<'_>,
    tasks: usize,
    work: &(dyn Fn(&gix::Repository, usize, &mut Worker) + Sync),
) -> Vec<Worker> {
    let threads = thread_count(ctx).min(tasks.max(1));
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut repo = ctx.repo.to_thread_local();
                    repo.objects.set_pack_cache(|| {
                        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                            PACK_CACHE_BYTES,
                        ))
                    });
                    let mut worker = Worker::default();
                    loop {
                        let task = next.fetch_add(1, Ordering::Relaxed);
                        if task >= tasks {
                            break;
                        }
                        work(&repo, task, &mut worker);
                    }
                    worker
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Answers "is this key still in this file at `HEAD`?".
struct AtHead {
    tree: Option<ObjectId>,
    /// Path → blob at `HEAD`.
    blobs: HashMap<BString, Option<ObjectId>>,
    /// Blobs at `HEAD` that the history scan did not cover (e.g. `HEAD` outside `--branch`).
    scans: HashMap<ObjectId, BlobScan>,
    buf: Vec<u8>,
    scan_buf: Vec<u8>,
}

impl AtHead {
    #[allow(clippy::too_many_arguments)]
    fn has_key(
        &mut self,
        ctx: &Ctx<'_>,
        repo: &gix::Repository,
        scanned: &Scanned,
        path: &BString,
        rule: usize,
        hash: &KeyHash,
    ) -> Result<bool, GitError> {
        let Some(tree) = self.tree else {
            return Ok(false);
        };
        let blob = match self.blobs.get(path) {
            Some(b) => *b,
            None => {
                let b = blob_at(repo, tree, path, &mut self.buf)?;
                self.blobs.insert(path.clone(), b);
                b
            }
        };
        let Some(blob) = blob else {
            return Ok(false);
        };
        let scan = if scanned.done.contains(&blob) {
            scanned.hits.get(&blob)
        } else {
            {
                if !self.scans.contains_key(&blob) {
                    let data = read_object(repo, &blob, &mut self.buf, gix::objs::Kind::Blob)?;
                    let scan = scan_bytes(ctx, data, &mut self.scan_buf);
                    self.scans.insert(blob, scan);
                }
                self.scans.get(&blob)
            }
        };
        Ok(scan.is_some_and(|s| {
            s.hits
                .iter()
                .any(|h| h.candidate.rule_index == rule && h.candidate.key.hash() == *hash)
        }))
    }
}

//! `--history` (#5): everything ever committed on any ref (or one `--branch`), and what only
//! reflogs still reach. First one pass over the packs (gix's delta-tree traversal: every object
//! inflated once, on all threads) scans every packed blob and keeps the commits, parsed. Then
//! commits are put in attribution order (parents first, older first; then the commits only
//! reflogs reach); walking their trees (read again from the packs, in parallel slices of
//! commits) while skipping every (folder, tree id) already seen yields each (path, blob) pair
//! once, with the first commit that had it. Memory does not grow with the pack (#15): raw
//! trees are kept up to a fixed budget, and the packs' mapped pages are dropped as they are
//! read. Reachable blobs
//! outside the packs (loose objects) are scanned one by one. Each key is reported once per path, with its
//! first commit and whether `HEAD` (or the `--branch` tip) still has it there. Never prints.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use gix::bstr::{BString, ByteSlice};
use gix::ObjectId;
use rayon::prelude::*;

use super::tree::{blob_at, join, kind_of, Kind};
use super::{
    cached_commit_info, display_path_of, finding, head_commit, is_excluded, is_partial_clone,
    is_too_large, origin, parse_commit, partial_clone_warning, read_commit, read_object,
    resolve_commit, scan_bytes, shallow_commits, shallow_warning, topo_order, BlobScan, CommitNode,
    Ctx, GitError, IdMap, IdSet, Outcome, Phase, ProgressFn, Throttle,
};
use crate::blob::Tally;
use crate::finding::KeyHash;
use crate::source::{FileError, Skip, SkipReason};

/// Scans the history reachable from every ref, or from `branch` only.
pub(super) fn run(
    ctx: &Ctx<'_>,
    branch: Option<&str>,
    progress: ProgressFn<'_>,
) -> Result<Outcome, GitError> {
    limit_arenas(); // before the pool's threads allocate
    init_pool(ctx);
    let repo = ctx.repo.to_thread_local();
    let shallow = shallow_commits(&repo)?;
    let mut out = Outcome::default();
    if !shallow.is_empty() {
        out.warnings.push(shallow_warning());
    }
    let tips = Tips::read(&repo, branch)?;
    let throttle = Throttle::new(progress);
    let PackPass {
        packs,
        trees,
        mut commits,
        scanned,
    } = pack_pass(ctx, &repo, &shallow, &throttle);
    trim_heap();
    let graph = CommitGraph::read(&repo, &tips, &shallow, &mut commits, &throttle, &mut out)?;
    drop_in_background(commits);
    let intro = introduce(ctx, &graph, &packs, &trees)?;
    drop_in_background(trees);
    drop(packs);
    out.skipped.extend(
        intro
            .excluded
            .iter()
            .map(|&pid| Skip::new(origin(&intro.display(ctx, pid), None), SkipReason::Excluded)),
    );
    let mut scanned = scan_unpacked(ctx, &intro, scanned, &throttle);
    if scanned.missing > 0 && is_partial_clone(&repo) {
        out.warnings.push(partial_clone_warning(scanned.missing));
    }
    out.merge(std::mem::take(&mut scanned.counted));
    report_unscanned(ctx, &intro, &scanned, &mut out);
    let first = first_sightings(&intro, &scanned);
    let head_tree = match tips.head {
        Some(id) => Some(match graph.nodes.get(&id) {
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
    for (key, seen) in first {
        let Some(blob) = intro.blobs.get(seen.blob) else {
            continue;
        };
        let (Some(scan), Some(commit_id)) = (
            scanned.hits.get(blob),
            graph.order.get(seen.commit as usize),
        ) else {
            continue;
        };
        let Some(hit) = scan.hits.get(seen.hit) else {
            continue;
        };
        let mut info = cached_commit_info(&mut infos, &repo, ctx.detector, *commit_id)?.clone();
        info.reflog_only = seen.commit as usize >= graph.reachable;
        let path = intro
            .paths
            .get(key.path as usize)
            .cloned()
            .unwrap_or_default();
        let present = at_head.has_key(ctx, &repo, &scanned, &path, key.rule, &key.hash)?;
        let shown = intro.display(ctx, key.path);
        let mut f = finding(ctx, &shown, Some(commit_id), scan.binary, hit);
        f.commit = Some(info);
        f.present_at_head = Some(present);
        out.findings.push(f);
    }
    Ok(out)
}

/// Keeps the heap in one glibc arena (#15). By default glibc gives each allocating thread an
/// arena of its own (up to 8 per CPU), and what one thread frees stays in its arena: measured
/// on rust-lang/cargo, 145 MiB peak RSS against 123 MiB with one arena, and on git/git 240
/// against 177 MiB, with no more CPU time (the pack pass and the walk allocate little per
/// object). It applies to the rest of the process; arenas made before stay.
fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator setting; no allocation is touched.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Gives the memory the pack pass freed (its delta tree, its threads' buffers) back to the
/// system, so that the tree walk does not add to it (#15: glibc keeps it otherwise).
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap memory to the system; it touches no live
    // allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Sizes rayon's global pool by `--threads` (STYLE.md: one pool for the whole run). A pool
/// built before keeps its size.
fn init_pool(ctx: &Ctx<'_>) {
    // An error only says the global pool exists already.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(thread_count(ctx))
        .build_global();
}

/// Frees a large map (tens of thousands of buffers or nodes) on another thread: the scan does
/// not wait for it (about 5% of a history scan's wall time).
fn drop_in_background<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}

/// Where the history starts: the commits the refs (or `--branch`) point to, `HEAD` (where
/// presence is checked), and the commits reflogs remember.
struct Tips {
    refs: Vec<ObjectId>,
    head: Option<ObjectId>,
    logged: Vec<ObjectId>,
}

impl Tips {
    fn read(repo: &gix::Repository, branch: Option<&str>) -> Result<Tips, GitError> {
        Ok(match branch {
            Some(rev) => {
                let id = resolve_commit(repo, rev)?;
                Tips {
                    refs: vec![id],
                    head: Some(id),
                    logged: Vec::new(),
                }
            }
            None => {
                let head = head_commit(repo)?;
                let mut refs = ref_tips(repo)?;
                refs.extend(head);
                Tips {
                    refs,
                    head,
                    logged: reflog_tips(repo),
                }
            }
        })
    }
}

/// The commits to walk, in attribution order: every commit a ref reaches (parents first, older
/// first), then the commits only a reflog reaches (amended, rebased or reset away), so that a
/// key both hold is attributed to the reachable commit.
struct CommitGraph {
    nodes: IdMap<ObjectId, CommitNode>,
    order: Vec<ObjectId>,
    /// `order[..reachable]` are reachable from a ref.
    reachable: usize,
}

impl CommitGraph {
    /// Takes the commits the pack pass parsed out of `packed`, reads the others.
    fn read(
        repo: &gix::Repository,
        tips: &Tips,
        shallow: &[ObjectId],
        packed: &mut IdMap<ObjectId, CommitNode>,
        throttle: &Throttle<'_>,
        out: &mut Outcome,
    ) -> Result<CommitGraph, GitError> {
        let mut nodes = IdMap::default();
        read_commits(
            repo,
            tips.refs.clone(),
            shallow,
            packed,
            throttle,
            &mut nodes,
        )?;
        let mut reflog_only = IdMap::default();
        let mut walk = ReflogWalk {
            known: &nodes,
            nodes: &mut reflog_only,
            failed: 0,
        };
        for &tip in &tips.logged {
            walk.read(repo, tip, shallow, packed);
        }
        if walk.failed > 0 {
            out.warnings.push(format!(
                "{} commit(s) that only a reflog reaches could not be read and were not scanned",
                walk.failed
            ));
        }
        let mut order = topo_order(&nodes);
        let reachable = order.len();
        order.extend(topo_order(&reflog_only));
        nodes.extend(reflog_only);
        Ok(CommitGraph {
            nodes,
            order,
            reachable,
        })
    }
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
        packed: &mut IdMap<ObjectId, CommitNode>,
    ) {
        let mut stack = vec![tip];
        let mut buf = Vec::new();
        while let Some(id) = stack.pop() {
            if self.known.contains_key(&id) || self.nodes.contains_key(&id) {
                continue;
            }
            let node = match packed.remove(&id) {
                Some(node) => Ok(node),
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

/// Adds every commit reachable from `tips` to `nodes`, each read once (or moved out of
/// `packed`, the commits the pack pass parsed).
fn read_commits(
    repo: &gix::Repository,
    tips: Vec<ObjectId>,
    shallow: &[ObjectId],
    packed: &mut IdMap<ObjectId, CommitNode>,
    throttle: &Throttle<'_>,
    nodes: &mut IdMap<ObjectId, CommitNode>,
) -> Result<(), GitError> {
    let mut stack = tips;
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if nodes.contains_key(&id) {
            continue;
        }
        let node = match packed.remove(&id) {
            Some(node) => node,
            None => read_commit(repo, id, shallow, &mut buf)?,
        };
        stack.extend(node.parents.iter().filter(|p| !nodes.contains_key(*p)));
        nodes.insert(id, node);
        throttle.tick(Phase::Commits, nodes.len() as u64, 0, 0, false);
    }
    Ok(())
}

/// A path where a blob was committed: the first commit (index into the attribution order)
/// that had it there.
#[derive(Clone, Copy, Debug)]
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

/// Delta-base cache of each thread of the tree walk: trees are read again from the packs,
/// mostly along the same delta chains.
const WALK_CACHE_BYTES: usize = 8 << 20;

/// Walks the trees of the commits in attribution order and lists each (path, blob) pair with
/// the first commit that had it. With several threads, the commits are cut into consecutive
/// slices walked in parallel (each starts with a full tree) and the slices are merged in
/// order: the first slice that has a pair holds its first commit, so the result does not
/// depend on the thread count.
fn introduce(
    ctx: &Ctx<'_>,
    graph: &CommitGraph,
    packs: &[gix::odb::pack::Bundle],
    trees: &IdMap<ObjectId, Vec<u8>>,
) -> Result<Introduced, GitError> {
    let slices = commit_slices(graph.order.len(), thread_count(ctx));
    let walks: Vec<Result<SliceFound, GitError>> = slices
        .into_par_iter()
        .map_init(
            || TreeReader::new(ctx, packs, trees),
            |reader, range| {
                let mut walk = SliceWalk::new();
                for k in range {
                    walk.commit(ctx, reader, graph, k)?;
                }
                Ok(walk.finish())
            },
        )
        .collect();
    let mut merge = Merge::default();
    for walk in walks {
        merge.add(walk?)?;
    }
    Ok(merge.intro)
}

/// `len` commits cut into consecutive slices: one per thread and a few more (their walks
/// differ in cost), none with a single thread.
fn commit_slices(len: usize, threads: usize) -> Vec<Range<usize>> {
    let count = if threads <= 1 {
        1
    } else {
        (threads * 4).min(len).max(1)
    };
    let size = len.div_ceil(count).max(1);
    (0..len)
        .step_by(size)
        .map(|start| start..(start + size).min(len))
        .collect()
}

/// Reads trees for one thread of the tree walk: those the pack pass kept, else from the packs
/// it traversed (with a delta cache, dropping the packs' mapped pages every
/// `RELEASE_EVERY_BYTES` read, as the pack pass does), else from the object database (loose
/// trees, packs the pass could not read).
struct TreeReader<'a> {
    repo: gix::Repository,
    packs: &'a [gix::odb::pack::Bundle],
    trees: &'a IdMap<ObjectId, Vec<u8>>,
    inflate: gix::features::zlib::Inflate,
    cache: gix::odb::pack::cache::lru::MemoryCappedHashmap,
    read_bytes: u64,
    buf: Vec<u8>,
}

impl<'a> TreeReader<'a> {
    fn new(
        ctx: &Ctx<'_>,
        packs: &'a [gix::odb::pack::Bundle],
        trees: &'a IdMap<ObjectId, Vec<u8>>,
    ) -> TreeReader<'a> {
        TreeReader {
            repo: ctx.repo.to_thread_local(),
            packs,
            trees,
            inflate: gix::features::zlib::Inflate::default(),
            cache: gix::odb::pack::cache::lru::MemoryCappedHashmap::new(WALK_CACHE_BYTES),
            read_bytes: 0,
            buf: Vec::new(),
        }
    }

    /// The raw entries of tree `id`.
    fn read(&mut self, id: &ObjectId) -> Result<&[u8], GitError> {
        if let Some(data) = self.trees.get(id) {
            return Ok(data);
        }
        if id.is_empty_tree() {
            return Ok(&[]);
        }
        let what = || format!("tree {id}");
        let mut found = None;
        for (i, pack) in self.packs.iter().enumerate() {
            let Some(index) = pack.index.lookup(id) else {
                continue;
            };
            let (data, _) = pack
                .get_object_by_index(index, &mut self.buf, &mut self.inflate, &mut self.cache)
                .map_err(|e| GitError::read(&what(), e))?;
            if data.kind != gix::objs::Kind::Tree {
                return Err(GitError::read(
                    &what(),
                    format_args!("expected a tree, found a {}", data.kind),
                ));
            }
            found = Some(i);
            break;
        }
        let Some(i) = found else {
            return read_object(&self.repo, id, &mut self.buf, gix::objs::Kind::Tree);
        };
        let len = self.buf.len() as u64;
        if (self.read_bytes + len) / RELEASE_EVERY_BYTES > self.read_bytes / RELEASE_EVERY_BYTES {
            if let Some(pack) = self.packs.get(i) {
                release_pages(&pack.pack);
            }
        }
        self.read_bytes += len;
        Ok(&self.buf)
    }
}

/// An entry of a folder as last walked.
#[derive(Clone, Copy)]
struct Entry {
    path: u32,
    id: ObjectId,
}

/// A (path, blob) pair first seen in a slice, at commit `commit`.
struct Found {
    path: u32,
    blob: ObjectId,
    commit: u32,
}

/// What the walk of one slice found, in its own path ids.
struct SliceFound {
    paths: Vec<BString>,
    found: Vec<Found>,
    excluded: BTreeSet<u32>,
}

/// The tree walk of one slice of commits; path ids are its own.
struct SliceWalk {
    paths: Vec<BString>,
    path_ids: HashMap<BString, u32>,
    is_out: HashMap<u32, bool>,
    seen_trees: IdSet<(u32, ObjectId)>,
    seen_pairs: IdSet<(u32, ObjectId)>,
    /// The entries of each folder as last walked: an entry unchanged since then (same name,
    /// same id) was handled then, and is skipped without building its path.
    last: IdMap<u32, Vec<Entry>>,
    /// Pairs in the order first seen.
    found: Vec<Found>,
    excluded: BTreeSet<u32>,
}

impl SliceWalk {
    fn new() -> SliceWalk {
        SliceWalk {
            paths: vec![BString::default()],
            path_ids: HashMap::new(),
            is_out: HashMap::new(),
            seen_trees: IdSet::default(),
            seen_pairs: IdSet::default(),
            last: IdMap::default(),
            found: Vec::new(),
            excluded: BTreeSet::new(),
        }
    }

    fn display(&self, ctx: &Ctx<'_>, pid: u32) -> String {
        let path = self.paths.get(pid as usize).cloned().unwrap_or_default();
        display_path_of(ctx.detector, path.as_bstr())
    }

    /// Keeps what the merge needs; the sets that only served the walk are freed now, not when
    /// every slice is done.
    fn finish(self) -> SliceFound {
        SliceFound {
            paths: self.paths,
            found: self.found,
            excluded: self.excluded,
        }
    }

    /// The id of `path`, interned on first use.
    fn intern(&mut self, path: BString) -> Result<u32, GitError> {
        if let Some(pid) = self.path_ids.get(&path) {
            return Ok(*pid);
        }
        let pid = next_id(self.paths.len(), "distinct paths")?;
        self.paths.push(path.clone());
        self.path_ids.insert(path, pid);
        Ok(pid)
    }

    /// Walks the tree of commit `k` of the attribution order, skipping (folder, tree) pairs
    /// already walked.
    fn commit(
        &mut self,
        ctx: &Ctx<'_>,
        reader: &mut TreeReader<'_>,
        graph: &CommitGraph,
        k: usize,
    ) -> Result<(), GitError> {
        let Some(node) = graph.order.get(k).and_then(|id| graph.nodes.get(id)) else {
            return Ok(());
        };
        let k = next_id(k, "commits")?;
        let mut stack = vec![(0u32, node.tree)];
        while let Some((dir, tree)) = stack.pop() {
            if !self.seen_trees.insert((dir, tree)) {
                continue;
            }
            let data = reader.read(&tree)?;
            self.folder(ctx, dir, tree, data, k, &mut stack)?;
        }
        Ok(())
    }

    /// Handles the entries of folder `dir` (tree `tree`, raw `data`): subtrees go on `stack`,
    /// new (path, blob) pairs to `found`.
    fn folder(
        &mut self,
        ctx: &Ctx<'_>,
        dir: u32,
        tree: ObjectId,
        data: &[u8],
        k: u32,
        stack: &mut Vec<(u32, ObjectId)>,
    ) -> Result<(), GitError> {
        // A folder's entries are named by the tail of their interned path.
        let prefix = self.paths.get(dir as usize).cloned().unwrap_or_default();
        let skip = if prefix.is_empty() {
            0
        } else {
            prefix.len() + 1
        };
        let prev = self.last.remove(&dir).unwrap_or_default();
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
            let paths = &self.paths;
            let name_of = |pid: u32| -> &[u8] {
                paths
                    .get(pid as usize)
                    .and_then(|p| p.get(skip..))
                    .unwrap_or_default()
            };
            while prev.get(j).is_some_and(|e| name_of(e.path) < name) {
                j += 1;
            }
            if let Some(&e) = prev.get(j) {
                if e.id == oid && name_of(e.path) == name {
                    now.push(e);
                    continue;
                }
            }
            let pid = self.intern(join(prefix.as_slice(), name))?;
            now.push(Entry { path: pid, id: oid });
            if kind == Kind::Tree {
                stack.push((pid, oid));
                continue;
            }
            if !self.seen_pairs.insert((pid, oid)) {
                continue;
            }
            let out = match self.is_out.get(&pid) {
                Some(out) => *out,
                None => {
                    let out = is_excluded(ctx, &self.display(ctx, pid));
                    self.is_out.insert(pid, out);
                    out
                }
            };
            if out {
                self.excluded.insert(pid);
                continue;
            }
            self.found.push(Found {
                path: pid,
                blob: oid,
                commit: k,
            });
        }
        self.last.insert(dir, now);
        Ok(())
    }
}

/// Merges the walks of consecutive slices, in order, into one `Introduced`.
struct Merge {
    intro: Introduced,
    path_ids: HashMap<BString, u32>,
    blob_index: IdMap<ObjectId, usize>,
    seen_pairs: IdSet<(u32, ObjectId)>,
}

impl Default for Merge {
    fn default() -> Self {
        Merge {
            intro: Introduced {
                paths: vec![BString::default()],
                blobs: Vec::new(),
                pairs: Vec::new(),
                excluded: BTreeSet::new(),
            },
            path_ids: HashMap::new(),
            blob_index: IdMap::default(),
            seen_pairs: IdSet::default(),
        }
    }
}

impl Merge {
    fn add(&mut self, walk: SliceFound) -> Result<(), GitError> {
        // The global id of each of the slice's path ids, once it is needed.
        let mut ids: Vec<Option<u32>> = vec![None; walk.paths.len()];
        let mut global = |pid: u32, this: &mut Merge| -> Result<u32, GitError> {
            let slot = ids
                .get_mut(pid as usize)
                .expect("a slice's path ids index its own path list");
            if let Some(id) = *slot {
                return Ok(id);
            }
            let path = walk.paths.get(pid as usize).cloned().unwrap_or_default();
            let id = match this.path_ids.get(&path) {
                Some(id) => *id,
                None => {
                    let id = next_id(this.intro.paths.len(), "distinct paths")?;
                    this.intro.paths.push(path.clone());
                    this.path_ids.insert(path, id);
                    id
                }
            };
            *slot = Some(id);
            Ok(id)
        };
        for &pid in &walk.excluded {
            let id = global(pid, self)?;
            self.intro.excluded.insert(id);
        }
        for found in &walk.found {
            let path = global(found.path, self)?;
            // An earlier slice had this pair at an earlier commit.
            if !self.seen_pairs.insert((path, found.blob)) {
                continue;
            }
            let bi = match self.blob_index.get(&found.blob) {
                Some(bi) => *bi,
                None => {
                    let bi = self.intro.blobs.len();
                    self.intro.blobs.push(found.blob);
                    self.intro.pairs.push(Vec::new());
                    self.blob_index.insert(found.blob, bi);
                    bi
                }
            };
            if let Some(p) = self.intro.pairs.get_mut(bi) {
                p.push(PathAt {
                    path,
                    commit: found.commit,
                });
            }
        }
        Ok(())
    }
}

/// Index `index` as the `u32` the history numbers paths and commits with: 2^32 `what` at
/// most (far beyond any repository known), and an error past that rather than a wrong id.
fn next_id(index: usize, what: &str) -> Result<u32, GitError> {
    u32::try_from(index).map_err(|_| GitError::Read {
        message: format!("the history has more {what} than --history can number (2^32)"),
    })
}

/// Scans the reachable blobs the pack pass did not read (loose objects, alternates) and adds
/// them to `scanned`.
fn scan_unpacked(
    ctx: &Ctx<'_>,
    intro: &Introduced,
    mut scanned: Scanned,
    throttle: &Throttle<'_>,
) -> Scanned {
    let rest: Vec<ObjectId> = intro
        .blobs
        .iter()
        .filter(|id| !scanned.covers(id))
        .copied()
        .collect();
    scanned.merge(scan_blobs(ctx, &rest, throttle));
    scanned
}

/// Skips for blobs over `--max-filesize` (at every path that had them), errors for blobs
/// that could not be read, and the archive members a blob's scan left out or could not read
/// (#13), at the blob's first path as the other git scopes do.
fn report_unscanned(ctx: &Ctx<'_>, intro: &Introduced, scanned: &Scanned, out: &mut Outcome) {
    for (bi, id) in intro.blobs.iter().enumerate() {
        let pairs = intro.pairs_of(bi);
        if let (Some(scan), Some(pair)) = (scanned.hits.get(id), pairs.first()) {
            if !scan.issues.is_empty() {
                let at = origin(&intro.display(ctx, pair.path), None);
                ctx.scanner.record_issues(out, &at, &scan.issues);
            }
        }
        if scanned.too_large.contains(id) {
            for pair in pairs {
                let at = origin(&intro.display(ctx, pair.path), None);
                out.skipped.push(Skip::new(at, SkipReason::TooLarge));
            }
        }
        if let (Some(message), Some(pair)) = (scanned.errors.get(id), pairs.first()) {
            let at = origin(&intro.display(ctx, pair.path), None);
            out.errors.push(FileError::new(Some(at), message.clone()));
        }
    }
}

/// A key at a path: what the history scan reports once.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct KeyAt {
    path: u32,
    rule: usize,
    hash: KeyHash,
}

/// Where a key was first seen: commit (attribution index), blob (index into
/// `Introduced::blobs`) and hit (index into that blob's hits).
#[derive(Clone, Copy)]
struct Sighting {
    commit: u32,
    blob: usize,
    hit: usize,
}

/// Each (path, rule, key) with its first commit, then its first place in that blob; sorted by
/// path id, commit, blob, hit.
fn first_sightings(intro: &Introduced, scanned: &Scanned) -> Vec<(KeyAt, Sighting)> {
    let mut best: HashMap<KeyAt, Sighting> = HashMap::new();
    for (bi, id) in intro.blobs.iter().enumerate() {
        let Some(scan) = scanned.hits.get(id) else {
            continue;
        };
        for at in intro.pairs_of(bi) {
            for (hi, hit) in scan.hits.iter().enumerate() {
                let key = KeyAt {
                    path: at.path,
                    rule: hit.candidate.rule_index,
                    hash: hit.candidate.key.hash(),
                };
                let here = Sighting {
                    commit: at.commit,
                    blob: bi,
                    hit: hi,
                };
                best.entry(key)
                    .and_modify(|b| {
                        if (here.commit, here.hit) < (b.commit, b.hit) {
                            *b = here;
                        }
                    })
                    .or_insert(here);
            }
        }
    }
    let mut found: Vec<_> = best.into_iter().collect();
    found.sort_by_key(|(k, s)| (k.path, s.commit, s.blob, s.hit, k.rule, k.hash));
    found
}

/// Delta-base cache of each thread of the object-by-object fallback (the default 64-entry
/// cache lets consecutive reads inflate the same delta chains again).
const PACK_CACHE_BYTES: usize = 64 << 20;

/// Raw trees the pack pass keeps for the tree walk, at most; the walk reads the others again
/// from the packs. #15: this was 512 MiB (git/git has 2.5 GB of trees, so memory grew with the
/// history); reading every tree again costs about 0.25 s of CPU on the 10,000-commit benchmark
/// (24 MB of trees), which this budget keeps whole.
const TREE_MEMORY_BYTES: u64 = 32 << 20;

/// Decompressed bytes after which the pack pass drops the pack's mapped pages from memory
/// (see `release_pages`).
const RELEASE_EVERY_BYTES: u64 = 64 << 20;

/// What the blob scans found.
#[derive(Default)]
struct Scanned {
    /// Blobs with keys, or with archive members left out or unreadable (#13).
    hits: IdMap<ObjectId, BlobScan>,
    /// Every blob read and scanned.
    done: IdSet<ObjectId>,
    /// Blobs over `--max-filesize`.
    too_large: IdSet<ObjectId>,
    /// Blobs that could not be read, and why.
    errors: IdMap<ObjectId, String>,
    /// How many of those the repository does not hold.
    missing: usize,
    /// Blobs scanned and their bytes (only the counts of this tally are used).
    counted: Tally,
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
        self.counted.merge(other.counted);
    }

    /// Scans blob `id` with `data`, unless `--max-filesize` leaves it out.
    fn scan(&mut self, ctx: &Ctx<'_>, id: ObjectId, data: &[u8], scan_buf: &mut Vec<u8>) {
        if ctx.scanner.is_too_large(data.len() as u64) {
            self.too_large.insert(id);
            return;
        }
        let scan = scan_bytes(ctx, data, scan_buf);
        self.counted.count(scan.bytes);
        self.done.insert(id);
        if !scan.hits.is_empty() || !scan.issues.is_empty() {
            self.hits.insert(id, scan);
        }
    }
}

/// One reading thread's results and buffers.
#[derive(Default)]
struct Worker {
    scanned: Scanned,
    trees: IdMap<ObjectId, Vec<u8>>,
    commits: IdMap<ObjectId, CommitNode>,
    buf: Vec<u8>,
    scan_buf: Vec<u8>,
}

/// The result of reading the packs.
struct PackPass {
    /// The packs traversed whole, for the tree walk to read trees from.
    packs: Vec<gix::odb::pack::Bundle>,
    /// Raw trees (up to `TREE_MEMORY_BYTES`), for the tree walk.
    trees: IdMap<ObjectId, Vec<u8>>,
    /// Parsed commits, for the commit walk.
    commits: IdMap<ObjectId, CommitNode>,
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
/// walk decides later which ones count); commits are parsed and kept, trees up to
/// `TREE_MEMORY_BYTES`. A pack that cannot be traversed is left to the object-by-object
/// fallback.
fn pack_pass(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    shallow: &[ObjectId],
    throttle: &Throttle<'_>,
) -> PackPass {
    let mut pass = PackPass {
        packs: Vec::new(),
        trees: IdMap::default(),
        commits: IdMap::default(),
        scanned: Scanned::default(),
    };
    let threads = thread_count(ctx);
    let done = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let inflated = AtomicU64::new(0);
    let tree_bytes = AtomicU64::new(0);
    let indices: Vec<_> = pack_indices(repo)
        .into_iter()
        .filter_map(|path| {
            let index = gix::odb::pack::index::File::at(&path, repo.object_hash()).ok()?;
            let pack =
                gix::odb::pack::data::File::at(path.with_extension("pack"), repo.object_hash())
                    .ok()?;
            Some(gix::odb::pack::Bundle { index, pack })
        })
        .collect();
    let total: u64 = indices
        .iter()
        .map(|b| u64::from(b.index.num_objects()))
        .sum();
    for bundle in indices {
        let (index, pack) = (&bundle.index, &bundle.pack);
        let shared = Mutex::new(Vec::new());
        let mut sink = Sink {
            worker: Worker::default(),
            shared: &shared,
        };
        let (done, bytes, inflated, tree_bytes) = (&done, &bytes, &inflated, &tree_bytes);
        let processor = move |kind: gix::objs::Kind,
                              data: &[u8],
                              entry: &gix::odb::pack::index::Entry,
                              _: &dyn gix::features::progress::Progress|
              -> Result<(), std::io::Error> {
            let w = &mut sink.worker;
            let len = data.len() as u64;
            let before = inflated.fetch_add(len, Ordering::Relaxed);
            if (before + len) / RELEASE_EVERY_BYTES > before / RELEASE_EVERY_BYTES {
                release_pages(pack);
            }
            match kind {
                gix::objs::Kind::Blob => {
                    let before = w.scanned.counted.bytes;
                    w.scanned.scan(ctx, entry.oid, data, &mut w.scan_buf);
                    bytes.fetch_add(w.scanned.counted.bytes - before, Ordering::Relaxed);
                }
                gix::objs::Kind::Tree
                    if tree_bytes.fetch_add(len, Ordering::Relaxed) + len <= TREE_MEMORY_BYTES =>
                {
                    w.trees.insert(entry.oid, data.to_vec());
                }
                gix::objs::Kind::Commit => {
                    // One that does not parse is read again later, where the error is reported.
                    if let Ok(node) = parse_commit(entry.oid, data, shallow) {
                        w.commits.insert(entry.oid, node);
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
        release_pages(pack);
        let parts = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        if result.is_err() {
            continue; // the fallback reads what this pack holds, one object at a time
        }
        for part in parts {
            pass.commits.extend(part.commits);
            pass.trees.extend(part.trees);
            pass.scanned.merge(part.scanned);
        }
        pass.packs.push(bundle);
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

/// Drops the pages of `pack`'s memory map from this process (#15). The traversal touches
/// every page of the pack, and mapped pages count in the resident set until unmapped: without
/// this, peak RSS grows by the size of the pack (317 MB for git/git). The pages stay in the
/// page cache; the next read of one maps it again.
#[cfg(target_os = "linux")]
fn release_pages(pack: &gix::odb::pack::data::File) {
    let Some(map) = pack.entry_slice(0..pack.data_len() as u64) else {
        return;
    };
    // SAFETY: `map` is the whole of the pack's private, read-only file mapping (it starts on
    // a page boundary), alive while `pack` is borrowed. MADV_DONTNEED only drops its page
    // table entries: nothing was written to it, so any later read faults in the same bytes
    // from the file (pack files are never modified in place). No reference sees a change.
    unsafe {
        libc::madvise(
            map.as_ptr() as *mut libc::c_void,
            map.len(),
            libc::MADV_DONTNEED,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn release_pages(_pack: &gix::odb::pack::data::File) {}

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

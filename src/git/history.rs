//! `--history` (#5): everything ever committed on any ref (or one `--branch`). Commits are put
//! in attribution order (parents first, older first); walking their trees while skipping every
//! (folder, tree id) already seen yields each (path, blob) pair once, with the first commit that
//! had it. Each distinct blob is then scanned once, in parallel (one gix handle per thread), and
//! each key is reported once per path, with its first commit and whether `HEAD` (or the
//! `--branch` tip) still has it there.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use gix::bstr::{BString, ByteSlice};
use gix::ObjectId;

use super::tree::{blob_at, join, read_tree, Kind};
use super::{
    commit_info, display_path, finding, head_commit, is_excluded, is_too_large, read_commit,
    read_object, resolve_commit, scan_bytes, shallow_commits, shallow_warning, topo_order,
    BlobScan, CommitNode, Ctx, GitError, Outcome, Phase, ProgressFn, Throttle,
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
    let (tips, head) = match branch {
        Some(rev) => {
            let id = resolve_commit(&repo, rev)?;
            (vec![id], Some(id))
        }
        None => {
            let head = head_commit(&repo)?;
            let mut tips = ref_tips(&repo)?;
            tips.extend(head);
            (tips, head)
        }
    };
    let throttle = Throttle::new(progress);
    let nodes = read_commits(&repo, tips, &shallow, &throttle)?;
    let order = topo_order(&nodes);
    let intro = introduce(ctx, &repo, &nodes, &order)?;
    out.skipped.extend(intro.excluded.iter().map(|&pid| Skip {
        path: intro.display(ctx, pid),
        reason: SkipReason::Excluded,
    }));

    let scanned = scan_blobs(ctx, &intro, &throttle);
    out.blobs_scanned = scanned.blobs;
    out.bytes_scanned = scanned.bytes;
    for &bi in &scanned.too_large {
        for &(pid, _) in intro.pairs.get(bi).map(Vec::as_slice).unwrap_or_default() {
            out.skipped.push(Skip {
                path: intro.display(ctx, pid),
                reason: SkipReason::TooLarge,
            });
        }
    }
    for (bi, message) in &scanned.errors {
        if let Some(&(pid, _)) = intro.pairs.get(*bi).and_then(|p| p.first()) {
            out.errors.push(FileError {
                path: intro.display(ctx, pid),
                message: message.clone(),
            });
        }
    }

    // Each (path, rule, key) keeps its first commit, then its first place in that blob.
    let mut best: HashMap<(u32, usize, KeyHash), (usize, usize, usize)> = HashMap::new();
    for (bi, scan) in &scanned.hits {
        for &(pid, k) in intro.pairs.get(*bi).map(Vec::as_slice).unwrap_or_default() {
            for (hi, hit) in scan.hits.iter().enumerate() {
                let key = (pid, hit.candidate.rule_index, hit.candidate.key.hash());
                let here = (k as usize, *bi, hi);
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
        let (Some(scan), Some(commit_id)) = (scanned.hits.get(&bi), order.get(k)) else {
            continue;
        };
        let Some(hit) = scan.hits.get(hi) else {
            continue;
        };
        let info = match infos.get(commit_id) {
            Some(info) => info,
            None => {
                infos
                    .entry(*commit_id)
                    .or_insert(commit_info(&repo, ctx.detector, *commit_id)?)
            }
        };
        let path = intro.paths.get(pid as usize).cloned().unwrap_or_default();
        let present = at_head.has_key(ctx, &repo, &intro, &scanned, &path, rule, &hash)?;
        let mut f = finding(ctx.detector, &intro.display(ctx, pid), scan.binary, hit);
        f.commit = Some(info.clone());
        f.present_at_head = Some(present);
        out.findings.push(f);
    }
    Ok(out)
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

/// Every commit reachable from `tips`, each read once.
fn read_commits(
    repo: &gix::Repository,
    tips: Vec<ObjectId>,
    shallow: &[ObjectId],
    throttle: &Throttle<'_>,
) -> Result<HashMap<ObjectId, CommitNode>, GitError> {
    let mut nodes = HashMap::new();
    let mut stack = tips;
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if nodes.contains_key(&id) {
            continue;
        }
        let node = read_commit(repo, id, shallow, &mut buf)?;
        stack.extend(node.parents.iter().filter(|p| !nodes.contains_key(*p)));
        nodes.insert(id, node);
        throttle.tick(Phase::Commits, nodes.len() as u64, 0, 0, false);
    }
    Ok(nodes)
}

/// The (path, blob) pairs of the history, each with the first commit that had it.
struct Introduced {
    /// Interned repository paths (files and folders); index 0 is the root.
    paths: Vec<BString>,
    /// Distinct blobs, in the order first seen.
    blobs: Vec<ObjectId>,
    /// Position of each blob in `blobs`.
    blob_index: HashMap<ObjectId, usize>,
    /// For each blob: (path id, attribution index of the first commit with it there).
    pairs: Vec<Vec<(u32, u32)>>,
    /// Paths left out by `--exclude`.
    excluded: BTreeSet<u32>,
}

impl Introduced {
    fn display(&self, ctx: &Ctx<'_>, pid: u32) -> String {
        let path = self.paths.get(pid as usize).cloned().unwrap_or_default();
        display_path(ctx.detector, path.as_bstr())
    }
}

/// Walks the trees of the commits in `order`, skipping (folder, tree) pairs already walked.
fn introduce(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    nodes: &HashMap<ObjectId, CommitNode>,
    order: &[ObjectId],
) -> Result<Introduced, GitError> {
    let mut intro = Introduced {
        paths: vec![BString::default()],
        blobs: Vec::new(),
        blob_index: HashMap::new(),
        pairs: Vec::new(),
        excluded: BTreeSet::new(),
    };
    let mut path_ids: HashMap<BString, u32> = HashMap::new();
    let mut is_out: HashMap<u32, bool> = HashMap::new();
    let mut seen_trees: HashSet<(u32, ObjectId)> = HashSet::new();
    let mut seen_pairs: HashSet<(u32, ObjectId)> = HashSet::new();
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
            for entry in read_tree(repo, &tree, &mut buf)? {
                if entry.kind == Kind::Other {
                    continue;
                }
                let prefix = intro.paths.get(dir as usize).map(|p| p.as_slice());
                let path = join(prefix.unwrap_or_default(), &entry.name);
                let pid = match path_ids.get(&path) {
                    Some(pid) => *pid,
                    None => {
                        let pid = u32::try_from(intro.paths.len()).unwrap_or(u32::MAX);
                        intro.paths.push(path.clone());
                        path_ids.insert(path, pid);
                        pid
                    }
                };
                if entry.kind == Kind::Tree {
                    stack.push((pid, entry.id));
                    continue;
                }
                if !seen_pairs.insert((pid, entry.id)) {
                    continue;
                }
                let out = *is_out
                    .entry(pid)
                    .or_insert_with(|| is_excluded(ctx.excludes, &intro.display(ctx, pid)));
                if out {
                    intro.excluded.insert(pid);
                    continue;
                }
                let bi = match intro.blob_index.get(&entry.id) {
                    Some(bi) => *bi,
                    None => {
                        let bi = intro.blobs.len();
                        intro.blobs.push(entry.id);
                        intro.pairs.push(Vec::new());
                        intro.blob_index.insert(entry.id, bi);
                        bi
                    }
                };
                if let Some(p) = intro.pairs.get_mut(bi) {
                    p.push((pid, k));
                }
            }
        }
    }
    Ok(intro)
}

/// The outcome of scanning the distinct blobs.
#[derive(Default)]
struct Scanned {
    /// Blobs with keys, by index in `Introduced::blobs`.
    hits: HashMap<usize, BlobScan>,
    /// Blobs over `--max-filesize`.
    too_large: Vec<usize>,
    /// Blobs that could not be read, and why.
    errors: Vec<(usize, String)>,
    blobs: u64,
    bytes: u64,
}

/// Scans every distinct blob once, on `--threads` threads.
fn scan_blobs(ctx: &Ctx<'_>, intro: &Introduced, throttle: &Throttle<'_>) -> Scanned {
    let total = intro.blobs.len();
    let threads = match ctx.config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(total.max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let parts: Vec<Scanned> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let repo = ctx.repo.to_thread_local();
                    let mut part = Scanned::default();
                    let mut buf = Vec::new();
                    let mut scan_buf = Vec::new();
                    loop {
                        let bi = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = intro.blobs.get(bi) else { break };
                        if is_too_large(ctx, &repo, id) {
                            part.too_large.push(bi);
                            continue;
                        }
                        match read_object(&repo, id, &mut buf, gix::objs::Kind::Blob) {
                            Ok(data) => {
                                let scan = scan_bytes(
                                    ctx.detector,
                                    data,
                                    &mut scan_buf,
                                    ctx.config.chunk_size_bytes,
                                );
                                part.blobs += 1;
                                part.bytes += scan.bytes;
                                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                                let b = bytes.fetch_add(scan.bytes, Ordering::Relaxed) + scan.bytes;
                                throttle.tick(Phase::Blobs, d, total as u64, b, false);
                                if !scan.hits.is_empty() {
                                    part.hits.insert(bi, scan);
                                }
                            }
                            Err(e) => part.errors.push((bi, e.to_string())),
                        }
                    }
                    part
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    throttle.tick(
        Phase::Blobs,
        done.load(Ordering::Relaxed),
        total as u64,
        bytes.load(Ordering::Relaxed),
        true,
    );
    let mut all = Scanned::default();
    for part in parts {
        all.hits.extend(part.hits);
        all.too_large.extend(part.too_large);
        all.errors.extend(part.errors);
        all.blobs += part.blobs;
        all.bytes += part.bytes;
    }
    all.too_large.sort_unstable();
    all.errors.sort();
    all
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
        intro: &Introduced,
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
        let scan = match intro.blob_index.get(&blob) {
            Some(bi) => scanned.hits.get(bi),
            None => {
                if !self.scans.contains_key(&blob) {
                    let data = read_object(repo, &blob, &mut self.buf, gix::objs::Kind::Blob)?;
                    let scan = scan_bytes(
                        ctx.detector,
                        data,
                        &mut self.scan_buf,
                        ctx.config.chunk_size_bytes,
                    );
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

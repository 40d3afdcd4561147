//! Commit sets (#5, #20, #21): `--since REV`, `--range BASE..HEAD`, and the sets a push brings
//! (`CommitRange`: several tips, several hidden revisions, every ref but some hidden). Reports
//! every line added by the commits reachable from a tip and from nothing hidden, as a push or a
//! pull request adds them. Each commit is compared with its parents; a merge adds only what none
//! of its parents had, so it never re-reports a branch's lines. A key added again later on the
//! same path keeps its first commit. Chooses blobs and attributes commits; the scanning is
//! `Scanner::scan_input`'s (#23).

use std::collections::{BTreeSet, HashMap, HashSet};

use gix::bstr::BString;
use gix::ObjectId;

use rayon::prelude::*;

use super::tree::{diff_trees, Change};
use super::{
    added_hits, cached_commit_info, display_path_of, history, is_excluded, is_partial_clone,
    partial_clone_warning, read_commit, read_object, rename_source, resolve_commit, scan_blob,
    shallow_commits, shallow_warning, topo_order, with_pack_cache, BlobScan, CommitNode, Ctx,
    GitError, IdMap, Outcome,
};
use crate::blob::{self, Attribution};
use crate::config::CommitRange;
use crate::finding::KeyHash;
use crate::source::{FileError, Hit, Skip, SkipReason};

/// Scans the commits of `range`. An empty set (no tip, or every commit hidden) is an empty
/// outcome; a revision that does not resolve to a commit is an error.
pub(super) fn run(ctx: &Ctx<'_>, range: &CommitRange) -> Result<Outcome, GitError> {
    let repo = with_pack_cache(ctx.repo.to_thread_local(), PACK_CACHE_BYTES);
    let set = Set::resolve(&repo, range)?;
    let shallow = shallow_commits(&repo)?;
    let mut buf = Vec::new();
    let nodes = set.walk(&repo, &shallow, &mut buf)?;
    let mut out = Outcome::default();
    if nodes.keys().any(|id| shallow.binary_search(id).is_ok()) {
        out.warnings.push(shallow_warning());
    }
    let order = topo_order(&nodes);
    // #21: the packs of a push hold exactly its objects: read them in one pass.
    let mut prescan = match &ctx.pushed {
        Some(objects) if !order.is_empty() => {
            Some(history::scan_packs_in(ctx, &repo, objects, &shallow))
        }
        _ => None,
    };
    if let Some(p) = prescan.as_mut() {
        out.merge(std::mem::take(&mut p.counted));
    }

    let mut state = State {
        scans: HashMap::new(),
        best: HashMap::new(),
        skipped: BTreeSet::new(),
        missing: HashSet::new(),
        prescan,
        new_buf: Vec::new(),
        old_buf: Vec::new(),
        scan_buf: Vec::new(),
    };
    // The trees of parents outside the set (the commits the set starts from).
    let mut parent_trees: HashMap<ObjectId, ObjectId> = HashMap::new();
    for node in nodes.values() {
        for parent in &node.parents {
            if !nodes.contains_key(parent) && !parent_trees.contains_key(parent) {
                let tree = read_commit(&repo, *parent, &shallow, &mut buf)?.tree;
                parent_trees.insert(*parent, tree);
            }
        }
    }
    // #21: commits are compared with their parents in parallel, a slice of consecutive commits
    // per thread (they share trees, and so the delta bases in each thread's cache), a chunk at a
    // time so that memory holds one chunk's changes; the keys are then taken in order.
    let threads = rayon::current_num_threads().max(1);
    for (c, chunk) in order.chunks(DIFF_CHUNK).enumerate() {
        let per_thread = chunk.len().div_ceil(threads).max(1);
        let diffs: Vec<Result<Vec<Vec<Vec<Change>>>, GitError>> = chunk
            .par_chunks(per_thread)
            .map(|slice| {
                let repo = with_pack_cache(ctx.repo.to_thread_local(), PACK_CACHE_BYTES);
                let mut buf = Vec::new();
                slice
                    .iter()
                    .map(|id| commit_diffs(&repo, &nodes, &parent_trees, id, &mut buf))
                    .collect()
            })
            .collect();
        let mut k = c * DIFF_CHUNK;
        for slice in diffs {
            for commit in slice? {
                state.commit(ctx, &repo, k, &commit, &mut out)?;
                k += 1;
            }
        }
    }

    let State {
        best,
        mut skipped,
        missing,
        ..
    } = state;
    if !missing.is_empty() && is_partial_clone(&repo) {
        out.warnings.push(partial_clone_warning(missing.len()));
    }
    let mut found: Vec<_> = best.into_iter().collect();
    found.sort_by(|(a, ha), (b, hb)| {
        (&a.0, ha.hit.line, ha.hit.column, a.1, ha.commit).cmp(&(
            &b.0,
            hb.hit.line,
            hb.hit.column,
            b.1,
            hb.commit,
        ))
    });
    let mut infos = HashMap::new();
    for ((path, _, _), first) in found {
        let Some(commit_id) = order.get(first.commit) else {
            continue;
        };
        let attribution = Attribution {
            commit: Some(cached_commit_info(&mut infos, &repo, ctx.detector, *commit_id)?.clone()),
            ..Attribution::default()
        };
        let origin = ctx.origin(&path, Some(commit_id));
        let f = ctx
            .scanner
            .finding(&origin, first.binary, &first.hit, &attribution);
        out.findings.push(f);
    }
    out.skipped.extend(std::mem::take(&mut skipped));
    Ok(out)
}

/// Commits compared with their parents per parallel step, at most.
const DIFF_CHUNK: usize = 4096;

/// Delta-base cache of each thread that compares commits.
const PACK_CACHE_BYTES: usize = 32 << 20;

/// How commit `id` differs from each of its parents (from nothing, for a root commit).
fn commit_diffs(
    repo: &gix::Repository,
    nodes: &IdMap<ObjectId, CommitNode>,
    parent_trees: &HashMap<ObjectId, ObjectId>,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<Vec<Vec<Change>>, GitError> {
    let Some(node) = nodes.get(id) else {
        return Ok(Vec::new());
    };
    let mut diffs = Vec::with_capacity(node.parents.len().max(1));
    if node.parents.is_empty() {
        diffs.push(diff_trees(repo, None, Some(node.tree), buf)?);
    }
    for parent in &node.parents {
        let tree = match nodes.get(parent) {
            Some(p) => p.tree,
            None => match parent_trees.get(parent) {
                Some(t) => *t,
                None => return Err(GitError::read(&format!("commit {parent}"), "not read")),
            },
        };
        diffs.push(diff_trees(repo, Some(tree), Some(node.tree), buf)?);
    }
    Ok(diffs)
}

/// A commit set with its revisions resolved: the commits reachable from a tip and from no
/// hidden commit.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Set {
    /// Commits whose ancestry is wanted, sorted, without duplicates.
    pub tips: Vec<ObjectId>,
    /// Commits whose ancestry is left out, sorted, without duplicates.
    pub hidden: Vec<ObjectId>,
}

impl Set {
    /// Resolves `range` in `repo`: its tips and hidden revisions (each must name a commit), and,
    /// with `hide_refs_except`, the commits of every ref under `refs/` but the names it lists.
    pub fn resolve(repo: &gix::Repository, range: &CommitRange) -> Result<Set, GitError> {
        let resolve_all = |revs: &[String]| -> Result<Vec<ObjectId>, GitError> {
            revs.iter().map(|rev| resolve_commit(repo, rev)).collect()
        };
        let mut tips = resolve_all(&range.tips)?;
        let mut hidden = resolve_all(&range.hide)?;
        if let Some(except) = &range.hide_refs_except {
            hidden.extend(ref_commits(repo, except)?);
        }
        tips.sort();
        tips.dedup();
        hidden.sort();
        hidden.dedup();
        Ok(Set { tips, hidden })
    }

    /// The commits of the set, read.
    fn walk(
        &self,
        repo: &gix::Repository,
        shallow: &[ObjectId],
        buf: &mut Vec<u8>,
    ) -> Result<IdMap<ObjectId, CommitNode>, GitError> {
        if self.tips.is_empty() {
            return Ok(IdMap::default());
        }
        if shallow.is_empty() {
            self.walk_full(repo, buf)
        } else {
            self.walk_shallow(repo, shallow, buf)
        }
    }

    /// gix's walk, which stops painting the hidden commits' ancestry as soon as no wanted
    /// commit can be reached.
    fn walk_full(
        &self,
        repo: &gix::Repository,
        buf: &mut Vec<u8>,
    ) -> Result<IdMap<ObjectId, CommitNode>, GitError> {
        let mut nodes = IdMap::default();
        let walk = repo
            .rev_walk(self.tips.iter().copied())
            .with_hidden(self.hidden.iter().copied())
            .all()
            .map_err(|e| GitError::read("commits", e))?;
        for info in walk {
            let info = info.map_err(|e| GitError::read("commits", e))?;
            nodes.insert(info.id, read_commit(repo, info.id, &[], buf)?);
        }
        Ok(nodes)
    }

    /// `walk_full` for a shallow clone, whose hidden walk gix cannot stop at the boundary: the
    /// hidden ancestry is painted in full, which is cheap because a shallow clone is short.
    fn walk_shallow(
        &self,
        repo: &gix::Repository,
        shallow: &[ObjectId],
        buf: &mut Vec<u8>,
    ) -> Result<IdMap<ObjectId, CommitNode>, GitError> {
        let mut hidden = HashSet::new();
        let mut stack = self.hidden.clone();
        while let Some(id) = stack.pop() {
            if hidden.insert(id) {
                stack.extend(read_commit(repo, id, shallow, buf)?.parents);
            }
        }
        let mut nodes = IdMap::default();
        let mut stack = self.tips.clone();
        while let Some(id) = stack.pop() {
            if hidden.contains(&id) || nodes.contains_key(&id) {
                continue;
            }
            let node = read_commit(repo, id, shallow, buf)?;
            stack.extend(node.parents.iter().copied());
            nodes.insert(id, node);
        }
        Ok(nodes)
    }
}

/// The commits the refs under `refs/` point at (branches, tags, remote-tracking refs, notes),
/// except the refs named in `except` (full names) and symbolic refs to them. A ref that does not
/// lead to a commit (a tag of a tree) hides nothing.
fn ref_commits(repo: &gix::Repository, except: &[String]) -> Result<Vec<ObjectId>, GitError> {
    let kept: HashSet<&[u8]> = except.iter().map(|e| e.as_bytes()).collect();
    let is_kept = |name: &[u8]| kept.contains(name);
    let refs = repo.references().map_err(|e| GitError::read("refs", e))?;
    let mut out = Vec::new();
    for r in refs.all().map_err(|e| GitError::read("refs", e))? {
        let mut r = r.map_err(|e| GitError::read("refs", e))?;
        let name = r.name().as_bstr().to_vec();
        if !name.starts_with(b"refs/") || is_kept(&name) {
            continue;
        }
        if let gix::refs::TargetRef::Symbolic(to) = r.target() {
            if is_kept(to.as_bstr()) {
                continue;
            }
        }
        let Ok(id) = r.peel_to_id_in_place() else {
            continue;
        };
        if let Ok(Ok(commit)) = id.object().map(|o| o.peel_to_commit()) {
            out.push(commit.id);
        }
    }
    Ok(out)
}

/// The first commit (in attribution order) that added a key on a path.
struct First {
    commit: usize,
    hit: Hit,
    binary: bool,
}

/// Scan state across the commits.
struct State {
    /// Every blob scanned so far (blobs recur across commits).
    scans: HashMap<ObjectId, BlobScan>,
    /// (path, rule index, key hash) → where it was first added.
    best: HashMap<(String, usize, KeyHash), First>,
    skipped: BTreeSet<Skip>,
    /// Blobs not in the repository (a partial clone), each reported once.
    missing: HashSet<ObjectId>,
    /// #21: the blobs of a push's packs, scanned in one pass beforehand.
    prescan: Option<history::Scanned>,
    new_buf: Vec<u8>,
    old_buf: Vec<u8>,
    scan_buf: Vec<u8>,
}

impl State {
    /// Records the keys that commit number `k` adds; `diffs` compare it with each parent (or
    /// with nothing, for a root commit).
    fn commit(
        &mut self,
        ctx: &Ctx<'_>,
        repo: &gix::Repository,
        k: usize,
        diffs: &[Vec<Change>],
        out: &mut Outcome,
    ) -> Result<(), GitError> {
        let Some((first, rest)) = diffs.split_first() else {
            return Ok(());
        };
        let parents = Parents {
            others: rest
                .iter()
                .map(|d| d.iter().map(|c| (&c.path, c)).collect())
                .collect(),
            deleted: diffs
                .iter()
                .map(|d| {
                    d.iter()
                        .filter(|c| c.new.is_none())
                        .filter_map(|c| c.old)
                        .collect()
                })
                .collect(),
        };
        for change in first {
            let Some(new_id) = change.new else { continue };
            // Unchanged against another parent: the merge took the file from that parent.
            if parents.others.iter().any(|m| !m.contains_key(&change.path)) {
                continue;
            }
            let path = display_path_of(ctx.detector, change.path.as_ref());
            let Some((hits, binary)) = self.scan_new(ctx, repo, &path, new_id, out)? else {
                continue;
            };
            for hit in self.added_keys(ctx, repo, change, new_id, hits, &parents)? {
                let key = (
                    path.clone(),
                    hit.candidate.rule_index,
                    hit.candidate.key.hash(),
                );
                self.best.entry(key).or_insert(First {
                    commit: k,
                    hit,
                    binary,
                });
            }
        }
        Ok(())
    }

    /// The keys of blob `new_id` at `path` (scanned once per blob) and whether it looks binary;
    /// `None` when it is left out (`--exclude`, `--max-filesize`), missing from a partial clone
    /// (an error of the report: the scan goes on) or holds no key.
    fn scan_new(
        &mut self,
        ctx: &Ctx<'_>,
        repo: &gix::Repository,
        path: &str,
        new_id: ObjectId,
        out: &mut Outcome,
    ) -> Result<Option<(Vec<Hit>, bool)>, GitError> {
        if is_excluded(ctx, path) {
            self.skipped
                .insert(Skip::new(ctx.origin(path, None), SkipReason::Excluded));
            return Ok(None);
        }
        if let Some(p) = self
            .prescan
            .as_ref()
            .filter(|p| !self.scans.contains_key(&new_id) && p.done.contains(&new_id))
        {
            // Scanned and counted by the pack pass; its member issues are recorded here, at
            // the path, as the road records them.
            let scan = p.hits.get(&new_id).cloned().unwrap_or_default();
            if !scan.issues.is_empty() {
                ctx.scanner
                    .record_issues(out, &ctx.origin(path, None), &scan.issues);
            }
            self.scans.insert(new_id, scan);
        }
        if !self.scans.contains_key(&new_id) {
            // #23: the road checks the size, reads, scans and counts; a blob too large is
            // skipped at every path that has it, a scanned one is kept for the next.
            match scan_blob(
                ctx,
                repo,
                out,
                path,
                &new_id,
                &mut self.new_buf,
                &mut self.scan_buf,
            ) {
                Ok(blob::Outcome::Scanned(scan)) => {
                    self.scans.insert(new_id, scan);
                }
                Ok(blob::Outcome::Skipped | blob::Outcome::Failed) => return Ok(None),
                Err(e @ GitError::Missing { .. }) => {
                    if self.missing.insert(new_id) {
                        let at = ctx.origin(path, None);
                        out.errors.push(FileError::new(Some(at), e.to_string()));
                    }
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self
            .scans
            .get(&new_id)
            .filter(|scan| !scan.hits.is_empty())
            .map(|scan| (scan.hits.clone(), scan.binary)))
    }

    /// The `hits` of blob `new_id` that `change` adds against every parent: a key a parent
    /// already had (at its version of the path, or in the file this one was renamed from) is
    /// not added by this commit.
    fn added_keys(
        &mut self,
        ctx: &Ctx<'_>,
        repo: &gix::Repository,
        change: &Change,
        new_id: ObjectId,
        hits: Vec<Hit>,
        parents: &Parents<'_>,
    ) -> Result<Vec<Hit>, GitError> {
        let new = read_object(repo, &new_id, &mut self.new_buf, gix::objs::Kind::Blob)?;
        let mut keep = hits;
        for (p, dels) in parents.deleted.iter().enumerate() {
            let parent_change = match p {
                0 => Some(change),
                _ => parents
                    .others
                    .get(p - 1)
                    .and_then(|m| m.get(&change.path).copied()),
            };
            let old = match parent_change.and_then(|c| c.old) {
                // A parent's version a partial clone lacks: every key counts as added,
                // which may report one too many but never misses one.
                Some(old_id) => {
                    match read_object(repo, &old_id, &mut self.old_buf, gix::objs::Kind::Blob) {
                        Ok(data) => Some(data.to_vec()),
                        Err(GitError::Missing { .. }) => None,
                        Err(e) => return Err(e),
                    }
                }
                None => rename_source(repo, &new_id, new, dels, &mut self.old_buf)?,
            };
            keep = added_hits(ctx.scanner, &keep, old.as_deref(), new);
            if keep.is_empty() {
                break;
            }
        }
        Ok(keep)
    }
}

/// How one commit differs from its parents beyond the first: the other parents' changes by
/// path, and the blobs each parent comparison deleted (rename sources).
struct Parents<'a> {
    /// For each parent after the first: its changes by path.
    others: Vec<HashMap<&'a BString, &'a Change>>,
    /// For each parent: the blobs of files the commit deleted against it.
    deleted: Vec<Vec<ObjectId>>,
}

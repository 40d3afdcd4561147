//! `--since REV` and `--range BASE..HEAD` (#5): every line added by the commits reachable from
//! the head and not from the base, as a push or a pull request adds them. Each commit is compared
//! with its parents; a merge adds only what none of its parents had, so it never re-reports a
//! branch's lines. A key added again later on the same path keeps its first commit.

use std::collections::{BTreeSet, HashMap, HashSet};

use gix::bstr::BString;
use gix::ObjectId;

use super::tree::{diff_trees, Change};
use super::{
    added_hits, cached_commit_info, display_path, finding, is_excluded, is_partial_clone,
    is_too_large, partial_clone_warning, read_commit, read_object, rename_source, resolve_commit,
    scan_bytes, shallow_commits, shallow_warning, topo_order, BlobScan, CommitNode, Ctx, GitError,
    IdMap, Outcome,
};
use crate::finding::KeyHash;
use crate::source::{FileError, Hit, Skip, SkipReason};

/// Scans the commits in `base..head`.
pub(super) fn run(ctx: &Ctx<'_>, base: &str, head: &str) -> Result<Outcome, GitError> {
    let repo = ctx.repo.to_thread_local();
    let base_id = resolve_commit(&repo, base)?;
    let head_id = resolve_commit(&repo, head)?;
    let shallow = shallow_commits(&repo)?;
    let mut buf = Vec::new();
    let nodes = if shallow.is_empty() {
        walk_range(&repo, head_id, base_id, &mut buf)?
    } else {
        walk_range_shallow(&repo, head_id, base_id, &shallow, &mut buf)?
    };
    let mut out = Outcome::default();
    if nodes.keys().any(|id| shallow.binary_search(id).is_ok()) {
        out.warnings.push(shallow_warning());
    }
    let order = topo_order(&nodes);

    let mut state = State {
        scans: HashMap::new(),
        best: HashMap::new(),
        skipped: BTreeSet::new(),
        missing: HashSet::new(),
        new_buf: Vec::new(),
        old_buf: Vec::new(),
        scan_buf: Vec::new(),
    };
    let mut parent_trees: HashMap<ObjectId, ObjectId> = HashMap::new();
    for (k, id) in order.iter().enumerate() {
        let Some(node) = nodes.get(id) else { continue };
        let mut diffs = Vec::with_capacity(node.parents.len().max(1));
        if node.parents.is_empty() {
            diffs.push(diff_trees(&repo, None, Some(node.tree), &mut buf)?);
        }
        for parent in &node.parents {
            let tree = match nodes.get(parent) {
                Some(p) => p.tree,
                None => match parent_trees.get(parent) {
                    Some(t) => *t,
                    None => {
                        let t = read_commit(&repo, *parent, &shallow, &mut buf)?.tree;
                        parent_trees.insert(*parent, t);
                        t
                    }
                },
            };
            diffs.push(diff_trees(&repo, Some(tree), Some(node.tree), &mut buf)?);
        }
        state.commit(ctx, &repo, k, &diffs, &mut out)?;
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
        let info = cached_commit_info(&mut infos, &repo, ctx.detector, *commit_id)?;
        let mut f = finding(ctx.detector, &path, first.binary, &first.hit);
        f.commit = Some(info.clone());
        out.findings.push(f);
    }
    out.skipped.extend(std::mem::take(&mut skipped));
    Ok(out)
}

/// The commits reachable from `head` and not from `base` (gix's walk, which stops painting
/// `base`'s ancestry as soon as no wanted commit can be reached).
fn walk_range(
    repo: &gix::Repository,
    head: ObjectId,
    base: ObjectId,
    buf: &mut Vec<u8>,
) -> Result<IdMap<ObjectId, CommitNode>, GitError> {
    let mut nodes = IdMap::default();
    let walk = repo
        .rev_walk([head])
        .with_hidden([base])
        .all()
        .map_err(|e| GitError::read("commits", e))?;
    for info in walk {
        let info = info.map_err(|e| GitError::read("commits", e))?;
        nodes.insert(info.id, read_commit(repo, info.id, &[], buf)?);
    }
    Ok(nodes)
}

/// `walk_range` for a shallow clone, whose hidden walk gix cannot stop at the boundary: the
/// ancestry of `base` is painted in full, which is cheap because a shallow clone is short.
fn walk_range_shallow(
    repo: &gix::Repository,
    head: ObjectId,
    base: ObjectId,
    shallow: &[ObjectId],
    buf: &mut Vec<u8>,
) -> Result<IdMap<ObjectId, CommitNode>, GitError> {
    let mut hidden = HashSet::new();
    let mut stack = vec![base];
    while let Some(id) = stack.pop() {
        if hidden.insert(id) {
            stack.extend(read_commit(repo, id, shallow, buf)?.parents);
        }
    }
    let mut nodes = IdMap::default();
    let mut stack = vec![head];
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
        let others: Vec<HashMap<&BString, &Change>> = rest
            .iter()
            .map(|d| d.iter().map(|c| (&c.path, c)).collect())
            .collect();
        let deleted: Vec<Vec<ObjectId>> = diffs
            .iter()
            .map(|d| {
                d.iter()
                    .filter(|c| c.new.is_none())
                    .filter_map(|c| c.old)
                    .collect()
            })
            .collect();
        for change in first {
            let Some(new_id) = change.new else { continue };
            // Unchanged against another parent: the merge took the file from that parent.
            if others.iter().any(|m| !m.contains_key(&change.path)) {
                continue;
            }
            let path = display_path(ctx.detector, change.path.as_ref());
            if is_excluded(ctx.excludes, &path) {
                self.skipped.insert(Skip {
                    path,
                    reason: SkipReason::Excluded,
                });
                continue;
            }
            if is_too_large(ctx, repo, &new_id) {
                self.skipped.insert(Skip {
                    path,
                    reason: SkipReason::TooLarge,
                });
                continue;
            }
            if !self.scans.contains_key(&new_id) {
                let data =
                    match read_object(repo, &new_id, &mut self.new_buf, gix::objs::Kind::Blob) {
                        Ok(data) => data,
                        // A partial clone lacks it: an error of the report, and the scan goes on.
                        Err(e @ GitError::Missing { .. }) => {
                            if self.missing.insert(new_id) {
                                out.errors.push(FileError {
                                    path,
                                    message: e.to_string(),
                                });
                            }
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                let scan = scan_bytes(
                    ctx.detector,
                    data,
                    &mut self.scan_buf,
                    ctx.config.chunk_size_bytes,
                );
                out.blobs_scanned += 1;
                out.bytes_scanned += scan.bytes;
                self.scans.insert(new_id, scan);
            }
            let Some(scan) = self.scans.get(&new_id) else {
                continue;
            };
            if scan.hits.is_empty() {
                continue;
            }
            let new = read_object(repo, &new_id, &mut self.new_buf, gix::objs::Kind::Blob)?;
            let mut keep = scan.hits.clone();
            for (p, dels) in deleted.iter().enumerate() {
                let parent_change = match p {
                    0 => Some(change),
                    _ => others.get(p - 1).and_then(|m| m.get(&change.path).copied()),
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
                keep = added_hits(&keep, old.as_deref(), new);
                if keep.is_empty() {
                    break;
                }
            }
            for hit in keep {
                let key = (
                    path.clone(),
                    hit.candidate.rule_index,
                    hit.candidate.key.hash(),
                );
                self.best.entry(key).or_insert(First {
                    commit: k,
                    hit,
                    binary: scan.binary,
                });
            }
        }
        Ok(())
    }
}

//! The commits of `--history`: where the history starts (refs, `HEAD`, reflogs) and the commit
//! graph in attribution order (parents first, older first; then what only reflogs reach).
//! Never prints.

use gix::ObjectId;

use super::super::{
    head_commit, read_commit, resolve_commit, topo_order, CommitNode, GitError, IdMap, Outcome,
    Phase, Throttle,
};

/// Where the history starts: the commits the refs (or `--branch`) point to, `HEAD` (where
/// presence is checked), and the commits reflogs remember.
pub(super) struct Tips {
    refs: Vec<ObjectId>,
    /// Where presence at `HEAD` is judged: `HEAD`, or the `--branch` tip.
    pub head: Option<ObjectId>,
    logged: Vec<ObjectId>,
}

impl Tips {
    pub(super) fn read(repo: &gix::Repository, branch: Option<&str>) -> Result<Tips, GitError> {
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
pub(super) struct CommitGraph {
    pub nodes: IdMap<ObjectId, CommitNode>,
    pub order: Vec<ObjectId>,
    /// `order[..reachable]` are reachable from a ref.
    pub reachable: usize,
}

impl CommitGraph {
    /// Takes the commits the pack pass parsed out of `packed`, reads the others.
    pub(super) fn read(
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

#[cfg(test)]
mod tests {
    use super::super::tests::git;
    use super::*;

    #[test]
    fn reachable_commits_come_first_parents_before_children_then_reflog_only_ones() {
        let dir = tempfile::tempdir().unwrap();
        let at = |args: &[&str]| git(dir.path(), args);
        let id = |rev: &str| ObjectId::from_hex(at(&["rev-parse", rev]).as_bytes()).unwrap();
        at(&["init", "-q", "-b", "main"]);
        at(&["commit", "-q", "--allow-empty", "-m", "one"]);
        let one = id("HEAD");
        at(&["commit", "-q", "--allow-empty", "-m", "two"]);
        let two = id("HEAD");
        at(&["reset", "-q", "--hard", "HEAD~1"]);
        at(&["commit", "-q", "--allow-empty", "-m", "three"]);
        let three = id("HEAD");
        at(&["branch", "side", &one.to_string()]);
        at(&["checkout", "-q", "side"]);
        at(&["commit", "-q", "--allow-empty", "-m", "side"]);
        let side = id("HEAD");
        at(&["checkout", "-q", "main"]);

        let repo = gix::open(dir.path()).unwrap();
        let graph = |branch: Option<&str>| {
            let tips = Tips::read(&repo, branch).unwrap();
            let mut out = Outcome::default();
            let graph = CommitGraph::read(
                &repo,
                &tips,
                &[],
                &mut IdMap::default(),
                &Throttle::new(&|_| {}),
                &mut out,
            )
            .unwrap();
            assert!(out.warnings.is_empty(), "{:?}", out.warnings);
            (tips.head, graph)
        };
        let (head, all) = graph(None);
        assert_eq!(head, Some(three));
        assert_eq!(all.reachable, 3);
        assert_eq!(all.order.first(), Some(&one));
        let mut reachable = all.order[..3].to_vec();
        reachable.sort();
        let mut expected = vec![one, three, side];
        expected.sort();
        assert_eq!(reachable, expected);
        assert_eq!(
            &all.order[3..],
            &[two],
            "reset away: only the reflog reaches it"
        );
        assert_eq!(all.nodes.len(), 4);

        let (head, side_only) = graph(Some("side"));
        assert_eq!(head, Some(side));
        assert_eq!(
            side_only.order,
            [one, side],
            "a branch: no reflog, no other ref"
        );
        assert_eq!(side_only.reachable, 2);
    }
}

//! Attribution of `--history` findings: each key once per path, with the first commit that had
//! it there, and whether `HEAD` (or the `--branch` tip) still holds it. Presence is judged per
//! key (#20): a key that `HEAD` holds at another path (the file was moved, or the key copied)
//! is still present, and the finding names where. Never prints.

use std::collections::{HashMap, HashSet};

use gix::bstr::{BString, ByteSlice};
use gix::prelude::Header;
use gix::ObjectId;

use super::super::tree::{blob_at, join, read_tree, Kind};
use super::super::{
    cached_commit_info, display_path_of, read_commit, read_object, BlobScan, Ctx, GitError, Outcome,
};
use super::blobs::Scanned;
use super::commits::{CommitGraph, Tips};
use super::Introduced;
use crate::blob::TOP_DEPTH;
use crate::finding::{Attribution, KeyHash};
use crate::source::Hit;

/// A key at a path: what the history scan reports once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct KeyAt {
    path: u32,
    rule: usize,
    hash: KeyHash,
}

/// Where a key was first seen: commit (attribution index), blob (index into
/// `Introduced::blobs`) and hit (index into that blob's hits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Adds to `out` one finding per (path, key) of the history, with its first commit, whether
/// `HEAD` (or the `--branch` tip) still holds the key, and where when another path holds it.
#[allow(clippy::too_many_arguments)]
pub(super) fn report_findings(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    tips: &Tips,
    graph: &CommitGraph,
    shallow: &[ObjectId],
    intro: &Introduced,
    scanned: &Scanned,
    out: &mut Outcome,
) -> Result<(), GitError> {
    let first = first_sightings(intro, scanned);
    let head_tree = match tips.head {
        Some(id) => Some(match graph.nodes.get(&id) {
            Some(node) => node.tree,
            None => read_commit(repo, id, shallow, &mut Vec::new())?.tree,
        }),
        None => None,
    };
    let mut at_head = AtHead {
        tree: head_tree,
        blobs: HashMap::new(),
        scans: HashMap::new(),
        keys: None,
        wanted: first.iter().map(|(k, _)| (k.rule, k.hash)).collect(),
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
        let mut info = cached_commit_info(&mut infos, repo, ctx.detector, *commit_id)?.clone();
        info.reflog_only = seen.commit as usize >= graph.reachable;
        let path = intro
            .paths
            .get(key.path as usize)
            .cloned()
            .unwrap_or_default();
        let presence = at_head.presence(ctx, repo, scanned, &path, key.rule, &key.hash)?;
        let head_path = match &presence {
            Presence::Elsewhere(other) => Some(display_path_of(ctx.detector, other.as_bstr())),
            _ => None,
        };
        let attribution = Attribution {
            commit: Some(info),
            present_at_head: Some(presence != Presence::Gone),
            head_path,
        };
        let origin = ctx.origin(&intro.display(ctx, key.path), Some(commit_id));
        out.findings
            .push(ctx.scanner.finding(&origin, scan.binary, hit, &attribution));
    }
    Ok(())
}

/// Whether `HEAD` still holds a key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Presence {
    /// In the file at the finding's own path.
    Here,
    /// Not at the finding's path, but at this one (the first in byte order).
    Elsewhere(BString),
    /// Nowhere in `HEAD`'s tree: deleted later.
    Gone,
}

/// Answers "is this key still at `HEAD`?": in the finding's own file first, then anywhere in
/// `HEAD`'s tree (walked once, the first time a key is not at its own path).
struct AtHead {
    tree: Option<ObjectId>,
    /// Path → blob at `HEAD`.
    blobs: HashMap<BString, Option<ObjectId>>,
    /// Blobs at `HEAD` that the history scan did not cover (e.g. over `--max-filesize`).
    scans: HashMap<ObjectId, BlobScan>,
    /// The paths at `HEAD` of each key of `wanted`, once needed.
    keys: Option<HeadKeys>,
    /// The keys the report has findings for.
    wanted: HashSet<(usize, KeyHash)>,
    buf: Vec<u8>,
    scan_buf: Vec<u8>,
}

impl AtHead {
    fn presence(
        &mut self,
        ctx: &Ctx<'_>,
        repo: &gix::Repository,
        scanned: &Scanned,
        path: &BString,
        rule: usize,
        hash: &KeyHash,
    ) -> Result<Presence, GitError> {
        let Some(tree) = self.tree else {
            return Ok(Presence::Gone);
        };
        if self.has_key(ctx, repo, scanned, tree, path, rule, hash)? {
            return Ok(Presence::Here);
        }
        let keys = match &mut self.keys {
            Some(keys) => keys,
            none => none.insert(HeadKeys::read(
                ctx,
                repo,
                scanned,
                tree,
                &self.wanted,
                &mut self.buf,
            )?),
        };
        Ok(keys.presence_elsewhere(path, rule, hash))
    }

    /// Whether the file at `path` in `HEAD`'s tree holds the key. Its blob is read and scanned
    /// when the history scan did not (even over `--max-filesize`: the question is whether the
    /// key is still there).
    #[allow(clippy::too_many_arguments)]
    fn has_key(
        &mut self,
        ctx: &Ctx<'_>,
        repo: &gix::Repository,
        scanned: &Scanned,
        tree: ObjectId,
        path: &BString,
        rule: usize,
        hash: &KeyHash,
    ) -> Result<bool, GitError> {
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
            if !self.scans.contains_key(&blob) {
                let data = read_object(repo, &blob, &mut self.buf, gix::objs::Kind::Blob)?;
                let scan = ctx.scanner.scan_bytes(data, TOP_DEPTH, &mut self.scan_buf);
                self.scans.insert(blob, scan);
            }
            self.scans.get(&blob)
        };
        Ok(scan.is_some_and(|s| has_hit(&s.hits, rule, hash)))
    }
}

fn has_hit(hits: &[Hit], rule: usize, hash: &KeyHash) -> bool {
    hits.iter()
        .any(|h| h.candidate.rule_index == rule && h.candidate.key.hash() == *hash)
}

/// The paths at `HEAD` that hold each key of interest.
#[derive(Default)]
struct HeadKeys {
    paths: HashMap<(usize, KeyHash), Vec<BString>>,
}

impl HeadKeys {
    /// Walks `HEAD`'s tree (`tree`) and keeps, for each key of `wanted`, the paths that hold
    /// it. A blob's keys are those the history scan found; a blob it did not read (a path that
    /// `--exclude` leaves out, in a loose object) is read and scanned now, unless it is over
    /// `--max-filesize` or cannot be read (then it holds no key here: it is not a finding's own
    /// file, which `AtHead::has_key` reads whatever its size).
    fn read(
        ctx: &Ctx<'_>,
        repo: &gix::Repository,
        scanned: &Scanned,
        tree: ObjectId,
        wanted: &HashSet<(usize, KeyHash)>,
        buf: &mut Vec<u8>,
    ) -> Result<HeadKeys, GitError> {
        let mut keys = HeadKeys::default();
        let mut scan_buf = Vec::new();
        let mut stack = vec![(BString::default(), tree)];
        while let Some((prefix, tree)) = stack.pop() {
            for entry in read_tree(repo, &tree, buf)? {
                match entry.kind {
                    Kind::Tree => stack.push((join(&prefix, &entry.name), entry.id)),
                    Kind::Blob => {
                        let id = &entry.id;
                        if let Some(scan) = scanned.hits.get(id) {
                            keys.add(&join(&prefix, &entry.name), &scan.hits, wanted);
                        } else if !scanned.covers(id) {
                            let size = repo.objects.try_header(id).ok().flatten();
                            if size.is_some_and(|h| !ctx.scanner.is_too_large(h.size())) {
                                if let Ok(data) = read_object(repo, id, buf, gix::objs::Kind::Blob)
                                {
                                    let scan =
                                        ctx.scanner.scan_bytes(data, TOP_DEPTH, &mut scan_buf);
                                    keys.add(&join(&prefix, &entry.name), &scan.hits, wanted);
                                }
                            }
                        }
                    }
                    Kind::Other => {}
                }
            }
        }
        for paths in keys.paths.values_mut() {
            paths.sort();
            paths.dedup();
        }
        Ok(keys)
    }

    /// Records that the file at `path` holds `hits` (only the keys of `wanted` are kept).
    fn add(&mut self, path: &BString, hits: &[Hit], wanted: &HashSet<(usize, KeyHash)>) {
        for hit in hits {
            let key = (hit.candidate.rule_index, hit.candidate.key.hash());
            if wanted.contains(&key) {
                self.paths.entry(key).or_default().push(path.clone());
            }
        }
    }

    /// Where `HEAD` holds the key, other than at `path`: the first such path, else `Gone`.
    fn presence_elsewhere(&self, path: &BString, rule: usize, hash: &KeyHash) -> Presence {
        self.paths
            .get(&(rule, *hash))
            .and_then(|paths| paths.iter().find(|p| *p != path))
            .map_or(Presence::Gone, |p| Presence::Elsewhere(p.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::PathAt;
    use super::*;

    /// The scan of `text` with the built-in rules.
    fn scan_of(text: &str) -> BlobScan {
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules compile");
        let detector = crate::detect::Detector::new(&rules);
        crate::source::scan_stream(text.as_bytes(), &detector, &mut Vec::new(), 1 << 16)
            .expect("reading a slice cannot fail")
    }

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    const A: &str = "leadey_sk_live_u8jzPde0IgxLd6GncfBA";
    const B: &str = "leadey_sk_live_Qm3vT9xWcL2pRk7HsY4e";

    #[test]
    fn each_key_is_attributed_once_per_path_to_its_first_commit() {
        // Blob 1 (key A) at `a` from commit 3 and at `b` from commit 1; blob 2 (keys B, A) at
        // `a` from commit 2: A at `a` is first seen in blob 2 (commit 2), at `b` in blob 1.
        let intro = Introduced {
            paths: vec!["".into(), "a".into(), "b".into()],
            blobs: vec![id(1), id(2)],
            pairs: vec![
                vec![PathAt { path: 2, commit: 1 }, PathAt { path: 1, commit: 3 }],
                vec![PathAt { path: 1, commit: 2 }],
            ],
            excluded: Default::default(),
        };
        let mut scanned = Scanned::default();
        scanned.hits.insert(id(1), scan_of(&format!("k={A}\n")));
        scanned
            .hits
            .insert(id(2), scan_of(&format!("j={B}\nk={A}\n")));
        let hash = |k: &str| scan_of(k).hits[0].candidate.key.hash();
        let got: Vec<(u32, KeyHash, Sighting)> = first_sightings(&intro, &scanned)
            .into_iter()
            .map(|(k, s)| (k.path, k.hash, s))
            .collect();
        let at = |commit, blob, hit| Sighting { commit, blob, hit };
        assert_eq!(
            got,
            [
                (1, hash(B), at(2, 1, 0)),
                (1, hash(A), at(2, 1, 1)),
                (2, hash(A), at(1, 0, 0)),
            ]
        );
    }

    #[test]
    fn a_key_moved_to_another_path_is_present_elsewhere_and_a_deleted_one_is_gone() {
        let a = scan_of(&format!("k={A}\n"));
        let b = scan_of(&format!("k={B}\n"));
        let key = |s: &BlobScan| {
            (
                s.hits[0].candidate.rule_index,
                s.hits[0].candidate.key.hash(),
            )
        };
        let wanted: HashSet<_> = [key(&a), key(&b)].into_iter().collect();
        let mut keys = HeadKeys::default();
        // At HEAD, A is in `z/new.env` and `m/copy.env`; B nowhere; an unwanted key is not kept.
        keys.add(&"z/new.env".into(), &a.hits, &wanted);
        keys.add(&"m/copy.env".into(), &a.hits, &wanted);
        keys.add(
            &"other.env".into(),
            &scan_of("k=leadey_sk_live_Zr8Kq2WmX5nTb7LcP0sV\n").hits,
            &HashSet::new(),
        );
        for paths in keys.paths.values_mut() {
            paths.sort();
        }
        assert_eq!(keys.paths.len(), 1);
        let (rule, hash) = key(&a);
        assert_eq!(
            keys.presence_elsewhere(&"old.env".into(), rule, &hash),
            Presence::Elsewhere("m/copy.env".into()),
            "the first path in byte order"
        );
        assert_eq!(
            keys.presence_elsewhere(&"m/copy.env".into(), rule, &hash),
            Presence::Elsewhere("z/new.env".into()),
            "never the finding's own path"
        );
        let (rule, hash) = key(&b);
        assert_eq!(
            keys.presence_elsewhere(&"old.env".into(), rule, &hash),
            Presence::Gone
        );
    }
}

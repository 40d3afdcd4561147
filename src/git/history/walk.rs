//! The tree walk of `--history` (#5, #15): the trees of every commit, in attribution order,
//! walked once per (folder, tree id), listing each (path, blob) pair with the first commit that
//! had it. Consecutive slices of commits are walked in parallel on the run's rayon pool and
//! merged in order, so the result does not depend on the thread count. Never prints.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

use gix::bstr::{BString, ByteSlice};
use gix::ObjectId;
use rayon::prelude::*;

use super::super::tree::{join, kind_of, Kind};
use super::super::{display_path_of, is_excluded, read_object, Ctx, GitError, IdMap, IdSet};
use super::blobs::stopped;
use super::commits::CommitGraph;
use super::pages::{Pages, RELEASE_EVERY_BYTES};
use super::{thread_count, Introduced, PathAt};

/// Delta-base cache of each thread of the tree walk: trees are read again from the packs,
/// mostly along the same delta chains.
const WALK_CACHE_BYTES: usize = 8 << 20;

/// Walks the trees of the commits in attribution order and lists each (path, blob) pair with
/// the first commit that had it. With several threads, the commits are cut into consecutive
/// slices walked in parallel (each starts with a full tree) and the slices are merged in
/// order: the first slice that has a pair holds its first commit, so the result does not
/// depend on the thread count.
///
/// A slice whose walk panics fails the scan with an internal error: without its pairs, no
/// attribution can be trusted.
pub(super) fn introduce(
    ctx: &Ctx<'_>,
    graph: &CommitGraph,
    packs: &[gix::odb::pack::Bundle],
    pages: &[Pages<'_>],
    trees: &IdMap<ObjectId, Vec<u8>>,
) -> Result<Introduced, GitError> {
    let slices = commit_slices(graph.order.len(), thread_count());
    let excluded =
        |path: &BString| is_excluded(ctx, &display_path_of(ctx.detector, path.as_bstr()));
    let walks: Vec<Result<SliceFound, GitError>> = slices
        .into_par_iter()
        .map_init(
            || TreeReader::new(ctx, packs, pages, trees),
            |reader, range| {
                catch_unwind(AssertUnwindSafe(|| {
                    let mut walk = SliceWalk::new();
                    for k in range {
                        walk.commit(&excluded, reader, graph, k)?;
                    }
                    Ok(walk.finish())
                }))
                .unwrap_or_else(|panic| {
                    Err(GitError::Read {
                        message: stopped(&*panic),
                    })
                })
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
    /// The pages of each of `packs`.
    pages: &'a [Pages<'a>],
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
        pages: &'a [Pages<'a>],
        trees: &'a IdMap<ObjectId, Vec<u8>>,
    ) -> TreeReader<'a> {
        TreeReader {
            repo: ctx.repo.to_thread_local(),
            packs,
            pages,
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
            if let Some(pages) = self.pages.get(i) {
                pages.release();
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
        excluded: &dyn Fn(&BString) -> bool,
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
            self.folder(excluded, dir, tree, data, k, &mut stack)?;
        }
        Ok(())
    }

    /// Handles the entries of folder `dir` (tree `tree`, raw `data`): subtrees go on `stack`,
    /// new (path, blob) pairs to `found`, unless `excluded` (asked once per path) leaves their
    /// path out.
    fn folder(
        &mut self,
        excluded: &dyn Fn(&BString) -> bool,
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
                    let path = self.paths.get(pid as usize).cloned().unwrap_or_default();
                    let out = excluded(&path);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    /// A raw git tree of `(mode, name, id)` entries (already in git's order).
    fn raw_tree(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut data = Vec::new();
        for (mode, name, n) in entries {
            data.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            data.extend_from_slice(&[*n; 20]);
        }
        data
    }

    /// The walk's pairs as (path, blob number, commit).
    fn pairs(walk: &SliceWalk) -> Vec<(String, u8, u32)> {
        walk.found
            .iter()
            .map(|f| {
                (
                    walk.paths[f.path as usize].to_string(),
                    f.blob.as_bytes()[0],
                    f.commit,
                )
            })
            .collect()
    }

    #[test]
    fn commits_are_cut_into_consecutive_slices_that_cover_them_all() {
        assert_eq!(commit_slices(10, 1), vec![Range { start: 0, end: 10 }]);
        assert_eq!(commit_slices(10, 2), [0..2, 2..4, 4..6, 6..8, 8..10]);
        assert_eq!(commit_slices(3, 4), [0..1, 1..2, 2..3]);
        assert!(commit_slices(0, 4).is_empty());
        for (len, threads) in [(1, 8), (97, 3), (1000, 16)] {
            let slices = commit_slices(len, threads);
            assert_eq!(slices.first().map(|r| r.start), Some(0));
            assert_eq!(slices.last().map(|r| r.end), Some(len));
            assert!(slices.windows(2).all(|w| w[0].end == w[1].start));
            assert!(slices.iter().all(|r| !r.is_empty()));
        }
    }

    #[test]
    fn a_folder_yields_new_pairs_once_and_leaves_out_links_and_excluded_paths() {
        let mut walk = SliceWalk::new();
        let excluded = |p: &BString| p.starts_with(b"vendor");
        let mut stack = Vec::new();
        let first = raw_tree(&[
            ("100644", "a.txt", 1),
            ("40000", "lib", 2),
            ("120000", "link", 3),
            ("100755", "run.sh", 4),
            ("100644", "vendor.txt", 5),
        ]);
        walk.folder(&excluded, 0, id(9), &first, 0, &mut stack)
            .unwrap();
        assert_eq!(
            pairs(&walk),
            [("a.txt".to_string(), 1, 0), ("run.sh".to_string(), 4, 0)]
        );
        let subtrees: Vec<(String, u8)> = stack
            .iter()
            .map(|(pid, id)| (walk.paths[*pid as usize].to_string(), id.as_bytes()[0]))
            .collect();
        assert_eq!(subtrees, [("lib".to_string(), 2)]);
        let excluded_paths: Vec<String> = walk
            .excluded
            .iter()
            .map(|p| walk.paths[*p as usize].to_string())
            .collect();
        assert_eq!(excluded_paths, ["vendor.txt"]);
        // The next commit: `a.txt` unchanged, `run.sh` changed, `b.txt` new; the old
        // `run.sh` blob coming back later is not new at that path.
        stack.clear();
        let second = raw_tree(&[
            ("100644", "a.txt", 1),
            ("100644", "b.txt", 6),
            ("100755", "run.sh", 7),
        ]);
        walk.folder(&excluded, 0, id(10), &second, 1, &mut stack)
            .unwrap();
        walk.folder(&excluded, 0, id(9), &first, 2, &mut stack)
            .unwrap();
        assert_eq!(
            pairs(&walk),
            [
                ("a.txt".to_string(), 1, 0),
                ("run.sh".to_string(), 4, 0),
                ("b.txt".to_string(), 6, 1),
                ("run.sh".to_string(), 7, 1),
            ]
        );
        assert!(walk
            .folder(&excluded, 0, id(11), b"100644 broken", 3, &mut stack)
            .is_err());
    }

    #[test]
    fn slices_merge_in_order_so_the_first_commit_wins() {
        let found = |path, blob, commit| Found {
            path,
            blob: id(blob),
            commit,
        };
        let mut merge = Merge::default();
        merge
            .add(SliceFound {
                paths: vec!["".into(), "a".into(), "skip".into()],
                found: vec![found(1, 1, 0)],
                excluded: [2].into_iter().collect(),
            })
            .unwrap();
        merge
            .add(SliceFound {
                paths: vec!["".into(), "b".into(), "a".into()],
                found: vec![found(2, 1, 5), found(1, 1, 6), found(1, 2, 7)],
                excluded: BTreeSet::new(),
            })
            .unwrap();
        let intro = merge.intro;
        let paths: Vec<String> = intro.paths.iter().map(|p| p.to_string()).collect();
        // A slice's excluded paths are numbered before its pairs' paths.
        assert_eq!(paths, ["", "skip", "a", "b"]);
        assert_eq!(intro.blobs, [id(1), id(2)]);
        let at = |path, commit| PathAt { path, commit };
        assert_eq!(intro.pairs, [vec![at(2, 0), at(3, 6)], vec![at(3, 7)]]);
        assert_eq!(intro.excluded.into_iter().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn ids_past_u32_are_an_error_not_a_wrong_number() {
        assert_eq!(next_id(7, "commits").unwrap(), 7);
        let err = next_id(u32::MAX as usize + 1, "commits").unwrap_err();
        assert!(err.to_string().contains("more commits than"), "{err}");
    }
}

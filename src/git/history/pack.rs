//! The pack pass of `--history` (#5, #15): every object of every pack read once with gix's
//! delta-tree traversal, every packed blob scanned, commits parsed and kept, trees kept up to a
//! budget for the tree walk. Never prints.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use gix::ObjectId;

use super::super::{parse_commit, CommitNode, Ctx, IdMap, Phase, Throttle};
use super::blobs::{stopped, Scanned, Worker};
use super::pages::{Pages, RELEASE_EVERY_BYTES};
use super::thread_count;

/// Raw trees the pack pass keeps for the tree walk, at most; the walk reads the others again
/// from the packs. #15: this was 512 MiB (git/git has 2.5 GB of trees, so memory grew with the
/// history); reading every tree again costs about 0.25 s of CPU on the 10,000-commit benchmark
/// (24 MB of trees), which this budget keeps whole.
const TREE_MEMORY_BYTES: u64 = 32 << 20;

/// The result of reading the packs.
pub(in crate::git) struct PackPass {
    /// The packs traversed whole, for the tree walk to read trees from.
    pub packs: Vec<gix::odb::pack::Bundle>,
    /// Raw trees (up to `TREE_MEMORY_BYTES`), for the tree walk.
    pub trees: IdMap<ObjectId, Vec<u8>>,
    /// Parsed commits, for the commit walk.
    pub commits: IdMap<ObjectId, CommitNode>,
    /// Every packed blob, scanned.
    pub scanned: Scanned,
}

/// The pack files of the repository (`objects/pack/*.idx`, sorted).
fn pack_indices(repo: &gix::Repository) -> Vec<std::path::PathBuf> {
    pack_indices_in(&repo.common_dir().join("objects"))
}

/// The pack files of object directory `objects` (`pack/*.idx`, sorted).
pub(in crate::git) fn pack_indices_in(objects: &std::path::Path) -> Vec<std::path::PathBuf> {
    let dir = objects.join("pack");
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
/// inflated once and built from its base while the base is still in memory, on as many
/// threads as the run's pool has (gix runs its own scoped threads for it; the pool idles
/// meanwhile). Reading blobs and trees one by one in commit order instead inflates the same
/// delta chains over and over (several times slower). Blobs are scanned (reachable or not: the
/// tree walk decides later which ones count); commits are parsed and kept, trees up to
/// `TREE_MEMORY_BYTES`. A pack that cannot be traversed is left to the object-by-object
/// fallback; if that is because a thread panicked, the report says so.
pub(super) fn pass(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    shallow: &[ObjectId],
    throttle: &Throttle<'_>,
) -> PackPass {
    pass_over(ctx, repo, pack_indices(repo), shallow, throttle)
}

/// [`pass`] over the packs of index files `indices` only (#21: the packs a push brings).
pub(in crate::git) fn pass_over(
    ctx: &Ctx<'_>,
    repo: &gix::Repository,
    indices: Vec<std::path::PathBuf>,
    shallow: &[ObjectId],
    throttle: &Throttle<'_>,
) -> PackPass {
    let mut pass = PackPass {
        packs: Vec::new(),
        trees: IdMap::default(),
        commits: IdMap::default(),
        scanned: Scanned::default(),
    };
    let threads = thread_count();
    let done = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let inflated = AtomicU64::new(0);
    let tree_bytes = AtomicU64::new(0);
    let indices: Vec<_> = indices
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
        let pages = Pages::of(pack);
        let shared = Mutex::new(Vec::new());
        let panics = Mutex::new(Vec::new());
        let mut sink = Sink {
            worker: Worker::default(),
            shared: &shared,
        };
        let (done, bytes, inflated, tree_bytes, panic_log) =
            (&done, &bytes, &inflated, &tree_bytes, &panics);
        let processor = move |kind: gix::objs::Kind,
                              data: &[u8],
                              entry: &gix::odb::pack::index::Entry,
                              _: &dyn gix::features::progress::Progress|
              -> Result<(), std::io::Error> {
            let w = &mut sink.worker;
            let read = catch_unwind(AssertUnwindSafe(|| {
                let len = data.len() as u64;
                let before = inflated.fetch_add(len, Ordering::Relaxed);
                if (before + len) / RELEASE_EVERY_BYTES > before / RELEASE_EVERY_BYTES {
                    pages.release();
                }
                match kind {
                    gix::objs::Kind::Blob => {
                        // A scan that panics leaves an error for this blob (`Scanned::scan`).
                        let before = w.scanned.counted.bytes;
                        w.scanned.scan(ctx, entry.oid, data, &mut w.scan_buf);
                        bytes.fetch_add(w.scanned.counted.bytes - before, Ordering::Relaxed);
                    }
                    gix::objs::Kind::Tree
                        if tree_bytes.fetch_add(len, Ordering::Relaxed) + len
                            <= TREE_MEMORY_BYTES =>
                    {
                        w.trees.insert(entry.oid, data.to_vec());
                    }
                    gix::objs::Kind::Commit => {
                        // One that does not parse is read again later, where the error is
                        // reported.
                        if let Ok(node) = parse_commit(entry.oid, data, shallow) {
                            w.commits.insert(entry.oid, node);
                        }
                    }
                    _ => {}
                }
            }));
            if let Err(panic) = read {
                let message = stopped(&*panic);
                panic_log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(message.clone());
                return Err(std::io::Error::other(message));
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
        pages.release();
        let parts = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        for message in panics.into_inner().unwrap_or_else(|e| e.into_inner()) {
            pass.scanned.stopped.push(format!(
                "{message}; the pack was read again object by object"
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_indices_lists_the_idx_files_sorted_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        super::super::tests::git(dir.path(), &["init", "-q", "--bare", "r.git"]);
        let packs = dir.path().join("r.git/objects/pack");
        std::fs::create_dir_all(&packs).unwrap();
        for name in [
            "pack-b.idx",
            "pack-a.idx",
            "pack-a.pack",
            "pack-a.keep",
            "x.idx.tmp",
        ] {
            std::fs::write(packs.join(name), b"").unwrap();
        }
        let repo = gix::open(dir.path().join("r.git")).unwrap();
        let names: Vec<String> = pack_indices(&repo)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["pack-a.idx", "pack-b.idx"]);
    }
}

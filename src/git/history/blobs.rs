//! What the history's blob scans found (`Scanned`), the workers that scan on the run's rayon
//! pool, and the report entries for blobs that were not scanned. Shared by the pack pass and the
//! object-by-object fallback. A worker that panics is an error in the report, naming what it
//! lost, never a default value (STYLE.md §1). Never prints.

use std::any::Any;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use gix::ObjectId;

use super::super::with_pack_cache;
use super::super::{
    is_too_large, read_object, BlobScan, CommitNode, Ctx, GitError, IdMap, IdSet, Outcome, Phase,
    Throttle,
};
use super::Introduced;
use crate::blob::Tally;
use crate::source::{FileError, Skip, SkipReason};

/// Delta-base cache of each thread of the object-by-object fallback (the default 64-entry
/// cache lets consecutive reads inflate the same delta chains again).
const PACK_CACHE_BYTES: usize = 64 << 20;

/// What the blob scans found.
#[derive(Default)]
pub(in crate::git) struct Scanned {
    /// Blobs with keys, or with archive members left out or unreadable (#13).
    pub hits: IdMap<ObjectId, BlobScan>,
    /// Every blob read and scanned.
    pub done: IdSet<ObjectId>,
    /// Blobs over `--max-filesize`.
    pub too_large: IdSet<ObjectId>,
    /// Blobs that could not be read or scanned, and why.
    pub errors: IdMap<ObjectId, String>,
    /// How many of those the repository does not hold.
    pub missing: usize,
    /// Workers that stopped outside any one blob, and why (errors without a path).
    pub stopped: Vec<String>,
    /// Blobs scanned and their bytes (only the counts of this tally are used).
    pub counted: Tally,
}

impl Scanned {
    /// Whether `id` needs no further reading: scanned, left out, or failed already (a blob
    /// whose scan panicked is not read a second time).
    pub fn covers(&self, id: &ObjectId) -> bool {
        self.done.contains(id) || self.too_large.contains(id) || self.errors.contains_key(id)
    }

    pub fn merge(&mut self, other: Scanned) {
        self.hits.extend(other.hits);
        self.done.extend(other.done);
        self.too_large.extend(other.too_large);
        self.errors.extend(other.errors);
        self.missing += other.missing;
        self.stopped.extend(other.stopped);
        self.counted.merge(other.counted);
    }

    /// Scans blob `id` with `data`, unless `--max-filesize` leaves it out. A scan that panics
    /// leaves an error for `id`: the blob is reported as not scanned.
    pub fn scan(&mut self, ctx: &Ctx<'_>, id: ObjectId, data: &[u8], scan_buf: &mut Vec<u8>) {
        let scanned = catch_unwind(AssertUnwindSafe(|| {
            #[cfg(test)]
            tests::inject_fault(data);
            ctx.scanner.scan_blob(data, scan_buf)
        }));
        let scan = match scanned {
            Ok(Some(scan)) => scan,
            Ok(None) => {
                self.too_large.insert(id);
                return;
            }
            Err(panic) => {
                scan_buf.clear();
                self.errors.insert(id, stopped_on_blob(&*panic));
                return;
            }
        };
        self.counted.count(scan.bytes);
        self.done.insert(id);
        if !scan.hits.is_empty() || !scan.issues.is_empty() {
            self.hits.insert(id, scan);
        }
    }
}

/// One reading thread's results and buffers.
#[derive(Default)]
pub(super) struct Worker {
    pub scanned: Scanned,
    pub trees: IdMap<ObjectId, Vec<u8>>,
    pub commits: IdMap<ObjectId, CommitNode>,
    pub buf: Vec<u8>,
    pub scan_buf: Vec<u8>,
}

/// The message of a panic payload (`panic!` with a literal or a formatted string).
pub(super) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_string()
    }
}

/// The error of a blob whose scan panicked.
pub(super) fn stopped_on_blob(panic: &(dyn Any + Send)) -> String {
    format!(
        "internal error: a history worker stopped on this blob: {}; it was not scanned",
        panic_message(panic)
    )
}

/// The error of a worker that stopped outside any one task.
pub(super) fn stopped(panic: &(dyn Any + Send)) -> String {
    format!(
        "internal error: a history worker stopped: {}",
        panic_message(panic)
    )
}

/// What `parallel` gives back.
pub(super) struct Parallel<W> {
    /// The state of each thread that ran to the end.
    pub workers: Vec<W>,
    /// Tasks whose work panicked, with the panic's error message (`stopped_on_blob`).
    pub panicked: Vec<(usize, String)>,
    /// Threads that stopped outside a task (their setup panicked), with the error message:
    /// the results such a thread holds are lost, its remaining tasks go to the others.
    pub stopped: Vec<String>,
    /// Tasks no thread ran (every thread stopped before taking them).
    pub unrun: Range<usize>,
}

/// Runs `work` for tasks `0..tasks` on the threads of the current rayon pool (the one `main`
/// sizes by `--threads`; rayon's default for library callers), at most one thread per task. Each
/// thread builds its state with `init` once, then takes tasks in order from a shared counter.
/// A task that panics is listed in `panicked` and the thread goes on with the next one; every
/// task is run, panicked, or listed in `unrun`.
pub(super) fn parallel<S, W>(
    tasks: usize,
    init: &(dyn Fn() -> S + Sync),
    work: &(dyn Fn(&mut S, usize, &mut W) + Sync),
) -> Parallel<W>
where
    W: Default + Send,
{
    let threads = rayon::current_num_threads().min(tasks);
    let next = AtomicUsize::new(0);
    type Ran<W> = Result<(W, Vec<(usize, String)>), String>;
    let ran: Vec<Option<Ran<W>>> = rayon::broadcast(|thread| {
        if thread.index() >= threads {
            return None;
        }
        Some(
            catch_unwind(AssertUnwindSafe(|| {
                let mut state = init();
                let mut worker = W::default();
                let mut panicked = Vec::new();
                loop {
                    let task = next.fetch_add(1, Ordering::Relaxed);
                    if task >= tasks {
                        break;
                    }
                    let run =
                        catch_unwind(AssertUnwindSafe(|| work(&mut state, task, &mut worker)));
                    if let Err(panic) = run {
                        panicked.push((task, stopped_on_blob(&*panic)));
                    }
                }
                (worker, panicked)
            }))
            .map_err(|panic| stopped(&*panic)),
        )
    });
    let mut out = Parallel {
        workers: Vec::new(),
        panicked: Vec::new(),
        stopped: Vec::new(),
        unrun: next.load(Ordering::Relaxed).min(tasks)..tasks,
    };
    for result in ran.into_iter().flatten() {
        match result {
            Ok((worker, panicked)) => {
                out.workers.push(worker);
                out.panicked.extend(panicked);
            }
            Err(message) => out.stopped.push(message),
        }
    }
    out.panicked.sort();
    out
}

/// Scans `blobs` (those the pack pass did not read), in parallel. A blob whose scan panicked,
/// or that no worker reached, gets an error.
pub(super) fn scan_blobs(ctx: &Ctx<'_>, blobs: &[ObjectId], throttle: &Throttle<'_>) -> Scanned {
    if blobs.is_empty() {
        return Scanned::default();
    }
    let total = blobs.len() as u64;
    let done = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let init = || with_pack_cache(ctx.repo.to_thread_local(), PACK_CACHE_BYTES);
    let work = |r: &mut gix::Repository, i: usize, w: &mut Worker| {
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
    };
    let ran = parallel(blobs.len(), &init, &work);
    let mut all = Scanned::default();
    for part in ran.workers {
        all.merge(part.scanned);
    }
    for (i, message) in ran.panicked {
        if let Some(id) = blobs.get(i) {
            all.errors.insert(*id, message);
        }
    }
    for id in blobs.get(ran.unrun.clone()).unwrap_or_default() {
        all.errors.insert(
            *id,
            "internal error: no history worker was left to scan this blob".to_string(),
        );
    }
    all.stopped.extend(ran.stopped);
    all
}

/// Scans the reachable blobs the pack pass did not read (loose objects, alternates) and adds
/// them to `scanned`.
pub(super) fn scan_unpacked(
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
/// that could not be read or scanned and for workers that stopped, and the archive members a
/// blob's scan left out or could not read (#13), at the blob's first path as the other git
/// scopes do.
pub(super) fn report_unscanned(
    ctx: &Ctx<'_>,
    intro: &Introduced,
    scanned: &Scanned,
    out: &mut Outcome,
) {
    for (bi, id) in intro.blobs.iter().enumerate() {
        let pairs = intro.pairs_of(bi);
        if let (Some(scan), Some(pair)) = (scanned.hits.get(id), pairs.first()) {
            if !scan.issues.is_empty() {
                let at = ctx.origin(&intro.display(ctx, pair.path), None);
                ctx.scanner.record_issues(out, &at, &scan.issues);
            }
        }
        if scanned.too_large.contains(id) {
            for pair in pairs {
                let at = ctx.origin(&intro.display(ctx, pair.path), None);
                out.skipped.push(Skip::new(at, SkipReason::TooLarge));
            }
        }
        if let (Some(message), Some(pair)) = (scanned.errors.get(id), pairs.first()) {
            let at = ctx.origin(&intro.display(ctx, pair.path), None);
            out.errors.push(FileError::new(Some(at), message.clone()));
        }
    }
    for message in &scanned.stopped {
        out.errors.push(FileError::new(None, message.clone()));
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Bytes that make a blob scan panic in test builds (fault injection for the tests of a
    /// worker that stops; never compiled into the binary).
    pub(in super::super) const FAULT: &[u8] = b"leadey-scan test fault: panic in this blob";

    pub(super) fn inject_fault(data: &[u8]) {
        if data.windows(FAULT.len()).any(|w| w == FAULT) {
            panic!("injected test fault");
        }
    }

    #[test]
    fn a_panicking_task_is_reported_and_the_others_still_run() {
        let ran = parallel(
            10,
            &|| 0u32,
            &|calls: &mut u32, task, done: &mut Vec<usize>| {
                *calls += 1;
                if task == 3 || task == 7 {
                    panic!("task {task} fails");
                }
                done.push(task);
            },
        );
        let mut done: Vec<usize> = ran.workers.into_iter().flatten().collect();
        done.sort();
        assert_eq!(done, [0, 1, 2, 4, 5, 6, 8, 9]);
        assert_eq!(
            ran.panicked,
            [
                (
                    3,
                    "internal error: a history worker stopped on this blob: task 3 fails; it \
                     was not scanned"
                        .to_string()
                ),
                (
                    7,
                    "internal error: a history worker stopped on this blob: task 7 fails; it \
                     was not scanned"
                        .to_string()
                ),
            ]
        );
        assert!(ran.stopped.is_empty());
        assert!(ran.unrun.is_empty());
    }

    #[test]
    fn workers_whose_setup_panics_leave_their_tasks_listed_as_unrun() {
        let ran = parallel(
            4,
            &|| -> u32 { panic!("no repository handle") },
            &|_: &mut u32, _, _: &mut Vec<usize>| {},
        );
        assert!(ran.workers.is_empty());
        assert!(!ran.stopped.is_empty());
        assert!(ran
            .stopped
            .iter()
            .all(|m| m == "internal error: a history worker stopped: no repository handle"));
        assert_eq!(ran.unrun, 0..4);
    }

    #[test]
    fn no_tasks_runs_nothing() {
        let ran = parallel(0, &|| (), &|_: &mut (), _, _: &mut Vec<usize>| {
            panic!("never called")
        });
        assert!(ran.workers.is_empty() && ran.panicked.is_empty() && ran.stopped.is_empty());
        assert!(ran.unrun.is_empty());
    }

    #[test]
    fn panic_messages_are_read_from_str_and_string_payloads() {
        let literal = catch_unwind(|| panic!("plain")).unwrap_err();
        let formatted = catch_unwind(|| panic!("{} {}", "with", 2)).unwrap_err();
        let other = catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert_eq!(panic_message(&*literal), "plain");
        assert_eq!(panic_message(&*formatted), "with 2");
        assert_eq!(panic_message(&*other), "no message");
    }
}

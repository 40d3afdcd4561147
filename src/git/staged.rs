//! `--staged` (#5): what the next commit will contain, read from the index (never the working
//! tree), compared with `HEAD`'s tree; findings on the lines the staged change adds. The index's
//! cached tree ids let whole unchanged folders be skipped, so the cost follows the size of the
//! change, not of the repository.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use gix::bstr::{BStr, BString, ByteSlice};
use gix::index::entry::{Flags, Mode};
use gix::index::extension::Tree as CacheTree;
use gix::ObjectId;

use super::tree::{diff_trees, read_tree, Change, Entry, Kind};
use super::{
    added_hits, display_path_of, head_commit, is_excluded, read_object, rename_source, scan_blob,
    Ctx, GitError, Outcome,
};
use crate::blob::{self, Attribution};
use crate::source::{Skip, SkipReason};

/// Scans the staged change.
pub(super) fn run(ctx: &Ctx<'_>) -> Result<Outcome, GitError> {
    let repo = ctx.repo.to_thread_local();
    let mut buf = Vec::new();
    let head_tree = match head_commit(&repo)? {
        Some(id) => Some(super::read_commit(&repo, id, &[], &mut buf)?.tree),
        None => None,
    };
    let mut out = Outcome::default();
    let Some(index) = open_index(&repo)? else {
        return Ok(out); // a repository without an index has nothing staged
    };
    let mut cmp = Compare {
        repo: &repo,
        index: &index,
        buf,
        changes: Vec::new(),
        deleted_blobs: Vec::new(),
        deleted_trees: Vec::new(),
        unmerged: BTreeSet::new(),
    };
    cmp.run(head_tree)?;
    let Compare {
        changes,
        mut deleted_blobs,
        deleted_trees,
        unmerged,
        mut buf,
        ..
    } = cmp;
    for path in unmerged {
        out.warnings.push(format!(
            "{}: unmerged (conflict): not scanned until it is resolved and staged",
            display_path_of(ctx.detector, path.as_bstr())
        ));
    }
    let mut deleted_expanded = deleted_trees.is_empty();
    let mut new_buf = Vec::new();
    let mut scan_buf = Vec::new();
    for change in changes {
        let Some(new_id) = change.new else { continue };
        let path = display_path_of(ctx.detector, change.path.as_bstr());
        if is_excluded(ctx, &path) {
            out.skipped
                .push(Skip::new(ctx.origin(&path, None), SkipReason::Excluded));
            continue;
        }
        // #23: the road checks the size, reads, scans and counts.
        let scanned = scan_blob(
            ctx,
            &repo,
            &mut out,
            &path,
            &new_id,
            &mut new_buf,
            &mut scan_buf,
        )?;
        let blob::Outcome::Scanned(scan) = scanned else {
            continue;
        };
        if scan.hits.is_empty() {
            continue;
        }
        let new = read_object(&repo, &new_id, &mut new_buf, gix::objs::Kind::Blob)?;
        let old = match change.old {
            Some(old_id) => {
                Some(read_object(&repo, &old_id, &mut buf, gix::objs::Kind::Blob)?.to_vec())
            }
            None => {
                if !deleted_expanded {
                    deleted_expanded = true;
                    for tree in &deleted_trees {
                        let gone = diff_trees(&repo, Some(*tree), None, &mut buf)?;
                        deleted_blobs.extend(gone.into_iter().filter_map(|c| c.old));
                    }
                }
                rename_source(&repo, &new_id, new, &deleted_blobs, &mut buf)?
            }
        };
        let origin = ctx.origin(&path, None);
        for hit in added_hits(ctx.scanner, &scan.hits, old.as_deref(), new) {
            let f = ctx
                .scanner
                .finding(&origin, scan.binary, &hit, &Attribution::default());
            out.findings.push(f);
        }
    }
    Ok(out)
}

/// The index to read: `GIT_INDEX_FILE` when git sets it (as it does for hooks of
/// `git commit -a` and `git commit PATH`), else the repository's; `None` when there is none.
fn open_index(repo: &gix::Repository) -> Result<Option<gix::index::File>, GitError> {
    let path = match std::env::var_os("GIT_INDEX_FILE") {
        Some(p) => std::path::PathBuf::from(p),
        None => repo.index_path(),
    };
    if !path.exists() {
        return Ok(None);
    }
    gix::index::File::at(&path, repo.object_hash(), false, Default::default())
        .map(Some)
        .map_err(|e| GitError::read(&format!("index {}", path.display()), e))
}

/// One folder to compare: index entries `range` (all below `prefix`) against tree `head`.
struct Dir<'i> {
    /// Folder path without a trailing `/`; empty at the root.
    prefix: BString,
    /// The folder's tree at `HEAD`.
    head: Option<ObjectId>,
    /// Index entries below the folder.
    range: Range<usize>,
    /// The index's cached tree for the folder, if any.
    cache: Option<&'i CacheTree>,
}

/// The comparison of the index with `HEAD`'s tree.
struct Compare<'a> {
    repo: &'a gix::Repository,
    index: &'a gix::index::File,
    buf: Vec<u8>,
    /// Staged files that differ from `HEAD`.
    changes: Vec<Change>,
    /// Blobs of files removed from the index (rename sources).
    deleted_blobs: Vec<ObjectId>,
    /// Trees of folders removed from the index (expanded only when a rename source is needed).
    deleted_trees: Vec<ObjectId>,
    /// Paths with conflict stages.
    unmerged: BTreeSet<BString>,
}

impl<'a> Compare<'a> {
    fn run(&mut self, head: Option<ObjectId>) -> Result<(), GitError> {
        let entries = self.index.entries();
        let mut stack = vec![Dir {
            prefix: BString::default(),
            head,
            range: 0..entries.len(),
            cache: self.index.tree(),
        }];
        while let Some(dir) = stack.pop() {
            self.compare(dir, &mut stack)?;
        }
        Ok(())
    }

    fn compare(&mut self, dir: Dir<'a>, stack: &mut Vec<Dir<'a>>) -> Result<(), GitError> {
        let index = self.index;
        let entries = index.entries();
        // git keeps the tree id of every folder whose entries did not change since the last
        // commit or `git write-tree`: equal to HEAD's, nothing below is staged.
        if let (Some(cache), Some(head)) = (dir.cache, dir.head) {
            if cache.id == head
                && cache.num_entries.and_then(|n| usize::try_from(n).ok()) == Some(dir.range.len())
            {
                return Ok(());
            }
        }
        let head_entries = match dir.head {
            Some(id) => read_tree(self.repo, &id, &mut self.buf)?,
            None => Vec::new(),
        };
        let mut by_name: HashMap<&[u8], &Entry> = head_entries
            .iter()
            .map(|e| (e.name.as_bytes(), e))
            .collect();
        let skip = if dir.prefix.is_empty() {
            0
        } else {
            dir.prefix.len() + 1
        };
        let mut i = dir.range.start;
        while i < dir.range.end {
            let Some(entry) = entries.get(i) else { break };
            let path: &BStr = entry.path(index);
            let rest = path.get(skip..).unwrap_or_default();
            if let Some(slash) = rest.find_byte(b'/') {
                let name = rest.get(..slash).unwrap_or_default();
                let sub_prefix = path.get(..skip + slash + 1).unwrap_or_default();
                let block = entries.get(i..dir.range.end).unwrap_or_default();
                let end = i + block
                    .partition_point(|e| e.path(index).starts_with(sub_prefix))
                    .max(1);
                let head_sub = match by_name.remove(name) {
                    Some(e) if e.kind == Kind::Tree => Some(e.id),
                    Some(e) if e.kind == Kind::Blob => {
                        self.deleted_blobs.push(e.id);
                        None
                    }
                    _ => None,
                };
                let cache_sub = dir.cache.and_then(|c| {
                    c.children
                        .binary_search_by(|t| t.name.as_slice().cmp(name))
                        .ok()
                        .and_then(|k| c.children.get(k))
                });
                stack.push(Dir {
                    prefix: path.get(..skip + slash).unwrap_or_default().into(),
                    head: head_sub,
                    range: i..end,
                    cache: cache_sub,
                });
                i = end;
                continue;
            }
            i += 1;
            let head_entry = by_name.remove(rest);
            if entry.stage_raw() != 0 {
                self.unmerged.insert(path.to_owned());
                continue;
            }
            if entry.flags.contains(Flags::INTENT_TO_ADD)
                || !(entry.mode == Mode::FILE || entry.mode == Mode::FILE_EXECUTABLE)
            {
                continue;
            }
            let old = match head_entry {
                Some(h) if h.kind == Kind::Blob && h.id == entry.id => continue,
                Some(h) if h.kind == Kind::Blob => Some(h.id),
                Some(h) if h.kind == Kind::Tree => {
                    self.deleted_trees.push(h.id);
                    None
                }
                _ => None,
            };
            self.changes.push(Change {
                path: path.to_owned(),
                old,
                new: Some(entry.id),
            });
        }
        for gone in by_name.into_values() {
            match gone.kind {
                Kind::Blob => self.deleted_blobs.push(gone.id),
                Kind::Tree => self.deleted_trees.push(gone.id),
                Kind::Other => {}
            }
        }
        Ok(())
    }
}

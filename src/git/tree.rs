//! Trees (#5): decoding git trees and comparing two of them. Subtrees with the same id on both
//! sides are skipped, so the cost follows the size of the change. Regular and executable files
//! are blobs; symbolic links and submodules are left out, as the file walk leaves them out.
//! Iterative (an explicit stack), so deep trees cannot overflow the call stack.

use std::collections::HashMap;

use gix::bstr::{BString, ByteSlice, ByteVec};
use gix::objs::tree::EntryKind;
use gix::ObjectId;

use super::{read_object, GitError};

/// What a tree entry holds, as the scopes see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A subtree.
    Tree,
    /// A regular or executable file.
    Blob,
    /// A symbolic link or a submodule: not scanned.
    Other,
}

/// One entry of a tree.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// File or folder name.
    pub name: BString,
    /// What it holds.
    pub kind: Kind,
    /// Object id.
    pub id: ObjectId,
}

/// A file that differs between two trees: added (`old` is `None`), deleted (`new` is `None`)
/// or modified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// Repository path, `/`-separated.
    pub path: BString,
    /// Blob before.
    pub old: Option<ObjectId>,
    /// Blob after.
    pub new: Option<ObjectId>,
}

/// The entries of tree `id` (none for the empty tree, which need not be stored).
pub(crate) fn read_tree(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<Vec<Entry>, GitError> {
    if id.is_empty_tree() {
        return Ok(Vec::new());
    }
    let data = read_object(repo, id, buf, gix::objs::Kind::Tree)?;
    parse_tree(id, data)
}

/// The entries of tree `id`, whose raw data is `data`.
pub(crate) fn parse_tree(id: &ObjectId, data: &[u8]) -> Result<Vec<Entry>, GitError> {
    let mut entries = Vec::new();
    for entry in gix::objs::TreeRefIter::from_bytes(data) {
        let entry = entry.map_err(|e| GitError::read(&format!("tree {id}"), e))?;
        entries.push(Entry {
            name: entry.filename.to_owned(),
            kind: kind_of(entry.mode),
            id: entry.oid.to_owned(),
        });
    }
    Ok(entries)
}

/// What a tree entry of `mode` holds.
pub(crate) fn kind_of(mode: gix::objs::tree::EntryMode) -> Kind {
    match mode.kind() {
        EntryKind::Tree => Kind::Tree,
        EntryKind::Blob | EntryKind::BlobExecutable => Kind::Blob,
        EntryKind::Link | EntryKind::Commit => Kind::Other,
    }
}

/// `prefix` joined with `name` by `/` (no `/` when `prefix` is empty).
pub(crate) fn join(prefix: &[u8], name: &[u8]) -> BString {
    let mut path = BString::from(Vec::with_capacity(prefix.len() + name.len() + 1));
    if !prefix.is_empty() {
        path.push_str(prefix);
        path.push_byte(b'/');
    }
    path.push_str(name);
    path
}

/// The files that differ between trees `old` and `new` (`None`: no tree), in no fixed order.
pub(crate) fn diff_trees(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    buf: &mut Vec<u8>,
) -> Result<Vec<Change>, GitError> {
    let mut out = Vec::new();
    let mut stack = vec![(BString::default(), old, new)];
    while let Some((prefix, old, new)) = stack.pop() {
        if old == new {
            continue;
        }
        let old_entries = match old {
            Some(id) => read_tree(repo, &id, buf)?,
            None => Vec::new(),
        };
        let new_entries = match new {
            Some(id) => read_tree(repo, &id, buf)?,
            None => Vec::new(),
        };
        let mut olds: HashMap<&[u8], &Entry> =
            old_entries.iter().map(|e| (e.name.as_bytes(), e)).collect();
        for n in &new_entries {
            let o = olds.remove(n.name.as_bytes());
            if o.is_some_and(|o| o.id == n.id && o.kind == n.kind) {
                continue;
            }
            let path = join(&prefix, &n.name);
            let (o_tree, o_blob) = split(o);
            let (n_tree, n_blob) = split(Some(n));
            if o_tree.is_some() || n_tree.is_some() {
                stack.push((path.clone(), o_tree, n_tree));
            }
            if o_blob.is_some() || n_blob.is_some() {
                out.push(Change {
                    path,
                    old: o_blob,
                    new: n_blob,
                });
            }
        }
        for o in olds.into_values() {
            let path = join(&prefix, &o.name);
            match o.kind {
                Kind::Tree => stack.push((path, Some(o.id), None)),
                Kind::Blob => out.push(Change {
                    path,
                    old: Some(o.id),
                    new: None,
                }),
                Kind::Other => {}
            }
        }
    }
    Ok(out)
}

/// The (tree, blob) an entry contributes to a comparison.
fn split(entry: Option<&Entry>) -> (Option<ObjectId>, Option<ObjectId>) {
    match entry {
        Some(e) if e.kind == Kind::Tree => (Some(e.id), None),
        Some(e) if e.kind == Kind::Blob => (None, Some(e.id)),
        _ => (None, None),
    }
}

/// The blob at `path` in tree `root`, if there is a file there.
pub(crate) fn blob_at(
    repo: &gix::Repository,
    root: ObjectId,
    path: &[u8],
    buf: &mut Vec<u8>,
) -> Result<Option<ObjectId>, GitError> {
    let mut tree = root;
    let mut parts = path.split_str("/").peekable();
    while let Some(part) = parts.next() {
        let entries = read_tree(repo, &tree, buf)?;
        let Some(entry) = entries.iter().find(|e| e.name.as_bytes() == part) else {
            return Ok(None);
        };
        match (entry.kind, parts.peek().is_some()) {
            (Kind::Tree, true) => tree = entry.id,
            (Kind::Blob, false) => return Ok(Some(entry.id)),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_adds_a_slash_only_below_the_root() {
        assert_eq!(join(b"", b"a.txt"), "a.txt");
        assert_eq!(join(b"src/x", b"a.txt"), "src/x/a.txt");
    }
}

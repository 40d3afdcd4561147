//! #22: Electron `app.asar` archives: a Chromium pickle holding a JSON header (the tree of
//! files with their sizes and offsets), then the files' bytes. Read with random access;
//! members get their real paths (`app.asar!dist/config.js`). Files marked `unpacked` live next
//! to the archive (`app.asar.unpacked/`, scanned as ordinary files) and links hold no content:
//! both are passed over.

use std::io::{self, Read, SeekFrom};

use serde_json::Value;

use super::{Format, Issue, ReadSeek, Reader, Visit};
use crate::skip::SkipReason;

/// The asar format.
pub const FORMAT: Format = Format {
    name: "asar",
    sniff: |head| {
        head.starts_with(&[4, 0, 0, 0]) && head.get(16..25) == Some(b"{\"files\":".as_slice())
    },
    reader: Reader::Seekable(members),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The largest JSON header read (a large Electron app's is a few MiB).
const MAX_HEADER_BYTES: u64 = 64 << 20;

/// How deep folders may nest in the header.
const MAX_FOLDER_DEPTH: usize = 64;

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("asar: {what}"))
}

/// A file of the header: its path, offset from the end of the header, and size.
struct Entry {
    path: Vec<u8>,
    offset: u64,
    size: u64,
}

/// Walks the members of the asar archive `reader`.
fn members(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) {
    if let Err(e) = walk(reader, visit) {
        visit.issue(None, Issue::Error(e));
    }
}

fn le32(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4).map_or(0, |b| {
        u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    })
}

fn walk(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) -> io::Result<()> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut intro = [0u8; 16];
    reader.read_exact(&mut intro)?;
    let pickle = le32(&intro, 4);
    let json_len = le32(&intro, 12);
    if json_len > MAX_HEADER_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "asar: header over 64 MiB",
        ));
    }
    if json_len + 8 > pickle || 8 + pickle > len {
        return Err(corrupt("header sizes do not fit"));
    }
    let mut json = Vec::new();
    reader.take(json_len).read_to_end(&mut json)?;
    let header: Value = serde_json::from_slice(&json).map_err(|e| corrupt(&e.to_string()))?;
    drop(json);
    let mut entries = Vec::new();
    let files = header.get("files").ok_or_else(|| corrupt("no files"))?;
    collect(files, &mut Vec::new(), 0, &mut entries)?;
    drop(header);
    entries.sort_by_key(|e| e.offset);
    let base = 8 + pickle;
    for entry in entries {
        let start = base.saturating_add(entry.offset);
        if start.saturating_add(entry.size) > len {
            let cut = io::Error::new(io::ErrorKind::UnexpectedEof, "asar: file past the end");
            visit.issue(Some(&entry.path), Issue::Error(cut));
            continue;
        }
        if !visit.has_room() {
            visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
            return Ok(());
        }
        reader.seek(SeekFrom::Start(start))?;
        let mut body = (&mut *reader).take(entry.size);
        if visit
            .member(&entry.path, Some(entry.size), &mut body)
            .is_break()
        {
            return Ok(());
        }
    }
    Ok(())
}

/// Adds the files of folder `files` (a JSON object of name → node) below `path` to `out`.
fn collect(
    files: &Value,
    path: &mut Vec<u8>,
    depth: usize,
    out: &mut Vec<Entry>,
) -> io::Result<()> {
    if depth > MAX_FOLDER_DEPTH {
        return Err(corrupt("folders nested too deep"));
    }
    let files = files
        .as_object()
        .ok_or_else(|| corrupt("a folder is not an object"))?;
    for (name, node) in files {
        let at = path.len();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(name.as_bytes());
        if let Some(inner) = node.get("files") {
            collect(inner, path, depth + 1, out)?;
        } else if node.get("link").is_none() && node.get("unpacked") != Some(&Value::Bool(true)) {
            let size = node.get("size").and_then(Value::as_u64);
            // The offset is a string (a JavaScript number may not hold 64 bits).
            let offset = match node.get("offset") {
                Some(Value::String(s)) => s.parse::<u64>().ok(),
                Some(n) => n.as_u64(),
                None => None,
            };
            match (size, offset) {
                (Some(size), Some(offset)) => out.push(Entry {
                    path: path.clone(),
                    offset,
                    size,
                }),
                _ => return Err(corrupt("a file without size or offset")),
            }
        }
        path.truncate(at);
    }
    Ok(())
}

//! #22: PHP archives (`.phar`) in the phar format: a PHP stub ending with
//! `__HALT_COMPILER();`, a manifest (the files' names, sizes and flags), then the files in
//! manifest order, each stored, raw-deflated (`gzip` in phar's words) or bzip2'd. Members are
//! named by their path (`tool.phar!src/config.php`); the stub is PHP and is scanned as the
//! archive's own bytes. Phars in the tar or zip formats are opened as tar and zip.

use std::io::{self, Read};

use super::ar::read_full;
use super::{Format, Issue, Reader, Visit};
use crate::skip::SkipReason;

/// The phar format.
pub const FORMAT: Format = Format {
    name: "phar",
    sniff,
    reader: Reader::Sequential(members),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The token that ends the stub.
const HALT: &[u8] = b"__HALT_COMPILER();";

/// The longest stub read (the sniff saw the token in the first chunk of the scan).
const MAX_STUB_BYTES: usize = 16 << 20;

/// The largest manifest read (PHP refuses manifests over 100 MiB).
const MAX_MANIFEST_BYTES: u64 = 100 << 20;

/// Entry flags: the compression of a file.
const DEFLATE: u32 = 0x1000;
const BZIP2: u32 = 0x2000;

/// A PHP file (after an optional shebang line) whose first chunk holds the end of a stub and
/// the start of a manifest: PHP source that merely mentions the token (in a string, a comment,
/// or before data of its own) is not a phar.
fn sniff(head: &[u8]) -> bool {
    let php = match head.strip_prefix(b"#!") {
        Some(rest) => memchr::memchr(b'\n', rest).and_then(|nl| rest.get(nl + 1..)),
        None => Some(head),
    };
    let Some(php) = php.filter(|p| p.starts_with(b"<?php")) else {
        return false;
    };
    let Some(at) = memchr::memmem::find(php, HALT) else {
        return false;
    };
    let after = php.get(at + HALT.len()..).unwrap_or_default();
    let after = after
        .strip_prefix(b" ?>")
        .or_else(|| after.strip_prefix(b"?>"))
        .unwrap_or(after);
    let after = after
        .strip_prefix(b"\r\n")
        .or_else(|| after.strip_prefix(b"\n"))
        .unwrap_or(after);
    manifest_starts(after)
}

/// Whether `bytes` start like a manifest: a length PHP accepts, a file count that fits in it,
/// and an API version 1.0 or 1.1 (`0x10`/`0x11`, then a zero low nibble).
fn manifest_starts(bytes: &[u8]) -> bool {
    let (Some(len), Some(count), Some(api)) = (le(bytes, 0, 4), le(bytes, 4, 4), bytes.get(8..10))
    else {
        return false;
    };
    len <= MAX_MANIFEST_BYTES
        && count.saturating_mul(24) <= len
        && matches!(api, [0x10 | 0x11, low] if low & 0x0f == 0)
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("phar: {what}"))
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "phar: cut short")
}

/// Walks the members of the phar `reader`.
fn members(reader: &mut dyn Read, visit: &mut dyn Visit) {
    if let Err(e) = walk(reader, visit) {
        visit.issue(None, Issue::Error(e));
    }
}

/// A little-endian field of `b` at `at`.
fn le(b: &[u8], at: usize, n: usize) -> Option<u64> {
    let bytes = b.get(at..at.checked_add(n)?)?;
    Some(bytes.iter().rev().fold(0u64, |v, &x| v << 8 | u64::from(x)))
}

/// One file of the manifest.
struct Entry {
    name: Vec<u8>,
    size: u64,
    stored: u64,
    flags: u32,
}

fn walk(reader: &mut dyn Read, visit: &mut dyn Visit) -> io::Result<()> {
    // The stub, up to its end token, and what was read past it.
    let mut stub = Vec::new();
    let mut block = vec![0u8; 64 * 1024];
    let end = loop {
        let n = read_full(reader, &mut block)?;
        let from = stub.len().saturating_sub(HALT.len());
        stub.extend_from_slice(block.get(..n).unwrap_or_default());
        if let Some(at) = memchr::memmem::find(stub.get(from..).unwrap_or_default(), HALT) {
            break from + at + HALT.len();
        }
        if n < block.len() {
            return Err(corrupt("no end of stub"));
        }
        if stub.len() > MAX_STUB_BYTES {
            return Err(corrupt("stub too long"));
        }
    };
    let mut after = stub.split_off(end);
    visit.own_bytes(&mut &stub[..]);
    drop(stub);
    // ` ?>` and a line end may follow the token.
    let mut skip = 0;
    for opt in [b" ?>".as_slice(), b"?>"] {
        if after.starts_with(opt) {
            skip = opt.len();
            break;
        }
    }
    // Enough bytes to see the line end.
    let mut more = [0u8; 8];
    let n = read_full(reader, &mut more)?;
    after.extend_from_slice(more.get(..n).unwrap_or_default());
    let rest = after.get(skip..).unwrap_or_default();
    if rest.starts_with(b"\r\n") {
        skip += 2;
    } else if rest.starts_with(b"\n") {
        skip += 1;
    }
    let after = after.split_off(skip.min(after.len()));
    let mut input = io::Cursor::new(after).chain(reader);
    let mut len = [0u8; 4];
    if read_full(&mut input, &mut len)? < 4 {
        return Err(truncated());
    }
    let manifest_len = u64::from(u32::from_le_bytes(len));
    if manifest_len > MAX_MANIFEST_BYTES {
        return Err(corrupt("manifest too large"));
    }
    let mut manifest = Vec::new();
    (&mut input).take(manifest_len).read_to_end(&mut manifest)?;
    if (manifest.len() as u64) < manifest_len {
        return Err(truncated());
    }
    let entries = parse(&manifest)?;
    drop(manifest);
    for entry in entries {
        let mut stored = (&mut input).take(entry.stored);
        if !visit.has_room() {
            visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
            return Ok(());
        }
        let flow = match entry.flags & (DEFLATE | BZIP2) {
            0 => visit.member(&entry.name, Some(entry.size), &mut stored),
            DEFLATE => {
                let mut body = flate2::read::DeflateDecoder::new(&mut stored).take(entry.size);
                visit.inflated(&entry.name, Some(entry.size), &mut body)
            }
            BZIP2 => {
                let mut body = bzip2::read::BzDecoder::new(&mut stored).take(entry.size);
                visit.inflated(&entry.name, Some(entry.size), &mut body)
            }
            _ => {
                visit.issue(Some(&entry.name), Issue::Skip(SkipReason::Unsupported));
                std::ops::ControlFlow::Continue(())
            }
        };
        if flow.is_break() {
            return Ok(());
        }
        io::copy(&mut stored, &mut io::sink())?;
        if stored.limit() > 0 {
            return Err(truncated());
        }
    }
    Ok(())
}

/// The files of `manifest` (the bytes after its length).
fn parse(manifest: &[u8]) -> io::Result<Vec<Entry>> {
    let bad = || corrupt("bad manifest");
    let count = le(manifest, 0, 4).ok_or_else(bad)?;
    // count (4), API version (2), flags (4), alias length (4)
    let alias = le(manifest, 10, 4).ok_or_else(bad)?;
    let mut at = usize::try_from(14 + alias).map_err(|_| bad())?;
    let metadata = le(manifest, at, 4).ok_or_else(bad)?;
    at = at
        .checked_add(4)
        .and_then(|a| a.checked_add(usize::try_from(metadata).ok()?))
        .ok_or_else(bad)?;
    // Each entry takes at least 28 bytes: a count that cannot fit is a lie.
    if count > manifest.len() as u64 / 28 + 1 {
        return Err(bad());
    }
    let mut entries = Vec::new();
    for _ in 0..count {
        let name_len = usize::try_from(le(manifest, at, 4).ok_or_else(bad)?).map_err(|_| bad())?;
        let name_at = at + 4;
        let name = manifest
            .get(name_at..name_at.checked_add(name_len).ok_or_else(bad)?)
            .ok_or_else(bad)?
            .to_vec();
        let f = name_at + name_len;
        let size = le(manifest, f, 4).ok_or_else(bad)?;
        let stored = le(manifest, f + 8, 4).ok_or_else(bad)?;
        let flags = le(manifest, f + 16, 4).ok_or_else(bad)? as u32;
        let meta = usize::try_from(le(manifest, f + 20, 4).ok_or_else(bad)?).map_err(|_| bad())?;
        at = (f + 24).checked_add(meta).ok_or_else(bad)?;
        if at > manifest.len() {
            return Err(bad());
        }
        entries.push(Entry {
            name,
            size,
            stored,
            flags,
        });
    }
    Ok(entries)
}

//! #22: cpio archives in the portable formats: `newc` (`070701`, and `070702` with checksums;
//! Linux initramfs, RPM payloads) and `odc` (`070707`; macOS `.pkg` payloads). Members are read
//! in order; only regular files hold content (symbolic links, devices and directories are
//! passed over). The old binary format is not recognised.
//!
//! Hand-written: a header is a fixed run of ASCII hex or octal fields. The `cpio` crates read
//! newc only, or need the whole archive in memory (`cpio_reader`); payloads can be large.

use std::io::{self, Read};

use super::ar::read_full;
use super::{Format, Issue, Reader, Visit};
use crate::skip::SkipReason;

/// The cpio format.
pub const FORMAT: Format = Format {
    name: "cpio",
    sniff,
    reader: Reader::Sequential(members),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// A newc header (13 hex fields) or an odc header (octal fields): text that merely starts with
/// the magic digits is not cpio.
fn sniff(head: &[u8]) -> bool {
    let all = |range: std::ops::Range<usize>, ok: fn(&u8) -> bool| {
        head.get(range).is_some_and(|f| f.iter().all(ok))
    };
    if head.starts_with(b"070701") || head.starts_with(b"070702") {
        all(6..110, u8::is_ascii_hexdigit)
    } else if head.starts_with(b"070707") {
        all(6..76, |b| (b'0'..=b'7').contains(b))
    } else {
        false
    }
}

/// The longest member name read.
const MAX_NAME_BYTES: u64 = 64 * 1024;

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("cpio: {what}"))
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "cpio: cut short")
}

/// A header field in `radix` (16 for newc, 8 for odc).
fn number(field: &[u8], radix: u32) -> io::Result<u64> {
    std::str::from_utf8(field)
        .ok()
        .and_then(|t| u64::from_str_radix(t, radix).ok())
        .ok_or_else(|| corrupt("bad header field"))
}

/// Reads and drops exactly `n` bytes.
fn skip(reader: &mut dyn Read, n: u64) -> io::Result<()> {
    if io::copy(&mut reader.take(n), &mut io::sink())? < n {
        return Err(truncated());
    }
    Ok(())
}

/// Bytes that pad `len` to a multiple of four.
fn pad4(len: u64) -> u64 {
    (4 - len % 4) % 4
}

/// Walks the members of the cpio archive `reader`.
fn members(reader: &mut dyn Read, visit: &mut dyn Visit) {
    if let Err(e) = walk(reader, visit) {
        visit.issue(None, Issue::Error(e));
    }
}

fn walk(reader: &mut dyn Read, visit: &mut dyn Visit) -> io::Result<()> {
    loop {
        let mut magic = [0u8; 6];
        match read_full(reader, &mut magic)? {
            // Archives end with a trailer; input ending between members is cut short.
            0 => return Err(truncated()),
            6 => {}
            _ => return Err(truncated()),
        }
        let newc = match &magic {
            b"070701" | b"070702" => true,
            b"070707" => false,
            _ => return Err(corrupt("bad header magic")),
        };
        let (mode, name_len, size) = if newc {
            let mut h = [0u8; 104];
            if read_full(reader, &mut h)? < h.len() {
                return Err(truncated());
            }
            let field = |i: usize| number(h.get(i * 8..i * 8 + 8).unwrap_or_default(), 16);
            (field(1)?, field(11)?, field(6)?)
        } else {
            let mut h = [0u8; 70];
            if read_full(reader, &mut h)? < h.len() {
                return Err(truncated());
            }
            let field = |at: usize, len: usize| number(h.get(at..at + len).unwrap_or_default(), 8);
            (field(12, 6)?, field(53, 6)?, field(59, 11)?)
        };
        if name_len == 0 || name_len > MAX_NAME_BYTES {
            return Err(corrupt("bad name length"));
        }
        let mut name = Vec::new();
        reader.take(name_len).read_to_end(&mut name)?;
        if (name.len() as u64) < name_len {
            return Err(truncated());
        }
        while name.last() == Some(&0) {
            name.pop();
        }
        let (name_pad, data_pad) = match newc {
            true => (pad4(110 + name_len), pad4(size)),
            false => (0, 0),
        };
        skip(reader, name_pad)?;
        if name == b"TRAILER!!!" {
            return Ok(());
        }
        let mut body = reader.take(size);
        if mode & 0o170000 == 0o100000 && size > 0 {
            if !visit.has_room() {
                visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
                return Ok(());
            }
            if visit.member(&name, Some(size), &mut body).is_break() {
                return Ok(());
            }
        }
        io::copy(&mut body, &mut io::sink())?;
        if body.limit() > 0 {
            return Err(truncated());
        }
        skip(reader, data_pad)?;
    }
}

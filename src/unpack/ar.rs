//! #22: Unix `ar` archives (`!<arch>\n`) that are packages: Debian `.deb` and opkg `.ipk`
//! (`debian-binary`, `control.tar.*`, `data.tar.*`, whose gzip, xz or zstd tars the nesting
//! driver opens in turn). Static libraries are not opened (their members are stored raw and
//! are scanned as the library's bytes). Members are read in order; GNU long names (`//` table, `/N`)
//! and BSD long names (`#1/N`) are resolved; the symbol table is passed over.
//!
//! Hand-written (60-byte text headers): the `ar` crate (0.9) allocates the GNU name table and a
//! BSD name with the size a header claims (`vec![0; size]`), which a hostile header turns into
//! an allocation of gigabytes. Here every length is bounded before anything is held.

use std::io::{self, Read};

use super::{Format, Issue, Reader, Visit};
use crate::skip::SkipReason;

/// The ar format.
pub const FORMAT: Format = Format {
    name: "ar",
    // #22: only packages (first member `debian-binary`: `.deb`, `.ipk`). A static library
    // (`.a`, `.lib`) stores its members raw, so scanning it as bytes reads the same content;
    // opening the import libraries of the tree-scan corpus (52 MB, 9 files, one member per
    // function) took the scan from 0.94x to 1.55x ripgrep's time.
    sniff: |head| {
        head.starts_with(b"!<arch>\n")
            && head
                .get(8..24)
                .is_some_and(|n| n.starts_with(b"debian-binary"))
    },
    reader: Reader::Sequential(members),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The largest GNU long-name table held (a real one lists a library's object names).
const MAX_NAME_TABLE_BYTES: u64 = 1 << 20;

/// The longest member name read (a BSD `#1/N` name).
const MAX_NAME_BYTES: u64 = 4096;

/// Reads into `out` until it is full or the input ends; returns how many bytes were read.
pub(super) fn read_full(reader: &mut dyn Read, out: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < out.len() {
        match reader.read(out.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("ar: {what}"))
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "ar: member cut short")
}

/// A decimal header field (space-padded).
fn decimal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?.trim_end_matches(' ');
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Walks the members of the ar archive `reader`.
fn members(reader: &mut dyn Read, visit: &mut dyn Visit) {
    if let Err(e) = walk(reader, visit) {
        visit.issue(None, Issue::Error(e));
    }
}

fn walk(reader: &mut dyn Read, visit: &mut dyn Visit) -> io::Result<()> {
    let mut magic = [0u8; 8];
    if read_full(reader, &mut magic)? < magic.len() {
        return Err(truncated());
    }
    let mut names: Vec<u8> = Vec::new();
    loop {
        let mut header = [0u8; 60];
        match read_full(reader, &mut header)? {
            0 => return Ok(()),
            60 => {}
            _ => return Err(truncated()),
        }
        if header.get(58..60) != Some(b"`\n".as_slice()) {
            return Err(corrupt("bad member header"));
        }
        let size = decimal(header.get(48..58).unwrap_or_default())
            .ok_or_else(|| corrupt("bad member size"))?;
        let raw = header.get(..16).unwrap_or_default();
        let raw = raw
            .iter()
            .rposition(|&b| b != b' ')
            .map_or(&raw[..0], |end| &raw[..=end]);
        let mut body = reader.take(size);
        let name: Option<Vec<u8>> = if raw == b"/" || raw == b"/SYM64/" || raw == b"__.SYMDEF" {
            None
        } else if raw == b"//" {
            if size > MAX_NAME_TABLE_BYTES {
                return Err(corrupt("long-name table too large"));
            }
            names.clear();
            body.read_to_end(&mut names)?;
            None
        } else if let Some(len) = raw.strip_prefix(b"#1/") {
            let len = decimal(len).ok_or_else(|| corrupt("bad name length"))?;
            if len > size || len > MAX_NAME_BYTES {
                return Err(corrupt("bad name length"));
            }
            let mut name = Vec::new();
            (&mut body).take(len).read_to_end(&mut name)?;
            if (name.len() as u64) < len {
                return Err(truncated());
            }
            while name.last() == Some(&0) {
                name.pop();
            }
            Some(name)
        } else if let Some(at) = raw.strip_prefix(b"/").and_then(decimal) {
            let rest = usize::try_from(at)
                .ok()
                .and_then(|at| names.get(at..))
                .ok_or_else(|| corrupt("long name out of the table"))?;
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let name = rest.get(..end).unwrap_or_default();
            Some(name.strip_suffix(b"/").unwrap_or(name).to_vec())
        } else {
            Some(raw.strip_suffix(b"/").unwrap_or(raw).to_vec())
        };
        if let Some(name) = name {
            if !visit.has_room() {
                visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
                return Ok(());
            }
            let left = body.limit();
            if visit.member(&name, Some(left), &mut body).is_break() {
                return Ok(());
            }
        }
        io::copy(&mut body, &mut io::sink())?;
        if body.limit() > 0 {
            return Err(truncated());
        }
        // Members start at even offsets; the last one's padding may be missing.
        if size % 2 == 1 && read_full(reader, &mut [0u8; 1])? == 0 {
            return Ok(());
        }
    }
}

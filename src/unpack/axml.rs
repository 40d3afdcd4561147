//! Android binary XML (`AndroidManifest.xml` and `res/*.xml` in an `.apk`, #22): a chunk of
//! type `0x0003` whose first chunk is a string pool (`0x0001`) holding every attribute value,
//! element and attribute name, in UTF-16LE or UTF-8. The pool's strings, in index order, are the
//! member `strings`. `arsc` reads its global pool with the same code (`pool`). Offsets or
//! lengths past the pool stop the read (`truncated`, `corrupt`).

use super::strings::{Bytes, Table};
use super::{Format, Reader};
use crate::skip::SkipReason;

/// The Android binary XML format.
pub const FORMAT: Format = Format {
    name: "android-xml",
    sniff: |head| head.starts_with(&[0x03, 0x00, 0x08, 0x00]) && is_pool_at(head, 8),
    reader: Reader::Strings(read),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The header of a string pool chunk: type `0x0001`, header size `0x001C`.
const POOL_HEADER: [u8; 4] = [0x01, 0x00, 0x1C, 0x00];

/// The flag of a pool in UTF-8 (UTF-16LE otherwise).
const UTF8_FLAG: u32 = 0x100;

/// Whether a string pool chunk starts at `at` of `head`.
pub(super) fn is_pool_at(head: &[u8], at: usize) -> bool {
    head.span(at, 4) == Some(POOL_HEADER.as_slice())
}

/// Reads the strings of binary XML `data`.
fn read(data: &[u8]) -> Table {
    let mut table = Table::new("strings", data.len());
    if let Err(reason) = pool(data, 8, &mut table) {
        table.fail(reason);
    }
    table
}

/// Reads the string pool chunk at `at` of `data` into `table`.
pub(super) fn pool(data: &[u8], at: usize, table: &mut Table) -> Result<(), SkipReason> {
    if !is_pool_at(data, at) {
        return Err(SkipReason::Corrupt);
    }
    let header = usize::from(data.u16le(at + 2).ok_or(SkipReason::Truncated)?);
    let size = data.u32le(at + 4).ok_or(SkipReason::Truncated)? as usize;
    let count = data.u32le(at + 8).ok_or(SkipReason::Truncated)? as usize;
    let flags = data.u32le(at + 16).ok_or(SkipReason::Truncated)?;
    let start = data.u32le(at + 20).ok_or(SkipReason::Truncated)? as usize;
    // The chunk, as far as the data holds it: a cut file keeps the strings before the cut.
    let end = at.checked_add(size).ok_or(SkipReason::Corrupt)?;
    let chunk = data.get(..end.min(data.len())).unwrap_or_default();
    let offsets = at.checked_add(header).ok_or(SkipReason::Corrupt)?;
    if count
        .checked_mul(4)
        .and_then(|n| chunk.span(offsets, n))
        .is_none()
    {
        return Err(SkipReason::Truncated);
    }
    let base = at.checked_add(start).ok_or(SkipReason::Corrupt)?;
    for i in 0..count {
        let off = chunk.u32le(offsets + 4 * i).ok_or(SkipReason::Truncated)? as usize;
        let at = base.checked_add(off).ok_or(SkipReason::Corrupt)?;
        let pushed = if flags & UTF8_FLAG != 0 {
            // The length in UTF-16 units, then in bytes, each 1 or 2 bytes long.
            let (_, at) = utf8_len(chunk, at)?;
            let (len, at) = utf8_len(chunk, at)?;
            let bytes = chunk.span(at, len).ok_or(SkipReason::Truncated)?;
            table.push_bytes(at, bytes)
        } else {
            let (units, at) = utf16_len(chunk, at)?;
            let len = units.checked_mul(2).ok_or(SkipReason::Corrupt)?;
            let bytes = chunk.span(at, len).ok_or(SkipReason::Truncated)?;
            table.push_utf16le(at, bytes)
        };
        if !pushed {
            return Err(SkipReason::Corrupt);
        }
    }
    if end > data.len() {
        return Err(SkipReason::Truncated);
    }
    Ok(())
}

/// A UTF-8 pool length at `at` (one byte, or two when the high bit is set) and what follows.
fn utf8_len(chunk: &[u8], at: usize) -> Result<(usize, usize), SkipReason> {
    let first = chunk.u8_at(at).ok_or(SkipReason::Truncated)?;
    if first & 0x80 == 0 {
        return Ok((usize::from(first), at + 1));
    }
    let second = chunk.u8_at(at + 1).ok_or(SkipReason::Truncated)?;
    Ok((
        (usize::from(first & 0x7F) << 8) | usize::from(second),
        at + 2,
    ))
}

/// A UTF-16 pool length at `at` (one unit, or two when the high bit is set) and what follows.
fn utf16_len(chunk: &[u8], at: usize) -> Result<(usize, usize), SkipReason> {
    let first = chunk.u16le(at).ok_or(SkipReason::Truncated)?;
    if first & 0x8000 == 0 {
        return Ok((usize::from(first), at + 2));
    }
    let second = chunk.u16le(at + 2).ok_or(SkipReason::Truncated)?;
    Ok((
        (usize::from(first & 0x7FFF) << 16) | usize::from(second),
        at + 4,
    ))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A string pool chunk of `strings`, UTF-8 or UTF-16.
    pub fn pool_chunk(strings: &[&str], utf8: bool) -> Vec<u8> {
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        for s in strings {
            offsets.push(data.len() as u32);
            if utf8 {
                data.push(s.encode_utf16().count() as u8);
                data.push(s.len() as u8);
                data.extend(s.as_bytes());
                data.push(0);
            } else {
                data.extend((s.encode_utf16().count() as u16).to_le_bytes());
                data.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
                data.extend([0, 0]);
            }
        }
        while !data.len().is_multiple_of(4) {
            data.push(0);
        }
        let start = 0x1C + 4 * strings.len();
        let mut c = POOL_HEADER.to_vec();
        c.extend(((start + data.len()) as u32).to_le_bytes());
        c.extend((strings.len() as u32).to_le_bytes());
        c.extend(0u32.to_le_bytes());
        c.extend((if utf8 { UTF8_FLAG } else { 0 }).to_le_bytes());
        c.extend((start as u32).to_le_bytes());
        c.extend(0u32.to_le_bytes());
        for o in offsets {
            c.extend(o.to_le_bytes());
        }
        c.extend(data);
        c
    }

    fn axml(pool: &[u8]) -> Vec<u8> {
        let mut d = vec![0x03, 0x00, 0x08, 0x00];
        d.extend(((8 + pool.len()) as u32).to_le_bytes());
        d.extend(pool);
        d
    }

    #[test]
    fn utf16_and_utf8_pools_are_read_in_index_order() {
        for utf8 in [false, true] {
            let t = read(&axml(&pool_chunk(&["manifest", "", "héllo"], utf8)));
            assert_eq!(t.incomplete, None);
            assert_eq!(t.text(), "manifest\n\nhéllo\n".as_bytes(), "utf8: {utf8}");
        }
    }

    #[test]
    fn long_lengths_take_two_units() {
        let t = read(&axml(&pool_chunk(&[], false)));
        assert!(t.is_empty());
        let (n, at) = utf16_len(&[0x01, 0x80, 0x40, 0x9C], 0).unwrap();
        assert_eq!((n, at), ((1 << 16) | 40_000, 4));
        let (n, at) = utf8_len(&[0x81, 0x00], 0).unwrap();
        assert_eq!((n, at), (256, 2));
    }

    #[test]
    fn lying_counts_and_offsets_stop_the_read() {
        let good = axml(&pool_chunk(&["abc", "def"], false));
        let mut d = good.clone();
        d[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(read(&d).incomplete, Some(SkipReason::Truncated));
        let mut d = good.clone();
        d[8 + 0x1C..8 + 0x20].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert_eq!(read(&d).incomplete, Some(SkipReason::Truncated));
        let cut = &good[..good.len() - 6];
        let t = read(cut);
        assert_eq!(t.incomplete, Some(SkipReason::Truncated));
        assert_eq!(t.text(), b"abc\n", "the strings before the cut are kept");
    }
}

//! Android dex (`classes.dex`, #22): `dex\n035\0` to `dex\n039\0` (and `040`, the same
//! layout), a little-endian header whose `string_ids` list points at string data items: a
//! ULEB128 length in UTF-16 units, then modified UTF-8 up to a NUL. The strings, in id order,
//! are the member `strings`. `041` (several dex files in one container) and big-endian files
//! are `unsupported`; ids or data past the end stop the read (`truncated`, `corrupt`). Every
//! string literal, class, method and field name of a dex is in this table.

use super::strings::{Bytes, Table};
use super::{Format, Reader};
use crate::skip::SkipReason;

/// The dex format.
pub const FORMAT: Format = Format {
    name: "dex",
    sniff: |head| version(head).is_some(),
    reader: Reader::Strings(read),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The little-endian tag of the header.
const ENDIAN_CONSTANT: u32 = 0x1234_5678;

/// The version of the dex file starting with `head` (35 to 41).
fn version(head: &[u8]) -> Option<u32> {
    let magic = head.get(..8)?;
    if !magic.starts_with(b"dex\n0") || magic[7] != 0 {
        return None;
    }
    let digits = magic.get(5..7)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = u32::from(digits[0] - b'0') * 10 + u32::from(digits[1] - b'0');
    (35..=41).contains(&v).then_some(v)
}

/// Reads the strings of dex file `data`.
fn read(data: &[u8]) -> Table {
    let mut table = Table::new("strings", data.len());
    if let Err(reason) = strings(data, &mut table) {
        table.fail(reason);
    }
    table
}

fn strings(data: &[u8], table: &mut Table) -> Result<(), SkipReason> {
    if version(data).ok_or(SkipReason::Unsupported)? > 40 {
        return Err(SkipReason::Unsupported);
    }
    match data.u32le(40).ok_or(SkipReason::Truncated)? {
        ENDIAN_CONSTANT => {}
        _ => return Err(SkipReason::Unsupported),
    }
    let count = data.u32le(56).ok_or(SkipReason::Truncated)? as usize;
    let ids = data.u32le(60).ok_or(SkipReason::Truncated)? as usize;
    // The ids must all be there before any is read (no work in proportion to a lying count).
    let ids_len = count.checked_mul(4).ok_or(SkipReason::Corrupt)?;
    if data.span(ids, ids_len).is_none() {
        return Err(SkipReason::Truncated);
    }
    for i in 0..count {
        let off = data.u32le(ids + 4 * i).ok_or(SkipReason::Truncated)? as usize;
        let (units, start) = uleb128(data, off).ok_or(SkipReason::Truncated)?;
        let rest = data.get(start..).ok_or(SkipReason::Truncated)?;
        // The NUL is looked for only as far as the claimed length allows (3 bytes a UTF-16
        // unit at most), so the search costs no more than the string it finds.
        let window = (units as usize).saturating_mul(3).saturating_add(1);
        let Some(len) = rest.iter().take(window).position(|&b| b == 0) else {
            return Err(if rest.len() < window {
                SkipReason::Truncated
            } else {
                SkipReason::Corrupt
            });
        };
        if !table.push_bytes(start, &rest[..len]) {
            return Err(SkipReason::Corrupt);
        }
    }
    Ok(())
}

/// The ULEB128 number at `at` (at most 5 bytes for 32 bits) and the offset after it.
fn uleb128(data: &[u8], at: usize) -> Option<(u32, usize)> {
    let mut value = 0u32;
    for i in 0..5 {
        let byte = data.u8_at(at.checked_add(i)?)?;
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, at + i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dex header (0x70 bytes) with `strings` as its string table.
    pub fn dex(strings: &[&[u8]]) -> Vec<u8> {
        let mut d = b"dex\n035\0".to_vec();
        d.resize(0x70, 0);
        d[40..44].copy_from_slice(&ENDIAN_CONSTANT.to_le_bytes());
        d[56..60].copy_from_slice(&(strings.len() as u32).to_le_bytes());
        d[60..64].copy_from_slice(&0x70u32.to_le_bytes());
        let mut at = 0x70 + 4 * strings.len();
        let mut items = Vec::new();
        for s in strings {
            d.extend((at as u32).to_le_bytes());
            let item_len = 1 + s.len() + 1;
            items.push(s.len() as u8);
            items.extend(*s);
            items.push(0);
            at += item_len;
        }
        d.extend(items);
        d
    }

    #[test]
    fn versions_35_to_41_are_dex() {
        assert_eq!(version(b"dex\n035\0"), Some(35));
        assert_eq!(version(b"dex\n039\0rest"), Some(39));
        assert_eq!(version(b"dex\n041\0"), Some(41));
        assert_eq!(version(b"dex\n034\0"), None);
        assert_eq!(version(b"dex\n0a5\0"), None);
        assert_eq!(version(b"dex\n035"), None);
    }

    #[test]
    fn strings_are_read_in_id_order() {
        let t = read(&dex(&[b"Lcom/App;", b"", b"hello world"]));
        assert_eq!(t.incomplete, None);
        assert_eq!(t.text(), b"Lcom/App;\n\nhello world\n");
    }

    #[test]
    fn lying_counts_and_offsets_stop_the_read() {
        let mut d = dex(&[b"abc"]);
        d[56..60].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(read(&d).incomplete, Some(SkipReason::Truncated));
        let mut d = dex(&[b"abc"]);
        d[0x70..0x74].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(read(&d).incomplete, Some(SkipReason::Truncated));
        let mut d = dex(&[b"abc"]);
        d[5..7].copy_from_slice(b"41");
        assert_eq!(read(&d).incomplete, Some(SkipReason::Unsupported));
        let d = dex(&[b"abc"]);
        let cut = &d[..d.len() - 1];
        assert_eq!(read(cut).incomplete, Some(SkipReason::Truncated), "no NUL");
        let mut d = dex(&[b"abc", &[b'd'; 20]]);
        let first = d.iter().position(|&b| b == 3).unwrap();
        d[first + 4] = b'x';
        assert_eq!(
            read(&d).incomplete,
            Some(SkipReason::Corrupt),
            "no NUL where claimed"
        );
    }

    #[test]
    fn ids_sharing_one_string_cannot_multiply_the_input() {
        let mut d = dex(&[&[b'a'; 200]]);
        let shared = d[0x70..0x74].to_vec();
        let count = 10_000u32;
        d[56..60].copy_from_slice(&count.to_le_bytes());
        let ids = d.len() as u32;
        d[60..64].copy_from_slice(&ids.to_le_bytes());
        for _ in 0..count {
            d.extend(&shared);
        }
        let t = read(&d);
        assert_eq!(t.incomplete, Some(SkipReason::Corrupt));
        assert!(t.text().len() <= 2 * d.len() + 64);
    }
}

//! Java class files (#22): `CAFEBABE`, a minor and a major version (45 = Java 1.1 and up; a
//! Mach-O universal binary shares the magic but holds a small architecture count there, so
//! majors under 45 are not classes), then the constant pool. Its `CONSTANT_Utf8` entries
//! (modified UTF-8, a 2-byte length) are the member `constants`, in pool order. An unknown tag
//! or an entry past the end stops the read (`corrupt`, `truncated`); what follows the pool
//! (fields, methods, attributes) is covered by the raw scan.

use super::strings::{Bytes, Table};
use super::{Format, Reader};
use crate::skip::SkipReason;

/// The Java class format.
pub const FORMAT: Format = Format {
    name: "class",
    sniff: is_class,
    reader: Reader::Strings(read),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The lowest major version of a class file (Java 1.0.2 and 1.1).
const MIN_MAJOR: u16 = 45;

/// A major version no Java release will reach for decades (Java 25 is 69); bounds the sniff.
const MAX_MAJOR: u16 = 100;

fn is_class(head: &[u8]) -> bool {
    head.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE])
        && head
            .u16be(6)
            .is_some_and(|major| (MIN_MAJOR..=MAX_MAJOR).contains(&major))
        && head.u16be(8).is_some_and(|count| count > 0)
}

/// Reads the `CONSTANT_Utf8` strings of class file `data`.
fn read(data: &[u8]) -> Table {
    let mut table = Table::new("constants", data.len());
    if let Err(reason) = pool(data, &mut table) {
        table.fail(reason);
    }
    table
}

fn pool(data: &[u8], table: &mut Table) -> Result<(), SkipReason> {
    let count = data.u16be(8).ok_or(SkipReason::Truncated)?;
    let mut at = 10usize;
    // Entries are numbered from 1; longs and doubles take two numbers.
    let mut index = 1u16;
    while index < count {
        let tag = data.u8_at(at).ok_or(SkipReason::Truncated)?;
        at += 1;
        let (len, slots) = match tag {
            1 => {
                let len = usize::from(data.u16be(at).ok_or(SkipReason::Truncated)?);
                let bytes = data.span(at + 2, len).ok_or(SkipReason::Truncated)?;
                if !table.push_bytes(at + 2, bytes) {
                    return Err(SkipReason::Corrupt);
                }
                (2 + len, 1)
            }
            // Integer, Float; Fieldref, Methodref, InterfaceMethodref, NameAndType, Dynamic,
            // InvokeDynamic.
            3 | 4 | 9 | 10 | 11 | 12 | 17 | 18 => (4, 1),
            // Long, Double.
            5 | 6 => (8, 2),
            // Class, String, MethodType, Module, Package.
            7 | 8 | 16 | 19 | 20 => (2, 1),
            // MethodHandle.
            15 => (3, 1),
            _ => return Err(SkipReason::Corrupt),
        };
        if data.span(at, len).is_none() {
            return Err(SkipReason::Truncated);
        }
        at += len;
        index = index.saturating_add(slots);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(pool: &[&[u8]], count: u16) -> Vec<u8> {
        let mut c = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 65];
        c.extend(count.to_be_bytes());
        for entry in pool {
            c.extend(*entry);
        }
        c
    }

    #[test]
    fn mach_o_universal_binaries_are_not_classes() {
        assert!(is_class(&class(&[], 1)));
        let fat = [0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 2, 0, 0, 0, 7];
        assert!(!is_class(&fat));
        assert!(!is_class(&[0xCA, 0xFE, 0xBA, 0xBE, 0, 0]));
    }

    #[test]
    fn utf8_entries_are_read_in_order_past_other_tags() {
        let data = class(
            &[
                b"\x01\x00\x03abc",
                b"\x05\x00\x00\x00\x00\x00\x00\x00\x01",
                b"\x07\x00\x01",
                b"\x0f\x01\x00\x02",
                b"\x01\x00\x00",
                b"\x01\x00\x02\xc0\x80",
            ],
            8,
        );
        let t = read(&data);
        assert_eq!(t.incomplete, None);
        assert_eq!(t.text(), b"abc\n\n\xc0\x80\n");
    }

    #[test]
    fn unknown_tags_and_lying_lengths_stop_the_read() {
        let t = read(&class(&[b"\x01\x00\x01a", b"\x02\x00"], 3));
        assert_eq!(
            (t.text(), t.incomplete),
            (&b"a\n"[..], Some(SkipReason::Corrupt))
        );
        let t = read(&class(&[b"\x01\xff\xffa"], 2));
        assert_eq!(t.incomplete, Some(SkipReason::Truncated));
        let t = read(&class(&[], 60_000));
        assert_eq!(
            t.incomplete,
            Some(SkipReason::Truncated),
            "a count over the bytes"
        );
    }
}

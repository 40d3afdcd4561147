//! String tables of compiled artifacts (#22): what the string-table formats (`pyc`, `class`,
//! `dex`, `axml`, `arsc`, `dotnet`) give the nesting driver. Many compiled formats store a
//! string right after its length, and a length byte that is a letter or digit glues itself to a
//! key (`5leadey_sk_live_…` is not a key under the boundary rule), or the next string's length
//! or type byte makes the key too long. A parser reads the table's strings as separate values;
//! the driver scans them as one member, one string per line (line `n` is the table's `n`-th
//! string), besides the raw bytes of the blob, and `Table::dedupe` keeps one finding per key
//! and place. Pure: no I/O, never prints.
//!
//! Bounds: a table's text is at most `2 × input + 64` bytes (strings that share bytes, such as
//! dex ids pointing at one string, cannot multiply the input); a parser allocates nothing in
//! proportion to a claimed count, and stops at the first damage with the reason kept.

use std::collections::{HashMap, HashSet};

use crate::detect::Hit;
use crate::finding::Key;
use crate::skip::SkipReason;

/// The strings read from one blob, rendered as lines, and what stopped the read, if anything.
#[derive(Debug)]
pub struct Table {
    /// The member name the strings are scanned under (`constants`, `strings`, `#US`).
    pub member: &'static str,
    /// Why the table was not read to its end (`corrupt`, `truncated`, `unsupported`): the
    /// strings before are kept, the raw bytes are scanned either way.
    pub incomplete: Option<SkipReason>,
    text: Vec<u8>,
    lines: Vec<Line>,
    budget: usize,
}

/// Where one line of the text came from.
#[derive(Debug, Clone, Copy)]
struct Line {
    /// Offset of the line in the text.
    start: usize,
    /// Offset of the string's first byte in the blob.
    raw: usize,
    /// Whether the string is UTF-16 in the blob (two bytes a unit).
    wide: bool,
}

impl Table {
    /// An empty table for a blob of `input_len` bytes, to be scanned as member `member`.
    pub fn new(member: &'static str, input_len: usize) -> Table {
        Table {
            member,
            incomplete: None,
            text: Vec::new(),
            lines: Vec::new(),
            budget: input_len.saturating_mul(2).saturating_add(64),
        }
    }

    /// Records that the read stopped for `reason` (the first reason is kept).
    pub fn fail(&mut self, reason: SkipReason) {
        self.incomplete.get_or_insert(reason);
    }

    /// Adds string `bytes` (UTF-8, modified UTF-8 or raw bytes) found at offset `raw` of the
    /// blob as one line. Line breaks and NULs inside it become spaces, so lines count strings.
    /// `false` (and the table marked corrupt) when the text budget is spent.
    pub fn push_bytes(&mut self, raw: usize, bytes: &[u8]) -> bool {
        if !self.reserve(bytes.len()) {
            return false;
        }
        self.lines.push(Line {
            start: self.text.len(),
            raw,
            wide: false,
        });
        self.text.extend(bytes.iter().map(|&b| match b {
            b'\n' | b'\r' | 0 => b' ',
            b => b,
        }));
        self.text.push(b'\n');
        true
    }

    /// Adds UTF-16LE string `bytes` (an odd last byte is ignored) found at offset `raw` of the
    /// blob as one UTF-8 line; unpaired surrogates become U+FFFD, line breaks and NULs spaces.
    /// `false` (and the table marked corrupt) when the text budget is spent.
    pub fn push_utf16le(&mut self, raw: usize, bytes: &[u8]) -> bool {
        // UTF-8 takes at most 3 bytes per UTF-16 unit.
        if !self.reserve(bytes.len() / 2 * 3) {
            return false;
        }
        self.lines.push(Line {
            start: self.text.len(),
            raw,
            wide: true,
        });
        let units = bytes
            .chunks_exact(2)
            .map(|u| u16::from_le_bytes([u[0], u[1]]));
        let mut utf8 = [0u8; 4];
        for c in char::decode_utf16(units) {
            let c = match c {
                Ok('\n' | '\r' | '\0') => ' ',
                Ok(c) => c,
                Err(_) => char::REPLACEMENT_CHARACTER,
            };
            self.text
                .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
        self.text.push(b'\n');
        true
    }

    fn reserve(&mut self, len: usize) -> bool {
        let need = len.saturating_add(1);
        if need > self.budget {
            self.fail(SkipReason::Corrupt);
            return false;
        }
        self.budget -= need;
        true
    }

    /// The strings, one a line, `\n`-terminated.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// How many strings were read.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no string was read.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Keeps one finding per key and place among `hits[raw_from..]`: hits from `raw_from` to
    /// `strings_from` were found in the blob's raw bytes, the rest in this table's text.
    /// - A key the raw bytes gave is not reported again from the strings (same blob, same
    ///   key): the finding stays where it was before string tables were read.
    /// - A raw hit at the very place of a strings hit with another key (the raw bytes glued
    ///   the next string's length or type byte to the key) is dropped: the string's is right.
    ///
    /// Work is linear in the hits and the text (keys and places are looked up in hash maps;
    /// positions in a UTF-16 string are counted on from the previous hit in the same string).
    pub fn dedupe(&self, hits: &mut Vec<Hit>, raw_from: usize, strings_from: usize) {
        let raw_end = strings_from.min(hits.len());
        let raw_from = raw_from.min(raw_end);
        let mut keep = vec![true; hits.len()];
        {
            let raw = hits.get(raw_from..raw_end).unwrap_or_default();
            let keys: HashSet<&Key> = raw.iter().map(|r| &r.candidate.key).collect();
            let mut places: HashMap<u64, Vec<usize>> = HashMap::new();
            for (j, r) in raw.iter().enumerate() {
                places
                    .entry(r.candidate.offset)
                    .or_default()
                    .push(raw_from + j);
            }
            let mut cursor = Cursor::default();
            for (i, s) in hits.iter().enumerate().skip(raw_end) {
                if keys.contains(&s.candidate.key) {
                    keep[i] = false;
                    continue;
                }
                let at = self.raw_offset(s, &mut cursor);
                for &j in at.and_then(|at| places.get(&at)).into_iter().flatten() {
                    keep[j] = false;
                }
            }
        }
        let mut flags = keep.into_iter();
        hits.retain(|_| flags.next().unwrap_or(true));
    }

    /// The offset in the blob of the first byte of strings hit `hit`, when its line is known.
    fn raw_offset(&self, hit: &Hit, cursor: &mut Cursor) -> Option<u64> {
        let index = usize::try_from(hit.line.checked_sub(1)?).ok()?;
        let line = self.lines.get(index)?;
        let at = usize::try_from(hit.candidate.offset).ok()?;
        if at < line.start {
            return None;
        }
        let delta = if line.wide {
            let (from, units) = if cursor.line == index && (line.start..=at).contains(&cursor.at) {
                (cursor.at, cursor.units)
            } else {
                (line.start, 0)
            };
            // UTF-16 units of the UTF-8 text before the key: one per character, two for a
            // character outside the BMP (a 4-byte sequence).
            let units = units
                + self
                    .text
                    .get(from..at)?
                    .iter()
                    .map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
                    .sum::<usize>();
            *cursor = Cursor {
                line: index,
                at,
                units,
            };
            units * 2
        } else {
            at - line.start
        };
        Some(line.raw.saturating_add(delta) as u64)
    }
}

/// Where the last position in a UTF-16 string was counted: line index, offset in the text,
/// UTF-16 units from the line's start.
#[derive(Debug, Default)]
struct Cursor {
    line: usize,
    at: usize,
    units: usize,
}

/// Little-endian and big-endian reads that fail (`None`) past the end of `data`.
pub(super) trait Bytes {
    fn u8_at(&self, at: usize) -> Option<u8>;
    fn u16le(&self, at: usize) -> Option<u16>;
    fn u32le(&self, at: usize) -> Option<u32>;
    fn u16be(&self, at: usize) -> Option<u16>;
    fn span(&self, at: usize, len: usize) -> Option<&[u8]>;
}

impl Bytes for [u8] {
    fn u8_at(&self, at: usize) -> Option<u8> {
        self.get(at).copied()
    }

    fn u16le(&self, at: usize) -> Option<u16> {
        let b = self.get(at..at.checked_add(2)?)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32le(&self, at: usize) -> Option<u32> {
        let b = self.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16be(&self, at: usize) -> Option<u16> {
        let b = self.get(at..at.checked_add(2)?)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn span(&self, at: usize, len: usize) -> Option<&[u8]> {
        self.get(at..at.checked_add(len)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{self, Read};

    use crate::config::ArchiveLimits;
    use crate::unpack::{Head, IssueKind, MemberIssue, Scan};

    /// A scanner that reads everything and finds nothing.
    struct Blind;

    impl Scan for Blind {
        fn read_head(&self, reader: &mut dyn Read, buf: &mut Vec<u8>) -> io::Result<Head> {
            buf.resize(4096, 0);
            let mut filled = 0;
            while filled < buf.len() {
                match reader.read(&mut buf[filled..])? {
                    0 => return Ok(Head { filled, eof: true }),
                    n => filled += n,
                }
            }
            Ok(Head { filled, eof: false })
        }

        fn scan_plain(
            &self,
            reader: &mut dyn Read,
            _: &mut Vec<u8>,
            _: Head,
        ) -> io::Result<super::super::Plain> {
            io::copy(reader, &mut io::sink())?;
            Ok((Vec::new(), false, Vec::new()))
        }

        fn redact(&self, text: &str) -> String {
            text.to_string()
        }

        fn display_name(&self, raw: &[u8]) -> String {
            String::from_utf8_lossy(raw).into_owned()
        }

        fn is_too_large(&self, _: u64) -> bool {
            false
        }
    }

    #[test]
    fn a_file_over_the_buffer_limit_is_scanned_raw_and_reported() {
        // A class file whose constant pool is one long string.
        let mut class = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 65, 0, 2, 1, 0xFF, 0xFF];
        class.extend([b'a'; 0xFFFF]);
        let format = crate::unpack::sniff(&class).expect("a class");
        let limits = |max_zip_buffer_bytes| ArchiveLimits {
            max_depth: 3,
            max_inflated_bytes: 1 << 30,
            max_members: 10,
            max_zip_buffer_bytes,
        };
        let mut buf = Vec::new();
        let whole =
            crate::unpack::unpack_bytes(&Blind, &limits(1 << 20), format, &class, 0, &mut buf);
        assert_eq!(whole.issues, vec![]);
        let over = crate::unpack::unpack_bytes(&Blind, &limits(1000), format, &class, 0, &mut buf);
        let skip = MemberIssue {
            members: vec![],
            kind: IssueKind::Skip(SkipReason::ZipTooLarge),
        };
        assert_eq!(over.issues, vec![skip]);
    }

    #[test]
    fn strings_are_lines_with_breaks_and_nuls_as_spaces() {
        let mut t = Table::new("strings", 100);
        assert!(t.push_bytes(4, b"a\nb\0c"));
        assert!(t.push_utf16le(20, b"h\0i\0\n\0"));
        assert!(t.push_bytes(30, b""));
        assert_eq!(t.text(), b"a b c\nhi \n\n");
        assert_eq!(t.len(), 3);
        assert_eq!(t.incomplete, None);
    }

    #[test]
    fn unpaired_surrogates_become_replacement_characters() {
        let mut t = Table::new("strings", 100);
        assert!(t.push_utf16le(0, &[0x00, 0xD8, b'x', 0]));
        assert_eq!(t.text(), "\u{FFFD}x\n".as_bytes());
    }

    #[test]
    fn the_text_budget_stops_strings_that_share_bytes() {
        let mut t = Table::new("strings", 10);
        let long = [b'a'; 30];
        for _ in 0..3 {
            assert!(t.push_bytes(0, &long[..20]));
        }
        assert!(!t.push_bytes(0, &long[..30]), "the budget is 2 × 10 + 64");
        assert_eq!(t.incomplete, Some(SkipReason::Corrupt));
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn reads_past_the_end_fail() {
        let d: &[u8] = &[1, 2, 3];
        assert_eq!(d.u16le(1), Some(0x0302));
        assert_eq!(d.u16be(1), Some(0x0203));
        assert_eq!(d.u16le(2), None);
        assert_eq!(d.u32le(0), None);
        assert_eq!(d.span(1, 2), Some(&[2u8, 3][..]));
        assert_eq!(d.span(usize::MAX, 2), None);
    }
}

//! Python bytecode (`.pyc`, #22): a header whose first word is the version's magic number
//! followed by `\r\n` (16 bytes since Python 3.7, 12 for 3.3–3.6, 8 for 2.7), then a marshalled
//! code object. Its strings (the marshal types `s`, `u`, `t`, `a`, `A`, `z`, `Z`: bytes, and
//! text with a 4- or 1-byte length) are read in order, walking code objects, their constants
//! and nested tuples, lists, sets and dicts, to at most `MAX_DEPTH` levels. Strings are the
//! member `constants`. An unknown type code, a length past the end or deeper nesting stops the
//! walk (`corrupt`, `truncated`, `unsupported`); the raw bytes are scanned either way.

use super::strings::{Bytes, Table};
use super::{Format, Reader};
use crate::skip::SkipReason;

/// The `.pyc` format.
pub const FORMAT: Format = Format {
    name: "pyc",
    sniff: |head| layout(head).is_some(),
    reader: Reader::Strings(read),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// Objects nested inside each other at most (a code object in a tuple in a code object is
/// three levels); Python's own limit is 2000, real modules stay far below 100.
const MAX_DEPTH: u32 = 100;

/// Where a code object's fields are, by Python version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    /// Bytes before the marshal data.
    header: usize,
    /// 32-bit integers at the start of a code object (argument counts, flags…).
    ints: u32,
    /// Objects after them, before `co_firstlineno` (an integer).
    objects: u32,
    /// Objects after `co_firstlineno`.
    tail: u32,
}

/// The layout of the `.pyc` starting with `head`, when its magic number is one we read and the
/// marshal data starts with a code object.
fn layout(head: &[u8]) -> Option<Layout> {
    if head.get(2..4) != Some(b"\r\n".as_slice()) {
        return None;
    }
    let magic = head.u16le(0)?;
    let layout = match magic {
        // 3.11 on: argcount, posonlyargcount, kwonlyargcount, stacksize, flags; code, consts,
        // names, localsplusnames, localspluskinds, filename, name, qualname; firstlineno;
        // linetable, exceptiontable.
        3450..=3999 => Layout {
            header: 16,
            ints: 5,
            objects: 8,
            tail: 2,
        },
        // 3.8–3.10: argcount, posonlyargcount, kwonlyargcount, nlocals, stacksize, flags;
        // code, consts, names, varnames, freevars, cellvars, filename, name; firstlineno; lnotab.
        3400..=3449 => Layout {
            header: 16,
            ints: 6,
            objects: 8,
            tail: 1,
        },
        // 3.3–3.7: no posonlyargcount; the header grew from 12 to 16 bytes in 3.7 (3390).
        3230..=3399 => Layout {
            header: if magic >= 3390 { 16 } else { 12 },
            ints: 5,
            objects: 8,
            tail: 1,
        },
        // 2.7.
        62211 => Layout {
            header: 8,
            ints: 4,
            objects: 8,
            tail: 1,
        },
        _ => return None,
    };
    (head.u8_at(layout.header)? & 0x7F == b'c').then_some(layout)
}

/// Reads the strings of `.pyc` `data`.
fn read(data: &[u8]) -> Table {
    let mut table = Table::new("constants", data.len());
    let Some(layout) = layout(data) else {
        table.fail(SkipReason::Unsupported);
        return table;
    };
    let mut walk = Walk {
        data,
        at: layout.header,
        layout,
        table: &mut table,
    };
    if let Err(reason) = walk.object(0) {
        table.fail(reason);
    }
    table
}

/// A walk through marshal data.
struct Walk<'d, 't> {
    data: &'d [u8],
    at: usize,
    layout: Layout,
    table: &'t mut Table,
}

impl Walk<'_, '_> {
    fn take(&mut self, len: usize) -> Result<&[u8], SkipReason> {
        let bytes = self.data.span(self.at, len).ok_or(SkipReason::Truncated)?;
        self.at += len;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, SkipReason> {
        Ok(self.take(1)?[0])
    }

    fn int(&mut self) -> Result<i32, SkipReason> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A 32-bit length or count, which must fit what is left.
    fn count(&mut self) -> Result<usize, SkipReason> {
        let n = self.int()?;
        let n = usize::try_from(n).map_err(|_| SkipReason::Corrupt)?;
        if n > self.data.len().saturating_sub(self.at) {
            return Err(SkipReason::Truncated);
        }
        Ok(n)
    }

    fn string(&mut self, len: usize) -> Result<(), SkipReason> {
        let raw = self.at;
        let bytes = self.take(len)?;
        let bytes = bytes.to_vec();
        if self.table.push_bytes(raw, &bytes) {
            Ok(())
        } else {
            Err(SkipReason::Corrupt)
        }
    }

    /// Reads one object at nesting `depth`, adding the strings it holds.
    fn object(&mut self, depth: u32) -> Result<(), SkipReason> {
        if depth > MAX_DEPTH {
            return Err(SkipReason::Unsupported);
        }
        // The high bit asks the reader to remember the object for later references.
        match self.byte()? & 0x7F {
            b'0' | b'N' | b'F' | b'T' | b'S' | b'.' => Ok(()),
            // Integers, binary floats, binary complex numbers; references (`r`) and 2.x
            // string references (`R`) point at objects already read.
            b'i' | b'r' | b'R' => self.take(4).map(drop),
            b'I' | b'g' => self.take(8).map(drop),
            b'y' => self.take(16).map(drop),
            b'l' => {
                let digits = self.int()?.unsigned_abs() as usize;
                self.take(digits.checked_mul(2).ok_or(SkipReason::Corrupt)?)
                    .map(drop)
            }
            b'f' => {
                let len = usize::from(self.byte()?);
                self.take(len).map(drop)
            }
            b'x' => {
                for _ in 0..2 {
                    let len = usize::from(self.byte()?);
                    self.take(len)?;
                }
                Ok(())
            }
            b's' | b'u' | b't' | b'a' | b'A' => {
                let len = self.count()?;
                self.string(len)
            }
            b'z' | b'Z' => {
                let len = usize::from(self.byte()?);
                self.string(len)
            }
            b'(' | b'[' | b'<' | b'>' => {
                // Each item takes at least one byte: `count` bounds the loop by what is left.
                for _ in 0..self.count()? {
                    self.object(depth + 1)?;
                }
                Ok(())
            }
            b')' => {
                for _ in 0..self.byte()? {
                    self.object(depth + 1)?;
                }
                Ok(())
            }
            b'{' => loop {
                // Key and value pairs up to a NULL key.
                if self.data.get(self.at).map(|b| b & 0x7F) == Some(b'0') {
                    self.at += 1;
                    return Ok(());
                }
                self.object(depth + 1)?;
                self.object(depth + 1)?;
            },
            // 3.14: a slice, its start, stop and step.
            b':' => {
                for _ in 0..3 {
                    self.object(depth + 1)?;
                }
                Ok(())
            }
            b'c' => {
                let Layout {
                    ints,
                    objects,
                    tail,
                    ..
                } = self.layout;
                self.take(4 * ints as usize)?;
                for _ in 0..objects {
                    self.object(depth + 1)?;
                }
                self.take(4)?;
                for _ in 0..tail {
                    self.object(depth + 1)?;
                }
                Ok(())
            }
            _ => Err(SkipReason::Corrupt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pyc(marshal: &[u8]) -> Vec<u8> {
        // 3.12's magic, no flags, no date or size.
        let mut data = vec![0xCB, 0x0D, b'\r', b'\n'];
        data.extend([0u8; 12]);
        data.extend(marshal);
        data
    }

    /// A 3.12 code object with consts `consts` (marshal bytes of a tuple) and names `()`.
    fn code(consts: &[u8]) -> Vec<u8> {
        let mut c = vec![0xE3];
        c.extend([0u8; 20]);
        c.extend(b"s\x02\0\0\0\x97\0"); // code: bytes
        c.extend(consts);
        c.extend(b")\0"); // names
        c.extend(b")\0"); // localsplusnames
        c.extend(b"s\0\0\0\0"); // localspluskinds
        c.extend(b"\xfa\x04a.py"); // filename, short ASCII interned with the ref flag
        c.extend(b"\xda\x08<module>");
        c.extend(b"r\x02\0\0\0"); // qualname: a reference
        c.extend(1i32.to_le_bytes());
        c.extend(b"s\0\0\0\0s\0\0\0\0"); // linetable, exceptiontable
        c
    }

    fn text(data: &[u8]) -> (String, Option<SkipReason>) {
        let t = read(data);
        (String::from_utf8_lossy(t.text()).into_owned(), t.incomplete)
    }

    #[test]
    fn sniffs_versions_by_magic_and_code_object() {
        assert!(layout(&pyc(&code(b")\0"))).is_some());
        let mut py27 = vec![0x03, 0xF3, b'\r', b'\n', 0, 0, 0, 0, b'c'];
        assert_eq!(layout(&py27).map(|l| l.header), Some(8));
        py27[8] = b'x';
        assert_eq!(layout(&py27), None, "not a code object");
        assert_eq!(layout(b"ab\r\ncdef"), None);
        assert_eq!(layout(b""), None);
    }

    #[test]
    fn strings_of_every_kind_are_lines_in_order() {
        let consts = b")\x04z\x03abcu\x02\0\0\0\xc3\xa9s\x01\0\0\0\n(\x01\0\0\0Z\x01x";
        let t = read(&pyc(&code(consts)));
        assert_eq!(t.incomplete, None);
        // Bytes objects (the bytecode, the line table…) are strings too; `\n` became a space.
        let want: &[u8] = b"\x97 \nabc\n\xc3\xa9\n \nx\n\na.py\n<module>\n\n\n";
        assert_eq!(t.text(), want);
    }

    #[test]
    fn lying_lengths_and_unknown_types_stop_the_walk() {
        let (_, r) = text(&pyc(&code(b")\x01s\xff\xff\xff\x7f")));
        assert_eq!(r, Some(SkipReason::Truncated));
        let (_, r) = text(&pyc(&code(b")\x01s\xff\xff\xff\xff")));
        assert_eq!(r, Some(SkipReason::Corrupt), "a negative length");
        let (_, r) = text(&pyc(&code(b")\x01?")));
        assert_eq!(r, Some(SkipReason::Corrupt));
        let (_, r) = text(&pyc(&code(b"(\xff\xff\xff\x0f")));
        assert_eq!(r, Some(SkipReason::Truncated), "a count over what is left");
    }

    #[test]
    fn deep_nesting_stops_at_the_limit() {
        let mut deep = b")\x01".repeat(100_000);
        deep.push(b'N');
        let (_, r) = text(&pyc(&code(&deep)));
        assert_eq!(r, Some(SkipReason::Unsupported));
        let mut dict = b"{".repeat(50_000);
        dict.push(b'0');
        let (_, r) = text(&pyc(&code(&dict)));
        assert_eq!(r, Some(SkipReason::Unsupported));
    }
}

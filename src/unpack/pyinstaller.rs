//! PyInstaller executables and their PYZ archives (#22). A one-file app is the bootloader (an
//! ELF, PE or Mach-O executable) followed by a CArchive: zlib'd entries, a table of contents,
//! and a cookie (`MEI\014\013\012\013\016`, the package length, the TOC's offset and length,
//! the Python version and library name) at the end of the file. The executable's own bytes
//! are scanned as they are (its strings: `app:line:col` as before); the entries are members
//! under their TOC names (`app!myapp`, `app!PYZ.pyz!mypkg.config`, `app!config/app.env`). The
//! PYZ archive (`PYZ\0`, its own format) holds one zlib'd marshal code object per module, named
//! by the module, listed in a marshal'd TOC at the offset its header gives.
//!
//! An executable is looked at only when its first chunk holds a PyInstaller bootloader string
//! (`_MEIPASS`, `PyInstaller`, or the cookie magic): other executables are scanned as before,
//! with no seek. The cookie is then looked for in the file's last `TAIL_BYTES` (a code
//! signature may follow it); an executable without one is only its own bytes. This tail look
//! is local to this format.

use std::io::{self, Read, SeekFrom};

use memchr::memmem;

use super::zlib::Inflate;
use super::{Format, Issue, ReadSeek, Reader, Visit};
use crate::skip::SkipReason;

/// PyInstaller executables (CArchive).
pub const CARCHIVE: Format = Format {
    name: "pyinstaller",
    sniff: is_bootloader,
    reader: Reader::Seekable(carchive),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// PyInstaller's PYZ archive of modules.
pub const PYZ: Format = Format {
    name: "pyz",
    sniff: |head| head.starts_with(b"PYZ\0") && head.len() >= 16,
    reader: Reader::Seekable(pyz),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The CArchive cookie's magic.
const MAGIC: &[u8] = b"MEI\x0c\x0b\x0a\x0b\x0e";

/// The cookie: magic, package length, TOC offset, TOC length, Python version, library name.
const COOKIE_BYTES: u64 = 8 + 4 * 4 + 64;

/// Bytes at the end of the file searched for the cookie.
const TAIL_BYTES: u64 = 1 << 20;

/// The longest table of contents read.
const MAX_TOC_BYTES: u64 = 16 << 20;

/// Whether `head` is an executable whose first chunk holds a PyInstaller bootloader string.
fn is_bootloader(head: &[u8]) -> bool {
    let executable = head.starts_with(b"\x7fELF")
        || head.starts_with(b"MZ")
        || head.starts_with(&[0xcf, 0xfa, 0xed, 0xfe])
        || head.starts_with(&[0xce, 0xfa, 0xed, 0xfe]);
    executable
        && [b"_MEIPASS".as_slice(), b"PyInstaller", MAGIC]
            .iter()
            .any(|needle| memmem::find(head, needle).is_some())
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Walks a PyInstaller executable: its own bytes, then its CArchive's entries.
fn carchive(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) {
    if let Err(e) = reader.seek(SeekFrom::Start(0)) {
        return visit.issue(None, Issue::Error(e));
    }
    visit.own_bytes(&mut *reader);
    if let Err(e) = entries(reader, visit) {
        visit.issue(None, Issue::Error(e));
    }
}

/// Reads `len` bytes at `at`.
fn read_at(reader: &mut dyn ReadSeek, at: u64, len: u64) -> io::Result<Vec<u8>> {
    reader.seek(SeekFrom::Start(at))?;
    let mut data = Vec::new();
    reader.take(len).read_to_end(&mut data)?;
    if (data.len() as u64) < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "archive ends early",
        ));
    }
    Ok(data)
}

/// Finds the cookie and visits each entry of the CArchive.
fn entries(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) -> io::Result<()> {
    let len = reader.seek(SeekFrom::End(0))?;
    let tail_at = len.saturating_sub(TAIL_BYTES);
    let tail = read_at(reader, tail_at, len - tail_at)?;
    let Some(found) = memmem::rfind(&tail, MAGIC) else {
        // A bootloader string but no archive: an ordinary executable.
        return Ok(());
    };
    let cookie = tail.get(found..).unwrap_or_default();
    let (Some(pkg_len), Some(toc_at), Some(toc_len)) =
        (be32(cookie, 8), be32(cookie, 12), be32(cookie, 16))
    else {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cookie cut"));
    };
    let cookie_end = tail_at + found as u64 + COOKIE_BYTES;
    let start = cookie_end
        .checked_sub(u64::from(pkg_len))
        .ok_or_else(|| bad("package longer than the file"))?;
    let toc_len = u64::from(toc_len);
    if toc_len > MAX_TOC_BYTES || u64::from(toc_at) + toc_len > u64::from(pkg_len) {
        return Err(bad("table of contents outside the package"));
    }
    let toc = read_at(reader, start + u64::from(toc_at), toc_len)?;
    let mut at = 0usize;
    while at < toc.len() {
        let entry = toc.get(at..).unwrap_or_default();
        let (Some(entry_len), Some(offset), Some(stored), Some(size)) = (
            be32(entry, 0),
            be32(entry, 4),
            be32(entry, 8),
            be32(entry, 12),
        ) else {
            return Err(bad("table of contents entry cut"));
        };
        let entry_len = usize::try_from(entry_len).unwrap_or(usize::MAX);
        let (Some(&compressed), Some(&kind), Some(raw_name)) =
            (entry.get(16), entry.get(17), entry.get(18..entry_len))
        else {
            return Err(bad("table of contents entry cut"));
        };
        at += entry_len;
        let name_len = raw_name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw_name.len());
        let name = raw_name.get(..name_len).unwrap_or_default();
        // 'd' names a dependency in another archive, 'o' a runtime option, 'n' a symbolic
        // link: no content.
        if stored == 0 || matches!(kind, b'd' | b'o' | b'n') {
            continue;
        }
        if !visit.has_room() {
            visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
            return Ok(());
        }
        let data_at = start + u64::from(offset);
        if data_at + u64::from(stored) > cookie_end {
            visit.issue(Some(name), Issue::Error(bad("entry outside the package")));
            continue;
        }
        reader.seek(SeekFrom::Start(data_at))?;
        let mut stored_data = (&mut *reader).take(u64::from(stored));
        let flow = match compressed {
            0 => visit.member(name, Some(u64::from(size)), &mut stored_data),
            _ => {
                let mut inflated = Inflate::new(io::BufReader::new(stored_data));
                visit.member(name, Some(u64::from(size)), &mut inflated)
            }
        };
        if flow.is_break() {
            return Ok(());
        }
    }
    Ok(())
}

/// Walks a PYZ archive: its marshal'd TOC, then each module's zlib'd code.
fn pyz(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) {
    if let Err(e) = pyz_entries(reader, visit) {
        visit.issue(None, Issue::Error(e));
    }
}

fn pyz_entries(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) -> io::Result<()> {
    let len = reader.seek(SeekFrom::End(0))?;
    let header = read_at(reader, 0, 12)?;
    let toc_at = u64::from(be32(&header, 8).unwrap_or(0));
    if toc_at < 12 || toc_at >= len {
        return Err(bad("table of contents outside the archive"));
    }
    let toc_len = (len - toc_at).min(MAX_TOC_BYTES);
    let toc = read_at(reader, toc_at, toc_len)?;
    let mut unmarshal = Unmarshal {
        data: &toc,
        at: 0,
        refs: Vec::new(),
        depth: 0,
        made: 0,
        text: 0,
    };
    let value = unmarshal.value()?;
    let pairs: Vec<(Value, Value)> = match value {
        Value::List(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::Tuple(mut t) if t.len() == 2 => {
                    let v = t.pop()?;
                    let k = t.pop()?;
                    Some((k, v))
                }
                _ => None,
            })
            .collect(),
        Value::Dict(pairs) => pairs,
        _ => return Err(bad("table of contents is not a list")),
    };
    for (name, entry) in pairs {
        let (Value::Str(name), Value::Tuple(fields)) = (name, entry) else {
            return Err(bad("table of contents entry of another shape"));
        };
        let (Some(Value::Int(offset)), Some(Value::Int(stored))) = (fields.get(1), fields.get(2))
        else {
            return Err(bad("table of contents entry of another shape"));
        };
        let (Ok(offset), Ok(stored)) = (u64::try_from(*offset), u64::try_from(*stored)) else {
            return Err(bad("negative offset"));
        };
        if !visit.has_room() {
            visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
            return Ok(());
        }
        if offset.saturating_add(stored) > toc_at {
            visit.issue(Some(&name), Issue::Error(bad("entry outside the archive")));
            continue;
        }
        reader.seek(SeekFrom::Start(offset))?;
        let stored_data = (&mut *reader).take(stored);
        let mut inflated = Inflate::new(io::BufReader::new(stored_data));
        if visit.member(&name, None, &mut inflated).is_break() {
            return Ok(());
        }
    }
    Ok(())
}

/// The marshal values a PYZ table of contents is made of.
#[derive(Debug, Clone)]
enum Value {
    Str(Vec<u8>),
    Int(i64),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Other,
}

/// A reader of Python's marshal format, for the values a TOC holds.
struct Unmarshal<'d> {
    data: &'d [u8],
    at: usize,
    refs: Vec<Value>,
    depth: u32,
    /// Values made, and bytes of strings made, so far.
    made: usize,
    text: usize,
}

/// The most values one TOC may hold (a module is 6: the pair, the name, the entry, 3 numbers).
const MAX_VALUES: usize = 1 << 20;

/// The most bytes of strings one TOC may make.
const MAX_TEXT_BYTES: usize = 32 << 20;

impl Unmarshal<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        let end = self
            .at
            .checked_add(n)
            .ok_or_else(|| bad("length overflows"))?;
        let part = self
            .data
            .get(self.at..end)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "marshal data cut"))?;
        self.at = end;
        Ok(part)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }

    fn i32(&mut self) -> io::Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes(b.try_into().map_err(|_| bad("cut"))?))
    }

    fn count(&mut self) -> io::Result<usize> {
        let n = self.i32()?;
        let n = usize::try_from(n).map_err(|_| bad("negative length"))?;
        if n > self.data.len() {
            return Err(bad("length past the data"));
        }
        Ok(n)
    }

    fn value(&mut self) -> io::Result<Value> {
        self.depth += 1;
        if self.depth > 32 {
            return Err(bad("marshal data nested too deep"));
        }
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> io::Result<Value> {
        let code = self.u8()?;
        let flag = code & 0x80 != 0;
        let slot = flag.then(|| {
            self.refs.push(Value::Other);
            self.refs.len() - 1
        });
        let v = match code & 0x7f {
            b'N' | b'T' | b'F' => Value::Other,
            b'i' => Value::Int(i64::from(self.i32()?)),
            b'z' | b'Z' => {
                let n = usize::from(self.u8()?);
                Value::Str(self.take(n)?.to_vec())
            }
            b'a' | b'A' | b'u' | b't' | b's' => {
                let n = self.count()?;
                Value::Str(self.take(n)?.to_vec())
            }
            b')' => {
                let n = usize::from(self.u8()?);
                Value::Tuple(self.values(n)?)
            }
            b'(' => {
                let n = self.count()?;
                Value::Tuple(self.values(n)?)
            }
            b'[' => {
                let n = self.count()?;
                Value::List(self.values(n)?)
            }
            b'{' => {
                let mut pairs = Vec::new();
                loop {
                    if self.data.get(self.at) == Some(&b'0') {
                        self.at += 1;
                        break;
                    }
                    let k = self.value()?;
                    let v = self.value()?;
                    pairs.push((k, v));
                }
                Value::Dict(pairs)
            }
            b'r' => {
                let i = usize::try_from(self.i32()?).map_err(|_| bad("negative ref"))?;
                self.refs
                    .get(i)
                    .cloned()
                    .ok_or_else(|| bad("unknown ref"))?
            }
            _ => {
                let e = "marshal type not in a table of contents";
                return Err(io::Error::new(io::ErrorKind::Unsupported, e));
            }
        };
        // A TOC refers back only to strings (interned names); a reference to a container
        // gives `Other`, so references cannot multiply a large list.
        if let Some(slot) = slot.and_then(|s| self.refs.get_mut(s)) {
            *slot = match &v {
                Value::Str(_) | Value::Int(_) => v.clone(),
                _ => Value::Other,
            };
        }
        self.spend(&v)?;
        Ok(v)
    }

    /// Counts `v` against what one TOC may make: `MAX_VALUES` values and `MAX_TEXT_BYTES`
    /// bytes of strings (references copy strings).
    fn spend(&mut self, v: &Value) -> io::Result<()> {
        self.made += 1;
        if let Value::Str(text) = v {
            self.text += text.len();
        }
        if self.made > MAX_VALUES || self.text > MAX_TEXT_BYTES {
            return Err(bad("table of contents too large"));
        }
        Ok(())
    }

    fn values(&mut self, n: usize) -> io::Result<Vec<Value>> {
        let mut items = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            items.push(self.value()?);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_contents_unmarshals() {
        // marshal.dumps([("a.b", (0, 16, 5))]) as Python 3.11 writes it.
        let data = b"[\x01\x00\x00\x00\xa9\x02\xfa\x03a.b\xa9\x03\xe9\x00\x00\x00\x00\xe9\x10\x00\x00\x00\xe9\x05\x00\x00\x00";
        let mut u = Unmarshal {
            data,
            at: 0,
            refs: Vec::new(),
            depth: 0,
            made: 0,
            text: 0,
        };
        let Value::List(items) = u.value().unwrap() else {
            panic!("a list")
        };
        let Value::Tuple(pair) = &items[0] else {
            panic!("a tuple")
        };
        assert!(matches!(&pair[0], Value::Str(s) if s == b"a.b"));
        let Value::Tuple(fields) = &pair[1] else {
            panic!("a tuple")
        };
        assert!(matches!(fields[1], Value::Int(16)));
        let mut cut = Unmarshal {
            data: &data[..10],
            at: 0,
            refs: Vec::new(),
            depth: 0,
            made: 0,
            text: 0,
        };
        assert!(cut.value().is_err());
    }

    #[test]
    fn only_executables_with_a_bootloader_string_are_looked_at() {
        assert!(is_bootloader(b"\x7fELF\x02\x01 ... sys._MEIPASS ..."));
        assert!(!is_bootloader(b"\x7fELF\x02\x01 ... an ordinary program"));
        assert!(!is_bootloader(b"text about PyInstaller"));
    }
}

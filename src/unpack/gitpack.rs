//! git packfiles (`PACK`, versions 2 and 3) and git bundles (`# v2 git bundle`,
//! `# v3 git bundle`: ref lines, then a pack) (#22). Every object is zlib'd; commits, trees,
//! blobs and tags are members named by type and id (`blob 3b18e5…`, the id `git cat-file -p`
//! takes). Deltas (`OFS_DELTA`, `REF_DELTA`) are resolved against bases held in a bounded
//! cache; a delta whose base is not held (a thin pack's base outside it, a base evicted or too
//! large) is an `unsupported` skip named `delta@<offset>`. Objects larger than
//! `MAX_HELD_BYTES` are streamed, named by type and pack offset (`blob@1234`), and cannot be
//! a delta's base. SHA-256 repositories' bundles are `unsupported`.
//!
//! The walk reads the pack front to back (an object's end is known only by inflating it), so
//! objects not scanned (left out by `--max-filesize`, or unresolved deltas) are inflated too;
//! all inflating here is bounded by `MAX_PACK_INFLATED_BYTES`, and what members give counts
//! against `--max-archive-bytes` as for zip.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use sha1::{Digest, Sha1};

use super::{Format, Issue, ReadSeek, Reader, Visit};
use crate::skip::SkipReason;

/// The git packfile format.
pub const PACK: Format = Format {
    name: "git-pack",
    sniff: |head| head.starts_with(b"PACK") && matches!(head.get(4..8), Some([0, 0, 0, 2 | 3])),
    reader: Reader::Seekable(pack),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The git bundle format.
pub const BUNDLE: Format = Format {
    name: "git-bundle",
    sniff: |head| head.starts_with(b"# v2 git bundle\n") || head.starts_with(b"# v3 git bundle\n"),
    reader: Reader::Seekable(bundle),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// Objects (and delta results) up to this size are held in memory: named by id, usable as
/// delta bases.
const MAX_HELD_BYTES: u64 = 16 << 20;

/// Bytes of objects kept as possible delta bases.
const CACHE_BYTES: usize = 32 << 20;

/// Inflated bytes one pack may cost at most, scanned or not (the user's `--max-archive-bytes`
/// counts what is scanned).
const MAX_PACK_INFLATED_BYTES: u64 = 4 << 30;

/// The longest bundle header read (ref lines).
const MAX_BUNDLE_HEADER_BYTES: u64 = 16 << 20;

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn cut(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what.to_string())
}

/// Walks the objects of the pack `reader`.
fn pack(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) {
    if let Err(e) = reader.seek(io::SeekFrom::Start(0)) {
        return visit.issue(None, Issue::Error(e));
    }
    let mut input = Counted::new(BufReader::with_capacity(64 << 10, reader));
    if let Err(e) = Walk::new(visit).objects(&mut input) {
        visit.issue(None, Issue::Error(e));
    }
}

/// Walks the bundle `reader`: its header (prerequisites, refs, capabilities), then its pack.
fn bundle(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) {
    if let Err(e) = reader.seek(io::SeekFrom::Start(0)) {
        return visit.issue(None, Issue::Error(e));
    }
    let mut input = BufReader::with_capacity(64 << 10, reader);
    let mut header = (&mut input).take(MAX_BUNDLE_HEADER_BYTES);
    let mut line = Vec::new();
    loop {
        line.clear();
        match header.read_until(b'\n', &mut line) {
            Ok(0) => return visit.issue(None, Issue::Error(cut("bundle header without end"))),
            Ok(_) if line == b"\n" => break,
            Ok(_) if line.starts_with(b"@object-format=") && line != b"@object-format=sha1\n" => {
                let e = io::Error::new(io::ErrorKind::Unsupported, "not a SHA-1 repository");
                return visit.issue(None, Issue::Error(e));
            }
            Ok(_) => {}
            Err(e) => return visit.issue(None, Issue::Error(e)),
        }
    }
    let mut input = Counted::new(input);
    if let Err(e) = Walk::new(visit).objects(&mut input) {
        visit.issue(None, Issue::Error(e));
    }
}

/// A buffered reader that counts the bytes consumed: pack offsets.
struct Counted<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Counted<R> {
    fn new(inner: R) -> Self {
        Counted { inner, pos: 0 }
    }

    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b)
            .map_err(|_| cut("pack ends early"))?;
        Ok(b[0])
    }
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.pos += n as u64;
        self.inner.consume(n);
    }
}

/// The type of a whole object, by its pack type number.
fn kind_name(kind: u8) -> Option<&'static str> {
    match kind {
        1 => Some("commit"),
        2 => Some("tree"),
        3 => Some("blob"),
        4 => Some("tag"),
        _ => None,
    }
}

/// An object held in memory: its type and content.
#[derive(Clone)]
struct Held {
    kind: &'static str,
    data: Rc<[u8]>,
}

/// Objects kept as delta bases, by pack offset and by id, oldest evicted first.
#[derive(Default)]
struct Cache {
    by_offset: HashMap<u64, Held>,
    by_id: HashMap<[u8; 20], u64>,
    order: VecDeque<(u64, [u8; 20])>,
    bytes: usize,
}

impl Cache {
    fn insert(&mut self, offset: u64, id: [u8; 20], held: Held) {
        if held.data.len() > CACHE_BYTES / 2 {
            return;
        }
        self.bytes += held.data.len();
        self.by_offset.insert(offset, held);
        self.by_id.insert(id, offset);
        self.order.push_back((offset, id));
        while self.bytes > CACHE_BYTES {
            let Some((old, old_id)) = self.order.pop_front() else {
                break;
            };
            if let Some(h) = self.by_offset.remove(&old) {
                self.bytes -= h.data.len();
            }
            if self.by_id.get(&old_id) == Some(&old) {
                self.by_id.remove(&old_id);
            }
        }
    }
}

/// Where a delta's base is.
enum Base {
    Offset(u64),
    Id([u8; 20]),
}

/// One pack being walked.
struct Walk<'v> {
    visit: &'v mut dyn Visit,
    cache: Cache,
    inflated: u64,
}

impl<'v> Walk<'v> {
    fn new(visit: &'v mut dyn Visit) -> Self {
        Walk {
            visit,
            cache: Cache::default(),
            inflated: 0,
        }
    }

    /// Reads the pack header and every object; an error ends the walk (the pack is damaged
    /// or cut from there on).
    fn objects<R: BufRead>(&mut self, input: &mut Counted<R>) -> io::Result<()> {
        let mut header = [0u8; 12];
        input
            .read_exact(&mut header)
            .map_err(|_| cut("pack header"))?;
        if header.get(..4) != Some(b"PACK".as_slice()) {
            return Err(invalid("no pack after the bundle header"));
        }
        let count = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        let start = input.pos - 12;
        for _ in 0..count {
            if !self.visit.has_room() {
                self.visit
                    .issue(None, Issue::Skip(SkipReason::TooManyMembers));
                return Ok(());
            }
            if self.object(input, start)?.is_break() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Reads one object at the input's position (`start`: where the pack began).
    fn object<R: BufRead>(
        &mut self,
        input: &mut Counted<R>,
        start: u64,
    ) -> io::Result<std::ops::ControlFlow<()>> {
        use std::ops::ControlFlow::{Break, Continue};
        let offset = input.pos - start;
        let first = input.byte()?;
        let kind = (first >> 4) & 7;
        let mut size = u64::from(first & 0x0f);
        let mut shift = 4;
        let mut c = first;
        while c & 0x80 != 0 {
            c = input.byte()?;
            if shift > 57 {
                return Err(invalid("object size overflows"));
            }
            size |= u64::from(c & 0x7f) << shift;
            shift += 7;
        }
        let base = match kind {
            6 => {
                let mut c = input.byte()?;
                let mut back = u64::from(c & 0x7f);
                while c & 0x80 != 0 {
                    c = input.byte()?;
                    back = back
                        .checked_add(1)
                        .and_then(|b| b.checked_mul(128))
                        .ok_or_else(|| invalid("delta offset overflows"))?
                        | u64::from(c & 0x7f);
                }
                let at = offset
                    .checked_sub(back)
                    .filter(|_| back > 0)
                    .ok_or_else(|| invalid("delta base offset outside the pack"))?;
                Some(Base::Offset(at))
            }
            7 => {
                let mut id = [0u8; 20];
                input
                    .read_exact(&mut id)
                    .map_err(|_| cut("pack ends early"))?;
                Some(Base::Id(id))
            }
            1..=4 => None,
            _ => return Err(invalid("unknown object type")),
        };
        self.inflated = self.inflated.saturating_add(size);
        if self.inflated > MAX_PACK_INFLATED_BYTES {
            self.visit
                .issue(None, Issue::Skip(SkipReason::ArchiveTooLarge));
            return Ok(Break(()));
        }
        let mut inflated = Sized {
            inner: super::zlib::Inflate::new(&mut *input),
            left: size,
            failed: false,
        };
        match (base, kind_name(kind)) {
            (None, Some(kind)) if size <= MAX_HELD_BYTES => {
                let data = read_all(&mut inflated, size)?;
                let flow = self.held(offset, kind, data.into());
                Ok(flow)
            }
            (None, Some(kind)) => {
                let name = format!("{kind}@{offset}");
                let flow = self
                    .visit
                    .member(name.as_bytes(), Some(size), &mut inflated);
                if flow.is_break() {
                    return Ok(flow);
                }
                let reported = inflated.failed;
                match inflated.finish() {
                    // The pack cannot be walked past it; the member's skip says so.
                    Err(_) if reported => Ok(std::ops::ControlFlow::Break(())),
                    Err(e) => Err(e),
                    Ok(()) => Ok(flow),
                }
            }
            (Some(base), _) => {
                let name = format!("delta@{offset}");
                if size > MAX_HELD_BYTES {
                    inflated.finish()?;
                    let unsupported = io::Error::new(io::ErrorKind::Unsupported, "delta too large");
                    self.visit
                        .issue(Some(name.as_bytes()), Issue::Error(unsupported));
                    return Ok(Continue(()));
                }
                let delta = read_all(&mut inflated, size)?;
                let base = match base {
                    Base::Offset(at) => self.cache.by_offset.get(&at),
                    Base::Id(id) => self
                        .cache
                        .by_id
                        .get(&id)
                        .and_then(|at| self.cache.by_offset.get(at)),
                };
                let Some(base) = base.cloned() else {
                    let unresolved =
                        io::Error::new(io::ErrorKind::Unsupported, "delta base not held");
                    self.visit
                        .issue(Some(name.as_bytes()), Issue::Error(unresolved));
                    return Ok(Continue(()));
                };
                match apply_delta(&base.data, &delta) {
                    Ok(data) => Ok(self.held(offset, base.kind, data.into())),
                    Err(e) => {
                        self.visit.issue(Some(name.as_bytes()), Issue::Error(e));
                        Ok(Continue(()))
                    }
                }
            }
            (None, None) => unreachable!("types 1 to 4 have names"),
        }
    }

    /// Visits an object held in memory, named by its id, and keeps it as a possible base.
    fn held(
        &mut self,
        offset: u64,
        kind: &'static str,
        data: Rc<[u8]>,
    ) -> std::ops::ControlFlow<()> {
        let mut hasher = Sha1::new();
        hasher.update(format!("{kind} {}\0", data.len()).as_bytes());
        hasher.update(&data);
        let id: [u8; 20] = hasher.finalize().into();
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("{kind} {hex}");
        let flow = self
            .visit
            .member(name.as_bytes(), Some(data.len() as u64), &mut &data[..]);
        self.cache.insert(offset, id, Held { kind, data });
        flow
    }
}

/// An inflated object that must be exactly its declared size.
struct Sized<R> {
    inner: R,
    left: u64,
    /// Whether a read already failed (and the member's reader reported it).
    failed: bool,
}

impl<R: Read> Sized<R> {
    /// Reads what the member reader left, and the end of the zlib stream.
    fn finish(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }
}

impl<R: Read> Read for Sized<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // The stream must end here: read its checksum.
            let mut extra = [0u8; 1];
            return match self.inner.read(&mut extra) {
                Ok(0) => Ok(0),
                Ok(_) => {
                    self.failed = true;
                    Err(invalid("object longer than its header says"))
                }
                Err(e) => {
                    self.failed = true;
                    Err(e)
                }
            };
        }
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(out.len());
        let n = self
            .inner
            .read(out.get_mut(..max).unwrap_or_default())
            .inspect_err(|_| self.failed = true)?;
        if n == 0 && max > 0 {
            // The zlib stream ended (a cut input is the inflater's own error).
            self.failed = true;
            return Err(invalid("object shorter than its header says"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads the whole object (`size` bytes, at most `MAX_HELD_BYTES`) and its stream's end.
fn read_all<R: Read>(inflated: &mut Sized<R>, size: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::with_capacity(usize::try_from(size.min(1 << 20)).unwrap_or(0));
    inflated.read_to_end(&mut data)?;
    Ok(data)
}

/// Reads a delta's size varint from `delta` at `*at`.
fn delta_size(delta: &[u8], at: &mut usize) -> io::Result<u64> {
    let mut size = 0u64;
    let mut shift = 0;
    loop {
        let c = *delta.get(*at).ok_or_else(|| invalid("delta header cut"))?;
        *at += 1;
        if shift > 63 {
            return Err(invalid("delta size overflows"));
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Ok(size);
        }
    }
}

/// The object delta `delta` makes from `base` (git's delta format: the base size, the result
/// size, then copy and insert instructions).
fn apply_delta(base: &[u8], delta: &[u8]) -> io::Result<Vec<u8>> {
    let mut at = 0;
    let base_size = delta_size(delta, &mut at)?;
    let size = delta_size(delta, &mut at)?;
    if base_size != base.len() as u64 {
        return Err(invalid("delta base has another size"));
    }
    if size > MAX_HELD_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "delta result too large",
        ));
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    while let Some(&op) = delta.get(at) {
        at += 1;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, count: usize| -> io::Result<usize> {
                let mut v = 0usize;
                for i in 0..count {
                    if bits & (1 << i) != 0 {
                        let b = *delta.get(at).ok_or_else(|| invalid("delta cut"))?;
                        at += 1;
                        v |= usize::from(b) << (8 * i);
                    }
                }
                Ok(v)
            };
            let from = field(op & 0x0f, 4)?;
            let len = match field((op >> 4) & 0x07, 3)? {
                0 => 0x10000,
                n => n,
            };
            let part = from
                .checked_add(len)
                .and_then(|end| base.get(from..end))
                .ok_or_else(|| invalid("delta copies past its base"))?;
            out.extend_from_slice(part);
        } else if op != 0 {
            let len = usize::from(op);
            let part = delta
                .get(at..at + len)
                .ok_or_else(|| invalid("delta cut"))?;
            at += len;
            out.extend_from_slice(part);
        } else {
            return Err(invalid("delta instruction 0"));
        }
        if out.len() as u64 > size {
            return Err(invalid("delta result longer than it says"));
        }
    }
    if out.len() as u64 != size {
        return Err(invalid("delta result shorter than it says"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_copies_and_inserts() {
        let base = b"hello world";
        // base size 11, result size 11: copy 6 bytes from 0, insert "there".
        let delta = [11, 11, 0x90, 6, 5, b't', b'h', b'e', b'r', b'e'];
        assert_eq!(apply_delta(base, &delta).unwrap(), b"hello there");
        assert!(
            apply_delta(base, &[11, 11, 0x90, 60]).is_err(),
            "past the base"
        );
        assert!(apply_delta(base, &[11, 3, 2, b'a']).is_err(), "cut insert");
        assert!(apply_delta(base, &[10, 0]).is_err(), "wrong base size");
        assert!(apply_delta(base, &[11, 5, 0]).is_err(), "instruction 0");
        assert!(
            apply_delta(base, &[11, 2, 1, b'a']).is_err(),
            "result too short"
        );
    }

    #[test]
    fn packs_and_bundles_are_recognised_by_their_headers() {
        assert!((PACK.sniff)(b"PACK\0\0\0\x02\0\0\0\x01"));
        assert!(!(PACK.sniff)(b"PACK\0\0\0\x04\0\0\0\x01"));
        assert!(!(PACK.sniff)(b"PACKAGE.md"));
        assert!((BUNDLE.sniff)(b"# v2 git bundle\nabc refs/heads/main\n"));
        assert!(!(BUNDLE.sniff)(b"# v2 git bundles are nice\n"));
    }
}

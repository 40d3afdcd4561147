//! zlib streams (RFC 1950) as a format of their own (#22): git loose objects
//! (`.git/objects/ab/cdef…`), `.zz` and `.zlib` files, zlib'd blobs inside other formats. Two
//! header bytes are weak evidence (text starting `x^` passes their check), so a blob is taken
//! for zlib only when its first bytes also inflate without error. A git loose object's header
//! (`blob 123\0`) is dropped from the content and names it (`blob`, `commit`, `tree`, `tag`), so
//! lines and columns are the file's own. Also the shared helpers of the formats that embed
//! zlib (git packs, PDF, PyInstaller): the trial inflate and the git header.

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};

use super::{Format, Reader};

/// The zlib format.
pub const FORMAT: Format = Format {
    name: "zlib",
    sniff,
    reader: Reader::Stream(decode),
    suffixes: &[(".zlib", ""), (".zz", "")],
    content_name,
    may_be_image: false,
};

/// Input bytes a trial inflate reads at most: enough to fail on anything but deflate data.
const TRIAL_INPUT_BYTES: usize = 4096;

/// Whether `head` starts with a zlib header (deflate, window ≤ 32 KiB, no preset dictionary,
/// check bits right) whose stream inflates without error over its first bytes.
fn sniff(head: &[u8]) -> bool {
    is_header(head) && inflates(head, true)
}

/// Whether `head` starts with a zlib header we read: method 8 (deflate), window at most
/// 32 KiB, no preset dictionary, and `(CMF*256 + FLG) % 31 == 0`.
pub(super) fn is_header(head: &[u8]) -> bool {
    match head {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && flg & 0x20 == 0
                && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Whether `data` (a zlib stream when `zlib`, raw deflate otherwise) inflates without error
/// over its first `TRIAL_INPUT_BYTES` bytes and gives at least one byte or ends. Random bytes
/// fail within a few bytes (a bad block type, stored lengths that disagree, a distance before
/// the start); the cost is one small inflate, paid only by blobs whose header matched.
pub(super) fn inflates(data: &[u8], zlib: bool) -> bool {
    let input = data.get(..TRIAL_INPUT_BYTES).unwrap_or(data);
    let mut d = Decompress::new(zlib);
    let mut out = [0u8; 8192];
    let mut produced = 0u64;
    loop {
        let before_in = d.total_in();
        let before_out = d.total_out();
        let rest = input
            .get(usize::try_from(before_in).unwrap_or(usize::MAX)..)
            .unwrap_or_default();
        match d.decompress(rest, &mut out, FlushDecompress::None) {
            Ok(Status::StreamEnd) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
        produced += d.total_out() - before_out;
        if produced >= 64 << 10 {
            // Highly compressed and still going: deflate data, and no need to inflate more.
            return true;
        }
        let progressed = d.total_in() > before_in || d.total_out() > before_out;
        if d.total_in() as usize >= input.len() || !progressed {
            return produced > 0;
        }
    }
}

fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    let inflated = Inflate::new(io::BufReader::new(reader));
    Ok(Box::new(GitHeader::new(inflated)))
}

/// A zlib stream read from `inner`, consuming exactly its bytes (what follows it stays in
/// `inner`, as a git pack needs). Input that ends before the stream does is `UnexpectedEof`
/// (truncated, #20); damage is `InvalidData`, given after the bytes inflated before it (flate2's
/// readers drop the output of the read that meets damage, and a key with it).
pub(super) struct Inflate<R> {
    inner: R,
    state: Decompress,
    done: bool,
    /// Damage met after some output: given at the next read, so the bytes before it count.
    failed: Option<io::Error>,
}

impl<R: io::BufRead> Inflate<R> {
    /// A zlib stream (RFC 1950) read from `inner`.
    pub(super) fn new(inner: R) -> Self {
        Inflate {
            inner,
            state: Decompress::new(true),
            done: false,
            failed: None,
        }
    }
}

impl<R: io::BufRead> Read for Inflate<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.inner.fill_buf()?;
            let eof = input.is_empty();
            let (before_in, before_out) = (self.state.total_in(), self.state.total_out());
            let result = self.state.decompress(input, out, FlushDecompress::None);
            let consumed = usize::try_from(self.state.total_in() - before_in).unwrap_or(0);
            let produced = usize::try_from(self.state.total_out() - before_out).unwrap_or(0);
            self.inner.consume(consumed);
            let status = match result {
                Ok(status) => status,
                Err(e) => {
                    let e = io::Error::new(io::ErrorKind::InvalidData, e);
                    if produced == 0 {
                        return Err(e);
                    }
                    self.failed = Some(e);
                    return Ok(produced);
                }
            };
            if status == Status::StreamEnd {
                self.done = true;
                return Ok(produced);
            }
            if produced > 0 {
                return Ok(produced);
            }
            if eof {
                let e = "zlib stream ends early";
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, e));
            }
            if consumed == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "zlib stream stalls",
                ));
            }
        }
    }
}

/// The git object type whose loose-object header (`blob 123\0`) `data` starts with, and the
/// header's length.
pub(super) fn git_header(data: &[u8]) -> Option<(&'static str, usize)> {
    let kind = ["blob", "commit", "tree", "tag"]
        .into_iter()
        .find(|k| data.starts_with(k.as_bytes()) && data.get(k.len()) == Some(&b' '))?;
    let digits = data.get(kind.len() + 1..)?;
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n > 20 || digits.get(n) != Some(&0) {
        return None;
    }
    Some((kind, kind.len() + 1 + n + 1))
}

/// The type of the git loose object `head` (its compressed first bytes) holds, as its name.
fn content_name(head: &[u8]) -> Option<Vec<u8>> {
    let mut first = [0u8; 32];
    let mut d = Decompress::new(true);
    let input = head.get(..TRIAL_INPUT_BYTES).unwrap_or(head);
    d.decompress(input, &mut first, FlushDecompress::None)
        .ok()?;
    let n = usize::try_from(d.total_out()).ok()?;
    let (kind, _) = git_header(first.get(..n)?)?;
    Some(kind.as_bytes().to_vec())
}

/// Inflated content without a git loose object's header, when it has one.
struct GitHeader<R> {
    inner: R,
    /// The first bytes, read ahead to look for the header, and how many are already given.
    ahead: Vec<u8>,
    given: usize,
    checked: bool,
}

impl<R: Read> GitHeader<R> {
    fn new(inner: R) -> Self {
        GitHeader {
            inner,
            ahead: Vec::new(),
            given: 0,
            checked: false,
        }
    }
}

impl<R: Read> Read for GitHeader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.checked {
            // Longest header: `commit ` + 20 digits + NUL.
            let mut first = [0u8; 28];
            let mut filled = 0;
            while filled < first.len() {
                match self.inner.read(&mut first[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if filled == 0 => return Err(e),
                    // The bytes before the error are given first; the next read fails again.
                    Err(_) => break,
                }
            }
            self.checked = true;
            let first = first.get(..filled).unwrap_or_default();
            self.given = git_header(first).map_or(0, |(_, len)| len);
            self.ahead = first.to_vec();
        }
        if self.given < self.ahead.len() {
            let rest = self.ahead.get(self.given..).unwrap_or_default();
            let n = rest.len().min(out.len());
            out.get_mut(..n)
                .unwrap_or_default()
                .copy_from_slice(rest.get(..n).unwrap_or_default());
            self.given += n;
            return Ok(n);
        }
        self.inner.read(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn zlib_is_recognised_only_when_it_inflates() {
        assert!(sniff(&zlib(b"hello hello hello")));
        assert!(sniff(&zlib(b"")), "an empty stream ends");
        let mut fast = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        fast.write_all(b"x").unwrap();
        assert!(sniff(&fast.finish().unwrap()), "78 01");
        assert!(
            !sniff(b"x^2 + y^2 = z^2\n"),
            "text that passes the header check"
        );
        assert!(!sniff(b"x\x9c this is not deflate data at all, no"));
        assert!(!sniff(b"plain text"));
        assert!(!sniff(b"\x78"));
        let noise: Vec<u8> = (0..4000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut fake = vec![0x78, 0x9c];
        fake.extend_from_slice(&noise);
        assert!(!sniff(&fake), "a header then noise");
    }

    #[test]
    fn a_cut_stream_is_an_early_end_and_what_follows_a_stream_stays() {
        let mut data = zlib(b"hello hello hello hello");
        let whole = data.len();
        data.extend_from_slice(b"NEXT");
        let mut input = &data[..];
        let mut out = Vec::new();
        Inflate::new(&mut input).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello hello hello hello");
        assert_eq!(input, b"NEXT");
        let mut out = Vec::new();
        let err = Inflate::new(&data[..whole - 3])
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_git_header_names_the_object_and_is_dropped() {
        let object = zlib(b"blob 12\0TOKEN=abcde\n");
        assert_eq!(content_name(&object), Some(b"blob".to_vec()));
        let mut out = String::new();
        decode(&mut &object[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "TOKEN=abcde\n");
        let plain = zlib(b"blobs are here\n");
        assert_eq!(content_name(&plain), None);
        let mut out = String::new();
        decode(&mut &plain[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "blobs are here\n");
        assert_eq!(git_header(b"tree 0\0"), Some(("tree", 7)));
        assert_eq!(git_header(b"tag x\0"), None);
        assert_eq!(git_header(b"commit 12"), None);
    }
}

//! PDF (`%PDF-` at byte 0) as a container (#22): its own bytes are scanned as they are (the
//! text of dictionaries, strings such as the document information, streams stored without a
//! filter: found at `doc.pdf:line:col` as before), and each stream with a text-capable filter
//! is a member named after its object, `doc.pdf!obj 12`, decoded: `FlateDecode`,
//! `ASCIIHexDecode`, `ASCII85Decode` and `RunLengthDecode`, alone or chained. An object stream
//! (`/Type /ObjStm`) is one such member; the objects it packs are its text. Streams of image
//! filters (`DCTDecode`, `JPXDecode`, `CCITTFaxDecode`, `JBIG2Decode`), images and
//! cross-reference streams hold no text and are passed over; `LZWDecode`, `Crypt` and filters we
//! do not know are `unsupported` members. An encrypted PDF (`/Encrypt` in its trailer) is an
//! `encrypted` skip: its streams are not decoded.
//!
//! Streams are found by their `stream` keyword after a dictionary and end at `endstream`
//! (a `/Length` may be an indirect reference, and writers get it wrong); the file is read
//! front to back through a bounded window, never whole.

use std::io::{self, Read, SeekFrom};

use memchr::memmem;

use super::zlib::Inflate;
use super::{Format, Issue, ReadSeek, Reader, Visit};
use crate::skip::SkipReason;

/// The PDF format.
pub const FORMAT: Format = Format {
    name: "pdf",
    sniff: |head| head.starts_with(b"%PDF-"),
    reader: Reader::Seekable(members),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// Bytes kept before the read position: where a stream's dictionary is looked for.
const LOOKBACK_BYTES: usize = 64 << 10;

/// Bytes read at once.
const READ_BYTES: usize = 256 << 10;

/// Bytes at the end of the file searched for `/Encrypt` (the trailer).
const TRAILER_BYTES: u64 = 64 << 10;

/// Walks the PDF `reader`: its own bytes, then its decoded streams.
fn members(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) {
    if let Err(e) = reader.seek(SeekFrom::Start(0)) {
        return visit.issue(None, Issue::Error(e));
    }
    visit.own_bytes(&mut *reader);
    match is_encrypted(reader) {
        Ok(true) => return visit.issue(None, Issue::Skip(SkipReason::Encrypted)),
        Ok(false) => {}
        Err(e) => return visit.issue(None, Issue::Error(e)),
    }
    if let Err(e) = reader.seek(SeekFrom::Start(0)) {
        return visit.issue(None, Issue::Error(e));
    }
    let mut window = Window {
        inner: reader,
        buf: Vec::new(),
        pos: 0,
        eof: false,
        base: 0,
        floor: 0,
    };
    if let Err(e) = streams(&mut window, visit) {
        visit.issue(None, Issue::Error(e));
    }
}

/// Whether the trailer (the last `TRAILER_BYTES`) names an encryption dictionary.
fn is_encrypted(reader: &mut dyn ReadSeek) -> io::Result<bool> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(len.saturating_sub(TRAILER_BYTES)))?;
    let mut tail = Vec::new();
    reader.take(TRAILER_BYTES).read_to_end(&mut tail)?;
    Ok(memmem::find(&tail, b"/Encrypt").is_some())
}

/// The file read front to back, with `LOOKBACK_BYTES` kept before `pos`.
struct Window<'r> {
    inner: &'r mut dyn ReadSeek,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// The file offset of `buf[0]`.
    base: u64,
    /// Where the last stream's data ended: the next dictionary is after it, so no byte is
    /// searched for a dictionary twice (a file of a million `stream` keywords stays linear).
    floor: usize,
}

impl Window<'_> {
    /// Reads more: drops what lies more than `LOOKBACK_BYTES` before `pos`, then appends
    /// up to `READ_BYTES`. Returns whether anything was added.
    fn more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let drop = self.pos.saturating_sub(LOOKBACK_BYTES);
        if drop > 0 {
            self.buf.drain(..drop);
            self.pos -= drop;
            self.floor = self.floor.saturating_sub(drop);
            self.base += drop as u64;
        }
        let old = self.buf.len();
        self.buf.resize(old + READ_BYTES, 0);
        let n = loop {
            match self.inner.read(self.buf.get_mut(old..).unwrap_or_default()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buf.truncate(old + *n.as_ref().unwrap_or(&0));
        let n = n?;
        self.eof = n == 0;
        Ok(n > 0)
    }

    fn rest(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }
}

/// The data of one stream, up to its `endstream`, read out of the window.
struct Data<'w, 'r> {
    window: &'w mut Window<'r>,
    done: bool,
}

impl Read for Data<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        const END: &[u8] = b"endstream";
        loop {
            if self.done || out.is_empty() {
                return Ok(0);
            }
            let rest = self.window.rest();
            let (avail, ends) = match memmem::find(rest, END) {
                Some(at) => (at, true),
                // Keep what may be the start of a cut `endstream`.
                None if !self.window.eof => (rest.len().saturating_sub(END.len()), false),
                None => (rest.len(), true),
            };
            if avail == 0 && ends {
                self.done = true;
                return Ok(0);
            }
            if avail == 0 {
                self.window.more()?;
                continue;
            }
            let n = avail.min(out.len());
            out.get_mut(..n)
                .unwrap_or_default()
                .copy_from_slice(rest.get(..n).unwrap_or_default());
            self.window.pos += n;
            return Ok(n);
        }
    }
}

/// What to do with a stream, from its dictionary.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// No filter: its bytes were scanned with the file's own.
    Raw,
    /// No text in it (an image, a cross-reference stream).
    Pass,
    /// Decoded through these filters, in order.
    Decode(Vec<Filter>),
    /// A filter we do not read (named).
    Unsupported(String),
}

/// A filter we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    Flate,
    AsciiHex,
    Ascii85,
    RunLength,
}

/// The plan for a stream whose dictionary text is `dict`.
fn plan(dict: &[u8]) -> Plan {
    let has = |needle: &[u8]| memmem::find(dict, needle).is_some();
    if has(b"/Subtype/Image")
        || has(b"/Subtype /Image")
        || has(b"/Type/XRef")
        || has(b"/Type /XRef")
    {
        return Plan::Pass;
    }
    let Some(at) = memmem::find(dict, b"/Filter") else {
        return Plan::Raw;
    };
    let after = dict.get(at + 7..).unwrap_or_default();
    let after = trim_start(after);
    let list: &[u8] = match after.first() {
        Some(b'[') => {
            let end = after.iter().position(|&b| b == b']').unwrap_or(after.len());
            after.get(1..end).unwrap_or_default()
        }
        Some(b'/') => {
            let end = after
                .iter()
                .skip(1)
                .position(|&b| is_delimiter(b))
                .map_or(after.len(), |p| p + 1);
            after.get(..end).unwrap_or_default()
        }
        _ => return Plan::Unsupported("indirect filter".into()),
    };
    let mut filters = Vec::new();
    for name in list
        .split(|&b| b == b'/' || b.is_ascii_whitespace())
        .filter(|n| !n.is_empty())
    {
        let filter = match name {
            b"FlateDecode" | b"Fl" => Filter::Flate,
            b"ASCIIHexDecode" | b"AHx" => Filter::AsciiHex,
            b"ASCII85Decode" | b"A85" => Filter::Ascii85,
            b"RunLengthDecode" | b"RL" => Filter::RunLength,
            b"DCTDecode" | b"DCT" | b"JPXDecode" | b"CCITTFaxDecode" | b"CCF" | b"JBIG2Decode" => {
                return Plan::Pass
            }
            other => return Plan::Unsupported(String::from_utf8_lossy(other).into_owned()),
        };
        filters.push(filter);
    }
    match filters.is_empty() {
        true => Plan::Raw,
        false => Plan::Decode(filters),
    }
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b)
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !first.is_ascii_whitespace() {
            break;
        }
        s = rest;
    }
    s
}

/// The object number before `obj` at the end of `before` (`12 0 obj`), if any.
fn object_number(before: &[u8]) -> Option<u64> {
    let s = before.strip_suffix(b"obj")?;
    let s = s.trim_ascii_end();
    let gen_len = s.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let s = s.get(..s.len() - gen_len)?.trim_ascii_end();
    let num_len = s.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if gen_len == 0 || num_len == 0 || num_len > 12 {
        return None;
    }
    std::str::from_utf8(s.get(s.len() - num_len..)?)
        .ok()?
        .parse()
        .ok()
}

/// Finds every stream in the window and visits those with text-capable filters.
fn streams(window: &mut Window<'_>, visit: &mut dyn Visit) -> io::Result<()> {
    loop {
        let Some(at) = memmem::find(window.rest(), b"stream") else {
            if window.eof {
                return Ok(());
            }
            window.pos = window.buf.len().saturating_sub(8).max(window.pos);
            window.more()?;
            continue;
        };
        let start = window.pos + at;
        // The end of line after the keyword must be in the window.
        if window.buf.len() < start + 8 && !window.eof {
            window.pos = start;
            window.more()?;
            continue;
        }
        window.pos = start + 6;
        let before = window.buf.get(..start).unwrap_or_default();
        if before.ends_with(b"end") || !before.trim_ascii_end().ends_with(b">>") {
            continue;
        }
        let eol = match window.buf.get(start + 6..start + 8) {
            Some([b'\r', b'\n', ..]) => 2,
            Some([b'\n', ..]) | Some([b'\r', ..]) => 1,
            _ => continue,
        };
        window.pos = start + 6 + eol;
        // The dictionary: from the last `obj` before the keyword.
        let from = start.saturating_sub(LOOKBACK_BYTES).max(window.floor);
        let look = window.buf.get(from..start).unwrap_or_default();
        let (dict, number) = match memmem::rfind(look, b"obj") {
            Some(o) => (
                look.get(o + 3..).unwrap_or_default(),
                object_number(look.get(..o + 3).unwrap_or_default()),
            ),
            None => (look, None),
        };
        let plan = plan(dict);
        let offset = window.base + start as u64;
        let name = match number {
            Some(n) => format!("obj {n}"),
            None => format!("stream@{offset}"),
        };
        let mut data = Data {
            window: &mut *window,
            done: false,
        };
        match plan {
            Plan::Raw | Plan::Pass => {}
            Plan::Unsupported(filter) => {
                let e = io::Error::new(io::ErrorKind::Unsupported, format!("filter {filter}"));
                visit.issue(Some(name.as_bytes()), Issue::Error(e));
            }
            Plan::Decode(filters) => {
                if !visit.has_room() {
                    visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
                    return Ok(());
                }
                let mut decoded = decoder(&mut data, &filters);
                if visit.member(name.as_bytes(), None, &mut decoded).is_break() {
                    return Ok(());
                }
            }
        }
        io::copy(&mut data, &mut io::sink())?;
        window.floor = window.pos;
    }
}

/// `data` read through `filters`, in order.
fn decoder<'d>(data: &'d mut dyn Read, filters: &[Filter]) -> Box<dyn Read + 'd> {
    let mut reader: Box<dyn Read + 'd> = Box::new(data);
    for filter in filters {
        reader = match filter {
            Filter::Flate => Box::new(Inflate::new(io::BufReader::new(reader))),
            Filter::AsciiHex => Box::new(Bytewise::new(reader, AsciiHex::default())),
            Filter::Ascii85 => Box::new(Bytewise::new(reader, Ascii85::default())),
            Filter::RunLength => Box::new(Bytewise::new(reader, RunLength::default())),
        };
    }
    reader
}

/// A filter that decodes one input byte at a time into a small output.
trait Step {
    /// Takes input byte `b`, appends what it gives to `out`; `Ok(true)` at the end of data.
    fn step(&mut self, b: u8, out: &mut Vec<u8>) -> io::Result<bool>;
    /// The input ended (without an end marker).
    fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()>;
}

/// A `Step` filter as a reader.
struct Bytewise<R, S> {
    inner: R,
    step: S,
    input: Vec<u8>,
    out: Vec<u8>,
    given: usize,
    done: bool,
}

impl<R: Read, S: Step> Bytewise<R, S> {
    fn new(inner: R, step: S) -> Self {
        Bytewise {
            inner,
            step,
            input: vec![0; 8192],
            out: Vec::new(),
            given: 0,
            done: false,
        }
    }
}

impl<R: Read, S: Step> Read for Bytewise<R, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.given == self.out.len() && !self.done {
            self.out.clear();
            self.given = 0;
            let n = self.inner.read(&mut self.input)?;
            if n == 0 {
                self.step.finish(&mut self.out)?;
                self.done = true;
                break;
            }
            for &b in self.input.get(..n).unwrap_or_default() {
                if self.step.step(b, &mut self.out)? {
                    self.done = true;
                    break;
                }
            }
        }
        let rest = self.out.get(self.given..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(rest.get(..n).unwrap_or_default());
        self.given += n;
        Ok(n)
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// `ASCIIHexDecode`: hex digit pairs, white space ignored, `>` ends.
#[derive(Default)]
struct AsciiHex {
    high: Option<u8>,
}

impl Step for AsciiHex {
    fn step(&mut self, b: u8, out: &mut Vec<u8>) -> io::Result<bool> {
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b'>' => {
                self.finish(out)?;
                return Ok(true);
            }
            b if b.is_ascii_whitespace() || b == 0 => return Ok(false),
            _ => return Err(bad("not a hex digit")),
        };
        match self.high.take() {
            Some(h) => out.push(h << 4 | v),
            None => self.high = Some(v),
        }
        Ok(false)
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        if let Some(h) = self.high.take() {
            out.push(h << 4);
        }
        Ok(())
    }
}

/// `ASCII85Decode`: groups of five characters `!`..`u` (four bytes), `z` for four zeros, `~>`
/// ends.
#[derive(Default)]
struct Ascii85 {
    group: [u8; 5],
    len: usize,
    tilde: bool,
}

impl Ascii85 {
    fn flush(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        if self.len == 1 {
            return Err(bad("ASCII85 group of one character"));
        }
        let given = self.len;
        for slot in self.group.iter_mut().skip(given) {
            *slot = 84;
        }
        let value = self
            .group
            .iter()
            .try_fold(0u32, |v, &d| v.checked_mul(85)?.checked_add(u32::from(d)))
            .ok_or_else(|| bad("ASCII85 group too large"))?;
        out.extend_from_slice(value.to_be_bytes().get(..given - 1).unwrap_or_default());
        self.len = 0;
        Ok(())
    }
}

impl Step for Ascii85 {
    fn step(&mut self, b: u8, out: &mut Vec<u8>) -> io::Result<bool> {
        if self.tilde {
            return match b {
                b'>' => {
                    self.flush(out)?;
                    Ok(true)
                }
                _ => Err(bad("~ without >")),
            };
        }
        match b {
            b'~' => self.tilde = true,
            b'z' if self.len == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                if let Some(slot) = self.group.get_mut(self.len) {
                    *slot = b - b'!';
                }
                self.len += 1;
                if self.len == 5 {
                    let value = self
                        .group
                        .iter()
                        .try_fold(0u32, |v, &d| v.checked_mul(85)?.checked_add(u32::from(d)))
                        .ok_or_else(|| bad("ASCII85 group too large"))?;
                    out.extend_from_slice(&value.to_be_bytes());
                    self.len = 0;
                }
            }
            b if b.is_ascii_whitespace() || b == 0 => {}
            _ => return Err(bad("not an ASCII85 character")),
        }
        Ok(false)
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        self.flush(out)
    }
}

/// `RunLengthDecode`: a length byte `n` < 128 copies `n + 1` bytes, `n` > 128 repeats the next
/// byte `257 - n` times, 128 ends.
#[derive(Default)]
struct RunLength {
    copy: usize,
    repeat: Option<usize>,
}

impl Step for RunLength {
    fn step(&mut self, b: u8, out: &mut Vec<u8>) -> io::Result<bool> {
        if self.copy > 0 {
            out.push(b);
            self.copy -= 1;
        } else if let Some(n) = self.repeat.take() {
            out.extend(std::iter::repeat_n(b, n));
        } else {
            match b {
                128 => return Ok(true),
                0..=127 => self.copy = usize::from(b) + 1,
                _ => self.repeat = Some(257 - usize::from(b)),
            }
        }
        Ok(false)
    }

    fn finish(&mut self, _: &mut Vec<u8>) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(step: impl Step, input: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Bytewise::new(input, step).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn text_filters_decode() {
        assert_eq!(
            run(AsciiHex::default(), b"48 65 6c6C6f>").unwrap(),
            b"Hello"
        );
        assert_eq!(run(AsciiHex::default(), b"414>").unwrap(), b"A@");
        assert!(run(AsciiHex::default(), b"4x>").is_err());
        // "Hello, world" in ASCII85, as Python's base64.a85encode writes it.
        assert_eq!(
            run(Ascii85::default(), b"87cURD_*#TDfTZ)~>").unwrap(),
            b"Hello, world"
        );
        assert_eq!(run(Ascii85::default(), b"z~>").unwrap(), [0; 4]);
        assert!(run(Ascii85::default(), b"s8W-\"~>").is_err(), "over 2^32");
        assert_eq!(
            run(RunLength::default(), &[2, b'a', b'b', b'c', 254, b'x', 128]).unwrap(),
            b"abcxxx"
        );
    }

    #[test]
    fn dictionaries_say_how_a_stream_is_read() {
        assert_eq!(plan(b"<< /Length 5 >>"), Plan::Raw);
        assert_eq!(
            plan(b"<< /Length 12 0 R /Filter /FlateDecode >>"),
            Plan::Decode(vec![Filter::Flate])
        );
        assert_eq!(
            plan(b"<</Filter[/ASCII85Decode/FlateDecode]/Length 9>>"),
            Plan::Decode(vec![Filter::Ascii85, Filter::Flate])
        );
        assert_eq!(
            plan(b"<< /Subtype /Image /Filter /FlateDecode >>"),
            Plan::Pass
        );
        assert_eq!(plan(b"<< /Filter /DCTDecode >>"), Plan::Pass);
        assert_eq!(
            plan(b"<< /Filter /LZWDecode >>"),
            Plan::Unsupported("LZWDecode".into())
        );
        assert_eq!(object_number(b"\n12 0 obj"), Some(12));
        assert_eq!(object_number(b"obj"), None);
    }
}

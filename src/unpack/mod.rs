//! Unpackers (#13): blob in, member blobs out, with limits. Owns recognising archives and
//! compressed streams by their first bytes (never by name), the table of formats and their
//! readers (one module each: `gzip`, `bzip2`, `xz`, `zstd`, `tar`, `zip`), the nesting driver
//! that scans each member and unpacks archives inside members (`nest`), and what a container
//! image's layers delete (`image`). Knows nothing of rules, reports or the scanner: it scans
//! through the `Scan` callback the scanner implements (#23), so it never imports `blob` or
//! `source`. Never writes to disk (member names are only names; links are not followed), never
//! prints.
//!
//! Adding a format is a module with a `pub const FORMAT: Format` and one line in `FORMATS`.

mod adb;
mod ar;
mod arsc;
mod asar;
mod axml;
mod brotli;
mod bzip2;
mod class;
mod cpio;
mod dex;
mod dotnet;
mod gitpack;
mod gzip;
pub mod image;
mod lz4;
mod nest;
mod pdf;
mod phar;
mod pyc;
mod pyinstaller;
mod rpm;
pub mod strings;
mod tar;
mod xar;
mod xz;
mod zip;
mod zlib;
mod zstd;

use std::fmt;
use std::io::{self, Read, Seek};
use std::ops::ControlFlow;

use crate::config::ArchiveLimits;
use crate::detect::Hit;
use crate::skip::SkipReason;

/// Every format read, in the order they are tried on a blob's first bytes (tar's magic, at
/// offset 257, last). A new format is a module plus a line here.
pub const FORMATS: &[Format] = &[
    gzip::FORMAT,
    xz::FORMAT,
    zstd::FORMAT,
    zip::FORMAT,
    bzip2::FORMAT,
    // #22: containers found after a header.
    ar::FORMAT,
    cpio::FORMAT,
    rpm::FORMAT,
    adb::FORMAT,
    asar::FORMAT,
    xar::FORMAT,
    phar::FORMAT,
    // #22: string tables of compiled files.
    pyc::FORMAT,
    class::FORMAT,
    dex::FORMAT,
    axml::FORMAT,
    arsc::FORMAT,
    dotnet::FORMAT,
    // #22: codecs and embedded streams.
    zlib::FORMAT,
    gitpack::PACK,
    gitpack::BUNDLE,
    lz4::FORMAT,
    brotli::FORMAT,
    pdf::FORMAT,
    pyinstaller::CARCHIVE,
    pyinstaller::PYZ,
    tar::FORMAT,
];

/// How many leading bytes `sniff` needs to recognise every format (tar's magic ends at 262).
pub const SNIFF_BYTES: usize = 263;

/// A format recognised by its content, and how its content is read.
#[derive(Clone, Copy)]
pub struct Format {
    /// The lowercase name used in messages (`gzip`, `zip`).
    pub name: &'static str,
    /// Whether a blob starting with these bytes is in this format.
    pub sniff: fn(&[u8]) -> bool,
    /// How the content is read.
    pub reader: Reader,
    /// For a stream: name suffixes and what the content of a stream so named is called
    /// (`.tgz` → `.tar`, `.gz` → ``), for content the stream's header does not name.
    pub suffixes: &'static [(&'static str, &'static str)],
    /// For a stream: the name its header gives its content (gzip's file name), raw bytes.
    pub content_name: fn(&[u8]) -> Option<Vec<u8>>,
    /// Whether its members may describe a container image (a tar of layers, `image`).
    pub may_be_image: bool,
}

/// How a format's content is read.
#[derive(Clone, Copy)]
pub enum Reader {
    /// A single compressed stream: its decoded content is one blob (maybe another archive).
    Stream(for<'r> fn(&'r mut dyn Read) -> io::Result<Box<dyn Read + 'r>>),
    /// Members read in order, front to back (tar). Their bytes are not inflated by the
    /// container: a stream around it counts them against the budget.
    Sequential(fn(&mut dyn Read, &mut dyn Visit)),
    /// Members read with random access (zip): a file is read in place, a blob from a stream or
    /// another archive is held in memory up to `ArchiveLimits::max_zip_buffer_bytes`. Members
    /// inflate, so their bytes count against the budget.
    Seekable(fn(&mut dyn ReadSeek, &mut dyn Visit)),
    /// #22: a compiled artifact whose string table is read (`strings`): the blob is read into
    /// memory (up to `ArchiveLimits::max_zip_buffer_bytes`), its raw bytes are scanned as the
    /// blob itself and its strings as one member, one string a line.
    Strings(fn(&[u8]) -> strings::Table),
}

impl Format {
    /// Whether this is a single compressed stream (its content is one blob).
    pub fn is_stream(self) -> bool {
        matches!(self.reader, Reader::Stream(_))
    }

    /// Whether this format wants random access (a file is then read in place, with seeks).
    pub fn is_seekable(self) -> bool {
        matches!(self.reader, Reader::Seekable(_))
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        self.name == other.name
    }
}

impl Eq for Format {}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Format({})", self.name)
    }
}

/// A reader with random access.
pub trait ReadSeek: Read + Seek {}

impl<T: Read + Seek + ?Sized> ReadSeek for T {}

/// The format `head` (the first bytes of a blob) starts with, if any.
///
/// ```
/// use leadey_scan::unpack::sniff;
/// let name = |head: &[u8]| sniff(head).map(|f| f.name);
/// assert_eq!(name(b"\x1f\x8b\x08\0\0\0\0\0\0\x03"), Some("gzip"));
/// assert_eq!(name(b"PK\x03\x04rest"), Some("zip"));
/// assert_eq!(name(b"BZh is not enough"), None);
/// assert_eq!(name(b"plain text"), None);
/// ```
pub fn sniff(head: &[u8]) -> Option<Format> {
    FORMATS.iter().find(|f| (f.sniff)(head)).copied()
}

/// #22: the format a blob named `name` is in when its content has no magic bytes to say so,
/// asked only when `sniff` found nothing: brotli (`*.br`), the one format chosen by name, and
/// only when its first bytes `head` look like brotli (`brotli::is_brotli`), so a text file
/// named `x.br` stays text.
///
/// ```
/// use leadey_scan::unpack::by_name;
/// // brotli of `hi\n` in one uncompressed meta-block
/// let br = b"\x20\x00\x10hi\n\x03";
/// assert_eq!(by_name("dist/app.js.br", br).map(|f| f.name), Some("brotli"));
/// assert_eq!(by_name("notes.br", b"plain text, not brotli").map(|f| f.name), None);
/// assert_eq!(by_name("app.js", br).map(|f| f.name), None);
/// ```
pub fn by_name(name: &str, head: &[u8]) -> Option<Format> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let is_br = base.len() > 3 && base.get(base.len() - 3..)?.eq_ignore_ascii_case(".br");
    (is_br && brotli::is_brotli(head)).then_some(brotli::FORMAT)
}

/// #22: first bytes of a blob that may carry an archive after it, found from its end: a shell
/// or Python shebang (`.sh` installers, `.pyz`), a Windows, ELF or Mach-O executable
/// (self-extracting `.exe`, jar-in-exe) and a CRX3 browser extension. Only blobs that start so
/// pay for a look at their end; ordinary text pays one comparison of its first bytes.
///
/// A shebang is `#!/` or `#! /`, not `#!`: Rust's inner attributes (`#![allow(…)]`) start
/// 2,407 of the 34,071 files of the tree-scan benchmark corpus. The first version of this took
/// any `#!` for a stub and measured 1.52× ripgrep's time, against 0.88× for main's binary in
/// the same conditions (`bench/interleaved.sh /work/corpus 5`, load 16–22).
const STUBS: &[&[u8]] = &[
    b"#!/",
    b"#! /",
    b"MZ",
    b"\x7fELF",
    b"Cr24",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
];

/// How many bytes at the end of a blob `locate` looks at: a zip's end-of-central-directory
/// record (22 bytes) and the longest comment it may have.
pub const TAIL_BYTES: usize = 22 + 0xFFFF;

/// #22: whether a blob starting with `head` may hold an archive found from its end (`locate`).
///
/// ```
/// use leadey_scan::unpack::may_have_tail;
/// assert!(may_have_tail(b"#!/bin/sh\n"));
/// assert!(may_have_tail(b"MZ\x90\0"));
/// assert!(!may_have_tail(b"plain text"));
/// ```
pub fn may_have_tail(head: &[u8]) -> bool {
    STUBS.iter().any(|s| head.starts_with(s))
}

/// #22: the archive whose end is the end of a blob of `len` bytes (a zip after a stub: a
/// self-extracting installer, a `.pyz`, a CRX3 extension), from `tail`, the blob's last bytes
/// (at most `TAIL_BYTES`). A zip is recognised by its end-of-central-directory record: its
/// comment must end exactly at the end of the blob and its central directory must fit before
/// it (zip64 values are left to the zip reader, which then finds the prefix itself).
///
/// ```
/// use leadey_scan::unpack::locate;
/// let mut eocd = b"#!/bin/sh\nexit 0\n".to_vec();
/// eocd.extend_from_slice(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
/// assert_eq!(locate(&eocd, eocd.len() as u64).map(|f| f.name), Some("zip"));
/// assert!(locate(b"#!/bin/sh\nexit 0\n", 17).is_none());
/// ```
pub fn locate(tail: &[u8], len: u64) -> Option<Format> {
    let start = len.checked_sub(tail.len() as u64)?;
    let le16 = |at: usize| -> Option<u64> {
        let b = tail.get(at..at + 2)?;
        Some(u64::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let le32 = |at: usize| -> Option<u64> {
        let b = tail.get(at..at + 4)?;
        Some(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    };
    // The record nearest the end whose comment ends the blob.
    let search = tail.get(tail.len().saturating_sub(TAIL_BYTES)..)?;
    let offset = tail.len() - search.len();
    let finder = memchr::memmem::FinderRev::new(b"PK\x05\x06");
    for at in finder.rfind_iter(search).map(|at| at + offset) {
        let Some(comment) = le16(at + 20) else {
            continue;
        };
        if at as u64 + 22 + comment != tail.len() as u64 {
            continue;
        }
        let (Some(cd_size), Some(cd_offset)) = (le32(at + 12), le32(at + 16)) else {
            continue;
        };
        let zip64 = cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF;
        if zip64 || cd_size + cd_offset <= start + at as u64 {
            return Some(zip::FORMAT);
        }
    }
    None
}

/// The name of the content of compressed stream `name` whose header names none: its last path
/// segment without the compression suffix (`a/app.log.gz` → `app.log`, `x.tgz` → `x.tar`), or
/// with `~` appended when no suffix is known.
///
/// ```
/// use leadey_scan::unpack::content_name;
/// assert_eq!(content_name("logs/app.log.gz"), "app.log");
/// assert_eq!(content_name("x.TGZ"), "x.tar");
/// assert_eq!(content_name("blob"), "blob~");
/// ```
pub fn content_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    for (suffix, replace) in FORMATS.iter().flat_map(|f| f.suffixes) {
        if lower.ends_with(suffix) && base.len() > suffix.len() {
            let stem = base.get(..base.len() - suffix.len()).unwrap_or(base);
            return format!("{stem}{replace}");
        }
    }
    format!("{base}~")
}

/// #20: member name `raw` as reports show it: no leading `./` or `/`, no empty or `.`
/// segments (`./app//main.js` → `app/main.js`), so globs on `archive!member` match however
/// the archive was made. `..` stays (names are only names: nothing is extracted). A name that
/// is nothing but separators stays as it is.
///
/// ```
/// use leadey_scan::unpack::normalize_name;
/// assert_eq!(&*normalize_name(b"./app//main.js"), b"app/main.js");
/// assert_eq!(&*normalize_name(b"/etc/./app.env"), b"etc/app.env");
/// assert_eq!(&*normalize_name(b"../x"), b"../x");
/// assert_eq!(&*normalize_name(b"./"), b"./");
/// ```
pub fn normalize_name(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let is_kept = |s: &&[u8]| !s.is_empty() && *s != b".";
    if raw.split(|&b| b == b'/').all(|s| is_kept(&s)) {
        return std::borrow::Cow::Borrowed(raw);
    }
    let parts: Vec<&[u8]> = raw.split(|&b| b == b'/').filter(is_kept).collect();
    if parts.is_empty() {
        return std::borrow::Cow::Borrowed(raw);
    }
    std::borrow::Cow::Owned(parts.join(&b'/'))
}

/// The first chunk of a blob, already in the scan buffer.
#[derive(Debug, Clone, Copy)]
pub struct Head {
    /// Bytes at the start of the buffer.
    pub filled: usize,
    /// Whether the blob ended within them.
    pub eof: bool,
}

/// What the nesting driver needs from the scanner (#23): `blob::Scanner` implements it, so
/// that `unpack` never imports the scanner.
pub trait Scan {
    /// Reads the first chunk of `reader` into `buf` (its whole capacity, as the scan does).
    fn read_head(&self, reader: &mut dyn Read, buf: &mut Vec<u8>) -> io::Result<Head>;

    /// Scans member content `reader` as plain bytes, its first chunk `head` already in `buf`:
    /// the keys found (their `members` empty, or the chain inside the content: #22, an archive
    /// held in base64 in it), whether the content looks binary, and what inside it was left
    /// out or unreadable (members relative to the content).
    fn scan_plain(&self, reader: &mut dyn Read, buf: &mut Vec<u8>, head: Head)
        -> io::Result<Plain>;

    /// `text` (a member name, a message) with key-shaped runs masked.
    fn redact(&self, text: &str) -> String;

    /// The display form of raw member name `raw` (escaped like any path), keys masked.
    fn display_name(&self, raw: &[u8]) -> String;

    /// Whether `--max-filesize` leaves out a member of `size` bytes.
    fn is_too_large(&self, size: u64) -> bool;
}

/// What `Scan::scan_plain` found in member content: keys, whether it looks binary, and what
/// inside it was left out (#22).
pub type Plain = (Vec<Hit>, bool, Vec<MemberIssue>);

/// Where an archive's bytes come from.
pub enum Input<'a> {
    /// A stream read once, front to back: `reader` gives it from its first byte, `head` is a
    /// copy of its first bytes (they name a stream's content).
    Stream {
        /// The first bytes of the stream.
        head: &'a [u8],
        /// The whole stream, `head` included.
        reader: &'a mut dyn Read,
    },
    /// Random access (a file, bytes in memory): read in place by formats that seek.
    Seekable(&'a mut dyn ReadSeek),
}

/// What unpacking one blob gave.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// Keys found in members, each with its member chain.
    pub hits: Vec<Hit>,
    /// Members and archive parts left out or unreadable.
    pub issues: Vec<MemberIssue>,
}

pub use nest::unpack;

/// `unpack` for a blob held in memory: read in place, whatever the format.
pub fn unpack_bytes(
    scan: &dyn Scan,
    limits: &ArchiveLimits,
    format: Format,
    data: &[u8],
    depth: u32,
    buf: &mut Vec<u8>,
) -> Unpacked {
    let mut cursor = io::Cursor::new(data);
    let mut slice = data;
    let input = if format.is_seekable() {
        Input::Seekable(&mut cursor)
    } else {
        Input::Stream {
            head: data,
            reader: &mut slice,
        }
    };
    unpack(scan, limits, format, input, depth, buf)
}

/// Something an unpacker left out or could not read inside a blob (#13): an archive member,
/// or the rest of an archive. Becomes a `Skip` or `FileError` once the blob's origin is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberIssue {
    /// The member chain below the blob (empty: the blob itself).
    pub members: Vec<String>,
    /// A skip reason or an error message.
    pub kind: IssueKind,
}

/// What a `MemberIssue` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueKind {
    /// Left out, or not fully opened (#20: damaged, truncated, encrypted, over a limit,
    /// unsupported): incomplete content, listed with its reason.
    Skip(SkipReason),
    /// The blob itself could not be read (an I/O error of the file under the archive); the
    /// message holds no bytes of the blob.
    Error(String),
}

/// Receives what a container holds.
pub trait Visit {
    /// A member with content: `name` as raw bytes, `size` in bytes when the header says.
    /// `Break` stops the walk (a limit was reached).
    fn member(&mut self, name: &[u8], size: Option<u64>, reader: &mut dyn Read) -> ControlFlow<()>;

    /// A member left out (`Skip`) or unreadable (`Error`); `name` is `None` for the container
    /// itself (it is damaged or truncated from here on).
    fn issue(&mut self, name: Option<&[u8]>, issue: Issue);

    /// Whether another member may be read (the member-count limit): called before each one.
    fn has_room(&mut self) -> bool;

    /// #22: the container's own bytes (a PDF's text, the executable around a PyInstaller
    /// archive), scanned as plain content under the container's own name (no member is added
    /// to the chain) and never unpacked again.
    fn own_bytes(&mut self, reader: &mut dyn Read);

    /// #22: `member`, for content the container itself inflates (a phar's deflated file): its
    /// bytes count against the inflated-bytes budget, as a zip member's do.
    fn inflated(
        &mut self,
        name: &[u8],
        size: Option<u64>,
        reader: &mut dyn Read,
    ) -> ControlFlow<()>;
}

/// #22: the error a container gives when its content is encrypted (an encrypted `adb backup`):
/// reported as the skip `encrypted`.
#[derive(Debug)]
pub struct Encrypted;

impl fmt::Display for Encrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("encrypted")
    }
}

impl std::error::Error for Encrypted {}

/// Something a container could not give.
#[derive(Debug)]
pub enum Issue {
    /// Left out on purpose.
    Skip(SkipReason),
    /// Could not be read; the driver classifies it (#20: corrupt, truncated, unsupported).
    Error(io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(head: &[u8]) -> Option<&'static str> {
        sniff(head).map(|f| f.name)
    }

    #[test]
    fn tar_is_recognised_by_its_magic_at_257_only() {
        let mut head = vec![b'x'; 512];
        assert_eq!(name(&head), None);
        head[257..262].copy_from_slice(b"ustar");
        assert_eq!(name(&head), Some("tar"));
        assert_eq!(name(&head[..261]), None);
    }

    #[test]
    fn streams_are_recognised_by_their_magic() {
        assert_eq!(name(b"\xfd7zXZ\0\0\x04"), Some("xz"));
        assert_eq!(name(b"\x28\xb5\x2f\xfd\x24"), Some("zstd"));
        assert_eq!(
            name(b"BZh91AY&SY\0\0\0\0"),
            Some("bzip2"),
            "bzip2 with its block magic"
        );
        assert_eq!(name(b"BZh9 text"), None);
        assert_eq!(name(b"\x1f\x8b"), None, "too short");
        assert_eq!(name(b""), None);
    }

    #[test]
    fn text_that_starts_with_a_magic_of_22_is_not_taken_for_an_archive() {
        let mut phone = b"070701 is a number, not a cpio header: ".to_vec();
        phone.resize(200, b'x');
        assert_eq!(name(&phone), None);
        let mut newc = b"070701".to_vec();
        newc.resize(110, b'0');
        assert_eq!(name(&newc), Some("cpio"));
        assert_eq!(
            name(b"xar! is how the pirate greets the archive, all 28 bytes"),
            None
        );
        assert_eq!(name(b"xar!\0\x1c\0\x01rest of the header...."), Some("xar"));
        assert_eq!(name(b"ANDROID BACKUP\n5\n1\nnone\n"), Some("adb-backup"));
        let php = b"<?php echo '__HALT_COMPILER(); ?>';\n$x = 1;\n";
        assert_eq!(name(php), None);
    }

    #[test]
    fn a_zip_is_located_only_where_its_end_record_ends_the_blob() {
        let record = b"PK\x05\x06\0\0\0\0\x01\0\x01\0\x2e\0\0\0\x10\0\0\0\x02\0ok";
        let mut blob = b"#!/bin/sh\n".to_vec();
        blob.extend(vec![b'#'; 60]);
        blob.extend_from_slice(record);
        let len = blob.len() as u64;
        assert_eq!(locate(&blob, len).map(|f| f.name), Some("zip"));
        assert_eq!(
            locate(&blob[20..], len).map(|f| f.name),
            Some("zip"),
            "a tail"
        );
        blob.push(b'\n');
        assert!(locate(&blob, len + 1).is_none(), "a byte after the comment");
        // A central directory that cannot fit before the record.
        let mut short = b"#!".to_vec();
        short.extend_from_slice(record);
        assert!(locate(&short, short.len() as u64).is_none());
        assert!(may_have_tail(b"Cr24\x03\0\0\0"));
        assert!(!may_have_tail(b"# not a shebang"));
        assert!(
            !may_have_tail(b"#![allow(unused)]"),
            "a Rust inner attribute"
        );
        assert!(may_have_tail(b"#! /bin/sh"));
    }

    #[test]
    fn every_format_has_its_own_name_and_streams_name_their_content() {
        let mut names: Vec<_> = FORMATS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FORMATS.len());
        for f in FORMATS {
            assert_eq!(f.is_stream(), !f.suffixes.is_empty(), "{}", f.name);
        }
        assert_eq!(content_name("a.tar.bz2"), "a.tar");
        assert_eq!(content_name("a.txz"), "a.tar");
        assert_eq!(content_name("a.tzst"), "a.tar");
        assert_eq!(content_name(".gz"), ".gz~");
    }

    #[test]
    fn member_names_lose_dot_and_empty_segments_only() {
        let n = |raw: &str| String::from_utf8(normalize_name(raw.as_bytes()).into_owned()).unwrap();
        assert_eq!(n("./app/main.js"), "app/main.js");
        assert_eq!(n("././app/main.js"), "app/main.js");
        assert_eq!(n("a//b"), "a/b");
        assert_eq!(n("a/./b/"), "a/b");
        assert_eq!(n("//abs"), "abs");
        assert_eq!(n("a/../b"), "a/../b");
        assert_eq!(n(".env"), ".env");
        assert_eq!(n("..."), "...");
        assert_eq!(n("/"), "/");
    }
}

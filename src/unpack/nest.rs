//! The nesting driver (#13; moved out of `blob` in #23): unpacks one input's archives, scanning
//! members in turn through the `Scan` callback; an archive inside a member is the same step
//! again, bounded by `--max-archive-depth`. Owns the inflated-bytes budget, the member-count
//! and zip-buffer limits, what damage is called (#20: `corrupt`, `truncated`, `unsupported`),
//! and marking keys in files a later layer of a container image deletes. Never prints.

use std::cell::Cell;
use std::collections::HashMap;
use std::error::Error;
use std::io::{self, Read, Seek};
use std::ops::ControlFlow;

use super::image::{self, Whiteout};
use super::{
    normalize_name, Format, Head, Input, Issue, IssueKind, MemberIssue, ReadSeek, Reader, Scan,
    Unpacked, Visit,
};
use crate::config::ArchiveLimits;
use crate::skip::SkipReason;

/// Streams of compressed streams unpacked inside each other (`.gz` of a `.gz`) at most; the
/// innermost is then scanned as raw bytes.
const MAX_STREAM_WRAPS: u32 = 3;

/// Unpacks blob `input`, an archive or stream of `format` (as `sniff` said) at nesting `depth`,
/// and scans its members through `scan`, reusing `buf`. Members are one level deeper; archives
/// among them are unpacked in turn while `limits.max_depth` allows.
pub fn unpack(
    scan: &dyn Scan,
    limits: &ArchiveLimits,
    format: Format,
    input: Input<'_>,
    depth: u32,
    buf: &mut Vec<u8>,
) -> Unpacked {
    let budget = Budget::new(limits);
    let mut nest = Nest {
        scan,
        limits,
        budget: &budget,
        out: Unpacked::default(),
        buf,
        chain: Vec::new(),
        whiteouts: Vec::new(),
    };
    match input {
        Input::Stream { head, reader } => {
            let name = nest.content_name(format, head);
            nest.archive(format, &mut Blob { inner: reader }, depth, name);
        }
        Input::Seekable(reader) => {
            let mut blob = Blob { inner: reader };
            match format.reader {
                Reader::Seekable(walk) => nest.seekable(walk, &mut blob, depth),
                _ => {
                    // Read front to back; the first bytes name a stream's content.
                    let name = match nest.scan.read_head(&mut blob, nest.buf) {
                        Ok(head) => {
                            let data = nest.buf.get(..head.filled).unwrap_or_default();
                            nest.content_name(format, data)
                        }
                        Err(_) => None,
                    };
                    match blob.seek(io::SeekFrom::Start(0)) {
                        Ok(_) => nest.archive(format, &mut blob, depth, name),
                        Err(e) => nest.fail(None, &e, false),
                    }
                }
            }
        }
    }
    nest.out
}

/// The inflated-bytes budget of one input's archives (`--max-archive-bytes`).
struct Budget {
    remaining: Cell<u64>,
    exhausted: Cell<bool>,
    reported: Cell<bool>,
}

impl Budget {
    fn new(limits: &ArchiveLimits) -> Budget {
        Budget {
            remaining: Cell::new(limits.max_inflated_bytes),
            exhausted: Cell::new(false),
            reported: Cell::new(false),
        }
    }
}

/// A reader whose bytes count against the budget: what decompressors produce. Past the budget
/// it fails (and marks the budget exhausted), so every level above stops reading.
struct Metered<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let remaining = self.budget.remaining.get();
        if remaining == 0 {
            self.budget.exhausted.set(true);
            return Err(io::Error::other("--max-archive-bytes reached"));
        }
        let max = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(out.len());
        let n = self.inner.read(out.get_mut(..max).unwrap_or_default())?;
        self.budget.remaining.set(remaining - n as u64);
        Ok(n)
    }
}

/// The blob under the archives (a file, a git blob, standard input): its read errors are the
/// input's, not damage of an archive, and stay errors (#20).
struct Blob<R> {
    inner: R,
}

/// The error of reading the blob itself.
#[derive(Debug)]
struct BlobError(io::Error);

impl std::fmt::Display for BlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Error for BlobError {}

impl<R: Read> Read for Blob<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.inner.read(out).map_err(|e| match e.kind() {
            io::ErrorKind::Interrupted => e,
            kind => io::Error::new(kind, BlobError(e)),
        })
    }
}

impl<R: Seek> Seek for Blob<R> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

/// A reader that notes when its input ends: a container that fails after its input ended is
/// `truncated`, not `corrupt` (#20; tar says "failed to read entire block").
struct Ends<'c, R> {
    inner: R,
    ended: &'c Cell<bool>,
}

impl<R: Read> Read for Ends<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        if n == 0 && !out.is_empty() {
            self.ended.set(true);
        }
        Ok(n)
    }
}

/// A reader that ends at its first error and keeps it: the keys before damage are reported,
/// then the error (#13).
struct Fused<R> {
    inner: R,
    error: Option<io::Error>,
}

impl<R: Read> Read for Fused<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.error.is_some() {
            return Ok(0);
        }
        match self.inner.read(out) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.error = Some(e);
                Ok(0)
            }
            ok => ok,
        }
    }
}

/// A damaged stream gives its error once (to the member being read, where it is reported);
/// later reads (a tar skipping the rest of that member) fail with `AlreadyReported`, which is
/// not reported again.
struct Sticky<R> {
    inner: R,
    failed: bool,
}

/// The error of a stream that already failed and was reported.
#[derive(Debug)]
struct AlreadyReported;

impl std::fmt::Display for AlreadyReported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stream failed earlier")
    }
}

impl Error for AlreadyReported {}

impl<R: Read> Read for Sticky<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other(AlreadyReported));
        }
        self.inner.read(out).inspect_err(|e| {
            self.failed = e.kind() != io::ErrorKind::Interrupted;
        })
    }
}

/// What is left of a reader after its first chunk: the reader, or the error that ended the
/// chunk (given once, then `AlreadyReported`).
enum Rest<'r> {
    Reader(&'r mut dyn Read),
    Failed(Option<io::Error>),
}

impl Read for Rest<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Rest::Reader(r) => r.read(out),
            Rest::Failed(e) => Err(e
                .take()
                .unwrap_or_else(|| io::Error::other(AlreadyReported))),
        }
    }
}

/// Whether `e`, or an error it wraps (through `io::Error`s and `source()`, as tar wraps them),
/// satisfies `pred`.
fn any_cause(e: &io::Error, pred: &dyn Fn(&(dyn Error + 'static)) -> bool) -> bool {
    let mut next: Option<&(dyn Error + 'static)> = Some(e);
    // Chains are short; the bound only guards against a cycle.
    for _ in 0..16 {
        let Some(err) = next else {
            return false;
        };
        if pred(err) {
            return true;
        }
        next = match err.downcast_ref::<io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
            None => err.source(),
        };
    }
    false
}

/// #20: what read error `e` of an archive or stream means, `ended` when the container's own
/// input had ended before it.
fn damage(e: &io::Error, ended: bool) -> SkipReason {
    let kind_is = |kinds: &[io::ErrorKind]| {
        any_cause(e, &|c| {
            c.downcast_ref::<io::Error>()
                .is_some_and(|io| kinds.contains(&io.kind()))
        })
    };
    if any_cause(e, &|c| c.is::<super::Encrypted>()) {
        SkipReason::Encrypted
    } else if kind_is(&[io::ErrorKind::Unsupported, io::ErrorKind::OutOfMemory]) {
        SkipReason::Unsupported
    } else if ended || kind_is(&[io::ErrorKind::UnexpectedEof]) {
        SkipReason::Truncated
    } else {
        SkipReason::Corrupt
    }
}

/// The unpacking of one input's archives: members scanned in turn (nesting is the same step
/// again), hits and issues gathered into `out` with the member chain in `chain`.
struct Nest<'s, 'o> {
    scan: &'s dyn Scan,
    limits: &'s ArchiveLimits,
    budget: &'o Budget,
    out: Unpacked,
    buf: &'o mut Vec<u8>,
    chain: Vec<String>,
    /// Whiteouts seen in tar members, with the chain of the tar that holds them (a layer of a
    /// container image, if the tar around it turns out to be an image).
    whiteouts: Vec<(Vec<String>, Whiteout)>,
}

impl Nest<'_, '_> {
    /// Records an issue at the current chain (plus `name`).
    fn issue(&mut self, name: Option<String>, kind: IssueKind) {
        let mut members = self.chain.clone();
        members.extend(name);
        self.out.issues.push(MemberIssue { members, kind });
    }

    /// Records read error `e` at the current chain (plus `name`): the budget's skip once when
    /// it is exhausted (every level above then fails too); an error when the blob itself could
    /// not be read; otherwise a skip that says what the damage is (#20), `ended` when the
    /// container's input had ended.
    fn fail(&mut self, name: Option<String>, e: &io::Error, ended: bool) {
        if any_cause(e, &|c| c.is::<AlreadyReported>()) {
            return;
        }
        if self.budget.exhausted.get() {
            if !self.budget.reported.replace(true) {
                self.issue(name, IssueKind::Skip(SkipReason::ArchiveTooLarge));
            }
            return;
        }
        if any_cause(e, &|c| c.is::<BlobError>()) {
            let message = format!("cannot read: {}", self.scan.redact(&e.to_string()));
            return self.issue(name, IssueKind::Error(message));
        }
        self.issue(name, IssueKind::Skip(damage(e, ended)));
    }

    /// The display name of raw member name `raw`: normalised (#20), key-shaped runs masked.
    fn name(&self, raw: &[u8]) -> String {
        self.scan.display_name(&normalize_name(raw))
    }

    /// The name a stream of `format` starting with `head` gives its content, if any.
    fn content_name(&self, format: Format, head: &[u8]) -> Option<String> {
        let raw = (format.content_name)(head)?;
        Some(self.name(&raw))
    }

    /// Unpacks archive `format` read from `reader`, at `depth` (its members are one deeper);
    /// `name` names a stream's content.
    fn archive(&mut self, format: Format, reader: &mut dyn Read, depth: u32, name: Option<String>) {
        self.archive_in(format, reader, depth, 0, name);
    }

    /// `archive` inside `wraps` compressed streams.
    fn archive_in(
        &mut self,
        format: Format,
        reader: &mut dyn Read,
        depth: u32,
        wraps: u32,
        name: Option<String>,
    ) {
        match format.reader {
            Reader::Sequential(walk) => {
                let first_hit = self.out.hits.len();
                let ended = Cell::new(false);
                let mut input = Ends {
                    inner: reader,
                    ended: &ended,
                };
                let mut container = Container {
                    nest: self,
                    depth,
                    members: 0,
                    metered: false,
                    ended: Some(&ended),
                    index: format.may_be_image.then(image::Index::default),
                };
                walk(&mut input, &mut container);
                let index = container.index.take().unwrap_or_default();
                self.mark_deleted(&index, first_hit);
            }
            Reader::Seekable(walk) => {
                let limit = self.limits.max_zip_buffer_bytes;
                let mut data = Vec::new();
                if let Err(e) = reader.take(limit.saturating_add(1)).read_to_end(&mut data) {
                    return self.fail(None, &e, false);
                }
                if data.len() as u64 > limit {
                    self.issue(None, IssueKind::Skip(SkipReason::ZipTooLarge));
                    // #22: its bytes are still scanned as they are (a PDF's text, an
                    // executable's strings), as an archive nested too deep is.
                    let mut whole = io::Cursor::new(data).chain(reader);
                    let (head, mut rest) = self.read_head(&mut whole);
                    return self.plain(&mut rest, head);
                }
                self.seekable(walk, &mut io::Cursor::new(&data[..]), depth);
            }
            Reader::Strings(parse) => self.strings(parse, reader),
            Reader::Stream(open) => {
                let decoded = match open(reader) {
                    Ok(d) => d,
                    Err(e) => return self.fail(None, &e, false),
                };
                let mut metered = Sticky {
                    inner: Metered {
                        inner: decoded,
                        budget: self.budget,
                    },
                    failed: false,
                };
                self.stream_content(&mut metered, depth, wraps + 1, name.unwrap_or_default());
            }
        }
    }

    /// #22: scans the compiled artifact `reader` as raw bytes (as the blob itself) and the
    /// strings `parse` reads from it as member `Table::member`, one string a line, keeping one
    /// finding per key and place (`Table::dedupe`). Over the zip buffer limit it is scanned as
    /// raw bytes only, and reported; a table read in part is reported with its reason.
    fn strings(&mut self, parse: fn(&[u8]) -> super::strings::Table, reader: &mut dyn Read) {
        let limit = self.limits.max_zip_buffer_bytes;
        let mut data = Vec::new();
        let read = reader.take(limit.saturating_add(1)).read_to_end(&mut data);
        let first = self.out.hits.len();
        if let Err(e) = read {
            self.plain_bytes(&data);
            return self.fail(None, &e, false);
        }
        if data.len() as u64 > limit {
            let mut all = io::Cursor::new(&data[..]).chain(reader);
            let (head, mut rest) = self.read_head(&mut all);
            self.plain(&mut rest, head);
            return self.issue(None, IssueKind::Skip(SkipReason::ZipTooLarge));
        }
        self.plain_bytes(&data);
        let table = parse(&data);
        if let Some(reason) = table.incomplete {
            self.issue(None, IssueKind::Skip(reason));
        }
        if table.is_empty() {
            return;
        }
        let strings_from = self.out.hits.len();
        self.chain.push(table.member.to_string());
        self.plain_bytes(table.text());
        self.chain.pop();
        table.dedupe(&mut self.out.hits, first, strings_from);
    }

    /// Scans `data` as the content of the member at the end of the chain.
    fn plain_bytes(&mut self, data: &[u8]) {
        let mut reader = data;
        let (head, mut rest) = self.read_head(&mut reader);
        self.plain(&mut rest, head);
    }

    /// Walks the random-access container `reader` with `walk`; its members are scanned at
    /// `depth + 1` and inflate, so they count against the budget.
    fn seekable(
        &mut self,
        walk: fn(&mut dyn ReadSeek, &mut dyn Visit),
        reader: &mut dyn ReadSeek,
        depth: u32,
    ) {
        let mut container = Container {
            nest: self,
            depth,
            members: 0,
            metered: true,
            ended: None,
            index: None,
        };
        walk(reader, &mut container);
    }

    /// After the tar at the current chain was walked: when it is a container image (`index`
    /// describes its layers), marks the hits from `first_hit` on that sit in a file a later
    /// layer's whiteout deletes. Whiteouts recorded below this tar are dropped either way.
    fn mark_deleted(&mut self, index: &image::Index, first_hit: usize) {
        let level = self.chain.len();
        let chain = &self.chain;
        let mut by_layer: HashMap<String, Vec<Whiteout>> = HashMap::new();
        self.whiteouts.retain(|(at, whiteout)| {
            let below = at.len() > level && at.get(..level) == Some(chain.as_slice());
            // A whiteout in a member of this tar's member: `at` ends with the layer's name.
            if let Some(layer) = at.last().filter(|_| below && at.len() == level + 1) {
                by_layer
                    .entry(layer.clone())
                    .or_default()
                    .push(whiteout.clone());
            }
            !below
        });
        if by_layer.is_empty() {
            return;
        }
        let images = index.images();
        if images.is_empty() {
            return;
        }
        for hit in self.out.hits.iter_mut().skip(first_hit) {
            if hit.deleted_in_layer.is_some() {
                continue;
            }
            let (Some(layer), Some(path)) = (hit.members.get(level), hit.members.get(level + 1))
            else {
                continue;
            };
            hit.deleted_in_layer =
                image::deleted_by(&images, &by_layer, layer, path).map(str::to_string);
        }
    }

    /// Scans the content of a compressed stream (`wraps` streams deep) at `depth`: another
    /// archive is unpacked in its place (a `.tar.gz` is one level, and its members are named
    /// without the tar: `app.tar.gz!pkg/config.env`); anything else is a member named `name`
    /// (the gzip header's name, or empty: see `blob::Scanner::member_origin`).
    fn stream_content(&mut self, reader: &mut dyn Read, depth: u32, wraps: u32, name: String) {
        let (head, mut rest) = self.read_head(reader);
        let reader: &mut dyn Read = &mut rest;
        let data = self.buf.get(..head.filled).unwrap_or_default();
        match super::sniff(data) {
            Some(f) if !f.is_stream() || wraps < MAX_STREAM_WRAPS => {
                let data = data.to_vec();
                let name = self.content_name(f, &data);
                let mut chained = io::Cursor::new(data).chain(reader);
                self.archive_in(f, &mut chained, depth, wraps, name);
            }
            _ => {
                self.chain.push(name);
                self.plain(reader, head);
                self.chain.pop();
            }
        }
    }

    /// Scans member content `reader` (the member is the last of the chain) at `depth`: an
    /// archive is unpacked when `depth` allows, skipped as too deep otherwise (and scanned as
    /// raw bytes); anything else is scanned.
    fn member(&mut self, reader: &mut dyn Read, depth: u32) {
        let (head, mut rest) = self.read_head(reader);
        let reader: &mut dyn Read = &mut rest;
        let data = self.buf.get(..head.filled).unwrap_or_default();
        let named = || super::by_name(self.chain.last()?, data);
        match super::sniff(data).or_else(named) {
            Some(format) if depth < self.limits.max_depth => {
                let data = data.to_vec();
                let name = self.content_name(format, &data);
                let mut chained = io::Cursor::new(data).chain(reader);
                self.archive(format, &mut chained, depth, name);
            }
            Some(_) => {
                self.issue(None, IssueKind::Skip(SkipReason::ArchiveTooDeep));
                self.plain(reader, head);
            }
            None if depth < self.limits.max_depth && super::may_have_tail(data) => {
                self.tail_member(reader, head, depth);
            }
            None => self.plain(reader, head),
        }
    }

    /// #22: member content `reader` (its first chunk `head` in the buffer) that starts like a
    /// stub: held in memory up to the zip buffer to look at its end (`unpack::locate`), then
    /// unpacked in place or scanned. A larger one is scanned as bytes, its end not looked at.
    fn tail_member(&mut self, reader: &mut dyn Read, head: Head, depth: u32) {
        if head.eof {
            let data = self.buf.get(..head.filled).unwrap_or_default();
            if let Some(Reader::Seekable(walk)) =
                super::locate(data, data.len() as u64).map(|f| f.reader)
            {
                let data = data.to_vec();
                return self.seekable(walk, &mut io::Cursor::new(&data[..]), depth);
            }
            return self.plain(reader, head);
        }
        let limit = self.limits.max_zip_buffer_bytes;
        let mut data = self.buf.get(..head.filled).unwrap_or_default().to_vec();
        let room = limit.saturating_add(1).saturating_sub(data.len() as u64);
        let rest = match reader.take(room).read_to_end(&mut data) {
            Ok(_) => Rest::Reader(reader),
            Err(e) => {
                return self.plain_from(&mut io::Cursor::new(data).chain(Rest::Failed(Some(e))))
            }
        };
        if data.len() as u64 <= limit {
            if let Some(Reader::Seekable(walk)) =
                super::locate(&data, data.len() as u64).map(|f| f.reader)
            {
                return self.seekable(walk, &mut io::Cursor::new(&data[..]), depth);
            }
        }
        self.plain_from(&mut io::Cursor::new(data).chain(rest));
    }

    /// Scans `reader` from its first byte as the content of the member at the end of the chain.
    fn plain_from(&mut self, reader: &mut dyn Read) {
        let (head, mut rest) = self.read_head(reader);
        self.plain(&mut rest, head);
    }

    /// Reads the first chunk of `reader` into the buffer. A read error there does not lose the
    /// bytes before it: they are looked at and scanned, and the returned rest of the reader
    /// gives the error when they are used up, so it is reported once, where it happened.
    fn read_head<'r>(&mut self, reader: &'r mut dyn Read) -> (Head, Rest<'r>) {
        let mut fused = Fused {
            inner: reader,
            error: None,
        };
        let head = self.scan.read_head(&mut fused, self.buf).unwrap_or(Head {
            filled: 0,
            eof: true,
        });
        let Fused { inner, error } = fused;
        match error {
            // Not the end: the next read gives the error.
            Some(e) => (Head { eof: false, ..head }, Rest::Failed(Some(e))),
            None => (head, Rest::Reader(inner)),
        }
    }

    /// Scans `reader` (its first chunk `head` already in the buffer) as the content of the
    /// member at the end of the chain; a read error ends it after the keys before it.
    fn plain(&mut self, reader: &mut dyn Read, head: Head) {
        let mut fused = Fused {
            inner: reader,
            error: None,
        };
        match self.scan.scan_plain(&mut fused, self.buf, head) {
            Ok((hits, binary, issues)) => {
                for mut hit in hits {
                    // #22: a hit inside an archive the content held in base64 has its own
                    // chain below the member, and its own `member_binary`.
                    let inner = std::mem::take(&mut hit.members);
                    hit.members.clone_from(&self.chain);
                    if inner.is_empty() {
                        hit.member_binary = binary;
                    }
                    hit.members.extend(inner);
                    self.out.hits.push(hit);
                }
                for issue in issues {
                    let mut members = self.chain.clone();
                    members.extend(issue.members);
                    self.out.issues.push(MemberIssue {
                        members,
                        kind: issue.kind,
                    });
                }
            }
            Err(e) => fused.error = Some(e),
        }
        if let Some(e) = fused.error {
            self.fail(None, &e, false);
        }
    }
}

/// One container being walked: members are scanned one level deeper than it.
struct Container<'n, 's, 'o, 'c> {
    nest: &'n mut Nest<'s, 'o>,
    depth: u32,
    members: u64,
    /// Whether member reads inflate (zip members) and count against the budget; a tar's
    /// members are counted by the stream around the tar, if any.
    metered: bool,
    /// Whether the container's input has ended (a sequential container's).
    ended: Option<&'c Cell<bool>>,
    /// A tar's image description, gathered from its members (a tar may be a container image).
    index: Option<image::Index>,
}

impl Visit for Container<'_, '_, '_, '_> {
    fn member(
        &mut self,
        raw_name: &[u8],
        size: Option<u64>,
        reader: &mut dyn Read,
    ) -> ControlFlow<()> {
        let nest = &mut *self.nest;
        let name = nest.name(raw_name);
        if size.is_some_and(|s| nest.scan.is_too_large(s)) {
            nest.issue(Some(name), IssueKind::Skip(SkipReason::TooLarge));
            return ControlFlow::Continue(());
        }
        if self.index.is_some() {
            if let Some(whiteout) = Whiteout::from_name(&name) {
                nest.whiteouts.push((nest.chain.clone(), whiteout));
            }
        }
        let is_index = self.index.is_some()
            && size.is_some_and(|s| s <= image::MAX_INDEX_BYTES)
            && image::is_index_name(&name);
        nest.chain.push(name);
        if is_index {
            // Small enough to hold: read whole, kept as an image description if it is one,
            // then scanned like any member.
            let mut data = Vec::new();
            let rest = match reader.take(image::MAX_INDEX_BYTES).read_to_end(&mut data) {
                Ok(_) => {
                    if let (Some(index), Some(name)) = (self.index.as_mut(), nest.chain.last()) {
                        index.add(name, &data);
                    }
                    Rest::Reader(reader)
                }
                Err(e) => Rest::Failed(Some(e)),
            };
            nest.member(&mut io::Cursor::new(&data[..]).chain(rest), self.depth + 1);
        } else if self.metered {
            let mut metered = Metered {
                inner: reader,
                budget: nest.budget,
            };
            nest.member(&mut metered, self.depth + 1);
        } else {
            nest.member(reader, self.depth + 1);
        }
        nest.chain.pop();
        if nest.budget.exhausted.get() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn issue(&mut self, name: Option<&[u8]>, issue: Issue) {
        let name = name.map(|n| self.nest.name(n));
        match issue {
            Issue::Skip(reason) => self.nest.issue(name, IssueKind::Skip(reason)),
            Issue::Error(e) => {
                let ended = self.ended.is_some_and(Cell::get);
                self.nest.fail(name, &e, ended)
            }
        }
    }

    fn has_room(&mut self) -> bool {
        self.members += 1;
        self.members <= self.nest.limits.max_members
    }

    fn own_bytes(&mut self, reader: &mut dyn Read) {
        self.nest.plain_from(reader);
    }

    fn inflated(
        &mut self,
        name: &[u8],
        size: Option<u64>,
        reader: &mut dyn Read,
    ) -> ControlFlow<()> {
        let metered = std::mem::replace(&mut self.metered, true);
        let flow = self.member(name, size, reader);
        self.metered = metered;
        flow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write;

    /// A scanner that finds nothing and leaves out members over 100 KB.
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

        fn is_too_large(&self, size: u64) -> bool {
            size > 100_000
        }
    }

    fn limits() -> ArchiveLimits {
        ArchiveLimits {
            max_depth: 3,
            max_inflated_bytes: 1 << 20,
            max_members: 10,
            max_zip_buffer_bytes: 1 << 20,
        }
    }

    /// A gzip'd tar whose members' names are written as given (`./a`), as `tar -czf` writes them.
    fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = ::tar::Header::new_ustar();
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(::tar::EntryType::Regular);
            h.set_cksum();
            b.append(&h, *data).expect("tar append");
        }
        let tar = b.into_inner().expect("tar finish");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&tar).expect("gzip");
        e.finish().expect("gzip finish")
    }

    fn issues(data: &[u8], seekable: bool) -> Vec<MemberIssue> {
        let format = super::super::sniff(data).expect("an archive");
        let mut buf = Vec::new();
        let mut cursor = io::Cursor::new(data);
        let mut slice = data;
        let input = if seekable {
            Input::Seekable(&mut cursor)
        } else {
            Input::Stream {
                head: data,
                reader: &mut slice,
            }
        };
        unpack(&Blind, &limits(), format, input, 0, &mut buf).issues
    }

    fn skip(members: &[&str], reason: SkipReason) -> MemberIssue {
        MemberIssue {
            members: members.iter().map(|m| m.to_string()).collect(),
            kind: IssueKind::Skip(reason),
        }
    }

    #[test]
    fn members_are_named_without_dot_segments_through_the_callback_from_any_input() {
        let data = tar_gz(&[
            ("./app//big.bin", &vec![7u8; 200_000]),
            ("./app/small", b"x"),
        ]);
        let want = vec![skip(&["app/big.bin"], SkipReason::TooLarge)];
        assert_eq!(issues(&data, false), want);
        assert_eq!(
            issues(&data, true),
            want,
            "a stream read from a seekable input"
        );
    }

    #[test]
    fn a_cut_stream_is_truncated_and_a_damaged_one_corrupt() {
        let noise: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let data = tar_gz(&[("a", &noise)]);
        let cut = &data[..data.len() / 2];
        assert_eq!(
            issues(cut, false),
            vec![skip(&["a"], SkipReason::Truncated)]
        );
        let mut damaged = data.clone();
        for b in &mut damaged[100..140] {
            *b ^= 0x5A;
        }
        let got = issues(&damaged, false);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].kind, IssueKind::Skip(SkipReason::Corrupt), "{got:?}");
    }

    #[test]
    fn damage_is_named_by_what_the_reader_said() {
        let e = |kind| io::Error::new(kind, "x");
        assert_eq!(
            damage(&e(io::ErrorKind::UnexpectedEof), false),
            SkipReason::Truncated
        );
        assert_eq!(
            damage(&e(io::ErrorKind::InvalidData), false),
            SkipReason::Corrupt
        );
        assert_eq!(
            damage(&e(io::ErrorKind::Other), true),
            SkipReason::Truncated,
            "a container that failed after its input ended"
        );
        assert_eq!(
            damage(&e(io::ErrorKind::Unsupported), true),
            SkipReason::Unsupported
        );
        // Wrapped, as tar wraps the errors of the reader under it.
        let wrapped = io::Error::other(io::Error::new(io::ErrorKind::UnexpectedEof, "cut"));
        assert_eq!(damage(&wrapped, false), SkipReason::Truncated);
    }

    #[test]
    fn an_error_of_the_blob_itself_is_found_under_wrappers() {
        let inner = io::Error::other(BlobError(io::Error::other("disk")));
        let wrapped = io::Error::other(inner);
        assert!(any_cause(&wrapped, &|c| c.is::<BlobError>()));
        assert!(!any_cause(&io::Error::other("x"), &|c| c.is::<BlobError>()));
    }
}

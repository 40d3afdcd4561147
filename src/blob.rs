//! The shared road from bytes to findings (#12, #23). Every input the scanner reads (a file of
//! a tree, standard input, a git blob in any scope, and the members of archives inside them)
//! goes through `Scanner::scan_input`: the size limit, the read, archive unpacking (#13, in
//! `Nest`: the one place `scan_reader` and `scan_bytes` both use), the scan itself (prefilter,
//! chunked detection, decoding, binary sniff) and counting into a `Tally`; `Scanner::finding`
//! builds each finding with its `Origin` and `Attribution` at once. The walker and the git
//! scopes only decide what to read, where it came from and which commit added it. Never prints.

use std::cell::Cell;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{self, Read};
use std::ops::ControlFlow;

use crate::config::ArchiveLimits;
use crate::detect::Detector;
use crate::finding::{CommitInfo, Finding, Seen};
use crate::origin::{display_bytes, Origin};
use crate::source::{
    self, Excludes, FileError, Head, Hit, IssueKind, MemberIssue, Skip, SkipReason, StreamScan,
};
use crate::unpack::image::{self, Whiteout};
use crate::unpack::{self, Format, Issue};

/// Nesting depth of a blob that is an input itself (a file, standard input, a git blob); an
/// archive member is one level deeper than the archive holding it (#13).
pub const TOP_DEPTH: u32 = 0;

/// What every input needs to become findings: the detector and the limits of the scan.
#[derive(Debug, Clone, Copy)]
pub struct Scanner<'a> {
    /// The detector.
    pub detector: &'a Detector,
    /// `--exclude` globs.
    pub excludes: &'a Excludes,
    /// `--max-filesize`.
    pub max_filesize_bytes: Option<u64>,
    /// Size of one read.
    pub chunk_size_bytes: usize,
    /// Archive unpacking limits (#13).
    pub archives: ArchiveLimits,
}

/// Findings, skips, errors and counts of a scan or part of one; parts are merged at the end.
#[derive(Debug, Default)]
pub struct Tally {
    /// Findings, in no particular order.
    pub findings: Vec<Finding>,
    /// Inputs left out on purpose.
    pub skipped: Vec<Skip>,
    /// Inputs that could not be read.
    pub errors: Vec<FileError>,
    /// Report-level warnings (shallow clone, unmerged paths).
    pub warnings: Vec<String>,
    /// Inputs scanned (files, or distinct git blobs).
    pub scanned: u64,
    /// Bytes of those inputs.
    pub bytes: u64,
}

impl Tally {
    /// Adds `other` to this tally.
    pub fn merge(&mut self, other: Tally) {
        self.findings.extend(other.findings);
        self.skipped.extend(other.skipped);
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.scanned += other.scanned;
        self.bytes += other.bytes;
    }

    /// Counts one scanned input of `bytes` bytes.
    pub fn count(&mut self, bytes: u64) {
        self.scanned += 1;
        self.bytes += bytes;
    }
}

/// Where the bytes of one input are (#23).
#[derive(Debug)]
pub enum Bytes<'b, R> {
    /// A file of a tree, opened, and its length when opened: never read past it; a zip is
    /// read in place with seeks.
    File(std::fs::File, u64),
    /// A stream whose length is known only at its end (standard input).
    Stream(R),
    /// Bytes in memory (a git blob).
    Memory(&'b [u8]),
}

/// The stream type of `Bytes` that are not a stream.
pub type NoStream = io::Empty;

/// What became of one input on the road (#23); what it costs the report is in the `Tally`.
#[derive(Debug)]
pub enum Outcome {
    /// Left out before it was scanned (`--max-filesize`).
    Skipped,
    /// Could not be read.
    Failed,
    /// Scanned and counted: its keys, for the scope to attribute.
    Scanned(StreamScan),
}

/// What a scope knows about where its findings came from in history (#23), given to each
/// finding when it is built: nothing for a tree, standard input or `--staged`.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    /// The commit that added the key (`--range`, `--history`).
    pub commit: Option<CommitInfo>,
    /// `--history` only: whether the key is still there at `HEAD` (or the `--branch` tip).
    pub present_at_head: Option<bool>,
}

impl Scanner<'_> {
    /// Whether `--max-filesize` leaves out an input of `size` bytes: the one test of the limit,
    /// which `scan_input` applies to every input (#23) and the archive driver to members. Its
    /// other caller, `--history`, moves onto `scan_input` (#23).
    pub fn is_too_large(&self, size: u64) -> bool {
        self.max_filesize_bytes.is_some_and(|max| size > max)
    }

    /// Scans `reader` to its end at nesting `depth`, reusing `buf`. An archive (recognised by
    /// its first bytes) is unpacked and its members scanned (#13): their hits carry the member
    /// chain, and members left out or unreadable are `StreamScan::issues`; `bytes` counts the
    /// bytes read from `reader`. Other input costs one look at its first bytes.
    pub fn scan_reader<R: Read>(
        &self,
        mut reader: R,
        depth: u32,
        buf: &mut Vec<u8>,
    ) -> io::Result<StreamScan> {
        let head = source::read_head(&mut reader, self.detector, buf, self.chunk_size_bytes)?;
        self.scan_after_head(reader, head, depth, buf)
    }

    /// Scans the first `len` bytes of `file` (a file of a tree, an input itself) like
    /// `scan_reader`, except that a zip is read in place with seeks instead of being buffered,
    /// whatever its size.
    pub fn scan_file(
        &self,
        mut file: std::fs::File,
        len: u64,
        buf: &mut Vec<u8>,
    ) -> io::Result<StreamScan> {
        let head = source::read_head(
            &mut (&mut file).take(len),
            self.detector,
            buf,
            self.chunk_size_bytes,
        )?;
        let data = buf.get(..head.filled).unwrap_or_default();
        if self.archive_format(data, TOP_DEPTH) != Some(Format::Zip) {
            // Not a zip: the rest is read on from where the head ended.
            let read = head.filled as u64;
            return self.scan_after_head(file.take(len.saturating_sub(read)), head, TOP_DEPTH, buf);
        }
        let mut out = StreamScan {
            bytes: len,
            depth: TOP_DEPTH,
            binary: true,
            ..StreamScan::default()
        };
        let budget = Budget::new(&self.archives);
        Nest::new(self, &budget, &mut out, buf).zip(io::BufReader::new(file), TOP_DEPTH);
        Ok(out)
    }

    /// `scan_reader` for a reader whose first chunk `head` is already in `buf`.
    fn scan_after_head<R: Read>(
        &self,
        reader: R,
        head: Head,
        depth: u32,
        buf: &mut Vec<u8>,
    ) -> io::Result<StreamScan> {
        let data = buf.get(..head.filled).unwrap_or_default();
        let Some(format) = self.archive_format(data, depth) else {
            let mut scan = source::scan_stream_after(
                reader,
                self.detector,
                buf,
                self.chunk_size_bytes,
                Some(head),
            )?;
            scan.depth = depth;
            return Ok(scan);
        };
        let mut counted = Counted {
            inner: io::Cursor::new(data.to_vec()).chain(reader),
            bytes: 0,
        };
        let mut out = StreamScan {
            depth,
            binary: true,
            ..StreamScan::default()
        };
        let name = self.stream_name(format, data);
        let budget = Budget::new(&self.archives);
        Nest::new(self, &budget, &mut out, buf).archive(format, &mut counted, depth, name);
        out.bytes = counted.bytes;
        Ok(out)
    }

    /// Scans `data` held in memory at nesting `depth`; data without any needle of the
    /// detector (and no archive) costs one `memmem` pass per needle. A zip is read in place.
    pub fn scan_bytes(&self, data: &[u8], depth: u32, buf: &mut Vec<u8>) -> StreamScan {
        if let Some(format) = self.archive_format(data, depth) {
            let mut out = StreamScan {
                bytes: data.len() as u64,
                depth,
                binary: true,
                ..StreamScan::default()
            };
            let budget = Budget::new(&self.archives);
            let mut nest = Nest::new(self, &budget, &mut out, buf);
            if format == Format::Zip {
                nest.zip(io::Cursor::new(data), depth);
            } else {
                let name = self.stream_name(format, data);
                nest.archive(format, &mut &data[..], depth, name);
            }
            return out;
        }
        if !self.detector.has_needle(data) {
            return StreamScan {
                bytes: data.len() as u64,
                depth,
                ..StreamScan::default()
            };
        }
        let mut scan = source::scan_stream(data, self.detector, buf, self.chunk_size_bytes)
            .expect("reading a byte slice cannot fail");
        scan.depth = depth;
        scan
    }

    /// The name a compressed stream starting with `head` gives its content: the gzip header's
    /// file name (masked like any path), if any.
    fn stream_name(&self, format: Format, head: &[u8]) -> Option<String> {
        if format != Format::Gzip {
            return None;
        }
        let raw = unpack::gzip_name(head)?;
        Some(self.detector.redact(&display_bytes(&raw)).into_owned())
    }

    /// The archive format `head` starts with, when archives at `depth` are unpacked.
    fn archive_format(&self, head: &[u8], depth: u32) -> Option<Format> {
        if depth >= self.archives.max_depth {
            return None;
        }
        unpack::sniff(head)
    }

    /// `origin` with the member chain `members` below it. A member without a name (the content
    /// of a compressed stream whose header names none) is named after the stream, its
    /// compression suffix dropped (`logs/app.log.gz` → `app.log`).
    pub fn member_origin(origin: &Origin, members: &[String]) -> Origin {
        if members.iter().all(|m| !m.is_empty()) {
            return origin.clone().with_members(members);
        }
        let mut named = Vec::with_capacity(members.len());
        let mut previous = origin.outer_display().to_string();
        for m in members {
            let name = if m.is_empty() {
                stream_content_name(&previous)
            } else {
                m.clone()
            };
            previous.clone_from(&name);
            named.push(name);
        }
        origin.clone().with_members(&named)
    }

    /// The finding for `hit`, found in an input of origin `origin` (the hit's members are
    /// appended to it) that looks binary or not, attributed by `attribution`: the one place
    /// findings are made from hits, with every field at once (#23).
    pub fn finding(
        &self,
        origin: &Origin,
        binary: bool,
        hit: &Hit,
        attribution: &Attribution,
    ) -> Finding {
        let c = &hit.candidate;
        let binary = if hit.members.is_empty() {
            binary
        } else {
            hit.member_binary
        };
        let seen = Seen {
            line: hit.line,
            column: hit.column,
            byte_offset: c.offset,
            byte_length: c.span_len as u64,
            binary,
            key: c.key.clone(),
            entropy: c.entropy,
            snippet: c.snippet.clone(),
            snippet_key_start: c.snippet_key_start,
            allow_marker: c.allow_marker,
            encoding: c.encoding.iter().map(|e| e.to_string()).collect(),
        };
        let origin = Scanner::member_origin(origin, &hit.members);
        Finding::new(
            c.rule_id.to_string(),
            origin,
            seen,
            attribution.commit.clone(),
            attribution.present_at_head,
            hit.deleted_in_layer.clone(),
        )
    }

    /// The one road from an input to its outcome (#23, STYLE.md §1). Every scope (tree,
    /// standard input, `--staged`, `--range`; `--history` next) only chooses inputs and hands
    /// each one here with `origin` (computed only when something is reported), its `size` (asked
    /// for only when `--max-filesize` is set; `None` when unknown before reading) and its
    /// `bytes` (loaded only when the size allows). This method owns the size check, the read,
    /// unpacking, decoding and counting: it records into `tally` the count, the skip, the read
    /// error or the archive members left out, and returns the keys found for the scope to
    /// attribute and turn into findings with [`Scanner::finding`]. An error of the loader is
    /// handed back untouched (a git scope decides which are fatal).
    pub fn scan_input<'b, R: Read, E>(
        &self,
        tally: &mut Tally,
        origin: &dyn Fn() -> Origin,
        size: impl FnOnce() -> Option<u64>,
        bytes: impl FnOnce() -> Result<Bytes<'b, R>, E>,
        buf: &mut Vec<u8>,
    ) -> Result<Outcome, E> {
        let limited = self.max_filesize_bytes.is_some();
        if limited && size().is_some_and(|s| self.is_too_large(s)) {
            tally
                .skipped
                .push(Skip::new(origin(), SkipReason::TooLarge));
            return Ok(Outcome::Skipped);
        }
        let result = match bytes()? {
            // Read what the file held when opened: a file growing while we read cannot hold
            // us. A zip is read in place (#13).
            Bytes::File(file, len) => match limited && self.is_too_large(len) {
                true => None,
                false => Some(self.scan_file(file, len, buf)),
            },
            Bytes::Memory(data) => match limited && self.is_too_large(data.len() as u64) {
                true => None,
                false => Some(Ok(self.scan_bytes(data, TOP_DEPTH, buf))),
            },
            // A stream tells its size only by ending: read one byte past the limit at most.
            Bytes::Stream(reader) => match self.max_filesize_bytes {
                Some(max) => {
                    let scan = self.scan_reader(reader.take(max.saturating_add(1)), TOP_DEPTH, buf);
                    match scan {
                        Ok(scan) if self.is_too_large(scan.bytes) => None,
                        other => Some(other),
                    }
                }
                None => Some(self.scan_reader(reader, TOP_DEPTH, buf)),
            },
        };
        match result {
            None => {
                tally
                    .skipped
                    .push(Skip::new(origin(), SkipReason::TooLarge));
                Ok(Outcome::Skipped)
            }
            Some(Err(e)) => {
                let error = FileError::new(Some(origin()), source::io_message(&e));
                tally.errors.push(error);
                Ok(Outcome::Failed)
            }
            Some(Ok(scan)) => {
                tally.count(scan.bytes);
                if !scan.issues.is_empty() {
                    self.record_issues(tally, &origin(), &scan.issues);
                }
                Ok(Outcome::Scanned(scan))
            }
        }
    }

    /// `scan_input` for an input all of whose keys are findings, unattributed (a file of a
    /// tree, standard input).
    pub fn scan_whole<R: Read>(
        &self,
        tally: &mut Tally,
        origin: &dyn Fn() -> Origin,
        size: Option<u64>,
        bytes: Bytes<'_, R>,
        buf: &mut Vec<u8>,
    ) {
        let outcome = self.scan_input(tally, origin, || size, || Ok::<_, Infallible>(bytes), buf);
        let Ok(Outcome::Scanned(scan)) = outcome else {
            return;
        };
        if scan.hits.is_empty() {
            return;
        }
        let origin = origin();
        let none = Attribution::default();
        for hit in &scan.hits {
            tally
                .findings
                .push(self.finding(&origin, scan.binary, hit, &none));
        }
    }

    /// Adds the member skips and errors of a scanned input at `origin` to `tally` (#13).
    pub fn record_issues(&self, tally: &mut Tally, origin: &Origin, issues: &[MemberIssue]) {
        for issue in issues {
            let at = Scanner::member_origin(origin, &issue.members);
            match &issue.kind {
                IssueKind::Skip(reason) => tally.skipped.push(Skip::new(at, *reason)),
                IssueKind::Error(message) => {
                    tally.errors.push(FileError::new(Some(at), message.clone()))
                }
            }
        }
    }
}

/// The name of the content of compressed stream `name`: its last path segment without the
/// compression suffix (`a/app.log.gz` → `app.log`, `x.tgz` → `x.tar`).
fn stream_content_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    for (suffix, replace) in [
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".txz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".bz2", ""),
        (".xz", ""),
        (".zst", ""),
    ] {
        if lower.ends_with(suffix) && base.len() > suffix.len() {
            let stem = base.get(..base.len() - suffix.len()).unwrap_or(base);
            return format!("{stem}{replace}");
        }
    }
    format!("{base}~")
}

/// Streams of compressed streams unpacked inside each other (`.gz` of a `.gz`) at most; the
/// innermost is then scanned as raw bytes.
const MAX_STREAM_WRAPS: u32 = 3;

/// The inflated-bytes budget of one input's archives (`--max-archive-bytes`).
struct Budget {
    remaining: Cell<u64>,
    exhausted: Cell<bool>,
    reported: Cell<bool>,
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

impl std::error::Error for AlreadyReported {}

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

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The unpacking of one input's archives: members scanned in turn (nesting is the same step
/// again), hits and issues gathered into `out` with the member chain in `chain`.
struct Nest<'s, 'o> {
    scanner: &'s Scanner<'s>,
    out: &'o mut StreamScan,
    buf: &'o mut Vec<u8>,
    budget: &'o Budget,
    chain: Vec<String>,
    /// Whiteouts seen in tar members, with the chain of the tar that holds them (a layer of a
    /// container image, if the tar around it turns out to be an image).
    whiteouts: Vec<(Vec<String>, Whiteout)>,
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

impl<'s, 'o> Nest<'s, 'o> {
    fn new(
        scanner: &'s Scanner<'s>,
        budget: &'o Budget,
        out: &'o mut StreamScan,
        buf: &'o mut Vec<u8>,
    ) -> Self {
        Nest {
            scanner,
            out,
            buf,
            budget,
            chain: Vec::new(),
            whiteouts: Vec::new(),
        }
    }

    /// Records an issue at the current chain (plus `name`).
    fn issue(&mut self, name: Option<String>, kind: IssueKind) {
        let mut members = self.chain.clone();
        members.extend(name);
        self.out.issues.push(MemberIssue { members, kind });
    }

    /// Records read error `e` at the current chain (plus `name`): the budget's skip once when
    /// it is exhausted (every level above then fails too), an error otherwise.
    fn fail(&mut self, name: Option<String>, e: &io::Error) {
        if e.get_ref()
            .is_some_and(|inner| inner.is::<AlreadyReported>())
        {
            return;
        }
        if self.budget.exhausted.get() {
            if !self.budget.reported.replace(true) {
                self.issue(name, IssueKind::Skip(SkipReason::ArchiveTooLarge));
            }
            return;
        }
        let message = format!(
            "cannot unpack: {}",
            self.scanner.detector.redact(&e.to_string())
        );
        self.issue(name, IssueKind::Error(message));
    }

    /// The display name of raw member name `raw`: key-shaped runs masked.
    fn name(&self, raw: &[u8]) -> String {
        self.scanner
            .detector
            .redact(&display_bytes(raw))
            .into_owned()
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
        match format {
            Format::Tar => {
                let first_hit = self.out.hits.len();
                let mut container = Container {
                    nest: self,
                    depth,
                    members: 0,
                    metered: false,
                    index: Some(image::Index::default()),
                };
                unpack::tar_members(reader, &mut container);
                let index = container.index.take().unwrap_or_default();
                self.mark_deleted(&index, first_hit);
            }
            Format::Zip => {
                let limit = self.scanner.archives.max_zip_buffer_bytes;
                let mut data = Vec::new();
                if let Err(e) = reader.take(limit.saturating_add(1)).read_to_end(&mut data) {
                    return self.fail(None, &e);
                }
                if data.len() as u64 > limit {
                    return self.issue(None, IssueKind::Skip(SkipReason::ZipTooLarge));
                }
                self.zip(io::Cursor::new(&data[..]), depth);
            }
            _ => {
                let decoded = match unpack::decoder(format, reader) {
                    Ok(d) => d,
                    Err(e) => return self.fail(None, &e),
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

    /// Reads the zip `reader` (random access) and scans its members at `depth + 1`.
    fn zip<R: Read + io::Seek>(&mut self, reader: R, depth: u32) {
        let mut container = Container {
            nest: self,
            depth,
            members: 0,
            metered: true,
            index: None,
        };
        unpack::zip_members(reader, &mut container);
    }

    /// Scans the content of a compressed stream (`wraps` streams deep) at `depth`: another
    /// archive is unpacked in its place (a `.tar.gz` is one level, and its members are named
    /// without the tar: `app.tar.gz!pkg/config.env`); anything else is a member named `name`
    /// (the gzip header's name, or empty: see `Scanner::member_origin`).
    fn stream_content(&mut self, reader: &mut dyn Read, depth: u32, wraps: u32, name: String) {
        let (head, mut rest) = self.read_head(reader);
        let reader: &mut dyn Read = &mut rest;
        let data = self.buf.get(..head.filled).unwrap_or_default();
        match unpack::sniff(data) {
            Some(f) if !f.is_stream() || wraps < MAX_STREAM_WRAPS => {
                let mut chained = io::Cursor::new(data.to_vec()).chain(reader);
                let name = self.scanner.stream_name(f, data);
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
        match unpack::sniff(data) {
            Some(format) if depth < self.scanner.archives.max_depth => {
                let mut chained = io::Cursor::new(data.to_vec()).chain(reader);
                let name = self.scanner.stream_name(format, data);
                self.archive(format, &mut chained, depth, name);
            }
            Some(_) => {
                self.issue(None, IssueKind::Skip(SkipReason::ArchiveTooDeep));
                self.plain(reader, head);
            }
            None => self.plain(reader, head),
        }
    }

    /// Reads the first chunk of `reader` into the buffer. A read error there does not lose the
    /// bytes before it: they are looked at and scanned, and the returned rest of the reader
    /// gives the error when they are used up, so it is reported once, where it happened.
    fn read_head<'r>(&mut self, reader: &'r mut dyn Read) -> (Head, Rest<'r>) {
        let mut fused = Fused {
            inner: reader,
            error: None,
        };
        let head = source::read_head(
            &mut fused,
            self.scanner.detector,
            self.buf,
            self.scanner.chunk_size_bytes,
        )
        .unwrap_or(Head {
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
        let scanner = self.scanner;
        let scan = source::scan_stream_after(
            &mut fused,
            scanner.detector,
            self.buf,
            scanner.chunk_size_bytes,
            Some(head),
        );
        match scan {
            Ok(scan) => {
                for mut hit in scan.hits {
                    hit.members.clone_from(&self.chain);
                    hit.member_binary = scan.binary;
                    self.out.hits.push(hit);
                }
            }
            Err(e) => fused.error = Some(e),
        }
        if let Some(e) = fused.error {
            self.fail(None, &e);
        }
    }
}

/// One container being walked: members are scanned one level deeper than it.
struct Container<'n, 's, 'o> {
    nest: &'n mut Nest<'s, 'o>,
    depth: u32,
    members: u64,
    /// Whether member reads inflate (zip members) and count against the budget; a tar's
    /// members are counted by the stream around the tar, if any.
    metered: bool,
    /// A tar's image description, gathered from its members (a tar may be a container image).
    index: Option<image::Index>,
}

impl unpack::Visit for Container<'_, '_, '_> {
    fn member(
        &mut self,
        raw_name: &[u8],
        size: Option<u64>,
        reader: &mut dyn Read,
    ) -> ControlFlow<()> {
        let nest = &mut *self.nest;
        let name = nest.name(raw_name);
        if size.is_some_and(|s| nest.scanner.is_too_large(s)) {
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
            Issue::Error(e) => self.nest.fail(name, &e),
        }
    }

    fn has_room(&mut self) -> bool {
        self.members += 1;
        self.members <= self.nest.scanner.archives.max_members
    }
}

//! The shared road from bytes to findings (#12, #23). Every input the scanner reads (a file of
//! a tree, standard input, a git blob in any scope, and the members of archives inside them)
//! goes through `Scanner::scan_input`: the size limit, the read, archive unpacking (#13,
//! `unpack::unpack`, which calls back through `unpack::Scan` for each member), the scan itself
//! (prefilter, chunked detection, decoding, binary sniff) and counting into a `Tally`;
//! `Scanner::finding` builds each finding with its `Origin` and `Attribution` at once. The
//! walker and the git scopes only decide what to read, where it came from and which commit
//! added it. Never prints.

use std::convert::Infallible;
use std::io::{self, Read, Seek};

use crate::config::ArchiveLimits;
use crate::decode::{packed, Encoding};
use crate::detect::Detector;
pub use crate::finding::Attribution;
use crate::finding::{Finding, Seen};
use crate::origin::{display_bytes, Origin};
use crate::source::{
    self, Excludes, FileError, Head, Hit, IssueKind, MemberIssue, Skip, SkipReason, StreamScan,
};
use crate::unpack::{self, Format, Input};

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
        let data = buf.get(..head.filled).unwrap_or_default();
        // #22: a stream that ended within its first chunk is held whole: its end is looked at.
        let format = match head.eof {
            true => self.whole_format(data, depth),
            false => self.archive_format(data, depth),
        };
        self.scan_after_head(reader, head, depth, format, buf)
    }

    /// Scans the first `len` bytes of `file` (a file of a tree, an input itself) like
    /// `scan_reader`, except that a zip is read in place with seeks instead of being buffered,
    /// whatever its size. `origin` names the file for the one format chosen by name (#22:
    /// brotli, `unpack::by_name`), asked only when the first bytes are no known format.
    pub fn scan_file(
        &self,
        mut file: std::fs::File,
        len: u64,
        origin: &dyn Fn() -> Origin,
        buf: &mut Vec<u8>,
    ) -> io::Result<StreamScan> {
        let head = source::read_head(
            &mut (&mut file).take(len),
            self.detector,
            buf,
            self.chunk_size_bytes,
        )?;
        let data = buf.get(..head.filled).unwrap_or_default();
        let format = match self.archive_format(data, TOP_DEPTH) {
            Some(f) => Some(f),
            None => match self.locate_in_file(&mut file, len, data, head)? {
                Some(f) => Some(f),
                None => self.named_format(data, TOP_DEPTH, origin),
            },
        };
        let Some(format) = format.filter(|f| f.is_seekable()) else {
            // Read front to back: the rest is read on from where the head ended.
            let read = head.filled as u64;
            let rest = file.take(len.saturating_sub(read));
            return self.scan_after_head(rest, head, TOP_DEPTH, format, buf);
        };
        let mut file = io::BufReader::new(file);
        let unpacked = unpack::unpack(
            self,
            &self.archives,
            format,
            Input::Seekable(&mut file),
            TOP_DEPTH,
            buf,
        );
        Ok(StreamScan::unpacked(unpacked, len, TOP_DEPTH))
    }

    /// #22: the archive found from the end of `file` (`len` bytes, its first chunk `data` read
    /// as `head`), when it starts like a stub (`unpack::may_have_tail`): one seek and one read
    /// of its last `unpack::TAIL_BYTES`, then back to where the head ended.
    fn locate_in_file(
        &self,
        file: &mut std::fs::File,
        len: u64,
        data: &[u8],
        head: Head,
    ) -> io::Result<Option<Format>> {
        if !self.unpacks_at(TOP_DEPTH) || !unpack::may_have_tail(data) {
            return Ok(None);
        }
        if head.eof {
            return Ok(unpack::locate(data, data.len() as u64));
        }
        let tail_len = len.min(unpack::TAIL_BYTES as u64);
        let mut tail = Vec::new();
        file.seek(io::SeekFrom::Start(len - tail_len))?;
        (&mut *file).take(tail_len).read_to_end(&mut tail)?;
        file.seek(io::SeekFrom::Start(head.filled as u64))?;
        Ok(unpack::locate(&tail, len - tail_len + tail.len() as u64))
    }

    /// `scan_reader` for a reader whose first chunk `head` is already in `buf` and is in
    /// `format`, if any.
    fn scan_after_head<R: Read>(
        &self,
        reader: R,
        head: Head,
        depth: u32,
        format: Option<Format>,
        buf: &mut Vec<u8>,
    ) -> io::Result<StreamScan> {
        let data = buf.get(..head.filled).unwrap_or_default();
        let Some(format) = format else {
            let mut scan = source::scan_stream_after(
                reader,
                self.detector,
                buf,
                self.chunk_size_bytes,
                Some(head),
            )?;
            scan.depth = depth;
            self.unpack_runs(&mut scan, 0);
            return Ok(scan);
        };
        let head = data.to_vec();
        let mut counted = Counted {
            inner: io::Cursor::new(&head[..]).chain(reader),
            bytes: 0,
        };
        let input = Input::Stream {
            head: &head,
            reader: &mut counted,
        };
        let unpacked = unpack::unpack(self, &self.archives, format, input, depth, buf);
        Ok(StreamScan::unpacked(unpacked, counted.bytes, depth))
    }

    /// Scans `data` held in memory at nesting `depth`; data without any needle of the
    /// detector (and no archive) costs one `memmem` pass per needle. A zip is read in place.
    pub fn scan_bytes(&self, data: &[u8], depth: u32, buf: &mut Vec<u8>) -> StreamScan {
        if let Some(format) = self.whole_format(data, depth) {
            let unpacked = unpack::unpack_bytes(self, &self.archives, format, data, depth, buf);
            return StreamScan::unpacked(unpacked, data.len() as u64, depth);
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
        self.unpack_runs(&mut scan, 0);
        scan
    }

    /// The archive format `head` starts with, when archives at `depth` are unpacked.
    fn archive_format(&self, head: &[u8], depth: u32) -> Option<Format> {
        if !self.unpacks_at(depth) {
            return None;
        }
        unpack::sniff(head)
    }

    /// #22: the format of a blob whose first bytes `head` are no known format, chosen by the
    /// name `origin` gives (`unpack::by_name`: brotli). Text pays nothing: the name is asked
    /// for only when a byte of the first 16 is not printable ASCII.
    fn named_format(&self, head: &[u8], depth: u32, origin: &dyn Fn() -> Origin) -> Option<Format> {
        let texty = |b: &u8| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e);
        if depth >= self.archives.max_depth || head.iter().take(16).all(texty) {
            return None;
        }
        unpack::by_name(origin().outer_display(), head)
    }

    /// Whether archives at nesting `depth` are unpacked.
    fn unpacks_at(&self, depth: u32) -> bool {
        depth < self.archives.max_depth
    }

    /// The archive format blob `data` (held whole) is, from its first bytes or (#22) from its
    /// end, when archives at `depth` are unpacked.
    fn whole_format(&self, data: &[u8], depth: u32) -> Option<Format> {
        self.archive_format(data, depth).or_else(|| {
            (self.unpacks_at(depth) && unpack::may_have_tail(data))
                .then(|| unpack::locate(data, data.len() as u64))
                .flatten()
        })
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
                unpack::content_name(&previous)
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
            encoding: c.encoding.clone(),
        };
        let origin = Scanner::member_origin(origin, &hit.members);
        Finding::new(
            c.rule_id.clone(),
            origin,
            seen,
            attribution.clone(),
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
                false => Some(self.scan_file(file, len, origin, buf)),
            },
            Bytes::Memory(data) => self.scan_blob(data, buf).map(Ok),
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

    /// The in-memory part of [`Scanner::scan_input`] for a scope that reads a blob before it
    /// knows where to report it: `--history` reads each blob once, by id, in its pack pass,
    /// and records the count, the skip and the archive members left out at the blob's first
    /// path once the tree walk has named it. Applies `--max-filesize` (`None`: left out) and
    /// scans (unpacking, decoding) at the top nesting depth; records nothing.
    pub fn scan_blob(&self, data: &[u8], buf: &mut Vec<u8>) -> Option<StreamScan> {
        if self.is_too_large(data.len() as u64) {
            return None;
        }
        Some(self.scan_bytes(data, TOP_DEPTH, buf))
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

/// The scanner as the unpackers see it (#23): they call back into it to read and scan each
/// member, so `unpack` never imports `blob`.
impl unpack::Scan for Scanner<'_> {
    fn read_head(&self, reader: &mut dyn Read, buf: &mut Vec<u8>) -> io::Result<Head> {
        source::read_head(reader, self.detector, buf, self.chunk_size_bytes)
    }

    fn scan_plain(
        &self,
        reader: &mut dyn Read,
        buf: &mut Vec<u8>,
        head: Head,
    ) -> io::Result<unpack::Plain> {
        self.scan_plain_at(reader, buf, head, 0)
    }

    fn redact(&self, text: &str) -> String {
        self.detector.redact(text).into_owned()
    }

    fn display_name(&self, raw: &[u8]) -> String {
        self.detector.redact(&display_bytes(raw)).into_owned()
    }

    fn is_too_large(&self, size: u64) -> bool {
        Scanner::is_too_large(self, size)
    }
}

/// #22: base64 runs of compressed content inside base64 runs of compressed content are
/// unpacked this many levels deep; deeper ones are reported too deep.
const MAX_RUN_LEVELS: u32 = 2;

impl Scanner<'_> {
    /// `Scan::scan_plain` for content `level` base64 runs deep (#22).
    fn scan_plain_at(
        &self,
        reader: &mut dyn Read,
        buf: &mut Vec<u8>,
        head: Head,
        level: u32,
    ) -> io::Result<unpack::Plain> {
        let mut scan = source::scan_stream_after(
            reader,
            self.detector,
            buf,
            self.chunk_size_bytes,
            Some(head),
        )?;
        self.unpack_runs(&mut scan, level);
        Ok((scan.hits, scan.binary, scan.issues))
    }

    /// #22: unpacks the base64 runs of `scan` (content `level` runs deep) that decode to a
    /// compressed stream or an archive, and adds their keys and issues to it. A key is named by
    /// the members inside (line and column in the innermost); the content of a compressed
    /// stream has no member of its own: the stream's name joins the encoding chain
    /// (`["base64", "base64", "gzip"]`) and a key there is placed at the run's first character.
    fn unpack_runs(&self, scan: &mut StreamScan, level: u32) {
        if scan.packed.is_empty() || self.archives.max_depth == 0 {
            return;
        }
        for run in std::mem::take(&mut scan.packed) {
            let format = unpack::sniff(&run.bytes);
            let Some(format) = format.filter(|_| packed::is_plausible(&run.bytes)) else {
                continue;
            };
            if level >= MAX_RUN_LEVELS {
                scan.issues.push(MemberIssue {
                    members: Vec::new(),
                    kind: IssueKind::Skip(SkipReason::ArchiveTooDeep),
                });
                continue;
            }
            let inner = Level {
                scanner: self,
                level: level + 1,
            };
            let mut buf = Vec::new();
            let unpacked = unpack::unpack_bytes(
                &inner,
                &self.archives,
                format,
                &run.bytes,
                TOP_DEPTH,
                &mut buf,
            );
            let stream = format.is_stream();
            // The unnamed content of the stream is no member.
            let unnamed = |members: &mut Vec<String>| {
                if stream && members.first().is_some_and(String::is_empty) {
                    members.remove(0);
                }
            };
            for mut hit in unpacked.hits {
                unnamed(&mut hit.members);
                let mut encoding = run.encoding();
                if stream {
                    encoding.push(Encoding::Compressed(format.name));
                }
                encoding.append(&mut hit.candidate.encoding);
                hit.candidate.encoding = encoding;
                if hit.members.is_empty() {
                    hit.line = run.line;
                    hit.column = run.column;
                    hit.candidate.offset = run.start;
                    hit.candidate.span_len = usize::try_from(run.end - run.start).unwrap_or(0);
                }
                scan.hits.push(hit);
            }
            for mut issue in unpacked.issues {
                unnamed(&mut issue.members);
                scan.issues.push(issue);
            }
        }
    }
}

/// The scanner for content inside a base64 run of compressed content (#22), `level` runs deep.
struct Level<'s, 'a> {
    scanner: &'s Scanner<'a>,
    level: u32,
}

impl unpack::Scan for Level<'_, '_> {
    fn read_head(&self, reader: &mut dyn Read, buf: &mut Vec<u8>) -> io::Result<Head> {
        unpack::Scan::read_head(self.scanner, reader, buf)
    }

    fn scan_plain(
        &self,
        reader: &mut dyn Read,
        buf: &mut Vec<u8>,
        head: Head,
    ) -> io::Result<unpack::Plain> {
        self.scanner.scan_plain_at(reader, buf, head, self.level)
    }

    fn redact(&self, text: &str) -> String {
        unpack::Scan::redact(self.scanner, text)
    }

    fn display_name(&self, raw: &[u8]) -> String {
        unpack::Scan::display_name(self.scanner, raw)
    }

    fn is_too_large(&self, size: u64) -> bool {
        self.scanner.is_too_large(size)
    }
}

//! The shared road from bytes to findings (#12). Every input the scanner reads (a file of a
//! tree, standard input, a git blob in any scope, and the members of archives inside them;
//! decoded regions to come) goes through `Scanner`: the size limit, archive unpacking (#13,
//! `unpack::unpack`, which calls back through `unpack::Scan` for each member), the scan itself
//! (prefilter, chunked detection, binary sniff), finding construction with its `Origin`, and
//! counting into a `Tally`. The walker and the git scopes only decide what to read and where it
//! came from. Never prints.

use std::io::{self, Read};

use crate::config::ArchiveLimits;
use crate::detect::Detector;
use crate::finding::{Finding, Seen};
use crate::origin::{display_bytes, Origin};
use crate::source::{
    self, Excludes, FileError, Head, Hit, IssueKind, MemberIssue, Skip, StreamScan,
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

impl Scanner<'_> {
    /// Whether `--max-filesize` leaves out an input of `size` bytes: the one place the limit
    /// is checked, for files, git blobs and (later) archive members.
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
        let Some(format) = self
            .archive_format(data, TOP_DEPTH)
            .filter(|f| f.is_seekable())
        else {
            // Read front to back: the rest is read on from where the head ended.
            let read = head.filled as u64;
            return self.scan_after_head(file.take(len.saturating_sub(read)), head, TOP_DEPTH, buf);
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
        if let Some(format) = self.archive_format(data, depth) {
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
        scan
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
    /// appended to it) that looks binary or not: the one place findings are made from hits.
    pub fn finding(&self, origin: &Origin, binary: bool, hit: &Hit) -> Finding {
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
        let mut finding = Finding::new(c.rule_id.to_string(), origin, seen);
        finding.deleted_in_layer.clone_from(&hit.deleted_in_layer);
        finding
    }

    /// Adds the outcome of scanning one input to `tally`: counts, findings, or the error.
    /// `origin` is only computed when something is reported.
    pub fn record(
        &self,
        tally: &mut Tally,
        origin: impl FnOnce() -> Origin,
        result: io::Result<StreamScan>,
    ) {
        match result {
            Ok(scan) => {
                tally.count(scan.bytes);
                if scan.hits.is_empty() && scan.issues.is_empty() {
                    return;
                }
                let origin = origin();
                for hit in &scan.hits {
                    tally.findings.push(self.finding(&origin, scan.binary, hit));
                }
                self.record_issues(tally, &origin, &scan.issues);
            }
            Err(e) => tally
                .errors
                .push(FileError::new(Some(origin()), source::io_message(&e))),
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
    ) -> io::Result<(Vec<Hit>, bool)> {
        let scan = source::scan_stream_after(
            reader,
            self.detector,
            buf,
            self.chunk_size_bytes,
            Some(head),
        )?;
        Ok((scan.hits, scan.binary))
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

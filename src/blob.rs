//! The shared road from bytes to findings (#12). Every input the scanner reads (a file of a
//! tree, standard input, a git blob in any scope; archive members and decoded regions to come)
//! goes through `Scanner`: the size limit, the scan itself (prefilter, chunked detection,
//! binary sniff), finding construction with its `Origin`, and counting into a `Tally`. The
//! walker and the git scopes only decide what to read and where it came from. Never prints.

use std::io::{self, Read};

use crate::detect::Detector;
use crate::finding::{Finding, Seen};
use crate::origin::Origin;
use crate::source::{self, Excludes, FileError, Hit, Skip, StreamScan};

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

    /// Scans `reader` to its end at nesting `depth`, reusing `buf`.
    pub fn scan_reader<R: Read>(
        &self,
        reader: R,
        depth: u32,
        buf: &mut Vec<u8>,
    ) -> io::Result<StreamScan> {
        let mut scan = source::scan_stream(reader, self.detector, buf, self.chunk_size_bytes)?;
        scan.depth = depth;
        Ok(scan)
    }

    /// Scans `data` held in memory at nesting `depth`; data without any needle of the
    /// detector costs one `memmem` pass per needle.
    pub fn scan_bytes(&self, data: &[u8], depth: u32, buf: &mut Vec<u8>) -> StreamScan {
        if !self.detector.has_needle(data) {
            return StreamScan {
                bytes: data.len() as u64,
                depth,
                ..StreamScan::default()
            };
        }
        self.scan_reader(data, depth, buf)
            .expect("reading a byte slice cannot fail")
    }

    /// The finding for `hit`, found in an input of origin `origin` (the hit's members are
    /// appended to it) that looks binary or not: the one place findings are made from hits.
    pub fn finding(&self, origin: &Origin, binary: bool, hit: &Hit) -> Finding {
        let c = &hit.candidate;
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
            encoding: Vec::new(),
        };
        let origin = origin.clone().with_members(&hit.members);
        Finding::new(c.rule_id.to_string(), origin, seen)
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
                if scan.hits.is_empty() {
                    return;
                }
                let origin = origin();
                for hit in &scan.hits {
                    tally.findings.push(self.finding(&origin, scan.binary, hit));
                }
            }
            Err(e) => tally
                .errors
                .push(FileError::new(Some(origin()), source::io_message(&e))),
        }
    }
}

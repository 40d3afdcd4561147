//! Sources: turning paths and readers into scanned bytes. Owns opening files without blocking,
//! `--exclude` globs, skip reasons and file errors, chunked reads that overlap by more than the
//! longest match, and line/column arithmetic. Never prints; skip and error decisions are
//! returned as values.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::decode::packed::{Run, Runs};
use crate::decode::Encoding;
use crate::detect::allow::LineAllow;
use crate::detect::Detector;
/// Moved to `detect` (#23); re-exported for the scopes that name it here.
pub use crate::detect::Hit;
use crate::origin::display_path;
/// Moved to `skip` (#23), below the unpackers that report them; re-exported for the scopes.
pub use crate::skip::{FileError, Skip, SkipReason};
use crate::unpack::Unpacked;
/// Moved to `unpack` (#23); re-exported for the scopes that name them here.
pub use crate::unpack::{Head, IssueKind, MemberIssue};

/// How many leading bytes are looked at to call a file binary (a NUL among them).
pub const BINARY_SNIFF_BYTES: usize = 8192;

/// An I/O error in words, without the path (reports carry the path separately).
pub fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::InvalidData => "cannot read: invalid data".to_string(),
        _ => format!("cannot read: {e}"),
    }
}

/// An `--exclude` glob that does not parse.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid --exclude glob `{glob}`: {message}")]
pub struct ExcludeError {
    /// The glob as given.
    pub glob: String,
    /// What is wrong.
    pub message: String,
}

/// `--exclude` globs: a glob without `/` matches any path component's name; one with `/`
/// matches the path relative to the scanned root (or the repository root, for git scopes).
#[derive(Debug)]
pub struct Excludes {
    names: GlobSet,
    paths: GlobSet,
    any: bool,
}

impl Excludes {
    /// Compiles `globs`.
    pub fn new(globs: &[String]) -> Result<Excludes, ExcludeError> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for glob in globs {
            let pattern = glob.trim_start_matches("./").trim_start_matches('/');
            let pattern = pattern.trim_end_matches('/');
            let compiled = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| ExcludeError {
                    glob: glob.clone(),
                    message: e.kind().to_string(),
                })?;
            if pattern.contains('/') {
                paths.add(compiled);
            } else {
                names.add(compiled);
            }
        }
        let build = |b: GlobSetBuilder| {
            b.build().map_err(|e| ExcludeError {
                glob: globs.join(" "),
                message: e.to_string(),
            })
        };
        Ok(Excludes {
            names: build(names)?,
            paths: build(paths)?,
            any: !globs.is_empty(),
        })
    }

    /// Whether the walker's entry at `path`, `depth` levels below its root, is excluded (its
    /// folders were checked on the way down).
    pub fn is_excluded(&self, path: &Path, depth: usize) -> bool {
        if !self.any {
            return false;
        }
        if path.file_name().is_some_and(|n| self.names.is_match(n)) {
            return true;
        }
        if self.paths.is_empty() {
            return false;
        }
        let rel: PathBuf = if depth == 0 {
            PathBuf::from(display_path(path))
        } else {
            let comps: Vec<_> = path.components().collect();
            comps
                .iter()
                .skip(comps.len().saturating_sub(depth))
                .collect()
        };
        self.paths.is_match(rel)
    }

    /// Whether `rel`, a `/`-separated path below a root that nothing walked (a repository
    /// path), is excluded: it or any folder it is in, as the walker would have decided.
    pub fn is_excluded_relative(&self, rel: &str) -> bool {
        if !self.any {
            return false;
        }
        let mut end = 0;
        for (depth, part) in rel.split('/').enumerate() {
            end += part.len();
            let prefix = rel.get(..end).unwrap_or(rel);
            if self.is_excluded(Path::new(prefix), depth + 1) {
                return true;
            }
            end += 1;
        }
        false
    }
}

/// Opens `path` for reading without blocking (a FIFO opens at once) and returns its metadata,
/// taken from the open handle so that it describes what will be read.
pub fn open_file(path: &Path) -> io::Result<(File, Metadata)> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

/// The skip reason for a file type that is not a regular file or directory.
pub fn skip_reason_for(ft: &std::fs::FileType) -> SkipReason {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return SkipReason::Fifo;
        }
        if ft.is_socket() {
            return SkipReason::Socket;
        }
        if ft.is_block_device() || ft.is_char_device() {
            return SkipReason::Device;
        }
    }
    if ft.is_symlink() {
        return SkipReason::Symlink;
    }
    SkipReason::NotAFile
}

/// The outcome of scanning one stream.
#[derive(Debug, Clone, Default)]
pub struct StreamScan {
    /// Bytes read.
    pub bytes: u64,
    /// Whether the first `BINARY_SNIFF_BYTES` held a NUL byte.
    pub binary: bool,
    /// Keys found, in stream order.
    pub hits: Vec<Hit>,
    /// Nesting depth of the stream: `blob::TOP_DEPTH` for inputs, one more per archive level.
    pub depth: u32,
    /// Members of archives inside the stream that were skipped or could not be read (#13).
    pub issues: Vec<MemberIssue>,
    /// Base64 runs in the stream that may hold a compressed stream or an archive, decoded
    /// (#22): the scanner unpacks them (`blob::Scanner`).
    pub packed: Vec<Run>,
}

impl StreamScan {
    /// The outcome of a blob of `bytes` bytes at nesting `depth` that was an archive, from what
    /// unpacking it gave; an archive counts as binary.
    pub fn unpacked(unpacked: Unpacked, bytes: u64, depth: u32) -> StreamScan {
        StreamScan {
            bytes,
            binary: true,
            hits: unpacked.hits,
            depth,
            issues: unpacked.issues,
            packed: Vec::new(),
        }
    }
}

/// Scans `reader` to its end in chunks of `chunk_size` bytes (at least four overlaps), reusing
/// `buf`. Consecutive chunks overlap by `detector.overlap_bytes()` plus context, so a key across
/// a chunk boundary is found exactly once; memory stays at one chunk whatever the input size.
pub fn scan_stream<R: Read>(
    reader: R,
    detector: &Detector,
    buf: &mut Vec<u8>,
    chunk_size: usize,
) -> io::Result<StreamScan> {
    scan_stream_after(reader, detector, buf, chunk_size, None)
}

/// The size of the buffer `scan_stream` reads chunks of `chunk_size` into.
pub fn chunk_capacity(detector: &Detector, chunk_size: usize) -> usize {
    chunk_size.max(4 * (detector.overlap_bytes() + detector.context_bytes()))
}

/// Reads the first chunk of `reader` into `buf` (sized by `chunk_capacity`): returns how many
/// bytes it holds and whether the reader ended. Lets a caller look at the first bytes (#13:
/// archive magic) and then hand them on to `scan_stream_after` without reading twice.
pub fn read_head<R: Read + ?Sized>(
    reader: &mut R,
    detector: &Detector,
    buf: &mut Vec<u8>,
    chunk_size: usize,
) -> io::Result<Head> {
    let cap = chunk_capacity(detector, chunk_size);
    if buf.len() != cap {
        buf.resize(cap, 0);
    }
    let mut filled = 0;
    let eof = fill(reader, buf, &mut filled)?;
    Ok(Head { filled, eof })
}

/// `scan_stream`, continuing after `head` (the first chunk, already in `buf`) when given.
pub fn scan_stream_after<R: Read>(
    mut reader: R,
    detector: &Detector,
    buf: &mut Vec<u8>,
    chunk_size: usize,
    head: Option<Head>,
) -> io::Result<StreamScan> {
    let overlap = detector.overlap_bytes();
    let ctx = detector.context_bytes();
    let cap = chunk_capacity(detector, chunk_size);
    if buf.len() != cap {
        buf.resize(cap, 0);
    }
    let mut out = StreamScan::default();
    let mut filled = head.map_or(0, |h| h.filled);
    let mut head_eof = head.map(|h| h.eof);
    let mut base = 0u64;
    let mut accept_from = 0usize;
    let mut tracker = LineTracker::default();
    let mut candidates = Vec::new();
    let mut allow = LineAllow::default();
    let mut first = true;
    // Absolute offset up to which bytes were looked at for a NUL: a chunk smaller than
    // `BINARY_SNIFF_BYTES` must not change the answer (#8, found by tests/props.rs).
    let mut sniffed = 0u64;
    let mut runs = Runs::default();
    let mut run_starts = Vec::new();
    loop {
        // A head that is not the end may be short (its read failed): fill the rest first.
        let eof = match head_eof.take() {
            Some(true) => true,
            _ => fill(&mut reader, buf, &mut filled)?,
        };
        let chunk = buf.get(..filled).unwrap_or_default();
        if first {
            first = false;
            tracker.bom = chunk.starts_with(b"\xEF\xBB\xBF");
            tracker.bom16 = chunk.starts_with(b"\xFF\xFE") || chunk.starts_with(b"\xFE\xFF");
        }
        let sniff_end = BINARY_SNIFF_BYTES as u64;
        if sniffed < sniff_end && !out.binary {
            let from = usize::try_from(sniffed - base).unwrap_or(usize::MAX);
            let to = usize::try_from(sniff_end - base)
                .unwrap_or(usize::MAX)
                .min(filled);
            let seg = chunk.get(from..to).unwrap_or_default();
            out.binary = memchr::memchr(0, seg).is_some();
            sniffed = base + to as u64;
        }
        let accept_to = if eof { filled } else { filled - overlap };
        detector.scan_chunk_runs(
            chunk,
            base,
            accept_from..accept_to,
            &mut candidates,
            &mut run_starts,
        );
        if !run_starts.is_empty() || runs.is_active() {
            // #22: runs are placed by a copy of the tracker (it is behind every start here).
            let mut at = tracker.clone();
            runs.feed(chunk, base, &run_starts, eof, &mut |start| {
                at.advance_to(chunk, base, start);
                (at.line, at.column())
            });
            run_starts.clear();
        }
        allow.resolve_open(chunk, base, eof, &mut out.hits);
        let mut last_newline = None;
        for mut candidate in candidates.drain(..) {
            tracker.advance_to(chunk, base, candidate.offset);
            let last = *last_newline.get_or_insert_with(|| memchr::memrchr(b'\n', chunk));
            let line = (tracker.line_start, tracker.line, last);
            allow.place(chunk, base, line, !eof, &mut candidate, out.hits.len());
            // #22: in UTF-16 text, columns count its characters.
            let column = match candidate.encoding.first() {
                Some(Encoding::Utf16Le) => tracker.utf16_column(false),
                Some(Encoding::Utf16Be) => tracker.utf16_column(true),
                _ => tracker.column(),
            };
            out.hits.push(Hit {
                line: tracker.line,
                column,
                candidate,
                members: Vec::new(),
                member_binary: false,
                deleted_in_layer: None,
            });
        }
        if eof {
            allow.finish(&mut out.hits);
            out.packed = std::mem::take(&mut runs.finished);
            out.bytes = base + filled as u64;
            return Ok(out);
        }
        // Keep the overlap plus the context before it; the next chunk accepts from `ctx`.
        let keep = accept_to - ctx;
        tracker.advance_to(chunk, base, base + keep as u64);
        allow.before_drop(chunk, base, keep, (tracker.line_start, tracker.line));
        buf.copy_within(keep..filled, 0);
        filled -= keep;
        base += keep as u64;
        accept_from = ctx;
    }
}

/// Reads until `buf` is full or the reader ends; returns whether it ended.
fn fill<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8], filled: &mut usize) -> io::Result<bool> {
    while *filled < buf.len() {
        let dst = buf.get_mut(*filled..).unwrap_or_default();
        match reader.read(dst) {
            Ok(0) => return Ok(true),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Running line and column state, advanced lazily (only to where a key is, or past bytes about
/// to be dropped), so files without keys cost nothing here.
#[derive(Debug, Clone)]
struct LineTracker {
    /// Absolute offset the state describes.
    pos: u64,
    line: u64,
    line_start: u64,
    /// Characters (UTF-8 lead bytes) from `line_start` to `pos`.
    chars: u64,
    /// Whether the line up to `pos` is valid UTF-8 so far.
    valid: bool,
    /// An incomplete UTF-8 sequence at `pos`, completed by later bytes.
    pending: Vec<u8>,
    bom: bool,
    /// Whether the input starts with a UTF-16 byte-order mark (#22).
    bom16: bool,
    /// Bytes from `line_start` to `pos` that are the high byte of a UTF-16 low surrogate
    /// (`DC`–`DF`), at even and at odd input offsets (#22: a character outside the BMP is one
    /// column).
    low_surrogates: [u64; 2],
    /// The byte at `line_start`, once passed.
    line_first: Option<u8>,
}

impl Default for LineTracker {
    fn default() -> Self {
        LineTracker {
            pos: 0,
            line: 1,
            line_start: 0,
            chars: 0,
            valid: true,
            pending: Vec::new(),
            bom: false,
            bom16: false,
            low_surrogates: [0; 2],
            line_first: None,
        }
    }
}

impl LineTracker {
    /// Advances to absolute offset `target`; `chunk` starts at absolute `base` and holds it.
    fn advance_to(&mut self, chunk: &[u8], base: u64, target: u64) {
        if target <= self.pos {
            return;
        }
        let from = usize::try_from(self.pos - base).unwrap_or(usize::MAX);
        let to = usize::try_from(target - base).unwrap_or(usize::MAX);
        let seg = chunk.get(from..to).unwrap_or_default();
        let (tail, tail_at) = match memchr::memrchr(b'\n', seg) {
            Some(i) => {
                self.line += memchr::memchr_iter(b'\n', seg).count() as u64;
                self.line_start = self.pos + i as u64 + 1;
                self.chars = 0;
                self.valid = true;
                self.pending.clear();
                self.low_surrogates = [0; 2];
                self.line_first = None;
                (seg.get(i + 1..).unwrap_or_default(), self.line_start)
            }
            None => (seg, self.pos),
        };
        self.chars += tail.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
        if tail_at == self.line_start {
            if let Some(&b) = tail.first() {
                self.line_first = Some(b);
            }
        }
        // A counting pass first (vectorised): such bytes are rare outside UTF-16 text.
        if tail.iter().filter(|&&b| b & 0xFC == 0xDC).count() > 0 {
            for (j, b) in tail.iter().enumerate() {
                if b & 0xFC == 0xDC {
                    self.low_surrogates[usize::from((tail_at + j as u64) % 2 == 1)] += 1;
                }
            }
        }
        if self.valid {
            let joined;
            let data = if self.pending.is_empty() {
                tail
            } else {
                joined = [self.pending.as_slice(), tail].concat();
                joined.as_slice()
            };
            match std::str::from_utf8(data) {
                Ok(_) => self.pending.clear(),
                Err(e) if e.error_len().is_none() => {
                    self.pending = data.get(e.valid_up_to()..).unwrap_or_default().to_vec();
                }
                Err(_) => {
                    self.valid = false;
                    self.pending.clear();
                }
            }
        }
        self.pos = target;
    }

    /// The column at `pos`, the first byte of a UTF-16 code unit of text in that byte order
    /// (`big`): code units from the line's first one, a surrogate pair and the byte-order mark
    /// at the start of the input not counted (#22). The line starts after the `\n` byte, which
    /// is the second byte of its unit in UTF-16LE.
    fn utf16_column(&self, big: bool) -> u64 {
        let unit_start = self.line_start + (self.pos - self.line_start) % 2;
        let units = (self.pos - unit_start) / 2;
        // The high byte of a unit is its second in UTF-16LE, its first in UTF-16BE.
        let high_parity = (unit_start + u64::from(!big)) % 2;
        let mut pairs = self.low_surrogates[usize::from(high_parity == 1)];
        // The byte before the first unit (the `\n` unit's second) is no unit's.
        if unit_start != self.line_start
            && self.line_start % 2 == high_parity
            && self.line_first.is_some_and(|b| (0xDC..=0xDF).contains(&b))
        {
            pairs = pairs.saturating_sub(1);
        }
        let bom = u64::from(self.bom16 && unit_start == 0);
        units.saturating_sub(pairs + bom) + 1
    }

    fn column(&self) -> u64 {
        let on_bom_line = self.bom && self.line_start == 0;
        if self.valid && self.pending.is_empty() {
            self.chars.saturating_sub(u64::from(on_bom_line)) + 1
        } else {
            (self.pos - self.line_start).saturating_sub(if on_bom_line { 3 } else { 0 }) + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::allow;
    use crate::rules::RuleSet;

    const KEY: &str = "leadey_sk_live_epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt";

    fn detector() -> Detector {
        Detector::new(&RuleSet::builtin().expect("built-in rules compile"))
    }

    fn scan(bytes: &[u8], chunk: usize) -> StreamScan {
        let mut buf = Vec::new();
        scan_stream(bytes, &detector(), &mut buf, chunk).unwrap()
    }

    #[test]
    fn line_and_column_count_characters_on_utf8_lines() {
        let text = format!("one\nprénom = {KEY}\n");
        let s = scan(text.as_bytes(), 1 << 16);
        assert_eq!((s.hits[0].line, s.hits[0].column), (2, 10));
    }

    #[test]
    fn column_counts_bytes_on_invalid_utf8_lines() {
        let mut text = b"pr\xE9nom = ".to_vec(); // Latin-1 é
        text.extend_from_slice(KEY.as_bytes());
        let s = scan(&text, 1 << 16);
        assert_eq!((s.hits[0].line, s.hits[0].column), (1, 10));
    }

    #[test]
    fn bom_is_not_a_column() {
        let text = format!("\u{FEFF}{KEY}");
        let s = scan(text.as_bytes(), 1 << 16);
        assert_eq!(s.hits[0].column, 1);
        assert_eq!(s.hits[0].candidate.offset, 3);
    }

    #[test]
    fn every_chunk_size_finds_each_key_once_at_the_same_place() {
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&"é-x ".repeat(i * 7 % 13));
            text.push_str(KEY);
            text.push_str(if i % 3 == 0 { "\r\n" } else { " " });
        }
        let whole = scan(text.as_bytes(), 1 << 20);
        assert_eq!(whole.hits.len(), 40);
        for chunk in [1, 300, 333, 511, 1000, 4097] {
            let s = scan(text.as_bytes(), chunk);
            let got: Vec<_> = s
                .hits
                .iter()
                .map(|h| (h.candidate.offset, h.line, h.column))
                .collect();
            let want: Vec<_> = whole
                .hits
                .iter()
                .map(|h| (h.candidate.offset, h.line, h.column))
                .collect();
            assert_eq!(got, want, "chunk size {chunk}");
            assert_eq!(s.bytes, text.len() as u64);
        }
    }

    /// The allow marker of each hit of `text`, scanned whole and at many chunk sizes, is `want`.
    fn assert_markers_at_every_chunk_size(text: &str, want: &[Option<&'static str>]) {
        let markers = |s: &StreamScan| -> Vec<Option<&'static str>> {
            s.hits.iter().map(|h| h.candidate.allow_marker).collect()
        };
        assert_eq!(markers(&scan(text.as_bytes(), 1 << 20)), want);
        for chunk in (800..1400).step_by(7).chain([1, 2048, 4097]) {
            assert_eq!(
                markers(&scan(text.as_bytes(), chunk)),
                want,
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn allow_markers_on_long_lines_are_found_at_every_chunk_size() {
        // #7: markers far before or after the key on its line, markers on the next line (which
        // must not count), several keys on one long line, lines of every length.
        let mut text = String::new();
        let mut want = Vec::new();
        for i in 0..12 {
            let pad = "x ".repeat(i * 170);
            let line = match i % 4 {
                0 => format!("# leadey-scan:allow {pad}{KEY}\n"),
                1 => format!("{KEY} {pad}// gitleaks:allow\n"),
                2 => format!("{pad}{KEY} {pad}\n# leadey-scan:allow\n"),
                _ => format!("{KEY} {pad} {KEY} pragma: allowlist secret {pad}{KEY}\n"),
            };
            let keys = if i % 4 == 3 { 3 } else { 1 };
            let marker = match i % 4 {
                0 => Some("leadey-scan:allow"),
                1 => Some("gitleaks:allow"),
                2 => None,
                _ => Some("pragma: allowlist secret"),
            };
            want.extend(std::iter::repeat_n(marker, keys));
            text.push_str(&line);
        }
        assert_markers_at_every_chunk_size(&text, &want);
    }

    #[test]
    fn nextline_markers_count_on_the_line_above_at_every_chunk_size() {
        // #16: detect-secrets' marker suppresses a key on the next line only: not on its own
        // line, not two lines down; a marker on the key's own line wins even when it lies in a
        // later chunk; lines above and key lines longer than a chunk.
        const NEXT: Option<&str> = Some(allow::NEXTLINE_MARKER);
        let mut text = String::new();
        let mut want = Vec::new();
        for i in 0..18 {
            let pad = "x ".repeat(i * 170);
            let (block, markers): (String, &[Option<&str>]) = match i % 6 {
                0 => (
                    format!("# pragma: allowlist nextline secret {pad}\n{pad}{KEY}\n"),
                    &[NEXT],
                ),
                1 => (
                    format!("{pad}# pragma: allowlist nextline secret\n{KEY} {pad}\n"),
                    &[NEXT],
                ),
                2 => (
                    format!("# pragma: allowlist nextline secret\n{pad}\n{KEY}\n"),
                    &[None],
                ),
                3 => (
                    format!("{KEY} # pragma: allowlist nextline secret\n{pad}{KEY}\n"),
                    &[None, NEXT],
                ),
                4 => (
                    format!("pragma: allowlist nextline secret\n{KEY} {pad} # leadey-scan:allow\n"),
                    &[Some("leadey-scan:allow")],
                ),
                _ => (
                    format!("{pad} pragma: allowlist nextline {pad}secret\n{KEY}\n"),
                    &[None],
                ),
            };
            text.push_str(&block);
            text.push_str("---\n");
            want.extend_from_slice(markers);
        }
        assert_markers_at_every_chunk_size(&text, &want);
    }

    #[test]
    fn a_nextline_marker_at_the_start_of_the_input_or_on_the_first_line_is_no_trap() {
        let one = format!("{KEY}\n");
        assert_eq!(
            scan(one.as_bytes(), 1 << 20).hits[0].candidate.allow_marker,
            None
        );
        let two = format!("\n# pragma: allowlist nextline secret\n{KEY}");
        let hits = scan(two.as_bytes(), 1 << 20).hits;
        assert_eq!(hits[0].candidate.allow_marker, Some(allow::NEXTLINE_MARKER));
        let crlf = format!("# pragma: allowlist nextline secret\r\n{KEY}\r\n");
        let hits = scan(crlf.as_bytes(), 1 << 20).hits;
        assert_eq!(hits[0].candidate.allow_marker, Some(allow::NEXTLINE_MARKER));
    }

    #[test]
    fn a_nul_within_the_sniff_window_makes_a_file_binary_at_any_chunk_size() {
        let mut bytes = vec![b'a'; BINARY_SNIFF_BYTES - 1];
        bytes.push(0);
        for chunk in [1, 1000, 4096, BINARY_SNIFF_BYTES, 1 << 20] {
            assert!(scan(&bytes, chunk).binary, "chunk {chunk}");
        }
        bytes.insert(0, b'a');
        for chunk in [1, 1000, 4096, BINARY_SNIFF_BYTES, 1 << 20] {
            assert!(!scan(&bytes, chunk).binary, "chunk {chunk}");
        }
    }
}

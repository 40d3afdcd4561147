//! Sources: turning paths and readers into scanned bytes. Owns opening files without blocking,
//! `--exclude` globs, skip reasons and file errors, chunked reads that overlap by more than the
//! longest match, and line/column arithmetic. Never prints; skip and error decisions are
//! returned as values.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::detect::{allow, Candidate, Detector};
use crate::origin::{display_path, Origin};

/// How many leading bytes are looked at to call a file binary (a NUL among them).
pub const BINARY_SNIFF_BYTES: usize = 8192;

/// A file left out on purpose, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skip {
    /// Display path (`Origin::display`).
    pub path: String,
    /// Where, structured (#12).
    pub origin: Origin,
    /// Why, as a stable lowercase word.
    pub reason: SkipReason,
}

impl Skip {
    /// `origin` left out for `reason`.
    pub fn new(origin: Origin, reason: SkipReason) -> Skip {
        Skip {
            path: origin.display(),
            origin,
            reason,
        }
    }
}

/// Why a path was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// A named pipe: reading could block forever.
    Fifo,
    /// A socket.
    Socket,
    /// A block or character device.
    Device,
    /// A symbolic link, not followed without `--follow`.
    Symlink,
    /// Larger than `--max-filesize`.
    TooLarge,
    /// Matched an `--exclude` glob.
    Excluded,
    /// Some other kind of file.
    NotAFile,
    /// An archive nested deeper than `--max-archive-depth` (#13): scanned as raw bytes.
    ArchiveTooDeep,
    /// `--max-archive-bytes` reached (#13): the rest of the archive was not read.
    ArchiveTooLarge,
    /// More members than an archive may have (#13): the rest were not read.
    TooManyMembers,
    /// An encrypted archive member (#13).
    Encrypted,
    /// A zip nested in another archive (or read from a stream) larger than the zip buffer (#13).
    ZipTooLarge,
}

impl SkipReason {
    /// Whether this is an archive member or archive part left unread (#13): warned about on
    /// stderr even without `--list-skipped`, since keys may hide there.
    pub fn is_archive_limit(self) -> bool {
        matches!(
            self,
            SkipReason::ArchiveTooDeep
                | SkipReason::ArchiveTooLarge
                | SkipReason::TooManyMembers
                | SkipReason::Encrypted
                | SkipReason::ZipTooLarge
        )
    }

    /// Whether the content was read as bytes but its structure not fully opened (#20): damaged,
    /// truncated, encrypted, over a limit, or an unsupported codec. Incomplete content is always
    /// listed in the report; `--fail-on-incomplete` (and `--release`) make it exit 2.
    pub fn is_incomplete(self) -> bool {
        self.is_archive_limit()
    }

    /// The user-facing explanation.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Fifo => "named pipe (fifo), not read",
            SkipReason::Socket => "socket, not read",
            SkipReason::Device => "device, not read",
            SkipReason::Symlink => "symbolic link, not followed (use --follow)",
            SkipReason::TooLarge => "larger than --max-filesize",
            SkipReason::Excluded => "matches an --exclude glob",
            SkipReason::NotAFile => "not a regular file",
            SkipReason::ArchiveTooDeep => {
                "archive nested deeper than --max-archive-depth: scanned as raw bytes, not unpacked"
            }
            SkipReason::ArchiveTooLarge => {
                "--max-archive-bytes of inflated data reached: the rest of the archive was not read"
            }
            SkipReason::TooManyMembers => {
                "archive has more members than the limit: the rest were not read"
            }
            SkipReason::Encrypted => "encrypted archive member, not read",
            SkipReason::ZipTooLarge => {
                "zip read from a stream or another archive is larger than the zip buffer limit: not unpacked"
            }
        }
    }
}

/// A path that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FileError {
    /// Display path (`Origin::display`; empty when the walker named no path).
    pub path: String,
    /// Where, structured (#12); `None` when the walker named no path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// What went wrong, without any bytes read from the file.
    pub message: String,
}

impl FileError {
    /// The error `message` about `origin` (`None`: an error the walker could not place).
    pub fn new(origin: Option<Origin>, message: String) -> FileError {
        FileError {
            path: origin.as_ref().map(Origin::display).unwrap_or_default(),
            origin,
            message,
        }
    }
}

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

/// A key found in a stream, with its line and column.
#[derive(Debug, Clone)]
pub struct Hit {
    /// What the detector found.
    pub candidate: Candidate,
    /// 1-based line.
    pub line: u64,
    /// 1-based column (characters on valid UTF-8, bytes otherwise).
    pub column: u64,
    /// The member chain below the scanned blob that holds the key, outermost first: empty for
    /// a key in the blob itself, which is every key until unpackers exist (#12, #13). Line and
    /// column are inside the innermost member.
    pub members: Vec<String>,
    /// Whether the innermost member looks binary (meaningful only when `members` is not empty;
    /// a key in the blob itself takes `StreamScan::binary`).
    pub member_binary: bool,
    /// Container images (#13): the later layer (its member name) whose whiteout deletes the
    /// file holding the key; the file still ships in its own layer.
    pub deleted_in_layer: Option<String>,
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
    /// Left out on purpose.
    Skip(SkipReason),
    /// Could not be read; the message holds no bytes of the member.
    Error(String),
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

/// The first chunk of a stream, already in the scan buffer (see `read_head`).
#[derive(Debug, Clone, Copy)]
pub struct Head {
    /// Bytes at the start of the buffer.
    pub filled: usize,
    /// Whether the stream ended within them.
    pub eof: bool,
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
    // #16: hits with a next-line marker on the line above, applied at the end: a marker on the
    // key's own line (maybe in a later chunk) wins, so the report is the same at any chunk size.
    let mut above = Vec::new();
    let mut first = true;
    // Absolute offset up to which bytes were looked at for a NUL: a chunk smaller than
    // `BINARY_SNIFF_BYTES` must not change the answer (#8, found by tests/props.rs).
    let mut sniffed = 0u64;
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
        detector.scan_chunk(chunk, base, accept_from..accept_to, &mut candidates);
        allow.resolve_open(chunk, base, eof, &mut out.hits);
        let mut last_newline = None;
        for mut candidate in candidates.drain(..) {
            tracker.advance_to(chunk, base, candidate.offset);
            let last = *last_newline.get_or_insert_with(|| memchr::memrchr(b'\n', chunk));
            let line = (tracker.line_start, last);
            if candidate.allow_marker.is_none() {
                if let Some(marker) =
                    allow.above_line(chunk, base, tracker.line_start, tracker.line)
                {
                    above.push((out.hits.len(), marker));
                }
            }
            allow.complete(
                chunk.len(),
                base,
                line,
                !eof,
                &mut candidate,
                out.hits.len(),
            );
            out.hits.push(Hit {
                line: tracker.line,
                column: tracker.column(),
                candidate,
                members: Vec::new(),
                member_binary: false,
                deleted_in_layer: None,
            });
        }
        if eof {
            for (i, marker) in above {
                if let Some(hit) = out.hits.get_mut(i) {
                    hit.candidate.allow_marker.get_or_insert(marker);
                }
            }
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

/// #7: allow markers on lines longer than what one chunk holds. The detector searches the part
/// of a key's line inside its chunk; this adds the part before the chunk (`carry`, the marker
/// found on the current line in bytes already dropped) and the part after it (hits whose line
/// goes on past the chunk stay `open` until its end is read). #16: it also searches the line
/// above a key for `allow::NEXTLINE_MARKER`, that line's dropped part through `above`.
#[derive(Debug, Default)]
struct LineAllow {
    /// A marker starting before the current chunk, on the line that goes on into it.
    carry: Option<&'static str>,
    /// Indices into the hits whose line goes on past the bytes searched so far.
    open: Vec<usize>,
    /// Absolute offset up to which the line of the open hits has been searched.
    searched_to: u64,
    /// The next-line marker around the last cut of the stream (`None` before the first cut).
    above: Option<Above>,
}

/// #16: what the dropped bytes said about `allow::NEXTLINE_MARKER`, for the line that goes on
/// past the cut (the line at `line`) and for the line before it. Only these two lines can be
/// the line above a key in later chunks.
#[derive(Debug, Clone, Copy)]
struct Above {
    /// Absolute start of the line that holds the first byte after the cut.
    line: u64,
    /// Its 1-based number: the line after it is found by number, with no search for its start.
    number: u64,
    /// The marker starting in that line's dropped bytes.
    in_line: Option<&'static str>,
    /// The marker on the line before it (a key on `line` is suppressed by it).
    before_line: Option<&'static str>,
}

impl LineAllow {
    /// Continues the search of the open hits' line in `chunk` (at absolute `base`).
    fn resolve_open(&mut self, chunk: &[u8], base: u64, eof: bool, hits: &mut [Hit]) {
        if self.open.is_empty() {
            return;
        }
        let from = usize::try_from(self.searched_to.saturating_sub(base))
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        let rest = chunk.get(from..).unwrap_or_default();
        let newline = memchr::memchr(b'\n', rest).map(|i| from + i);
        let end = newline.unwrap_or(chunk.len());
        let start = from.saturating_sub(allow::MAX_MARKER_LEN - 1);
        let marker = allow::find_marker(chunk.get(start..end).unwrap_or_default());
        if let Some(marker) = marker {
            for &i in &self.open {
                if let Some(hit) = hits.get_mut(i) {
                    hit.candidate.allow_marker.get_or_insert(marker);
                }
            }
        }
        if marker.is_some() || newline.is_some() || eof {
            self.open.clear();
        } else {
            self.searched_to = base + chunk.len() as u64;
        }
    }

    /// The next-line marker on the line above the line that starts at absolute `line_start`
    /// and has 1-based `number` (at or after the last cut, or the line that goes on past it),
    /// in `chunk` at `base`.
    fn above_line(
        &self,
        chunk: &[u8],
        base: u64,
        line_start: u64,
        number: u64,
    ) -> Option<&'static str> {
        if line_start == 0 {
            return None;
        }
        if let Some(above) = self.above.filter(|a| a.line == line_start) {
            // The line goes on from before the cut: the line above it was searched then.
            return above.before_line;
        }
        // The line starts inside the chunk, after its first byte: the `\n` ending the line
        // above is at `newline`.
        let newline = usize::try_from(line_start.checked_sub(base)?.checked_sub(1)?).ok()?;
        let head = chunk.get(..newline)?;
        let across = self.above.filter(|a| a.number + 1 == number);
        let start = match across {
            // The line above is the line across the last cut: all of `head` is its, and a
            // line longer than a chunk is not searched backwards for its start.
            Some(_) => None,
            None => memchr::memrchr(b'\n', head),
        };
        match start {
            Some(i) => allow::find_nextline_marker(head.get(i + 1..).unwrap_or_default()),
            None => {
                // The line above starts before the chunk (the line across the last cut), or at
                // the start of the input.
                let dropped = self.above.and_then(|a| a.in_line);
                dropped.or_else(|| allow::find_nextline_marker(head))
            }
        }
    }

    /// Adds the parts of `candidate`'s line outside its chunk (`len` bytes at absolute `base`;
    /// `more` when input follows it). `line` is the absolute start of the candidate's line and
    /// the index of the chunk's last `\n`; `index` is the hit the candidate becomes.
    fn complete(
        &mut self,
        len: usize,
        base: u64,
        line: (u64, Option<usize>),
        more: bool,
        candidate: &mut Candidate,
        index: usize,
    ) {
        if candidate.allow_marker.is_some() {
            return;
        }
        let pos = usize::try_from(candidate.offset.saturating_sub(base)).unwrap_or(usize::MAX);
        let (line_start, last_newline) = line;
        if line_start < base {
            candidate.allow_marker = self.carry;
        }
        if candidate.allow_marker.is_none() && more && last_newline.is_none_or(|i| i < pos) {
            if self.open.is_empty() {
                self.searched_to = base + len as u64;
            }
            self.open.push(index);
        }
    }

    /// Before the bytes `..keep` of `chunk` (at absolute `base`) are dropped: remembers a
    /// marker on the line that goes on past `keep`, whose absolute start and 1-based number
    /// are `line`. Each dropped byte is searched once, however long the line.
    fn before_drop(&mut self, chunk: &[u8], base: u64, keep: usize, line: (u64, u64)) {
        let (line_start, number) = line;
        // The dropped bytes of the line across the cut (from its start, or from the chunk's
        // start when it began earlier). Every marker contains `allow`: one pass for it serves
        // both searches below, and most lines end them there.
        let from = usize::try_from(line_start.saturating_sub(base)).unwrap_or(usize::MAX);
        let end = keep
            .saturating_add(allow::NEXTLINE_MARKER.len() - 1)
            .min(chunk.len());
        let any = chunk
            .get(from..end)
            .is_some_and(|w| memchr::memmem::find(w, b"allow").is_some());
        let found = || any.then(|| allow::find_marker_starting_in(chunk, from..keep))?;
        self.carry = if line_start >= base {
            found()
        } else {
            self.carry.or_else(found)
        };
        // #16: the same for the next-line marker, and the line above the line across the cut.
        let next = || any.then(|| allow::find_nextline_marker_starting_in(chunk, from..keep))?;
        self.above = Some(match self.above.filter(|a| a.line == line_start) {
            Some(above) => Above {
                in_line: above.in_line.or_else(next),
                ..above
            },
            None => Above {
                line: line_start,
                number,
                in_line: next(),
                before_line: self.above_line(chunk, base, line_start, number),
            },
        });
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
        let tail = match memchr::memrchr(b'\n', seg) {
            Some(i) => {
                self.line += memchr::memchr_iter(b'\n', seg).count() as u64;
                self.line_start = self.pos + i as u64 + 1;
                self.chars = 0;
                self.valid = true;
                self.pending.clear();
                seg.get(i + 1..).unwrap_or_default()
            }
            None => seg,
        };
        self.chars += tail.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
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

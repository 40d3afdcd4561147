//! Inline allow markers (#7): a key whose line contains `leadey-scan:allow`, `gitleaks:allow`
//! (gitleaks) or `pragma: allowlist secret` (detect-secrets) is suppressed, whatever the comment
//! syntax around the marker; so is a key on the line right after a line that contains
//! detect-secrets' `pragma: allowlist nextline secret` (#16). Pure functions on bytes: no I/O.
//!
//! This module is the one place allow comments are handled (#23): the marker search, the
//! detector's look at the part of the key's line that its chunk holds (`LineMarker`), the parts
//! of a long line that lie in earlier or later chunks and the line above a key (`LineAllow`,
//! which `source::scan_stream` drives chunk by chunk, so a marker anywhere on the line counts,
//! whatever the line's length), and how a suppression by a marker is described (`describe`).
//! `suppress` only moves the findings that carry a marker.

use std::ops::Range;

use super::{Candidate, Hit};

/// The markers, exactly as they must be written (case-sensitive).
pub const ALLOW_MARKERS: [&str; 3] = [
    "leadey-scan:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// Length in bytes of the longest marker: a search resumed after a cut starts this many bytes
/// minus one before it, so that a marker across the cut is still found.
pub const MAX_MARKER_LEN: usize = 24;

/// detect-secrets' marker for the next line (#16): on the line right above a key it suppresses
/// the key; on the key's own line, or two lines above, it does nothing (as in detect-secrets).
/// Exactly so, case-sensitive, in any comment syntax, like `ALLOW_MARKERS`.
pub const NEXTLINE_MARKER: &str = "pragma: allowlist nextline secret";

/// The first marker found in `bytes`, if any.
///
/// ```
/// use leadey_scan::detect::allow::find_marker;
/// assert_eq!(find_marker(b"k = 1  # gitleaks:allow"), Some("gitleaks:allow"));
/// assert_eq!(find_marker(b"k = 1  # leadey-scan: allow"), None);
/// ```
pub fn find_marker(bytes: &[u8]) -> Option<&'static str> {
    // All markers contain `allow`: one pass for it first, most lines end the search there.
    memchr::memmem::find(bytes, b"allow")?;
    ALLOW_MARKERS
        .into_iter()
        .find(|m| memchr::memmem::find(bytes, m.as_bytes()).is_some())
}

/// The first marker that starts in `starts` (indices into `bytes`); it may end past
/// `starts.end`, as far as `bytes` goes.
pub fn find_marker_starting_in(bytes: &[u8], starts: Range<usize>) -> Option<&'static str> {
    first_starting_in(bytes, starts, &ALLOW_MARKERS)
}

/// `NEXTLINE_MARKER` if `bytes` contains it.
///
/// ```
/// use leadey_scan::detect::allow::find_nextline_marker;
/// assert!(find_nextline_marker(b"# pragma: allowlist nextline secret").is_some());
/// assert!(find_nextline_marker(b"k = 1  # pragma: allowlist secret").is_none());
/// ```
pub fn find_nextline_marker(bytes: &[u8]) -> Option<&'static str> {
    memchr::memmem::find(bytes, NEXTLINE_MARKER.as_bytes()).map(|_| NEXTLINE_MARKER)
}

/// `NEXTLINE_MARKER` if it starts in `starts` (indices into `bytes`); it may end past
/// `starts.end`, as far as `bytes` goes.
pub fn find_nextline_marker_starting_in(
    bytes: &[u8],
    starts: Range<usize>,
) -> Option<&'static str> {
    first_starting_in(bytes, starts, &[NEXTLINE_MARKER])
}

/// The first of `markers` that starts in `starts`, ending anywhere up to the end of `bytes`.
fn first_starting_in(
    bytes: &[u8],
    starts: Range<usize>,
    markers: &[&'static str],
) -> Option<&'static str> {
    let longest = markers.iter().map(|m| m.len()).max().unwrap_or(0);
    let end = starts
        .end
        .saturating_add(longest.saturating_sub(1))
        .min(bytes.len());
    let window = bytes.get(starts.start..end)?;
    memchr::memmem::find(window, b"allow")?;
    let limit = starts.end.saturating_sub(starts.start);
    markers.iter().copied().find(|m| {
        memchr::memmem::find_iter(window, m.as_bytes())
            .next()
            .is_some_and(|at| at < limit)
    })
}

/// The line of `bytes` around `pos` as far as `bytes` holds it: from just after the previous
/// `\n` (or the start) to the next `\n` (or the end).
pub fn line_around(bytes: &[u8], pos: usize) -> Range<usize> {
    let pos = pos.min(bytes.len());
    let start = memchr::memrchr(b'\n', bytes.get(..pos).unwrap_or_default()).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', bytes.get(pos..).unwrap_or_default())
        .map_or(bytes.len(), |i| pos + i);
    start..end
}

/// #7: the marker on the line of a key in one chunk, as far as the chunk holds the line. Keys on
/// one long line search it once: the line of the last key and its marker are kept.
#[derive(Debug, Default)]
pub struct LineMarker {
    last: Option<(Range<usize>, Option<&'static str>)>,
}

impl LineMarker {
    /// The marker on the line of `chunk` around `pos` (an index into `chunk`).
    pub fn at(&mut self, chunk: &[u8], pos: usize) -> Option<&'static str> {
        match &self.last {
            Some((line, marker)) if line.contains(&pos) => *marker,
            _ => {
                let line = line_around(chunk, pos);
                let marker = find_marker(chunk.get(line.clone()).unwrap_or_default());
                self.last = Some((line, marker));
                marker
            }
        }
    }
}

/// How a suppression by `marker` is described in reports (#7, #16): the marker and the line it
/// was found on.
///
/// ```
/// use leadey_scan::detect::allow::{describe, NEXTLINE_MARKER};
/// assert_eq!(describe("gitleaks:allow"), "`gitleaks:allow` on the key's line");
/// assert_eq!(describe(NEXTLINE_MARKER),
///            "`pragma: allowlist nextline secret` on the line above the key");
/// ```
pub fn describe(marker: &str) -> String {
    let line = if marker == NEXTLINE_MARKER {
        "the line above the key"
    } else {
        "the key's line"
    };
    format!("`{marker}` on {line}")
}

/// #7: allow markers on lines longer than what one chunk holds. The detector searches the part
/// of a key's line inside its chunk; this adds the part before the chunk (`carry`, the marker
/// found on the current line in bytes already dropped) and the part after it (hits whose line
/// goes on past the chunk stay `open` until its end is read). #16: it also searches the line
/// above a key for `NEXTLINE_MARKER`, that line's dropped part through `above`.
#[derive(Debug, Default)]
pub struct LineAllow {
    /// A marker starting before the current chunk, on the line that goes on into it.
    carry: Option<&'static str>,
    /// Indices into the hits whose line goes on past the bytes searched so far.
    open: Vec<usize>,
    /// Absolute offset up to which the line of the open hits has been searched.
    searched_to: u64,
    /// The next-line marker around the last cut of the stream (`None` before the first cut).
    above: Option<Above>,
    /// #16: hits (by index) with a next-line marker on the line above, applied by `finish`: a
    /// marker on the key's own line (maybe in a later chunk) wins, so the report is the same at
    /// any chunk size.
    below_marker: Vec<(usize, &'static str)>,
}

/// #16: what the dropped bytes said about `NEXTLINE_MARKER`, for the line that goes on
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
    /// Before `candidate` (found in `chunk` at absolute `base`) becomes hit `index`: adds the
    /// marker on the parts of its line outside the chunk (or leaves the hit open until its
    /// line ends, when `more` input follows) and notes a next-line marker on the line above.
    /// `line` is the absolute start and 1-based number of the candidate's line and the index
    /// of the chunk's last `\n`.
    pub fn place(
        &mut self,
        chunk: &[u8],
        base: u64,
        line: (u64, u64, Option<usize>),
        more: bool,
        candidate: &mut Candidate,
        index: usize,
    ) {
        let (line_start, number, last_newline) = line;
        if candidate.allow_marker.is_none() {
            if let Some(marker) = self.above_line(chunk, base, line_start, number) {
                self.below_marker.push((index, marker));
            }
        }
        self.complete(
            chunk.len(),
            base,
            (line_start, last_newline),
            more,
            candidate,
            index,
        );
    }

    /// At the end of the stream: gives the hits with a next-line marker above them that marker,
    /// unless their own line has one.
    pub fn finish(&mut self, hits: &mut [Hit]) {
        for (i, marker) in self.below_marker.drain(..) {
            if let Some(hit) = hits.get_mut(i) {
                hit.candidate.allow_marker.get_or_insert(marker);
            }
        }
    }

    /// Continues the search of the open hits' line in `chunk` (at absolute `base`).
    pub fn resolve_open(&mut self, chunk: &[u8], base: u64, eof: bool, hits: &mut [Hit]) {
        if self.open.is_empty() {
            return;
        }
        let from = usize::try_from(self.searched_to.saturating_sub(base))
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        let rest = chunk.get(from..).unwrap_or_default();
        let newline = memchr::memchr(b'\n', rest).map(|i| from + i);
        let end = newline.unwrap_or(chunk.len());
        let start = from.saturating_sub(MAX_MARKER_LEN - 1);
        let marker = find_marker(chunk.get(start..end).unwrap_or_default());
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
            Some(i) => find_nextline_marker(head.get(i + 1..).unwrap_or_default()),
            None => {
                // The line above starts before the chunk (the line across the last cut), or at
                // the start of the input.
                let dropped = self.above.and_then(|a| a.in_line);
                dropped.or_else(|| find_nextline_marker(head))
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
    pub fn before_drop(&mut self, chunk: &[u8], base: u64, keep: usize, line: (u64, u64)) {
        let (line_start, number) = line;
        // The dropped bytes of the line across the cut (from its start, or from the chunk's
        // start when it began earlier). Every marker contains `allow`: one pass for it serves
        // both searches below, and most lines end them there.
        let from = usize::try_from(line_start.saturating_sub(base)).unwrap_or(usize::MAX);
        let end = keep
            .saturating_add(NEXTLINE_MARKER.len() - 1)
            .min(chunk.len());
        let any = chunk
            .get(from..end)
            .is_some_and(|w| memchr::memmem::find(w, b"allow").is_some());
        let found = || any.then(|| find_marker_starting_in(chunk, from..keep))?;
        self.carry = if line_start >= base {
            found()
        } else {
            self.carry.or_else(found)
        };
        // #16: the same for the next-line marker, and the line above the line across the cut.
        let next = || any.then(|| find_nextline_marker_starting_in(chunk, from..keep))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_marker_len_is_the_longest_marker() {
        assert_eq!(
            ALLOW_MARKERS.iter().map(|m| m.len()).max(),
            Some(MAX_MARKER_LEN)
        );
    }

    #[test]
    fn every_marker_is_found_in_any_comment_syntax() {
        for line in [
            "k = \"x\" # leadey-scan:allow",
            "k = \"x\"; // gitleaks:allow",
            "<!-- pragma: allowlist secret --> x",
            "-- leadey-scan:allow",
            "s = \"leadey-scan:allow\"",
        ] {
            assert!(find_marker(line.as_bytes()).is_some(), "{line}");
        }
        for line in [
            "k = x # leadey-scan allow",
            "k = x # LEADEY-SCAN:ALLOW",
            "# pragma: allowlist nextline secret",
            "allow",
        ] {
            assert_eq!(find_marker(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn starting_in_counts_only_starts_in_the_range() {
        let text = b"abc gitleaks:allow xyz";
        assert_eq!(find_marker_starting_in(text, 0..5), Some("gitleaks:allow"));
        assert_eq!(find_marker_starting_in(text, 0..4), None);
        assert_eq!(find_marker_starting_in(text, 5..10), None);
        // The marker may end past the range, never past the bytes.
        assert_eq!(find_marker_starting_in(&text[..10], 0..5), None);
    }

    #[test]
    fn the_nextline_marker_is_its_own_marker() {
        // Neither contains the other: a same-line marker never counts for the next line, nor
        // the next-line marker for its own line.
        for m in ALLOW_MARKERS {
            assert!(!NEXTLINE_MARKER.contains(m), "{m}");
            assert_eq!(find_nextline_marker(m.as_bytes()), None, "{m}");
        }
        assert_eq!(find_marker(NEXTLINE_MARKER.as_bytes()), None);
        for line in [
            "# pragma: allowlist nextline secret",
            "// pragma: allowlist nextline secret (fixture)",
            "<!-- pragma: allowlist nextline secret -->",
        ] {
            assert_eq!(find_nextline_marker(line.as_bytes()), Some(NEXTLINE_MARKER));
        }
        for line in [
            "# pragma: allowlist next line secret",
            "# PRAGMA: ALLOWLIST NEXTLINE SECRET",
            "# pragma: allowlist nextline",
        ] {
            assert_eq!(find_nextline_marker(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn nextline_starting_in_counts_only_starts_in_the_range() {
        let text = b"ab # pragma: allowlist nextline secret";
        assert_eq!(
            find_nextline_marker_starting_in(text, 0..6),
            Some(NEXTLINE_MARKER)
        );
        assert_eq!(find_nextline_marker_starting_in(text, 0..5), None);
        assert_eq!(find_nextline_marker_starting_in(text, 6..text.len()), None);
        assert_eq!(find_nextline_marker_starting_in(&text[..20], 0..6), None);
    }

    #[test]
    fn line_around_stops_at_newlines_or_the_ends() {
        let text = b"one\ntwo three\nfour";
        assert_eq!(line_around(text, 6), 4..13);
        assert_eq!(line_around(text, 0), 0..3);
        assert_eq!(line_around(text, 16), 14..18);
        assert_eq!(line_around(text, 99), 14..18);
    }
}

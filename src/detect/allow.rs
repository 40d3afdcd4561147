//! Inline allow markers (#7): a key whose line contains `leadey-scan:allow`, `gitleaks:allow`
//! (gitleaks) or `pragma: allowlist secret` (detect-secrets) is suppressed, whatever the comment
//! syntax around the marker; so is a key on the line right after a line that contains
//! detect-secrets' `pragma: allowlist nextline secret` (#16). Pure functions on bytes: no I/O.
//!
//! The detector looks for a marker on the part of the key's line that its chunk holds;
//! `source::scan_stream` adds the parts of a long line that lie in earlier or later chunks, so a
//! marker anywhere on the line counts, whatever the line's length. The line above a key is
//! searched by `source::scan_stream` alone, with the same care for lines longer than a chunk.

use std::ops::Range;

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

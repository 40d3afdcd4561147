//! Inline allow markers (#7): a key whose line contains `leadey-scan:allow`, `gitleaks:allow`
//! (gitleaks) or `pragma: allowlist secret` (detect-secrets) is suppressed, whatever the comment
//! syntax around the marker. Pure functions on bytes: no I/O.
//!
//! The detector looks for a marker on the part of the key's line that its chunk holds;
//! `source::scan_stream` adds the parts of a long line that lie in earlier or later chunks, so a
//! marker anywhere on the line counts, whatever the line's length.

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
    let end = starts
        .end
        .saturating_add(MAX_MARKER_LEN - 1)
        .min(bytes.len());
    let window = bytes.get(starts.start..end)?;
    memchr::memmem::find(window, b"allow")?;
    let limit = starts.end.saturating_sub(starts.start);
    ALLOW_MARKERS.into_iter().find(|m| {
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
    fn line_around_stops_at_newlines_or_the_ends() {
        let text = b"one\ntwo three\nfour";
        assert_eq!(line_around(text, 6), 4..13);
        assert_eq!(line_around(text, 0), 0..3);
        assert_eq!(line_around(text, 16), 14..18);
        assert_eq!(line_around(text, 99), 14..18);
    }
}

//! Open documents as the editor holds them (#24): their text, version and language, the edits
//! the editor sends (whole text or ranges), and the conversion between byte offsets and LSP
//! positions in the negotiated encoding (UTF-8 bytes, UTF-16 code units, or UTF-32 code
//! points). Lines end at `\n`, `\r\n` or a lone `\r`, as the protocol says. Pure: no I/O.

use lsp_types::{Position, PositionEncodingKind, Range, TextDocumentContentChangeEvent};

/// How the client counts the characters of a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units: the protocol's default.
    Utf16,
    /// Unicode code points.
    Utf32,
}

impl Encoding {
    /// The encoding to use with a client that offers `offered` (`general.positionEncodings`):
    /// UTF-8 when offered (no conversion at all), else UTF-32, else the mandatory UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        let offered = offered.unwrap_or_default();
        if offered.contains(&PositionEncodingKind::UTF8) {
            Encoding::Utf8
        } else if offered.contains(&PositionEncodingKind::UTF32) {
            Encoding::Utf32
        } else {
            Encoding::Utf16
        }
    }

    /// The protocol's name for it, for the server's capabilities.
    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf32 => PositionEncodingKind::UTF32,
        }
    }

    /// Units of `c` in this encoding.
    fn units(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf32 => 1,
        }
    }

    /// Units of `text` in this encoding.
    pub fn len(self, text: &str) -> usize {
        match self {
            Encoding::Utf8 => text.len(),
            Encoding::Utf16 => text.chars().map(char::len_utf16).sum(),
            Encoding::Utf32 => text.chars().count(),
        }
    }
}

/// One open document.
#[derive(Debug, Clone)]
pub struct Document {
    /// The text as the editor holds it, saved or not.
    pub text: String,
    /// The editor's version of it.
    pub version: i32,
    /// The editor's language id (`python`, `plaintext`), for the comment syntax.
    pub language_id: String,
}

impl Document {
    /// Applies the editor's `changes` in order and takes `version`. A change without a range
    /// replaces the whole text; a range past the end is clamped to it, as the protocol asks.
    pub fn apply(
        &mut self,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
        enc: Encoding,
    ) {
        for change in changes {
            match change.range {
                None => self.text = change.text,
                Some(range) => {
                    let start = offset_at(&self.text, range.start, enc);
                    let end = offset_at(&self.text, range.end, enc).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
            }
        }
        self.version = version;
    }
}

/// Byte offsets where each line of `text` starts (the first is 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        // `\r\n` ends one line, at the `\n`.
        if bytes.get(i) == Some(&b'\r') && bytes.get(i + 1) == Some(&b'\n') {
            continue;
        }
        starts.push(i + 1);
    }
    starts
}

/// The byte offset of `pos` in `text`: a character past the end of its line is the line's end
/// (before its line break), a line past the last is the end of the text.
pub fn offset_at(text: &str, pos: Position, enc: Encoding) -> usize {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut line = 0;
    let mut breaks = memchr::memchr2_iter(b'\n', b'\r', bytes);
    while line < pos.line {
        let Some(i) = breaks.next() else {
            return text.len();
        };
        if bytes.get(i) == Some(&b'\r') && bytes.get(i + 1) == Some(&b'\n') {
            continue;
        }
        start = i + 1;
        line += 1;
    }
    let rest = text.get(start..).unwrap_or_default();
    let mut units = 0;
    for (at, c) in rest.char_indices() {
        if units >= pos.character as usize || c == '\n' || c == '\r' {
            return start + at;
        }
        units += enc.units(c);
    }
    text.len()
}

/// Positions of byte offsets in one text: the line index is built once for all of them.
pub struct Positions<'t> {
    text: &'t str,
    starts: Vec<usize>,
    enc: Encoding,
}

impl<'t> Positions<'t> {
    /// Positions in `text`, counted in `enc`.
    pub fn new(text: &'t str, enc: Encoding) -> Positions<'t> {
        Positions {
            text,
            starts: line_starts(text),
            enc,
        }
    }

    /// The position of byte `offset` (clamped to the text, and back to a character boundary).
    pub fn at(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let character = self
            .enc
            .len(self.text.get(start..offset).unwrap_or_default());
        Position::new(line as u32, character as u32)
    }

    /// The range of bytes `start..start + len`.
    pub fn range(&self, start: usize, len: usize) -> Range {
        Range::new(self.at(start), self.at(start.saturating_add(len)))
    }

    /// The position of the end of line `line` (before its line break), if there is such a line.
    pub fn line_end(&self, line: u32) -> Option<Position> {
        let start = *self.starts.get(line as usize)?;
        let rest = self.text.get(start..).unwrap_or_default();
        let len = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let text = rest.get(..len).unwrap_or_default();
        Some(Position::new(line, self.enc.len(text) as u32))
    }

    /// The text of line `line`, without its line break.
    pub fn line_text(&self, line: u32) -> Option<&'t str> {
        let start = *self.starts.get(line as usize)?;
        let rest = self.text.get(start..).unwrap_or_default();
        let len = rest.find(['\n', '\r']).unwrap_or(rest.len());
        rest.get(..len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_units_of_the_negotiated_encoding() {
        // "é" is 2 bytes, 1 UTF-16 unit; "𝄞" is 4 bytes, 2 UTF-16 units, 1 code point.
        let text = "aé𝄞K\r\nx\ry\nz";
        let k = text.find('K').unwrap();
        assert_eq!(
            Positions::new(text, Encoding::Utf8).at(k),
            Position::new(0, 7)
        );
        assert_eq!(
            Positions::new(text, Encoding::Utf16).at(k),
            Position::new(0, 4)
        );
        assert_eq!(
            Positions::new(text, Encoding::Utf32).at(k),
            Position::new(0, 3)
        );
        let p = Positions::new(text, Encoding::Utf16);
        assert_eq!(p.at(text.find('x').unwrap()), Position::new(1, 0));
        assert_eq!(p.at(text.find('y').unwrap()), Position::new(2, 0));
        assert_eq!(p.at(text.find('z').unwrap()), Position::new(3, 0));
        assert_eq!(p.line_end(0), Some(Position::new(0, 5)));
        assert_eq!(p.line_text(2), Some("y"));
        assert_eq!(p.line_end(9), None);
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let p = Positions::new(text, enc);
            // Every offset but the middle of `\r\n`, which no position names.
            for (at, _) in text.char_indices().filter(|&(at, _)| at != 9) {
                assert_eq!(offset_at(text, p.at(at), enc), at, "{enc:?} {at}");
            }
        }
    }

    #[test]
    fn edits_apply_in_order_and_clamp_past_the_end() {
        let mut doc = Document {
            text: "one\ntwo\n".into(),
            version: 1,
            language_id: "plaintext".into(),
        };
        let edit = |l1, c1, l2, c2, t: &str| TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: t.into(),
        };
        doc.apply(
            vec![
                edit(1, 0, 1, 3, "2"),
                edit(0, 3, 0, 99, "!"),
                edit(9, 0, 9, 0, "end"),
            ],
            2,
            Encoding::Utf16,
        );
        assert_eq!(doc.text, "one!\n2\nend");
        assert_eq!(doc.version, 2);
        let whole = TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: "new".into(),
        };
        doc.apply(vec![whole], 3, Encoding::Utf16);
        assert_eq!(doc.text, "new");
    }

    #[test]
    fn negotiation_prefers_utf8_and_defaults_to_utf16() {
        use PositionEncodingKind as K;
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(Some(&[K::UTF16])), Encoding::Utf16);
        assert_eq!(
            Encoding::negotiate(Some(&[K::UTF16, K::UTF8])),
            Encoding::Utf8
        );
        assert_eq!(
            Encoding::negotiate(Some(&[K::UTF32, K::UTF16])),
            Encoding::Utf32
        );
    }
}

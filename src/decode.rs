//! Decoders (#14): the encoded forms of a prefix as needles, and reading the bytes around one
//! needle's match back into decoded bytes (each mapped to the input bytes it came from). Pure:
//! nothing here knows about rules, findings or reports, and nothing scans a whole input: the
//! detector's one multi-literal pass finds the needles, and only the bytes around a match are
//! decoded (STYLE.md's Decoder stage: a region around a prefilter hit in, decoded bytes out).
//!
//! Every encoded form of a fixed prefix is itself a small set of fixed byte strings:
//! - base64 puts the prefix at one of three byte alignments inside a 3-byte group; the
//!   characters that depend on the prefix alone are fixed for each alignment. Each is cut in
//!   three pieces so that line breaks inside it (MIME and PEM wrap lines) leave one whole;
//! - UTF-16: one string finds both byte orders;
//! - hex: the lower and the upper case spelling;
//! - percent-encoding, `\u005f`/`\x5f` escapes and HTML entities leave letters and digits
//!   alone, so the prefix's leading run of letters (`leadey`) is the needle of the plain key and
//!   of these forms at once;
//! - at depth 2, base64 of each base64 needle and of the UTF-16LE prefix (a docker `auth`
//!   inside a Kubernetes Secret, a PowerShell `-EncodedCommand`).

pub mod packed;

/// Deepest nesting of encodings `--max-decode-depth` accepts: each level multiplies the base64
/// needles by three, and the one-pass search slows down with many needles.
pub const MAX_DECODE_DEPTH: u32 = 2;

/// Shortest leading run of letters and digits of a prefix that may serve as the needle of the
/// plain and the escaped forms; a shorter run would match too often to be worth it, and the
/// whole prefix is then the needle (escaped forms of that rule are not found).
const MIN_TRIGGER_LEN: usize = 4;

/// Bytes of prefix per C byte array needle (#22): `0x6c, ` is six characters, so five items
/// make a needle of 28, and a prefix of 15 bytes crosses at most one `xxd -i` line break (12
/// items a line), which leaves two of its three pieces whole.
const C_PIECE_ITEMS: usize = 5;

/// Most input bytes one item of a C byte array takes (`0x6c,` and a line break with
/// indentation every twelve items, bounded).
const C_ITEM_SPAN: usize = 8;

/// Bytes of line breaks allowed per 16 characters of wrapped base64 when bounding spans.
const WRAP_ALLOWANCE: usize = 2;

/// Pieces each base64 needle (about 20 characters) is cut into, so that base64 wrapped at
/// `MIN_WRAP_WIDTH` characters or more (at most two breaks inside) leaves one piece whole.
const BASE64_PIECES: usize = 3;

/// Shortest base64 needle (or piece of one): 6 characters are 36 bits, rare in any text.
const MIN_PIECE_LEN: usize = 6;

/// Narrowest line of wrapped base64 read across line breaks, in characters (PEM uses 64,
/// MIME 76; lines must hold whole 4-character groups).
pub const MIN_WRAP_WIDTH: usize = 16;

/// Widest line of wrapped base64 read across line breaks.
pub const MAX_WRAP_WIDTH: usize = 1024;

/// One layer of encoding around a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    /// Base64, either alphabet, padded or not, lines wrapped or not: the encoded string starts
    /// `align` bytes into a 3-byte group, and the needle starts `lead` characters after the
    /// group's first character.
    Base64 { align: usize, lead: usize },
    /// UTF-16 of either byte order (decided at the match).
    Utf16,
    /// Hex digits of either case.
    Hex,
    /// A C byte array (`0x6c, 0x65, …`, #22): the needle starts `lead` items after the
    /// prefix's first.
    CBytes { lead: usize },
}

/// An encoding a key was found in, as reports name it (#14; #23: typed, not text). Serializes
/// as that name: `base64`, `utf-16le`, `utf-16be`, `hex`, `percent`, `escape` (`\u005f`,
/// `\x5f`), `html-entity`, `quoted-printable`, `c-bytes` (#22), or the name of a compressed
/// stream that base64 held (`gzip`, #22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    /// Base64, either alphabet, padded or not, wrapped or not.
    Base64,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// Hex digits of either case.
    Hex,
    /// Percent-encoding (`%5F`).
    Percent,
    /// String escapes (`\u005f`, `\x5f`).
    Escape,
    /// HTML numeric entities (`&#95;`, `&#x5f;`).
    HtmlEntity,
    /// Quoted-printable (`=5F`, soft line breaks `=\r\n`), as mail bodies are (#22).
    QuotedPrintable,
    /// A C byte array (`0x6c, 0x65, …`, as `xxd -i` writes it) (#22).
    CBytes,
    /// A compressed stream held in base64, by its format's name (`gzip`, `xz`; #22): the key
    /// was in its content.
    Compressed(&'static str),
}

impl Encoding {
    /// Every encoding of text, in declaration order (`Compressed` names any stream format).
    pub const ALL: [Encoding; 9] = [
        Encoding::Base64,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Hex,
        Encoding::Percent,
        Encoding::Escape,
        Encoding::HtmlEntity,
        Encoding::QuotedPrintable,
        Encoding::CBytes,
    ];

    /// The name reports show (lowercase).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::Escape => "escape",
            Encoding::HtmlEntity => "html-entity",
            Encoding::QuotedPrintable => "quoted-printable",
            Encoding::CBytes => "c-bytes",
            Encoding::Compressed(name) => name,
        }
    }
}

/// A chain of encodings as reports write it, outermost first, joined by `sep`.
///
/// ```
/// use leadey_scan::decode::{join, Encoding};
/// assert_eq!(join(&[Encoding::Base64, Encoding::Utf16Le], " in "), "base64 in utf-16le");
/// ```
pub fn join(chain: &[Encoding], sep: &str) -> String {
    let names: Vec<&str> = chain.iter().map(|e| e.as_str()).collect();
    names.join(sep)
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Encoding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a needle's match means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Form {
    /// The whole prefix as plain text (decoding off): a key starts here.
    Plain,
    /// The prefix's leading run of letters: a plain key, or one whose prefix continues in
    /// percent-encoding, string escapes or HTML entities.
    Trigger,
    /// The prefix under these layers, outermost first.
    Encoded(Vec<Layer>),
    /// The start of a base64 run, this many layers deep, that holds a compressed stream or an
    /// archive (#22, `packed`): not read by the detector, handed on as a run start.
    Packed(u8),
}

/// One byte string to search for, and how a match of it is read.
#[derive(Debug, Clone)]
pub(crate) struct NeedleSpec {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// How a match is read.
    pub form: Form,
    /// Longest run of input, from the start of an encoded key to the end of what reading it
    /// looks at, that one match can cover.
    pub max_span: usize,
}

/// The needles of a rule with prefix `prefix` and keys of at most `max_key_len` bytes, for
/// decoding up to `depth` layers (0: the plain prefix only).
pub(crate) fn needles(prefix: &[u8], max_key_len: usize, depth: u32) -> Vec<NeedleSpec> {
    // What reading a key looks at past its body (look-ahead, glue) and before it (one unit).
    let want = max_key_len + 16;
    let plain = NeedleSpec {
        bytes: prefix.to_vec(),
        form: Form::Plain,
        max_span: max_key_len,
    };
    if depth == 0 {
        return vec![plain];
    }
    let mut out = Vec::new();
    let trigger_len = prefix
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if trigger_len >= MIN_TRIGGER_LEN && trigger_len < prefix.len() {
        out.push(NeedleSpec {
            bytes: prefix.get(..trigger_len).unwrap_or(prefix).to_vec(),
            form: Form::Trigger,
            // `\u005f` is six bytes for one.
            max_span: 6 * want,
        });
    } else {
        out.push(plain);
    }
    let utf16 = utf16le(prefix);
    out.push(NeedleSpec {
        bytes: utf16.clone(),
        form: Form::Encoded(vec![Layer::Utf16]),
        max_span: 2 * want + 2,
    });
    let hex_lower: Vec<u8> = prefix
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    out.push(NeedleSpec {
        bytes: hex_lower.to_ascii_uppercase(),
        form: Form::Encoded(vec![Layer::Hex]),
        max_span: 2 * want + 2,
    });
    out.push(NeedleSpec {
        bytes: hex_lower,
        form: Form::Encoded(vec![Layer::Hex]),
        max_span: 2 * want + 2,
    });
    let b64_span = base64_len(want);
    for align in 0..3 {
        let (needle, lead) = base64_needle(prefix, align);
        // Three pieces: lines wrapped at `MIN_WRAP_WIDTH` characters or more break at most two
        // of them. A short prefix (a user rule's) gets fewer, longer pieces, none at all when
        // even one would match too often to be worth reading.
        let pieces = BASE64_PIECES.min(needle.len() / MIN_PIECE_LEN);
        if pieces == 0 {
            continue;
        }
        for i in 0..pieces {
            let (from, to) = (i * needle.len() / pieces, (i + 1) * needle.len() / pieces);
            out.push(NeedleSpec {
                bytes: needle.get(from..to).unwrap_or_default().to_vec(),
                form: Form::Encoded(vec![Layer::Base64 {
                    align,
                    lead: lead + from,
                }]),
                max_span: b64_span,
            });
        }
    }
    // #22: C byte arrays as `xxd -i` writes them (`0x6c, 0x65, …`, twelve to a line), in
    // lower- and upper-case digits, the prefix cut in pieces of `C_PIECE_ITEMS` so that a line
    // break inside it leaves one whole.
    for upper in [false, true] {
        let mut from = 0;
        while from + C_PIECE_ITEMS <= prefix.len() || (from == 0 && !prefix.is_empty()) {
            let to = (from + C_PIECE_ITEMS).min(prefix.len());
            let items: Vec<String> = prefix
                .get(from..to)
                .unwrap_or_default()
                .iter()
                .map(|b| match upper {
                    true => format!("0x{b:02X}"),
                    false => format!("0x{b:02x}"),
                })
                .collect();
            out.push(NeedleSpec {
                bytes: items.join(", ").into_bytes(),
                form: Form::Encoded(vec![Layer::CBytes { lead: from }]),
                max_span: C_ITEM_SPAN * want + 2,
            });
            from = to;
            if to == prefix.len() {
                break;
            }
        }
    }
    if depth >= 2 {
        let mut inner: Vec<(Vec<u8>, Layer, usize)> = (0..3)
            .map(|align| {
                let (needle, lead) = base64_needle(prefix, align);
                (needle, Layer::Base64 { align, lead }, b64_span)
            })
            .collect();
        inner.push((utf16, Layer::Utf16, 2 * want + 2));
        for (string, layer, span) in inner {
            for align in 0..3 {
                let (needle, lead) = base64_needle(&string, align);
                if needle.len() < MIN_PIECE_LEN {
                    continue;
                }
                out.push(NeedleSpec {
                    bytes: needle,
                    form: Form::Encoded(vec![Layer::Base64 { align, lead }, layer]),
                    max_span: base64_len(span + 3),
                });
            }
        }
    }
    out
}

/// Longest base64 text (line breaks allowed) that encodes `n` bytes plus a partial group on
/// each side.
fn base64_len(n: usize) -> usize {
    let chars = (n.div_ceil(3) + 2) * 4;
    chars + chars.div_ceil(16) * WRAP_ALLOWANCE
}

/// UTF-16LE of ASCII `text`.
fn utf16le(text: &[u8]) -> Vec<u8> {
    text.iter().flat_map(|&b| [b, 0]).collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The base64 characters that depend on `text` alone when it starts `align` bytes into a group,
/// and the index of the first of them in the encoding (counted from the group's first char).
fn base64_needle(text: &[u8], align: usize) -> (Vec<u8>, usize) {
    let mut bits: Vec<bool> = vec![false; align * 8];
    for b in text {
        bits.extend((0..8).rev().map(|i| b >> i & 1 == 1));
    }
    let first = (align * 8).div_ceil(6);
    let last = bits.len() / 6; // exclusive
    let chars = (first..last)
        .map(|i| {
            let v = bits
                .get(i * 6..i * 6 + 6)
                .unwrap_or_default()
                .iter()
                .fold(0usize, |acc, &bit| acc << 1 | usize::from(bit));
            B64.get(v).copied().unwrap_or(b'A')
        })
        .collect();
    (chars, first)
}

/// Whether `b` is a base64 character of either alphabet.
pub(crate) fn is_base64_char(b: u8) -> bool {
    base64_value(b).is_some()
}

/// The value of base64 character `b`, in either alphabet.
fn base64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

fn is_line_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Bytes decoded from a buffer, each with the range of buffer positions it was read from.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    /// The decoded bytes.
    pub bytes: Vec<u8>,
    /// For each decoded byte, the buffer range it came from.
    pub src: Vec<(usize, usize)>,
    /// Where the string the needle stands for starts in `bytes`.
    pub at: usize,
    /// The encodings read, outermost first (reports name them `["base64", "utf-16le"]`).
    pub encoding: Vec<Encoding>,
    /// Whether reading went across a line break of wrapped base64.
    pub wrapped: bool,
}

impl Decoded {
    fn push(&mut self, byte: u8, from: usize, to: usize) {
        self.bytes.push(byte);
        self.src.push((from, to));
    }

    /// The buffer range that decoded bytes `range` came from.
    pub fn source_range(&self, range: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
        let first = self.src.get(range.start)?;
        let last = self.src.get(range.end.checked_sub(1)?)?;
        Some(first.0..last.1)
    }

    /// This decoding read back through `outer`, the decoding its buffer was: positions become
    /// positions of `outer`'s buffer, and the encodings and line wrapping are `outer`'s too.
    fn through(mut self, outer: &Decoded) -> Option<Decoded> {
        for s in &mut self.src {
            let r = outer.source_range(s.0..s.1)?;
            *s = (r.start, r.end);
        }
        self.encoding = [outer.encoding.as_slice(), &self.encoding].concat();
        self.wrapped = outer.wrapped;
        Some(self)
    }
}

/// Reads `layer` at the needle match `at` of `buf`, decoding at most `want` bytes and, for
/// base64, up to `back_groups` whole groups before the match's group (an inner layer reads a
/// little before its own needle). `offset` is the input offset of `buf[0]` when `buf` is the
/// input itself (UTF-16's byte order follows from it), `None` inside a decoded window.
pub(crate) fn read_layer(
    layer: Layer,
    buf: &[u8],
    at: usize,
    want: usize,
    back_groups: usize,
    offset: Option<u64>,
    wrap: bool,
) -> Option<Decoded> {
    match layer {
        Layer::Base64 { align, lead } => base64(buf, at, align, lead, back_groups, want, wrap),
        Layer::Utf16 => utf16(buf, at, want, offset),
        Layer::Hex => hex(buf, at, want),
        Layer::CBytes { lead } => c_bytes(buf, at, lead, want),
    }
}

/// Reads every layer of `chain` (outermost first) at the match `at` of `buf` (whose first byte
/// is at input offset `offset`); the result's positions are positions of `buf` and its `at` is
/// where the prefix starts. `wrap`: the outermost base64 may go on across line breaks.
pub(crate) fn read_chain(
    chain: &[Layer],
    buf: &[u8],
    at: usize,
    want: usize,
    offset: u64,
    wrap: bool,
) -> Option<Decoded> {
    let (first, rest) = chain.split_first()?;
    // Each outer layer must decode enough to hold what the inner ones read.
    let outer_want = rest.iter().fold(want, |w, l| match l {
        Layer::Base64 { .. } => base64_len(w) + 3,
        Layer::Utf16 | Layer::Hex => 2 * w + 2,
        Layer::CBytes { .. } => C_ITEM_SPAN * w + 2,
    });
    let back = usize::from(!rest.is_empty());
    let mut decoded = read_layer(*first, buf, at, outer_want, back, Some(offset), wrap)?;
    for layer in rest {
        let inner = read_layer(*layer, &decoded.bytes, decoded.at, want, 0, None, false)?;
        decoded = inner.through(&decoded)?;
    }
    Some(decoded)
}

fn base64(
    buf: &[u8],
    at: usize,
    align: usize,
    lead: usize,
    back_groups: usize,
    want: usize,
    wrap: bool,
) -> Option<Decoded> {
    let mut wrapped = false;
    // One character back from `pos`, over a line break of wrapped base64 when `wrap`.
    let mut back = |pos: usize| -> Option<usize> {
        let prev = pos.checked_sub(1)?;
        let b = *buf.get(prev)?;
        if b != b'\n' {
            return base64_value(b).map(|_| prev);
        }
        let brk = match prev.checked_sub(1) {
            Some(cr) if buf.get(cr) == Some(&b'\r') => cr,
            _ => prev,
        };
        if !(wrap && ends_wrapped_line(buf, brk)) {
            return None;
        }
        wrapped = true;
        let last = brk.checked_sub(1)?;
        base64_value(*buf.get(last)?).map(|_| last)
    };
    // Back to the group's first character.
    let mut start = at;
    for _ in 0..lead {
        start = back(start)?;
    }
    // Then whole groups further back, as far as the text goes.
    let mut groups = 0;
    'groups: while groups < back_groups {
        let mut s = start;
        for _ in 0..4 {
            match back(s) {
                Some(p) => s = p,
                None => break 'groups,
            }
        }
        start = s;
        groups += 1;
    }
    let mut out = Decoded {
        at: align + 3 * groups,
        encoding: vec![Encoding::Base64],
        ..Decoded::default()
    };
    let mut quad = [(0u8, 0usize); 4];
    let mut filled = 0;
    let mut i = start;
    while out.bytes.len() < want {
        let Some(&b) = buf.get(i) else { break };
        if is_line_break(b) {
            if !(wrap && ends_wrapped_line(buf, i)) {
                break;
            }
            i += if b == b'\r' { 2 } else { 1 };
            wrapped = true;
            continue;
        }
        let Some(v) = base64_value(b) else { break };
        if let Some(slot) = quad.get_mut(filled) {
            *slot = (v, i);
        }
        filled += 1;
        i += 1;
        if filled == 4 {
            emit_group(&quad, 4, &mut out);
            filled = 0;
        }
    }
    if filled >= 2 {
        emit_group(&quad, filled, &mut out);
    }
    out.bytes.truncate(want);
    out.src.truncate(want);
    out.wrapped = wrapped;
    (out.bytes.len() > out.at).then_some(out)
}

/// Whether the line break starting at `brk` (`\n` or `\r\n`) ends a line of wrapped base64
/// that goes on after it: the line holds only base64 characters, whole groups of them, at least
/// `MIN_WRAP_WIDTH` and at most `MAX_WRAP_WIDTH`, and a base64 character follows the break.
/// (PEM wraps at 64, MIME at 76; a line such as `KEY=dGVzdA` followed by another is not one.)
fn ends_wrapped_line(buf: &[u8], brk: usize) -> bool {
    let next = match buf.get(brk..) {
        Some([b'\r', b'\n', ..]) => brk + 2,
        Some([b'\n', ..]) => brk + 1,
        _ => return false,
    };
    // (`-` is base64 in the URL-safe alphabet, but a line starting with it is PEM's `-----END`.)
    if !buf
        .get(next)
        .is_some_and(|&b| b != b'-' && base64_value(b).is_some())
    {
        return false;
    }
    let from = brk.saturating_sub(MAX_WRAP_WIDTH + 1);
    let before = buf.get(from..brk).unwrap_or_default();
    let line = match memchr::memrchr(b'\n', before) {
        Some(i) => before.get(i + 1..).unwrap_or_default(),
        // The line starts before the window: longer than any wrapped line, unless the window
        // is the start of the buffer.
        None if from == 0 => before,
        None => return false,
    };
    (MIN_WRAP_WIDTH..=MAX_WRAP_WIDTH).contains(&line.len())
        && line.len() % 4 == 0
        && line.iter().all(|&b| base64_value(b).is_some())
}

/// Appends the bytes of the first `n` (2 to 4) characters of a group.
fn emit_group(quad: &[(u8, usize); 4], n: usize, out: &mut Decoded) {
    let [(c0, p0), (c1, p1), (c2, p2), (c3, p3)] = *quad;
    out.push(c0 << 2 | c1 >> 4, p0, p1 + 1);
    if n >= 3 {
        out.push((c1 & 15) << 4 | c2 >> 2, p1, p2 + 1);
    }
    if n >= 4 {
        out.push((c2 & 3) << 6 | c3, p2, p3 + 1);
    }
}

/// Whether the UTF-16 text whose ASCII character byte is at `at` is big-endian. The needle
/// (UTF-16LE of the prefix) matches both byte orders one byte apart, so the order comes from a
/// byte-order mark right before the run of ASCII code units, else from the parity of the
/// input offset (`offset` of `buf[0]`): UTF-16 text is 2-byte aligned in files and binaries,
/// and the character byte of a unit is at an even offset in UTF-16LE, at an odd one in
/// UTF-16BE. Inside a decoded window (`offset` unknown) the default is little-endian, the
/// order of Windows and .NET.
fn is_big_endian(buf: &[u8], at: usize, offset: Option<u64>) -> bool {
    // A big-endian unit of an ASCII character starts with 0: a run whose byte before is not 0
    // (`name=` then UTF-16LE text), or that starts the buffer, is little-endian whatever the
    // offset's parity (it decided alone before, and missed such keys at odd offsets).
    if at == 0 || buf.get(at - 1).is_some_and(|&b| b != 0) {
        return false;
    }
    // Back over ASCII units read as little-endian (character, 0) to the start of the run.
    let mut s = at;
    while s >= 2
        && buf.get(s - 2).is_some_and(|&b| b != 0 && b < 0x80)
        && buf.get(s - 1) == Some(&0)
    {
        s -= 2;
    }
    let bom_at = |i: Option<usize>| i.and_then(|i| buf.get(i..i + 2));
    if bom_at(s.checked_sub(2)) == Some(&[0xFF, 0xFE][..]) {
        return false;
    }
    // In big-endian text the run seen as little-endian starts one byte into its first unit.
    if bom_at(s.checked_sub(3)) == Some(&[0xFE, 0xFF][..]) {
        return true;
    }
    offset.is_some_and(|o| (o + at as u64) % 2 == 1)
}

fn utf16(buf: &[u8], at: usize, want: usize, offset: Option<u64>) -> Option<Decoded> {
    let big = is_big_endian(buf, at, offset);
    let start = if big { at.checked_sub(1)? } else { at };
    // One unit before the text, for the glue check.
    let from = start.checked_sub(2).unwrap_or(start);
    let mut out = Decoded {
        at: (start - from) / 2,
        encoding: vec![if big {
            Encoding::Utf16Be
        } else {
            Encoding::Utf16Le
        }],
        ..Decoded::default()
    };
    let mut i = from;
    while out.bytes.len() < want {
        let (Some(&a), Some(&b)) = (buf.get(i), buf.get(i + 1)) else {
            break;
        };
        let unit = if big {
            u16::from(a) << 8 | u16::from(b)
        } else {
            u16::from(b) << 8 | u16::from(a)
        };
        // Non-ASCII code units cannot be part of a key: any non-key byte stands for them.
        let byte = u8::try_from(unit).ok().filter(u8::is_ascii).unwrap_or(0xFF);
        out.push(byte, i, i + 2);
        i += 2;
    }
    Some(out)
}

fn hex(buf: &[u8], at: usize, want: usize) -> Option<Decoded> {
    let pair = |i: usize| -> Option<u8> {
        Some(hex_value(*buf.get(i)?)? << 4 | hex_value(*buf.get(i + 1)?)?)
    };
    let from = match at.checked_sub(2) {
        Some(i) if pair(i).is_some() => i,
        _ => at,
    };
    let mut out = Decoded {
        at: (at - from) / 2,
        encoding: vec![Encoding::Hex],
        ..Decoded::default()
    };
    let mut i = from;
    while out.bytes.len() < want {
        let Some(byte) = pair(i) else { break };
        out.push(byte, i, i + 2);
        i += 2;
    }
    Some(out)
}

/// One item of a C byte array at `i`: `0x` and two hex digits (either case).
fn c_item(buf: &[u8], i: usize) -> Option<u8> {
    match buf.get(i..i + 4)? {
        [b'0', b'x' | b'X', a, b] => Some(hex_value(*a)? << 4 | hex_value(*b)?),
        _ => None,
    }
}

/// Whitespace between the items of a C byte array (a line break and indentation included).
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Where the item before the one at `i` starts (items are separated by `,` and whitespace).
fn c_item_before(buf: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    // Whitespace of at most a line break and an indentation.
    let mut spaces = 0;
    while j > 0 && buf.get(j - 1).copied().is_some_and(is_c_space) && spaces < C_ITEM_SPAN * 4 {
        j -= 1;
        spaces += 1;
    }
    let comma = j.checked_sub(1)?;
    if buf.get(comma) != Some(&b',') {
        return None;
    }
    let start = comma.checked_sub(4)?;
    c_item(buf, start).map(|_| start)
}

/// Where the item after the one at `i` starts.
fn c_item_after(buf: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 4;
    if buf.get(j) != Some(&b',') {
        return None;
    }
    j += 1;
    let mut spaces = 0;
    while buf.get(j).copied().is_some_and(is_c_space) && spaces < C_ITEM_SPAN * 4 {
        j += 1;
        spaces += 1;
    }
    c_item(buf, j).map(|_| j)
}

/// Reads a C byte array at the needle match `at` (`lead` items after the prefix's first).
fn c_bytes(buf: &[u8], at: usize, lead: usize, want: usize) -> Option<Decoded> {
    let mut start = at;
    for _ in 0..lead {
        start = c_item_before(buf, start)?;
    }
    // One item before the text, for the glue check.
    let (from, before) = match c_item_before(buf, start) {
        Some(i) => (i, 1),
        None => (start, 0),
    };
    let mut out = Decoded {
        at: before,
        encoding: vec![Encoding::CBytes],
        ..Decoded::default()
    };
    let mut i = Some(from);
    while out.bytes.len() < want {
        let Some(pos) = i else { break };
        let Some(byte) = c_item(buf, pos) else { break };
        out.push(byte, pos, pos + 4);
        i = c_item_after(buf, pos);
    }
    Some(out)
}

/// Reads text starting at `at` with percent-encoding (also double: `%255F`, #22),
/// `\uXXXX`/`\xXX` escapes, HTML numeric entities and quoted-printable (`=5F`, soft line
/// breaks `=\r\n` joined; #22) decoded, at most `want` bytes; `None` when none of them occurs
/// (the plain read covers that). The encoding named is the first kind met.
pub(crate) fn unescape(buf: &[u8], at: usize, want: usize) -> Option<Decoded> {
    let mut out = Decoded::default();
    let mut label: Option<&'static [Encoding]> = None;
    let mut i = at;
    while out.bytes.len() < want {
        let Some(&b) = buf.get(i) else { break };
        let rest = buf.get(i..).unwrap_or_default();
        if let Some(len) = soft_break_len(buf, i) {
            label.get_or_insert(&[Encoding::QuotedPrintable]);
            i += len;
            continue;
        }
        match escape_at(rest) {
            Some((byte, len, kind)) => {
                label.get_or_insert(kind);
                out.push(byte, i, i + len);
                i += len;
            }
            None => {
                out.push(b, i, i + 1);
                i += 1;
            }
        }
    }
    out.encoding = label?.to_vec();
    Some(out)
}

/// Shortest and longest line, its closing `=` included, that a quoted-printable encoder ends
/// with a soft line break: RFC 2045 allows 76 characters (Python's `email` writes 78), and
/// encoders fill lines up to that (a little less to keep an `=XX` whole). A shorter line
/// ending in `=` is text, not a wrap.
const QP_WRAP: std::ops::RangeInclusive<usize> = 70..=QP_MAX_LINE_BYTES;

/// Longest line of quoted-printable text read back over, its `=` included.
pub(crate) const QP_MAX_LINE_BYTES: usize = 78;

/// The length of a quoted-printable soft line break (`=\r\n` or `=\n`) at `i` of `buf`, when
/// the line it ends has the length of a wrapped one (`QP_WRAP`) and holds only printable ASCII.
fn soft_break_len(buf: &[u8], i: usize) -> Option<usize> {
    let len = match buf.get(i..)? {
        [b'=', b'\r', b'\n', ..] => 3,
        [b'=', b'\n', ..] => 2,
        _ => return None,
    };
    let from = i.saturating_sub(*QP_WRAP.end());
    let before = buf.get(from..i)?;
    let line = match memchr::memrchr(b'\n', before) {
        Some(nl) => before.get(nl + 1..)?,
        None if from == 0 => before,
        None => return None,
    };
    // Quoted-printable text is 7-bit: anything else is encoded.
    let ascii = line
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7F).contains(&b));
    (ascii && QP_WRAP.contains(&(line.len() + 1))).then_some(len)
}

/// Whether a quoted-printable soft line break starts in `buf` at `from` or in the `len` bytes
/// after it: a key there may go on on the next line.
pub(crate) fn has_soft_break(buf: &[u8], from: usize, len: usize) -> bool {
    let end = (from + len).min(buf.len());
    buf.get(from..end).is_some_and(|s| {
        memchr::memchr_iter(b'=', s).any(|i| soft_break_len(buf, from + i).is_some())
    })
}

const PERCENT: &[Encoding] = &[Encoding::Percent];
const PERCENT_TWICE: &[Encoding] = &[Encoding::Percent, Encoding::Percent];
const ESCAPE: &[Encoding] = &[Encoding::Escape];
const ENTITY: &[Encoding] = &[Encoding::HtmlEntity];
const QP: &[Encoding] = &[Encoding::QuotedPrintable];

/// The escape at the start of `s`: the byte it stands for, its length and its encodings
/// (outermost first). Escapes of non-ASCII characters are left alone (no key byte is one).
fn escape_at(s: &[u8]) -> Option<(u8, usize, &'static [Encoding])> {
    let hex_number = |digits: &[u8]| -> Option<u32> {
        digits
            .iter()
            .try_fold(0u32, |acc, &d| Some(acc * 16 + u32::from(hex_value(d)?)))
    };
    let ascii = |v: u32| u8::try_from(v).ok().filter(u8::is_ascii);
    match s {
        // #22: `%25` is `%`: `%255F` is `%5F` encoded again.
        [b'%', b'2', b'5', a, b, ..] if hex_value(*a).is_some() && hex_value(*b).is_some() => {
            Some((ascii(hex_number(&[*a, *b])?)?, 5, PERCENT_TWICE))
        }
        [b'%', a, b, ..] => Some((ascii(hex_number(&[*a, *b])?)?, 3, PERCENT)),
        [b'=', a, b, ..] => Some((ascii(hex_number(&[*a, *b])?)?, 3, QP)),
        [b'\\', b'u', rest @ ..] => Some((ascii(hex_number(rest.get(..4)?)?)?, 6, ESCAPE)),
        [b'\\', b'x', rest @ ..] => Some((ascii(hex_number(rest.get(..2)?)?)?, 4, ESCAPE)),
        [b'&', b'#', b'x' | b'X', rest @ ..] => {
            let end = rest.iter().take(7).position(|&c| c == b';')?;
            let v = hex_number(rest.get(..end).filter(|d| !d.is_empty())?)?;
            Some((ascii(v)?, end + 4, ENTITY))
        }
        [b'&', b'#', rest @ ..] => {
            let end = rest.iter().take(7).position(|&c| c == b';')?;
            let digits = rest.get(..end).filter(|d| !d.is_empty())?;
            let v = digits.iter().try_fold(0u32, |acc, &d| {
                d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
            })?;
            Some((ascii(v)?, end + 3, ENTITY))
        }
        _ => None,
    }
}

/// Longest ANSI CSI sequence looked back over (`\x1b[38;2;255;128;0m` is 19 bytes).
const MAX_CSI_BYTES: usize = 32;

/// Whether the bytes before `pos` end in an escape (`%3D`, `%253D`, `=3D`, `\u003d`, `\x3d`,
/// `\n`, `\t`, `\r`) or an ANSI colour or CSI sequence (`\x1b[31m`, also written `\u001b[`,
/// `\x1b[`, `\033[` in JSON and source) rather than in the letter or digit they end with: an
/// encoded delimiter, a colour change in a CI log or a notebook traceback is a boundary (#14,
/// #22). A quoted-printable `=XX` counts only when it stands for a character that is not a
/// letter or digit.
pub(crate) fn escape_ends_at(buf: &[u8], pos: usize) -> bool {
    let before = |n: usize| pos.checked_sub(n).and_then(|i| buf.get(i..pos));
    let hex = |s: &[u8]| s.iter().all(|&b| hex_value(b).is_some());
    let not_alnum = |a: u8, b: u8| {
        hex_value(a)
            .zip(hex_value(b))
            .is_some_and(|(a, b)| !(a << 4 | b).is_ascii_alphanumeric())
    };
    matches!(before(3), Some([b'%', a, b]) if hex(&[*a, *b]))
        || matches!(before(5), Some([b'%', b'2', b'5', a, b]) if hex(&[*a, *b]))
        || matches!(before(3), Some([b'=', a, b]) if not_alnum(*a, *b))
        || matches!(before(6), Some([b'\\', b'u', rest @ ..]) if hex(rest))
        || matches!(before(4), Some([b'\\', b'x', a, b]) if hex(&[*a, *b]))
        || matches!(before(2), Some([b'\\', b'n' | b't' | b'r']))
        || csi_ends_at(buf, pos)
}

/// Whether an ANSI CSI sequence (introducer, `[`, parameters `0-9;:?`, a final letter) ends
/// right before `pos`.
fn csi_ends_at(buf: &[u8], pos: usize) -> bool {
    let Some(last) = pos.checked_sub(1) else {
        return false;
    };
    if !buf.get(last).is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let from = pos.saturating_sub(MAX_CSI_BYTES);
    let window = buf.get(from..last).unwrap_or_default();
    let params = window
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b';' | b':' | b'?'))
        .count();
    let Some(open) = window.len().checked_sub(params + 1) else {
        return false;
    };
    if window.get(open) != Some(&b'[') {
        return false;
    }
    let intro = window.get(..open).unwrap_or_default();
    intro.ends_with(b"\x1b")
        || intro.ends_with(b"\\u001b")
        || intro.ends_with(b"\\u001B")
        || intro.ends_with(b"\\x1b")
        || intro.ends_with(b"\\x1B")
        || intro.ends_with(b"\\033")
        || intro.ends_with(b"\\e")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(data: &[u8]) -> String {
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn a_short_prefix_gets_no_needle_shorter_than_the_minimum() {
        for prefix in [&b"ab_"[..], b"ghp_", b"sk-", b"leadey_sk_live_"] {
            for depth in 0..=MAX_DECODE_DEPTH {
                for n in needles(prefix, prefix.len() + 40, depth) {
                    assert!(
                        n.bytes.len() >= MIN_PIECE_LEN.min(prefix.len()),
                        "{prefix:?} depth {depth}: {:?}",
                        n.bytes
                    );
                }
            }
        }
        assert_eq!(needles(b"leadey_sk_live_", 79, 2).len(), 31);
    }

    #[test]
    fn base64_needles_are_substrings_of_every_alignment() {
        let prefix = b"leadey_sk_live_";
        for align in 0..3 {
            let (needle, lead) = base64_needle(prefix, align);
            assert!(needle.len() >= 18, "{align}: {}", needle.len());
            for pad_len in (align..7).step_by(3) {
                let mut text = b"xyzxyz".get(..pad_len).unwrap_or_default().to_vec();
                text.extend_from_slice(prefix);
                text.extend_from_slice(b"AbCdEf");
                let enc = b64(&text);
                let at = memchr::memmem::find(enc.as_bytes(), &needle).expect("needle found");
                let d = base64(enc.as_bytes(), at, align, lead, 1, 40, true).expect("decodes");
                assert_eq!(
                    d.bytes.get(d.at..d.at + prefix.len()),
                    Some(&prefix[..]),
                    "align {align}, pad {pad_len}"
                );
            }
        }
    }

    #[test]
    fn escapes_decode_and_end_as_boundaries() {
        let d = unescape(b"leadey%5Fsk\\u005flive&#95;x&#x5F;", 0, 100).expect("escaped");
        assert_eq!(d.bytes, b"leadey_sk_live_x_");
        assert_eq!(d.encoding, [Encoding::Percent]);
        let d = unescape(b"leadey%255Fsk=5Flive_x", 0, 100).expect("escaped");
        assert_eq!(d.bytes, b"leadey_sk_live_x");
        assert_eq!(d.encoding, [Encoding::Percent, Encoding::Percent]);
        assert_eq!(d.source_range(6..7), Some(6..11));
        // A soft line break at the end of a line of 76 is joined; one after a short line not.
        let mut wrapped = vec![b'x'; 66];
        wrapped.extend_from_slice(b" lead=\r\ney=5Fsk");
        let d = unescape(&wrapped, 67, 100).expect("escaped");
        assert_eq!(d.bytes, b"leadey_sk");
        assert_eq!(d.encoding, [Encoding::QuotedPrintable]);
        let d = unescape(b"lead=\ney=5Fsk", 0, 100).expect("escaped");
        assert_eq!(d.bytes, b"lead=\ney_sk");
        assert!(escape_ends_at(b"a%253Dk", 6));
        assert!(escape_ends_at(b"KEY=3Dk", 6));
        assert!(!escape_ends_at(b"id=41k", 5), "=41 is a letter");
        assert!(escape_ends_at(b"\x1b[31mk", 5));
        assert!(escape_ends_at(b"\x1b[1;32mk", 7));
        assert!(escape_ends_at(b"\\u001b[0;31mk", 12));
        assert!(!escape_ends_at(b"[31mk", 4), "no introducer");
        assert!(
            !escape_ends_at(b"\x1b[31k", 6),
            "a digit, not a final letter"
        );
        let d = unescape(b"leadey%5Fsk", 0, 100).expect("escaped");
        assert_eq!(d.source_range(6..7), Some(6..9));
        assert!(unescape(b"leadey_sk", 0, 100).is_none());
        assert!(escape_ends_at(b"a%3Dk", 4));
        assert!(escape_ends_at(b"\\u003dk", 6));
        assert!(escape_ends_at(b"\\nk", 2));
        assert!(!escape_ends_at(b"ak", 1));
        assert!(!escape_ends_at(b"%3Gk", 3));
    }

    #[test]
    fn utf16_byte_order_from_a_bom_or_the_offset_parity() {
        let le: Vec<u8> = utf16le(b"=leadey");
        assert!(!is_big_endian(&le, 2, Some(0)));
        assert!(!is_big_endian(&le, 2, None));
        let be: Vec<u8> = b"=leadey".iter().flat_map(|&b| [0, b]).collect();
        // The LE needle matches BE text one byte later: at an odd offset.
        assert!(is_big_endian(&be, 3, Some(0)));
        assert!(
            !is_big_endian(&be, 3, Some(1)),
            "a run at an odd start is LE"
        );
        let d = utf16(&be, 3, 10, Some(0)).expect("decodes");
        assert_eq!(d.encoding, [Encoding::Utf16Be]);
        assert_eq!(&d.bytes[d.at..], b"leadey");
        // A mark decides whatever the offset.
        let bom: Vec<u8> = [0xFE, 0xFF, 0, b'l', 0, b'e'].to_vec();
        assert!(is_big_endian(&bom, 3, None));
        let bom: Vec<u8> = [0, 0xFF, 0xFE, b'l', 0, b'e'].to_vec();
        assert!(!is_big_endian(&bom, 3, Some(0)));
    }

    #[test]
    fn encodings_serialize_as_the_names_reports_show() {
        let names: Vec<String> = Encoding::ALL
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"base64\"",
                "\"utf-16le\"",
                "\"utf-16be\"",
                "\"hex\"",
                "\"percent\"",
                "\"escape\"",
                "\"html-entity\"",
                "\"quoted-printable\"",
                "\"c-bytes\""
            ]
        );
        assert_eq!(Encoding::Utf16Le.to_string(), "utf-16le");
        assert_eq!(Encoding::Compressed("gzip").to_string(), "gzip");
    }
}

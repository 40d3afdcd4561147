//! Base64 that holds a compressed stream or an archive (#22): a Helm release record
//! (base64 of base64 of gzip), a CloudWatch Logs subscription event (base64 of gzip), a mail
//! attachment (MIME base64 of a zip), a `data:application/zip;base64,` URI. Such content has no
//! fixed needle for a key, but its base64 starts with the encoding of the format's magic bytes
//! (gzip's `1f 8b 08` is `H4sI`, base64 of that `SDRzS`; zip's `PK\x03\x04` is `UEsDB`): those
//! are needles of the detector's one pass, and a run that starts with one is decoded here,
//! streaming, as the chunks of the input go by, into bounded memory. The scanner
//! (`blob::Scanner`) hands the decoded bytes to the unpackers. Pure: knows nothing of formats
//! beyond these magic bytes, and never unpacks.

use super::{base64_needle, base64_value, Encoding, MAX_WRAP_WIDTH, MIN_WRAP_WIDTH};

/// The magic bytes, at the start of a blob, of the formats whose base64 is looked for: gzip,
/// zip, xz, zstd and bzip2 (level 9, the default, with its block magic).
const MAGICS: &[&[u8]] = &[
    &[0x1f, 0x8b, 0x08],
    b"PK\x03\x04",
    &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
    &[0x28, 0xb5, 0x2f, 0xfd],
    b"BZh91AY&SY",
];

/// Fewest decoded bytes of a run worth handing to the unpackers: a gzip header and trailer
/// alone are 18 bytes, a zip's smallest member with its directory far more. A shorter run (a
/// `H4sI` in prose) is not a container.
pub const MIN_RUN_BYTES: usize = 20;

/// Most decoded bytes held for the runs of one input, all together: past it a run is cut (and
/// reads as truncated to the unpackers). Memory stays bounded whatever the input.
pub const MAX_RUN_BYTES: usize = 32 << 20;

/// Whether decoded run `bytes` has the header of the format its magic names, beyond the magic
/// (base64 of random bytes holds the magic's encoding by chance): gzip's reserved flag bits
/// clear, its extra-flags byte and OS byte valid; a zip's version needed and reserved flag
/// bits plausible. Other formats' magic bytes are long enough alone.
pub fn is_plausible(bytes: &[u8]) -> bool {
    match bytes {
        [0x1f, 0x8b, 0x08, flags, _, _, _, _, xfl, os, ..] => {
            flags & 0xE0 == 0 && matches!(xfl, 0 | 2 | 4) && (*os <= 13 || *os == 255)
        }
        [b'P', b'K', 3, 4, version, 0, flags_lo, flags_hi, ..] => {
            *version <= 63 && flags_hi & 0xD0 == 0 && flags_lo & 0x80 == 0
        }
        [0x1f, 0x8b, ..] | [b'P', b'K', ..] => false,
        _ => true,
    }
}

/// The needles of base64 runs for `depth` nested encodings: the base64 of each magic (depth 1)
/// and the base64 of that (depth 2), each with the number of base64 layers it stands for.
/// Each run starts with its magic: only the alignment where the encoded string starts a group.
pub(crate) fn needles(depth: u32) -> Vec<(Vec<u8>, u8)> {
    let mut out = Vec::new();
    for magic in MAGICS {
        if depth >= 1 {
            let (once, _) = base64_needle(magic, 0);
            if depth >= 2 {
                let (twice, _) = base64_needle(&once, 0);
                out.push((twice, 2));
            }
            out.push((once, 1));
        }
    }
    out
}

/// A base64 decoder fed one byte at a time: either alphabet, lines wrapped as MIME and PEM wrap
/// them (a line break goes on only after a line of whole groups, `MIN_WRAP_WIDTH` to
/// `MAX_WRAP_WIDTH` characters, when a base64 character other than `-` follows it).
#[derive(Debug, Default, Clone)]
struct Base64Stream {
    acc: u32,
    n: u8,
    line: usize,
    /// 0: in a line; 1: after `\r`; 2: after the line break.
    brk: u8,
}

impl Base64Stream {
    /// Reads `b`; decoded bytes go to `out`. `false`: `b` is not part of the run (it ends).
    fn step(&mut self, b: u8, out: &mut impl FnMut(u8)) -> bool {
        match self.brk {
            1 if b == b'\n' => {
                self.brk = 2;
                return true;
            }
            1 => return false,
            2 if b == b'-' || base64_value(b).is_none() => return false,
            2 => {
                self.brk = 0;
                self.line = 0;
            }
            _ => {}
        }
        if b == b'\r' || b == b'\n' {
            let wrapped = (MIN_WRAP_WIDTH..=MAX_WRAP_WIDTH).contains(&self.line)
                && self.line.is_multiple_of(4)
                && self.n == 0;
            if !wrapped {
                return false;
            }
            self.brk = if b == b'\r' { 1 } else { 2 };
            return true;
        }
        let Some(v) = base64_value(b) else {
            return false;
        };
        self.line += 1;
        self.acc = self.acc << 6 | u32::from(v);
        self.n += 1;
        if self.n == 4 {
            let [_, a, b, c] = self.acc.to_be_bytes();
            out(a);
            out(b);
            out(c);
            self.n = 0;
            self.acc = 0;
        }
        true
    }

    /// Emits the bytes of a last, partial group.
    fn finish(&mut self, out: &mut impl FnMut(u8)) {
        let n = self.n;
        if n >= 2 {
            let acc = self.acc << (6 * (4 - u32::from(n)));
            let [_, a, b, c] = acc.to_be_bytes();
            out(a);
            if n >= 3 {
                out(b);
            }
            let _ = c;
        }
        self.n = 0;
    }
}

/// A base64 run being decoded, one or two layers deep, from an input offset on.
#[derive(Debug, Clone)]
pub struct Run {
    /// Input offset of the run's first character.
    pub start: u64,
    /// Input offset after the last character read.
    pub end: u64,
    /// The layers, outermost first (emptied when the run ends).
    layers: Vec<Base64Stream>,
    /// How many layers it has.
    depth: u8,
    /// The innermost layer's bytes.
    pub bytes: Vec<u8>,
    /// Most bytes it may hold.
    cap: usize,
    /// Whether it was cut at `cap`.
    pub cut: bool,
    /// Whether it ended.
    pub done: bool,
    /// Line of its first character (1-based), as the scan counts lines.
    pub line: u64,
    /// Column of its first character (1-based), as the scan counts columns.
    pub column: u64,
}

impl Run {
    /// A run of `layers` base64 layers starting at input offset `start`, holding at most `cap`
    /// decoded bytes.
    pub fn new(start: u64, layers: u8, cap: usize) -> Run {
        Run {
            start,
            end: start,
            layers: vec![Base64Stream::default(); usize::from(layers.max(1))],
            depth: layers.max(1),
            bytes: Vec::new(),
            cap,
            cut: false,
            done: false,
            line: 1,
            column: 1,
        }
    }

    /// The encodings of the run, outermost first.
    pub fn encoding(&self) -> Vec<Encoding> {
        vec![Encoding::Base64; usize::from(self.depth)]
    }

    /// Reads `data`, the input from offset `self.end` on, until the run ends (then `done`).
    pub fn feed(&mut self, data: &[u8]) {
        for &b in data {
            if self.done {
                return;
            }
            if !self.step(b) {
                self.finish();
                return;
            }
            self.end += 1;
        }
    }

    /// Reads one input byte through every layer; `false` when the run ends before it.
    fn step(&mut self, b: u8) -> bool {
        let Run {
            layers,
            bytes,
            cap,
            cut,
            done,
            ..
        } = self;
        let (outer, inner) = match layers.split_first_mut() {
            Some(split) => split,
            None => return false,
        };
        let mut inner_ok = true;
        let ok = outer.step(b, &mut |c| {
            push_inner(inner, c, bytes, *cap, cut, &mut inner_ok);
        });
        if *cut || !inner_ok {
            *done = true;
        }
        ok && !*done
    }

    /// Ends the run: the partial groups of each layer are decoded.
    pub fn finish(&mut self) {
        if self.done && self.layers.is_empty() {
            return;
        }
        let Run {
            layers,
            bytes,
            cap,
            cut,
            ..
        } = self;
        for i in 0..layers.len() {
            let (head, tail) = layers.split_at_mut(i + 1);
            if let Some(layer) = head.last_mut() {
                let mut ok = true;
                layer.finish(&mut |c| push_inner(tail, c, bytes, *cap, cut, &mut ok));
            }
        }
        layers.clear();
        self.done = true;
    }
}

/// Hands byte `c` of a layer to the layers below it (`inner`), or to `bytes` at the bottom.
fn push_inner(
    inner: &mut [Base64Stream],
    c: u8,
    bytes: &mut Vec<u8>,
    cap: usize,
    cut: &mut bool,
    ok: &mut bool,
) {
    if !*ok || *cut {
        return;
    }
    match inner.split_first_mut() {
        None => {
            if bytes.len() >= cap {
                *cut = true;
            } else {
                bytes.push(c);
            }
        }
        Some((layer, rest)) => {
            let step = layer.step(c, &mut |d| push_inner(rest, d, bytes, cap, cut, ok));
            if !step {
                *ok = false;
            }
        }
    }
}

/// The runs of one input as its chunks go by: a run starts at a needle match and is fed the
/// input from there, across chunk boundaries, until it ends; only one is read at a time
/// (matches inside a run being read are part of it).
#[derive(Debug, Default)]
pub struct Runs {
    active: Option<Run>,
    /// Finished runs long enough to hand on.
    pub finished: Vec<Run>,
    held: usize,
}

impl Runs {
    /// Whether a run is being read (the next chunk must be fed even without a start in it).
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// Reads `chunk` (its first byte at input offset `base`; overlapping the chunk before it)
    /// with the runs starting at `starts` (input offsets in increasing order, each with its
    /// layers); `eof`: the input ends with this chunk. `place` gives the line and column of
    /// the start of each run begun (in increasing order).
    pub fn feed(
        &mut self,
        chunk: &[u8],
        base: u64,
        starts: &[(u64, u8)],
        eof: bool,
        place: &mut dyn FnMut(u64) -> (u64, u64),
    ) {
        let mut next = starts.iter().peekable();
        loop {
            if let Some(run) = self.active.as_mut() {
                let from = usize::try_from(run.end.saturating_sub(base)).unwrap_or(usize::MAX);
                // Fed up to the next start at most: a start inside the run is part of it.
                run.feed(chunk.get(from..).unwrap_or_default());
                if !run.done && !eof {
                    // Goes on in the next chunk; starts before its end are inside it.
                    return;
                }
                let mut run = self.active.take().expect("checked above");
                run.finish();
                let end = run.end;
                self.keep(run);
                while next.peek().is_some_and(|s| s.0 < end) {
                    next.next();
                }
            }
            let Some(&(start, layers)) = next.next() else {
                return;
            };
            let cap = MAX_RUN_BYTES.saturating_sub(self.held);
            let mut run = Run::new(start, layers, cap);
            (run.line, run.column) = place(start);
            self.active = Some(run);
        }
    }

    fn keep(&mut self, run: Run) {
        if run.bytes.len() >= MIN_RUN_BYTES {
            self.held += run.bytes.len();
            self.finished.push(run);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(data: &[u8]) -> String {
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
        out
    }

    #[test]
    fn needles_are_the_base64_of_the_magic_bytes() {
        let n = needles(2);
        assert!(n.contains(&(b"H4sI".to_vec(), 1)));
        assert!(n.contains(&(b"SDRzS".to_vec(), 2)));
        assert!(n.contains(&(b"UEsDB".to_vec(), 1)));
        assert!(needles(0).is_empty());
        assert_eq!(needles(1).len(), MAGICS.len());
    }

    fn decode(text: &[u8], layers: u8, step: usize) -> Run {
        let mut runs = Runs::default();
        let start = 4u64;
        let mut base = 0;
        // Chunks of `step` bytes that overlap by 3, as the scan's chunks overlap.
        while base < text.len() {
            let end = (base + step).min(text.len());
            // Each start is found once, in the first chunk (as the scan's accept ranges do).
            let starts: Vec<(u64, u8)> = [(start, layers)]
                .into_iter()
                .filter(|_| base == 0)
                .collect();
            let eof = end == text.len();
            runs.feed(&text[base..end], base as u64, &starts, eof, &mut |_| (1, 1));
            if end == text.len() {
                break;
            }
            base = end.saturating_sub(3).max(base + 1);
        }
        runs.finished.pop().expect("a run")
    }

    #[test]
    fn a_run_decodes_the_same_at_every_chunk_size_across_wrapped_lines() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        let enc = b64(&data);
        let wrapped: Vec<String> = enc
            .as_bytes()
            .chunks(76)
            .map(|l| String::from_utf8(l.to_vec()).unwrap())
            .collect();
        let text = format!("x: \"{}\"\r\n--boundary\r\n", wrapped.join("\r\n"));
        for step in [5, 16, 77, 1000] {
            let run = decode(text.as_bytes(), 1, step);
            assert_eq!(run.bytes, data, "step {step}");
            assert_eq!(run.end as usize, 4 + enc.len() + 2 * (wrapped.len() - 1));
        }
        let twice = format!("kk: {}\n  type: x\n", b64(enc.as_bytes()));
        let run = decode(twice.as_bytes(), 2, 33);
        assert_eq!(run.bytes, data);
        assert_eq!(run.encoding(), [Encoding::Base64, Encoding::Base64]);
    }

    #[test]
    fn a_line_break_after_a_short_line_ends_the_run() {
        let text = b"key=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\nQUJD\n";
        let run = decode(text, 1, 1000);
        assert_eq!(run.bytes, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    }

    #[test]
    fn only_plausible_headers_are_handed_on() {
        assert!(is_plausible(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1]));
        assert!(is_plausible(&[0x1f, 0x8b, 8, 8, 1, 2, 3, 4, 2, 3, 1]));
        assert!(!is_plausible(&[0x1f, 0x8b, 8, 0xE0, 0, 0, 0, 0, 0, 3]));
        assert!(!is_plausible(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 7, 3]));
        assert!(is_plausible(b"PK\x03\x04\x14\x00\x08\x08"));
        assert!(!is_plausible(b"PK\x03\x04\xf0\x00\x00\x00"));
    }

    #[test]
    fn runs_are_cut_at_their_cap() {
        let mut run = Run::new(0, 1, 30);
        run.feed(b64(&[7u8; 100]).as_bytes());
        assert!(run.cut && run.done);
        assert_eq!(run.bytes.len(), 30);
    }
}

//! The detector: rules + a byte chunk + its base offset in, candidates out. Pure: no I/O, no
//! printing, no globals, so it is `Sync` and runs on any thread. Snippets are redacted here,
//! before any other stage sees them.

pub mod allow;
mod builtin;
pub mod entropy;
mod hit;

pub use hit::Hit;

pub use builtin::redact_builtin;

use std::borrow::Cow;
use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::decode::{self, Encoding, Form};
use crate::finding::{mask_parts, Key};
use crate::rules::{Rule, RuleId, RuleSet};

/// Bytes of context kept on each side of a key in a snippet (before cutting to tokens).
pub const SNIPPET_CONTEXT_BYTES: usize = 60;

/// Nested encodings decoded by default (`--max-decode-depth`, #14).
pub const DEFAULT_DECODE_DEPTH: u32 = 2;

/// Bytes after a body that the documentation-form check looks at (`...x`).
const LOOKAHEAD_BYTES: usize = 8;

/// Bodies shorter than this are left visible in snippets: they are too short to be keys and
/// showing them explains documentation forms such as `leadey_sk_live_Xy3f…a1b2`.
const SNIPPET_MASK_MIN_BODY: usize = 8;

/// A key the rules accept, before it gets a path and a line.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index of the rule in the detector's rule list.
    pub rule_index: usize,
    /// Id of that rule.
    pub rule_id: RuleId,
    /// Absolute byte offset of the first matched byte (the key's first byte for a plain key).
    pub offset: u64,
    /// Bytes matched from `offset`: the key's length for a plain key, the length of its
    /// encoded form otherwise (#14). Snippet masking and SARIF regions use it.
    pub span_len: usize,
    /// The encodings the key was found in, outermost first (`["base64", "base64"]`,
    /// `["percent"]`…); empty for a plain key.
    pub encoding: Vec<Encoding>,
    /// The full key.
    pub key: Key,
    /// Entropy of the body, bits per character.
    pub entropy: f64,
    /// The redacted line around the key.
    pub snippet: String,
    /// Character index of the masked key in `snippet`.
    pub snippet_key_start: usize,
    /// The allow marker (`allow::ALLOW_MARKERS`) on the key's line, as far as the chunk holds
    /// the line (#7).
    pub allow_marker: Option<&'static str>,
}

/// Why a prefix occurrence was not reported (used by tests and `--explain`-style debugging).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// A letter or digit right before the prefix.
    GluedBefore,
    /// A letter or digit right after the body, or a body longer than the maximum.
    TooLongOrGlued,
    /// A body shorter than the minimum.
    TooShort,
    /// Followed by an ellipsis: a documentation form.
    Elided,
    /// Contains a placeholder word.
    PlaceholderWord,
    /// Entropy below the rule's minimum.
    LowEntropy,
    /// The body repeats a shorter pattern.
    Periodic,
    /// Mostly sequential or keyboard-row characters.
    Sequence,
    /// Mostly dictionary words (`YourLeadeyKeyHere2024`, #14).
    PlaceholderWords,
}

/// One byte string the prefilter looks for (#12): one multi-literal pass finds every needle of
/// every rule, and a match is only then read and checked by its rule. Decoders (#14) add the
/// encoded forms of each prefix (`decode::needles`).
#[derive(Debug, Clone)]
struct Needle {
    /// Index of the rule in `Detector::rules`.
    rule_index: usize,
    /// How a match is read.
    form: Form,
}

/// A key read at one needle match, before it is kept or dropped by the accept range.
#[derive(Debug)]
struct Found {
    rule_index: usize,
    /// Chunk positions of the key as written (plain or encoded).
    span: Range<usize>,
    key: Key,
    entropy: f64,
    encoding: Vec<Encoding>,
}

/// Compiled rules, ready to scan bytes.
#[derive(Debug, Clone)]
pub struct Detector {
    rules: Vec<Rule>,
    ids: Vec<RuleId>,
    needles: Vec<Needle>,
    /// Finds every needle's bytes in one pass (pattern ids index `needles`).
    searcher: AhoCorasick,
    max_span: usize,
}

impl Detector {
    /// A detector for every rule of `rules`, decoding encoded keys up to the default depth.
    pub fn new(rules: &RuleSet) -> Detector {
        Detector::with_decode_depth(rules, DEFAULT_DECODE_DEPTH)
    }

    /// A detector for every rule of `rules` that decodes up to `depth` nested encodings
    /// (`--max-decode-depth`; 0: plain keys only; above `decode::MAX_DECODE_DEPTH` acts as it).
    pub fn with_decode_depth(rules: &RuleSet, depth: u32) -> Detector {
        let rules = rules.rules().to_vec();
        let ids = rules.iter().map(|r| RuleId::new(&r.id)).collect();
        let depth = depth.min(decode::MAX_DECODE_DEPTH);
        let mut needles = Vec::new();
        let mut patterns = Vec::new();
        let mut max_span = 0;
        for (rule_index, rule) in rules.iter().enumerate() {
            for spec in decode::needles(&rule.prefix, rule.max_key_len(), depth) {
                max_span = max_span.max(spec.max_span);
                patterns.push(spec.bytes);
                needles.push(Needle {
                    rule_index,
                    form: spec.form,
                });
            }
        }
        // #22: base64 runs of compressed streams and archives, whatever the rules (needles of
        // no rule: `rule_index` is unused).
        if !rules.is_empty() {
            for (bytes, layers) in decode::packed::needles(depth) {
                patterns.push(bytes);
                needles.push(Needle {
                    rule_index: 0,
                    form: Form::Packed(layers),
                });
            }
        }
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)
            .expect("needles are short byte strings, well within aho-corasick's limits");
        Detector {
            rules,
            ids,
            needles,
            searcher,
            max_span,
        }
    }

    /// The rule of needle `n`.
    fn needle_rule(&self, n: &Needle) -> &Rule {
        self.rules
            .get(n.rule_index)
            .expect("a needle's rule index points into the detector's rules (built together)")
    }

    /// The rules, in the order `Candidate::rule_index` refers to.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The id of rule `rule_index` (an index this detector gave out).
    pub fn rule_id(&self, rule_index: usize) -> RuleId {
        self.ids
            .get(rule_index)
            .cloned()
            .expect("rule indices come from this detector's rule list")
    }

    /// Bytes a chunk must extend past the last accepted start so that any key starting there,
    /// its trailing context and the look-ahead are all inside the chunk.
    pub fn overlap_bytes(&self) -> usize {
        self.max_span + 1 + LOOKAHEAD_BYTES + SNIPPET_CONTEXT_BYTES
    }

    /// Bytes of already-scanned input kept before the first accepted start of a chunk (the
    /// byte before a prefix and the snippet's leading context).
    pub fn context_bytes(&self) -> usize {
        // #22: a quoted-printable soft line break is joined by the length of the line it ends,
        // which may start before the key: that line start must be in every chunk.
        SNIPPET_CONTEXT_BYTES.max(decode::QP_MAX_LINE_BYTES) + 1
    }

    /// Whether `bytes` contain any needle (the cheap first pass): `false` means no key can be
    /// in them.
    pub fn has_needle(&self, bytes: &[u8]) -> bool {
        self.searcher.is_match(bytes)
    }

    /// Every key of `chunk` (plain or encoded) that one needle match reads, in offset order,
    /// one per start and rule.
    /// Starts of base64 runs of compressed content (#22) go to `runs` (chunk position and
    /// base64 layers).
    fn find_all(&self, chunk: &[u8], base: u64, runs: &mut Vec<(usize, u8)>) -> Vec<Found> {
        let mut found: Vec<Found> = Vec::new();
        for m in self.searcher.find_iter(chunk) {
            let Some(needle) = self.needles.get(m.pattern().as_usize()) else {
                continue;
            };
            if let Form::Packed(layers) = needle.form {
                // #22: the archive is the whole encoded string: it starts there (a match inside
                // a longer base64 string is chance, in random base64 once per 16M places).
                let inside = m
                    .start()
                    .checked_sub(1)
                    .and_then(|i| chunk.get(i))
                    .is_some_and(|&b| decode::is_base64_char(b));
                if !inside {
                    runs.push((m.start(), layers));
                }
                continue;
            }
            if let Some(f) = self.read(needle, chunk, base, m.start()) {
                found.push(f);
            }
        }
        if found.len() > 1 {
            found.sort_by_key(|f| (f.span.start, f.rule_index));
            found.dedup_by_key(|f| (f.span.start, f.rule_index));
        }
        found
    }

    /// The key that the match of `needle` at `pos` of `chunk` (at input offset `base`) stands
    /// for, if its rule accepts it.
    fn read(&self, needle: &Needle, chunk: &[u8], base: u64, pos: usize) -> Option<Found> {
        let rule = self.needle_rule(needle);
        let plain = |pos: usize| {
            let (body_len, entropy) = check(rule, chunk, pos).ok()?;
            let span = pos..pos + rule.prefix.len() + body_len;
            Some(Found {
                rule_index: needle.rule_index,
                key: Key::new(chunk.get(span.clone())?, rule.prefix.len()),
                span,
                entropy,
                encoding: Vec::new(),
            })
        };
        // What reading a key looks at: one unit before it, the key, the glue and look-ahead.
        let want = 2 + rule.max_key_len() + 1 + LOOKAHEAD_BYTES;
        let decoded = match &needle.form {
            Form::Plain => return plain(pos),
            Form::Packed(_) => return None,
            Form::Trigger => {
                let rest = chunk.get(pos..).unwrap_or_default();
                if rest.starts_with(&rule.prefix) {
                    let found = plain(pos);
                    // #22: a quoted-printable soft line break may cut the key's body too short
                    // to be a key: read it joined. (A plain read that succeeds wins: a key
                    // followed by `=` at the end of a line is a key.)
                    if found.is_none()
                        && decode::has_soft_break(chunk, pos, rule.max_key_len() + 1)
                        && !glued_before(chunk, pos)
                    {
                        return decode::unescape(chunk, pos, want)
                            .and_then(|d| self.accept(needle, d));
                    }
                    return found;
                }
                if glued_before(chunk, pos) {
                    return None;
                }
                decode::unescape(chunk, pos, want)?
            }
            Form::Encoded(chain) => {
                let decoded = decode::read_chain(chain, chunk, pos, want, base, true)?;
                if !decoded.wrapped {
                    decoded
                } else if let Some(found) = self.accept(needle, decoded) {
                    return Some(found);
                } else {
                    // A line of base64 that only looked wrapped: read it alone.
                    decode::read_chain(chain, chunk, pos, want, base, false)?
                }
            }
        };
        self.accept(needle, decoded)
    }

    /// The key of `needle`'s rule at `decoded.at`, if the rule accepts it.
    fn accept(&self, needle: &Needle, decoded: decode::Decoded) -> Option<Found> {
        let rule = self.needle_rule(needle);
        let text = decoded.bytes.get(decoded.at..).unwrap_or_default();
        if !text.starts_with(&rule.prefix) {
            return None;
        }
        let (body_len, entropy) = check(rule, &decoded.bytes, decoded.at).ok()?;
        let key_range = decoded.at..decoded.at + rule.prefix.len() + body_len;
        Some(Found {
            rule_index: needle.rule_index,
            span: decoded.source_range(key_range.clone())?,
            key: Key::new(decoded.bytes.get(key_range)?, rule.prefix.len()),
            entropy,
            encoding: decoded.encoding,
        })
    }

    /// Appends to `out` every key of `chunk` whose first byte lies in `accept` (indices into
    /// `chunk`). `base` is the absolute offset of `chunk[0]`. Bytes outside `accept` are
    /// context: the byte before a prefix, the look-ahead after a body, the snippet.
    pub fn scan_chunk(
        &self,
        chunk: &[u8],
        base: u64,
        accept: Range<usize>,
        out: &mut Vec<Candidate>,
    ) {
        self.scan_chunk_runs(chunk, base, accept, out, &mut Vec::new());
    }

    /// `scan_chunk`, and the starts in `accept` of base64 runs that may hold a compressed
    /// stream or an archive (#22) appended to `runs`: their input offsets, in increasing order,
    /// with how many base64 layers deep the content is (`decode::packed`).
    pub fn scan_chunk_runs(
        &self,
        chunk: &[u8],
        base: u64,
        accept: Range<usize>,
        out: &mut Vec<Candidate>,
        runs: &mut Vec<(u64, u8)>,
    ) {
        // The whole chunk is searched: matches in the context before `accept` or in the
        // overlap after it are read too, so that the snippet of a reported key masks every
        // other key around it (plain or encoded); only keys starting in `accept` are reported.
        let mut starts = Vec::new();
        let found = self.find_all(chunk, base, &mut starts);
        runs.extend(
            starts
                .into_iter()
                .filter(|(pos, _)| accept.contains(pos))
                .map(|(pos, layers)| (base + pos as u64, layers)),
        );
        let encoded = encoded_spans(&found);
        let mut markers = allow::LineMarker::default();
        for f in &found {
            let pos = f.span.start;
            if !accept.contains(&pos) {
                continue;
            }
            let (snippet, snippet_key_start) = self.snippet(chunk, base, f.span.clone(), &encoded);
            let allow_marker = markers.at(chunk, pos);
            out.push(Candidate {
                rule_index: f.rule_index,
                rule_id: self.rule_id(f.rule_index),
                offset: base + pos as u64,
                span_len: f.span.len(),
                encoding: f.encoding.clone(),
                key: f.key.clone(),
                entropy: f.entropy,
                snippet,
                snippet_key_start,
                allow_marker,
            });
        }
    }

    /// Every key in `bytes`, scanned as one chunk.
    pub fn scan(&self, bytes: &[u8]) -> Vec<Candidate> {
        let mut out = Vec::new();
        self.scan_chunk(bytes, 0, 0..bytes.len(), &mut out);
        out
    }

    /// Why the prefix occurrence at `pos` of rule `rule_index` is or is not a key.
    pub fn classify(&self, rule_index: usize, bytes: &[u8], pos: usize) -> Result<(), Rejection> {
        match self.rules.get(rule_index) {
            Some(rule) => check(rule, bytes, pos).map(|_| ()),
            None => Ok(()),
        }
    }

    /// `text` with every key-shaped run (any rule's prefix and a body of 1 or more body
    /// characters) replaced by its masked label. For error messages and paths that quote input.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.has_needle(text.as_bytes()) {
            return Cow::Borrowed(text);
        }
        let found = self.find_all(text.as_bytes(), 0, &mut Vec::new());
        let encoded = encoded_spans(&found);
        let (masked, _) = self.mask_runs(text.as_bytes(), 1, None, &encoded);
        if masked == text {
            return Cow::Borrowed(text);
        }
        Cow::Owned(masked)
    }

    /// Lossy text of `bytes` with key-shaped runs whose body has at least `min_body` bytes
    /// masked, and the encoded keys `encoded` (ranges of `bytes`, clipped to it) replaced by
    /// their masked label; also returns the character index of the run that starts at `mark`.
    fn mask_runs(
        &self,
        bytes: &[u8],
        min_body: usize,
        mark: Option<usize>,
        encoded: &[(Range<usize>, &Key)],
    ) -> (String, usize) {
        // (start, end, replacement), and the bodies whose copies are masked too.
        let mut runs: Vec<(usize, usize, String)> = Vec::new();
        let mut bodies: Vec<&[u8]> = Vec::new();
        for rule in &self.rules {
            for pos in rule.finder.find_iter(bytes) {
                let body_start = pos + rule.prefix.len();
                let rest = bytes.get(body_start..).unwrap_or_default();
                let body_len = rule.body_re.find(rest).map_or(0, |m| m.len());
                // A body past the maximum is masked whole: it may be a key glued to more text.
                let body_len = body_len + run_len(rule, rest.get(body_len..).unwrap_or_default());
                if body_len >= min_body || Some(pos) == mark {
                    let prefix = bytes.get(pos..body_start).unwrap_or_default();
                    let body = bytes
                        .get(body_start..body_start + body_len)
                        .unwrap_or_default();
                    runs.push((pos, body_start + body_len, mask_parts(prefix, body)));
                    bodies.push(body);
                }
            }
        }
        for (range, key) in encoded {
            let start = range.start.min(bytes.len());
            let end = range.end.min(bytes.len());
            if start < end {
                runs.push((start, end, key.masked()));
                bodies.push(key.body());
            }
        }
        // #8 (found by fuzzing): a key's body can also stand elsewhere in the text without its
        // prefix (in another token, a concatenation, a comment); those copies are masked too.
        let mut copies = Vec::new();
        for body in bodies {
            if body.len() < SNIPPET_MASK_MIN_BODY {
                continue;
            }
            for pos in memchr::memmem::find_iter(bytes, body) {
                let copy_end = pos + body.len();
                if !runs.iter().any(|&(s, e, _)| pos < e && s < copy_end) {
                    copies.push((pos, copy_end, mask_parts(b"", body)));
                }
            }
        }
        runs.extend(copies);
        runs.sort_unstable();
        runs.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let mut out = String::with_capacity(bytes.len() + 8);
        let mut mark_chars = 0;
        let mut at = 0;
        for (start, end, replacement) in runs {
            if start < at {
                // Overlaps a run already masked: drop the rest of it rather than show it.
                at = at.max(end);
                continue;
            }
            out.push_str(&String::from_utf8_lossy(
                bytes.get(at..start).unwrap_or_default(),
            ));
            if Some(start) == mark {
                mark_chars = out.chars().count();
            }
            out.push_str(&replacement);
            at = end;
        }
        out.push_str(&String::from_utf8_lossy(
            bytes.get(at..).unwrap_or_default(),
        ));
        (out, mark_chars)
    }

    /// The redacted line around `key` (indices into `chunk`): at most `SNIPPET_CONTEXT_BYTES`
    /// on each side, stopped at line ends and NUL bytes (binary files), never cutting a token (so no part of another key
    /// shows), with `…` where it was cut.
    fn snippet(
        &self,
        chunk: &[u8],
        base: u64,
        key: Range<usize>,
        encoded: &[(Range<usize>, &Key)],
    ) -> (String, usize) {
        let lo = key.start.saturating_sub(SNIPPET_CONTEXT_BYTES);
        let (mut ws, mut cut_left) =
            match memchr::memrchr2(b'\n', 0, chunk.get(lo..key.start).unwrap_or_default()) {
                Some(i) => (lo + i + 1, false),
                None => (lo, lo > 0 || base > 0),
            };
        let hi = (key.end + SNIPPET_CONTEXT_BYTES).min(chunk.len());
        let (mut we, mut cut_right) =
            match memchr::memchr3(b'\n', b'\r', 0, chunk.get(key.end..hi).unwrap_or_default()) {
                Some(i) => (key.end + i, false),
                None => (hi, hi < chunk.len()),
            };
        let at = |i: usize| chunk.get(i).copied().unwrap_or(b' ');
        while ws < key.start
            && ws > 0
            && (is_token_byte(at(ws - 1)) && is_token_byte(at(ws)) || at(ws) & 0xC0 == 0x80)
        {
            ws += 1;
            cut_left = true;
        }
        while we > key.end
            && we < chunk.len()
            && (is_token_byte(at(we - 1)) && is_token_byte(at(we)) || at(we) & 0xC0 == 0x80)
        {
            we -= 1;
            cut_right = true;
        }
        let segment = chunk.get(ws..we).unwrap_or_default();
        let inside: Vec<(Range<usize>, &Key)> = encoded
            .iter()
            .filter(|(r, _)| r.start < we && ws < r.end)
            .map(|(r, k)| (r.start.max(ws) - ws..r.end.min(we) - ws, *k))
            .collect();
        let (text, mark) = self.mask_runs(
            segment,
            SNIPPET_MASK_MIN_BODY,
            Some(key.start - ws),
            &inside,
        );
        let mut snippet = String::with_capacity(text.len() + 6);
        let mut mark = mark;
        if cut_left {
            snippet.push('…');
            mark += 1;
        }
        snippet.push_str(&text);
        if cut_right {
            snippet.push('…');
        }
        (snippet, mark)
    }
}

/// The span and key of every encoded key of `found` (plain keys are masked by their prefix).
fn encoded_spans(found: &[Found]) -> Vec<(Range<usize>, &Key)> {
    found
        .iter()
        .filter(|f| !f.encoding.is_empty())
        .map(|f| (f.span.clone(), &f.key))
        .collect()
}

/// Length of the run of body characters at the start of `rest`, beyond what the anchored body
/// regex already took (it stops at `body_max_len + 1`).
fn run_len(rule: &Rule, mut rest: &[u8]) -> usize {
    let mut n = 0;
    while let Some(m) = rule.body_re.find(rest) {
        if m.is_empty() {
            break;
        }
        n += m.len();
        rest = rest.get(m.len()..).unwrap_or_default();
    }
    n
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'=')
}

/// Whether a letter or digit stands right before `pos`, other than the last character of an
/// escape (`%3D`, `\u003d`, `\n`…): an encoded delimiter is a boundary (#14).
fn glued_before(chunk: &[u8], pos: usize) -> bool {
    pos > 0
        && chunk.get(pos - 1).is_some_and(u8::is_ascii_alphanumeric)
        && !decode::escape_ends_at(chunk, pos)
}

/// Checks the prefix occurrence at `pos`; on success, the body's length and entropy.
fn check(rule: &Rule, chunk: &[u8], pos: usize) -> Result<(usize, f64), Rejection> {
    if glued_before(chunk, pos) {
        return Err(Rejection::GluedBefore);
    }
    let body_start = pos + rule.prefix.len();
    let rest = chunk.get(body_start..).unwrap_or_default();
    let body_len = rule.body_re.find(rest).map_or(0, |m| m.len());
    if body_len > rule.body_max_len {
        return Err(Rejection::TooLongOrGlued);
    }
    if body_len < rule.body_min_len {
        return Err(Rejection::TooShort);
    }
    let after = rest.get(body_len..).unwrap_or_default();
    if after.first().is_some_and(u8::is_ascii_alphanumeric) {
        return Err(Rejection::TooLongOrGlued);
    }
    // The docs write `leadey_sk_live_Xy3f…a1b2`: a body cut by an ellipsis is not a key.
    if after.starts_with("…".as_bytes())
        || after.starts_with("•".as_bytes())
        || (after.starts_with(b"...") && after.get(3).is_some_and(u8::is_ascii_alphanumeric))
    {
        return Err(Rejection::Elided);
    }
    let body = rest.get(..body_len).unwrap_or_default();
    if entropy::has_placeholder_word(body, &rule.placeholder_words) {
        return Err(Rejection::PlaceholderWord);
    }
    if rule.reject_periodic && entropy::is_periodic(body) {
        return Err(Rejection::Periodic);
    }
    let bits = entropy::shannon(body);
    if bits < rule.min_entropy {
        return Err(Rejection::LowEntropy);
    }
    if rule.max_sequence_share < 1.0 && entropy::sequence_share(body) >= rule.max_sequence_share {
        return Err(Rejection::Sequence);
    }
    if rule.max_word_share < 1.0 && entropy::dictionary_share(body) >= rule.max_word_share {
        return Err(Rejection::PlaceholderWords);
    }
    Ok((body_len, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::new(&RuleSet::builtin().expect("built-in rules compile"))
    }

    const KEY: &str = "leadey_sk_live_epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt";

    #[test]
    fn finds_key_with_offset_and_masked_snippet() {
        let d = detector();
        let text = format!("a = \"{KEY}\"\n");
        let found = d.scan(text.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].offset, 5);
        assert_eq!(found[0].snippet, "a = \"leadey_sk_live_••••IhKt\"");
        assert_eq!(found[0].snippet_key_start, 5);
    }

    #[test]
    fn accept_range_limits_starts_but_context_is_used() {
        let d = detector();
        let text = format!("x{KEY}");
        // Key glued to the `x` that lies outside the accepted range: still rejected.
        let mut out = Vec::new();
        d.scan_chunk(text.as_bytes(), 0, 1..text.len(), &mut out);
        assert!(out.is_empty());
        let text = format!(" {KEY}");
        d.scan_chunk(text.as_bytes(), 100, 2..text.len(), &mut out);
        assert!(out.is_empty(), "start 1 is outside 2..");
        d.scan_chunk(text.as_bytes(), 100, 1..2, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].offset, 101);
    }

    #[test]
    fn rejections_name_the_reason() {
        let d = detector();
        let cases = [
            (format!("x{KEY}"), 1, Rejection::GluedBefore),
            (
                format!("leadey_sk_live_{}", "aZ3x".repeat(17)),
                0,
                Rejection::TooLongOrGlued,
            ),
            (
                "leadey_sk_live_Xy3f…a1b2".to_string(),
                0,
                Rejection::TooShort,
            ),
            (format!("{KEY}…a1b2"), 0, Rejection::Elided),
            (
                "leadey_sk_live_XXXXXXXXXXXXXXXXXXXXXXXX".to_string(),
                0,
                Rejection::Periodic,
            ),
            (
                "leadey_sk_live_aaaaaaaaaaaaaaaaaaaaaaab".to_string(),
                0,
                Rejection::LowEntropy,
            ),
            (
                "leadey_sk_live_abcdefghijklmnopqrstuvwxyz123456".to_string(),
                0,
                Rejection::Sequence,
            ),
        ];
        for (text, pos, want) in cases {
            assert_eq!(d.classify(0, text.as_bytes(), pos), Err(want), "{text}");
        }
    }

    #[test]
    fn a_copy_of_the_body_elsewhere_on_the_line_is_masked_too() {
        let d = detector();
        let body = &KEY[15..];
        let text = format!("k={KEY} b={body}\n");
        let found = d.scan(text.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].snippet, "k=leadey_sk_live_••••IhKt b=••••IhKt");
        assert_eq!(found[0].snippet_key_start, 2);
        let glued = format!("x{body}y {KEY}");
        assert_eq!(d.redact(&glued), "x••••IhKty leadey_sk_live_••••IhKt");
    }

    #[test]
    fn snippet_never_shows_part_of_another_key() {
        let d = detector();
        let other = "leadey_sk_live_u8jzPde0IgxLd6GncfBA";
        let text = format!(
            "{} {other} {KEY} {other} {}",
            "y".repeat(40),
            "z".repeat(40)
        );
        let found = d.scan(text.as_bytes());
        assert_eq!(found.len(), 3);
        for c in &found {
            assert!(!c.snippet.contains("u8jzPde0"), "{}", c.snippet);
            assert!(!c.snippet.contains("epfJBd0K"), "{}", c.snippet);
        }
        assert_eq!(
            found[0].snippet,
            format!(
                "{} leadey_sk_live_••••cfBA leadey_sk_live_••••IhKt …",
                "y".repeat(40)
            )
        );
        assert_eq!(
            found[1].snippet,
            "… leadey_sk_live_••••cfBA leadey_sk_live_••••IhKt leadey_sk_live_••••cfBA …"
        );
    }

    #[test]
    fn redact_masks_keys_in_free_text() {
        let d = detector();
        let msg = format!("cannot open {KEY}.txt");
        assert_eq!(d.redact(&msg), "cannot open leadey_sk_live_••••IhKt.txt");
        assert_eq!(d.redact("plain"), "plain");
    }
}

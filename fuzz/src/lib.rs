//! Bodies of the fuzz targets (#8), shared by `cargo fuzz` (fuzz/fuzz_targets/) and by
//! `tests/fuzz_seeds.rs`, which runs each body over its seed corpus in the normal test suite.
//! Each body panics when a property fails; any panic inside the library is a failure too.
//!
//! - `detect`: the detector on arbitrary bytes: offsets in range, the key is the input's bytes
//!   at its offset, the snippet never shows the key's body and marks the masked key, and
//!   redacted text holds no key.
//! - `chunks`: `source::scan_stream` with chunk and read sizes taken from the first bytes finds
//!   exactly what one whole-buffer read finds (offset, line, column, key, snippet, binary).
//! - `rules`: rule-file parsing on arbitrary text: no panic; a rule set that loads scans its
//!   own examples without panicking.
//! - `answer`: the verifier's reading of an API answer: no panic, and the verification as
//!   reported never holds the key that was sent or any other key.
//! - `config`: config-file parsing on arbitrary text: no panic; errors, and what a loaded
//!   config shows (its globs as written, the rule texts reports print, errors of its rule set),
//!   hold no key planted in the text; a loaded config builds its rule set and matches paths.
//! - `baseline`: baseline parsing on arbitrary text: no panic; errors and the messages that
//!   list its entries (`--prune-baseline`) hold no key; a loaded baseline reads back the same
//!   after being written.
//! - `strings` (fuzz/src/strings.rs): the string-table readers of compiled artifacts (#22).

#[path = "strings.rs"]
pub mod strings;

#[path = "streams.rs"]
pub mod streams;

#[path = "encodings.rs"]
pub mod encodings;

#[path = "containers.rs"]
pub mod containers;

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use leadey_scan::detect::Detector;
use leadey_scan::rules::{parse_rule_file, RuleSet};
use leadey_scan::source::scan_stream;
use leadey_scan::suppress::baseline::Baseline;
use leadey_scan::suppress::config_file::ConfigFile;
use leadey_scan::suppress::Outcome;
use leadey_scan::verify::answer;

/// The built-in detector, built once.
pub fn builtin() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new(&RuleSet::builtin().expect("built-in rules compile")))
}

/// SHA-256 (as the finding's hash) of `bytes`, without going through `Key::expose`.
fn hash_of(bytes: &[u8], prefix_len: usize) -> String {
    leadey_scan::finding::Key::new(bytes, prefix_len)
        .hash()
        .to_hex()
}

/// The detector on arbitrary bytes.
pub fn detect(data: &[u8]) {
    let d = builtin();
    for c in d.scan(data) {
        let rule = &d.rules()[c.rule_index];
        let start = usize::try_from(c.offset).expect("offset fits");
        let len = c.key.byte_len();
        assert!(start + len <= data.len(), "key past the end");
        let bytes = &data[start..start + len];
        assert!(
            bytes.starts_with(&rule.prefix),
            "key does not start with the prefix"
        );
        assert_eq!(c.key.hash().to_hex(), hash_of(bytes, rule.prefix.len()));
        let body = std::str::from_utf8(&bytes[rule.prefix.len()..]).expect("base62 body");
        assert!(body.len() >= rule.body_min_len && body.len() <= rule.body_max_len);
        assert!(
            !c.snippet.contains(body),
            "snippet shows the key: {}",
            c.snippet
        );
        let marked: String = c.snippet.chars().skip(c.snippet_key_start).collect();
        assert!(
            marked.starts_with(&c.key.masked()),
            "snippet_key_start does not point at the masked key: {} @{}",
            c.snippet,
            c.snippet_key_start
        );
        assert!(
            d.scan(c.snippet.as_bytes()).is_empty(),
            "a key in the snippet"
        );
    }
    let text = String::from_utf8_lossy(data);
    let redacted = d.redact(&text);
    assert!(
        d.scan(redacted.as_bytes()).is_empty(),
        "a key survives redaction"
    );
}

/// A reader that hands out at most `step` bytes per read, to exercise short reads (also used
/// by `tests/props.rs`).
pub struct Trickle<'a> {
    /// What is left to read.
    pub data: &'a [u8],
    /// Bytes per read, at most.
    pub step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Chunked reads agree with one whole read. The first two bytes choose the chunk size (0 to
/// 65535; the scanner raises tiny values to its minimum), the next one the read size.
pub fn chunks(data: &[u8]) {
    let (chunk, step, input) = match data {
        [a, b, c, rest @ ..] => (
            usize::from(u16::from_le_bytes([*a, *b])),
            usize::from(*c) * 7 + 1,
            rest,
        ),
        _ => return,
    };
    let d = builtin();
    let summary = |s: leadey_scan::source::StreamScan| {
        let hits: Vec<_> = s
            .hits
            .into_iter()
            .map(|h| {
                (
                    h.candidate.offset,
                    h.line,
                    h.column,
                    h.candidate.key.hash().to_hex(),
                    h.candidate.snippet,
                    h.candidate.snippet_key_start,
                )
            })
            .collect();
        (s.bytes, s.binary, hits)
    };
    let mut buf = Vec::new();
    let whole = scan_stream(input, d, &mut buf, input.len() + 1).expect("reading a slice");
    let whole = summary(whole);
    let chunked =
        scan_stream(Trickle { data: input, step }, d, &mut buf, chunk).expect("reading a slice");
    assert_eq!(summary(chunked), whole, "chunk {chunk}, read {step}");
    let plain = d.scan(input);
    assert_eq!(plain.len(), whole.2.len(), "scan_stream and scan disagree");
}

/// Rule-file parsing on arbitrary text.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_rule_file(text, Path::new("fuzz.toml")) {
        Ok(rules) => {
            let mut set = RuleSet::default();
            let examples: Vec<String> = rules
                .iter()
                .flat_map(|r| r.examples.iter().chain(&r.negative_examples).cloned())
                .collect();
            set.merge(rules);
            let d = Detector::new(&set);
            for e in &examples {
                let _ = d.scan(e.as_bytes());
            }
            let _ = d.redact(text);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// The key the `answer` target pretends to have sent.
pub const SENT_KEY: &str = "leadey_sk_live_epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt";

/// The verifier's reading of an answer: the first two bytes are the HTTP status, the rest the
/// body (also tried as a `Retry-After` value).
pub fn answer(data: &[u8]) {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]) % 600, rest),
        _ => return,
    };
    let _ = answer::classify(status);
    let _ = answer::retry_after(Some(body));
    let masked = "leadey_sk_live_••••IhKt";
    let v = answer::live_from_body(status, body, SENT_KEY, masked);
    let json = serde_json::to_string(&v).expect("a verification serializes");
    assert!(!json.contains(&SENT_KEY[15..]), "the sent key is in {json}");
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let mut strings = Vec::new();
    collect_strings(&value, &mut strings);
    for s in strings {
        assert!(builtin().scan(s.as_bytes()).is_empty(), "a key in {s:?}");
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                collect_strings(x, out);
            }
        }
        _ => {}
    }
}

/// Bodies of the keys the built-in rule finds in `input`: what a config or baseline must never
/// show. A body that also stands in the input without the prefix is left out: text that quotes
/// it there (a glob, a title) cannot know it is part of a key.
fn planted_bodies(input: &[u8]) -> Vec<String> {
    let d = builtin();
    d.scan(input)
        .iter()
        .filter_map(|c| {
            let start = usize::try_from(c.offset).ok()?;
            let prefix = d.rules().get(c.rule_index)?.prefix.as_slice();
            let body = input.get(start + prefix.len()..start + c.key.byte_len())?;
            let only_in_keys = input
                .windows(body.len())
                .enumerate()
                .filter(|(_, w)| *w == body)
                .all(|(at, _)| {
                    at >= prefix.len() && input.get(at - prefix.len()..at) == Some(prefix)
                });
            only_in_keys.then(|| String::from_utf8_lossy(body).into_owned())
        })
        .collect()
}

/// Panics when `text`, something shown to people, holds the body of a key planted in the
/// input, or any key at all (text decoded from escapes can make a key the input does not spell
/// out; everything shown is redacted, so no key-shaped text may remain).
fn assert_no_key(what: &str, text: &str, planted: &[String]) {
    for body in planted {
        assert!(
            !text.contains(body.as_str()),
            "{what} shows a planted key: {text}"
        );
    }
    assert!(
        builtin().scan(text.as_bytes()).is_empty(),
        "{what} shows a key: {text}"
    );
}

/// Paths a loaded config's globs are matched against.
const CONFIG_PATHS: [&str; 6] = [
    "a.txt",
    "tests/fixtures/demo.env",
    "docs/README.md",
    "deep/a/b/c/d/e/f/g.rs",
    "<stdin>",
    "",
];

/// Config-file parsing on arbitrary text.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let planted = planted_bodies(data);
    let config = match ConfigFile::parse(text, Path::new("fuzz.toml")) {
        Ok(config) => config,
        Err(e) => {
            assert_no_key("a config error", &format!("{e} {e:?}"), &planted);
            return;
        }
    };
    assert_no_key("the config's name", &config.display, &planted);
    for glob in config.paths.as_written() {
        assert_no_key("a glob as shown", glob, &planted);
    }
    for path in CONFIG_PATHS.iter().copied().chain(text.lines().take(8)) {
        if let Some(glob) = config.paths.matching(path) {
            assert_no_key("a matching glob", glob, &planted);
        }
    }
    match config.rule_set(&[]) {
        Ok(mut set) => {
            // What every report prints of the rules, redacted as the scan does.
            set.redact_text(leadey_scan::redact_builtin);
            for r in set.rules() {
                let shown = format!("{} {} {} {}", r.id, r.title, r.description, r.remediation);
                assert_no_key("a rule as reports show it", &shown, &planted);
            }
            let d = Detector::new(&set);
            let _ = d.scan(data);
            let _ = d.redact(text);
        }
        Err(e) => assert_no_key("a rule-set error", &format!("{e} {e:?}"), &planted),
    }
}

/// Baseline parsing on arbitrary text.
pub fn baseline(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let planted = planted_bodies(data);
    let path = Path::new("fuzz.json");
    let loaded = match Baseline::parse(text, path) {
        Ok(b) => b,
        Err(e) => {
            assert_no_key("a baseline error", &format!("{e} {e:?}"), &planted);
            return;
        }
    };
    // Every entry stale and the file pruned: the messages that quote the most of it.
    let outcome = Outcome {
        stale: loaded.entries.clone(),
        pruned: Some(loaded.display()),
        written: Some((loaded.display(), loaded.entries.len())),
        ..Outcome::default()
    };
    for list in [true, false] {
        for line in outcome.messages(list, false) {
            assert_no_key("a baseline message", &line, &planted);
        }
    }
    let again = Baseline::parse(&loaded.to_json(), path).expect("a written baseline reads back");
    assert_eq!(
        again.entries, loaded.entries,
        "a baseline changes when written back"
    );
}

/// The scanner as the unpackers see it (`unpack::Scan`), with the built-in detector: reads in
/// chunks of `chunk_bytes` and leaves out members over `max_member_bytes`. Shared by the bodies
/// that drive `unpack::unpack_bytes` directly (`streams`, `strings`).
pub struct BuiltinScan {
    /// Read size of the scan.
    pub chunk_bytes: usize,
    /// Members over this many bytes are left out (`--max-filesize`).
    pub max_member_bytes: Option<u64>,
}

impl leadey_scan::unpack::Scan for BuiltinScan {
    fn read_head(
        &self,
        reader: &mut dyn std::io::Read,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<leadey_scan::unpack::Head> {
        leadey_scan::source::read_head(reader, builtin(), buf, self.chunk_bytes)
    }

    fn scan_plain(
        &self,
        reader: &mut dyn std::io::Read,
        buf: &mut Vec<u8>,
        head: leadey_scan::unpack::Head,
    ) -> std::io::Result<leadey_scan::unpack::Plain> {
        let scan = leadey_scan::source::scan_stream_after(
            reader,
            builtin(),
            buf,
            self.chunk_bytes,
            Some(head),
        )?;
        Ok((scan.hits, scan.binary, Vec::new()))
    }

    fn redact(&self, text: &str) -> String {
        builtin().redact(text).into_owned()
    }

    fn display_name(&self, raw: &[u8]) -> String {
        builtin()
            .redact(&leadey_scan::origin::display_bytes(raw))
            .into_owned()
    }

    fn is_too_large(&self, size: u64) -> bool {
        self.max_member_bytes.is_some_and(|max| size > max)
    }
}

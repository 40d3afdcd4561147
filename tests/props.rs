//! Nothing is missed (#8): property tests. Random byte buffers (text-like with multi-byte
//! characters and CR/LF, or arbitrary binary; any length from 0) get keys of every valid body
//! length planted at random offsets between non-alphanumeric separators, plus decoys that must
//! not be reported (bodies too short or too long, glued prefixes, the docs' ellipsis form,
//! placeholders). They are scanned through `source::scan_stream` with random chunk and read
//! sizes, and through the binary with random `--threads` and `--chunk-size`. Every planted key
//! must be found at its exact byte offset, line and column (computed here independently), and
//! nothing else.
//!
//! Cases: 64 for the library, 8 for the binary by default; `PROPTEST_CASES=N` sets both (e.g.
//! `PROPTEST_CASES=5000 cargo test --release --test integration props::`).

use crate::common;

use crate::bodies;

use leadey_scan::detect::Detector;
use leadey_scan::rules::RuleSet;
use leadey_scan::source::scan_stream;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use sha2::{Digest, Sha256};

use crate::common::{Tree, PREFIX};
use bodies::Trickle;

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Bytes that may stand right before or after a key: not alphanumeric, and not `.` (three dots
/// and a letter after a body are the documentation's ellipsis form).
const SEPARATORS: &[u8] = b" \n\r\t\"'`,;:=()[]{}<>|/\\-+!?#&*%$@~^_\x00\x01\x7F\xFF";

fn detector() -> Detector {
    Detector::new(&RuleSet::builtin().expect("built-in rules compile"))
}

/// The number of cases: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A key of every valid body length (20..=64) with a random base62 body that the detector,
/// alone, accepts (so the entropy and placeholder checks pass on merit).
fn key() -> impl Strategy<Value = String> {
    (20usize..=64)
        .prop_flat_map(|len| proptest::collection::vec(proptest::sample::select(BASE62), len))
        .prop_map(|body| format!("{PREFIX}{}", String::from_utf8(body).unwrap()))
        .prop_filter("the detector accepts the key alone", |k| {
            detector().scan(k.as_bytes()).len() == 1
        })
}

/// Filler: text-like (ASCII, multi-byte UTF-8, CR/LF, tabs, dots) or any bytes at all.
fn filler() -> impl Strategy<Value = Vec<u8>> {
    let text_piece = prop_oneof![
        4 => proptest::sample::select(&b"abcxyzQRS019 .,=_-\"'"[..]).prop_map(|b| vec![b]),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just("é".as_bytes().to_vec()),
        1 => Just("✓".as_bytes().to_vec()),
        1 => Just("𝄞".as_bytes().to_vec()),
        1 => Just("…".as_bytes().to_vec()),
    ];
    prop_oneof![
        proptest::collection::vec(text_piece, 0..300).prop_map(|v| v.concat()),
        proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

/// Text that looks like a key but is not one.
fn decoy() -> impl Strategy<Value = Vec<u8>> {
    let body = |len: std::ops::Range<usize>| {
        proptest::collection::vec(proptest::sample::select(BASE62), len)
            .prop_map(|b| String::from_utf8(b).unwrap())
    };
    prop_oneof![
        body(0..20).prop_map(|b| format!("{PREFIX}{b}")),
        body(65..90).prop_map(|b| format!("{PREFIX}{b}")),
        (key(), proptest::sample::select(&b"xZ7"[..]))
            .prop_map(|(k, c)| format!("{}{k}", c as char)),
        (key(), body(1..5)).prop_map(|(k, b)| format!("{k}…{b}")),
        (key(), body(1..5)).prop_map(|(k, b)| format!("{k}...{b}")),
        (20usize..64).prop_map(|n| format!("{PREFIX}{}", "X".repeat(n))),
        Just(format!("{PREFIX}YourExampleKeyGoesHere1234")),
        Just("leadey_sk_test_epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt".to_string()),
    ]
    .prop_map(String::into_bytes)
}

#[derive(Debug, Clone)]
enum Item {
    Key(String),
    Decoy(Vec<u8>),
}

/// One planted input: its bytes and where each key starts.
#[derive(Debug, Clone)]
struct Planted {
    bytes: Vec<u8>,
    /// (byte offset, key), in offset order.
    keys: Vec<(usize, String)>,
}

fn planted() -> impl Strategy<Value = Planted> {
    let item = prop_oneof![3 => key().prop_map(Item::Key), 1 => decoy().prop_map(Item::Decoy)];
    let sep = || proptest::sample::select(SEPARATORS);
    (
        any::<bool>(),
        filler(),
        proptest::collection::vec((sep(), item, sep(), filler()), 0..8),
    )
        .prop_map(|(bom, first, items)| {
            let mut bytes = if bom {
                b"\xEF\xBB\xBF".to_vec()
            } else {
                Vec::new()
            };
            bytes.extend_from_slice(&first);
            let mut keys = Vec::new();
            for (before, item, after, fill) in items {
                bytes.push(before);
                match item {
                    Item::Key(k) => {
                        keys.push((bytes.len(), k.clone()));
                        bytes.extend_from_slice(k.as_bytes());
                    }
                    Item::Decoy(d) => bytes.extend_from_slice(&d),
                }
                bytes.push(after);
                bytes.extend_from_slice(&fill);
            }
            Planted { bytes, keys }
        })
}

/// 1-based line and column of `offset`, computed from the documented rules without the
/// scanner's code: lines end at `\n`; the column counts characters when the line up to the
/// key is valid UTF-8 and bytes otherwise; a UTF-8 BOM at the start of the file is not a
/// column.
fn line_column(bytes: &[u8], offset: usize) -> (u64, u64) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let mut segment = &before[line_start..];
    if line_start == 0 && segment.starts_with(b"\xEF\xBB\xBF") && bytes.starts_with(b"\xEF\xBB\xBF")
    {
        segment = &segment[3..];
    }
    let column = match std::str::from_utf8(segment) {
        Ok(s) => s.chars().count(),
        Err(_) => segment.len(),
    };
    (line, column as u64 + 1)
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// (offset, line, column, key hash) expected for `p`.
fn expected(p: &Planted) -> Vec<(u64, u64, u64, String)> {
    p.keys
        .iter()
        .map(|(offset, key)| {
            let (line, column) = line_column(&p.bytes, *offset);
            (*offset as u64, line, column, sha256_hex(key))
        })
        .collect()
}

/// `bytes` scanned through `scan_stream` in chunks of `chunk` bytes, read `step` at a time.
fn trickle_scan(
    bytes: &[u8],
    chunk: usize,
    step: usize,
) -> Result<leadey_scan::source::StreamScan, TestCaseError> {
    let mut buf = Vec::new();
    scan_stream(Trickle { data: bytes, step }, &detector(), &mut buf, chunk)
        .map_err(|e| TestCaseError::fail(e.to_string()))
}

proptest! {
    #![proptest_config(Config::with_cases(cases(64)))]

    #[test]
    fn every_planted_key_is_found_at_its_place_at_any_chunk_size(
        p in planted(),
        chunk in 1usize..6000,
        step in 1usize..5000,
    ) {
        let scan = trickle_scan(&p.bytes, chunk, step)?;
        let got: Vec<_> = scan
            .hits
            .iter()
            .map(|h| (h.candidate.offset, h.line, h.column, h.candidate.key.hash().to_hex()))
            .collect();
        prop_assert_eq!(got, expected(&p));
        prop_assert_eq!(scan.bytes, p.bytes.len() as u64);
        let nul = p.bytes.iter().take(leadey_scan::source::BINARY_SNIFF_BYTES).any(|&b| b == 0);
        prop_assert_eq!(scan.binary, nul);
    }
}

proptest! {
    #![proptest_config(Config::with_cases(cases(8)))]

    #[test]
    fn the_binary_finds_every_planted_key_at_any_thread_count(
        files in proptest::collection::vec(planted(), 1..6),
        threads in 1usize..9,
        chunk in prop_oneof![Just(512 * 1024usize), 1usize..4000],
    ) {
        let t = Tree::new();
        let mut want = Vec::new();
        for (i, p) in files.iter().enumerate() {
            let name = format!("d{}/f{i}.txt", i % 2);
            t.write(&name, &p.bytes);
            for (offset, line, column, hash) in expected(p) {
                want.push((name.clone(), line, column, offset, hash));
            }
        }
        want.sort();
        let out = common::run(t.cmd().args([
            ".",
            "--format",
            "json",
            "--no-timing",
            "--threads",
            &threads.to_string(),
            "--chunk-size",
            &chunk.to_string(),
        ]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", common::stderr(&out))))?;
        let got: Vec<_> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                    f["column"].as_u64().unwrap(),
                    f["byte_offset"].as_u64().unwrap(),
                    f["key_sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(out.status.code(), Some(if want.is_empty() { 0 } else { 1 }));
        prop_assert_eq!(v["stats"]["files_scanned"].as_u64(), Some(files.len() as u64));
    }
}

/// #22: line and column of a key found in UTF-16 (`big`: UTF-16BE) at `offset`: the column
/// counts 2-byte code units from the line's first one (the line starts after its `\n` byte;
/// its first unit is the first one aligned with the key's), not counting units whose high byte
/// is `DC`–`DF` (the second half of a surrogate pair: a character outside the BMP is one
/// column) nor a byte-order mark at the start of the input.
fn line_column_utf16(bytes: &[u8], offset: usize, big: bool) -> (u64, u64) {
    let (line, _) = line_column(bytes, offset);
    let line_start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let unit_start = line_start + (offset - line_start) % 2;
    let units = bytes[unit_start..offset]
        .chunks(2)
        .filter(|u| !(0xDC..=0xDF).contains(&if big { u[0] } else { u[1] }))
        .count();
    let bom = unit_start == 0 && (bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF"));
    (line, (units - usize::from(bom)) as u64 + 1)
}

#[test]
fn line_column_here_agrees_with_hand_counts() {
    assert_eq!(line_column(b"ab\ncd", 4), (2, 2));
    assert_eq!(line_column("é\néa".as_bytes(), 5), (2, 2));
    assert_eq!(line_column(b"\xFFab", 3), (1, 4));
    assert_eq!(line_column(b"\xEF\xBB\xBFab", 5), (1, 3));
    assert_eq!(line_column(b"x\r\ny", 3), (2, 1));
}

// ---------------------------------------------------------------------------------------------
// #14: encoded keys. Each key is planted in one supported encoding (base64 in either alphabet,
// padded or not, at any of the three alignments, wrapped at any width or not; base64 of base64
// and of UTF-16LE; hex of either case; percent-encoding, `\u005f`/`\x5f` escapes and HTML
// entities of the prefix's underscores; UTF-16 of either byte order) at a random place, and must
// be found exactly once, at the first encoded byte that carries the key (computed here from
// the encoder, not from the decoder), with the decoded key's hash and the encoding chain.

/// Bytes that may stand around an encoded token: not in any encoding's alphabet.
const TOKEN_SEPARATORS: &[u8] = b" \n\t\"',;:()[]{}<>|!?#*$@~^";

const B64_STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `data`.
fn b64(data: &[u8], alphabet: &[u8; 64], pad: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize]);
        }
        if pad {
            out.extend(std::iter::repeat_n(b'=', 3 - chunk.len()));
        }
    }
    out
}

/// Index of the first base64 character carrying bits of byte `byte`.
fn b64_char_of(byte: usize) -> usize {
    byte * 8 / 6
}

/// `text` with a line break after every `width` characters, and the new position of each
/// character.
fn wrap(text: &[u8], width: usize, crlf: bool) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut at = Vec::new();
    for (i, &c) in text.iter().enumerate() {
        if i > 0 && i % width == 0 {
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        at.push(out.len());
        out.push(c);
    }
    (out, at)
}

#[derive(Debug, Clone)]
enum Encoding {
    Base64 {
        url: bool,
        pad: bool,
        pre: Vec<u8>,
        wrap: Option<(usize, bool)>,
    },
    Base64Base64 {
        pre_in: Vec<u8>,
        pre_out: Vec<u8>,
    },
    Base64Utf16 {
        pre: Vec<u8>,
    },
    Hex {
        upper: bool,
    },
    Escaped(&'static str),
    Utf16 {
        big: bool,
    },
}

fn encoding() -> impl Strategy<Value = Encoding> {
    // Text before the key inside an encoded payload: ends with a non-alphanumeric byte (a key
    // glued to a letter is not a key, encoded or not).
    let pre = || {
        (
            proptest::collection::vec(proptest::sample::select(&b"AbZ09 :=\"\n"[..]), 0..12),
            proptest::sample::select(&b" :=\"\n,"[..]),
        )
            .prop_map(|(mut v, end)| {
                if !v.is_empty() {
                    v.push(end);
                }
                v
            })
    };
    prop_oneof![
        // Wrapped base64 holds whole groups per line (PEM: 64, MIME: 76).
        (
            any::<bool>(),
            any::<bool>(),
            pre(),
            proptest::option::of((leadey_scan::decode::MIN_WRAP_WIDTH / 4..26, any::<bool>())),
        )
            .prop_map(|(url, pad, pre, wrap)| Encoding::Base64 {
                url,
                pad,
                pre,
                wrap: wrap.map(|(groups, crlf)| (4 * groups, crlf)),
            }),
        (pre(), pre()).prop_map(|(pre_in, pre_out)| Encoding::Base64Base64 { pre_in, pre_out }),
        pre().prop_map(|pre| Encoding::Base64Utf16 { pre }),
        any::<bool>().prop_map(|upper| Encoding::Hex { upper }),
        proptest::sample::select(vec![
            "%5F", "%5f", "\\u005f", "\\x5f", "&#95;", "&#x5f;", "&#X5F;"
        ])
        .prop_map(Encoding::Escaped),
        any::<bool>().prop_map(|big| Encoding::Utf16 { big }),
    ]
}

/// The encoded token of `key`, the index in it of the first byte that carries the key, and
/// the chain the report names. `start` is where the token will be placed (UTF-16 aligns).
fn encode(key: &str, e: &Encoding) -> (Vec<u8>, usize, Vec<&'static str>) {
    let k = key.as_bytes();
    match e {
        Encoding::Base64 {
            url,
            pad,
            pre,
            wrap: w,
        } => {
            let data = [pre.as_slice(), k].concat();
            let enc = b64(&data, if *url { B64_URL } else { B64_STD }, *pad);
            let first = b64_char_of(pre.len());
            match w {
                Some((width, crlf)) => {
                    let (text, at) = wrap(&enc, *width, *crlf);
                    (text, at[first], vec!["base64"])
                }
                None => (enc, first, vec!["base64"]),
            }
        }
        Encoding::Base64Base64 { pre_in, pre_out } => {
            let inner = b64(&[pre_in.as_slice(), k].concat(), B64_STD, true);
            let outer = b64(&[pre_out.as_slice(), &inner].concat(), B64_STD, true);
            let inner_first = b64_char_of(pre_in.len());
            (
                outer,
                b64_char_of(pre_out.len() + inner_first),
                vec!["base64", "base64"],
            )
        }
        Encoding::Base64Utf16 { pre } => {
            let utf16: Vec<u8> = [pre.as_slice(), k]
                .concat()
                .iter()
                .flat_map(|&b| [b, 0])
                .collect();
            (
                b64(&utf16, B64_STD, true),
                b64_char_of(2 * pre.len()),
                vec!["base64", "utf-16le"],
            )
        }
        Encoding::Hex { upper } => {
            let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
            let hex = if *upper { hex.to_uppercase() } else { hex };
            (hex.into_bytes(), 0, vec!["hex"])
        }
        Encoding::Escaped(esc) => {
            let kind = match esc.as_bytes()[0] {
                b'%' => "percent",
                b'\\' => "escape",
                _ => "html-entity",
            };
            let text = key[..PREFIX.len()].replace('_', esc) + &key[PREFIX.len()..];
            (text.into_bytes(), 0, vec![kind])
        }
        Encoding::Utf16 { big } => {
            // A separator unit on each side; the key's unit starts after the first one.
            let text: Vec<u8> = format!("={key};")
                .bytes()
                .flat_map(|b| if *big { [0, b] } else { [b, 0] })
                .collect();
            (text, 2, vec![if *big { "utf-16be" } else { "utf-16le" }])
        }
    }
}

#[derive(Debug, Clone)]
struct EncodedPlanted {
    bytes: Vec<u8>,
    /// (offset of the first encoded byte of the key, key, chain).
    keys: Vec<(usize, String, Vec<&'static str>)>,
}

fn encoded_planted() -> impl Strategy<Value = EncodedPlanted> {
    let sep = || proptest::sample::select(TOKEN_SEPARATORS);
    (
        filler(),
        proptest::collection::vec((sep(), key(), encoding(), sep(), filler()), 1..5),
    )
        .prop_map(|(first, items)| {
            let mut bytes = first;
            let mut keys = Vec::new();
            for (before, key, e, after, fill) in items {
                bytes.push(before);
                if let Encoding::Utf16 { .. } = e {
                    // UTF-16 text is 2-byte aligned in files.
                    if bytes.len() % 2 == 1 {
                        bytes.push(b' ');
                    }
                }
                if let Encoding::Base64 { wrap: Some(_), .. } = e {
                    // Wrapped base64 starts a line and ends one.
                    bytes.push(b'\n');
                }
                let (text, first, chain) = encode(&key, &e);
                keys.push((bytes.len() + first, key, chain));
                bytes.extend_from_slice(&text);
                if let Encoding::Base64 { wrap: Some(_), .. } = e {
                    // A line that is not base64 ends the block (a PEM `-----END` line).
                    bytes.extend_from_slice(b"\n-");
                }
                bytes.push(after);
                bytes.extend_from_slice(&fill);
            }
            EncodedPlanted { bytes, keys }
        })
}

proptest! {
    #![proptest_config(Config::with_cases(cases(64)))]

    #[test]
    fn every_encoded_key_is_found_once_at_its_place_at_any_chunk_size(
        p in encoded_planted(),
        chunk in 1usize..6000,
        step in 1usize..5000,
    ) {
        let scan = trickle_scan(&p.bytes, chunk, step)?;
        let got: Vec<_> = scan
            .hits
            .iter()
            .map(|h| {
                let chain: Vec<String> =
                    h.candidate.encoding.iter().map(|e| e.to_string()).collect();
                (h.candidate.offset, h.line, h.column, h.candidate.key.hash().to_hex(), chain)
            })
            .collect();
        let want: Vec<_> = p
            .keys
            .iter()
            .map(|(offset, key, chain)| {
                let (line, column) = match chain.first() {
                    Some(&"utf-16le") => line_column_utf16(&p.bytes, *offset, false),
                    Some(&"utf-16be") => line_column_utf16(&p.bytes, *offset, true),
                    _ => line_column(&p.bytes, *offset),
                };
                let chain: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
                (*offset as u64, line, column, sha256_hex(key), chain)
            })
            .collect();
        let context = |offset: u64| {
            let o = offset as usize;
            p.bytes[o.saturating_sub(40)..(o + 200).min(p.bytes.len())].escape_ascii().to_string()
        };
        let missing: Vec<String> = want
            .iter()
            .filter(|w| !got.contains(w))
            .map(|w| format!("{w:?} in `{}`", context(w.0)))
            .collect();
        prop_assert_eq!(got, want, "missing or misplaced: {:#?}", missing);
    }
}

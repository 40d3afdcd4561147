//! Encoded keys (#14), through the binary as a user runs it: every decoder on realistic inputs
//! (Kubernetes Secrets, docker `config.json`, Basic auth headers, access logs, JSON escapes,
//! HTML, Windows UTF-16 exports, PowerShell `-EncodedCommand`, hex dumps, PEM-wrapped base64),
//! what reports carry (location of the encoded token, the decoded key's hash and mask, the
//! encoding chain in JSON, SARIF and the human report), the negatives real trees are full of
//! (integrity hashes, JWTs, certificates, random base64, encoded placeholders), suppression,
//! and `--max-decode-depth`. Keys are built at run time; none is a real key.

use crate::common;

use crate::common::{fake_key, json, masked, run, stdout, Tree, PREFIX};
use serde_json::Value;
use sha2::{Digest, Sha256};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (also for the GitHub annotation tests).
pub(crate) fn b64(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        out.push_str(&"=".repeat(3 - chunk.len()));
    }
    out
}

fn b64s(text: &str) -> String {
    b64(text.as_bytes())
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn utf16(text: &str, big: bool) -> Vec<u8> {
    text.encode_utf16()
        .flat_map(|u| {
            if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("findings array")
}

/// (path, line, column, key_sha256, encoding chain) of every finding.
fn found(v: &Value) -> Vec<(String, u64, u64, String, Vec<String>)> {
    findings(v)
        .iter()
        .map(|f| {
            let chain = f["encoding"]
                .as_array()
                .map(|a| a.iter().map(|e| e.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["key_sha256"].as_str().unwrap().to_string(),
                chain,
            )
        })
        .collect()
}

fn chain(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn keys_in_every_supported_encoding_are_found_at_the_encoded_token() {
    let t = Tree::new();
    let k: Vec<String> = (0..16).map(|i| fake_key(1400 + i)).collect();
    // (file, contents, line, column, key index, chain)
    let mut want: Vec<(String, u64, u64, usize, Vec<String>)> = Vec::new();
    // Expectations for files written without `put`.
    let mut more: Vec<(String, u64, u64, usize, Vec<String>)> = Vec::new();
    let mut put =
        |name: &str, contents: Vec<u8>, line: u64, column: u64, key: usize, enc: &[&str]| {
            t.write(name, contents);
            want.push((name.to_string(), line, column, key, chain(enc)));
        };
    // Kubernetes Secret: the key alone, base64 at alignment 0; `export LEADEY_API_KEY=<key>`
    // and `user:<key>` at the other two alignments.
    let secret = format!(
        "apiVersion: v1\nkind: Secret\ndata:\n  key: {}\n  env: {}\n  basic: {}\n",
        b64s(&k[0]),
        b64s(&format!("export LEADEY_API_KEY={}\n", k[1])),
        b64s(&format!("user:{}", k[2])),
    );
    t.write("k8s/secret.yaml", &secret);
    more.push(("k8s/secret.yaml".into(), 4, 8, 0, chain(&["base64"])));
    // `export LEADEY_API_KEY=` is 22 bytes (alignment 1): the key starts at character
    // 22 * 8 / 6 = 29; `user:` is 5 bytes (alignment 2).
    more.push(("k8s/secret.yaml".into(), 5, 8 + 29, 1, chain(&["base64"])));
    more.push((
        "k8s/secret.yaml".into(),
        6,
        10 + 5 * 8 / 6,
        2,
        chain(&["base64"]),
    ));
    // URL-safe base64 without padding.
    let url_safe = b64s(&format!("??>{}", k[3]))
        .replace('+', "-")
        .replace('/', "_")
        .replace('=', "");
    put(
        "token.txt",
        format!("t={url_safe}\n").into_bytes(),
        1,
        3 + 4,
        3,
        &["base64"],
    );
    // A Basic auth header in a log.
    put(
        "logs/access.log",
        format!(
            "GET / HTTP/1.1\nAuthorization: Basic {}\n",
            b64s(&format!("api:{}", k[4]))
        )
        .into_bytes(),
        2,
        22 + 4 * 8 / 6,
        4,
        &["base64"],
    );
    // A docker config.json auth inside a Kubernetes Secret: base64 of base64.
    let docker = format!(
        "{{\"auths\":{{\"registry.example\":{{\"auth\":\"{}\"}}}}}}",
        b64s(&format!("user:{}", k[5]))
    );
    let inner_at = docker.find("\"auth\":\"").unwrap() + 8 + 5 * 8 / 6;
    put(
        "k8s/pull-secret.yaml",
        format!("data:\n  .dockerconfigjson: {}\n", b64s(&docker)).into_bytes(),
        2,
        22 + (inner_at * 8 / 6) as u64,
        5,
        &["base64", "base64"],
    );
    // PEM-style base64 wrapped at 64 characters, the key across a line break.
    let payload = format!(
        "{}: {}\nmore text after the key, enough for lines",
        "x".repeat(38),
        k[6]
    );
    let enc = b64s(&payload);
    let wrapped: Vec<&str> = enc
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    // Key byte 40 starts at character 53 of line 1.
    put(
        "certs/blob.pem",
        format!(
            "-----BEGIN DATA-----\n{}\n-----END DATA-----\n",
            wrapped.join("\n")
        )
        .into_bytes(),
        2,
        54,
        6,
        &["base64"],
    );
    // Percent-encoding: the key glued after an encoded `=`, and the prefix's `_` encoded.
    put(
        "logs/urls.log",
        format!(
            "GET /v1/me?api_key%3D{}&x=1\nGET /v1/me?k=leadey%5Fsk%5Flive%5F{}\n",
            k[7],
            &k[8][PREFIX.len()..]
        )
        .into_bytes(),
        1,
        22,
        7,
        &[],
    );
    more.push(("logs/urls.log".into(), 2, 14, 8, chain(&["percent"])));
    // JSON `\u005f`, C `\x5f`, HTML entities.
    let esc = |e: &str, key: &str| format!("leadey{e}sk{e}live{e}{}", &key[PREFIX.len()..]);
    put(
        "escaped.json",
        format!("{{\"key\": \"{}\"}}\n", esc("\\u005f", &k[9])).into_bytes(),
        1,
        10,
        9,
        &["escape"],
    );
    put(
        "page.html",
        format!(
            "<code>{}</code>\n<i>{}</i>\n",
            esc("&#95;", &k[10]),
            esc("&#x5F;", &k[11])
        )
        .into_bytes(),
        1,
        7,
        10,
        &["html-entity"],
    );
    more.push(("page.html".into(), 2, 4, 11, chain(&["html-entity"])));
    // A Windows .reg export in UTF-16LE with a BOM, a UTF-16BE file without one.
    let mut reg = vec![0xFF, 0xFE];
    reg.extend(utf16(
        &format!("[HKCU\\Leadey]\r\n\"Key\"=\"{}\"\r\n", k[12]),
        false,
    ));
    t.write("export.reg", reg);
    // #22: columns count the characters of UTF-16 text: `"Key"="` is 7 of them.
    more.push(("export.reg".into(), 2, 8, 12, chain(&["utf-16le"])));
    put(
        "be.txt",
        utf16(&format!("k={}\n", k[13]), true),
        1,
        3,
        13,
        &["utf-16be"],
    );
    // PowerShell -EncodedCommand: base64 of UTF-16LE.
    let script = format!("$k='{}'", k[14]);
    put(
        "run.ps1",
        format!(
            "powershell -EncodedCommand {}\n",
            b64(&utf16(&script, false))
        )
        .into_bytes(),
        1,
        28 + (2 * 4 * 8 / 6) as u64,
        14,
        &["base64", "utf-16le"],
    );
    // A hex dump.
    put(
        "debug.log",
        format!("body={}\n", hex(&k[15]).to_uppercase()).into_bytes(),
        1,
        6,
        15,
        &["hex"],
    );

    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let mut want: Vec<_> = want
        .into_iter()
        .chain(more)
        .map(|(path, line, column, key, enc)| (path, line, column, sha256_hex(&k[key]), enc))
        .collect();
    want.sort();
    let mut got = found(&v);
    got.sort();
    assert_eq!(got, want);
    // The mask is the decoded key's, as the dashboard shows it.
    for f in findings(&v) {
        let key = k.iter().find(|k| sha256_hex(k) == f["key_sha256"]).unwrap();
        assert_eq!(f["masked_key"], masked(key));
    }
}

#[test]
fn a_key_plain_and_encoded_is_one_key_and_reports_say_how_it_was_found() {
    let t = Tree::new();
    let key = fake_key(1500);
    t.write("a.env", format!("LEADEY_API_KEY={key}\n"));
    t.write("b.yaml", format!("data:\n  key: {}\n", b64s(&key)));
    let (v, _) = json(t.cmd().arg("."));
    let f = findings(&v);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0]["key_sha256"], f[1]["key_sha256"]);
    assert_eq!(f[0]["masked_key"], f[1]["masked_key"]);
    assert!(
        f[0].get("encoding").is_none(),
        "plain keys carry no chain: {}",
        f[0]
    );
    assert_eq!(f[1]["encoding"], serde_json::json!(["base64"]));
    // The snippet masks the encoded token too.
    let snippet = f[1]["snippet"].as_str().unwrap();
    let rest = snippet.strip_prefix(&format!("  key: {}", masked(&key)));
    assert!(
        rest.is_some_and(|r| r.bytes().all(|b| b == b'=')),
        "{snippet}"
    );
    // Human report.
    let out = run(t.cmd().arg("b.yaml"));
    let text = stdout(&out);
    assert!(text.contains("b.yaml:2:8 (found base64-encoded)"), "{text}");
    // SARIF: the region is the encoded token, the chain in properties.
    let out = run(t.cmd().args(["b.yaml", "--format", "sarif"]));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["properties"]["encoding"],
        serde_json::json!(["base64"])
    );
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 2);
    assert_eq!(region["startColumn"], 8);
}

#[test]
fn base64_and_hex_in_real_trees_are_not_keys() {
    let t = Tree::new();
    // package-lock integrity hashes, a JWT, a certificate, random base64, a source map.
    t.write(
        "package-lock.json",
        "{\"integrity\": \"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\"}\n",
    );
    t.write(
        "token.jwt",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkxlYWRleSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n",
    );
    let mut rng = 0x1234_5678_9ABC_DEF0u64;
    let random: Vec<u8> = (0..30_000)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 24) as u8
        })
        .collect();
    let wrapped: Vec<String> = b64(&random)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    t.write(
        "cert.pem",
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            wrapped.join("\n")
        ),
    );
    t.write(
        "bundle.js.map",
        format!("{{\"mappings\":\"{}\"}}\n", b64(&random)),
    );
    t.write("dump.hex", hex(&String::from_utf8_lossy(&random)));
    // Base64 of text that mentions the prefix without a key, and of documentation forms.
    t.write(
        "docs.b64",
        format!(
            "{}\n{}\n{}\n{}\n",
            b64s("Keys look like leadey_sk_live_Xy3f…a1b2 in the docs."),
            b64s("LEADEY_API_KEY=leadey_sk_live_YourLeadeyKeyHere2024"),
            b64s("key: leadey_sk_live_XXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
            b64s("the dashboard shows leadey_sk_live_••••a1b2"),
        ),
    );
    t.write(
        "docs.txt",
        "leadey%5Fsk%5Flive%5FINSERTYOURKEYHERE12345\nleadey-scan finds leadey keys\n",
    );
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(findings(&v).len(), 0, "{v}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_allow_comment_on_the_encoded_line_suppresses_it() {
    let t = Tree::new();
    let (a, b) = (fake_key(1600), fake_key(1601));
    t.write(
        "secret.yaml",
        format!(
            "key: {} # leadey-scan:allow test fixture\nother: {}\n",
            b64s(&a),
            b64s(&b)
        ),
    );
    let (v, _) = json(t.cmd().arg("."));
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["key_sha256"], sha256_hex(&b));
    assert_eq!(v["suppressed"].as_array().map(Vec::len), Some(1), "{v}");
}

#[test]
fn max_decode_depth_bounds_the_nesting_and_zero_turns_decoding_off() {
    let t = Tree::new();
    let (a, b, c) = (fake_key(1700), fake_key(1701), fake_key(1702));
    t.write("plain.txt", format!("{a}\n"));
    t.write("once.txt", format!("{}\n", b64s(&b)));
    t.write("twice.txt", format!("{}\n", b64s(&b64s(&c))));
    let paths = |depth: &str| -> Vec<String> {
        let (v, _) = json(t.cmd().args([".", "--max-decode-depth", depth]));
        findings(&v)
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(paths("0"), ["plain.txt"]);
    assert_eq!(paths("1"), ["once.txt", "plain.txt"]);
    assert_eq!(paths("2"), ["once.txt", "plain.txt", "twice.txt"]);
    let out = run(t.cmd().args([".", "--max-decode-depth", "3"]));
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
}

#[test]
fn reports_are_identical_at_every_chunk_size_and_thread_count() {
    let t = Tree::new();
    let mut text = String::new();
    for i in 0..40 {
        let key = fake_key(1800 + i);
        let line = match i % 5 {
            0 => format!("k{i}: {}\n", b64s(&format!("user:{key}"))),
            1 => format!("u{i}=leadey%5Fsk%5Flive%5F{}\n", &key[PREFIX.len()..]),
            2 => format!("h{i}={}\n", hex(&key)),
            3 => format!("n{i}: {}\n", b64s(&b64s(&format!("a:{key}")))),
            _ => format!("p{i}=\"{key}\"\n"),
        };
        text.push_str(&line);
        text.push_str(&"filler text, not a key. ".repeat(i as usize % 7));
        text.push('\n');
    }
    t.write("many.txt", &text);
    let report = |args: &[&str]| {
        let out = run(t
            .cmd()
            .args(["many.txt", "--format", "json", "--no-timing"])
            .args(args));
        stdout(&out)
    };
    let reference = report(&[]);
    let v: Value = serde_json::from_str(&reference).unwrap();
    assert_eq!(findings(&v).len(), 40);
    for chunk in ["1", "97", "1000", "4096"] {
        for threads in ["1", "3"] {
            assert_eq!(
                report(&["--chunk-size", chunk, "--threads", threads]),
                reference,
                "chunk {chunk}, threads {threads}"
            );
        }
    }
}

/// A UTF-16LE key right after ASCII text, without a byte-order mark (`name=` then the key in
/// UTF-16LE): at an odd offset the parity alone said big-endian and the key was missed. The
/// byte before it is `=`, not the 0 a big-endian unit would start with, so it is little-endian
/// at either parity.
#[test]
fn a_utf16le_key_right_after_ascii_is_found_at_odd_and_even_offsets() {
    let t = Tree::new();
    let keys = [fake_key(4101), fake_key(4102)];
    for (name, prefix, key) in [
        ("odd.dat", "name=", &keys[0]),
        ("even.dat", "key=", &keys[1]),
    ] {
        let mut data = prefix.as_bytes().to_vec();
        data.extend(utf16(key, false));
        data.push(b'\n');
        t.write(name, data);
    }
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let mut got: Vec<(String, String, Vec<String>)> = found(&v)
        .into_iter()
        .map(|(path, _, _, sha, enc)| (path, sha, enc))
        .collect();
    got.sort();
    let utf16le = vec!["utf-16le".to_string()];
    assert_eq!(
        got,
        vec![
            (
                "even.dat".to_string(),
                sha256_hex(&keys[1]),
                utf16le.clone()
            ),
            ("odd.dat".to_string(), sha256_hex(&keys[0]), utf16le),
        ]
    );
}

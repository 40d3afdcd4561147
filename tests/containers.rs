//! Containers found after a header (#22): a zip after a stub (self-extracting `.sh` and `.exe`,
//! `.pyz`, CRX3), Debian packages, cpio, RPM, adb backups, Electron `app.asar`, Alpine `.apk`,
//! conda, xar (`.pkg`) and phar. Each test builds realistic content itself, plants a key and
//! finds it with its member chain and line; a placeholder of the same format is not reported;
//! damaged variants end as incomplete skips and the scan goes on.

use std::io::{Cursor, Write};

use crate::common::*;
use serde_json::Value;

/// A text file holding `key` on line 2, column 7.
fn env_file(key: &str) -> Vec<u8> {
    format!("# config\nTOKEN={key}\n").into_bytes()
}

/// A config file with a placeholder where the key goes.
fn placeholder_file() -> Vec<u8> {
    b"# config\nTOKEN=leadey_sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\nOTHER=YOUR_KEY_HERE\n".to_vec()
}

fn zip(files: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in files {
        w.start_file(*name, opts).expect("zip start");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

fn deflated(files: &[(&str, &[u8])]) -> Vec<u8> {
    zip(files, zip::CompressionMethod::Deflated)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip finish")
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("zlib");
    e.finish().expect("zlib finish")
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))
        .expect("xz writer");
    w.write_all(data).expect("xz");
    w.finish().expect("xz finish")
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Scans the tree `t` with a JSON report.
fn scan(t: &Tree) -> (Value, std::process::Output) {
    json(t.cmd().arg("."))
}

/// Scans one file `name` holding `data` in a fresh tree.
fn scan_one(name: &str, data: &[u8]) -> Value {
    let t = Tree::new();
    t.write(name, data);
    scan(&t).0
}

/// `(path, reason)` of the skips.
fn skips(v: &Value) -> Vec<(String, String)> {
    v["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap_or_default().to_string(),
                s["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn at(path: &str, line: u64, column: u64) -> (String, u64, u64) {
    (path.to_string(), line, column)
}

/// The masked keys of the findings.
fn masked_keys(v: &Value) -> Vec<String> {
    listed(v, "findings")
        .into_iter()
        .map(|(_, _, m)| m)
        .collect()
}

/// Scans `data` as a file, on standard input and as a member of a tar, and asserts the key is
/// found at `member` (a chain below the file) on line 2, column 7 each time.
fn found_everywhere(name: &str, data: &[u8], member: &str, key: &str) {
    let v = scan_one(name, data);
    assert_eq!(
        locations(&v),
        vec![at(&format!("{name}!{member}"), 2, 7)],
        "{v:#}"
    );
    assert_eq!(masked_keys(&v), vec![masked(key)]);
    assert_eq!(v["skipped"].as_array().map(Vec::len), Some(0), "{v:#}");

    let mut child = bin()
        .args(["-", "--format", "json", "--no-timing"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = data.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    let v = stdout_json(&out);
    assert_eq!(
        locations(&v),
        vec![at(&format!("<stdin>!{member}"), 2, 7)],
        "stdin: {v:#}"
    );

    let v = scan_one("release.tar", &tar(&[(name, data)]));
    assert_eq!(
        locations(&v),
        vec![at(&format!("release.tar!{name}!{member}"), 2, 7)],
        "in a tar: {v:#}"
    );
}

/// Asserts a scan of `data` as `name` reports nothing, exits 0 and skips nothing.
fn clean(name: &str, data: &[u8]) {
    let t = Tree::new();
    t.write(name, data);
    let (v, out) = scan(&t);
    assert_eq!(locations(&v), vec![], "{v:#}");
    assert_eq!(v["skipped"].as_array().map(Vec::len), Some(0), "{v:#}");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

// ---- a zip after a prefix ----

/// A self-extracting shell installer: a stub that ends with `exit`, then a zip, as makeself-
/// style and `unzipsfx`-style installers are built (the zip's offsets not adjusted).
fn sfx_sh(stub_extra: &str, zip: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "#!/bin/sh\n# Self-extracting installer\n{stub_extra}\
         ARCHIVE=$(awk '/^__ARCHIVE__/ {{print NR + 1; exit 0}}' \"$0\")\n\
         tail -n+$ARCHIVE \"$0\" > /tmp/payload.zip && unzip -o /tmp/payload.zip\nexit 0\n__ARCHIVE__\n"
    )
    .into_bytes();
    out.extend_from_slice(zip);
    out
}

#[test]
fn a_self_extracting_shell_installer_is_opened_after_its_stub() {
    let key = fake_key(2201);
    let payload = deflated(&[
        ("README.txt", b"install me"),
        ("config/app.env", &env_file(&key)),
    ]);
    found_everywhere(
        "installer.sh",
        &sfx_sh("", &payload),
        "config/app.env",
        &key,
    );
    clean(
        "installer.sh",
        &sfx_sh("", &deflated(&[("config/app.env", &placeholder_file())])),
    );
}

#[test]
fn a_key_in_the_stub_of_an_installer_is_named_by_the_installer_with_its_line() {
    let (in_stub, in_zip) = (fake_key(2202), fake_key(2203));
    let payload = deflated(&[("config/app.env", &env_file(&in_zip))]);
    let data = sfx_sh(&format!("export TOKEN={in_stub}\n"), &payload);
    let v = scan_one("installer.sh", &data);
    let mut got = locations(&v);
    got.sort();
    assert_eq!(
        got,
        vec![
            at("installer.sh", 3, 14),
            at("installer.sh!config/app.env", 2, 7)
        ],
        "{v:#}"
    );
}

#[test]
fn a_large_installer_is_located_from_its_end_with_a_seek() {
    let key = fake_key(2204);
    let payload = deflated(&[("config/app.env", &env_file(&key))]);
    // A stub much larger than the first chunk the scan reads.
    let filler = "# padding line of the installer stub\n".repeat(200_000);
    let v = scan_one("big-installer.sh", &sfx_sh(&filler, &payload));
    assert_eq!(
        locations(&v),
        vec![at("big-installer.sh!config/app.env", 2, 7)],
        "{v:#}"
    );
}

#[test]
fn a_python_zipapp_with_a_shebang_is_opened() {
    let key = fake_key(2205);
    let mut pyz = b"#!/usr/bin/env python3\n".to_vec();
    pyz.extend(deflated(&[
        ("__main__.py", b"import app\napp.main()\n"),
        (
            "app/settings.py",
            format!("# settings\nTOKEN={key}\n").as_bytes(),
        ),
    ]));
    found_everywhere("tool.pyz", &pyz, "app/settings.py", &key);
}

/// A CRX3 extension: `Cr24`, version 3, the length of a (here dummy) signed header, then the zip.
fn crx3(zip: &[u8]) -> Vec<u8> {
    let header = [0x12u8, 0x04, 0x0a, 0x02, 0x08, 0x01].repeat(40);
    let mut out = b"Cr24".to_vec();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(zip);
    out
}

#[test]
fn a_crx3_browser_extension_is_opened() {
    let key = fake_key(2206);
    let ext = deflated(&[
        ("manifest.json", b"{\"manifest_version\": 3}"),
        ("js/config.js", &env_file(&key)),
    ]);
    found_everywhere("extension.crx", &crx3(&ext), "js/config.js", &key);
    clean(
        "extension.crx",
        &crx3(&deflated(&[("js/config.js", &placeholder_file())])),
    );
}

/// A Windows self-extracting archive (or a jar wrapped in an exe): an `MZ` executable stub with
/// NUL bytes, then the zip.
fn sfx_exe(zip: &[u8]) -> Vec<u8> {
    let mut out = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    out.extend(vec![0u8; 48]);
    out.extend_from_slice(b"This program cannot be run in DOS mode.\r\r\n$");
    out.extend((0..3000u32).map(|i| (i * 7 % 251) as u8));
    out.extend_from_slice(zip);
    out
}

#[test]
fn a_self_extracting_exe_and_a_jar_in_an_exe_are_opened() {
    let key = fake_key(2207);
    let jar = zip(
        &[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("app.properties", &env_file(&key)),
        ],
        zip::CompressionMethod::Stored,
    );
    found_everywhere("launcher.exe", &sfx_exe(&jar), "app.properties", &key);
}

#[test]
fn a_zip64_after_a_prefix_is_opened() {
    let key = fake_key(2208);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().large_file(true);
    w.start_file("config/app.env", opts).unwrap();
    w.write_all(&env_file(&key)).unwrap();
    let z = w.finish().unwrap().into_inner();
    found_everywhere("installer.sh", &sfx_sh("", &z), "config/app.env", &key);
}

#[test]
fn text_that_merely_ends_like_a_zip_record_is_scanned_as_text() {
    let key = fake_key(2209);
    // A script whose last bytes look like an end-of-central-directory record with a central
    // directory that cannot fit: scanned as the text it is.
    let mut data = format!("#!/bin/sh\nTOKEN={key}\n").into_bytes();
    data.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\xff\xff\0\0\xff\xff\0\0\0\0");
    let v = scan_one("odd.sh", &data);
    assert_eq!(locations(&v), vec![at("odd.sh", 2, 7)], "{v:#}");
}

#[test]
fn a_damaged_zip_after_a_prefix_is_an_incomplete_skip_and_the_scan_goes_on() {
    let key = fake_key(2210);
    let other = fake_key(2211);
    let payload = deflated(&[("config/app.env", &env_file(&key))]);
    let mut data = sfx_sh("", &payload);
    // Damage the central directory's signature: the record at the end still points at it.
    let cd = data
        .windows(4)
        .rposition(|w| w == b"PK\x01\x02")
        .expect("central directory");
    data[cd + 1] = b'X';
    let t = Tree::new();
    t.write("installer.sh", &data);
    t.write("other.env", env_file(&other));
    let (v, out) = scan(&t);
    assert_eq!(locations(&v), vec![at("other.env", 2, 7)], "{v:#}");
    assert_eq!(
        skips(&v),
        vec![("installer.sh".to_string(), "corrupt".to_string())],
        "{v:#}"
    );
    assert_eq!(code(&out), 1);
}

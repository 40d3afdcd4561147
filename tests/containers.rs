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
    let data = sfx_sh(&filler, &payload);
    let v = scan_one("big-installer.sh", &data);
    assert_eq!(
        locations(&v),
        vec![at("big-installer.sh!config/app.env", 2, 7)],
        "{v:#}"
    );
    // As a member, past the first chunk: held in memory (under the zip buffer), then located.
    let v = scan_one("dist.tar.gz", &gzip(&tar(&[("big-installer.sh", &data)])));
    assert_eq!(
        locations(&v),
        vec![at("dist.tar.gz!big-installer.sh!config/app.env", 2, 7)],
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

// ---- Debian packages (ar) ----

/// An ar archive of `(name, content)` members in the GNU layout `dpkg-deb` writes.
fn ar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in files {
        let header = format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            format!("{name}/"),
            1_700_000_000,
            0,
            0,
            "100644",
            data.len()
        );
        assert_eq!(header.len(), 60);
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

/// A Debian package whose data tar is compressed with `compress` and named `data_name`.
fn deb(data_name: &str, compress: fn(&[u8]) -> Vec<u8>, files: &[(&str, &[u8])]) -> Vec<u8> {
    let control = gzip(&tar(&[(
        "./control",
        b"Package: app\nVersion: 1.0\nArchitecture: all\n",
    )]));
    ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &control),
        (data_name, &compress(&tar(files))),
    ])
}

#[test]
fn a_debian_package_is_opened_with_gz_xz_and_zst_data() {
    let key = fake_key(2220);
    let files: &[(&str, &[u8])] = &[
        ("./usr/share/doc/app/copyright", b"MIT"),
        ("./etc/app/app.env", &env_file(&key)),
    ];
    for (name, compress) in [
        ("data.tar.gz", gzip as fn(&[u8]) -> Vec<u8>),
        ("data.tar.xz", xz),
        ("data.tar.zst", zstd),
    ] {
        let pkg = deb(name, compress, files);
        found_everywhere(
            "app_1.0_all.deb",
            &pkg,
            &format!("{name}!etc/app/app.env"),
            &key,
        );
    }
    clean(
        "app_1.0_all.deb",
        &deb(
            "data.tar.xz",
            xz,
            &[("./etc/app/app.env", &placeholder_file())],
        ),
    );
}

#[test]
fn ar_long_names_are_resolved() {
    let key = fake_key(2221);
    let long = "a-rather-long-member-name.env";
    // GNU: a `//` table, the member named `/0`.
    let table = format!("{long}/\n");
    let mut gnu = ar(&[("debian-binary", b"2.0\n")]);
    for (name, data) in [("//", table.as_bytes()), ("/0", &env_file(&key)[..])] {
        let h = format!(
            "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            0,
            0,
            0,
            "644",
            data.len()
        );
        gnu.extend_from_slice(h.as_bytes());
        gnu.extend_from_slice(data);
        if data.len() % 2 == 1 {
            gnu.push(b'\n');
        }
    }
    let v = scan_one("lib.a", &gnu);
    assert_eq!(
        locations(&v),
        vec![at(&format!("lib.a!{long}"), 2, 7)],
        "{v:#}"
    );
    // BSD: `#1/N`, the name before the content.
    let mut body = long.as_bytes().to_vec();
    body.extend(env_file(&key));
    let mut bsd = ar(&[("debian-binary", b"2.0\n")]);
    let h = format!(
        "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
        format!("#1/{}", long.len()),
        0,
        0,
        0,
        "644",
        body.len()
    );
    bsd.extend_from_slice(h.as_bytes());
    bsd.extend_from_slice(&body);
    let v = scan_one("lib.a", &bsd);
    assert_eq!(
        locations(&v),
        vec![at(&format!("lib.a!{long}"), 2, 7)],
        "{v:#}"
    );
}

#[test]
fn a_damaged_or_lying_ar_is_an_incomplete_skip_and_the_scan_goes_on() {
    let key = fake_key(2222);
    let good = ar(&[
        ("debian-binary", b"2.0\n"),
        ("first.env", &env_file(&key)),
        ("second.env", b"x=1\n"),
    ]);
    // A size that claims more than there is.
    let mut lying = good.clone();
    let at_size = 8 + 60 + 4 + 60 + env_file(&key).len() + env_file(&key).len() % 2 + 48;
    lying[at_size..at_size + 10].copy_from_slice(b"9999999999");
    // A name table that claims gigabytes.
    let mut huge = ar(&[("debian-binary", b"2.0\n")]);
    huge.extend_from_slice(
        format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            "//", 0, 0, 0, "644", 4_000_000_000u64
        )
        .as_bytes(),
    );
    // A bad header terminator.
    let mut bad = good.clone();
    bad[8 + 60 + 4 + 58] = b'X';
    for (name, data, member, reason) in [
        ("cut.deb", &good[..good.len() - 3], "cut.deb", "truncated"),
        ("lying.deb", &lying[..], "lying.deb", "truncated"),
        ("huge.deb", &huge[..], "huge.deb", "corrupt"),
        ("bad.deb", &bad[..], "bad.deb", "corrupt"),
    ] {
        let t = Tree::new();
        t.write(name, data);
        t.write("other.env", env_file(&fake_key(2223)));
        let (v, _) = scan(&t);
        assert_eq!(
            skips(&v),
            vec![(member.to_string(), reason.to_string())],
            "{name}: {v:#}"
        );
        assert!(
            locations(&v).contains(&at("other.env", 2, 7)),
            "{name}: {v:#}"
        );
    }
}

// ---- cpio and RPM ----

/// A cpio archive in the `newc` format (as `find | cpio -o -H newc` and rpmbuild write it).
fn cpio_newc(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut entry = |name: &str, mode: u32, data: &[u8]| {
        let header = format!(
            "070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
            1,
            mode,
            0,
            0,
            1,
            1_700_000_000,
            data.len(),
            8,
            1,
            0,
            0,
            name.len() + 1,
            0
        );
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    entry("./etc", 0o040755, b"");
    entry("./etc/link", 0o120777, b"../target");
    for (name, data) in files {
        entry(name, 0o100644, data);
    }
    entry("TRAILER!!!", 0, b"");
    out
}

/// A cpio archive in the `odc` format (as macOS `.pkg` payloads are written).
fn cpio_odc(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut entry = |name: &str, mode: u32, data: &[u8]| {
        let header = format!(
            "070707{:06o}{:06o}{:06o}{:06o}{:06o}{:06o}{:06o}{:011o}{:06o}{:011o}",
            1,
            1,
            mode,
            0,
            0,
            1,
            0,
            1_700_000_000u64,
            name.len() + 1,
            data.len()
        );
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(data);
    };
    entry(".", 0o040755, b"");
    for (name, data) in files {
        entry(name, 0o100644, data);
    }
    entry("TRAILER!!!", 0, b"");
    out
}

#[test]
fn cpio_archives_in_newc_and_odc_are_opened() {
    let key = fake_key(2230);
    let files: &[(&str, &[u8])] = &[
        ("./init", b"#!/bin/sh\n"),
        ("./etc/app.env", &env_file(&key)),
    ];
    found_everywhere("initramfs.cpio", &cpio_newc(files), "etc/app.env", &key);
    found_everywhere("initrd.img", &gzip(&cpio_newc(files)), "etc/app.env", &key);
    found_everywhere("payload.cpio", &cpio_odc(files), "etc/app.env", &key);
    clean(
        "initramfs.cpio",
        &cpio_newc(&[("./etc/app.env", &placeholder_file())]),
    );
}

/// One RPM header structure with `entries` index entries and a `store` of data.
fn rpm_header(entries: u32, store: &[u8]) -> Vec<u8> {
    let mut out = vec![0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
    out.extend_from_slice(&entries.to_be_bytes());
    out.extend_from_slice(&(store.len() as u32).to_be_bytes());
    for i in 0..entries {
        // tag, type (STRING), offset, count
        out.extend_from_slice(&(1000 + i).to_be_bytes());
        out.extend_from_slice(&6u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&1u32.to_be_bytes());
    }
    out.extend_from_slice(store);
    out
}

/// An RPM package: lead, signature (padded to 8), header, then the compressed cpio payload.
fn rpm(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xed, 0xab, 0xee, 0xdb, 3, 0, 0, 0, 0, 1];
    let mut name = b"app-1.0-1".to_vec();
    name.resize(66, 0);
    out.extend_from_slice(&name);
    out.extend_from_slice(&[0, 1, 0, 5]);
    out.extend_from_slice(&[0u8; 16]);
    assert_eq!(out.len(), 96);
    out.extend(rpm_header(1, b"sha256\0"));
    while out.len() % 8 != 0 {
        out.push(0);
    }
    out.extend(rpm_header(2, b"app\x001.0\0"));
    out.extend_from_slice(payload);
    out
}

#[test]
fn an_rpm_is_opened_with_gz_xz_and_zst_payloads() {
    let key = fake_key(2231);
    let files: &[(&str, &[u8])] = &[("./etc/app/app.env", &env_file(&key))];
    for compress in [gzip as fn(&[u8]) -> Vec<u8>, xz, zstd] {
        found_everywhere(
            "app-1.0-1.noarch.rpm",
            &rpm(&compress(&cpio_newc(files))),
            "etc/app/app.env",
            &key,
        );
    }
    clean(
        "app-1.0-1.noarch.rpm",
        &rpm(&xz(&cpio_newc(&[(
            "./etc/app/app.env",
            &placeholder_file(),
        )]))),
    );
}

#[test]
fn damaged_cpio_and_rpm_are_incomplete_skips_and_the_scan_goes_on() {
    let key = fake_key(2232);
    let cpio = cpio_newc(&[("./etc/app.env", &env_file(&key))]);
    let mut lying_name = cpio.clone();
    // The name size of the first entry: FFFFFFFF.
    lying_name[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"FFFFFFFF");
    let mut lying_rpm = rpm(&gzip(&cpio));
    lying_rpm[96 + 8..96 + 12].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let cut_rpm = rpm(&gzip(&cpio));
    let cut_rpm = &cut_rpm[..120];
    for (name, data, reason) in [
        ("cut.cpio", &cpio[..cpio.len() - 20], "truncated"),
        ("lying.cpio", &lying_name[..], "corrupt"),
        ("lying.rpm", &lying_rpm[..], "corrupt"),
        ("cut.rpm", cut_rpm, "truncated"),
    ] {
        let t = Tree::new();
        t.write(name, data);
        t.write("other.env", env_file(&fake_key(2233)));
        let (v, _) = scan(&t);
        assert_eq!(
            skips(&v),
            vec![(name.to_string(), reason.to_string())],
            "{name}: {v:#}"
        );
        assert!(
            locations(&v).contains(&at("other.env", 2, 7)),
            "{name}: {v:#}"
        );
    }
}

// ---- adb backup ----

/// An `adb backup` file of a tar holding `files`, compressed or not, encrypted or not.
fn adb_backup(files: &[(&str, &[u8])], compressed: bool, encryption: &str) -> Vec<u8> {
    let flag = if compressed { 1 } else { 0 };
    let mut out = format!("ANDROID BACKUP\n5\n{flag}\n{encryption}\n").into_bytes();
    let tar = tar(files);
    out.extend(if compressed { zlib(&tar) } else { tar });
    out
}

#[test]
fn an_adb_backup_is_opened_compressed_or_not() {
    let key = fake_key(2240);
    let files: &[(&str, &[u8])] = &[
        ("apps/com.example/_manifest", b"1\ncom.example\n"),
        ("apps/com.example/sp/prefs.env", &env_file(&key)),
    ];
    for compressed in [true, false] {
        found_everywhere(
            "backup.ab",
            &adb_backup(files, compressed, "none"),
            "apps/com.example/sp/prefs.env",
            &key,
        );
    }
    clean(
        "backup.ab",
        &adb_backup(
            &[("apps/a/sp/prefs.env", &placeholder_file())],
            true,
            "none",
        ),
    );
}

#[test]
fn an_encrypted_or_damaged_adb_backup_is_an_incomplete_skip() {
    let key = fake_key(2241);
    let files: &[(&str, &[u8])] = &[("apps/a/sp/prefs.env", &env_file(&key))];
    let mut encrypted = b"ANDROID BACKUP\n5\n1\nAES-256\n".to_vec();
    encrypted.extend_from_slice(b"0011AABB\n2233CCDD\n1000\n00FF\n");
    encrypted.extend((0..500u32).map(|i| (i * 31 % 256) as u8));
    let good = adb_backup(files, true, "none");
    let cut = &good[..good.len() - 30];
    let mut long = b"ANDROID BACKUP\n".to_vec();
    long.extend(vec![b'5'; 10_000]);
    for (name, data, reason) in [
        ("enc.ab", &encrypted[..], "encrypted"),
        ("cut.ab", cut, "truncated"),
        ("long.ab", &long[..], "corrupt"),
    ] {
        let t = Tree::new();
        t.write(name, data);
        let (v, out) = scan(&t);
        // The cut backup gives its member before the cut.
        let want = match name {
            "cut.ab" => vec![at("cut.ab!apps/a/sp/prefs.env", 2, 7)],
            _ => vec![],
        };
        assert_eq!(locations(&v), want, "{name}: {v:#}");
        // A stream cut inside a member is reported at that member, as for a `.tar.gz`.
        let skipped = match name {
            "cut.ab" => "cut.ab!apps/a/sp/prefs.env",
            _ => name,
        };
        assert_eq!(
            skips(&v),
            vec![(skipped.to_string(), reason.to_string())],
            "{name}: {v:#}"
        );
        assert_eq!(code(&out), i32::from(name == "cut.ab"), "{name}");
    }
}

// ---- Electron app.asar ----

/// An `app.asar` of `files` (paths with `/`), as `@electron/asar` writes it: the pickled JSON
/// header, then the files in order; `extra` adds nodes to the top folder.
fn asar(files: &[(&str, &[u8])], extra: Value) -> Vec<u8> {
    let mut root = serde_json::json!({});
    let mut body = Vec::new();
    for (path, data) in files {
        let mut node = &mut root;
        let parts: Vec<&str> = path.split('/').collect();
        for dir in &parts[..parts.len() - 1] {
            let files = node.as_object_mut().unwrap();
            node = files
                .entry(dir.to_string())
                .or_insert_with(|| serde_json::json!({"files": {}}))
                .get_mut("files")
                .unwrap();
        }
        node.as_object_mut().unwrap().insert(
            parts[parts.len() - 1].to_string(),
            serde_json::json!({"size": data.len(), "offset": body.len().to_string()}),
        );
        body.extend_from_slice(data);
    }
    if let Value::Object(extra) = extra {
        root.as_object_mut().unwrap().extend(extra);
    }
    let json = serde_json::to_vec(&serde_json::json!({ "files": root })).unwrap();
    let padded = json.len().div_ceil(4) * 4;
    let mut out = Vec::new();
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&((padded + 8) as u32).to_le_bytes());
    out.extend_from_slice(&((padded + 4) as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.resize(16 + padded, 0);
    out.extend_from_slice(&body);
    out
}

#[test]
fn an_electron_asar_is_opened_and_members_get_their_real_names() {
    let key = fake_key(2250);
    let extra = serde_json::json!({
        "native.node": {"size": 10, "unpacked": true},
        "current": {"link": "dist"}
    });
    let data = asar(
        &[
            ("package.json", b"{\"name\": \"app\"}"),
            ("dist/main.js", b"console.log(1)\n"),
            ("dist/config/app.env", &env_file(&key)),
        ],
        extra,
    );
    found_everywhere("app.asar", &data, "dist/config/app.env", &key);
    clean(
        "app.asar",
        &asar(&[("dist/config/app.env", &placeholder_file())], Value::Null),
    );
}

#[test]
fn a_damaged_asar_is_an_incomplete_skip_and_the_scan_goes_on() {
    let key = fake_key(2251);
    let files: &[(&str, &[u8])] = &[("a.env", &env_file(&key)), ("b.env", b"x=1\n")];
    let good = asar(files, Value::Null);
    // The second file's bytes cut away: the first is found, the second is truncated.
    let cut = &good[..good.len() - 2];
    // The header's JSON broken.
    let mut broken = good.clone();
    let json_end = 16 + u32::from_le_bytes(good[12..16].try_into().unwrap()) as usize;
    broken[json_end - 1] = b'!';
    // A header that claims to be 4 GiB long.
    let mut huge = good.clone();
    huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    for (name, data, skipped, reason, want) in [
        (
            "cut.asar",
            cut,
            "cut.asar!b.env",
            "truncated",
            vec![at("cut.asar!a.env", 2, 7)],
        ),
        ("broken.asar", &broken[..], "broken.asar", "corrupt", vec![]),
        ("huge.asar", &huge[..], "huge.asar", "unsupported", vec![]),
    ] {
        let t = Tree::new();
        t.write(name, data);
        let (v, _) = scan(&t);
        assert_eq!(locations(&v), want, "{name}: {v:#}");
        assert_eq!(
            skips(&v),
            vec![(skipped.to_string(), reason.to_string())],
            "{name}: {v:#}"
        );
    }
}

// ---- Alpine .apk and conda ----

/// A tar of `files` without its end-of-archive blocks, as `abuild-tar --cut` leaves the
/// signature and control parts of an Alpine package.
fn cut_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut t = tar(files);
    while t.len() >= 512 && t[t.len() - 512..].iter().all(|&b| b == 0) {
        t.truncate(t.len() - 512);
    }
    t
}

#[test]
fn an_alpine_apk_of_concatenated_gzip_streams_is_read_whole() {
    let key = fake_key(2260);
    let mut apk = gzip(&cut_tar(&[(
        ".SIGN.RSA.builder.rsa.pub",
        &[0x30u8, 0x82, 1, 0][..],
    )]));
    apk.extend(gzip(&cut_tar(&[(
        ".PKGINFO",
        b"pkgname = app\npkgver = 1.0-r0\n",
    )])));
    apk.extend(gzip(&tar(&[
        ("usr/bin/app", b"#!/bin/sh\necho app\n"),
        ("etc/app/app.env", &env_file(&key)),
    ])));
    found_everywhere("app-1.0-r0.apk", &apk, "etc/app/app.env", &key);
    // Parts that keep their end-of-archive blocks (not cut): the tars after the first are
    // read too.
    let mut whole = gzip(&tar(&[(".PKGINFO", b"pkgname = app\n")]));
    whole.extend(gzip(&tar(&[("etc/app/app.env", &env_file(&key))])));
    found_everywhere("app-1.0-r0.apk", &whole, "etc/app/app.env", &key);
}

#[test]
fn a_conda_package_is_a_zip_of_zstd_tars() {
    let key = fake_key(2261);
    let info = zstd(&tar(&[("info/index.json", b"{\"name\": \"app\"}")]));
    let pkg = zstd(&tar(&[
        ("lib/python3.12/site-packages/app/__init__.py", b""),
        ("etc/app/app.env", &env_file(&key)),
    ]));
    let conda = zip(
        &[
            ("metadata.json", b"{\"conda_pkg_format_version\": 2}"),
            ("info-app-1.0-0.tar.zst", &info),
            ("pkg-app-1.0-0.tar.zst", &pkg),
        ],
        zip::CompressionMethod::Stored,
    );
    found_everywhere(
        "app-1.0-0.conda",
        &conda,
        "pkg-app-1.0-0.tar.zst!etc/app/app.env",
        &key,
    );
}

// ---- macOS flat packages (xar) ----

/// A macOS flat package (a xar archive, as `pkgbuild`/`productbuild` write it) of `files`:
/// `(path, bytes as stored, encoding style, size once decoded)`, directories made from the
/// paths.
fn xar(files: &[(&str, Vec<u8>, &str, usize)]) -> Vec<u8> {
    let mut heap = vec![0u8; 20]; // the table of contents' SHA-1 comes first
    let mut toc = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xar>\n <toc>\n  \
         <checksum style=\"sha1\"><offset>0</offset><size>20</size></checksum>\n",
    );
    let mut id = 1;
    // Files grouped under their first path segment, as in a package (`base.pkg/Payload`).
    let mut open_dir: Option<String> = None;
    for (path, stored, style, size) in files {
        let (dir, name) = match path.split_once('/') {
            Some((d, n)) => (Some(d.to_string()), n),
            None => (None, *path),
        };
        if open_dir != dir {
            if open_dir.is_some() {
                toc.push_str("  </file>\n");
            }
            if let Some(d) = &dir {
                toc.push_str(&format!(
                    "  <file id=\"{id}\"><name>{d}</name><type>directory</type>\n"
                ));
                id += 1;
            }
            open_dir = dir;
        }
        toc.push_str(&format!(
            "   <file id=\"{id}\">\n    <data><length>{}</length><offset>{}</offset>\
             <size>{size}</size><encoding style=\"{style}\"/>\
             <archived-checksum style=\"sha1\">00</archived-checksum></data>\n    \
             <FinderCreateTime><nanoseconds>0</nanoseconds></FinderCreateTime>\n    \
             <name>{}</name>\n    <type>file</type>\n   </file>\n",
            stored.len(),
            heap.len(),
            name.replace('&', "&amp;")
        ));
        id += 1;
        heap.extend_from_slice(stored);
    }
    if open_dir.is_some() {
        toc.push_str("  </file>\n");
    }
    toc.push_str(" </toc>\n</xar>\n");
    let compressed = zlib(toc.as_bytes());
    let mut out = b"xar!".to_vec();
    out.extend_from_slice(&28u16.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(compressed.len() as u64).to_be_bytes());
    out.extend_from_slice(&(toc.len() as u64).to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&compressed);
    out.extend_from_slice(&heap);
    out
}

/// A flat package whose component's payload (gzip'd odc cpio) holds `payload`.
fn flat_pkg(payload: &[(&str, &[u8])], package_info: &[u8]) -> Vec<u8> {
    let dist = b"<?xml version=\"1.0\"?><installer-gui-script/>".to_vec();
    let pay = gzip(&cpio_odc(payload));
    let scripts = gzip(&cpio_odc(&[("./postinstall", b"#!/bin/sh\nexit 0\n")]));
    xar(&[
        (
            "Distribution",
            dist.clone(),
            "application/octet-stream",
            dist.len(),
        ),
        (
            "base.pkg/PackageInfo",
            zlib(package_info),
            "application/x-gzip",
            package_info.len(),
        ),
        (
            "base.pkg/Payload",
            pay.clone(),
            "application/octet-stream",
            pay.len(),
        ),
        (
            "base.pkg/Scripts",
            scripts.clone(),
            "application/octet-stream",
            scripts.len(),
        ),
    ])
}

#[test]
fn a_macos_flat_package_is_opened_down_to_its_payload() {
    let key = fake_key(2270);
    let info = b"<pkg-info identifier=\"com.example.app\"/>\n";
    let pkg = flat_pkg(
        &[("./Applications/App.app/Contents/app.env", &env_file(&key))],
        info,
    );
    found_everywhere(
        "App.pkg",
        &pkg,
        "base.pkg/Payload!Applications/App.app/Contents/app.env",
        &key,
    );
    // A member stored zlib'd (`application/x-gzip` in xar).
    let other = fake_key(2271);
    let pkg = flat_pkg(&[("./a", b"a")], &env_file(&other));
    let v = scan_one("App.pkg", &pkg);
    assert_eq!(
        locations(&v),
        vec![at("App.pkg!base.pkg/PackageInfo", 2, 7)],
        "{v:#}"
    );
    clean(
        "App.pkg",
        &flat_pkg(&[("./etc/app.env", &placeholder_file())], info),
    );
}

#[test]
fn a_damaged_xar_is_an_incomplete_skip_and_the_scan_goes_on() {
    let key = fake_key(2272);
    let pkg = flat_pkg(&[("./etc/app.env", &env_file(&key))], b"<pkg-info/>");
    let cut = &pkg[..pkg.len() - 40];
    let mut bad_toc = pkg.clone();
    for b in &mut bad_toc[40..60] {
        *b ^= 0x55;
    }
    let mut lying = pkg.clone();
    lying[8..16].copy_from_slice(&(1u64 << 40).to_be_bytes());
    let lzma = xar(&[("data.lzma", vec![1, 2, 3], "application/x-lzma", 3)]);
    for (name, data, skipped, reason) in [
        ("cut.pkg", cut, "cut.pkg!base.pkg/Scripts", "truncated"),
        ("bad.pkg", &bad_toc[..], "bad.pkg", "corrupt"),
        ("lying.pkg", &lying[..], "lying.pkg", "corrupt"),
        ("lzma.pkg", &lzma[..], "lzma.pkg!data.lzma", "unsupported"),
    ] {
        let t = Tree::new();
        t.write(name, data);
        let (v, _) = scan(&t);
        assert_eq!(
            skips(&v),
            vec![(skipped.to_string(), reason.to_string())],
            "{name}: {v:#}"
        );
    }
}

// ---- phar ----

/// A phar as `Phar::buildFromDirectory` writes it: `stub`, then the manifest of `files`
/// `(name, content, flags)` (flags `0x1000`: raw deflate, `0x2000`: bzip2), then the files,
/// then a SHA-1 signature block.
fn phar(stub: &str, files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut stored: Vec<Vec<u8>> = Vec::new();
    let mut entries = Vec::new();
    for (name, data, flags) in files {
        let body = match flags & 0x3000 {
            0x1000 => {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            0x2000 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            _ => data.to_vec(),
        };
        entries.extend_from_slice(&(name.len() as u32).to_le_bytes());
        entries.extend_from_slice(name.as_bytes());
        entries.extend_from_slice(&(data.len() as u32).to_le_bytes());
        entries.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        entries.extend_from_slice(&(body.len() as u32).to_le_bytes());
        entries.extend_from_slice(&0u32.to_le_bytes());
        entries.extend_from_slice(&(0o644 | flags).to_le_bytes());
        entries.extend_from_slice(&0u32.to_le_bytes());
        stored.push(body);
    }
    let alias = b"tool.phar";
    let mut manifest = Vec::new();
    manifest.extend_from_slice(&(files.len() as u32).to_le_bytes());
    manifest.extend_from_slice(&[0x11, 0x00]);
    manifest.extend_from_slice(&0x0001_0000u32.to_le_bytes());
    manifest.extend_from_slice(&(alias.len() as u32).to_le_bytes());
    manifest.extend_from_slice(alias);
    manifest.extend_from_slice(&0u32.to_le_bytes());
    manifest.extend_from_slice(&entries);
    let mut out = stub.as_bytes().to_vec();
    out.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
    out.extend_from_slice(&manifest);
    for body in stored {
        out.extend_from_slice(&body);
    }
    out.extend_from_slice(&[0xAB; 20]);
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(b"GBMB");
    out
}

const PHAR_STUB: &str = "#!/usr/bin/env php\n<?php\nPhar::mapPhar('tool.phar');\n\
                         require 'phar://tool.phar/bin/tool.php';\n__HALT_COMPILER(); ?>\r\n";

#[test]
fn a_phar_is_opened_with_stored_deflated_and_bzip2_files() {
    let key = fake_key(2280);
    for flags in [0, 0x1000, 0x2000] {
        let data = phar(
            PHAR_STUB,
            &[
                ("bin/tool.php", b"<?php echo 'tool';\n", flags),
                ("src/config.php", &env_file(&key), flags),
            ],
        );
        found_everywhere("tool.phar", &data, "src/config.php", &key);
    }
    clean(
        "tool.phar",
        &phar(
            PHAR_STUB,
            &[("src/config.php", &placeholder_file(), 0x1000)],
        ),
    );
}

#[test]
fn a_key_in_a_phar_stub_is_named_by_the_phar() {
    let (in_stub, in_file) = (fake_key(2281), fake_key(2282));
    let stub = format!("<?php\n$token = '{in_stub}';\n__HALT_COMPILER();\n");
    let data = phar(&stub, &[("a.env", &env_file(&in_file), 0x1000)]);
    let v = scan_one("tool.phar", &data);
    let mut got = locations(&v);
    got.sort();
    assert_eq!(
        got,
        vec![at("tool.phar", 2, 11), at("tool.phar!a.env", 2, 7)],
        "{v:#}"
    );
}

#[test]
fn php_source_that_mentions_the_halt_token_is_scanned_as_text() {
    let key = fake_key(2284);
    // As a phar compiler's own source holds it: the token in a string, then more code.
    let source = format!(
        "<?php\n$stub = \"<?php Phar::mapPhar(); __HALT_COMPILER(); ?>\";\n$token = '{key}';\n"
    );
    let v = scan_one("Compiler.php", source.as_bytes());
    assert_eq!(locations(&v), vec![at("Compiler.php", 3, 11)], "{v:#}");
    assert_eq!(v["skipped"].as_array().map(Vec::len), Some(0), "{v:#}");
}

#[test]
fn a_damaged_or_bomb_phar_is_an_incomplete_skip_and_the_scan_goes_on() {
    let key = fake_key(2283);
    // A large last file: the reader's look-ahead past the stub does not reach the end, so
    // damage found before it is `corrupt`, not `truncated`.
    let filler = vec![b'#'; 200_000];
    let good = phar(
        PHAR_STUB,
        &[("a.env", &env_file(&key), 0), ("b.env", &filler, 0)],
    );
    let stub_end = PHAR_STUB.len();
    // One file more than the manifest holds.
    let mut lying_count = good.clone();
    lying_count[stub_end + 4..stub_end + 8].copy_from_slice(&3u32.to_le_bytes());
    // The first name's length past the manifest (after count, API, flags, alias, metadata).
    let name_len_at = stub_end + 4 + 4 + 2 + 4 + 4 + "tool.phar".len() + 4;
    let mut huge = good.clone();
    huge[name_len_at..name_len_at + 4].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    // 64 MiB of zeros deflated, claiming its real size: over a 1 MiB budget.
    let bomb = phar(PHAR_STUB, &[("bomb.bin", &vec![0u8; 64 << 20], 0x1000)]);
    for (name, data, skipped, reason, args) in [
        (
            "cut.phar",
            &good[..good.len() - 40],
            "cut.phar",
            "truncated",
            vec![],
        ),
        (
            "count.phar",
            &lying_count[..],
            "count.phar",
            "corrupt",
            vec![],
        ),
        ("huge.phar", &huge[..], "huge.phar", "corrupt", vec![]),
        (
            "bomb.phar",
            &bomb[..],
            "bomb.phar!bomb.bin",
            "archive-too-large",
            vec!["--max-archive-bytes", "1M"],
        ),
    ] {
        let t = Tree::new();
        t.write(name, data);
        let (v, _) = json(t.cmd().arg(".").args(args));
        assert_eq!(
            skips(&v),
            vec![(skipped.to_string(), reason.to_string())],
            "{name}: {v:#}"
        );
    }
}

// ---- fuzz seeds ----

#[test]
fn the_containers_fuzz_body_holds_on_its_seeds_and_their_prefixes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/containers");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        for cut in (0..data.len()).step_by(7).chain([data.len()]) {
            let result = std::panic::catch_unwind(|| {
                crate::bodies::containers::containers(&data[..cut]);
                // The same bytes behind every header the body can put in front.
                let mut framed = data[..cut].to_vec();
                if let Some(first) = framed.first_mut() {
                    *first = (cut % 10) as u8;
                }
                crate::bodies::containers::containers(&framed);
            });
            assert!(result.is_ok(), "seed {} cut at {cut} fails", path.display());
        }
        seeds += 1;
    }
    assert!(seeds >= 10, "{seeds} seeds");
}

#[test]
fn an_installer_committed_to_history_is_opened_from_the_blob_in_memory() {
    let key = fake_key(2290);
    let t = Tree::new();
    t.git_init();
    let payload = deflated(&[("config/app.env", &env_file(&key))]);
    t.write("dist/installer.sh", sfx_sh("", &payload));
    t.git(&["add", "-A"]);
    t.git(&["commit", "-qm", "release"]);
    let (v, _) = json(t.cmd().args([".", "--history"]));
    assert_eq!(
        locations(&v),
        vec![at("dist/installer.sh!config/app.env", 2, 7)],
        "{v:#}"
    );
}

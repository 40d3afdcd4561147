//! Archives (#13): keys inside zip, tar, compressed streams and nested archives are found on
//! every input (files, standard input, git blobs), named `outer!member` with line and column
//! inside the member; hostile archives end as skips or errors naming the member, and the scan
//! goes on. Every archive here is built by the test itself.

use std::io::{Cursor, Write};

use crate::common::*;
use serde_json::Value;

/// A text file holding `key` on line 2, column 7.
fn env_file(key: &str) -> Vec<u8> {
    format!("# config\nTOKEN={key}\n").into_bytes()
}

/// A zip archive of `(name, content)` files, compressed with `method`.
fn zip_with(files: &[(&str, &[u8])], method: zip::CompressionMethod, zip64: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(zip64);
    for (name, data) in files {
        w.start_file(*name, opts).expect("zip start");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(files, zip::CompressionMethod::Deflated, false)
}

/// Scans `args` in `t` with a JSON report.
fn scan(t: &Tree, args: &[&str]) -> (Value, std::process::Output) {
    json(t.cmd().args(args))
}

/// `(path, line, column)` of the findings, and the masked keys.
fn found(v: &Value) -> Vec<(String, u64, u64)> {
    locations(v)
}

fn at(path: &str) -> (String, u64, u64) {
    (path.to_string(), 2, 7)
}

#[test]
fn keys_in_every_format_are_found_by_content_not_name() {
    let key = fake_key(1301);
    let env = env_file(&key);
    let t = Tree::new();
    let plain_tar = tar(&[("pkg/config.env", &env)]);
    t.write(
        "stored.zip",
        zip_with(
            &[("a/stored.env", &env)],
            zip::CompressionMethod::Stored,
            false,
        ),
    );
    t.write("deflated.bin", zip(&[("a/deflated.env", &env)]));
    t.write(
        "big.zip",
        zip_with(
            &[("a/zip64.env", &env)],
            zip::CompressionMethod::Deflated,
            true,
        ),
    );
    t.write(
        "bz.zip",
        zip_with(&[("a/bz.env", &env)], zip::CompressionMethod::Bzip2, false),
    );
    t.write("report.docx", zip(&[("word/document.xml", &env)]));
    t.write("plain.tar", &plain_tar);
    t.write("gz-tarball", gzip(&plain_tar));
    t.write("pkg.tar.bz2", bzip2(&plain_tar));
    t.write("pkg.txz", xz(&plain_tar));
    t.write("pkg.tar.zst", zstd(&plain_tar));
    t.write("dump.sql.gz", gzip(&env));
    t.write("dump.sql.bz2", bzip2(&env));
    t.write("dump.sql.xz", xz(&env));
    t.write("dump.sql.zst", zstd(&env));
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut want = vec![
        at("big.zip!a/zip64.env"),
        at("bz.zip!a/bz.env"),
        at("deflated.bin!a/deflated.env"),
        at("dump.sql.bz2!dump.sql"),
        at("dump.sql.gz!dump.sql"),
        at("dump.sql.xz!dump.sql"),
        at("dump.sql.zst!dump.sql"),
        at("gz-tarball!pkg/config.env"),
        at("pkg.tar.bz2!pkg/config.env"),
        at("pkg.tar.zst!pkg/config.env"),
        at("pkg.txz!pkg/config.env"),
        at("plain.tar!pkg/config.env"),
        at("report.docx!word/document.xml"),
        at("stored.zip!a/stored.env"),
    ];
    want.sort();
    assert_eq!(found(&v), want);
    assert_eq!(v["errors"], Value::Array(vec![]));
    let f = &v["findings"][0];
    assert_eq!(f["origin"]["path"], "big.zip");
    assert_eq!(f["origin"]["members"][0], "a/zip64.env");
    assert_eq!(f["binary"], false);
    assert!(!stdout(&out).contains(&key) && !stderr(&out).contains(&key));
}

#[test]
fn nested_archives_are_named_as_a_chain() {
    let key = fake_key(1302);
    let jar = zip(&[("app.properties", &env_file(&key))]);
    let t = Tree::new();
    t.write("dist/app.tar.gz", gzip(&tar(&[("lib/b.jar", &jar)])));
    let (v, _) = scan(&t, &["dist"]);
    assert_eq!(
        found(&v),
        vec![at("dist/app.tar.gz!lib/b.jar!app.properties")]
    );
    let members = &v["findings"][0]["origin"]["members"];
    assert_eq!(members, &serde_json::json!(["lib/b.jar", "app.properties"]));
}

#[test]
fn gzip_header_name_names_the_content() {
    let key = fake_key(1303);
    let mut e = flate2::GzBuilder::new()
        .filename("server.log")
        .write(Vec::new(), flate2::Compression::fast());
    e.write_all(&env_file(&key)).unwrap();
    let t = Tree::new();
    t.write("rotated.1.gz", e.finish().unwrap());
    let (v, _) = scan(&t, &["."]);
    assert_eq!(found(&v), vec![at("rotated.1.gz!server.log")]);
}

#[test]
fn archive_depth_bounds_nesting_and_zero_turns_archives_off() {
    let key = fake_key(1304);
    let jar = zip(&[("app.properties", &env_file(&key))]);
    let t = Tree::new();
    t.write("app.tar.gz", gzip(&tar(&[("lib/b.jar", &jar)])));
    let (off, out) = scan(&t, &[".", "--max-archive-depth", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(found(&off).is_empty());
    assert!(skips(&off).is_empty());
    let (one, _) = scan(&t, &[".", "--max-archive-depth", "1"]);
    assert!(found(&one).is_empty());
    assert_eq!(
        skips(&one),
        vec![(
            "app.tar.gz!lib/b.jar".to_string(),
            "archive-too-deep".to_string()
        )]
    );
    let (two, _) = scan(&t, &[".", "--max-archive-depth", "2"]);
    assert_eq!(found(&two), vec![at("app.tar.gz!lib/b.jar!app.properties")]);
}

#[test]
fn archives_on_standard_input_are_unpacked() {
    let key = fake_key(1305);
    let data = gzip(&tar(&[("pkg/config.env", &env_file(&key))]));
    let mut child = bin()
        .args(["-", "--format", "json", "--no-timing"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    let v = stdout_json(&out);
    assert_eq!(found(&v), vec![at("<stdin>!pkg/config.env")]);
}

#[test]
fn a_zip_committed_to_history_is_a_leak() {
    let key = fake_key(1306);
    let t = Tree::new();
    t.git_init();
    t.write("release/app.zip", zip(&[("conf/app.env", &env_file(&key))]));
    let git = |args: &[&str]| {
        t.git(args);
    };
    git(&["add", "-A"]);
    git(&["commit", "-qm", "release"]);
    let (v, _) = scan(&t, &[".", "--history"]);
    assert_eq!(found(&v), vec![at("release/app.zip!conf/app.env")]);
    assert_eq!(v["findings"][0]["origin"]["source"], "git");
}

#[test]
fn history_reports_archive_members_it_skipped_or_could_not_read_like_a_tree_scan() {
    let key = fake_key(1350);
    let t = Tree::new();
    t.git_init();
    t.write("release/locked.zip", encrypted_zip(&key));
    t.write("release/broken.zip", corrupt_zip(fake_key(1351)));
    let git = |args: &[&str]| {
        t.git(args);
    };
    git(&["add", "-A"]);
    git(&["commit", "-qm", "release"]);
    // Deleted later: only the history still has them.
    git(&["rm", "-rq", "release"]);
    git(&["commit", "-qm", "drop release"]);
    let (v, out) = scan(&t, &[".", "--history"]);
    assert_eq!(
        found(&v),
        vec![
            at("release/broken.zip!good.env"),
            at("release/locked.zip!plain.env")
        ],
        "{}",
        stderr(&out)
    );
    // #20: a damaged member is incomplete content, a skip with its reason, as in a tree scan.
    assert_eq!(
        skips(&v),
        vec![
            (
                "release/broken.zip!bad.env".to_string(),
                "corrupt".to_string()
            ),
            (
                "release/locked.zip!secret.env".to_string(),
                "encrypted".to_string()
            )
        ]
    );
    assert_eq!(errors(&v), vec![]);
    assert_eq!(v["stats"]["skipped"], 2, "{v}");
    assert_eq!(v["stats"]["errors"], 0, "{v}");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("release/broken.zip!bad.env"), "{text}");
}

#[test]
fn a_zip_bomb_stops_at_the_byte_limit_with_a_skip_naming_the_member() {
    let key = fake_key(1307);
    // 64 MiB of zeros deflate to about 64 KiB.
    let zeros = vec![0u8; 64 << 20];
    let bomb = zip(&[
        ("a/first.env", &env_file(&key)),
        ("b/zeros.bin", &zeros),
        ("c/last.env", b"x"),
    ]);
    assert!(bomb.len() < 1 << 20);
    let t = Tree::new();
    t.write("bomb.zip", &bomb);
    t.write("after.env", env_file(&fake_key(1308)));
    let (v, out) = scan(&t, &[".", "--max-archive-bytes", "8M"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(found(&v), vec![at("after.env"), at("bomb.zip!a/first.env")]);
    assert_eq!(
        skips(&v),
        vec![(
            "bomb.zip!b/zeros.bin".to_string(),
            "archive-too-large".to_string()
        )]
    );
    assert!(
        stderr(&out).contains("bomb.zip!b/zeros.bin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn too_many_members_are_a_skip_and_the_first_ones_are_scanned() {
    let key = fake_key(1309);
    let env = env_file(&key);
    let t = Tree::new();
    t.write(
        "many.tar",
        tar(&[("1.env", &env), ("2.env", b"a"), ("3.env", &env)]),
    );
    let (v, _) = scan(&t, &[".", "--max-archive-members", "2"]);
    assert_eq!(found(&v), vec![at("many.tar!1.env")]);
    assert_eq!(
        skips(&v),
        vec![("many.tar".to_string(), "too-many-members".to_string())]
    );
}

#[test]
fn member_names_are_only_names_and_links_are_not_followed() {
    let key = fake_key(1310);
    let mut b = tar::Builder::new(Vec::new());
    let env = env_file(&key);
    let mut h = tar::Header::new_gnu();
    h.set_size(env.len() as u64);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    // `append_data` refuses `..`; write the name into the header directly.
    h.as_old_mut().name[..18].copy_from_slice(b"../../escape/x.env");
    h.set_cksum();
    b.append(&h, &env[..]).unwrap();
    for (kind, name) in [
        (tar::EntryType::Symlink, "passwd"),
        (tar::EntryType::Link, "hard"),
    ] {
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(kind);
        l.set_size(0);
        b.append_link(&mut l, name, "/etc/passwd").unwrap();
    }
    let t = Tree::new();
    t.write("in/evil.tar", b.into_inner().unwrap());
    let (v, out) = scan(&t, &["in"]);
    assert_eq!(found(&v), vec![at("in/evil.tar!../../escape/x.env")]);
    assert!(
        skips(&v).is_empty() && errors(&v).is_empty(),
        "{}",
        stderr(&out)
    );
    assert!(
        !t.path().join("escape").exists() && !t.path().parent().unwrap().join("escape").exists()
    );
}

#[test]
fn encrypted_members_are_skipped_with_a_reason() {
    let key = fake_key(1311);
    let t = Tree::new();
    t.write("locked.zip", encrypted_zip(&key));
    let (v, _) = scan(&t, &["."]);
    assert_eq!(found(&v), vec![at("locked.zip!plain.env")]);
    assert_eq!(
        skips(&v),
        vec![("locked.zip!secret.env".to_string(), "encrypted".to_string())]
    );
}

/// A zip of `plain.env` (holding `key`) and `secret.env`, flagged as encrypted.
fn encrypted_zip(key: &str) -> Vec<u8> {
    let mut data = zip_with(
        &[("plain.env", &env_file(key)), ("secret.env", b"ciphertext")],
        zip::CompressionMethod::Stored,
        false,
    );
    // Set the "encrypted" flag of the second member in its local and central headers.
    let second_local = find_all(&data, b"PK\x03\x04")[1];
    data[second_local + 6] |= 1;
    let second_central = find_all(&data, b"PK\x01\x02")[1];
    data[second_central + 8] |= 1;
    data
}

/// A zip whose first member `bad.env` has a damaged deflate stream, and whose second,
/// `good.env`, holds `key`.
fn corrupt_zip(key: String) -> Vec<u8> {
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut data = zip(&[("bad.env", &noise), ("good.env", &env_file(&key))]);
    // Damage the deflate stream of the first member (its data follows the 30-byte header
    // and its 7-byte name).
    for b in &mut data[40..60] {
        *b ^= 0xA5;
    }
    data
}

fn find_all(data: &[u8], needle: &[u8]) -> Vec<usize> {
    data.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn a_truncated_tarball_reports_the_keys_before_the_damage_and_the_scan_goes_on() {
    let key = fake_key(1312);
    // Incompressible filler so the damage lands inside the second member.
    let filler: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let whole = gzip(&tar(&[
        ("a/first.env", &env_file(&key)),
        ("b/filler.bin", &filler),
    ]));
    let t = Tree::new();
    t.write("cut.tar.gz", &whole[..whole.len() / 2]);
    t.write("next.env", env_file(&fake_key(1313)));
    let (v, out) = scan(&t, &["."]);
    assert_eq!(
        found(&v),
        vec![at("cut.tar.gz!a/first.env"), at("next.env")]
    );
    // #20: truncated content is incomplete: listed as a skip with its reason, not an error.
    assert_eq!(
        skips(&v),
        vec![(
            "cut.tar.gz!b/filler.bin".to_string(),
            "truncated".to_string()
        )]
    );
    assert_eq!(errors(&v), vec![]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let clean = Tree::new();
    clean.write("cut.tar.gz", &whole_without_key(&filler)[..whole.len() / 2]);
    let (v, out) = scan(&clean, &["."]);
    assert_eq!(
        skips(&v),
        vec![(
            "cut.tar.gz!b/filler.bin".to_string(),
            "truncated".to_string()
        )]
    );
    assert_eq!(errors(&v), vec![]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "incomplete content fails the run only when asked: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("cut.tar.gz!b/filler.bin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_tar_cut_between_its_members_is_truncated_at_the_tar() {
    let key = fake_key(1330);
    let whole = tar(&[("a/first.env", &env_file(&key)), ("b/second.env", b"x\n")]);
    let t = Tree::new();
    // The first member (header and one block of content) and half of the second header.
    t.write("cut.tar", &whole[..512 + 512 + 256]);
    let (v, out) = scan(&t, &["."]);
    assert_eq!(found(&v), vec![at("cut.tar!a/first.env")]);
    assert_eq!(
        skips(&v),
        vec![("cut.tar".to_string(), "truncated".to_string())]
    );
    assert_eq!(errors(&v), vec![]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

fn whole_without_key(filler: &[u8]) -> Vec<u8> {
    gzip(&tar(&[
        ("a/first.env", b"nothing here\n"),
        ("b/filler.bin", filler),
    ]))
}

#[test]
fn a_corrupt_zip_member_is_a_skip_naming_it_and_the_others_are_scanned() {
    let t = Tree::new();
    t.write("broken.zip", corrupt_zip(fake_key(1314)));
    let (v, _) = scan(&t, &["."]);
    assert_eq!(found(&v), vec![at("broken.zip!good.env")]);
    assert_eq!(
        skips(&v),
        vec![("broken.zip!bad.env".to_string(), "corrupt".to_string())]
    );
    assert_eq!(errors(&v), vec![]);
    // #20: without a key, the damaged member alone does not fail the run.
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut data = zip(&[("bad.env", &noise)]);
    for b in &mut data[40..60] {
        *b ^= 0xA5;
    }
    let clean = Tree::new();
    clean.write("broken.zip", data);
    let (v, out) = scan(&clean, &["."]);
    assert_eq!(
        skips(&v),
        vec![("broken.zip!bad.env".to_string(), "corrupt".to_string())]
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_corrupt_zstd_stream_is_a_skip_and_the_scan_goes_on() {
    let noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut data = zstd(&noise);
    let mid = data.len() / 2;
    for b in &mut data[mid..mid + 64] {
        *b ^= 0x5A;
    }
    let t = Tree::new();
    t.write("logs/app.log.zst", &data);
    t.write("next.env", env_file(&fake_key(1332)));
    let (v, out) = scan(&t, &["."]);
    assert_eq!(found(&v), vec![at("next.env")]);
    assert_eq!(
        skips(&v),
        vec![(
            "logs/app.log.zst!app.log".to_string(),
            "corrupt".to_string()
        )]
    );
    assert_eq!(errors(&v), vec![]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    std::fs::remove_file(t.path().join("next.env")).expect("remove");
    let (v, out) = scan(&t, &["."]);
    assert_eq!(skips(&v).len(), 1, "{v}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_zstd_frame_with_a_window_over_the_decoder_limit_is_unsupported_and_exit_0() {
    // #20: a 256 MiB window (window descriptor 0x90), as ruzstd's own test fixture
    // `window_256mib.zst` has, then an empty last raw block.
    let t = Tree::new();
    t.write("window_256mib.zst", b"\x28\xb5\x2f\xfd\x00\x90\x01\x00\x00");
    let (v, out) = scan(&t, &["."]);
    assert_eq!(
        skips(&v),
        vec![("window_256mib.zst".to_string(), "unsupported".to_string())]
    );
    assert_eq!(errors(&v), vec![]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A tar of `(name, content)` files whose names are written as given (`./app/x`), as `tar -cf
/// a.tar ./app` writes them; the `tar` crate's builder would drop the `./`.
fn tar_with_raw_names(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, *data).expect("tar append");
    }
    b.into_inner().expect("tar finish")
}

#[test]
fn member_names_lose_a_leading_dot_slash_and_empty_segments_so_documented_globs_match() {
    let globbed = fake_key(1333);
    let kept = fake_key(1334);
    let t = Tree::new();
    t.write(
        "app.tar.gz",
        gzip(&tar_with_raw_names(&[
            ("./app/main.js", &env_file(&globbed)),
            ("./lib//util.js", &env_file(&kept)),
        ])),
    );
    let (v, _) = scan(&t, &["."]);
    assert_eq!(
        found(&v),
        vec![at("app.tar.gz!app/main.js"), at("app.tar.gz!lib/util.js")]
    );
    let chains: Vec<&Value> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| &f["origin"]["members"])
        .collect();
    assert_eq!(
        chains,
        vec![
            &serde_json::json!(["app/main.js"]),
            &serde_json::json!(["lib/util.js"])
        ]
    );
    // The glob the documentation gives for a member matches the member of `./app/main.js`.
    t.write(
        ".leadey-scan.toml",
        "[allow]\npaths = [\"app.tar.gz!app/*\"]\n",
    );
    let (v, out) = scan(&t, &["."]);
    assert_eq!(
        found(&v),
        vec![at("app.tar.gz!lib/util.js")],
        "{}",
        stderr(&out)
    );
    assert_eq!(v["suppressed"].as_array().map(Vec::len), Some(1), "{v}");
}

#[test]
fn an_ordinary_binary_file_with_no_archive_magic_is_scanned_as_before() {
    let key = fake_key(1315);
    let mut data = vec![0u8; 300];
    data.extend_from_slice(&env_file(&key));
    let t = Tree::new();
    t.write("blob.bin", data);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(found(&v), vec![("blob.bin".to_string(), 2, 7)]);
    assert_eq!(v["findings"][0]["binary"], true);
    assert_eq!(v["findings"][0]["origin"]["members"], serde_json::json!([]));
}

#[test]
fn a_container_image_reports_keys_in_every_layer_and_in_its_config() {
    let deleted = fake_key(1316);
    let in_env = fake_key(1317);
    let in_oci = fake_key(1318);
    // Layer 1 adds app/config.env with a key; layer 2 deletes it with an OCI whiteout.
    let layer1 = tar(&[("app/config.env", &env_file(&deleted))]);
    let layer2 = tar(&[("app/.wh.config.env", b"")]);
    let config = format!(
        r#"{{"config":{{"Env":["PATH=/usr/bin","LEADEY_API_KEY={in_env}"]}},"history":[]}}"#
    );
    let manifest = br#"[{"Config":"cfg.json","Layers":["l1/layer.tar","l2/layer.tar"]}]"#;
    let docker = tar(&[
        ("l1/layer.tar", &layer1),
        ("l2/layer.tar", &layer2),
        ("cfg.json", config.as_bytes()),
        ("manifest.json", manifest),
    ]);
    // OCI image layout: content-addressed blobs, layers gzipped.
    let oci_layer = gzip(&tar(&[("etc/app.env", &env_file(&in_oci))]));
    let oci = tar(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("blobs/sha256/1111", &oci_layer),
        ("index.json", br#"{"manifests":[]}"#),
    ]);
    let t = Tree::new();
    t.write("image.tar", docker);
    t.write("oci.tar", oci);
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let locs = found(&v);
    assert!(
        locs.contains(&at("image.tar!l1/layer.tar!app/config.env")),
        "{locs:?}"
    );
    assert!(
        locs.contains(&at("oci.tar!blobs/sha256/1111!etc/app.env")),
        "{locs:?}"
    );
    assert!(
        locs.iter().any(|(p, _, _)| p == "image.tar!cfg.json"),
        "{locs:?}"
    );
    assert_eq!(locs.len(), 3, "{locs:?}");
}

#[test]
fn allow_comments_and_config_globs_work_inside_members() {
    let allowed = fake_key(1319);
    let globbed = fake_key(1320);
    let kept = fake_key(1321);
    let t = Tree::new();
    t.write(
        "dist/app.zip",
        zip(&[
            (
                "a.env",
                format!("# x\nK={allowed} # leadey-scan:allow\n").as_bytes(),
            ),
            ("fixtures/b.env", &env_file(&globbed)),
            ("c.env", &env_file(&kept)),
        ]),
    );
    t.write(
        ".leadey-scan.toml",
        "[allow]\npaths = [\"dist/app.zip!fixtures/*\"]\n",
    );
    let (v, out) = scan(&t, &["."]);
    assert_eq!(
        found(&v),
        vec![at("dist/app.zip!c.env")],
        "{}",
        stderr(&out)
    );
    assert_eq!(v["suppressed"].as_array().map(Vec::len), Some(2), "{v}");
}

#[test]
fn a_large_zip_file_is_read_in_place_and_a_large_nested_zip_is_a_skip() {
    let key = fake_key(1322);
    // Stored, so the zip itself is larger than the 64 MiB zip buffer.
    let big = zip_with(
        &[
            ("app.env", &env_file(&key)),
            ("pad.bin", &vec![0u8; 65 << 20]),
        ],
        zip::CompressionMethod::Stored,
        false,
    );
    let t = Tree::new();
    t.write("big.apk", &big);
    t.write("outer.tar", tar(&[("inner/big.apk", &big)]));
    let (v, out) = scan(&t, &["."]);
    // #22: the nested zip too large to buffer is still scanned as raw bytes (as an archive
    // nested too deep is): the key of its stored member is found there, at the zip's name.
    let paths: Vec<String> = found(&v).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(
        paths,
        vec!["big.apk!app.env", "outer.tar!inner/big.apk"],
        "{}",
        stderr(&out)
    );
    assert_eq!(found(&v)[0], at("big.apk!app.env"));
    assert_eq!(
        skips(&v),
        vec![(
            "outer.tar!inner/big.apk".to_string(),
            "zip-too-large".to_string()
        )]
    );
}

/// `(path, deleted_in_layer)` of the findings, sorted.
fn deletion_marks(v: &Value) -> Vec<(String, Option<String>)> {
    let mut marks: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["deleted_in_layer"].as_str().map(str::to_string),
            )
        })
        .collect();
    marks.sort();
    marks
}

/// Two layers: the lower one holds four keys, the upper one deletes two of them (a whiteout of
/// a file and an opaque whiteout of a directory) and adds one in the opaque directory.
fn whiteout_layers(seed: u64) -> (Vec<u8>, Vec<u8>) {
    let lower = tar(&[
        ("app/config.env", &env_file(&fake_key(seed))),
        ("app/keep.env", &env_file(&fake_key(seed + 1))),
        ("./etc/old/app.env", &env_file(&fake_key(seed + 2))),
        ("etc/other.env", &env_file(&fake_key(seed + 3))),
    ]);
    let upper = tar(&[
        ("app/.wh.config.env", b""),
        ("etc/old/.wh..wh..opq", b""),
        ("etc/old/new.env", &env_file(&fake_key(seed + 4))),
    ]);
    (lower, upper)
}

#[test]
fn a_key_in_a_file_a_later_layer_deletes_is_reported_as_shipped_and_marked() {
    let (lower, upper) = whiteout_layers(1330);
    // `docker save` layout before Docker 25: layer directories, manifest.json last.
    let docker = tar(&[
        ("aaa/layer.tar", &lower),
        ("bbb/layer.tar", &upper),
        ("cfg.json", br#"{"config":{}}"#),
        (
            "manifest.json",
            br#"[{"Config":"cfg.json","RepoTags":["app:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}]"#,
        ),
    ]);
    // OCI image layout: index.json → manifest blob → gzipped layer blobs, upper layer first in
    // the tarball (the order of the tarball is not the order of the layers).
    let oci = tar(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("blobs/sha256/22", &gzip(&upper)),
        ("blobs/sha256/11", &gzip(&lower)),
        (
            "blobs/sha256/mm",
            br#"{"schemaVersion":2,"config":{"digest":"sha256:cc"},"layers":[{"digest":"sha256:11"},{"digest":"sha256:22"}]}"#,
        ),
        ("blobs/sha256/cc", br#"{"config":{}}"#),
        ("index.json", br#"{"schemaVersion":2,"manifests":[{"digest":"sha256:mm"}]}"#),
    ]);
    // The same layers in a tar that is not an image: nothing is marked.
    let plain = tar(&[("aaa/layer.tar", &lower), ("bbb/layer.tar", &upper)]);
    let t = Tree::new();
    t.write("docker.tar", &docker);
    t.write("oci.tar.gz", gzip(&oci));
    t.write("plain.tar", &plain);
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let marked = |path: &str, layer: &str| (path.to_string(), Some(layer.to_string()));
    let open = |path: &str| (path.to_string(), None);
    let mut expected = vec![
        marked("docker.tar!aaa/layer.tar!app/config.env", "bbb/layer.tar"),
        open("docker.tar!aaa/layer.tar!app/keep.env"),
        marked("docker.tar!aaa/layer.tar!etc/old/app.env", "bbb/layer.tar"),
        open("docker.tar!aaa/layer.tar!etc/other.env"),
        open("docker.tar!bbb/layer.tar!etc/old/new.env"),
        marked(
            "oci.tar.gz!blobs/sha256/11!app/config.env",
            "blobs/sha256/22",
        ),
        open("oci.tar.gz!blobs/sha256/11!app/keep.env"),
        marked(
            "oci.tar.gz!blobs/sha256/11!etc/old/app.env",
            "blobs/sha256/22",
        ),
        open("oci.tar.gz!blobs/sha256/11!etc/other.env"),
        open("oci.tar.gz!blobs/sha256/22!etc/old/new.env"),
        open("plain.tar!aaa/layer.tar!app/config.env"),
        open("plain.tar!aaa/layer.tar!app/keep.env"),
        open("plain.tar!aaa/layer.tar!etc/old/app.env"),
        open("plain.tar!aaa/layer.tar!etc/other.env"),
        open("plain.tar!bbb/layer.tar!etc/old/new.env"),
    ];
    expected.sort();
    assert_eq!(deletion_marks(&v), expected);

    // Human and SARIF say it too; a deleted key is still a finding (exit 1).
    let human = run(t.cmd().args(["docker.tar", "--color", "never"]));
    assert_eq!(human.status.code(), Some(1));
    let text = stdout(&human);
    assert_eq!(
        text.matches("deleted in a later layer (bbb/layer.tar): still ships in the image")
            .count(),
        2,
        "{text}"
    );
    let sarif = run(t.cmd().args(["docker.tar", "--format", "sarif"]));
    let log = stdout_json(&sarif);
    let results = log["runs"][0]["results"].as_array().expect("results");
    let layers: Vec<_> = results
        .iter()
        .filter_map(|r| r["properties"]["deleted_in_layer"].as_str())
        .collect();
    assert_eq!(layers, vec!["bbb/layer.tar"; 2]);
    assert!(results
        .iter()
        .any(|r| r["message"]["text"].as_str().is_some_and(
            |m| m.contains("A later layer of the image (bbb/layer.tar) deletes the file")
        )));
    assert_eq!(sarif_schema_errors(&log), Vec::<String>::new());
}

#[test]
fn keys_in_the_image_config_env_cmd_labels_and_history_are_found() {
    let (env, cmd, label, history) = (
        fake_key(1340),
        fake_key(1341),
        fake_key(1342),
        fake_key(1343),
    );
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Env":["PATH=/usr/bin","LEADEY_API_KEY={env}"],"Cmd":["/app","--key","{cmd}"],"Labels":{{"leadey.key":"{label}"}}}},"history":[{{"created_by":"/bin/sh -c #(nop)  ENV LEADEY_API_KEY={history}","empty_layer":true}}]}}"#
    );
    let oci = tar(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("blobs/sha256/cc", config.as_bytes()),
        ("blobs/sha256/11", &gzip(&tar(&[("etc/motd", b"hello\n")]))),
        (
            "blobs/sha256/mm",
            br#"{"config":{"digest":"sha256:cc"},"layers":[{"digest":"sha256:11"}]}"#,
        ),
        ("index.json", br#"{"manifests":[{"digest":"sha256:mm"}]}"#),
    ]);
    let t = Tree::new();
    t.write("image.tar", &oci);
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut keys: Vec<_> = listed(&v, "findings")
        .into_iter()
        .map(|(path, _, key)| (path, key))
        .collect();
    keys.sort();
    let mut expected: Vec<_> = [&env, &cmd, &label, &history]
        .iter()
        .map(|k| ("image.tar!blobs/sha256/cc".to_string(), masked(k)))
        .collect();
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(
        deletion_marks(&v).iter().filter(|m| m.1.is_some()).count(),
        0
    );
}

#[test]
fn reports_on_archives_are_identical_at_any_thread_count() {
    let (lower, upper) = whiteout_layers(1360);
    let image = tar(&[
        ("l1/layer.tar", &lower),
        ("l2/layer.tar", &upper),
        (
            "manifest.json",
            br#"[{"Config":"c.json","Layers":["l1/layer.tar","l2/layer.tar"]}]"#,
        ),
    ]);
    let t = Tree::new();
    t.write("dist/image.tar", &image);
    t.write("dist/locked.zip", encrypted_zip(&fake_key(1366)));
    t.write("dist/broken.zip", corrupt_zip(fake_key(1367)));
    for i in 0..6u64 {
        let env = env_file(&fake_key(1370 + i));
        t.write(
            &format!("dist/pkg{i}.tgz"),
            gzip(&tar(&[
                ("package/.env", &env),
                ("package/x.zip", &zip(&[("a", &env)])),
            ])),
        );
    }
    let reports: Vec<String> = ["1", "2", "8"]
        .iter()
        .map(|n| {
            let out = run(t
                .cmd()
                .args([".", "--format", "json", "--no-timing", "--threads", n]));
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            stdout(&out)
        })
        .collect();
    let v: Value = serde_json::from_str(&reports[0]).expect("json");
    assert_eq!(
        v["findings"].as_array().map(Vec::len),
        Some(5 + 2 + 12),
        "{v}"
    );
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0], reports[2]);
}

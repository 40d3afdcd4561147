//! Embedded streams and codecs (#22): zlib (git loose objects), git packs and bundles, LZ4,
//! brotli (chosen by name), PDF streams and PyInstaller executables. Each is built here the way
//! real tools build it (git itself, Python's zlib and marshal, lz4_flex's frame writer, a
//! brotli writer of uncompressed meta-blocks); a planted key is found with its member chain and
//! line, a placeholder is not, and damaged variants are incomplete skips, never silence.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use serde_json::Value;

/// A text file holding `key` on line 2, column 7.
fn env_file(key: &str) -> Vec<u8> {
    format!("# config\nTOKEN={key}\n").into_bytes()
}

/// A placeholder the rule refuses, in the same shape.
fn placeholder_file() -> Vec<u8> {
    format!("# config\nTOKEN={PREFIX}{}\n", "X".repeat(32)).into_bytes()
}

fn at(path: &str) -> (String, u64, u64) {
    (path.to_string(), 2, 7)
}

/// `(path, reason)` of the skips, sorted.
fn sorted_skips(v: &Value) -> Vec<(String, String)> {
    let mut s = skips(v);
    s.sort();
    s
}

fn scan(t: &Tree, args: &[&str]) -> (Value, std::process::Output) {
    let (v, out) = json(t.cmd().args(args));
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
    (v, out)
}

fn sorted(mut v: Vec<(String, u64, u64)>) -> Vec<(String, u64, u64)> {
    v.sort();
    v
}

/// Runs Python 3 on `script` in `dir` with `KEY` set; its standard output.
fn python(dir: &Path, script: &str, key: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("KEY", key)
        .current_dir(dir)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

// ---------------------------------------------------------------- zlib and git loose objects

#[test]
fn a_git_loose_object_is_inflated_and_named_by_its_type() {
    let key = fake_key(2201);
    let repo = Tree::new();
    repo.git_init();
    repo.write("config.env", env_file(&key));
    repo.write("example.env", placeholder_file());
    let id = git_in(repo.path(), &["hash-object", "-w", "config.env"]);
    let placeholder = git_in(repo.path(), &["hash-object", "-w", "example.env"]);
    let t = Tree::new();
    for id in [&id, &placeholder] {
        let object = format!(".git/objects/{}/{}", &id[..2], &id[2..]);
        let data = std::fs::read(repo.join(&object)).unwrap();
        t.write(&format!("backup/objects/{}/{}", &id[..2], &id[2..]), data);
    }
    t.write("data.zz", zlib(&env_file(&fake_key(2202))));
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let object = format!("backup/objects/{}/{}!blob", &id[..2], &id[2..]);
    assert_eq!(
        found(&v),
        sorted(vec![at(&object), at("data.zz!data")]),
        "{v:#}"
    );
    assert_eq!(sorted_skips(&v), vec![]);
    assert!(!stdout(&out).contains(&key));
}

fn found(v: &Value) -> Vec<(String, u64, u64)> {
    sorted(locations(v))
}

#[test]
fn text_that_starts_like_zlib_is_still_text() {
    let key = fake_key(2203);
    let t = Tree::new();
    // `x^` passes zlib's header check; the rest is no deflate data.
    t.write("formula.txt", format!("x^2 + y^2\nTOKEN={key}\n"));
    let (v, _) = scan(&t, &["."]);
    assert_eq!(found(&v), vec![at("formula.txt")]);
    assert_eq!(sorted_skips(&v), vec![]);
}

#[test]
fn a_zlib_bomb_stops_at_the_byte_limit_and_damage_is_named() {
    let key = fake_key(2204);
    let t = Tree::new();
    t.write("bomb.zz", zlib(&vec![0u8; 64 << 20]));
    let mut noise = env_file(&key);
    noise.extend((0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let whole = zlib(&noise);
    t.write("cut.zz", &whole[..whole.len() / 2]);
    let mut damaged = whole.clone();
    let mid = damaged.len() / 2;
    for b in &mut damaged[mid..mid + 64] {
        *b ^= 0x55;
    }
    t.write("damaged.zz", &damaged);
    let (v, out) = scan(&t, &[".", "--max-archive-bytes", "8M"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(found(&v), vec![at("cut.zz!cut"), at("damaged.zz!damaged")]);
    assert_eq!(
        sorted_skips(&v),
        vec![
            ("bomb.zz!bomb".into(), "archive-too-large".into()),
            ("cut.zz!cut".into(), "truncated".into()),
            ("damaged.zz!damaged".into(), "corrupt".into()),
        ]
    );
}

// ---------------------------------------------------------------- git packs and bundles

/// A repository whose `config.env` (200 lines) held `key` in its first commit and lost it in
/// the second: git stores the older blob as a delta of the newer one.
fn repo_with_history(key: &str) -> (Tree, String, String) {
    let repo = Tree::new();
    git_in(repo.path(), &["init", "-q"]);
    let body: String = (0..200)
        .map(|i| format!("setting_{i} = value number {i}\n"))
        .collect();
    repo.write("config.env", format!("# config\nTOKEN={key}\n{body}"));
    repo.write("example.env", placeholder_file());
    git_in(repo.path(), &["add", "."]);
    git_in(repo.path(), &["commit", "-q", "-m", "first"]);
    // Larger than the first version, so git keeps it whole and stores the first as a delta.
    let moved = "# moved to the vault on 2024-01-01: ask the operations team for access\n";
    repo.write(
        "config.env",
        format!("# config\nTOKEN=from-vault\n{body}{moved}{moved}"),
    );
    git_in(repo.path(), &["commit", "-q", "-am", "second"]);
    let old = git_in(repo.path(), &["rev-parse", "HEAD~1:config.env"]);
    let new = git_in(repo.path(), &["rev-parse", "HEAD:config.env"]);
    (repo, old, new)
}

#[test]
fn a_packfile_yields_its_objects_and_resolves_deltas() {
    let key = fake_key(2211);
    let (repo, old, _) = repo_with_history(&key);
    git_in(repo.path(), &["repack", "-a", "-d", "-q"]);
    let packs = git_in(repo.path(), &["count-objects", "-v"]);
    assert!(packs.contains("packs: 1"), "{packs}");
    let dir = repo.join(".git/objects/pack");
    let pack = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .expect("a pack");
    // The blob holding the key is stored as a delta: the test exercises delta resolution.
    let verify = git_in(
        repo.path(),
        &[
            "verify-pack",
            "-v",
            &pack.with_extension("idx").to_string_lossy(),
        ],
    );
    let line = verify
        .lines()
        .find(|l| l.starts_with(&old))
        .expect("old blob in the pack");
    assert!(line.split_whitespace().count() > 5, "a delta: {line}");
    let t = Tree::new();
    t.write("leak/repo.pack", std::fs::read(&pack).unwrap());
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        found(&v),
        vec![at(&format!("leak/repo.pack!blob {old}"))],
        "{v:#}"
    );
    assert_eq!(sorted_skips(&v), vec![]);
    // Cut in the middle: the objects before are read, the pack is truncated.
    let data = std::fs::read(&pack).unwrap();
    t.write("leak/repo.pack", &data[..data.len() * 2 / 3]);
    let (v, _) = scan(&t, &["."]);
    let s = sorted_skips(&v);
    assert_eq!(s.len(), 1, "{s:?}");
    assert!(
        s[0].0.starts_with("leak/repo.pack") && s[0].1 == "truncated",
        "{s:?}"
    );
}

#[test]
fn a_bundle_yields_its_objects_and_a_thin_bundle_says_what_it_could_not_resolve() {
    let key = fake_key(2212);
    let (repo, old, _) = repo_with_history(&key);
    git_in(
        repo.path(),
        &["bundle", "create", "-q", "all.bundle", "--all"],
    );
    let t = Tree::new();
    t.write(
        "all.bundle",
        std::fs::read(repo.join("all.bundle")).unwrap(),
    );
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(found(&v), vec![at(&format!("all.bundle!blob {old}"))]);
    assert_eq!(sorted_skips(&v), vec![]);

    let repo2 = Tree::new();
    git_in(repo2.path(), &["init", "-q"]);
    let body: String = (0..200)
        .map(|i| format!("setting_{i} = value number {i}\n"))
        .collect();
    repo2.write("config.env", format!("# config\n{body}"));
    git_in(repo2.path(), &["add", "."]);
    git_in(repo2.path(), &["commit", "-q", "-m", "first"]);
    // Only the second commit goes in the bundle: its blob may be a delta of the first
    // commit's, which the bundle does not hold.
    repo2.write("config.env", format!("# config\nTOKEN={key}\n{body}"));
    git_in(repo2.path(), &["commit", "-q", "-am", "second"]);
    git_in(
        repo2.path(),
        &["bundle", "create", "-q", "thin.bundle", "HEAD~1..HEAD"],
    );
    let t = Tree::new();
    t.write(
        "thin.bundle",
        std::fs::read(repo2.join("thin.bundle")).unwrap(),
    );
    let (v, out) = scan(&t, &["."]);
    let s = sorted_skips(&v);
    let whole = found(&v);
    // Either git stored the new blob whole (found), or as a delta on a base outside the
    // bundle (an unsupported skip): never silence.
    let new = git_in(repo2.path(), &["rev-parse", "HEAD:config.env"]);
    match whole.as_slice() {
        [f] => assert_eq!(f, &at(&format!("thin.bundle!blob {new}"))),
        [] => {
            assert!(
                s.iter()
                    .any(|(p, r)| p.starts_with("thin.bundle!delta@") && r == "unsupported"),
                "{s:?}"
            );
            assert_eq!(out.status.code(), Some(0));
        }
        more => panic!("{more:?}"),
    }
}

// ---------------------------------------------------------------- LZ4 and brotli

/// An LZ4 frame of `data` in blocks of 64 KiB (as `lz4 -B4` writes).
fn lz4(data: &[u8]) -> Vec<u8> {
    let info = lz4_flex::frame::FrameInfo::new().block_size(lz4_flex::frame::BlockSize::Max64KB);
    let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// brotli of `data` in uncompressed meta-blocks (RFC 7932 §9.2), as a writer may emit for
/// incompressible data: a valid stream every decoder reads.
fn brotli(data: &[u8]) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, v: u64, n: u32) {
            self.acc |= v << self.n;
            self.n += n;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        fn pad(&mut self) {
            if self.n > 0 {
                self.out.push(self.acc as u8);
            }
            self.acc = 0;
            self.n = 0;
        }
    }
    let mut b = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    b.put(0, 1); // WBITS 16
    for chunk in data.chunks(1 << 16) {
        b.put(0, 1); // not last
        b.put(0, 2); // four nibbles of length
        b.put(chunk.len() as u64 - 1, 16);
        b.put(1, 1); // uncompressed
        b.pad();
        b.out.extend_from_slice(chunk);
    }
    b.put(1, 1); // last
    b.put(1, 1); // and empty
    b.pad();
    b.out
}

#[test]
fn lz4_frames_and_brotli_files_are_decoded() {
    let key = fake_key(2221);
    let t = Tree::new();
    t.write("logs/app.log.lz4", lz4(&env_file(&key)));
    t.write("dist/app.js.br", brotli(&env_file(&key)));
    t.write(
        "site.tar",
        tar(&[("static/main.css.br", &brotli(&env_file(&key)))]),
    );
    t.write("notes.br", env_file(&key));
    t.write("empty.lz4", lz4(&placeholder_file()));
    t.write("example.js.br", brotli(&placeholder_file()));
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        found(&v),
        vec![
            at("dist/app.js.br!app.js"),
            at("logs/app.log.lz4!app.log"),
            at("notes.br"),
            at("site.tar!static/main.css.br!main.css"),
        ]
    );
    assert_eq!(sorted_skips(&v), vec![]);
}

#[test]
fn cut_lz4_and_brotli_streams_are_truncated() {
    let key = fake_key(2222);
    let mut text = env_file(&key);
    text.extend((0..100_000u32).map(|i| b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8));
    let t = Tree::new();
    let frame = lz4(&text);
    // Cut in the second block: the first, with the key, is whole.
    t.write("cut.lz4", &frame[..frame.len() * 3 / 4]);
    let br = brotli(&text);
    t.write("cut.js.br", &br[..br.len() * 3 / 4]);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(found(&v), vec![at("cut.js.br!cut.js"), at("cut.lz4!cut")]);
    assert_eq!(
        sorted_skips(&v),
        vec![
            ("cut.js.br!cut.js".into(), "truncated".into()),
            ("cut.lz4!cut".into(), "truncated".into()),
        ]
    );
}

// ---------------------------------------------------------------- PDF

/// Writes `doc.pdf` (and variants) with Python: a FlateDecode page content stream showing the
/// key, an ASCIIHex+Flate stream with a placeholder, an object stream whose packed object holds
/// the key in a string, an uncompressed Info dictionary with the key, an image, and an
/// LZW stream. Prints the line of the key inside the object stream.
const PDF_SCRIPT: &str = r##"
import os, zlib, binascii
key = os.environ["KEY"]
ph = "leadey_sk_live_" + "X" * 32
objs = {}
def stream(num, dict_, data):
    objs[num] = b"<< " + dict_ + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"
page = ("BT /F1 12 Tf 72 712 Td\n(TOKEN=%s) Tj\nET\n" % key).encode()
stream(4, b"/Filter /FlateDecode", zlib.compress(page))
hexed = binascii.hexlify(zlib.compress(("BT\n(TOKEN=%s) Tj\nET\n" % ph).encode())) + b">"
stream(5, b"/Filter [/ASCIIHexDecode /FlateDecode]", hexed)
packed = ("<< /Title (Report)\n/Subject (TOKEN=%s) >>" % key).encode()
header = b"9 0 "
objstm = header + packed
stream(6, b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(header), zlib.compress(objstm))
stream(7, b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /Filter /FlateDecode", zlib.compress(b"\xff\x00\x00"))
stream(8, b"/Filter /LZWDecode", b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01")
objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
objs[2] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
objs[3] = b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"
objs[10] = ("<< /Producer (tests)\n/Author (TOKEN=%s) >>" % key).encode()
def write(path, encrypt=False):
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (max(objs) + 1)
    out += b"0000000000 65535 f \n"
    for num in range(1, max(objs) + 1):
        out += b"%010d 00000 n \n" % offsets.get(num, 0)
    extra = b" /Encrypt 11 0 R" if encrypt else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 10 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (max(objs) + 1, extra, xref)
    open(path, "wb").write(out)
    return bytes(out)
whole = write("doc.pdf")
write("locked.pdf", encrypt=True)
# Cut inside object 4's stream.
at = whole.index(b"stream\n", whole.index(b"4 0 obj")) + 7
open("cut.pdf", "wb").write(whole[:at + 20])
print(whole[:whole.index(b"/Author")].count(b"\n") + 1)
"##;

#[test]
fn pdf_streams_are_members_named_by_object_and_the_file_text_is_scanned_too() {
    let key = fake_key(2231);
    let t = Tree::new();
    let info_line: u64 = python(t.path(), PDF_SCRIPT, &key).parse().unwrap();
    std::fs::remove_file(t.join("cut.pdf")).unwrap();
    std::fs::remove_file(t.join("locked.pdf")).unwrap();
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        found(&v),
        vec![
            ("doc.pdf".into(), info_line, 16),
            ("doc.pdf!obj 4".into(), 2, 8),
            ("doc.pdf!obj 6".into(), 2, 17),
        ],
        "{v:#}"
    );
    assert_eq!(
        sorted_skips(&v),
        vec![("doc.pdf!obj 8".into(), "unsupported".into())],
        "LZW is not read, and says so; the image is passed over"
    );
}

#[test]
fn encrypted_and_cut_pdfs_are_incomplete() {
    let key = fake_key(2232);
    let t = Tree::new();
    python(t.path(), PDF_SCRIPT, &key);
    std::fs::remove_file(t.join("doc.pdf")).unwrap();
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let s = sorted_skips(&v);
    assert!(
        s.contains(&("locked.pdf".into(), "encrypted".into())),
        "{s:?}"
    );
    assert!(
        s.iter()
            .any(|(p, r)| p == "cut.pdf!obj 4" && (r == "truncated" || r == "corrupt")),
        "{s:?}"
    );
    // The Info dictionary of the encrypted file is still scanned as text.
    assert!(found(&v).iter().any(|(p, _, _)| p == "locked.pdf"), "{v:#}");
}

// ---------------------------------------------------------------- PyInstaller

/// Writes `app` with Python: an ELF-headed stand-in for the bootloader (with the strings the
/// real one holds), then a CArchive as PyInstaller's writer lays it out: a zlib'd data file
/// `config/app.env`, a zlib'd entry script, a PYZ of zlib'd marshal code objects (one holding
/// the key, one a placeholder), the TOC, and the cookie. Prints the line of the key in the
/// module's code object.
const PYINSTALLER_SCRIPT: &str = r##"
import os, zlib, marshal, struct, sys
key = os.environ["KEY"]
ph = "leadey_sk_live_" + "X" * 32
def code(src):
    return marshal.dumps(compile(src, "<m>", "exec"))
# PYZ: header, entries, marshal'd TOC.
# The key ends a line of the string constant: marshal puts a type byte right after a string,
# which would glue itself to the key.
mods = [("mypkg.settings", code("CONFIG = %r\nDEBUG = False\n" % ("TOKEN=%s\nMODE=prod\n" % key))),
        ("mypkg.example", code("API_KEY = %r\n" % ph))]
pyz = bytearray(b"\0" * 16)
toc = []
for name, data in mods:
    z = zlib.compress(data)
    toc.append((name, (0, len(pyz), len(z))))
    pyz += z
toc_at = len(pyz)
pyz += marshal.dumps(toc)
pyz[0:12] = b"PYZ\0" + b"\xa7\x0d\x0d\x0a" + struct.pack("!i", toc_at)
line = mods[0][1][:mods[0][1].index(key.encode())].count(b"\n") + 1
# CArchive.
entries = [("config/app.env", zlib.compress(("# config\nTOKEN=%s\n" % key).encode()), 1, b"x", 0),
           ("myapp", zlib.compress(code("print('hi')\n")), 1, b"s", 0),
           ("PYZ-00.pyz", bytes(pyz), 0, b"z", 0)]
pkg = bytearray()
toc = bytearray()
for name, data, flag, kind, _ in entries:
    raw_len = len(zlib.decompress(data)) if flag else len(data)
    offset = len(pkg)
    pkg += data
    nm = name.encode() + b"\0"
    nm += b"\0" * ((16 - (18 + len(nm)) % 16) % 16)
    toc += struct.pack("!IIIIBc", 18 + len(nm), offset, len(data), raw_len, flag, kind) + nm
toc_at = len(pkg)
pkg += toc
cookie_len = 88
pkg_len = len(pkg) + cookie_len
pkg += b"MEI\014\013\012\013\016" + struct.pack("!IIii64s", pkg_len, toc_at, len(toc), 311, b"libpython3.11.so.1.0")
boot = b"\x7fELF\x02\x01\x01" + b"\0" * 57 + b"Cannot open PyInstaller archive from executable\0sys._MEIPASS\0" + b"\0" * 4000
open("app", "wb").write(boot + pkg)
open("plain-elf", "wb").write(boot + b"TOKEN=" + key.encode() + b"\n")
whole = boot + pkg
open("cut-app", "wb").write(whole[:len(boot) + 30] + whole[-200:])
print(line)
"##;

#[test]
fn a_pyinstaller_executable_yields_its_files_and_its_modules() {
    let key = fake_key(2241);
    let t = Tree::new();
    let line: u64 = python(t.path(), PYINSTALLER_SCRIPT, &key).parse().unwrap();
    std::fs::remove_file(t.join("cut-app")).unwrap();
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let locs = found(&v);
    let paths: Vec<&str> = locs.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "app!PYZ-00.pyz!mypkg.settings",
            "app!config/app.env",
            "plain-elf"
        ],
        "{v:#}"
    );
    assert_eq!(locs[1], at("app!config/app.env"));
    assert_eq!(locs[0].1, line);
    assert_eq!(sorted_skips(&v), vec![]);
}

#[test]
fn a_damaged_pyinstaller_archive_is_incomplete() {
    let key = fake_key(2242);
    let t = Tree::new();
    python(t.path(), PYINSTALLER_SCRIPT, &key);
    for f in ["app", "plain-elf"] {
        std::fs::remove_file(t.join(f)).unwrap();
    }
    let (v, _) = scan(&t, &["."]);
    let s = sorted_skips(&v);
    assert!(!s.is_empty(), "{v:#}");
    assert!(s.iter().all(|(p, _)| p.starts_with("cut-app")), "{s:?}");
}

// ---------------------------------------------------------------- hostile input

#[test]
fn hostile_streams_end_as_skips_without_hanging() {
    let key = fake_key(2251);
    let t = Tree::new();
    // A PDF of 200,000 stream keywords, each after a dictionary with no filter: the search
    // for dictionaries stays linear.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    for i in 0..200_000 {
        pdf.extend_from_slice(
            format!("{i} 0 obj\n<< >>\nstream\nx\nendstream\nendobj\n").as_bytes(),
        );
    }
    pdf.extend_from_slice(format!("1 0 obj\n<< /Author (TOKEN={key}) >>\nendobj\n").as_bytes());
    t.write("many.pdf", &pdf);
    // A pack whose header claims a million objects and holds one.
    let mut pack = b"PACK\0\0\0\x02\0\x0f\x42\x40".to_vec();
    let blob = b"hello\n";
    pack.push(0x30 | blob.len() as u8); // type 3 (blob), size 6
    pack.extend_from_slice(&zlib(blob));
    t.write("lying.pack", &pack);
    // An object whose header says 512 MiB and that inflates to 6 bytes.
    let mut big = b"PACK\0\0\0\x02\0\0\0\x01".to_vec();
    big.extend_from_slice(&[0xb0, 0x80, 0x80, 0x80, 0x10]);
    big.extend_from_slice(&zlib(blob));
    t.write("lying-size.pack", &big);
    // A PYZ whose table of contents is a list of two million Nones.
    let mut pyz = b"PYZ\0\xa7\x0d\x0d\x0a\0\0\0\x10\0\0\0\0".to_vec();
    pyz.push(b'[');
    pyz.extend_from_slice(&2_000_000i32.to_le_bytes());
    pyz.extend(std::iter::repeat_n(b'N', 2_000_000));
    t.write("toc-bomb.pyz", &pyz);
    let (v, out) = scan(&t, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(found(&v), vec![("many.pdf".into(), 1_200_003, 19)]);
    assert_eq!(
        sorted_skips(&v),
        vec![
            ("lying-size.pack!blob@12".into(), "corrupt".into()),
            ("lying.pack".into(), "truncated".into()),
            ("toc-bomb.pyz".into(), "corrupt".into()),
        ]
    );
}

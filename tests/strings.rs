//! Strings in compiled artifacts (#22): a key stored right after a length byte that is a letter
//! or digit is glued to it in the raw bytes and missed; the string tables of `.pyc`, Java
//! classes, dex, Android binary XML, `resources.arsc` and .NET assemblies are read as separate
//! strings (one a line of a member named `constants`, `strings` or `#US`). Each test builds its
//! file itself (Python's own `py_compile` for `.pyc`, bytes laid out by hand for the rest) with
//! a key whose length byte is alphanumeric, shows the raw scan alone (`--max-archive-depth 0`)
//! misses it, finds it with its member chain and line, leaves a placeholder alone, and turns
//! damaged or lying tables into an incomplete skip without losing the raw scan.

use std::io::{Cursor, Write};
use std::process::Command;

use crate::common::*;
use serde_json::Value;

/// A key of 53 characters: a length byte of 53 is `5`, a digit that glues to the key.
fn glued_key(seed: u64) -> String {
    let key = fake_key_len(seed, 38);
    assert_eq!(key.len(), 0x35);
    key
}

/// A placeholder of the same length, which the rule rejects.
fn placeholder() -> String {
    format!("{PREFIX}{}", "X".repeat(38))
}

fn scan(t: &Tree, args: &[&str]) -> (Value, std::process::Output) {
    json(t.cmd().args(args))
}

/// `(path, line, column, masked key)` of the findings.
fn found(v: &Value) -> Vec<(String, u64, u64, String)> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["masked_key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in files {
        w.start_file(*name, opts).expect("zip start");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// Asserts that `name` in `t` gives exactly `want` (path, line, column, key) and no skip, and
/// that the raw bytes alone (no unpacking) give nothing: the key is found by the string table.
fn assert_found_only_by_table(t: &Tree, want: (&str, u64, u64, &str)) {
    let (v, out) = scan(t, &["."]);
    let (path, line, column, key) = want;
    assert_eq!(
        found(&v),
        vec![(path.to_string(), line, column, masked(key))],
        "{}",
        stderr(&out)
    );
    assert_eq!(skips(&v), vec![], "{v:#}");
    assert_eq!(out.status.code(), Some(1));
    let (raw, _) = scan(t, &["--max-archive-depth", "0", "."]);
    assert_eq!(
        found(&raw),
        vec![],
        "the raw bytes alone miss the glued key"
    );
}

/// Asserts that `name` in `t` gives no finding, no skip and exit 0.
fn assert_clean(t: &Tree) {
    let (v, out) = scan(t, &["."]);
    assert_eq!(found(&v), vec![], "{v:#}");
    assert_eq!(skips(&v), vec![], "{v:#}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Asserts that damaged variants of `data` (cut at several places, bytes at `lies` made to lie
/// as 0xFF, 0x7F or 0x80), each a file `v<i>-<name>` of one tree, end without a panic or hang,
/// with incomplete skips (of those files only) and never an error.
fn assert_damage_is_reported(name: &str, data: &[u8], lies: &[usize]) {
    let mut variants: Vec<Vec<u8>> = (1..8)
        .map(|i| data[..data.len() * i / 8].to_vec())
        .collect();
    for &at in lies {
        for byte in [0xFF, 0x7F, 0x80] {
            let mut lying = data.to_vec();
            lying[at] = byte;
            variants.push(lying);
        }
    }
    let t = Tree::new();
    for (i, variant) in variants.iter().enumerate() {
        t.write(&format!("v{i}-{name}"), variant);
    }
    let out = run_limited(
        t.cmd().args(["--format", "json", "--no-timing", "."]),
        None,
        std::time::Duration::from_secs(60),
    );
    let v = stdout_json(&out);
    assert_eq!(v["errors"], serde_json::json!([]), "{v:#}");
    assert_eq!(v["stats"]["files_scanned"], variants.len(), "{v:#}");
    for (path, reason) in skips(&v) {
        assert!(path.ends_with(name), "{path}");
        assert!(
            ["corrupt", "truncated", "unsupported"].contains(&reason.as_str()),
            "{path}: {reason}"
        );
    }
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// Python marshal (.pyc)

/// Compiles `source` with the machine's own Python into `dir/name` (a real `.pyc`).
fn py_compile(dir: &std::path::Path, source: &str, name: &str) -> Vec<u8> {
    let py = dir.join("src.py");
    std::fs::write(&py, source).expect("write source");
    let pyc = dir.join(name);
    let status = Command::new("python3")
        .args(["-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)"])
        .arg(&py)
        .arg(&pyc)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    std::fs::remove_file(&py).expect("remove source");
    std::fs::read(&pyc).expect("read pyc")
}

/// The 1-based line of `needle` in the `constants` member: which string of the marshal data
/// it is, counted by the machine's own Python walking the same objects in the same order.
fn pyc_line(data: &[u8], needle: &str) -> u64 {
    let script = r#"
import marshal, sys
data = open(sys.argv[1], 'rb').read()
out = []
seen = set()
def walk(o):
    if isinstance(o, (str, bytes)):
        # marshal writes an object met again as a reference, which is no new string.
        if id(o) not in seen:
            seen.add(id(o))
            out.append(o)
    elif isinstance(o, (tuple, list, frozenset, set)):
        for x in o: walk(x)
    elif isinstance(o, dict):
        for k, x in o.items(): walk(k); walk(x)
    elif hasattr(o, 'co_code'):
        # marshal's own order of a code object's objects.
        walk(o.co_code); walk(o.co_consts); walk(o.co_names)
        if sys.version_info >= (3, 11):
            walk(o.co_varnames + o.co_cellvars + o.co_freevars); out.append(b'kinds')
            walk(o.co_filename); walk(o.co_name); walk(o.co_qualname)
            walk(o.co_linetable); walk(o.co_exceptiontable)
        else:
            walk(o.co_varnames); walk(o.co_freevars); walk(o.co_cellvars)
            walk(o.co_filename); walk(o.co_name)
walk(marshal.loads(data[16:]))
for i, s in enumerate(out):
    if (s if isinstance(s, str) else s.decode('latin-1')) == sys.argv[2]:
        print(i + 1)
        break
"#;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("x.pyc");
    std::fs::write(&path, data).expect("write");
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .arg(needle)
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the key is among the strings")
}

#[test]
fn a_key_in_a_python_constant_is_found_in_the_pyc_constants() {
    let key = glued_key(2201);
    let t = Tree::new();
    let source = format!("import os\nKEY = \"{key}\"\n\ndef url():\n    return os.environ.get('X', 'https://api.example.com')\n");
    let data = py_compile(t.path(), &source, "app.pyc");
    // Python stores the key as a short ASCII string: its length byte `5` precedes it.
    let at = data
        .windows(15)
        .position(|w| w == PREFIX.as_bytes())
        .unwrap();
    assert_eq!(data[at - 1], b'5');
    let line = pyc_line(&data, &key);
    assert_found_only_by_table(&t, ("app.pyc!constants", line, 1, &key));
}

#[test]
fn a_pyc_in_a_zip_is_named_through_the_zip() {
    let key = glued_key(2202);
    let dir = tempfile::tempdir().expect("temp dir");
    let source = format!("def f():\n    return {{'token': \"{key}\"}}\n");
    let data = py_compile(dir.path(), &source, "mod.pyc");
    let line = pyc_line(&data, &key);
    let t = Tree::new();
    t.write(
        "app.pyz",
        zip(&[("__main__.py", b"import mod\n"), ("pkg/mod.pyc", &data)]),
    );
    assert_found_only_by_table(&t, ("app.pyz!pkg/mod.pyc!constants", line, 1, &key));
}

#[test]
fn a_key_glued_to_the_next_strings_type_byte_is_read_with_its_own_length() {
    // A key of 47 characters (length byte `/`) followed by a string used once: its type byte
    // `z` follows the key, so the raw bytes give a key one character too long.
    let key = fake_key_len(2204, 32);
    let t = Tree::new();
    let data = py_compile(t.path(), &format!("X = (\"{key}\", \"a b\")\n"), "app.pyc");
    let at = data
        .windows(15)
        .position(|w| w == PREFIX.as_bytes())
        .unwrap();
    assert_eq!(data[at + key.len()], b'z');
    let line = pyc_line(&data, &key);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(
        found(&v),
        vec![("app.pyc!constants".to_string(), line, 1, masked(&key))],
        "the wrong raw key is replaced by the string's"
    );
    let (raw, _) = scan(&t, &["--max-archive-depth", "0", "."]);
    let raw: Vec<_> = found(&raw).into_iter().map(|f| f.3).collect();
    assert_eq!(raw.len(), 1);
    assert_ne!(raw[0], masked(&key), "the raw bytes alone give a wrong key");
}

#[test]
fn a_placeholder_in_a_pyc_is_not_reported() {
    let t = Tree::new();
    let source = format!("KEY = \"{}\"\n", placeholder());
    py_compile(t.path(), &source, "app.pyc");
    assert_clean(&t);
}

#[test]
fn a_damaged_pyc_is_incomplete_and_its_raw_bytes_are_still_scanned() {
    let key = fake_key(2203);
    let dir = tempfile::tempdir().expect("temp dir");
    // A key after a space: the raw scan finds it whatever happens to the marshal data.
    let source = format!("A = \"x {key}\"\nB = ['a', 'b', ('c', 1.5, 2**70)]\n");
    let data = py_compile(dir.path(), &source, "app.pyc");
    let cut = &data[..data.len() - 20];
    let t = Tree::new();
    t.write("app.pyc", cut);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(
        skips(&v),
        vec![("app.pyc".to_string(), "truncated".to_string())]
    );
    let paths: Vec<_> = found(&v).into_iter().map(|f| f.0).collect();
    assert_eq!(
        paths,
        vec!["app.pyc".to_string()],
        "one finding: the raw one"
    );
    // Lying lengths and cuts everywhere: no panic, no hang, no error.
    let lies: Vec<usize> = (16..data.len()).step_by(5).collect();
    assert_damage_is_reported("app.pyc", &data, &lies);
}

#[test]
fn a_deeply_nested_pyc_stops_at_the_depth_limit() {
    // Hand-made marshal: a 3.12 code object whose constants nest 200 000 small tuples.
    let mut data = vec![0xCB, 0x0D, b'\r', b'\n'];
    data.extend([0u8; 12]);
    data.push(0xE3);
    data.extend([0u8; 20]);
    data.extend(b"s\0\0\0\0");
    data.extend(b")\x01".repeat(200_000));
    data.push(b'N');
    let t = Tree::new();
    t.write("deep.pyc", &data);
    let (v, out) = scan(&t, &["."]);
    assert_eq!(
        skips(&v),
        vec![("deep.pyc".to_string(), "unsupported".to_string())]
    );
    assert_eq!(out.status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------------
// Java classes

/// A class file `public class App { static final String KEY = "<value>"; }` as javac lays it
/// out (constant pool, one field with a ConstantValue, a SourceFile attribute); `value` is the
/// 6th CONSTANT_Utf8 entry. Major version 65 (Java 21).
fn class_file(value: &str) -> Vec<u8> {
    fn utf8(c: &mut Vec<u8>, s: &str) {
        c.push(1);
        c.extend((s.len() as u16).to_be_bytes());
        c.extend(s.as_bytes());
    }
    let mut c = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 65];
    c.extend(14u16.to_be_bytes());
    utf8(&mut c, "App"); // 1
    c.extend([7, 0, 1]); // 2: Class App
    utf8(&mut c, "java/lang/Object"); // 3
    c.extend([7, 0, 3]); // 4
    utf8(&mut c, "KEY"); // 5
    utf8(&mut c, "Ljava/lang/String;"); // 6
    utf8(&mut c, "ConstantValue"); // 7
    c.extend([8, 0, 9]); // 8: String #9
    utf8(&mut c, value); // 9
    c.extend([5, 0, 0, 0, 0, 0, 0, 0, 42]); // 10 and 11: Long 42
    utf8(&mut c, "SourceFile"); // 12
    utf8(&mut c, "App.java"); // 13
    c.extend([0x00, 0x21, 0, 2, 0, 4, 0, 0]); // public super; this, super; no interfaces
    c.extend([0, 1, 0x00, 0x19, 0, 5, 0, 6, 0, 1, 0, 7, 0, 0, 0, 2, 0, 8]); // the field
    c.extend([0, 0]); // no methods
    c.extend([0, 1, 0, 12, 0, 0, 0, 2, 0, 13]); // SourceFile
    c
}

#[test]
fn a_key_in_a_class_constant_is_found_in_the_class_constants() {
    let key = glued_key(2211);
    let t = Tree::new();
    let data = class_file(&key);
    let at = data
        .windows(15)
        .position(|w| w == PREFIX.as_bytes())
        .unwrap();
    assert_eq!(&data[at - 2..at], b"\x005");
    t.write("App.class", &data);
    assert_found_only_by_table(&t, ("App.class!constants", 6, 1, &key));
}

#[test]
fn a_class_in_a_jar_is_named_through_the_jar() {
    let key = glued_key(2212);
    let t = Tree::new();
    let manifest = b"Manifest-Version: 1.0\r\nMain-Class: App\r\n\r\n";
    t.write(
        "app.jar",
        zip(&[
            ("META-INF/MANIFEST.MF", manifest),
            ("com/example/App.class", &class_file(&key)),
        ]),
    );
    assert_found_only_by_table(&t, ("app.jar!com/example/App.class!constants", 6, 1, &key));
}

#[test]
fn a_placeholder_in_a_class_is_not_reported() {
    let t = Tree::new();
    t.write("App.class", class_file(&placeholder()));
    assert_clean(&t);
}

#[test]
fn a_mach_o_universal_binary_is_not_read_as_a_class() {
    // `CAFEBABE` then two architectures: scanned as raw bytes, a key after a space found there.
    let key = fake_key(2213);
    let mut fat = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 2];
    fat.extend([0u8; 40]);
    fat.extend(format!(" {key} ").as_bytes());
    let t = Tree::new();
    t.write("tool", &fat);
    let (v, _) = scan(&t, &["."]);
    let paths: Vec<_> = found(&v).into_iter().map(|f| f.0).collect();
    assert_eq!(paths, vec!["tool".to_string()]);
    assert_eq!(skips(&v), vec![]);
}

#[test]
fn a_damaged_class_is_incomplete_and_never_fails_the_scan() {
    let data = class_file(&glued_key(2214));
    let t = Tree::new();
    let mut unknown = data.clone();
    unknown[10] = 2; // no constant has tag 2
    t.write("App.class", &unknown);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(
        skips(&v),
        vec![("App.class".to_string(), "corrupt".to_string())]
    );
    let lies: Vec<usize> = (8..data.len()).collect();
    assert_damage_is_reported("App.class", &data, &lies);
}

// ---------------------------------------------------------------------------------------------
// dex

/// ULEB128 of `n`.
fn uleb128(mut n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A dex file (version 035) whose string table is `strings` (in id order), laid out as `d8`
/// does: header, string ids, type ids (one), then the string data section; the map and the
/// other sections are left empty. Strings of 53 characters have the length byte `5`.
fn dex_file(strings: &[&str]) -> Vec<u8> {
    let ids_off = 0x70;
    let types_off = ids_off + 4 * strings.len();
    let data_off = types_off + 4;
    let mut data = Vec::new();
    let mut ids = Vec::new();
    for s in strings {
        ids.extend(((data_off + data.len()) as u32).to_le_bytes());
        data.extend(uleb128(s.encode_utf16().count() as u32));
        data.extend(s.as_bytes());
        data.push(0);
    }
    let mut d = b"dex\n035\0".to_vec();
    d.resize(0x70, 0);
    let file_size = (data_off + data.len()) as u32;
    d[32..36].copy_from_slice(&file_size.to_le_bytes());
    d[36..40].copy_from_slice(&0x70u32.to_le_bytes());
    d[40..44].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    d[56..60].copy_from_slice(&(strings.len() as u32).to_le_bytes());
    d[60..64].copy_from_slice(&(ids_off as u32).to_le_bytes());
    d[64..68].copy_from_slice(&1u32.to_le_bytes());
    d[68..72].copy_from_slice(&(types_off as u32).to_le_bytes());
    d[104..108].copy_from_slice(&(data.len() as u32).to_le_bytes());
    d[108..112].copy_from_slice(&(data_off as u32).to_le_bytes());
    d.extend(ids);
    d.extend(0u32.to_le_bytes());
    d.extend(data);
    d
}

fn dex_strings(value: &str) -> Vec<String> {
    [
        "<init>",
        "API_KEY",
        "Lcom/example/App;",
        "Ljava/lang/Object;",
        "Ljava/lang/String;",
        "V",
        value,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn a_key_in_dex_string_data_is_found_in_the_dex_strings() {
    let key = glued_key(2221);
    let strings = dex_strings(&key);
    let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
    let data = dex_file(&refs);
    let at = data
        .windows(15)
        .position(|w| w == PREFIX.as_bytes())
        .unwrap();
    assert_eq!(data[at - 1], b'5');
    let t = Tree::new();
    t.write("classes.dex", &data);
    assert_found_only_by_table(&t, ("classes.dex!strings", 7, 1, &key));
}

#[test]
fn a_placeholder_in_dex_is_not_reported() {
    let strings = dex_strings(&placeholder());
    let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
    let t = Tree::new();
    t.write("classes.dex", dex_file(&refs));
    assert_clean(&t);
}

#[test]
fn a_damaged_dex_is_incomplete_and_never_fails_the_scan() {
    let strings = dex_strings(&glued_key(2222));
    let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
    let data = dex_file(&refs);
    let t = Tree::new();
    let mut lying = data.clone();
    lying[56..60].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    t.write("classes.dex", &lying);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(
        skips(&v),
        vec![("classes.dex".to_string(), "truncated".to_string())]
    );
    let mut lies: Vec<usize> = (56..64).collect();
    lies.extend(0x70..data.len());
    assert_damage_is_reported("classes.dex", &data, &lies);
}

// ---------------------------------------------------------------------------------------------
// Android binary XML and resources.arsc

/// A string pool chunk of `strings`, UTF-8 (as aapt2 writes resources.arsc) or UTF-16 (as it
/// writes AndroidManifest.xml).
fn pool_chunk(strings: &[&str], utf8: bool) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for s in strings {
        offsets.extend((data.len() as u32).to_le_bytes());
        if utf8 {
            data.push(s.encode_utf16().count() as u8);
            data.push(s.len() as u8);
            data.extend(s.as_bytes());
            data.push(0);
        } else {
            data.extend((s.encode_utf16().count() as u16).to_le_bytes());
            data.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            data.extend([0, 0]);
        }
    }
    while !data.len().is_multiple_of(4) {
        data.push(0);
    }
    let start = 0x1C + offsets.len();
    let mut c = vec![0x01, 0x00, 0x1C, 0x00];
    c.extend(((start + data.len()) as u32).to_le_bytes());
    c.extend((strings.len() as u32).to_le_bytes());
    c.extend(0u32.to_le_bytes());
    c.extend((if utf8 { 0x100u32 } else { 0 }).to_le_bytes());
    c.extend((start as u32).to_le_bytes());
    c.extend(0u32.to_le_bytes());
    c.extend(offsets);
    c.extend(data);
    c
}

/// `<manifest package="com.example"><application><meta-data android:name="api_key"
/// android:value="<value>"/></application></manifest>` as aapt2 compiles it: an XML chunk with
/// a UTF-16 string pool (the value is string 8, line 9), a resource map, then the namespace
/// and element chunks (reduced here to the namespace start and end).
fn manifest(value: &str) -> Vec<u8> {
    let pool = pool_chunk(
        &[
            "name",
            "value",
            "android",
            "http://schemas.android.com/apk/res/android",
            "",
            "package",
            "manifest",
            "com.example",
            value,
            "application",
            "meta-data",
        ],
        false,
    );
    let mut body = pool;
    // Resource map: android:name and android:value.
    body.extend([0x80, 0x01, 0x08, 0x00, 0x10, 0, 0, 0]);
    body.extend(0x0101_0003u32.to_le_bytes());
    body.extend(0x0101_0024u32.to_le_bytes());
    for kind in [0x0100u16, 0x0101] {
        body.extend(kind.to_le_bytes());
        body.extend(0x10u16.to_le_bytes());
        body.extend(0x18u32.to_le_bytes());
        body.extend(1u32.to_le_bytes()); // line
        body.extend(u32::MAX.to_le_bytes()); // comment
        body.extend(2u32.to_le_bytes()); // prefix
        body.extend(3u32.to_le_bytes()); // uri
    }
    let mut d = vec![0x03, 0x00, 0x08, 0x00];
    d.extend(((8 + body.len()) as u32).to_le_bytes());
    d.extend(body);
    d
}

/// A resource table with one package (header only) whose global pool holds `values` (UTF-8).
fn resources(values: &[&str]) -> Vec<u8> {
    let pool = pool_chunk(values, true);
    let mut package = vec![0x00, 0x02, 0x20, 0x01];
    package.extend(0x120u32.to_le_bytes());
    package.extend(0x7Fu32.to_le_bytes());
    package.resize(0x120, 0);
    let mut d = vec![0x02, 0x00, 0x0C, 0x00];
    d.extend(((12 + pool.len() + package.len()) as u32).to_le_bytes());
    d.extend(1u32.to_le_bytes());
    d.extend(pool);
    d.extend(package);
    d
}

#[test]
fn a_key_in_a_binary_manifest_is_found_in_its_string_pool() {
    let key = glued_key(2231);
    let data = manifest(&key);
    let at = data.windows(8).position(|w| w == b"l\0e\0a\0d\0").unwrap();
    assert_eq!(
        &data[at - 2..at],
        b"5\0",
        "UTF-16 length 53 is the character `5`"
    );
    let t = Tree::new();
    t.write("AndroidManifest.xml", &data);
    assert_found_only_by_table(&t, ("AndroidManifest.xml!strings", 9, 1, &key));
}

#[test]
fn a_key_in_resources_arsc_is_found_in_its_global_pool() {
    let key = glued_key(2232);
    let t = Tree::new();
    t.write(
        "resources.arsc",
        resources(&["res/layout/main.xml", "My App", &key]),
    );
    assert_found_only_by_table(&t, ("resources.arsc!strings", 3, 1, &key));
}

#[test]
fn an_apk_is_opened_down_to_its_string_tables() {
    let (k1, k2, k3) = (glued_key(2233), glued_key(2234), glued_key(2235));
    let strings = dex_strings(&k1);
    let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
    let t = Tree::new();
    t.write(
        "app.apk",
        zip(&[
            ("AndroidManifest.xml", &manifest(&k2)),
            ("classes.dex", &dex_file(&refs)),
            ("resources.arsc", &resources(&["My App", &k3])),
            ("META-INF/CERT.SF", b"Signature-Version: 1.0\r\n"),
        ]),
    );
    let (v, out) = scan(&t, &["."]);
    let mut want = vec![
        (
            "app.apk!AndroidManifest.xml!strings".to_string(),
            9,
            1,
            masked(&k2),
        ),
        ("app.apk!classes.dex!strings".to_string(), 7, 1, masked(&k1)),
        (
            "app.apk!resources.arsc!strings".to_string(),
            2,
            1,
            masked(&k3),
        ),
    ];
    want.sort();
    let mut got = found(&v);
    got.sort();
    assert_eq!(got, want, "{}", stderr(&out));
    assert_eq!(skips(&v), vec![]);
}

#[test]
fn placeholders_in_android_string_pools_are_not_reported() {
    let t = Tree::new();
    t.write("AndroidManifest.xml", manifest(&placeholder()));
    t.write("resources.arsc", resources(&["My App", &placeholder()]));
    assert_clean(&t);
}

#[test]
fn damaged_android_string_pools_are_incomplete_and_never_fail_the_scan() {
    let data = manifest(&glued_key(2236));
    let t = Tree::new();
    t.write("AndroidManifest.xml", &data[..60]);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(
        skips(&v),
        vec![("AndroidManifest.xml".to_string(), "truncated".to_string())]
    );
    let lies: Vec<usize> = (8..data.len().min(200)).collect();
    assert_damage_is_reported("AndroidManifest.xml", &data, &lies);
    let data = resources(&["My App", &glued_key(2237)]);
    let lies: Vec<usize> = (12..data.len().min(200)).collect();
    assert_damage_is_reported("resources.arsc", &data, &lies);
}

// ---------------------------------------------------------------------------------------------
// .NET assemblies

/// A .NET class library (PE32, one `.text` section) as the C# compiler lays it out: DOS stub,
/// PE and optional headers with the CLI header in data directory 14, then the CLI header and
/// a metadata root with the five usual streams. `literals` are the `#US` heap (string literals
/// of the code), in order; the tables stream is left empty.
fn assembly(literals: &[&str]) -> Vec<u8> {
    const SECTION_RVA: u32 = 0x2000;
    const SECTION_RAW: usize = 0x200;
    // The section: 8 bytes of import address table, the CLI header, then the metadata.
    let mut us = vec![0u8];
    for s in literals {
        let units: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let len = units.len() + 1;
        if len < 0x80 {
            us.push(len as u8);
        } else {
            us.extend([0x80 | (len >> 8) as u8, len as u8]);
        }
        us.extend(units);
        us.push(0);
    }
    while !us.len().is_multiple_of(4) {
        us.push(0);
    }
    let strings_heap = b"\0<Module>\0App.dll\0App\0System.Runtime\0Object\0\0\0".to_vec();
    let tables = vec![0u8; 24];
    let guid = vec![0x11u8; 16];
    let blob = vec![0u8; 4];
    let streams: [(&str, &[u8]); 5] = [
        ("#~", &tables),
        ("#Strings", &strings_heap),
        ("#US", &us),
        ("#GUID", &guid),
        ("#Blob", &blob),
    ];
    let mut headers = Vec::new();
    let mut heaps: Vec<u8> = Vec::new();
    let version = b"v4.0.30319\0\0";
    let headers_len: usize = streams.iter().map(|(n, _)| 8 + (n.len() + 4) / 4 * 4).sum();
    let first_heap = 16 + version.len() + 4 + headers_len;
    for (name, heap) in streams {
        headers.extend(((first_heap + heaps.len()) as u32).to_le_bytes());
        headers.extend((heap.len() as u32).to_le_bytes());
        let mut n = name.as_bytes().to_vec();
        n.resize((name.len() + 4) / 4 * 4, 0);
        headers.extend(n);
        heaps.extend(heap);
    }
    let mut metadata = b"BSJB".to_vec();
    metadata.extend(1u16.to_le_bytes());
    metadata.extend(1u16.to_le_bytes());
    metadata.extend(0u32.to_le_bytes());
    metadata.extend((version.len() as u32).to_le_bytes());
    metadata.extend(version);
    metadata.extend(0u16.to_le_bytes());
    metadata.extend(5u16.to_le_bytes());
    metadata.extend(headers);
    metadata.extend(heaps);
    let cli_rva = SECTION_RVA + 8;
    let metadata_rva = cli_rva + 0x48;
    let mut section = vec![0u8; 8];
    section.extend(0x48u32.to_le_bytes());
    section.extend(2u16.to_le_bytes());
    section.extend(5u16.to_le_bytes());
    section.extend(metadata_rva.to_le_bytes());
    section.extend((metadata.len() as u32).to_le_bytes());
    section.extend(1u32.to_le_bytes()); // ILONLY
    section.resize(8 + 0x48, 0);
    section.extend(&metadata);
    while !section.len().is_multiple_of(0x200) {
        section.push(0);
    }

    let mut pe = vec![0u8; 0x80];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3C] = 0x80;
    let stub = b"This program cannot be run in DOS mode.\r\r\n$";
    pe[0x4E..0x4E + stub.len()].copy_from_slice(stub);
    pe.extend(b"PE\0\0");
    pe.extend(0x14Cu16.to_le_bytes()); // i386
    pe.extend(1u16.to_le_bytes()); // one section
    pe.extend([0u8; 12]);
    pe.extend(0xE0u16.to_le_bytes());
    pe.extend(0x2102u16.to_le_bytes()); // DLL
    let mut optional = vec![0u8; 0xE0];
    optional[..2].copy_from_slice(&0x10Bu16.to_le_bytes());
    optional[92..96].copy_from_slice(&16u32.to_le_bytes());
    optional[96 + 8 * 14..100 + 8 * 14].copy_from_slice(&cli_rva.to_le_bytes());
    optional[100 + 8 * 14..104 + 8 * 14].copy_from_slice(&0x48u32.to_le_bytes());
    pe.extend(optional);
    let mut header = b".text\0\0\0".to_vec();
    header.extend((section.len() as u32).to_le_bytes());
    header.extend(SECTION_RVA.to_le_bytes());
    header.extend((section.len() as u32).to_le_bytes());
    header.extend((SECTION_RAW as u32).to_le_bytes());
    header.extend([0u8; 12]);
    header.extend(0x6000_0020u32.to_le_bytes());
    pe.extend(header);
    pe.resize(SECTION_RAW, 0);
    pe.extend(section);
    pe
}

#[test]
fn a_key_in_a_dotnet_string_literal_at_an_odd_offset_is_found_once() {
    // A literal of 64 characters or more has a 2-byte length: every literal after it sits at
    // an odd offset. The raw UTF-16 scan took such a run for big-endian and missed it; since
    // it reads a run whose byte before is not 0 (here the literal's length byte) as
    // little-endian, the raw bytes find it too, and it is reported once, where the raw bytes
    // have it.
    let key = glued_key(2241);
    let message = "The Leadey API rejected the request; check the key and the account settings.";
    assert!(message.len() >= 64);
    let t = Tree::new();
    t.write(
        "bin/App.dll",
        assembly(&["https://api.leadey.example", message, &key, "Authorization"]),
    );
    let (raw, _) = scan(&t, &["--max-archive-depth", "0", "."]);
    let (v, out) = scan(&t, &["."]);
    let got = found(&v);
    assert_eq!(got.len(), 1, "{}", stderr(&out));
    assert_eq!(got, found(&raw));
    assert_eq!(got[0].0, "bin/App.dll");
    assert_eq!(got[0].3, masked(&key));
    assert_eq!(skips(&v), vec![], "{v:#}");
}

#[test]
fn a_key_the_raw_bytes_give_is_reported_once_where_it_was() {
    // After short literals the key is at an even offset: the raw UTF-16 scan finds it, and
    // the same key in `#US` is not reported a second time.
    let key = glued_key(2243);
    let t = Tree::new();
    t.write("App.dll", assembly(&["Hello", &key]));
    let (raw, _) = scan(&t, &["--max-archive-depth", "0", "."]);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(found(&raw).len(), 1);
    assert_eq!(found(&v), found(&raw));
    assert_eq!(found(&v)[0].0, "App.dll");
}

#[test]
fn a_placeholder_in_a_dotnet_literal_is_not_reported() {
    let t = Tree::new();
    t.write("App.dll", assembly(&["x", &placeholder()]));
    assert_clean(&t);
}

#[test]
fn a_damaged_assembly_is_incomplete_and_never_fails_the_scan() {
    let data = assembly(&["Hello", &glued_key(2242)]);
    let t = Tree::new();
    let mut lying = data.clone();
    // The #US heap's size, made larger than the file.
    let at = data.windows(4).position(|w| w == b"#US\0").unwrap() - 4;
    lying[at..at + 4].copy_from_slice(&0x00FF_FFFFu32.to_le_bytes());
    t.write("App.dll", &lying);
    let (v, _) = scan(&t, &["."]);
    assert_eq!(
        skips(&v),
        vec![("App.dll".to_string(), "truncated".to_string())]
    );
    let metadata = data.windows(4).position(|w| w == b"BSJB").unwrap();
    let mut lies: Vec<usize> = (0x3C..0x40).chain(0x80..0x1A0).collect();
    lies.extend(0x208..0x210);
    lies.extend(metadata..data.len().min(metadata + 200));
    assert_damage_is_reported("App.dll", &data, &lies);
}

// ---------------------------------------------------------------------------------------------
// Fuzz seeds

/// The `strings` fuzz body (fuzz/src/strings.rs) over its seeds (fuzz/corpus/strings/: one
/// file of each format, a placeholder in place of a key), every prefix of each (cut every 7
/// bytes) and each seed with every byte in turn set to 0xFF: the fuzzed properties on known
/// inputs without a nightly toolchain.
#[test]
fn string_table_properties_hold_on_the_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/strings");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        crate::bodies::strings::strings(&data);
        for cut in (0..data.len()).step_by(7) {
            crate::bodies::strings::strings(&data[..cut]);
        }
        for at in 1..data.len() {
            let mut lying = data.clone();
            lying[at] = 0xFF;
            crate::bodies::strings::strings(&lying);
        }
        seeds += 1;
    }
    assert!(seeds >= 6);
}

//! Encodings of mail, logs and clusters (#22), through the binary as a user runs it, on content
//! the tests build the way the real producers do (Python's `email`, `gzip`, `zipfile`, `base64`
//! stdlib): Helm 3 release records (Secret and ConfigMap drivers), CloudWatch Logs subscription
//! events, mail with a quoted-printable body and a base64 zip attachment, `data:` URIs of
//! archives, double percent-encoding, coloured CI logs, `xxd -i` C arrays, UTF-16 columns. Each
//! plants a key and finds it with its line and encoding chain; a placeholder in the same format
//! is not reported; decoding bombs stop at the limits and say so. Keys are built at run time.

use std::process::Command;

use crate::common::{fake_key, json, masked, skips, Tree};
use serde_json::Value;

/// Runs Python 3 `script` with `args` and returns its standard output (bytes).
fn py(script: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// (path, line, column, masked key, encoding chain) of every finding, sorted.
fn found(v: &Value) -> Vec<(String, u64, u64, String, Vec<String>)> {
    let mut out: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
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
                f["masked_key"].as_str().unwrap().to_string(),
                chain,
            )
        })
        .collect();
    out.sort();
    out
}

fn scan(t: &Tree, args: &[&str]) -> Value {
    let (v, out) = json(t.cmd().args(args).arg("."));
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    v
}

fn chain(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A Helm 3 release as Helm stores it: the release JSON (chart values hold the key), gzip'd
/// (Go writes no file name), base64'd; the Secret driver base64s it again into `data.release`
/// (`kubectl get secret -o yaml`), the ConfigMap driver puts it as it is.
const HELM: &str = r#"
import base64, gzip, json, sys
key, driver = sys.argv[1], sys.argv[2]
release = {
  "name": "web", "namespace": "prod", "version": 3,
  "info": {"status": "deployed", "description": "Upgrade complete"},
  "chart": {"metadata": {"name": "web", "version": "1.4.2", "apiVersion": "v2"},
            "values": {"image": {"repository": "ghcr.io/acme/web", "tag": "1.4.2"}}},
  "config": {"leadey": {"apiKey": key}, "replicaCount": 3},
  "manifest": "---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\n" * 40,
}
blob = base64.b64encode(gzip.compress(json.dumps(release).encode(), mtime=0)).decode()
if driver == "secret":
    print("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sh.helm.release.v1.web.v3\n"
          "  namespace: prod\n  labels:\n    name: web\n    owner: helm\n    status: deployed\n"
          "    version: \"3\"\ntype: helm.sh/release.v1\ndata:\n  release: "
          + base64.b64encode(blob.encode()).decode())
else:
    print("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sh.helm.release.v1.web.v3\n"
          "  labels:\n    owner: helm\ndata:\n  release: " + blob)
"#;

#[test]
fn a_key_in_chart_values_of_a_helm_release_is_found_in_secrets_and_configmaps() {
    let (k1, k2) = (fake_key(2201), fake_key(2202));
    let t = Tree::new();
    t.write("release-secret.yaml", py(HELM, &[&k1, "secret"]));
    t.write("release-cm.yaml", py(HELM, &[&k2, "configmap"]));
    let v = scan(&t, &[]);
    assert_eq!(
        found(&v),
        vec![
            (
                "release-cm.yaml".into(),
                8,
                12,
                masked(&k2),
                chain(&["base64", "gzip"])
            ),
            (
                "release-secret.yaml".into(),
                13,
                12,
                masked(&k1),
                chain(&["base64", "base64", "gzip"])
            ),
        ]
    );
    assert!(skips(&v).is_empty(), "{v:#}");
    // The human report says every step.
    let out = t.cmd().arg("release-secret.yaml").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "release-secret.yaml:13:12 (found gzip-encoded, inside base64, inside base64)"
        ),
        "{text}"
    );
    assert!(!text.contains(&k1[15..]), "the key is printed: {text}");
}

#[test]
fn a_placeholder_in_a_helm_release_is_not_reported() {
    let t = Tree::new();
    t.write(
        "release-secret.yaml",
        py(HELM, &["leadey_sk_live_YOUR_KEY_HERE", "secret"]),
    );
    t.write(
        "release-cm.yaml",
        py(
            HELM,
            &["leadey_sk_live_XXXXXXXXXXXXXXXXXXXXXXXXXXXX", "configmap"],
        ),
    );
    let v = scan(&t, &[]);
    assert!(found(&v).is_empty(), "{v:#}");
    assert!(skips(&v).is_empty(), "{v:#}");
}

#[test]
fn decoding_runs_of_compressed_content_follows_the_decode_and_archive_switches() {
    let k = fake_key(2203);
    let t = Tree::new();
    t.write("release-secret.yaml", py(HELM, &[&k, "secret"]));
    t.write("release-cm.yaml", py(HELM, &[&k, "configmap"]));
    // Depth 1 reads base64 of gzip, not base64 of base64 of gzip.
    let v = scan(&t, &["--max-decode-depth", "1"]);
    let paths: Vec<String> = found(&v).into_iter().map(|f| f.0).collect();
    assert_eq!(paths, ["release-cm.yaml"]);
    assert!(found(&scan(&t, &["--max-decode-depth", "0"])).is_empty());
    assert!(found(&scan(&t, &["--max-archive-depth", "0"])).is_empty());
}

/// A CloudWatch Logs subscription event as Lambda receives it: `awslogs.data` is base64 of the
/// gzip'd JSON of the log events.
const CLOUDWATCH: &str = r#"
import base64, gzip, json, sys
key = sys.argv[1]
events = [{"id": str(3622 + i), "timestamp": 1700000000000 + i,
           "message": "INFO request ok path=/v1/items status=200"} for i in range(30)]
events[17]["message"] = "ERROR calling api.leadey.com with key " + key + " failed: 401"
data = {"messageType": "DATA_MESSAGE", "owner": "123456789012",
        "logGroup": "/aws/lambda/checkout", "logStream": "2024/01/01/[$LATEST]abc",
        "subscriptionFilters": ["errors"], "logEvents": events}
payload = base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()
print(json.dumps({"awslogs": {"data": payload}}, indent=2))
"#;

#[test]
fn a_key_in_a_cloudwatch_logs_subscription_event_is_found() {
    let k = fake_key(2204);
    let t = Tree::new();
    t.write("events/lambda-event.json", py(CLOUDWATCH, &[&k]));
    t.write(
        "events/placeholder.json",
        py(CLOUDWATCH, &["leadey_sk_live_<your-key>"]),
    );
    let v = scan(&t, &[]);
    assert_eq!(
        found(&v),
        vec![(
            "events/lambda-event.json".into(),
            3,
            14,
            masked(&k),
            chain(&["base64", "gzip"])
        )]
    );
    assert!(skips(&v).is_empty(), "{v:#}");
}

/// A mail as Python's `email` writes it: a quoted-printable text body and a zip attachment in
/// base64, wrapped at 76 characters.
const MAIL: &str = r#"
import io, sys, zipfile
from email.message import EmailMessage
from email import policy
key, body = sys.argv[1], sys.argv[2]
msg = EmailMessage()
msg["From"] = "ops@example.com"
msg["To"] = "dev@example.com"
msg["Subject"] = "deploy config"
msg.set_content(body, cte="quoted-printable")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("README.txt", "Deployment bundle\n" * 50)
    z.writestr("config/app.env", "APP_ENV=prod\nLEADEY_API_KEY=" + key + "\nDEBUG=0\n")
msg.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename="bundle.zip")
sys.stdout.buffer.write(msg.as_bytes(policy=policy.SMTP))
"#;

#[test]
fn a_key_in_a_zip_attached_to_a_mail_is_found_in_the_member() {
    let k = fake_key(2205);
    let t = Tree::new();
    t.write(
        "inbox/deploy.eml",
        py(MAIL, &[&k, "Hi, the bundle is attached.\n"]),
    );
    t.write(
        "inbox/placeholder.eml",
        py(MAIL, &["leadey_sk_live_REPLACE_ME", "Hi.\n"]),
    );
    let v = scan(&t, &[]);
    assert_eq!(
        found(&v),
        vec![(
            "inbox/deploy.eml!config/app.env".into(),
            2,
            16,
            masked(&k),
            chain(&["base64"])
        )]
    );
    assert!(skips(&v).is_empty(), "{v:#}");
}

#[test]
fn a_key_in_a_data_uri_of_an_archive_is_found() {
    let k = fake_key(2206);
    let script = r#"
import base64, io, sys, zipfile, gzip
key = sys.argv[1]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("settings.json", '{"leadeyKey": "' + key + '"}')
uri = "data:application/zip;base64," + base64.b64encode(buf.getvalue()).decode()
gz = "data:application/gzip;base64," + base64.b64encode(gzip.compress(b"token=" + key.encode())).decode()
print('<a download="settings.zip" href="' + uri + '">settings</a>')
print('<a href="' + gz + '">log</a>')
"#;
    let t = Tree::new();
    t.write("page.html", py(script, &[&k]));
    let v = scan(&t, &[]);
    assert_eq!(
        found(&v),
        vec![
            (
                "page.html".into(),
                2,
                39,
                masked(&k),
                chain(&["base64", "gzip"])
            ),
            (
                "page.html!settings.json".into(),
                1,
                16,
                masked(&k),
                chain(&["base64"])
            ),
        ]
    );
}

#[test]
fn a_base64_gzip_bomb_stops_at_the_byte_budget_and_is_reported_incomplete() {
    let k = fake_key(2207);
    // 200 MB of zeros after the key: about 200 KB of gzip, 270 KB of base64.
    let script = r#"
import base64, gzip, sys, zlib
key = sys.argv[1]
c = zlib.compressobj(9, zlib.DEFLATED, 31)
out = [c.compress(b"key=" + key.encode() + b"\n")]
zeros = bytes(1 << 20)
for _ in range(200):
    out.append(c.compress(zeros))
out.append(c.flush())
print("payload: " + base64.b64encode(b"".join(out)).decode())
"#;
    let t = Tree::new();
    t.write("bomb.yaml", py(script, &[&k]));
    let v = scan(&t, &["--max-archive-bytes", "1000000"]);
    assert_eq!(
        found(&v),
        vec![(
            "bomb.yaml".into(),
            1,
            10,
            masked(&k),
            chain(&["base64", "gzip"])
        )]
    );
    assert_eq!(
        skips(&v),
        vec![("bomb.yaml".into(), "archive-too-large".into())]
    );
    // Incomplete content fails the gate when asked (a bomb without a key: findings exit 1).
    let t = Tree::new();
    t.write("bomb.yaml", py(script, &["leadey_sk_live_placeholder"]));
    let out = t
        .cmd()
        .args([
            "--max-archive-bytes",
            "1000000",
            "--fail-on-incomplete",
            ".",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_damaged_gzip_in_base64_is_reported_and_text_that_only_starts_like_one_is_not() {
    let k = fake_key(2208);
    let script = r#"
import base64, gzip, sys
key = sys.argv[1]
gz = bytearray(gzip.compress(("token=" + key + "\n" + "x" * 5000).encode()))
for i in range(60, 90):
    gz[i] ^= 0x55
print("blob: " + base64.b64encode(bytes(gz)).decode())
"#;
    let t = Tree::new();
    t.write("damaged.yaml", py(script, &[&k]));
    // A short run that starts like gzip, in prose: not a container.
    t.write(
        "notes.md",
        "gzip in base64 starts with `H4sI`, zip with `UEsDB`.\n",
    );
    let v = scan(&t, &[]);
    let s = skips(&v);
    assert_eq!(s.len(), 1, "{v:#}");
    assert_eq!(s[0].0, "damaged.yaml");
    assert!(s[0].1 == "corrupt" || s[0].1 == "truncated", "{s:?}");
}

#[test]
fn keys_in_a_quoted_printable_mail_body_are_found_across_soft_line_breaks() {
    let k: Vec<String> = (0..4).map(|i| fake_key(2210 + i)).collect();
    // Python's encoder breaks the long line inside the key (`=\n` every 76 characters); the
    // second key's `_` and `=` are encoded as some clients do (`=5F`, `=3D`).
    let pad = "x".repeat(30);
    let body = format!(
        "Hi,\n\nthe production key: {pad} {} (rotate monthly)\nLEADEY_API_KEY={}\nexample: leadey_sk_live_YOUR_KEY_HERE\n",
        k[0], k[1]
    );
    let script = r#"
import quopri, sys
from email.message import EmailMessage
from email import policy
body, second = sys.argv[1], sys.argv[2]
msg = EmailMessage()
msg["Subject"] = "keys"
msg.set_content(body, cte="quoted-printable")
raw = msg.as_bytes(policy=policy.SMTP)
raw = raw.replace(second.encode(), second.replace("_", "=5F").encode())
sys.stdout.buffer.write(raw)
"#;
    let mail = py(script, &[&body, &k[1]]);
    let text = String::from_utf8_lossy(&mail).into_owned();
    assert!(text.contains("=\r\n"), "a soft line break: {text}");
    assert!(
        !text.contains(&k[0]),
        "the first key is cut by a soft break: {text}"
    );
    assert!(text.contains("KEY=3Dleadey=5Fsk=5Flive=5F"), "{text}");
    let t = Tree::new();
    t.write("mail/keys.eml", &mail);
    // A hand-made body: a key cut inside its prefix by an LF soft break at 76 characters.
    let pad = "t".repeat(60);
    t.write(
        "mail/lf.txt",
        format!("{pad} {}=\n{}\n", &k[2][..9], &k[2][9..]),
    );
    // A short line that ends in `=` is text: the key before it is whole.
    t.write("mail/short.txt", format!("a {}=\nb\n", k[3]));
    let v = scan(&t, &[]);
    let line = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u64 + 1)
            .unwrap()
    };
    let col = |needle: &str| {
        let l = text.lines().find(|l| l.contains(needle)).unwrap();
        l.find(needle).unwrap() as u64 + 1
    };
    let first = &k[0][..10];
    assert_eq!(
        found(&v),
        vec![
            (
                "mail/keys.eml".into(),
                line(first),
                col(first),
                masked(&k[0]),
                chain(&["quoted-printable"])
            ),
            (
                "mail/keys.eml".into(),
                line("leadey=5Fsk"),
                col("leadey=5Fsk"),
                masked(&k[1]),
                chain(&["quoted-printable"])
            ),
            (
                "mail/lf.txt".into(),
                1,
                62,
                masked(&k[2]),
                chain(&["quoted-printable"])
            ),
            ("mail/short.txt".into(), 1, 3, masked(&k[3]), vec![]),
        ]
    );
    // The key's hash is the whole key's, not the part before the break.
    let hashes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key_sha256"].as_str().unwrap())
        .collect();
    let plain = Tree::new();
    plain.write("k.txt", format!("{}\n{}\n{}\n{}\n", k[0], k[1], k[2], k[3]));
    let pv = scan(&plain, &[]);
    for f in pv["findings"].as_array().unwrap() {
        assert!(hashes.contains(&f["key_sha256"].as_str().unwrap()));
    }
}

#[test]
fn a_double_percent_encoded_key_in_an_access_log_is_found_and_253d_is_a_boundary() {
    let (k1, k2) = (fake_key(2220), fake_key(2221));
    let log = format!(
        "10.0.0.7 - - [01/Jan/2024:10:00:00 +0000] \"GET /login?next=%2Fcb%3Fkey%253D{} HTTP/1.1\" 302 0\n\
         10.0.0.8 - - [01/Jan/2024:10:00:01 +0000] \"GET /r?u=%2Fapi%3Ftoken%253D{} HTTP/1.1\" 200 12\n\
         10.0.0.9 - - [01/Jan/2024:10:00:02 +0000] \"GET /r?u=%2Fapi%3Ftoken%253Dleadey%255Fsk%255Flive%255Fyour%255Fkey%255Fhere HTTP/1.1\" 200 12\n",
        k1.replace('_', "%255F"),
        k2
    );
    let t = Tree::new();
    t.write("access.log", &log);
    let v = scan(&t, &[]);
    let col = |line: &str, needle: &str| line.find(needle).unwrap() as u64 + 1;
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        found(&v),
        vec![
            (
                "access.log".into(),
                1,
                col(lines[0], "leadey%255F"),
                masked(&k1),
                chain(&["percent", "percent"])
            ),
            (
                "access.log".into(),
                2,
                col(lines[1], &k2),
                masked(&k2),
                vec![]
            ),
        ]
    );
}

#[test]
fn ansi_colour_sequences_around_a_key_are_boundaries_in_ci_logs_and_notebooks() {
    let k: Vec<String> = (0..4).map(|i| fake_key(2230 + i)).collect();
    let log = format!(
        "\x1b[0;36m[ci]\x1b[0m deploying\n\
         \x1b[1;32mLEADEY_API_KEY\x1b[0m=\x1b[33m{}\x1b[0m\n\
         \x1b[31m{}\x1b[0m\n\
         \x1b[1mnext\x1b[0m{}\n\
         \x1b[33mleadey_sk_live_YOUR_KEY_HERE_XXXXXXXX\x1b[0m\n",
        k[0], k[1], k[3]
    );
    // A Jupyter traceback stores the escapes JSON-escaped.
    let notebook = format!(
        "{{\"outputs\": [{{\"output_type\": \"error\", \"traceback\": [\"\\u001b[0;31mValueError\\u001b[0m: bad key \\u001b[1;32m{}\\u001b[0m\"]}}]}}\n",
        k[2]
    );
    let t = Tree::new();
    t.write("ci.log", &log);
    t.write("debug.ipynb", &notebook);
    let v = scan(&t, &[]);
    let col = |text: &str, key: &str| {
        let l = text.lines().find(|l| l.contains(key)).unwrap();
        l[..l.find(key).unwrap()].chars().count() as u64 + 1
    };
    let got = found(&v);
    assert_eq!(
        got,
        vec![
            ("ci.log".into(), 2, col(&log, &k[0]), masked(&k[0]), vec![]),
            ("ci.log".into(), 3, col(&log, &k[1]), masked(&k[1]), vec![]),
            ("ci.log".into(), 4, col(&log, &k[3]), masked(&k[3]), vec![]),
            (
                "debug.ipynb".into(),
                1,
                col(&notebook, &k[2]),
                masked(&k[2]),
                vec![]
            ),
        ]
    );
    // Found with the right length: the hash is the key's (the `\x1b[0m` after it is not part).
    let plain = Tree::new();
    plain.write("k.txt", format!("{}\n", k[0]));
    assert_eq!(
        scan(&plain, &[])["findings"][0]["key_sha256"],
        v["findings"][0]["key_sha256"]
    );
}

#[test]
fn a_key_in_a_c_byte_array_as_xxd_writes_it_is_found() {
    let k = fake_key(2240);
    let script = r#"
import sys
def xxd_i(name, data):
    out = "unsigned char %s[] = {\n" % name
    lines = []
    for i in range(0, len(data), 12):
        lines.append("  " + ", ".join("0x%02x" % b for b in data[i:i + 12]))
    out += ",\n".join(lines) + "\n};\nunsigned int %s_len = %d;\n" % (name, len(data))
    return out
key = sys.argv[1]
print(xxd_i("config_env", ("HOST=api.example.com\nLEADEY_API_KEY=" + key + "\nDEBUG=0\n").encode()))
print(xxd_i("example_env", b"LEADEY_API_KEY=leadey_sk_live_YOUR_KEY_GOES_HERE_OK\n"))
"#;
    let t = Tree::new();
    t.write("src/embedded.h", py(script, &[&k]));
    let v = scan(&t, &[]);
    // 21 bytes of `HOST=…\n` and 15 of `LEADEY_API_KEY=`: the key is item 36 (from 0), the
    // first of the fourth line of items (line 5), after 2 characters of indentation.
    assert_eq!(
        found(&v),
        vec![(
            "src/embedded.h".into(),
            5,
            3,
            masked(&k),
            chain(&["c-bytes"])
        )]
    );
}

#[test]
fn columns_in_utf16_text_count_characters() {
    let k = fake_key(2250);
    let ini = format!(
        "; Leadey client\r\n[api]\r\nendpoint=https://api.leadey.com/\r\nkey={k}\r\n; café 🙂 ok={k}\r\n"
    );
    let mut le = vec![0xFF, 0xFE];
    le.extend(ini.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xFE, 0xFF];
    be.extend(ini.encode_utf16().flat_map(u16::to_be_bytes));
    let no_bom: Vec<u8> = format!("key={k}\n")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let t = Tree::new();
    t.write("le.ini", le);
    t.write("be.ini", be);
    t.write("nobom.ini", no_bom);
    let v = scan(&t, &[]);
    // `; café 🙂 ok=` is 12 characters (the emoji is a surrogate pair: one character).
    let want = |path: &str, enc: &str| {
        vec![
            (path.to_string(), 4, 5, masked(&k), chain(&[enc])),
            (path.to_string(), 5, 13, masked(&k), chain(&[enc])),
        ]
    };
    let mut all = want("be.ini", "utf-16be");
    all.extend(want("le.ini", "utf-16le"));
    all.push(("nobom.ini".into(), 1, 5, masked(&k), chain(&["utf-16le"])));
    assert_eq!(found(&v), all);
}

#[test]
fn the_encodings_fuzz_body_holds_on_its_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/encodings");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| {
            crate::bodies::encodings::encodings(&data);
            for cut in (0..data.len()).step_by(11) {
                crate::bodies::encodings::encodings(&data[..cut]);
            }
        });
        assert!(result.is_ok(), "seed {} fails", path.display());
        seeds += 1;
    }
    assert!(seeds >= 6);
}

#[test]
fn random_base64_holding_an_archive_magic_by_chance_is_no_incomplete_archive() {
    // Source maps and lockfiles are full of random base64: the encodings of gzip's and zip's
    // magic bytes turn up inside long strings, and at a string's start with a header no
    // encoder writes; neither is a container (bench/decode.sh's corpus had 8 such "corrupt").
    let script = r#"
import base64, random
rng = random.Random(22)
out = []
for i in range(300):
    raw = rng.randbytes(600)
    s = base64.b64encode(raw).decode()
    out.append('"m%d": "%sH4sIAAAAAAAAA%sUEsDBBQ%s",' % (i, s[:40], s[40:80], s[80:]))
    bad = bytes([0x1f, 0x8b, 0x08, 0xff]) + rng.randbytes(300)
    out.append('"g%d": "%s",' % (i, base64.b64encode(bad).decode()))
print("{\n" + "\n".join(out) + '\n"end": 0}')
"#;
    let t = Tree::new();
    t.write("dist/app.js.map", py(script, &[]));
    let v = scan(&t, &[]);
    assert!(found(&v).is_empty(), "{v:#}");
    assert_eq!(skips(&v), vec![]);
}

/// A mutation run of the `encodings` fuzz body without a nightly toolchain (cargo-fuzz is the
/// real one): seeds with random bytes flipped, cut, repeated and the needles the decoders look
/// for spliced in. `ENCODINGS_MUTATIONS` sets the count (default 2000).
#[test]
#[ignore = "long: cargo test --test integration -- --ignored encodings::mutated"]
fn mutated_seeds_hold_the_encodings_fuzz_properties() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/encodings");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let count: u64 = std::env::var("ENCODINGS_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    const SPLICE: &[&[u8]] = &[
        b"H4sI",
        b"SDRzS",
        b"UEsDB",
        b"=\r\n",
        b"=\n",
        b"=3D",
        b"%255F",
        b"%253D",
        b"\x1b[0m",
        b"\x1b[1;32m",
        b"0x6c, 0x65",
        b",\n  ",
        b"leadey",
        b"_sk_live_",
        b"=5F",
        b"\xff\xfe",
    ];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for i in 0..count {
        let mut data = seeds[next(seeds.len())].clone();
        for _ in 0..1 + next(6) {
            let at = next(data.len() + 1);
            match next(5) {
                0 if !data.is_empty() => {
                    let j = next(data.len());
                    data[j] ^= 1 << next(8);
                }
                1 => data.truncate(at),
                2 => {
                    let piece = SPLICE[next(SPLICE.len())];
                    data.splice(at..at, piece.iter().copied());
                }
                3 if at < data.len() => {
                    let end = (at + next(64)).min(data.len());
                    let copy = data[at..end].to_vec();
                    data.splice(at..at, copy);
                }
                _ => {
                    let j = next(data.len() + 1);
                    data.insert(j, next(256) as u8);
                }
            }
        }
        let result = std::panic::catch_unwind(|| crate::bodies::encodings::encodings(&data));
        assert!(
            result.is_ok(),
            "mutation {i}: {:?}",
            data.escape_ascii().to_string()
        );
    }
}

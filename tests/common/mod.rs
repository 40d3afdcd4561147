//! Shared helpers for integration tests: temp trees, fake keys from a seed, running the binary.
#![allow(dead_code)]

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
    c.env_remove("NO_COLOR").env_remove("LEADEY_API_BASE");
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
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        )
    });
    (v, out)
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

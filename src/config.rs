//! `ScanConfig`: the resolved settings of a scan, free of CLI types. Pure data.

use std::path::PathBuf;

/// Default size of one read, in bytes. Files up to this size are read in one chunk.
pub const DEFAULT_CHUNK_SIZE_BYTES: usize = 512 * 1024;

/// Everything `scan::run` needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanConfig {
    /// Files and directories to scan; `-` is standard input.
    pub paths: Vec<PathBuf>,
    /// User rule files, merged over the built-in rules in order.
    pub rule_files: Vec<PathBuf>,
    /// Scan files that `.gitignore`, `.ignore` and git excludes leave out.
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    pub follow: bool,
    /// Skip (and count) files larger than this.
    pub max_filesize_bytes: Option<u64>,
    /// Globs of paths to leave out.
    pub excludes: Vec<String>,
    /// Worker threads; 0 chooses from the number of CPUs.
    pub threads: usize,
    /// Size of one read, in bytes (tests use tiny chunks to cross boundaries).
    pub chunk_size_bytes: usize,
    /// Scan a git scope of the repository holding the first path instead of walking files.
    pub git: Option<GitScope>,
}

/// What a git scan reads (#5). The repository is the one holding the scan root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitScope {
    /// `--staged`: the index against `HEAD`; findings on lines the staged change adds.
    Staged,
    /// `--since REV`: lines added by commits reachable from `HEAD` and not from `REV`.
    Since(String),
    /// `--range BASE..HEAD`: lines added by commits reachable from `HEAD` and not from `BASE`
    /// (either side may be empty, meaning `HEAD`).
    Range(String),
    /// `--history`: every blob ever committed on any ref, or on `branch` only.
    History {
        /// `--branch REF`: limit to the commits reachable from `REF`.
        branch: Option<String>,
    },
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            paths: vec![PathBuf::from(".")],
            rule_files: Vec::new(),
            no_ignore: false,
            follow: false,
            max_filesize_bytes: None,
            excludes: Vec::new(),
            threads: 0,
            chunk_size_bytes: DEFAULT_CHUNK_SIZE_BYTES,
            git: None,
        }
    }
}

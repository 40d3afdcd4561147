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
        }
    }
}

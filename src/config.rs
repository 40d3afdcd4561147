//! `ScanConfig`: the resolved settings of a scan, free of CLI types. Pure data.

use std::path::PathBuf;

/// Default size of one read, in bytes. Files up to this size are read in one chunk.
pub const DEFAULT_CHUNK_SIZE_BYTES: usize = 512 * 1024;

/// Default `--max-archive-depth` (#13): archives inside archives, five levels deep.
pub const DEFAULT_MAX_ARCHIVE_DEPTH: u32 = 5;

/// Default `--max-archive-bytes` (#13): inflated bytes read from one input's archives.
pub const DEFAULT_MAX_ARCHIVE_BYTES: u64 = 4 << 30;

/// Members one archive may have before the rest are skipped (#13).
pub const DEFAULT_MAX_ARCHIVE_MEMBERS: u64 = 1_000_000;

/// The largest zip read into memory when it cannot be read in place (a zip inside another
/// archive, a compressed zip, or standard input): zip needs random access (#13).
pub const DEFAULT_MAX_ZIP_BUFFER_BYTES: u64 = 64 << 20;

/// Limits of archive unpacking (#13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Archive levels unpacked (`0`: archives are scanned as raw bytes). A compressed tar
    /// (`.tar.gz`) is one level; a `.gz` of a plain file is one level.
    pub max_depth: u32,
    /// Inflated bytes read from all archives of one input (a file, standard input, a blob).
    pub max_inflated_bytes: u64,
    /// Members of one archive.
    pub max_members: u64,
    /// The largest zip buffered in memory.
    pub max_zip_buffer_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: DEFAULT_MAX_ARCHIVE_DEPTH,
            max_inflated_bytes: DEFAULT_MAX_ARCHIVE_BYTES,
            max_members: DEFAULT_MAX_ARCHIVE_MEMBERS,
            max_zip_buffer_bytes: DEFAULT_MAX_ZIP_BUFFER_BYTES,
        }
    }
}

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
    /// Archive unpacking limits (#13).
    pub archives: ArchiveLimits,
    /// Nested encodings decoded around keys (#14; 0: plain keys only).
    pub decode_depth: u32,
}

/// What a git scan reads (#5). The repository is the one holding the scan root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitScope {
    /// `--staged`: the index against `HEAD`; findings on lines the staged change adds.
    Staged,
    /// `--since REV`, `--range BASE..HEAD`, a push (`--github`, push hooks): lines added by the
    /// commits of the set.
    Range(CommitRange),
    /// `--history`: every blob ever committed on any ref, or on `branch` only.
    History {
        /// `--branch REF`: limit to the commits reachable from `REF`.
        branch: Option<String>,
    },
}

/// A set of commits, named the way `git rev-list` takes them (#20, #21): every commit reachable
/// from one of `tips` and from none of `hide`, nor, when `hide_refs_except` is set, from any ref
/// of the repository but the ones it names. Revisions are resolved by the git scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitRange {
    /// Revisions (ids, ref names, `HEAD`) whose ancestry is scanned.
    pub tips: Vec<String>,
    /// Revisions whose ancestry is left out.
    pub hide: Vec<String>,
    /// Also leave out what any ref reaches (branches, tags, remote-tracking refs), except the
    /// full ref names listed here: the commits that only the pushed ref brings (a force push whose
    /// `before` is gone; a pre-receive hook, where the refs still hold their old values).
    pub hide_refs_except: Option<Vec<String>>,
}

impl CommitRange {
    /// The commits reachable from `head` and not from `base`.
    pub fn between(base: &str, head: &str) -> CommitRange {
        CommitRange {
            tips: vec![head.to_string()],
            hide: vec![base.to_string()],
            hide_refs_except: None,
        }
    }

    /// Parses `BASE..HEAD`; an empty side means `HEAD`, as in git. `...` (a symmetric
    /// difference) is refused.
    ///
    /// ```
    /// use leadey_scan::config::CommitRange;
    /// assert_eq!(CommitRange::parse("..dev"), Ok(CommitRange::between("HEAD", "dev")));
    /// assert!(CommitRange::parse("a...b").is_err());
    /// ```
    pub fn parse(spec: &str) -> Result<CommitRange, String> {
        let bad = || format!("`{spec}` is not a range: use BASE..HEAD");
        if spec.contains("...") {
            return Err(bad());
        }
        let (base, head) = spec.split_once("..").ok_or_else(bad)?;
        let side = |s: &str| if s.is_empty() { "HEAD" } else { s }.to_string();
        Ok(CommitRange::between(&side(base), &side(head)))
    }
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
            archives: ArchiveLimits::default(),
            decode_depth: crate::detect::DEFAULT_DECODE_DEPTH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_on_two_dots_with_head_for_an_empty_side() {
        let r = |spec| CommitRange::parse(spec);
        assert_eq!(r("main..topic"), Ok(CommitRange::between("main", "topic")));
        assert_eq!(r("main.."), Ok(CommitRange::between("main", "HEAD")));
        assert_eq!(r("..topic"), Ok(CommitRange::between("HEAD", "topic")));
        assert!(r("main").is_err());
        assert!(r("a...b").is_err());
    }
}

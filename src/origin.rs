//! Origins (#12): where scanned bytes came from, for every input the scanner reads. An
//! `Origin` is a root (a file below the scan root, standard input, or a path in a git
//! repository) plus a chain of members (a file inside an archive inside that root: empty until
//! unpackers arrive). It has one canonical display (`dist/app.tar.gz!pkg/config.env`) and one
//! root-relative text, which fingerprints, baselines and config globs use whatever the spelling
//! of the scan root. Also owns the display form of raw path bytes and the scan root. Pure data:
//! no I/O beyond reading the current directory once in `ScanRoot::of`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The display text of standard input.
pub const STDIN_DISPLAY: &str = "<stdin>";

/// The path argument that means standard input.
pub const STDIN_ARG: &str = "-";

/// Separates an archive from a member in display texts (`a.tar.gz!pkg/config.env`), as
/// gitleaks users know it.
pub const MEMBER_SEPARATOR: char = '!';

/// Where the outermost bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum Root {
    /// A file of a walked tree (or named on the command line).
    File {
        /// The root as typed joined with the path below it, `/`-separated, `./` dropped,
        /// key-shaped runs masked: what reports show (`path` in JSON).
        #[serde(skip)]
        display: String,
        /// The same file relative to the scan root (`ScanRoot`): identical for `.`, an absolute
        /// root and a parent-relative root.
        path: String,
    },
    /// Standard input (`-`).
    Stdin,
    /// A blob of a git repository.
    Git {
        /// The path as reports show it: relative to the current directory, as in tree scans
        /// (#20), `/`-separated, key-shaped runs masked.
        #[serde(skip)]
        display: String,
        /// Repository-relative path, `/`-separated, key-shaped runs masked.
        path: String,
        /// The commit the blob was found in (full hex id); `None` for the index (`--staged`).
        #[serde(skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
    },
}

/// Where a finding, skip or error is: a root plus the members below it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Origin {
    /// The outermost input.
    #[serde(flatten)]
    pub root: Root,
    /// Member paths inside nested archives, outermost first (empty for plain inputs).
    pub members: Vec<String>,
}

impl Origin {
    /// A file of a tree: `display` as reports show it, `relative` to the scan root.
    pub fn file(display: String, relative: String) -> Origin {
        Origin {
            root: Root::File {
                display,
                path: relative,
            },
            members: Vec::new(),
        }
    }

    /// Standard input.
    pub fn stdin() -> Origin {
        Origin {
            root: Root::Stdin,
            members: Vec::new(),
        }
    }

    /// The blob at repository path `path` (display form), in `commit` when known.
    pub fn git(path: String, commit: Option<String>) -> Origin {
        Origin::git_shown(path.clone(), path, commit)
    }

    /// `Origin::git`, shown as `display` (the path relative to the current directory, #20).
    pub fn git_shown(display: String, path: String, commit: Option<String>) -> Origin {
        Origin {
            root: Root::Git {
                display,
                path,
                commit,
            },
            members: Vec::new(),
        }
    }

    /// This origin with `members` appended (the chain of an archive member below it).
    pub fn with_members(mut self, members: &[String]) -> Origin {
        self.members.extend_from_slice(members);
        self
    }

    /// The outermost input as reports show it: the file that exists (SARIF's physical
    /// location, GitHub annotations), `<stdin>`, or the repository path.
    pub fn outer_display(&self) -> &str {
        match &self.root {
            Root::File { display, .. } => display,
            Root::Stdin => STDIN_DISPLAY,
            Root::Git { display, .. } => display,
        }
    }

    /// The outermost input relative to the scan root (or the repository root for git).
    pub fn outer_relative(&self) -> &str {
        match &self.root {
            Root::File { path, .. } | Root::Git { path, .. } => path,
            Root::Stdin => STDIN_DISPLAY,
        }
    }

    /// The canonical display: the outer display, then `!member` for each member.
    ///
    /// ```
    /// use leadey_scan::origin::Origin;
    /// let o = Origin::file("dist/app.tar.gz".into(), "dist/app.tar.gz".into())
    ///     .with_members(&["pkg/config.env".into()]);
    /// assert_eq!(o.display(), "dist/app.tar.gz!pkg/config.env");
    /// ```
    pub fn display(&self) -> String {
        chain(self.outer_display(), &self.members)
    }

    /// The root-relative text: what fingerprints, baselines and config globs use.
    ///
    /// ```
    /// use leadey_scan::origin::Origin;
    /// let abs = Origin::file("/home/me/repo/src/a.rs".into(), "src/a.rs".into());
    /// let dot = Origin::file("src/a.rs".into(), "src/a.rs".into());
    /// assert_eq!(abs.relative(), dot.relative());
    /// ```
    pub fn relative(&self) -> String {
        chain(self.outer_relative(), &self.members)
    }

    /// Whether the bytes came from standard input.
    pub fn is_stdin(&self) -> bool {
        self.root == Root::Stdin
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

fn chain(outer: &str, members: &[String]) -> String {
    let mut s =
        String::with_capacity(outer.len() + members.iter().map(|m| m.len() + 1).sum::<usize>());
    s.push_str(outer);
    for m in members {
        s.push(MEMBER_SEPARATOR);
        s.push_str(m);
    }
    s
}

/// Raw path bytes as display text: bytes that are not UTF-8 written as `\xNN`, so that the text
/// is lossless and safe for JSON. Shared by file paths and git paths.
///
/// ```
/// assert_eq!(leadey_scan::origin::display_bytes(b"a/\xffb"), "a/\\xFFb");
/// ```
pub fn display_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// The display form of a path: `/`-separated, `./` dropped at the front, and bytes that are not
/// UTF-8 written as `\xNN` (see `display_bytes`).
///
/// ```
/// use std::path::Path;
/// assert_eq!(leadey_scan::origin::display_path(Path::new("./a/b.txt")), "a/b.txt");
/// ```
pub fn display_path(path: &Path) -> String {
    let text = path_text(path);
    let mut s = text.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    if s.is_empty() {
        ".".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(unix)]
fn path_text(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    display_bytes(path.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn path_text(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The root of a scan: what origins, config globs and baseline paths are relative to, and where
/// `.leadey-scan.toml` is looked for. The only PATH when exactly one is given and it is a
/// directory; otherwise the current directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRoot {
    /// The root as given (`.` for the current directory).
    pub path: PathBuf,
    /// Lexical absolute form of the root, `/`-separated.
    abs: Option<String>,
    /// Lexical absolute form of the current directory.
    cwd: Option<String>,
}

impl ScanRoot {
    /// The root of a scan of `paths`.
    pub fn of(paths: &[PathBuf]) -> ScanRoot {
        let path = match paths {
            [only] if only.as_os_str() != STDIN_ARG && only.is_dir() => only.clone(),
            _ => PathBuf::from("."),
        };
        let cwd = std::env::current_dir()
            .ok()
            .map(|d| normalize(&display_path(&d)));
        ScanRoot::new(path, cwd)
    }

    /// A root at `path`, with `cwd` (display form) as the current directory.
    pub fn new(path: PathBuf, cwd: Option<String>) -> ScanRoot {
        let abs = cwd.as_deref().map(|c| absolute(&display_path(&path), c));
        ScanRoot { path, abs, cwd }
    }

    /// `path` (a display path) relative to the root, `/`-separated; unchanged when it is not
    /// below the root.
    ///
    /// ```
    /// use leadey_scan::origin::ScanRoot;
    /// let root = ScanRoot::new("repo".into(), Some("/home/me".into()));
    /// assert_eq!(root.relative("repo/src/a.rs"), "src/a.rs");
    /// assert_eq!(root.relative("/home/me/repo/src/a.rs"), "src/a.rs");
    /// assert_eq!(root.relative("other/a.rs"), "other/a.rs");
    /// ```
    pub fn relative(&self, path: &str) -> String {
        let (Some(abs), Some(cwd)) = (&self.abs, &self.cwd) else {
            return path.to_string();
        };
        let p = absolute(path, cwd);
        let rest = if abs == "/" {
            p.strip_prefix('/')
        } else {
            p.strip_prefix(abs.as_str())
                .and_then(|r| r.strip_prefix('/'))
        };
        match rest {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => path.to_string(),
        }
    }

    /// The origin of the file shown as `display` (a display path from a walk of this root).
    pub fn file_origin(&self, display: String) -> Origin {
        let relative = self.relative(&display);
        Origin::file(display, relative)
    }
}

/// `path` made absolute against `cwd` and normalized lexically (`.` and `..` resolved).
fn absolute(path: &str, cwd: &str) -> String {
    if Path::new(path).is_absolute() || path.starts_with('/') {
        normalize(path)
    } else {
        normalize(&format!("{cwd}/{path}"))
    }
}

/// Splits an absolute display path into its root (`/`, `//`, `C:/`) and the rest.
pub(crate) fn split_root(path: &str) -> (&str, &str) {
    if let Some(rest) = path.strip_prefix("//") {
        return ("//", rest);
    }
    if let Some(rest) = path.strip_prefix('/') {
        return ("/", rest);
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b.first().is_some_and(u8::is_ascii_alphabetic) && b.get(1) == Some(&b':') {
        let rest = path.get(2..).unwrap_or_default();
        let root = path.get(..2).unwrap_or_default();
        return (root, rest.strip_prefix('/').unwrap_or(rest));
    }
    ("", path)
}

/// Drops empty and `.` segments (shared with SARIF URIs) and resolves `..` lexically (never above the root).
pub(crate) fn normalize(path: &str) -> String {
    let (root, rest) = split_root(path);
    let mut parts: Vec<&str> = Vec::new();
    for seg in rest.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let sep = if root.ends_with(':') { "/" } else { "" };
    format!("{root}{sep}{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_path_drops_dot_slash_and_escapes_invalid_bytes() {
        assert_eq!(display_path(Path::new("./x")), "x");
        assert_eq!(display_path(Path::new(".")), ".");
        assert_eq!(display_path(Path::new("dir/./x")), "dir/./x");
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(b"a\xFFb"));
            assert_eq!(display_path(p), "a\\xFFb");
        }
    }

    #[test]
    fn spellings_of_one_root_give_one_relative_text() {
        let cwd = Some("/home/me/repo".to_string());
        let dot = ScanRoot::new(".".into(), cwd.clone());
        let abs = ScanRoot::new("/home/me/repo".into(), cwd);
        let parent = ScanRoot::new("repo".into(), Some("/home/me".into()));
        let a = dot.file_origin("src/a.rs".into());
        let b = abs.file_origin("/home/me/repo/src/a.rs".into());
        let c = parent.file_origin("repo/src/a.rs".into());
        assert_eq!(a.relative(), "src/a.rs");
        assert_eq!(b.relative(), "src/a.rs");
        assert_eq!(c.relative(), "src/a.rs");
        assert_eq!(c.display(), "repo/src/a.rs");
    }

    #[test]
    fn members_chain_after_the_outer_input() {
        let o = Origin::git("dist/a.tar.gz".into(), Some("ab".repeat(20)))
            .with_members(&["lib/b.jar".into(), "app.properties".into()]);
        assert_eq!(o.display(), "dist/a.tar.gz!lib/b.jar!app.properties");
        assert_eq!(o.outer_display(), "dist/a.tar.gz");
        assert_eq!(o.relative(), o.display());
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["source"], "git");
        assert_eq!(json["path"], "dist/a.tar.gz");
        assert_eq!(json["members"][1], "app.properties");
    }

    #[test]
    fn stdin_is_its_own_root() {
        let o = Origin::stdin();
        assert!(o.is_stdin());
        assert_eq!(o.display(), STDIN_DISPLAY);
        assert_eq!(serde_json::to_value(&o).unwrap()["source"], "stdin");
        assert!(!Origin::file(STDIN_DISPLAY.into(), STDIN_DISPLAY.into()).is_stdin());
    }

    #[test]
    fn file_origins_serialize_the_relative_path_only() {
        let o = Origin::file("/abs/repo/a.txt".into(), "a.txt".into());
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"source":"file","path":"a.txt","members":[]}"#
        );
    }
}

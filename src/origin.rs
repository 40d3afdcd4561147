//! Origins (#12): where scanned bytes came from, for every input the scanner reads. An
//! `Origin` is a root (a file below the scan root, standard input, or a path in a git
//! repository) plus a chain of members (a file inside an archive inside that root: empty until
//! unpackers arrive). It has one canonical display (`dist/app.tar.gz!pkg/config.env`) and one
//! root-relative text, which fingerprints, baselines and config globs use whatever the spelling
//! of the scan root. Also owns the display form of raw path bytes (`DisplayPath`: the text and
//! the bytes it stands for) and the scan root. Pure data: no I/O beyond reading the current
//! directory once in `ScanRoot::of`.

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
        /// key-shaped runs masked: what reports show (`path` in JSON), with its bytes.
        #[serde(skip)]
        display: DisplayPath,
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
        display: DisplayPath,
        /// Repository-relative path, `/`-separated, key-shaped runs masked.
        path: DisplayPath,
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
    /// A file of a tree: `display` as reports show it (its bytes are the text's: see
    /// `file_at` for a path with its own bytes), `relative` to the scan root.
    pub fn file(display: String, relative: String) -> Origin {
        Origin::file_at(DisplayPath::from_text(display), relative)
    }

    /// A file of a tree shown as `display`, `relative` to the scan root.
    pub fn file_at(display: DisplayPath, relative: String) -> Origin {
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

    /// The blob at repository path `path` (display form), in `commit` when known. Its bytes
    /// are read back from the `\xNN` escapes of the text (`DisplayPath::from_escaped`): git
    /// paths reach the origin as text only so far.
    pub fn git(path: String, commit: Option<String>) -> Origin {
        Origin::git_shown(path.clone(), path, commit)
    }

    /// `Origin::git`, shown as `display` (the path relative to the current directory, #20).
    pub fn git_shown(display: String, path: String, commit: Option<String>) -> Origin {
        Origin {
            root: Root::Git {
                display: DisplayPath::from_escaped(display),
                path: DisplayPath::from_escaped(path),
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
        self.outer_path().map_or(STDIN_DISPLAY, DisplayPath::as_str)
    }

    /// The outermost input's path, text and bytes; `None` for standard input.
    pub fn outer_path(&self) -> Option<&DisplayPath> {
        match &self.root {
            Root::File { display, .. } | Root::Git { display, .. } => Some(display),
            Root::Stdin => None,
        }
    }

    /// The outermost input relative to the scan root (or the repository root for git).
    pub fn outer_relative(&self) -> &str {
        match &self.root {
            Root::File { path, .. } => path,
            Root::Git { path, .. } => path.as_str(),
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

/// A path as reports show it, with the bytes it stands for (#23). The text writes bytes that
/// are not UTF-8 as `\xNN` (`display_bytes`) and masks key-shaped runs; the bytes are the
/// path's own (masked the same way), so that a file named with the byte 0xFF and one literally
/// named `a\xFFb` (backslash, x, F, F) stay apart where bytes matter (SARIF URIs). Compares,
/// orders and serializes as its text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DisplayPath {
    text: String,
    /// The bytes, when they are not the text's own.
    raw: Option<Box<[u8]>>,
}

impl DisplayPath {
    /// A path whose bytes are those of `text`.
    pub fn from_text(text: String) -> DisplayPath {
        DisplayPath { text, raw: None }
    }

    /// The path of raw bytes `raw` (as found on disk, in git or in an archive).
    ///
    /// ```
    /// use leadey_scan::origin::DisplayPath;
    /// let p = DisplayPath::from_bytes(b"a\xffb");
    /// assert_eq!((p.as_str(), p.as_bytes()), ("a\\xFFb", &b"a\xffb"[..]));
    /// let q = DisplayPath::from_bytes(b"a\\xFFb");
    /// assert_eq!((q.as_str(), q.as_bytes()), ("a\\xFFb", &b"a\\xFFb"[..]));
    /// ```
    pub fn from_bytes(raw: &[u8]) -> DisplayPath {
        DisplayPath::with_bytes(display_bytes(raw), raw)
    }

    /// The display path of `path`: `/`-separated, `./` dropped at the front (`.` when nothing is
    /// left), bytes that are not UTF-8 written as `\xNN` in the text and kept in the bytes.
    pub fn from_path(path: &Path) -> DisplayPath {
        let (text, raw) = path_parts(path);
        let mut text = text.as_str();
        let mut raw = raw.as_slice();
        while let (Some(t), Some(r)) = (text.strip_prefix("./"), raw.strip_prefix(b"./")) {
            (text, raw) = (t, r);
        }
        if text.is_empty() {
            return DisplayPath::from_text(".".to_string());
        }
        DisplayPath::with_bytes(text.to_string(), raw)
    }

    /// A path from a display text whose `\xNN` escapes (two upper-case hex digits, as
    /// `display_bytes` writes them) stand for bytes. Lossy: a name that literally contains
    /// `\xFF` is read as the byte; only for paths that reach this point as text.
    pub fn from_escaped(text: String) -> DisplayPath {
        let raw = unescape_display(&text);
        DisplayPath::with_bytes(text, &raw)
    }

    fn with_bytes(text: String, raw: &[u8]) -> DisplayPath {
        let raw = (raw != text.as_bytes()).then(|| raw.into());
        DisplayPath { text, raw }
    }

    /// This path with `redact` (which masks key-shaped runs of text) applied to the text, and
    /// the same runs masked in the bytes. Each UTF-8 piece of the bytes is masked alone; in the
    /// rare case that does not give the masked text back (a run across a byte that is not
    /// UTF-8), the bytes are read back from the masked text's escapes instead, so no key
    /// reaches them either way.
    pub fn redacted(self, redact: impl Fn(&str) -> String) -> DisplayPath {
        let text = redact(&self.text);
        if text == self.text {
            return self;
        }
        let Some(raw) = self.raw else {
            return DisplayPath::from_text(text);
        };
        let mut masked = Vec::with_capacity(raw.len());
        for chunk in raw.utf8_chunks() {
            masked.extend_from_slice(redact(chunk.valid()).as_bytes());
            masked.extend_from_slice(chunk.invalid());
        }
        if display_bytes(&masked) == text {
            DisplayPath::with_bytes(text, &masked)
        } else {
            DisplayPath::from_escaped(text)
        }
    }

    /// The text reports show.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The bytes the text stands for.
    pub fn as_bytes(&self) -> &[u8] {
        self.raw.as_deref().unwrap_or(self.text.as_bytes())
    }

    /// The text.
    pub fn into_string(self) -> String {
        self.text
    }
}

impl fmt::Display for DisplayPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for DisplayPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// The bytes of a display text: `\xNN` (two upper-case hex digits) becomes that byte.
fn unescape_display(path: &str) -> Vec<u8> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            let hex = bytes
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex
                .filter(|h| {
                    h.bytes()
                        .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
                })
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Raw path bytes as display text: bytes that are not UTF-8 written as `\xNN`, so that the text
/// is safe for JSON (the bytes themselves travel in `DisplayPath`). Shared by file paths and
/// git paths.
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
    DisplayPath::from_path(path).into_string()
}

/// The display text of `path` and its bytes.
#[cfg(unix)]
fn path_parts(path: &Path) -> (String, Vec<u8>) {
    use std::os::unix::ffi::OsStrExt;
    let raw = path.as_os_str().as_bytes();
    (display_bytes(raw), raw.to_vec())
}

/// The display text of `path` and its bytes (those of the text: `/`-separated, lossy).
#[cfg(not(unix))]
fn path_parts(path: &Path) -> (String, Vec<u8>) {
    let text = path.to_string_lossy().replace('\\', "/");
    let raw = text.as_bytes().to_vec();
    (text, raw)
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
        self.path_origin(DisplayPath::from_text(display))
    }

    /// The origin of the walked file at `path`, `redact` masking key-shaped runs of its display
    /// path (text and bytes).
    pub fn origin_of(&self, path: &Path, redact: impl Fn(&str) -> String) -> Origin {
        self.path_origin(DisplayPath::from_path(path).redacted(redact))
    }

    fn path_origin(&self, display: DisplayPath) -> Origin {
        let relative = self.relative(display.as_str());
        Origin::file_at(display, relative)
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

/// Splits the bytes of an absolute display path into its root (`/`, `//`, `C:`) and the rest.
pub(crate) fn split_root(path: &[u8]) -> (&[u8], &[u8]) {
    if path.starts_with(b"//") {
        return path.split_at(2);
    }
    if path.starts_with(b"/") {
        return path.split_at(1);
    }
    if let [drive, b':', ..] = path {
        if drive.is_ascii_alphabetic() {
            let (root, rest) = path.split_at(2);
            return (root, rest.strip_prefix(b"/").unwrap_or(rest));
        }
    }
    (&[], path)
}

/// Drops empty and `.` segments and resolves `..` lexically (never above the root), on the
/// bytes of a display path (shared with SARIF URIs).
pub(crate) fn normalize_bytes(path: &[u8]) -> Vec<u8> {
    let (root, rest) = split_root(path);
    let mut parts: Vec<&[u8]> = Vec::new();
    for seg in rest.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = root.to_vec();
    if root.ends_with(b":") {
        out.push(b'/');
    }
    out.extend_from_slice(&parts.join(&b'/'));
    out
}

/// `normalize_bytes` of a display text.
pub(crate) fn normalize(path: &str) -> String {
    String::from_utf8(normalize_bytes(path.as_bytes()))
        .expect("invariant: cutting UTF-8 text at `/` and joining the pieces keeps it UTF-8")
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

    #[test]
    fn display_paths_keep_their_bytes_and_mask_them_with_the_text() {
        let byte = DisplayPath::from_bytes(b"a\xFFb");
        let text = DisplayPath::from_bytes(b"a\\xFFb");
        assert_eq!(byte.as_str(), text.as_str());
        assert_eq!(byte.as_bytes(), b"a\xFFb");
        assert_eq!(text.as_bytes(), b"a\\xFFb");
        assert_eq!(
            DisplayPath::from_escaped("a\\xFFb".into()).as_bytes(),
            b"a\xFFb"
        );
        assert_eq!(serde_json::to_value(&byte).unwrap(), "a\\xFFb");

        let mask = |t: &str| t.replace("KEY123", "K••");
        let p = DisplayPath::from_bytes(b"\xFEKEY123/x").redacted(mask);
        assert_eq!(p.as_str(), "\\xFEK••/x");
        assert_eq!(p.as_bytes(), [b"\xFE", "K••/x".as_bytes()].concat());
        // A masked run across the escape: the bytes follow the masked text, never the key.
        let across = |t: &str| t.replace("FEKEY", "•");
        let p = DisplayPath::from_bytes(b"\xFEKEY123").redacted(across);
        assert_eq!(p.as_str(), "\\x•123");
        assert_eq!(p.as_bytes(), "\\x•123".as_bytes());
        let plain = DisplayPath::from_text("KEY123".into()).redacted(mask);
        assert_eq!(plain.as_bytes(), "K••".as_bytes());
    }

    #[cfg(unix)]
    #[test]
    fn display_paths_of_paths_drop_dot_slash_in_text_and_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let p = DisplayPath::from_path(Path::new(std::ffi::OsStr::from_bytes(b"././d/\xFF")));
        assert_eq!(p.as_str(), "d/\\xFF");
        assert_eq!(p.as_bytes(), b"d/\xFF");
        assert_eq!(DisplayPath::from_path(Path::new("./")).as_str(), ".");
    }
}

//! What a scan left out on purpose, and why (`Skip`, `SkipReason`), and what it could not read
//! (`FileError`): records of the report like `Finding`, shared by the sources (fifos, links, `--exclude`, `--max-filesize`) and the
//! unpackers (limits, damage, encryption), so it sits below both (#23). Pure data; never prints.

use serde::Serialize;

use crate::origin::Origin;

/// A file left out on purpose, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skip {
    /// Display path (`Origin::display`).
    pub path: String,
    /// Where, structured (#12).
    pub origin: Origin,
    /// Why, as a stable lowercase word.
    pub reason: SkipReason,
}

impl Skip {
    /// `origin` left out for `reason`.
    pub fn new(origin: Origin, reason: SkipReason) -> Skip {
        Skip {
            path: origin.display(),
            origin,
            reason,
        }
    }
}

/// Why a path was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// A named pipe: reading could block forever.
    Fifo,
    /// A socket.
    Socket,
    /// A block or character device.
    Device,
    /// A symbolic link, not followed without `--follow`.
    Symlink,
    /// Larger than `--max-filesize`.
    TooLarge,
    /// Matched an `--exclude` glob.
    Excluded,
    /// Some other kind of file.
    NotAFile,
    /// An archive nested deeper than `--max-archive-depth` (#13): scanned as raw bytes.
    ArchiveTooDeep,
    /// `--max-archive-bytes` reached (#13): the rest of the archive was not read.
    ArchiveTooLarge,
    /// More members than an archive may have (#13): the rest were not read.
    TooManyMembers,
    /// An encrypted archive member (#13).
    Encrypted,
    /// A zip nested in another archive (or read from a stream) larger than the zip buffer (#13).
    ZipTooLarge,
    /// #20: an archive or compressed stream whose structure is damaged (a bad header, checksum
    /// or compressed block): what came before the damage was scanned, the rest was not.
    Corrupt,
    /// #20: an archive or compressed stream that ends before its structure does (a cut
    /// download, a deliberately truncated test file): what came before the end was scanned.
    Truncated,
    /// #20: an archive or compressed stream in a variant the scanner does not read (a zip
    /// compression method, a zstd window or xz dictionary over the memory limit): not unpacked.
    Unsupported,
}

impl SkipReason {
    /// Whether this is an archive member or archive part left unread (#13): warned about on
    /// stderr even without `--list-skipped`, since keys may hide there.
    pub fn is_archive_limit(self) -> bool {
        matches!(
            self,
            SkipReason::ArchiveTooDeep
                | SkipReason::ArchiveTooLarge
                | SkipReason::TooManyMembers
                | SkipReason::Encrypted
                | SkipReason::ZipTooLarge
                | SkipReason::Corrupt
                | SkipReason::Truncated
                | SkipReason::Unsupported
        )
    }

    /// Whether the content was read as bytes but its structure not fully opened (#20): damaged,
    /// truncated, encrypted, over a limit, or an unsupported codec. Incomplete content is always
    /// listed in the report; `--fail-on-incomplete` (and `--release`) make it exit 2.
    pub fn is_incomplete(self) -> bool {
        self.is_archive_limit()
    }

    /// The user-facing explanation.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Fifo => "named pipe (fifo), not read",
            SkipReason::Socket => "socket, not read",
            SkipReason::Device => "device, not read",
            SkipReason::Symlink => "symbolic link, not followed (use --follow)",
            SkipReason::TooLarge => "larger than --max-filesize",
            SkipReason::Excluded => "matches an --exclude glob",
            SkipReason::NotAFile => "not a regular file",
            SkipReason::ArchiveTooDeep => {
                "archive nested deeper than --max-archive-depth: scanned as raw bytes, not unpacked"
            }
            SkipReason::ArchiveTooLarge => {
                "--max-archive-bytes of inflated data reached: the rest of the archive was not read"
            }
            SkipReason::TooManyMembers => {
                "archive has more members than the limit: the rest were not read"
            }
            SkipReason::Encrypted => "encrypted archive member, not read",
            SkipReason::ZipTooLarge => {
                "container that needs random access (a zip, PDF, executable or compiled file) read from a stream or another archive is larger than the zip buffer limit: not unpacked, its raw bytes scanned"
            }
            SkipReason::Corrupt => {
                "archive or compressed stream is damaged: scanned up to the damage, the rest was not read"
            }
            SkipReason::Truncated => {
                "archive or compressed stream ends early (truncated): scanned up to where it ends"
            }
            SkipReason::Unsupported => {
                "archive or compressed stream uses a method or setting the scanner does not read: not unpacked"
            }
        }
    }
}

/// A path that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FileError {
    /// Display path (`Origin::display`; empty when the walker named no path).
    pub path: String,
    /// Where, structured (#12); `None` when the walker named no path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// What went wrong, without any bytes read from the file.
    pub message: String,
}

impl FileError {
    /// The error `message` about `origin` (`None`: an error the walker could not place).
    pub fn new(origin: Option<Origin>, message: String) -> FileError {
        FileError {
            path: origin.as_ref().map(Origin::display).unwrap_or_default(),
            origin,
            message,
        }
    }
}

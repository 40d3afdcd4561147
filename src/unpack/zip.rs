//! zip (and jar, wheel, docx, apk, …): the central directory is at the end, so it is read with
//! random access. Encrypted members are skipped; members with a compression method we do not
//! read (other than stored, deflate, bzip2, xz) are `unsupported` (#20).
//!
//! #22: a zip may follow a prefix (a self-extracting installer's shell or executable stub, a
//! `.pyz` shebang, a CRX3 header; `unpack::locate` finds it from its end). The zip reader finds
//! the prefix from the end-of-central-directory record; the prefix is then scanned as the
//! blob's own bytes (`Visit::prefix`), so a key in the stub is named by the blob itself.

use std::io::{self, Read};

use ::zip::result::ZipError;

use super::{Format, Issue, ReadSeek, Reader, Visit};
use crate::skip::SkipReason;

/// The zip format.
pub const FORMAT: Format = Format {
    name: "zip",
    sniff: |head| head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06"),
    reader: Reader::Seekable(members),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// Walks the members of the zip archive `reader`, then scans the bytes before the zip, if any.
fn members(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) {
    let prefix = walk(&mut *reader, visit);
    if prefix > 0 {
        match reader.seek(io::SeekFrom::Start(0)) {
            Ok(_) => visit.own_bytes(&mut reader.take(prefix)),
            Err(e) => visit.issue(None, Issue::Error(e)),
        }
    }
}

/// Walks the members of the zip archive `reader`; returns how many bytes precede the zip.
fn walk(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) -> u64 {
    let mut archive = match ::zip::ZipArchive::new(reader) {
        Ok(a) => a,
        Err(e) => {
            visit.issue(None, Issue::Error(error(e)));
            return 0;
        }
    };
    let prefix = archive.offset();
    for i in 0..archive.len() {
        let (name, size, encrypted) = match archive.by_index_raw(i) {
            Ok(f) => {
                if f.is_dir() || f.is_symlink() {
                    continue;
                }
                (f.name_raw().to_vec(), f.size(), f.encrypted())
            }
            Err(e) => {
                visit.issue(None, Issue::Error(error(e)));
                continue;
            }
        };
        if !visit.has_room() {
            visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
            return prefix;
        }
        if encrypted {
            visit.issue(Some(&name), Issue::Skip(SkipReason::Encrypted));
            continue;
        }
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                visit.issue(Some(&name), Issue::Error(error(e)));
                continue;
            }
        };
        if visit.member(&name, Some(size), &mut file).is_break() {
            return prefix;
        }
    }
    prefix
}

/// `e` as an I/O error whose kind says what it is: `Unsupported` for a method or variant we do
/// not read, `InvalidData` for damage.
fn error(e: ZipError) -> io::Error {
    match e {
        ZipError::Io(e) => e,
        ZipError::UnsupportedArchive(_) | ZipError::CompressionMethodNotSupported(_) => {
            io::Error::new(io::ErrorKind::Unsupported, e.to_string())
        }
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

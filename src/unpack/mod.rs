//! Unpackers (#13): blob in, member blobs out, with limits. Owns recognising archives and
//! compressed streams by their first bytes (never by name), the decoders of single compressed
//! streams (gzip, bzip2, xz, zstd), and walking the members of containers (tar, zip). Knows
//! nothing of rules, detection or reports: `blob::Scanner` drives it and scans what comes out.
//! Never writes to disk (member names are only names; links are not followed), never prints.

pub mod image;

use std::io::{self, Read, Seek};
use std::ops::ControlFlow;

use crate::source::SkipReason;

/// How many leading bytes `sniff` needs to recognise every format (tar's magic ends at 262).
pub const SNIFF_BYTES: usize = 263;

/// Memory an xz block's dictionary may take, in KiB: larger ones are refused (a hostile header
/// cannot make the decoder allocate gigabytes). `xz -9` uses 64 MiB.
pub const XZ_MEM_LIMIT_KIB: u32 = 256 * 1024;

/// A format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// gzip (RFC 1952), possibly several members concatenated.
    Gzip,
    /// bzip2.
    Bzip2,
    /// xz.
    Xz,
    /// Zstandard.
    Zstd,
    /// zip (and jar, wheel, docx, apk, …).
    Zip,
    /// POSIX or GNU tar (`ustar` magic at offset 257).
    Tar,
}

impl Format {
    /// Whether this is a single compressed stream (its content is one blob).
    pub fn is_stream(self) -> bool {
        matches!(
            self,
            Format::Gzip | Format::Bzip2 | Format::Xz | Format::Zstd
        )
    }

    /// The lowercase name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
            Format::Xz => "xz",
            Format::Zstd => "zstd",
            Format::Zip => "zip",
            Format::Tar => "tar",
        }
    }
}

/// The format `head` (the first bytes of a blob) starts with, if any.
///
/// ```
/// use leadey_scan::unpack::{sniff, Format};
/// assert_eq!(sniff(b"\x1f\x8b\x08\0\0\0\0\0\0\x03"), Some(Format::Gzip));
/// assert_eq!(sniff(b"PK\x03\x04rest"), Some(Format::Zip));
/// assert_eq!(sniff(b"BZh is not enough"), None);
/// assert_eq!(sniff(b"plain text"), None);
/// ```
pub fn sniff(head: &[u8]) -> Option<Format> {
    const BZ_BLOCK: &[u8] = b"\x31\x41\x59\x26\x53\x59";
    const BZ_END: &[u8] = b"\x17\x72\x45\x38\x50\x90";
    match head {
        [0x1f, 0x8b, 0x08, ..] => return Some(Format::Gzip),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => return Some(Format::Xz),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => return Some(Format::Zstd),
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => return Some(Format::Zip),
        [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..]
            if rest.starts_with(BZ_BLOCK) || rest.starts_with(BZ_END) =>
        {
            return Some(Format::Bzip2)
        }
        _ => {}
    }
    let magic = head.get(257..262)?;
    (magic == b"ustar").then_some(Format::Tar)
}

/// The decoder of stream format `format` over `reader`.
pub fn decoder<'r, R: Read + 'r>(format: Format, reader: R) -> io::Result<Box<dyn Read + 'r>> {
    Ok(match format {
        Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        Format::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            reader,
            true,
            XZ_MEM_LIMIT_KIB,
        )),
        Format::Zstd => Box::new(
            ruzstd::decoding::StreamingDecoder::new(reader)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
        ),
        Format::Zip | Format::Tar => {
            return Err(io::Error::other(format!(
                "{} is a container, not a stream",
                format.name()
            )))
        }
    })
}

/// The file name a gzip header records (`gzip` and Python store it), as raw bytes.
pub fn gzip_name(head: &[u8]) -> Option<Vec<u8>> {
    let decoder = flate2::read::GzDecoder::new(head);
    let name = decoder.header()?.filename()?;
    (!name.is_empty()).then(|| name.to_vec())
}

/// Receives what a container holds.
pub trait Visit {
    /// A member with content: `name` as raw bytes, `size` in bytes when the header says.
    /// `Break` stops the walk (a limit was reached).
    fn member(&mut self, name: &[u8], size: Option<u64>, reader: &mut dyn Read) -> ControlFlow<()>;

    /// A member left out (`Skip`) or unreadable (`Error`); `name` is `None` for the container
    /// itself (it is corrupt or truncated from here on).
    fn issue(&mut self, name: Option<&[u8]>, issue: Issue);

    /// Whether another member may be read (the member-count limit): called before each one.
    fn has_room(&mut self) -> bool;
}

/// Something a container could not give.
#[derive(Debug)]
pub enum Issue {
    /// Left out on purpose.
    Skip(SkipReason),
    /// Could not be read.
    Error(io::Error),
}

/// Walks the members of the tar archive `reader`. Directories, links (symbolic and hard),
/// devices and FIFOs hold no content and are passed over; nothing is extracted.
pub fn tar_members<R: Read>(reader: R, visit: &mut dyn Visit) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return visit.issue(None, Issue::Error(e)),
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => return visit.issue(None, Issue::Error(e)),
        };
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse()) {
            continue;
        }
        if !visit.has_room() {
            return visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
        }
        let name = entry.path_bytes().into_owned();
        let size = entry.size();
        if visit.member(&name, Some(size), &mut entry).is_break() {
            return;
        }
    }
}

/// Walks the members of the zip archive `reader` (zip needs random access: the central
/// directory is at the end). Encrypted members are skipped; members with a compression method
/// we do not read (other than stored, deflate, bzip2, xz) are errors naming the member.
pub fn zip_members<R: Read + Seek>(reader: R, visit: &mut dyn Visit) {
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(a) => a,
        Err(e) => return visit.issue(None, Issue::Error(zip_error(e))),
    };
    for i in 0..archive.len() {
        let (name, size, encrypted) = match archive.by_index_raw(i) {
            Ok(f) => {
                if f.is_dir() || f.is_symlink() {
                    continue;
                }
                (f.name_raw().to_vec(), f.size(), f.encrypted())
            }
            Err(e) => {
                visit.issue(None, Issue::Error(zip_error(e)));
                continue;
            }
        };
        if !visit.has_room() {
            return visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
        }
        if encrypted {
            visit.issue(Some(&name), Issue::Skip(SkipReason::Encrypted));
            continue;
        }
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                visit.issue(Some(&name), Issue::Error(zip_error(e)));
                continue;
            }
        };
        if visit.member(&name, Some(size), &mut file).is_break() {
            return;
        }
    }
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_is_recognised_by_its_magic_at_257_only() {
        let mut head = vec![b'x'; 512];
        assert_eq!(sniff(&head), None);
        head[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&head), Some(Format::Tar));
        assert_eq!(sniff(&head[..261]), None);
    }

    #[test]
    fn streams_are_recognised_by_their_magic() {
        assert_eq!(sniff(b"\xfd7zXZ\0\0\x04"), Some(Format::Xz));
        assert_eq!(sniff(b"\x28\xb5\x2f\xfd\x24"), Some(Format::Zstd));
        assert_eq!(
            sniff(b"BZh91AY&SY\0\0\0\0"),
            Some(Format::Bzip2),
            "bzip2 with its block magic"
        );
        assert_eq!(sniff(b"BZh9 text"), None);
        assert_eq!(sniff(b"\x1f\x8b"), None, "too short");
        assert_eq!(sniff(b""), None);
    }
}

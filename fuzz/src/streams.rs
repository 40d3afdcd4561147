//! Fuzz body `streams` (#22): the embedded-stream and codec unpackers (zlib, git packs and
//! bundles, LZ4, brotli, PDF, PyInstaller and PYZ) on arbitrary bytes. The first byte picks
//! the format, the rest is the blob, unpacked with small limits through a scanner with the
//! built-in rules. Properties: no panic, no hang (every limit small), members named, and no
//! message or member name shows a key the blob holds.

use std::io::{self, Read};

use leadey_scan::config::ArchiveLimits;
use leadey_scan::origin::display_bytes;
use leadey_scan::source::{read_head, scan_stream_after};
use leadey_scan::unpack::{unpack_bytes, Head, IssueKind, Scan, FORMATS};

/// The formats this body drives, by name.
const NAMES: &[&str] = &[
    "zlib",
    "git-pack",
    "git-bundle",
    "lz4",
    "brotli",
    "pdf",
    "pyinstaller",
    "pyz",
];

const CHUNK_BYTES: usize = 4096;

/// A scanner with the built-in rules, leaving out members over 1 MiB.
struct Scanner;

impl Scan for Scanner {
    fn read_head(&self, reader: &mut dyn Read, buf: &mut Vec<u8>) -> io::Result<Head> {
        read_head(reader, super::builtin(), buf, CHUNK_BYTES)
    }

    fn scan_plain(
        &self,
        reader: &mut dyn Read,
        buf: &mut Vec<u8>,
        head: Head,
    ) -> io::Result<leadey_scan::unpack::Plain> {
        let scan = scan_stream_after(reader, super::builtin(), buf, CHUNK_BYTES, Some(head))?;
        Ok((scan.hits, scan.binary, Vec::new()))
    }

    fn redact(&self, text: &str) -> String {
        super::builtin().redact(text).into_owned()
    }

    fn display_name(&self, raw: &[u8]) -> String {
        super::builtin().redact(&display_bytes(raw)).into_owned()
    }

    fn is_too_large(&self, size: u64) -> bool {
        size > 1 << 20
    }
}

/// The unpackers of #22 on arbitrary bytes.
pub fn streams(data: &[u8]) {
    let Some((&pick, blob)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let format = *FORMATS
        .iter()
        .find(|f| f.name == name)
        .expect("every name is a format");
    let limits = ArchiveLimits {
        max_depth: 3,
        max_inflated_bytes: 4 << 20,
        max_members: 200,
        max_zip_buffer_bytes: 2 << 20,
    };
    let mut buf = Vec::new();
    let unpacked = unpack_bytes(&Scanner, &limits, format, blob, 0, &mut buf);
    let detector = super::builtin();
    for hit in &unpacked.hits {
        for member in &hit.members {
            assert!(
                detector.scan(member.as_bytes()).is_empty(),
                "a key in a name"
            );
        }
    }
    for issue in &unpacked.issues {
        for member in &issue.members {
            assert!(
                detector.scan(member.as_bytes()).is_empty(),
                "a key in a name"
            );
        }
        if let IssueKind::Error(message) = &issue.kind {
            assert!(
                detector.scan(message.as_bytes()).is_empty(),
                "a key in a message"
            );
        }
    }
}

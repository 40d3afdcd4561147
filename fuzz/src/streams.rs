//! Fuzz body `streams` (#22): the embedded-stream and codec unpackers (zlib, git packs and
//! bundles, LZ4, brotli, PDF, PyInstaller and PYZ) on arbitrary bytes. The first byte picks
//! the format, the rest is the blob, unpacked with small limits through a scanner with the
//! built-in rules. Properties: no panic, no hang (every limit small), members named, and no
//! message or member name shows a key the blob holds.

use leadey_scan::config::ArchiveLimits;
use leadey_scan::unpack::{unpack_bytes, IssueKind, FORMATS};

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

/// The scanner as the unpackers see it, with the built-in detector.
const SCANNER: super::BuiltinScan = super::BuiltinScan {
    chunk_bytes: CHUNK_BYTES,
    max_member_bytes: Some(1 << 20),
};

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
    let unpacked = unpack_bytes(&SCANNER, &limits, format, blob, 0, &mut buf);
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

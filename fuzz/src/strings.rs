//! Fuzz body `strings` (#22): the string-table readers of compiled artifacts (`.pyc`, Java
//! classes, dex, Android binary XML, `resources.arsc`, .NET `#US`) on arbitrary bytes, the first
//! byte choosing the reader so that every one is reached from any input. Properties: no panic;
//! the table's text stays within its budget (2 × input + 64 bytes) and has one line per
//! string; through the nesting driver (`unpack::unpack_bytes` with the built-in detector),
//! hits are in the blob itself or in the table's member, and every issue is an incomplete skip
//! of the blob itself (never an error: the blob is in memory).

use leadey_scan::config::ArchiveLimits;
use leadey_scan::unpack::{self, Format, IssueKind, Reader};

/// Chunks of 64 KiB: small enough that tables of the seeds span several.
const CHUNK_BYTES: usize = 1 << 16;

/// The scanner as the unpackers see it, with the built-in detector.
const SCANNER: super::BuiltinScan = super::BuiltinScan {
    chunk_bytes: CHUNK_BYTES,
    max_member_bytes: None,
};

/// The formats whose string tables are read.
fn formats() -> Vec<Format> {
    unpack::FORMATS
        .iter()
        .filter(|f| matches!(f.reader, Reader::Strings(_)))
        .copied()
        .collect()
}

/// A string-table reader on arbitrary bytes, alone and through the nesting driver.
pub fn strings(data: &[u8]) {
    let Some((&pick, blob)) = data.split_first() else {
        return;
    };
    let formats = formats();
    assert!(formats.len() >= 6, "every string-table format is reachable");
    let format = formats[usize::from(pick) % formats.len()];
    let Reader::Strings(parse) = format.reader else {
        unreachable!("filtered on Reader::Strings");
    };
    let table = parse(blob);
    assert!(table.text().len() <= 2 * blob.len() + 64, "{}", format.name);
    let lines = table.text().iter().filter(|&&b| b == b'\n').count();
    assert_eq!(lines, table.len(), "{}: one line per string", format.name);
    if let Some(reason) = table.incomplete {
        assert!(reason.is_incomplete(), "{}: {reason:?}", format.name);
    }

    let limits = ArchiveLimits::default();
    let mut buf = Vec::new();
    let out = unpack::unpack_bytes(&SCANNER, &limits, format, blob, 0, &mut buf);
    for hit in &out.hits {
        assert!(
            hit.members.is_empty() || hit.members == [table.member],
            "{}: {:?}",
            format.name,
            hit.members
        );
    }
    for issue in &out.issues {
        assert!(issue.members.is_empty(), "{issue:?}");
        match &issue.kind {
            IssueKind::Skip(reason) => assert!(reason.is_incomplete(), "{reason:?}"),
            IssueKind::Error(e) => panic!("{}: an error for bytes in memory: {e}", format.name),
        }
    }
}

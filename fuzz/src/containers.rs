//! #22: the body of fuzz target `containers`: the containers found after a header (ar, cpio,
//! RPM, adb backup, asar, xar, phar, and a zip after a stub) on arbitrary bytes.
//!
//! The first byte picks the header put in front of the rest (so that the fuzzer reaches each
//! parser without first guessing its magic): 0 none, 1 ar, 2 cpio newc, 3 cpio odc, 4 RPM,
//! 5 adb backup, 6 asar, 7 xar, 8 phar, 9 a shell stub (a zip found from the end). The input
//! is then scanned in memory (read in place) and as a stream (read front to back), with small
//! limits. Properties: no panic; every byte is counted; everything left unread is an
//! incomplete skip (or an error); on an input within the first chunk, both roads find the
//! same keys when neither left anything unread.

use leadey_scan::blob::Scanner;
use leadey_scan::config::ArchiveLimits;
use leadey_scan::source::Excludes;
use leadey_scan::unpack::IssueKind;

use super::builtin;

/// The fuzzed input with the header chosen by its first byte.
pub fn framed(data: &[u8]) -> Vec<u8> {
    let Some((&pick, rest)) = data.split_first() else {
        return Vec::new();
    };
    let mut out: Vec<u8> = match pick % 10 {
        1 => {
            b"!<arch>\ndebian-binary/  0           0     0     100644  4         `\n2.0\n".to_vec()
        }
        2 => b"070701".to_vec(),
        3 => b"070707".to_vec(),
        4 => {
            let mut lead = vec![0xed, 0xab, 0xee, 0xdb];
            lead.resize(96, 0);
            lead
        }
        5 => b"ANDROID BACKUP\n".to_vec(),
        6 => {
            let mut h = vec![4, 0, 0, 0];
            h.extend(rest.iter().take(12));
            h.resize(16, 0);
            h.extend_from_slice(b"{\"files\":");
            return [h, rest.get(12..).unwrap_or_default().to_vec()].concat();
        }
        7 => b"xar!\0\x1c\0\x01".to_vec(),
        8 => b"<?php __HALT_COMPILER(); ?>\n".to_vec(),
        9 => b"#!/bin/sh\nexit 0\n".to_vec(),
        _ => Vec::new(),
    };
    out.extend_from_slice(rest);
    out
}

/// The fuzz body.
pub fn containers(data: &[u8]) {
    let input = framed(data);
    let excludes = Excludes::new(&[]).expect("no globs compile");
    let scanner = Scanner {
        detector: builtin(),
        excludes: &excludes,
        max_filesize_bytes: None,
        chunk_size_bytes: 4096,
        archives: ArchiveLimits {
            max_depth: 3,
            max_inflated_bytes: 1 << 20,
            max_members: 64,
            max_zip_buffer_bytes: 1 << 20,
        },
    };
    let mut buf = Vec::new();
    let memory = scanner.scan_bytes(&input, 0, &mut buf);
    assert_eq!(memory.bytes, input.len() as u64, "every byte counted");
    let stream = scanner
        .scan_reader(&input[..], 0, &mut buf)
        .expect("reading a slice cannot fail");
    for scan in [&memory, &stream] {
        for issue in &scan.issues {
            if let IssueKind::Skip(reason) = &issue.kind {
                assert!(reason.is_incomplete(), "{reason:?} is incomplete");
            }
        }
    }
    // Within the first chunk both roads see the whole input (a longer stream is not looked at
    // from its end).
    if input.len() < 4096 && memory.issues.is_empty() && stream.issues.is_empty() {
        let keys = |s: &leadey_scan::source::StreamScan| {
            let mut k: Vec<_> = s
                .hits
                .iter()
                .map(|h| (h.members.clone(), h.line, h.column))
                .collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(&memory),
            keys(&stream),
            "both roads find the same keys"
        );
    }
}

//! POSIX and GNU tar (`ustar` magic at offset 257): members read in order. Directories, links
//! (symbolic and hard), devices and FIFOs hold no content and are passed over; nothing is
//! extracted. A tar may be a container image (`image`).

use std::io::Read;

use super::{Format, Issue, Reader, Visit};
use crate::skip::SkipReason;

/// The tar format.
pub const FORMAT: Format = Format {
    name: "tar",
    sniff: |head| head.get(257..262) == Some(b"ustar".as_slice()),
    reader: Reader::Sequential(members),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: true,
};

/// Walks the members of the tar archive `reader`.
fn members(reader: &mut dyn Read, visit: &mut dyn Visit) {
    let mut archive = ::tar::Archive::new(reader);
    // #22: read on past an end-of-archive marker: tars joined after it (an Alpine `.apk` is
    // three gzip'd tars, which the gzip reader gives as one stream) are read too.
    archive.set_ignore_zeros(true);
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

//! bzip2, possibly several streams concatenated. Recognised by its magic and the magic of its
//! first block (or of its end), so text starting with `BZh9` is not taken for it.

use std::io::{self, Read};

use super::{Format, Reader};

/// The bzip2 format.
pub const FORMAT: Format = Format {
    name: "bzip2",
    sniff,
    reader: Reader::Stream(decode),
    suffixes: &[(".tbz2", ".tar"), (".bz2", "")],
    content_name: |_| None,
    may_be_image: false,
};

fn sniff(head: &[u8]) -> bool {
    const BZ_BLOCK: &[u8] = b"\x31\x41\x59\x26\x53\x59";
    const BZ_END: &[u8] = b"\x17\x72\x45\x38\x50\x90";
    match head {
        [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..] => {
            rest.starts_with(BZ_BLOCK) || rest.starts_with(BZ_END)
        }
        _ => false,
    }
}

fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    Ok(Box::new(::bzip2::read::MultiBzDecoder::new(reader)))
}

//! xz. A block's dictionary larger than `XZ_MEM_LIMIT_KIB` is refused (a hostile header cannot
//! make the decoder allocate gigabytes): the stream is then `unsupported` (#20).

use std::io::{self, Read};

use super::{Format, Reader};

/// Memory an xz block's dictionary may take, in KiB. `xz -9` uses 64 MiB.
pub const XZ_MEM_LIMIT_KIB: u32 = 256 * 1024;

/// The xz format.
pub const FORMAT: Format = Format {
    name: "xz",
    sniff: |head| head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]),
    reader: Reader::Stream(decode),
    suffixes: &[(".txz", ".tar"), (".xz", "")],
    content_name: |_| None,
    may_be_image: false,
};

fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    Ok(Box::new(lzma_rust2::XzReader::new_mem_limit(
        reader,
        true,
        XZ_MEM_LIMIT_KIB,
    )))
}

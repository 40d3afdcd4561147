//! gzip (RFC 1952), possibly several members concatenated: a stream whose header may name its
//! content (`gzip` and Python store the file name).

use std::io::{self, Read};

use super::{Format, Reader};

/// The gzip format.
pub const FORMAT: Format = Format {
    name: "gzip",
    sniff: |head| head.starts_with(&[0x1f, 0x8b, 0x08]),
    reader: Reader::Stream(decode),
    suffixes: &[(".tgz", ".tar"), (".gz", "")],
    content_name,
    may_be_image: false,
};

fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    Ok(Box::new(flate2::read::MultiGzDecoder::new(reader)))
}

/// The file name a gzip header records, as raw bytes.
fn content_name(head: &[u8]) -> Option<Vec<u8>> {
    let decoder = flate2::read::GzDecoder::new(head);
    let name = decoder.header()?.filename()?;
    (!name.is_empty()).then(|| name.to_vec())
}

//! #22: RPM packages: a 96-byte lead, a signature header and a header (read over, bounded),
//! then the payload: a cpio archive, compressed with gzip, xz, zstd or bzip2, which the nesting
//! driver recognises and opens in place (`app.rpm!etc/app.conf`). A payload in a codec we do
//! not read (legacy raw lzma) is scanned as raw bytes.

use std::io::{self, Read};

use super::ar::read_full;
use super::{Format, Reader};

/// The RPM format.
pub const FORMAT: Format = Format {
    name: "rpm",
    sniff: |head| head.starts_with(&[0xed, 0xab, 0xee, 0xdb]) && head.len() >= 96 + 16,
    reader: Reader::Stream(decode),
    suffixes: &[(".rpm", ".cpio")],
    content_name: |_| None,
    may_be_image: false,
};

/// The largest header read over (rpm itself refuses headers over 256 MiB).
const MAX_HEADER_BYTES: u64 = 256 << 20;

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("rpm: {what}"))
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "rpm: cut short")
}

/// Reads and drops exactly `n` bytes.
fn skip(reader: &mut dyn Read, n: u64) -> io::Result<()> {
    if io::copy(&mut reader.take(n), &mut io::sink())? < n {
        return Err(truncated());
    }
    Ok(())
}

/// Reads over one header structure; returns its length in bytes.
fn header(reader: &mut dyn Read) -> io::Result<u64> {
    let mut intro = [0u8; 16];
    if read_full(reader, &mut intro)? < intro.len() {
        return Err(truncated());
    }
    if intro.get(..4) != Some([0x8e, 0xad, 0xe8, 0x01].as_slice()) {
        return Err(corrupt("bad header magic"));
    }
    let be32 = |at: usize| {
        intro.get(at..at + 4).map_or(0, |b| {
            u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        })
    };
    let len = 16 * be32(8) + be32(12);
    if len > MAX_HEADER_BYTES {
        return Err(corrupt("header too large"));
    }
    skip(reader, len)?;
    Ok(16 + len)
}

/// The payload of the package `reader`.
fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    skip(reader, 96)?;
    let signature = header(reader)?;
    // The signature header is padded to a multiple of eight bytes.
    skip(reader, (8 - signature % 8) % 8)?;
    header(reader)?;
    Ok(Box::new(reader))
}

//! #22: Android backups (`adb backup`, `.ab`): a text header (`ANDROID BACKUP`, a version, a
//! compression flag, an encryption name), then a tar, zlib-compressed when the flag is `1`.
//! The tar is opened in place (`backup.ab!apps/com.example/sp/prefs.xml`). An encrypted backup
//! (`AES-256`) is not opened: the skip `encrypted`.

use std::io::{self, Read};

use super::{Encrypted, Format, Reader};

/// The adb backup format.
pub const FORMAT: Format = Format {
    name: "adb-backup",
    sniff: |head| head.starts_with(b"ANDROID BACKUP\n"),
    reader: Reader::Stream(decode),
    suffixes: &[(".ab", ".tar")],
    content_name: |_| None,
    may_be_image: false,
};

/// The longest header line read.
const MAX_LINE_BYTES: usize = 64;

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("adb backup: {what}"))
}

/// One header line, without its newline.
fn line(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if reader.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "adb backup: header cut short",
            ));
        }
        if byte[0] == b'\n' {
            return Ok(out);
        }
        if out.len() >= MAX_LINE_BYTES {
            return Err(corrupt("header line too long"));
        }
        out.push(byte[0]);
    }
}

/// The tar inside the backup `reader`.
fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    line(reader)?;
    let version = line(reader)?;
    if version.is_empty() || !version.iter().all(u8::is_ascii_digit) {
        return Err(corrupt("bad version"));
    }
    let compressed = match line(reader)?.as_slice() {
        b"0" => false,
        b"1" => true,
        _ => return Err(corrupt("bad compression flag")),
    };
    match line(reader)?.as_slice() {
        b"none" => {}
        _ => return Err(io::Error::other(Encrypted)),
    }
    Ok(match compressed {
        true => Box::new(flate2::read::ZlibDecoder::new(reader)),
        false => Box::new(reader),
    })
}

//! LZ4 frames (magic `04 22 4D 18`), read with `lz4_flex`'s frame decoder (#22), possibly
//! several frames concatenated. A frame that needs an external dictionary, and the legacy
//! format (`lz4 -l`, magic `02 21 4C 18`), are recognised and `unsupported`.

use std::io::{self, Read};

use lz4_flex::frame::{Error, FrameDecoder};

use super::{Format, Reader};

/// The LZ4 frame format.
pub const FORMAT: Format = Format {
    name: "lz4",
    sniff: |head| head.starts_with(&LEGACY) || is_frame(head),
    reader: Reader::Stream(decode),
    suffixes: &[(".tlz4", ".tar"), (".lz4", "")],
    content_name: |_| None,
    may_be_image: false,
};

const MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
const LEGACY: [u8; 4] = [0x02, 0x21, 0x4c, 0x18];

/// Whether `head` starts with a frame header: the magic, then a frame descriptor of version
/// 01 (the only one there is).
fn is_frame(head: &[u8]) -> bool {
    head.starts_with(&MAGIC) && head.get(4).is_some_and(|flg| flg >> 6 == 0b01)
}

fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    let mut magic = [0u8; 4];
    reader.read_exact(&mut magic)?;
    if magic == LEGACY {
        let e = "legacy LZ4 format (lz4 -l)";
        return Err(io::Error::new(io::ErrorKind::Unsupported, e));
    }
    let whole = io::Cursor::new(magic).chain(reader);
    Ok(Box::new(Named {
        inner: FrameDecoder::new(whole),
    }))
}

/// The frame decoder, its errors named for what they mean (#20).
struct Named<R> {
    inner: R,
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.inner.read(out).map_err(|e| {
            let unsupported = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<Error>())
                .is_some_and(|inner| {
                    matches!(
                        inner,
                        Error::DictionaryNotSupported | Error::UnsupportedVersion(_)
                    )
                });
            match unsupported {
                true => io::Error::new(io::ErrorKind::Unsupported, e.to_string()),
                false => e,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn frames_inflate_and_legacy_is_unsupported() {
        let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
        e.write_all(b"TOKEN=abc\n").unwrap();
        let frame = e.finish().unwrap();
        assert!((FORMAT.sniff)(&frame));
        let mut out = String::new();
        decode(&mut &frame[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "TOKEN=abc\n");
        let legacy = [0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0];
        assert!((FORMAT.sniff)(&legacy));
        let err = decode(&mut &legacy[..]).err().expect("unsupported");
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        assert!(!(FORMAT.sniff)(b"\x04\x22\x4d\x18\x00"), "version 00");
    }
}

//! Zstandard. A frame whose window is larger than the decoder allows, or that needs a
//! dictionary, is `unsupported` (#20); other damage is `corrupt`.

use std::io::{self, Read};

use ruzstd::decoding::errors::FrameDecoderError;

use super::{Format, Reader};

/// The Zstandard format.
pub const FORMAT: Format = Format {
    name: "zstd",
    sniff: |head| head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
    reader: Reader::Stream(decode),
    suffixes: &[(".tzst", ".tar"), (".zst", "")],
    content_name: |_| None,
    may_be_image: false,
};

fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    match ruzstd::decoding::StreamingDecoder::new(reader) {
        Ok(decoder) => Ok(Box::new(decoder)),
        Err(e) => {
            let kind = match e {
                FrameDecoderError::WindowSizeTooBig { .. }
                | FrameDecoderError::DictNotProvided { .. } => io::ErrorKind::Unsupported,
                _ => io::ErrorKind::InvalidData,
            };
            Err(io::Error::new(kind, e.to_string()))
        }
    }
}

//! brotli (RFC 7932), decoded with `brotli-decompressor` (#22). brotli has no magic bytes, so
//! it is the one format chosen by name, not by content: a file or member named `*.br`
//! (precompressed web assets: `app.js.br`) whose first bytes do not look like text and decode
//! without error (`unpack::by_name`). Its `sniff` is always false: content alone never says
//! brotli. A stream cut short is `truncated`, other damage `corrupt`.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use super::{Format, Reader};

/// The brotli format.
pub const FORMAT: Format = Format {
    name: "brotli",
    sniff: |_| false,
    reader: Reader::Stream(decode),
    suffixes: &[(".br", "")],
    content_name: |_| None,
    may_be_image: false,
};

/// The decoder's input buffer.
const BUFFER_BYTES: usize = 32 << 10;

/// Input bytes the trial decode of `is_brotli` reads at most.
const TRIAL_INPUT_BYTES: usize = 4096;

/// Whether `head`, the first bytes of a blob named `*.br`, is taken for brotli: a byte in its
/// first 16 that text does not hold (a control character, or a byte that is not ASCII), and
/// its first bytes decode without error (or run out while decoding).
pub fn is_brotli(head: &[u8]) -> bool {
    let texty = |b: &u8| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e);
    if head.is_empty() || head.iter().take(16).all(texty) {
        return false;
    }
    let input = head.get(..TRIAL_INPUT_BYTES).unwrap_or(head);
    let mut decoder = Decoder::new(input);
    let mut out = [0u8; 8192];
    loop {
        match decoder.read(&mut out) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return e.kind() == io::ErrorKind::UnexpectedEof,
        }
    }
}

fn decode(reader: &mut dyn Read) -> io::Result<Box<dyn Read + '_>> {
    Ok(Box::new(Decoder::new(reader)))
}

/// Notes when its input has ended.
struct Ends<R> {
    inner: R,
    ended: Rc<Cell<bool>>,
}

impl<R: Read> Read for Ends<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        if n == 0 && !out.is_empty() {
            self.ended.set(true);
        }
        Ok(n)
    }
}

/// The brotli decoder, whose failure after its input ended is named truncation (#20): the
/// crate calls both invalid data.
struct Decoder<R: Read> {
    inner: brotli_decompressor::Decompressor<Ends<R>>,
    ended: Rc<Cell<bool>>,
}

impl<R: Read> Decoder<R> {
    fn new(reader: R) -> Self {
        let ended = Rc::new(Cell::new(false));
        let input = Ends {
            inner: reader,
            ended: Rc::clone(&ended),
        };
        Decoder {
            inner: brotli_decompressor::Decompressor::new(input, BUFFER_BYTES),
            ended,
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.inner.read(out).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidData && self.ended.get() {
                io::Error::new(io::ErrorKind::UnexpectedEof, "brotli stream ends early")
            } else {
                e
            }
        })
    }
}

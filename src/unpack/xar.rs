//! #22: xar archives, as macOS flat installer packages (`.pkg`) are: a binary header, a
//! zlib-compressed XML table of contents (each file's path, and where its bytes sit in the heap
//! and how they are encoded), then the heap. Members are read in place, decoded (`x-gzip`,
//! which in xar is zlib, or `x-bzip2`), and named by their path
//! (`app.pkg!base.pkg/Payload`); a package's `Payload` and `Scripts` (gzip'd cpio) are opened
//! in turn by the nesting driver (`app.pkg!base.pkg/Payload!etc/app.env`). Another encoding
//! (lzma) is `unsupported` for that member.
//!
//! The table of contents is read with `xmlparser` (a tokenizer): only `file` elements and
//! their `name`, `type` and `data` children matter, so no tree is built.

use std::io::{self, Read, SeekFrom};

use xmlparser::{ElementEnd, Token, Tokenizer};

use super::{Format, Issue, ReadSeek, Reader, Visit};
use crate::skip::SkipReason;

/// The xar format.
pub const FORMAT: Format = Format {
    name: "xar",
    // The magic, a header of 28 bytes or more (at most 4 KiB), version 1.
    sniff: |head| {
        head.starts_with(b"xar!")
            && head.get(4..8).is_some_and(|h| {
                let size = u16::from_be_bytes([h[0], h[1]]);
                (28..=4096).contains(&size) && h[2..4] == [0, 1]
            })
    },
    reader: Reader::Seekable(members),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The largest compressed table of contents read.
const MAX_TOC_BYTES: u64 = 64 << 20;

/// The largest table of contents once inflated.
const MAX_TOC_INFLATED_BYTES: u64 = 256 << 20;

/// How deep files may nest.
const MAX_DEPTH: usize = 64;

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("xar: {what}"))
}

/// How a file's bytes are stored in the heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Raw,
    Zlib,
    Bzip2,
    Other,
}

/// A `file` element of the table of contents.
#[derive(Default)]
struct Node {
    parent: Option<usize>,
    name: String,
    is_file: bool,
    offset: Option<u64>,
    length: Option<u64>,
    size: Option<u64>,
    encoding: Option<Encoding>,
}

/// Walks the members of the xar archive `reader`.
fn members(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) {
    if let Err(e) = walk(reader, visit) {
        visit.issue(None, Issue::Error(e));
    }
}

fn walk(reader: &mut dyn ReadSeek, visit: &mut dyn Visit) -> io::Result<()> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut header = [0u8; 28];
    reader.read_exact(&mut header)?;
    let be = |at: usize, n: usize| {
        header
            .get(at..at + n)
            .map_or(0, |b| b.iter().fold(0u64, |v, &x| v << 8 | u64::from(x)))
    };
    let header_len = be(4, 2);
    let toc_len = be(8, 8);
    if header_len < 28 || toc_len > MAX_TOC_BYTES || header_len + toc_len > len {
        return Err(corrupt("header sizes do not fit"));
    }
    reader.seek(SeekFrom::Start(header_len))?;
    let mut toc = Vec::new();
    flate2::read::ZlibDecoder::new((&mut *reader).take(toc_len))
        .take(MAX_TOC_INFLATED_BYTES + 1)
        .read_to_end(&mut toc)?;
    if toc.len() as u64 > MAX_TOC_INFLATED_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "xar: table of contents over 256 MiB",
        ));
    }
    let toc = String::from_utf8(toc).map_err(|_| corrupt("table of contents not UTF-8"))?;
    let nodes = parse(&toc)?;
    drop(toc);
    let heap = header_len + toc_len;
    let mut files: Vec<(u64, Vec<u8>, &Node)> = Vec::new();
    for node in nodes.iter().filter(|n| n.is_file) {
        let Some(offset) = node.offset else {
            continue;
        };
        files.push((offset, path(&nodes, node), node));
    }
    files.sort_by_key(|f| f.0);
    for (offset, path, node) in files {
        let length = node.length.unwrap_or(0);
        let start = heap.saturating_add(offset);
        if start.saturating_add(length) > len {
            let cut = io::Error::new(io::ErrorKind::UnexpectedEof, "xar: file past the end");
            visit.issue(Some(&path), Issue::Error(cut));
            continue;
        }
        let encoding = node.encoding.unwrap_or(Encoding::Raw);
        if encoding == Encoding::Other {
            visit.issue(Some(&path), Issue::Skip(SkipReason::Unsupported));
            continue;
        }
        if !visit.has_room() {
            visit.issue(None, Issue::Skip(SkipReason::TooManyMembers));
            return Ok(());
        }
        reader.seek(SeekFrom::Start(start))?;
        let raw = (&mut *reader).take(length);
        let mut body: Box<dyn Read + '_> = match encoding {
            Encoding::Zlib => Box::new(flate2::read::ZlibDecoder::new(raw)),
            Encoding::Bzip2 => Box::new(bzip2::read::BzDecoder::new(raw)),
            _ => Box::new(raw),
        };
        if visit.member(&path, node.size, &mut body).is_break() {
            return Ok(());
        }
    }
    Ok(())
}

/// The path of `node`: the names of the files it sits in, joined with `/`.
fn path(nodes: &[Node], node: &Node) -> Vec<u8> {
    let mut names = vec![node.name.as_str()];
    let mut parent = node.parent;
    // Parents come before their children, so the walk ends; the bound is belt and braces.
    for _ in 0..MAX_DEPTH {
        let Some(p) = parent.and_then(|i| nodes.get(i)) else {
            break;
        };
        names.push(&p.name);
        parent = p.parent;
    }
    names.reverse();
    names.join("/").into_bytes()
}

/// The `file` elements of table of contents `toc`.
fn parse(toc: &str) -> io::Result<Vec<Node>> {
    let mut nodes: Vec<Node> = Vec::new();
    // Open elements: their names, and the index of the innermost open `file`.
    let mut open: Vec<String> = Vec::new();
    let mut files: Vec<usize> = Vec::new();
    let mut text = String::new();
    let mut pending: Option<String> = None;
    for token in Tokenizer::from(toc) {
        let token = token.map_err(|e| corrupt(&e.to_string()))?;
        match token {
            Token::ElementStart { local, .. } => {
                if open.len() >= 4 * MAX_DEPTH {
                    return Err(corrupt("elements nested too deep"));
                }
                text.clear();
                pending = Some(local.as_str().to_string());
            }
            Token::Attribute { local, value, .. } => {
                let in_data = open.last().is_some_and(|e| e == "data");
                if pending.as_deref() == Some("encoding") && in_data && local.as_str() == "style" {
                    if let Some(node) = files.last().and_then(|&i| nodes.get_mut(i)) {
                        node.encoding = Some(match value.as_str() {
                            "application/octet-stream" => Encoding::Raw,
                            "application/x-gzip" => Encoding::Zlib,
                            "application/x-bzip2" => Encoding::Bzip2,
                            _ => Encoding::Other,
                        });
                    }
                }
            }
            Token::ElementEnd { end, .. } => match end {
                ElementEnd::Open => {
                    let name = pending.take().unwrap_or_default();
                    if name == "file" {
                        if files.len() >= MAX_DEPTH {
                            return Err(corrupt("files nested too deep"));
                        }
                        nodes.push(Node {
                            parent: files.last().copied(),
                            ..Node::default()
                        });
                        files.push(nodes.len() - 1);
                    }
                    open.push(name);
                    text.clear();
                }
                ElementEnd::Empty => {
                    pending = None;
                }
                ElementEnd::Close(_, local) => {
                    let name = open.pop().unwrap_or_default();
                    if name != local.as_str() {
                        return Err(corrupt("mismatched element"));
                    }
                    let parent = open.last().map(String::as_str);
                    let node = files.last().and_then(|&i| nodes.get_mut(i));
                    match (name.as_str(), parent, node) {
                        ("file", _, _) => {
                            files.pop();
                        }
                        ("name", Some("file"), Some(node)) => node.name = unescape(&text),
                        ("type", Some("file"), Some(node)) => node.is_file = text.trim() == "file",
                        ("offset", Some("data"), Some(node)) => node.offset = number(&text)?,
                        ("length", Some("data"), Some(node)) => node.length = number(&text)?,
                        ("size", Some("data"), Some(node)) => node.size = number(&text)?,
                        _ => {}
                    }
                    text.clear();
                }
            },
            // Only the short text of leaf elements is kept.
            Token::Text { text: t } | Token::Cdata { text: t, .. }
                if text.len() + t.as_str().len() <= 4096 =>
            {
                text.push_str(t.as_str());
            }
            _ => {}
        }
    }
    Ok(nodes)
}

/// A decimal element text.
fn number(text: &str) -> io::Result<Option<u64>> {
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| corrupt("bad number"))
}

/// `text` with the XML entities replaced.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        rest = rest.get(at..).unwrap_or_default();
        let end = rest.find(';').filter(|&e| e <= 10);
        let entity = end.and_then(|e| rest.get(1..e));
        let decoded = match entity {
            Some("amp") => Some('&'),
            Some("lt") => Some('<'),
            Some("gt") => Some('>'),
            Some("quot") => Some('"'),
            Some("apos") => Some('\''),
            Some(e) => match (e.strip_prefix("#x"), e.strip_prefix('#')) {
                (Some(hex), _) => u32::from_str_radix(hex, 16).ok(),
                (None, Some(dec)) => dec.parse().ok(),
                _ => None,
            }
            .and_then(char::from_u32),
            None => None,
        };
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = rest.get(e + 1..).unwrap_or_default();
            }
            _ => {
                out.push('&');
                rest = rest.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

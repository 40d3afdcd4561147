//! .NET assemblies (#22): a PE file (`MZ`, then `PE\0\0`) whose CLI header (data directory 14)
//! points at the metadata root (`BSJB`); its `#US` stream holds every string literal of the
//! code (`ldstr`) as UTF-16LE, each after a compressed length. Those strings, in heap order
//! (empty literals included), are the member `#US`. A PE without a CLI header (native code)
//! is not this format. The other heaps (`#Strings`: identifiers, `#Blob`), embedded resources
//! and native sections are covered by the raw scan. Damage stops the read (`corrupt`,
//! `truncated`).

use super::strings::{Bytes, Table};
use super::{Format, Reader};
use crate::skip::SkipReason;

/// The .NET assembly format.
pub const FORMAT: Format = Format {
    name: "dotnet",
    sniff: |head| cli_header(head).is_some(),
    reader: Reader::Strings(read),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// The data directory of the CLI header (`IMAGE_DIRECTORY_ENTRY_COM_DESCRIPTOR`).
const CLI_DIRECTORY: usize = 14;

/// The metadata root's signature, `BSJB`.
const METADATA_SIGNATURE: u32 = 0x424A_5342;

/// Streams of a metadata root read at most (real assemblies have five).
const MAX_STREAMS: u16 = 64;

/// The PE headers needed to find the CLI header.
struct Pe {
    /// RVA of the CLI header.
    cli: u32,
    /// Offset of the section table.
    sections: usize,
    /// Entries in it.
    count: u16,
}

/// The PE headers of `data`, when it is a PE file with a CLI header.
fn cli_header(data: &[u8]) -> Option<Pe> {
    if !data.starts_with(b"MZ") {
        return None;
    }
    let pe = data.u32le(0x3C)? as usize;
    if data.span(pe, 4)? != b"PE\0\0" {
        return None;
    }
    let coff = pe + 4;
    let count = data.u16le(coff + 2)?;
    let optional_size = usize::from(data.u16le(coff + 16)?);
    let optional = coff + 20;
    let (dirs, dir_count) = match data.u16le(optional)? {
        0x10B => (optional + 96, data.u32le(optional + 92)?),
        0x20B => (optional + 112, data.u32le(optional + 108)?),
        _ => return None,
    };
    if (dir_count as usize) <= CLI_DIRECTORY {
        return None;
    }
    let cli = data.u32le(dirs + 8 * CLI_DIRECTORY)?;
    let cli_size = data.u32le(dirs + 8 * CLI_DIRECTORY + 4)?;
    (cli != 0 && cli_size != 0).then_some(Pe {
        cli,
        sections: optional + optional_size,
        count,
    })
}

impl Pe {
    /// The file offset of `rva`, from the section that holds it.
    fn offset(&self, data: &[u8], rva: u32) -> Option<usize> {
        for i in 0..usize::from(self.count) {
            let s = self.sections.checked_add(40 * i)?;
            let virtual_size = data.u32le(s + 8)?;
            let address = data.u32le(s + 12)?;
            let raw_size = data.u32le(s + 16)?;
            let raw = data.u32le(s + 20)?;
            let size = virtual_size.max(raw_size);
            if rva >= address && rva - address < size {
                return (raw as usize).checked_add((rva - address) as usize);
            }
        }
        None
    }
}

/// Reads the `#US` strings of assembly `data`.
fn read(data: &[u8]) -> Table {
    let mut table = Table::new("#US", data.len());
    if let Err(reason) = user_strings(data, &mut table) {
        table.fail(reason);
    }
    table
}

fn user_strings(data: &[u8], table: &mut Table) -> Result<(), SkipReason> {
    let pe = cli_header(data).ok_or(SkipReason::Truncated)?;
    let cli = pe.offset(data, pe.cli).ok_or(SkipReason::Corrupt)?;
    let metadata_rva = data.u32le(cli + 8).ok_or(SkipReason::Truncated)?;
    let root = pe.offset(data, metadata_rva).ok_or(SkipReason::Corrupt)?;
    if data.u32le(root).ok_or(SkipReason::Truncated)? != METADATA_SIGNATURE {
        return Err(SkipReason::Corrupt);
    }
    let version_len = data.u32le(root + 12).ok_or(SkipReason::Truncated)? as usize;
    let after_version = (root + 16)
        .checked_add(version_len)
        .ok_or(SkipReason::Corrupt)?;
    let streams = data.u16le(after_version + 2).ok_or(SkipReason::Truncated)?;
    let mut at = after_version + 4;
    for _ in 0..streams.min(MAX_STREAMS) {
        let offset = data.u32le(at).ok_or(SkipReason::Truncated)? as usize;
        let size = data.u32le(at + 4).ok_or(SkipReason::Truncated)? as usize;
        let name_at = at + 8;
        let name_len = data
            .get(name_at..)
            .and_then(|rest| rest.iter().take(32).position(|&b| b == 0))
            .ok_or(SkipReason::Corrupt)?;
        let name = data.span(name_at, name_len).ok_or(SkipReason::Truncated)?;
        // The name, its NUL and padding to four bytes.
        at = name_at + (name_len + 4) / 4 * 4;
        if name == b"#US" {
            let start = root.checked_add(offset).ok_or(SkipReason::Corrupt)?;
            return heap(data, start, size, table);
        }
    }
    Ok(())
}

/// Reads the `#US` heap of `size` bytes at `start`.
fn heap(data: &[u8], start: usize, size: usize, table: &mut Table) -> Result<(), SkipReason> {
    let end = start.checked_add(size).ok_or(SkipReason::Corrupt)?;
    let heap = data.get(..end.min(data.len())).unwrap_or_default();
    let mut at = start;
    while at < heap.len() {
        let (len, next) = blob_len(heap, at)?;
        at = next;
        if len == 0 {
            // The empty entry at offset 0, and padding.
            continue;
        }
        let entry = heap.span(at, len).ok_or(SkipReason::Truncated)?;
        // UTF-16LE characters, then one byte that flags special characters.
        if !table.push_utf16le(at, &entry[..len - 1]) {
            return Err(SkipReason::Corrupt);
        }
        at += len;
    }
    if end > data.len() {
        return Err(SkipReason::Truncated);
    }
    Ok(())
}

/// An ECMA-335 compressed length at `at` (1, 2 or 4 bytes) and the offset after it.
fn blob_len(heap: &[u8], at: usize) -> Result<(usize, usize), SkipReason> {
    let b = |i: usize| {
        heap.u8_at(at + i)
            .map(usize::from)
            .ok_or(SkipReason::Truncated)
    };
    let first = b(0)?;
    match first {
        _ if first & 0x80 == 0 => Ok((first, at + 1)),
        _ if first & 0xC0 == 0x80 => Ok((((first & 0x3F) << 8) | b(1)?, at + 2)),
        _ if first & 0xE0 == 0xC0 => {
            let len = ((first & 0x1F) << 24) | (b(1)? << 16) | (b(2)? << 8) | b(3)?;
            Ok((len, at + 4))
        }
        _ => Err(SkipReason::Corrupt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_lengths_take_one_two_or_four_bytes() {
        assert_eq!(blob_len(&[0x03], 0), Ok((3, 1)));
        assert_eq!(blob_len(&[0x80, 0x80], 0), Ok((0x80, 2)));
        assert_eq!(blob_len(&[0xC0, 0, 0x40, 0], 0), Ok((0x4000, 4)));
        assert_eq!(blob_len(&[0xE0], 0), Err(SkipReason::Corrupt));
        assert_eq!(blob_len(&[0xC0, 0], 0), Err(SkipReason::Truncated));
    }

    #[test]
    fn the_heap_gives_literals_in_order_and_stops_at_lying_lengths() {
        let mut heap = vec![0u8];
        for s in ["hi", ""] {
            let units: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
            heap.push((units.len() + 1) as u8);
            heap.extend(units);
            heap.push(0);
        }
        heap.extend([0, 0]);
        let mut t = Table::new("#US", heap.len());
        assert_eq!(heap_at(&heap, &mut t), Ok(()));
        assert_eq!(t.text(), b"hi\n\n");
        heap.extend([0x7F, b'a']);
        let mut t = Table::new("#US", heap.len());
        assert_eq!(heap_at(&heap, &mut t), Err(SkipReason::Truncated));
    }

    fn heap_at(heap: &[u8], t: &mut Table) -> Result<(), SkipReason> {
        super::heap(heap, 0, heap.len(), t)
    }

    #[test]
    fn native_pe_files_are_not_assemblies() {
        assert!(cli_header(b"MZ").is_none());
        let mut pe = vec![0u8; 0x200];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3C] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x98..0x9A].copy_from_slice(&0x10Bu16.to_le_bytes());
        pe[0x98 + 92] = 16;
        assert!(cli_header(&pe).is_none(), "no CLI header");
        pe[0x98 + 96 + 8 * 14] = 0x08;
        pe[0x98 + 96 + 8 * 14 + 4] = 0x48;
        assert!(cli_header(&pe).is_some());
    }
}

//! Android compiled resources (`resources.arsc`, #22): a resource table chunk (`0x0002`) whose
//! first chunk is the global string pool, holding every string resource value
//! (`res/values/strings.xml` compiles into it). The pool's strings are the member `strings`
//! (read by `axml::pool`). The packages' own pools (type and entry names) are not read: they
//! hold identifiers, and the raw scan covers their bytes.

use super::axml::{is_pool_at, pool};
use super::strings::Table;
use super::{Format, Reader};

/// The `resources.arsc` format.
pub const FORMAT: Format = Format {
    name: "android-resources",
    sniff: |head| head.starts_with(&[0x02, 0x00, 0x0C, 0x00]) && is_pool_at(head, 12),
    reader: Reader::Strings(read),
    suffixes: &[],
    content_name: |_| None,
    may_be_image: false,
};

/// Reads the global string pool of resource table `data`.
fn read(data: &[u8]) -> Table {
    let mut table = Table::new("strings", data.len());
    if let Err(reason) = pool(data, 12, &mut table) {
        table.fail(reason);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::super::axml::tests::pool_chunk;
    use super::*;
    use crate::skip::SkipReason;

    #[test]
    fn the_global_pool_is_read() {
        let pool = pool_chunk(&["app_name", "Hello"], true);
        let mut d = vec![0x02, 0x00, 0x0C, 0x00];
        d.extend(((12 + pool.len()) as u32).to_le_bytes());
        d.extend(1u32.to_le_bytes());
        d.extend(&pool);
        assert!((FORMAT.sniff)(&d));
        let t = read(&d);
        assert_eq!((t.text(), t.incomplete), (&b"app_name\nHello\n"[..], None));
        let cut = &d[..20];
        assert_eq!(read(cut).incomplete, Some(SkipReason::Truncated));
    }
}

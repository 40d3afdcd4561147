//! Dropping a pack's mapped pages from this process (#15). Reading a pack touches its pages,
//! and mapped pages count in the resident set until unmapped: without this, peak RSS grows by
//! the size of the packs read (317 MB for git/git). The pages stay in the page cache; the next
//! read of one maps it again.
//!
//! The premise of `MADV_DONTNEED` here is that gix-pack maps a pack privately and read-only
//! (`memmap2::MmapOptions::map_copy_read_only`): nothing was written to the mapping, so a later
//! read faults in the same bytes from the file. The premise is checked, not assumed: at run time
//! in `/proc/self/maps` before any page is dropped, and by a test against gix-pack itself.
//! Shared by the pack pass and the tree walk; never prints.

/// Bytes read from a pack after which its mapped pages are dropped again.
pub(super) const RELEASE_EVERY_BYTES: u64 = 64 << 20;

/// The mapping of one pack, when its pages may be dropped.
#[derive(Clone, Copy)]
pub(super) struct Pages<'a> {
    /// The whole of the pack's mapping; `None` when the premise does not hold (or off Linux).
    map: Option<&'a [u8]>,
}

impl<'a> Pages<'a> {
    /// The pages of `pack`, after checking in `/proc/self/maps` that its data is one read-only,
    /// file-backed mapping that starts on the map's first byte. When the check fails (another
    /// gix-pack mapping, no `/proc`), `release` does nothing: memory grows with the packs read,
    /// and the scan stays correct.
    pub(super) fn of(pack: &'a gix::odb::pack::data::File) -> Pages<'a> {
        let map = pack
            .entry_slice(0..pack.data_len() as u64)
            .filter(|map| is_read_only_file_mapping(map));
        Pages { map }
    }

    /// Pages that are never released (packs outside the pass, tests).
    #[cfg(test)]
    pub(super) fn none() -> Pages<'static> {
        Pages { map: None }
    }

    /// Whether `release` drops pages (the premise held).
    #[cfg(test)]
    pub(super) fn is_releasable(&self) -> bool {
        self.map.is_some()
    }

    /// Drops the mapped pages of the pack from this process; returns whether the kernel did.
    #[cfg(target_os = "linux")]
    pub(super) fn release(&self) -> bool {
        let Some(map) = self.map else {
            return false;
        };
        // SAFETY: `map` is the whole of a mapping that `of` found read-only and file-backed in
        // /proc/self/maps, starting at `map`'s first byte (so on a page boundary), and it is
        // alive while the pack is borrowed. MADV_DONTNEED only drops its page table entries:
        // nothing can have been written to it, so any later read faults in the same bytes from
        // the file (pack files are never modified in place). No reference sees a change.
        let status = unsafe {
            libc::madvise(
                map.as_ptr() as *mut libc::c_void,
                map.len(),
                libc::MADV_DONTNEED,
            )
        };
        status == 0
    }

    /// Drops nothing off Linux.
    #[cfg(not(target_os = "linux"))]
    pub(super) fn release(&self) -> bool {
        false
    }
}

/// Whether `map` is, in `/proc/self/maps`, exactly the start of one mapping that is readable,
/// not writable and backed by a file.
#[cfg(target_os = "linux")]
fn is_read_only_file_mapping(map: &[u8]) -> bool {
    match std::fs::read_to_string("/proc/self/maps") {
        Ok(maps) => mapping_of(&maps, map.as_ptr() as usize, map.len())
            .is_some_and(|m| m.readable && !m.writable && m.file_backed),
        Err(_) => false,
    }
}

#[cfg(not(target_os = "linux"))]
fn is_read_only_file_mapping(_map: &[u8]) -> bool {
    false
}

/// One line of `/proc/<pid>/maps`, as far as the premise needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapping {
    readable: bool,
    writable: bool,
    private: bool,
    file_backed: bool,
}

/// The mapping of `maps` (the text of `/proc/<pid>/maps`) that starts at `addr` and holds the
/// `len` bytes from there; `None` when no mapping does.
///
/// Lines read `start-end perms offset dev inode [path]`, addresses in hex.
fn mapping_of(maps: &str, addr: usize, len: usize) -> Option<Mapping> {
    let end = addr.checked_add(len)?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (start, stop) = fields.next()?.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let stop = usize::from_str_radix(stop, 16).ok()?;
        if start != addr || stop < end {
            return None;
        }
        let perms = fields.next()?.as_bytes();
        let inode = fields.nth(2)?;
        Some(Mapping {
            readable: perms.first() == Some(&b'r'),
            writable: perms.get(1) == Some(&b'w'),
            private: perms.get(3) == Some(&b'p'),
            file_backed: inode != "0",
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c0a00000-55d0c0a21000 r--p 00000000 fd:01 1311 /usr/bin/leadey-scan
7f1c2a000000-7f1c2a400000 r--p 00000000 fd:01 9912 /repo/.git/objects/pack/pack-1.pack
7f1c2b000000-7f1c2b100000 rw-p 00000000 00:00 0
7f1c2c000000-7f1c2c100000 rw-s 00000000 fd:01 77 /dev/shm/x
";

    #[test]
    fn a_mapping_is_found_by_its_start_and_must_hold_the_whole_range() {
        let pack = Mapping {
            readable: true,
            writable: false,
            private: true,
            file_backed: true,
        };
        assert_eq!(mapping_of(MAPS, 0x7f1c_2a00_0000, 0x40_0000), Some(pack));
        assert_eq!(mapping_of(MAPS, 0x7f1c_2a00_0000, 0x40_0001), None);
        assert_eq!(
            mapping_of(MAPS, 0x7f1c_2a00_1000, 0x10),
            None,
            "not its start"
        );
        let anon = mapping_of(MAPS, 0x7f1c_2b00_0000, 1).unwrap();
        assert!(anon.writable && !anon.file_backed);
        let shared = mapping_of(MAPS, 0x7f1c_2c00_0000, 1).unwrap();
        assert!(shared.writable && !shared.private);
        assert_eq!(mapping_of("garbage\n\n1-2\n", 1, 1), None);
        assert_eq!(mapping_of(MAPS, usize::MAX, 2), None);
    }

    /// The premise of `release`, against the gix-pack this crate builds with: a pack's data is
    /// one private, read-only, file-backed mapping, and dropping its pages leaves its bytes as
    /// they were.
    #[cfg(target_os = "linux")]
    #[test]
    fn gix_maps_a_pack_privately_read_only_and_release_keeps_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| super::super::tests::git(dir.path(), args);
        git(&["init", "-q"]);
        let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("a.txt"), text).unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "a"]);
        git(&["gc", "-q"]);
        let pack_dir = dir.path().join(".git/objects/pack");
        let path = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "pack"))
            .unwrap();
        let pack = gix::odb::pack::data::File::at(&path, gix::hash::Kind::Sha1).unwrap();
        let map = pack.entry_slice(0..pack.data_len() as u64).unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let mapping = mapping_of(&maps, map.as_ptr() as usize, map.len())
            .expect("the pack's data is the start of one mapping");
        assert_eq!(
            mapping,
            Mapping {
                readable: true,
                writable: false,
                private: true,
                file_backed: true,
            }
        );
        let before = map.to_vec();
        let pages = Pages::of(&pack);
        assert!(pages.is_releasable());
        assert!(pages.release(), "madvise succeeds");
        assert_eq!(map, &before[..], "the bytes read again are the file's");
        assert!(!Pages::none().release());
    }
}

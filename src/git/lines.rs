//! Added lines (#5): which lines of a new blob a change adds, from a line diff against the old
//! blob (imara-diff, histogram algorithm). Lines end after `\n`, as the source counts them, so
//! diff line `i` is the finding line `i + 1`. Pure.

use imara_diff::{Algorithm, Diff, InternedInput};

/// The lines of a new blob that a change adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddedLines {
    /// One flag per line of the new blob.
    added: Vec<bool>,
}

impl AddedLines {
    /// The lines of `new` that are not in `old`.
    pub(crate) fn between(old: &[u8], new: &[u8]) -> AddedLines {
        let input = InternedInput::new(old, new);
        let mut diff = Diff::compute(Algorithm::Histogram, &input);
        // Slides ambiguous hunks the way git shows them, so a duplicated line is reported where
        // a reader of `git diff` sees it added.
        diff.postprocess_lines(&input);
        let lines = u32::try_from(input.after.len()).unwrap_or(u32::MAX);
        AddedLines {
            added: (0..lines).map(|i| diff.is_added(i)).collect(),
        }
    }

    /// Whether 1-based `line` is added.
    pub(crate) fn contains(&self, line: u64) -> bool {
        line.checked_sub(1)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.added.get(i))
            .copied()
            .unwrap_or(false)
    }

    /// Number of added lines.
    pub(crate) fn count(&self) -> usize {
        self.added.iter().filter(|a| **a).count()
    }

    /// Whether at least half of the new blob's lines come from the old one: git's default
    /// threshold for calling an added file a rename of a deleted one.
    pub(crate) fn is_rename(&self) -> bool {
        self.count() * 2 <= self.added.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(old: &str, new: &str) -> Vec<u64> {
        let a = AddedLines::between(old.as_bytes(), new.as_bytes());
        (1..=new.lines().count() as u64 + 1)
            .filter(|l| a.contains(*l))
            .collect()
    }

    #[test]
    fn inserted_and_changed_lines_are_added_moved_lines_are_not() {
        assert_eq!(added("a\nb\nc\n", "a\nX\nb\nc\n"), vec![2]);
        assert_eq!(added("a\nb\nc\n", "a\nB\nc\n"), vec![2]);
        assert_eq!(added("a\nb\nc\n", "x\na\nb\nc\n"), vec![1]);
        assert_eq!(added("a\nb\nc\n", "a\nb\n"), Vec::<u64>::new());
        assert_eq!(added("", "a\nb"), vec![1, 2]);
    }

    #[test]
    fn a_changed_line_ending_counts_as_added() {
        assert_eq!(added("a\nb\n", "a\r\nb\n"), vec![1]);
        assert_eq!(added("a\nb", "a\nb\n"), vec![2]);
    }

    #[test]
    fn rename_needs_half_of_the_lines_unchanged() {
        let a = AddedLines::between(b"1\n2\n3\n4\n", b"1\n2\nx\ny\n");
        assert_eq!(a.count(), 2);
        assert!(a.is_rename());
        let b = AddedLines::between(b"1\n2\n3\n4\n", b"1\nx\ny\nz\n");
        assert!(!b.is_rename());
        assert!(!a.contains(0) && !a.contains(99));
    }
}

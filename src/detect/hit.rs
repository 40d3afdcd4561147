//! `Hit`: a key the detector found in a stream, placed at its line and column, with the member
//! chain of the archive that holds it (#13). Moved down from `source` (#23) so that the allow
//! comments (`detect::allow`), the unpackers and the sources share it without importing each
//! other upwards. Pure data.

use super::Candidate;

/// A key found in a stream, with its line and column.
#[derive(Debug, Clone)]
pub struct Hit {
    /// What the detector found.
    pub candidate: Candidate,
    /// 1-based line.
    pub line: u64,
    /// 1-based column (characters on valid UTF-8, bytes otherwise).
    pub column: u64,
    /// The member chain below the scanned blob that holds the key, outermost first: empty for
    /// a key in the blob itself, which is every key until unpackers exist (#12, #13). Line and
    /// column are inside the innermost member.
    pub members: Vec<String>,
    /// Whether the innermost member looks binary (meaningful only when `members` is not empty;
    /// a key in the blob itself takes the stream's `binary` flag (`source::StreamScan`)).
    pub member_binary: bool,
    /// Container images (#13): the later layer (its member name) whose whiteout deletes the
    /// file holding the key; the file still ships in its own layer.
    pub deleted_in_layer: Option<String>,
}

//! Baseline files (#7): `--write-baseline FILE` records findings, `--baseline FILE` suppresses
//! the findings it lists. A baseline never holds a key: each entry is a fingerprint (rule id,
//! path relative to the scan root, key hash; not the line, so it survives line moves) and, for
//! people reviewing the file, the rule id, the path and the masked key. Never prints.
//!
//! ```json
//! {
//!   "version": 1,
//!   "entries": [
//!     {
//!       "fingerprint": "3f1c…",
//!       "rule_id": "leadey-api-key",
//!       "path": "tests/fixtures/demo.env",
//!       "masked_key": "leadey_sk_live_••••a1b2"
//!     }
//!   ]
//! }
//! ```

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::shown_path;
use crate::detect::redact_builtin;
use crate::problem::FileProblem;

/// The version this build reads and writes.
pub const BASELINE_VERSION: u32 = 1;

/// Why a baseline file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("{path}: cannot read baseline: {error}")]
    Read {
        /// The file, as displayed.
        path: String,
        /// The underlying error (not a `source`: the message already shows it).
        error: std::io::Error,
    },
    /// The file is not a baseline, at a line and column of it.
    #[error(transparent)]
    Invalid(FileProblem),
    /// The file parses but its content is not usable.
    #[error("{path}: {message}")]
    Content {
        /// The file, as displayed.
        path: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The file could not be written.
    #[error("{path}: cannot write baseline: {error}")]
    Write {
        /// The file, as displayed.
        path: String,
        /// The underlying error (not a `source`: the message already shows it).
        error: std::io::Error,
    },
}

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// The fingerprint, from rule id, root-relative path and key hash: what is matched.
    pub fingerprint: String,
    /// For review: the rule.
    pub rule_id: String,
    /// For review: the path relative to the scan root.
    pub path: String,
    /// For review: the key as the dashboard shows it.
    pub masked_key: String,
}

impl Entry {
    fn sort_key(&self) -> (&str, &str, &str, &str) {
        (
            &self.path,
            &self.rule_id,
            &self.masked_key,
            &self.fingerprint,
        )
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    entries: Vec<Entry>,
}

/// A baseline: its file and entries, sorted by path, rule id, masked key, fingerprint, each
/// fingerprint once.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it was read from or is written to.
    pub path: PathBuf,
    /// The entries.
    pub entries: Vec<Entry>,
}

impl Baseline {
    /// A baseline of `entries` to be written at `path`: sorted, each fingerprint once.
    pub fn new(path: PathBuf, entries: Vec<Entry>) -> Baseline {
        let mut entries = entries;
        entries.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut seen = BTreeSet::new();
        entries.retain(|e| seen.insert(e.fingerprint.clone()));
        Baseline { path, entries }
    }

    /// The file, as displayed in messages (key-shaped text masked).
    pub fn display(&self) -> String {
        shown_path(&self.path)
    }

    /// Reads and checks the baseline at `path`.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|error| BaselineError::Read {
            path: shown_path(path),
            error,
        })?;
        Baseline::parse(&text, path)
    }

    /// Checks the text of a baseline file; `path` names it in errors and is where the baseline
    /// would be written back. Quoted values are redacted (key-shaped text masked).
    pub fn parse(text: &str, path: &Path) -> Result<Baseline, BaselineError> {
        let shown = shown_path(path);
        let invalid = |line: usize, column: usize, message: String| {
            BaselineError::Invalid(FileProblem {
                path: shown.clone(),
                line,
                column,
                message: redact_builtin(&message),
            })
        };
        let doc: Document = serde_json::from_str(text).map_err(|e| {
            // serde_json ends its text with the position, which the problem names already.
            let full = e.to_string();
            let what = full
                .split_once(" at line ")
                .map_or(full.as_str(), |(w, _)| w);
            let message = format!(
                "{what}; expected a baseline written by --write-baseline ({{\"version\": 1, \
                 \"entries\": [...]}})"
            );
            invalid(e.line(), e.column(), message)
        })?;
        let content = |message: String| BaselineError::Content {
            path: shown.clone(),
            message: redact_builtin(&message),
        };
        if doc.version != BASELINE_VERSION {
            return Err(content(format!(
                "baseline version {} is not supported: expected {BASELINE_VERSION} (write \
                     it again with this version's --write-baseline)",
                doc.version
            )));
        }
        for (i, e) in doc.entries.iter().enumerate() {
            let fp = &e.fingerprint;
            if fp.len() != 32 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(content(format!(
                    "entry {i}: fingerprint `{}` is not 32 hexadecimal characters",
                    fp.chars().take(40).collect::<String>()
                )));
            }
        }
        let entries = doc
            .entries
            .into_iter()
            .map(|mut e| {
                e.fingerprint.make_ascii_lowercase();
                e
            })
            .collect();
        Ok(Baseline::new(path.to_path_buf(), entries))
    }

    /// The file's text: pretty JSON, one entry per fingerprint, sorted, ending in a newline.
    pub fn to_json(&self) -> String {
        let doc = Document {
            version: BASELINE_VERSION,
            entries: self.entries.clone(),
        };
        // An empty string here would be written as the baseline and lose every entry.
        let mut text = serde_json::to_string_pretty(&doc)
            .expect("invariant: a document of strings and numbers serializes");
        text.push('\n');
        text
    }

    /// Writes the file: to a temporary file next to it, then renamed over it, so that a reader
    /// never sees half a baseline.
    pub fn save(&self) -> Result<(), BaselineError> {
        let err = |error| BaselineError::Write {
            path: self.display(),
            error,
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "baseline".to_string());
        let tmp = self
            .path
            .with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(self.to_json().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fp: &str, path: &str) -> Entry {
        Entry {
            fingerprint: fp.to_string(),
            rule_id: "r".into(),
            path: path.into(),
            masked_key: "p_••••abcd".into(),
        }
    }

    #[test]
    fn entries_are_sorted_and_unique() {
        let b = Baseline::new(
            "b.json".into(),
            vec![
                entry(&"b".repeat(32), "z.txt"),
                entry(&"a".repeat(32), "a.txt"),
                entry(&"b".repeat(32), "z.txt"),
            ],
        );
        let paths: Vec<&str> = b.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a.txt", "z.txt"]);
    }

    #[test]
    fn a_written_baseline_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        let b = Baseline::new(path.clone(), vec![entry(&"0a".repeat(16), "x/y.txt")]);
        b.save().unwrap();
        let back = Baseline::load(&path).unwrap();
        assert_eq!(back.entries, b.entries);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn parse_checks_text_and_names_the_path_masked() {
        let key = "leadey_sk_live_u8jzPde0IgxLd6GncfBA";
        let path = PathBuf::from(format!("{key}.json"));
        let text = format!(
            "{{\"version\": 1, \"entries\": [{{\"fingerprint\": \"{}\", \"rule_id\": \"r\", \
             \"path\": \"a\", \"masked_key\": \"m\"}}]}}",
            "AB".repeat(16)
        );
        let b = Baseline::parse(&text, &path).unwrap();
        assert_eq!(b.entries[0].fingerprint, "ab".repeat(16));
        assert_eq!(b.path, path);
        assert_eq!(b.display(), "leadey_sk_live_••••cfBA.json");
        let e = Baseline::parse("{", &path).unwrap_err().to_string();
        assert!(e.starts_with("leadey_sk_live_••••cfBA.json:1:1: "), "{e}");
    }

    #[test]
    fn a_broken_baseline_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, "{\"version\": 1,\n \"entries\": [1]}").unwrap();
        let e = Baseline::load(&path).unwrap_err().to_string();
        assert!(e.contains("b.json:2:"), "{e}");
        assert!(
            e.contains("expected a baseline written by --write-baseline"),
            "{e}"
        );
        std::fs::write(&path, "{\"version\": 2, \"entries\": []}").unwrap();
        let e = Baseline::load(&path).unwrap_err().to_string();
        assert!(e.contains("baseline version 2 is not supported"), "{e}");
    }
}

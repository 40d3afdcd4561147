//! `FileProblem`: a mistake at a place in a file the user writes — a rule file, the config file,
//! a baseline (#23: one shape for the three, instead of one error type each). Pure data: never
//! reads the file, never prints.

use std::ops::Range;

/// What is wrong at a line and column of a file, shown as `{path}:{line}:{column}: {message}`.
/// Whoever builds one masks key-shaped text in `path` and `message` (see
/// [`FileProblem::redacted`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct FileProblem {
    /// The file, as displayed.
    pub path: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column, in characters (0 when unknown).
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl FileProblem {
    /// The problem `message` in the file shown as `path`, at the start of byte range `span` of
    /// its text `text` (line and column 0 when there is no span).
    pub fn at(
        path: String,
        text: &str,
        span: Option<Range<usize>>,
        message: String,
    ) -> FileProblem {
        let (line, column) = span.map_or((0, 0), |s| line_column(text, s.start));
        FileProblem {
            path,
            line,
            column,
            message,
        }
    }

    /// The problem with `redact` applied to the text that may quote input (the path and the
    /// message), so that a key in a file or in its name never reaches a message (#8).
    pub fn redacted(self, redact: impl Fn(&str) -> String) -> FileProblem {
        FileProblem {
            path: redact(&self.path),
            message: redact(&self.message),
            ..self
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
///
/// ```
/// assert_eq!(leadey_scan::problem::line_column("ab\ncd", 4), (2, 2));
/// ```
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("é\nxy", 4), (2, 2));
        assert_eq!(line_column("ab", 0), (1, 1));
    }

    #[test]
    fn a_problem_names_file_line_and_column_and_masks_what_it_quotes() {
        let p = FileProblem::at("c.toml".into(), "a\nbc = 1", Some(3..4), "bad `KEY`".into());
        assert_eq!(p.to_string(), "c.toml:2:2: bad `KEY`");
        let p = p.redacted(|t| t.replace("KEY", "K••"));
        assert_eq!(p.to_string(), "c.toml:2:2: bad `K••`");
        let p = FileProblem::at("r.toml".into(), "", None, "empty".into());
        assert_eq!(p.to_string(), "r.toml:0:0: empty");
    }
}

//! Reports: the finished `Report` and the reporters that render it into any `io::Write`.
//! Reporters never walk, read files or match bytes.

pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;
pub mod short;

use std::io;

use serde::Serialize;

use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::source::{FileError, Skip};

/// Counts for the summary. `elapsed_ms` is `None` when timing is turned off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Files (and stdin) read to the end.
    pub files_scanned: u64,
    /// Bytes read.
    pub bytes_scanned: u64,
    /// Distinct paths with at least one finding.
    pub files_with_findings: u64,
    /// Findings reported.
    pub findings: u64,
    /// Paths skipped on purpose.
    pub skipped: u64,
    /// Paths that could not be read.
    pub errors: u64,
    /// Findings suppressed (allow comments, config file, baseline), not counted in `findings`.
    pub suppressed: u64,
    /// Wall time of the scan, milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

/// The result of a scan, sorted and ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    /// Sorted by path, line, column, rule id.
    pub findings: Vec<Finding>,
    /// Findings suppressed by an allow comment, the config file or a baseline (#7), each with
    /// its `suppression`; same order. Not counted in `stats.findings`.
    pub suppressed: Vec<Finding>,
    /// Sorted by path.
    pub skipped: Vec<Skip>,
    /// Sorted by path.
    pub errors: Vec<FileError>,
    /// Counts.
    pub stats: Stats,
    /// The rules the scan used (for titles and remediation).
    pub rules: RuleSet,
    /// Report-level warnings, e.g. a shallow clone whose older history was not scanned.
    pub warnings: Vec<String>,
}

/// How to render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Include full keys (`--show-secrets`).
    pub show_secrets: bool,
    /// Use ANSI colours.
    pub color: bool,
    /// List suppressed findings too (human report; JSON and SARIF always carry them).
    pub show_suppressed: bool,
}

/// Something that renders a report.
pub trait Reporter {
    /// Writes `report` to `out`.
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()>;
}

/// Human-readable size: `1.5 MiB`.
///
/// ```
/// assert_eq!(leadey_scan::report::human_bytes(1536), "1.5 KiB");
/// assert_eq!(leadey_scan::report::human_bytes(12), "12 B");
/// ```
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

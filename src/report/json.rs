//! The JSON report (`--format json`): one document, schema version 1, documented in docs/reference.md.
//! Deterministic: the same findings give the same bytes.

use std::io;

use serde::Serialize;

use super::{Counts, RenderOptions, Report, Reporter, VerifiedCounts};
use crate::finding::Finding;
use crate::ignored::Ignored;
use crate::skip::{FileError, Skip};

/// Version of the JSON schema; bumped on incompatible changes.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Renders `--format json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json {
    /// How to render.
    pub options: RenderOptions,
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    suppressed: Vec<JsonFinding<'a>>,
    stats: JsonStats,
    errors: &'a [FileError],
    skipped: &'a [Skip],
    #[serde(skip_serializing_if = "<[Ignored]>::is_empty")]
    ignored: &'a [Ignored],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

/// `stats`: the report's [`Counts`] (#20), in the field names of schema version 1 plus the
/// ones #20 added (`keys`, `members_with_findings`, `incomplete`, `ignored`, `verified`).
#[derive(Serialize)]
struct JsonStats {
    files_scanned: u64,
    bytes_scanned: u64,
    files_with_findings: u64,
    members_with_findings: u64,
    findings: u64,
    keys: u64,
    skipped: u64,
    incomplete: u64,
    ignored: u64,
    errors: u64,
    suppressed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<VerifiedCounts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_ms: Option<u64>,
}

impl JsonStats {
    fn of(report: &Report) -> JsonStats {
        let c = Counts::of(report);
        JsonStats {
            files_scanned: c.files_scanned,
            bytes_scanned: c.bytes_scanned,
            files_with_findings: c.files_with_findings,
            members_with_findings: c.members_with_findings,
            findings: c.findings,
            keys: c.keys,
            skipped: c.skipped,
            incomplete: c.incomplete,
            ignored: c.ignored,
            errors: c.errors,
            suppressed: c.suppressed,
            verified: c.verified,
            elapsed_ms: report.stats.elapsed_ms,
        }
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    /// The severity it is reported with (`report::severity`): the same in every format.
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl Reporter for Json {
    fn render<'a>(&self, report: &'a Report, out: &mut dyn io::Write) -> io::Result<()> {
        let entry = |finding: &'a Finding| JsonFinding {
            finding,
            severity: report
                .rules
                .get(&finding.rule_id)
                .map_or(crate::rules::Severity::Critical, |r| {
                    super::severity(r.severity, finding)
                })
                .as_str(),
            secret: self
                .options
                .show_secrets
                .then(|| String::from_utf8_lossy(finding.key().expose()).into_owned()),
        };
        let doc = Document {
            version: JSON_SCHEMA_VERSION,
            findings: report.findings.iter().map(entry).collect(),
            suppressed: report.suppressed.iter().map(entry).collect(),
            stats: JsonStats::of(report),
            errors: &report.errors,
            skipped: &report.skipped,
            ignored: &report.ignored,
            warnings: &report.warnings,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}

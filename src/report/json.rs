//! The JSON report (`--format json`): one document, schema version 1, documented in docs/reference.md.
//! Deterministic: the same findings give the same bytes.

use std::io;

use serde::Serialize;

use super::{RenderOptions, Report, Reporter, Stats};
use crate::finding::Finding;
use crate::source::{FileError, Skip};

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
    stats: &'a Stats,
    errors: &'a [FileError],
    skipped: &'a [Skip],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl Reporter for Json {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let entry = |finding| JsonFinding {
            finding,
            secret: self
                .options
                .show_secrets
                .then(|| String::from_utf8_lossy(finding.key().expose()).into_owned()),
        };
        let doc = Document {
            version: JSON_SCHEMA_VERSION,
            findings: report.findings.iter().map(entry).collect(),
            suppressed: report.suppressed.iter().map(entry).collect(),
            stats: &report.stats,
            errors: &report.errors,
            skipped: &report.skipped,
            warnings: &report.warnings,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}

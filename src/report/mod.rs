//! Reports: the finished `Report` and the reporters that render it into any `io::Write`.
//! Reporters never walk, read files or match bytes.

pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;
pub mod short;

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use serde::Serialize;

use crate::finding::{Finding, Verification};
use crate::ignored::Ignored;
use crate::rules::{RuleSet, Severity};
use crate::skip::{FileError, Skip, SkipReason};

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
    /// Top-level paths the ignore rules left out of a tree scan (#20), sorted; their contents
    /// were not walked.
    pub ignored: Vec<Ignored>,
}

impl Report {
    /// Adds what `ignored::Shared::finish` found: the ignored paths, and an error for each named
    /// folder under which every file was left out (#20).
    pub fn add_ignored(&mut self, (ignored, errors): (Vec<Ignored>, Vec<FileError>)) {
        self.ignored = ignored;
        if !errors.is_empty() {
            self.errors.extend(errors);
            self.errors.sort();
            self.errors.dedup();
            self.stats.errors = self.errors.len() as u64;
        }
    }
}

/// Keys and the places (findings) they were found in, for one verification status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KeysAndPlaces {
    /// Distinct keys (by SHA-256).
    pub keys: u64,
    /// Findings of those keys.
    pub findings: u64,
}

/// Verification counts by status: distinct keys as well as places (#20: one key in two files
/// is one live key, found twice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VerifiedCounts {
    /// Keys the API accepts.
    pub live: KeysAndPlaces,
    /// Keys the API refused (revoked or never valid).
    pub invalid: KeysAndPlaces,
    /// Keys without a usable answer.
    pub unknown: KeysAndPlaces,
}

/// Every count a report shows, computed in one place from the report's lists (#20), so that
/// the human summary, the short and JSON reports and the job summary agree. Vocabulary: a
/// *finding* is one place a key was found; a *key* is distinct by SHA-256; a *file* is an
/// outermost input (a file of the tree, standard input, a path in git), never an archive
/// member; a *member* is a file inside an archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Findings reported (not suppressed).
    pub findings: u64,
    /// Distinct keys among them.
    pub keys: u64,
    /// Distinct files holding them (archives count once, as files).
    pub files_with_findings: u64,
    /// Distinct archive members holding them.
    pub members_with_findings: u64,
    /// Files read (git scopes: distinct blobs); archive members are not counted.
    pub files_scanned: u64,
    /// Bytes read.
    pub bytes_scanned: u64,
    /// Skips of every reason.
    pub skipped: u64,
    /// Skips whose content was read but not fully opened (`SkipReason::is_incomplete`).
    pub incomplete: u64,
    /// `incomplete` by reason.
    pub incomplete_by_reason: BTreeMap<SkipReason, u64>,
    /// Top-level paths the ignore rules left out.
    pub ignored: u64,
    /// Inputs that could not be read.
    pub errors: u64,
    /// Suppressed findings.
    pub suppressed: u64,
    /// Verification counts, when any finding was verified.
    pub verified: Option<VerifiedCounts>,
}

impl Counts {
    /// The counts of `report`.
    pub fn of(report: &Report) -> Counts {
        let findings = &report.findings;
        let keys = findings
            .iter()
            .map(|f| f.key_sha256)
            .collect::<BTreeSet<_>>();
        let files = findings
            .iter()
            .map(|f| f.origin.outer_display())
            .collect::<BTreeSet<_>>();
        let members = findings
            .iter()
            .filter(|f| !f.origin.members.is_empty())
            .map(|f| f.origin.display())
            .collect::<BTreeSet<_>>();
        let mut incomplete_by_reason = BTreeMap::new();
        for s in report.skipped.iter().filter(|s| s.reason.is_incomplete()) {
            *incomplete_by_reason.entry(s.reason).or_insert(0) += 1;
        }
        Counts {
            findings: findings.len() as u64,
            keys: keys.len() as u64,
            files_with_findings: files.len() as u64,
            members_with_findings: members.len() as u64,
            files_scanned: report.stats.files_scanned,
            bytes_scanned: report.stats.bytes_scanned,
            skipped: report.skipped.len() as u64,
            incomplete: incomplete_by_reason.values().sum(),
            incomplete_by_reason,
            ignored: report.ignored.len() as u64,
            errors: report.errors.len() as u64,
            suppressed: report.suppressed.len() as u64,
            verified: verified_counts(findings),
        }
    }

    /// `3 findings of 2 keys in 2 files (2 archive members)`; `0 findings in 0 files`.
    ///
    /// ```
    /// let c = leadey_scan::report::Counts { findings: 1, keys: 1, files_with_findings: 1,
    ///     ..Default::default() };
    /// assert_eq!(c.findings_text(), "1 finding of 1 key in 1 file");
    /// ```
    pub fn findings_text(&self) -> String {
        let mut text = format!("{} {}", self.findings, plural(self.findings, "finding"));
        if self.findings > 0 {
            text.push_str(&format!(" of {} {}", self.keys, plural(self.keys, "key")));
        }
        text.push_str(&format!(
            " in {} {}",
            self.files_with_findings,
            plural(self.files_with_findings, "file")
        ));
        if self.members_with_findings > 0 {
            text.push_str(&format!(
                " ({} archive {})",
                self.members_with_findings,
                plural(self.members_with_findings, "member")
            ));
        }
        text
    }

    /// `1 live key (2 findings), 1 revoked or invalid, 0 unknown`, when verified.
    pub fn verified_text(&self) -> Option<String> {
        let v = self.verified?;
        let part = |kp: KeysAndPlaces, what: &str| {
            let mut t = format!("{} {what}", kp.keys);
            if kp.findings != kp.keys {
                t.push_str(&format!(
                    " ({} {})",
                    kp.findings,
                    plural(kp.findings, "finding")
                ));
            }
            t
        };
        let keys = v.live.keys + v.invalid.keys + v.unknown.keys;
        Some(format!(
            "verified {keys} {}: {}, {}, {}",
            plural(keys, "key"),
            part(v.live, "live"),
            part(v.invalid, "revoked or invalid"),
            part(v.unknown, "unknown"),
        ))
    }
}

fn verified_counts(findings: &[Finding]) -> Option<VerifiedCounts> {
    let mut sets: [BTreeSet<_>; 3] = Default::default();
    let mut places = [0u64; 3];
    let mut any = false;
    for f in findings {
        let Some(v) = &f.verification else { continue };
        any = true;
        let i = match v {
            Verification::Live { .. } => 0,
            Verification::Invalid { .. } => 1,
            Verification::Unknown { .. } => 2,
        };
        sets[i].insert(f.key_sha256);
        places[i] += 1;
    }
    let kp = |i: usize| KeysAndPlaces {
        keys: sets[i].len() as u64,
        findings: places[i],
    };
    any.then(|| VerifiedCounts {
        live: kp(0),
        invalid: kp(1),
        unknown: kp(2),
    })
}

/// `word` or `word` + `s` for `n`: `1 finding`, `2 findings`, `0 files`.
///
/// ```
/// assert_eq!(leadey_scan::report::plural(1, "key"), "key");
/// assert_eq!(leadey_scan::report::plural(0, "file"), "files");
/// ```
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// The severity a finding is reported with (#20), the same in every format: a key the API
/// accepts is `critical` whatever the rule says; a key it refused (revoked or never valid) is
/// `low`: it no longer opens anything, but it must leave the code and the history; otherwise
/// the rule's severity.
pub fn severity(rule_severity: Severity, finding: &Finding) -> Severity {
    match &finding.verification {
        Some(v) if v.is_live() => Severity::Critical,
        Some(v) if v.is_invalid() => Severity::Low,
        _ => rule_severity,
    }
}

/// What to do about a key the API refused (HTTP 401), in place of the rule's "revoke" help.
pub const INVALID_KEY_HELP: &str = "the Leadey API refused this key (HTTP 401): it is revoked \
     or was never valid, so there is nothing to revoke; remove it from the code and from the \
     git history";

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

//! The one mapping from a finished report and `--fail-on` to the process exit code.

use crate::finding::Finding;
use crate::report::Report;

/// Nothing found and nothing went wrong.
pub const EXIT_CLEAN: u8 = 0;
/// At least one finding that fails the run (per `--fail-on`).
pub const EXIT_FINDINGS: u8 = 1;
/// No failing finding, but an error prevented a full scan (bad arguments, unreadable path, bad
/// rules).
pub const EXIT_ERROR: u8 = 2;

/// The exit code text shown in `--help` and the README.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  no key found (or none that fails the run, see --fail-on) and every file was read
  1  at least one key found that fails the run (--fail-on any: every key;
     live: keys the API accepts; live-or-unknown: keys not known to be revoked)
  2  no failing key found, but an error prevented a full scan
     (bad arguments or rule file, unreadable path)";

/// `--fail-on`: which findings make the exit code 1. Every finding is reported whatever the
/// setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Every finding (the default; needs no --verify).
    #[default]
    Any,
    /// Only keys the API says are live (needs --verify).
    Live,
    /// Keys that are live or whose status is unknown: everything not known to be revoked
    /// (needs --verify).
    LiveOrUnknown,
}

/// Whether `finding` makes the run fail under `fail_on`. An unverified finding counts as
/// unknown: it is not known to be live, nor known to be revoked.
pub fn is_failing(finding: &Finding, fail_on: FailOn) -> bool {
    match fail_on {
        FailOn::Any => true,
        FailOn::Live => finding.verification.as_ref().is_some_and(|v| v.is_live()),
        FailOn::LiveOrUnknown => !finding
            .verification
            .as_ref()
            .is_some_and(|v| v.is_invalid()),
    }
}

/// The exit code for `report`: failing findings win over errors, errors over a clean run.
pub fn exit_code(report: &Report, fail_on: FailOn) -> u8 {
    if report.findings.iter().any(|f| is_failing(f, fail_on)) {
        EXIT_FINDINGS
    } else if !report.errors.is_empty() {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    }
}

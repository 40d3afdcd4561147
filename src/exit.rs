//! The one mapping from a finished report to the process exit code.

use crate::report::Report;

/// Nothing found and nothing went wrong.
pub const EXIT_CLEAN: u8 = 0;
/// At least one finding.
pub const EXIT_FINDINGS: u8 = 1;
/// No finding, but an error prevented a full scan (bad arguments, unreadable path, bad rules).
pub const EXIT_ERROR: u8 = 2;

/// The exit code text shown in `--help` and the README.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  no key found and every file was read
  1  at least one key found
  2  no key found, but an error prevented a full scan
     (bad arguments or rule file, unreadable path)";

/// The exit code for `report`: findings win over errors, errors over a clean run.
pub fn exit_code(report: &Report) -> u8 {
    if !report.findings.is_empty() {
        EXIT_FINDINGS
    } else if !report.errors.is_empty() {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    }
}

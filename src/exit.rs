//! The one mapping from a finished report and `--fail-on` to the process exit code.

use crate::finding::Finding;
use crate::report::Report;

/// Nothing found and nothing went wrong.
pub const EXIT_CLEAN: u8 = 0;
/// At least one finding that fails the run (per `--fail-on`).
pub const EXIT_FINDINGS: u8 = 1;
/// No failing finding, but an error prevented a full scan (bad arguments, unreadable path, bad
/// rules, a named path whose every file the ignore rules left out), or incomplete content with
/// `--fail-on-incomplete` (#20).
pub const EXIT_ERROR: u8 = 2;

/// The exit code text shown in `--help` and the README.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  no key found (or none that fails the run, see --fail-on) and every input was read;
     incomplete content (a damaged, truncated or encrypted archive member, a limit
     reached, an unsupported codec) is listed in the report but does not fail the run
  1  at least one key found that fails the run (--fail-on any: every key;
     live: keys the API accepts; live-or-unknown: keys not known to be revoked)
  2  no failing key found, but an error prevented a full scan (bad arguments; rule,
     config or baseline file; an input that could not be read at all; a named path
     whose every file the ignore rules leave out), or incomplete content with
     --fail-on-incomplete (or --release)
Suppressed findings (allow comments, .leadey-scan.toml, --baseline) never fail the
run, unless --verify finds their key live.";

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

/// What decides the exit code besides the report: `--fail-on` and `--fail-on-incomplete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExitRule {
    /// Which findings make the exit code 1.
    pub fail_on: FailOn,
    /// Whether incomplete content (`SkipReason::is_incomplete`) makes the exit code 2.
    pub fail_on_incomplete: bool,
}

/// Whether `report` holds incomplete content: a skip whose reason is
/// [`SkipReason::is_incomplete`](crate::skip::SkipReason::is_incomplete).
pub fn is_incomplete(report: &Report) -> bool {
    report.skipped.iter().any(|s| s.reason.is_incomplete())
}

/// The exit code for `report` (#20: one rule). Failing findings win (1); then an error that
/// prevented a full scan (2); then incomplete content, only when `rule.fail_on_incomplete` (2);
/// else 0. Incomplete content is always in the report, whatever the rule.
pub fn exit_code(report: &Report, rule: ExitRule) -> u8 {
    if report.findings.iter().any(|f| is_failing(f, rule.fail_on)) {
        EXIT_FINDINGS
    } else if !report.errors.is_empty() || (rule.fail_on_incomplete && is_incomplete(report)) {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{UnknownReason, Verification};
    use crate::report::Stats;
    use crate::rules::RuleSet;
    use crate::skip::FileError;

    fn finding(verification: Option<Verification>) -> Finding {
        let mut f = crate::finding::test_finding();
        f.verification = verification;
        f
    }

    fn report(findings: Vec<Finding>, errors: usize) -> Report {
        Report {
            findings,
            suppressed: Vec::new(),
            skipped: Vec::new(),
            errors: (0..errors)
                .map(|i| {
                    let at = crate::origin::Origin::file(format!("e{i}"), format!("e{i}"));
                    FileError::new(Some(at), "unreadable".into())
                })
                .collect(),
            stats: Stats::default(),
            rules: RuleSet::builtin().expect("built-in rules compile"),
            warnings: Vec::new(),
            ignored: Vec::new(),
        }
    }

    fn rule(fail_on: FailOn) -> ExitRule {
        ExitRule {
            fail_on,
            fail_on_incomplete: false,
        }
    }

    fn live() -> Option<Verification> {
        Some(Verification::Live {
            http_status: 200,
            organization: None,
            api_key: None,
            data: serde_json::Value::Null,
        })
    }

    fn invalid() -> Option<Verification> {
        Some(Verification::Invalid { http_status: 401 })
    }

    fn unknown() -> Option<Verification> {
        Some(Verification::Unknown {
            http_status: None,
            reason: UnknownReason::Timeout,
            detail: None,
        })
    }

    #[test]
    fn any_fails_on_every_finding_and_errors_come_second() {
        assert_eq!(exit_code(&report(vec![], 0), rule(FailOn::Any)), EXIT_CLEAN);
        assert_eq!(exit_code(&report(vec![], 1), rule(FailOn::Any)), EXIT_ERROR);
        let r = report(vec![finding(invalid())], 1);
        assert_eq!(exit_code(&r, rule(FailOn::Any)), EXIT_FINDINGS);
    }

    #[test]
    fn live_fails_only_on_live_keys() {
        let r = report(
            vec![finding(invalid()), finding(unknown()), finding(None)],
            0,
        );
        assert_eq!(exit_code(&r, rule(FailOn::Live)), EXIT_CLEAN);
        let r = report(vec![finding(invalid()), finding(live())], 0);
        assert_eq!(exit_code(&r, rule(FailOn::Live)), EXIT_FINDINGS);
        let r = report(vec![finding(invalid())], 2);
        assert_eq!(exit_code(&r, rule(FailOn::Live)), EXIT_ERROR);
    }

    #[test]
    fn live_or_unknown_passes_only_revoked_keys() {
        let r = report(vec![finding(invalid()), finding(invalid())], 0);
        assert_eq!(exit_code(&r, rule(FailOn::LiveOrUnknown)), EXIT_CLEAN);
        for v in [live(), unknown(), None] {
            let r = report(vec![finding(invalid()), finding(v.clone())], 0);
            assert_eq!(
                exit_code(&r, rule(FailOn::LiveOrUnknown)),
                EXIT_FINDINGS,
                "{v:?}"
            );
        }
    }

    #[test]
    fn incomplete_content_fails_only_when_asked() {
        use crate::skip::{Skip, SkipReason};
        let skip = |reason| {
            Skip::new(
                crate::origin::Origin::file("a.tgz".into(), "a.tgz".into()),
                reason,
            )
        };
        let strict = ExitRule {
            fail_on: FailOn::Any,
            fail_on_incomplete: true,
        };
        let mut r = report(vec![], 0);
        r.skipped = vec![skip(SkipReason::TooLarge), skip(SkipReason::Excluded)];
        assert_eq!(
            exit_code(&r, strict),
            EXIT_CLEAN,
            "chosen skips are not incomplete"
        );
        r.skipped.push(skip(SkipReason::ArchiveTooLarge));
        assert_eq!(exit_code(&r, rule(FailOn::Any)), EXIT_CLEAN);
        assert_eq!(exit_code(&r, strict), EXIT_ERROR);
        r.findings.push(finding(None));
        assert_eq!(exit_code(&r, strict), EXIT_FINDINGS, "findings win");
    }
}

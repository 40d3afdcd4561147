//! GitLab's secret-detection report (`--format gitlab`): the `gl-secret-detection-report.json`
//! a job uploads as `artifacts: reports: secret_detection`, security report schema 15.2.1, so
//! findings show in merge-request security widgets and the vulnerability report.
//!
//! Never writes a key: not the full key (not even with `--show-secrets`: the report is an
//! artifact anyone with access to the pipeline downloads), not the redacted snippet (the schema's
//! `raw_source_code_extract` is by definition unsanitized); only the masked label the dashboard
//! shows. Writes none of the fields schema 15 removed (`category`, `message`, `cve`,
//! `confidence`, `scanner` of a vulnerability). Suppressed findings are left out (GitLab has no
//! state for them); a suppressed key the API says is live is an open finding and is written.

use std::io;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Report, Reporter};
use crate::finding::Finding;
use crate::rules::{Rule, Severity};

/// The security report schema version written (`version`).
pub const SCHEMA_VERSION: &str = "15.2.1";

/// The file name GitLab's documentation and templates use for this report.
pub const REPORT_FILE: &str = "gl-secret-detection-report.json";

/// The commit id written for a finding when neither it nor the scan has one (a folder that is
/// not a git checkout): GitLab requires `location.commit.sha`.
pub const NO_COMMIT: &str = "0000000";

/// Most unreadable paths listed one by one in `scan.messages`; the rest are counted in one.
pub const MAX_ERROR_MESSAGES: usize = 100;

/// GitLab caps `solution` at 7,000 characters.
const MAX_SOLUTION_CHARS: usize = 7_000;

/// Renders `--format gitlab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gitlab {
    /// The commit the scanned tree is at (`CI_COMMIT_SHA` in GitLab CI, else `HEAD`), written
    /// for findings that have no commit of their own; [`NO_COMMIT`] when `None`.
    pub commit: Option<String>,
    /// When the scan ended, seconds since the Unix epoch. `scan.start_time` is this minus the
    /// scan's elapsed time (`stats.elapsed_ms`, 0 with `--no-timing`).
    pub end_time_unix: i64,
}

impl Gitlab {
    /// A reporter whose scan ended now.
    pub fn ending_now(commit: Option<String>) -> Gitlab {
        Gitlab {
            commit,
            end_time_unix: gix::date::Time::now_utc().seconds,
        }
    }
}

#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    schema: String,
    scan: Scan,
    vulnerabilities: Vec<Vulnerability<'a>>,
}

#[derive(Serialize)]
struct Scan {
    analyzer: Component,
    scanner: Component,
    #[serde(rename = "type")]
    kind: &'static str,
    start_time: String,
    end_time: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<Message>,
}

#[derive(Serialize)]
struct Component {
    id: &'static str,
    name: &'static str,
    url: &'static str,
    version: &'static str,
    vendor: Vendor,
}

#[derive(Serialize)]
struct Vendor {
    name: &'static str,
}

#[derive(Serialize)]
struct Message {
    level: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    id: String,
    name: &'a str,
    description: String,
    severity: &'static str,
    solution: String,
    identifiers: Vec<Identifier<'a>>,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Identifier<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    value: &'a str,
}

#[derive(Serialize)]
struct Location<'a> {
    file: String,
    start_line: u64,
    end_line: u64,
    commit: Commit<'a>,
}

#[derive(Serialize)]
struct Commit<'a> {
    sha: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

fn component() -> Component {
    Component {
        id: "leadey-scan",
        name: "leadey-scan",
        url: env!("CARGO_PKG_REPOSITORY"),
        version: env!("CARGO_PKG_VERSION"),
        vendor: Vendor {
            name: "leadey-scan",
        },
    }
}

/// `yyyy-mm-ddThh:mm:ss` in UTC, the only form the schema accepts.
///
/// ```
/// assert_eq!(leadey_scan::report::gitlab::utc_time(0), "1970-01-01T00:00:00");
/// assert_eq!(leadey_scan::report::gitlab::utc_time(1_700_000_000), "2023-11-14T22:13:20");
/// ```
pub fn utc_time(unix_seconds: i64) -> String {
    gix::date::Time::new(unix_seconds, 0)
        .format(gix::date::time::CustomFormat::new("%Y-%m-%dT%H:%M:%S"))
}

/// GitLab's severity of a finding: `Critical` for a key the API says is live, `Low` for one it
/// refused (revoked or never valid: nothing left to exploit, but it should leave the
/// repository), otherwise the rule's severity.
pub fn severity(rule_severity: Severity, finding: &Finding) -> &'static str {
    // #20: the one decision (`report::severity`), in GitLab's spelling.
    match super::severity(rule_severity, finding) {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

/// A stable, UUID-shaped id for a finding: from its fingerprint (rule, path, key hash) and, in
/// git scopes, its commit. The same leak gets the same id in every pipeline, so GitLab keeps
/// one vulnerability for it.
pub fn vulnerability_id(finding: &Finding) -> String {
    let mut h = Sha256::new();
    h.update(b"leadey-scan/gitlab/v1\0");
    h.update(finding.fingerprint.0.as_bytes());
    if let Some(c) = &finding.commit {
        h.update(b"\0");
        h.update(c.id.as_bytes());
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn description(rule: Option<&Rule>, f: &Finding) -> String {
    let title = rule.map_or(f.rule_id.as_str(), |r| r.title.as_str());
    let mut text = format!(
        "{title} {} in {} line {}.",
        f.masked_key, f.location.path, f.location.line
    );
    match f.verification.as_ref().map(|v| v.status()) {
        Some("live") => text.push_str(" The Leadey API accepts it: the key works."),
        Some("invalid") => text.push_str(
            " The Leadey API refused it (revoked or never valid): remove it from the code and \
             from the git history; there is nothing to revoke.",
        ),
        Some(_) => text.push_str(" It could not be verified."),
        None => {}
    }
    if let Some(c) = &f.commit {
        text.push_str(&format!(" Added in commit {}", c.short_id()));
        text.push_str(match f.present_at_head {
            Some(false) => {
                " and deleted later: it is still in the history and still needs revoking."
            }
            _ => ".",
        });
    }
    if let Some(layer) = &f.deleted_in_layer {
        text.push_str(&format!(
            " A later layer of the image ({layer}) deletes the file, but it still ships in its \
             own layer and still needs revoking."
        ));
    }
    if let Some(s) = f.suppression.as_ref().filter(|s| s.overridden.is_some()) {
        text.push_str(&format!(
            " It is suppressed ({}), but the suppression is ignored because the key is live.",
            s.kind.describe()
        ));
    }
    text.push_str(" The key is shown as the dashboard lists it (Settings → API Keys).");
    text
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

impl Gitlab {
    fn vulnerability<'a>(&'a self, report: &'a Report, f: &'a Finding) -> Vulnerability<'a> {
        let rule = report.rules.get(&f.rule_id);
        let commit = match &f.commit {
            Some(c) => Commit {
                sha: &c.id,
                author: Some(&c.author_name),
                date: Some(&c.date),
                message: Some(&c.summary),
            },
            None => Commit {
                sha: self.commit.as_deref().unwrap_or(NO_COMMIT),
                author: None,
                date: None,
                message: None,
            },
        };
        Vulnerability {
            id: vulnerability_id(f),
            name: rule.map_or(f.rule_id.as_str(), |r| r.title.as_str()),
            description: description(rule, f),
            severity: severity(rule.map_or(Severity::Critical, |r| r.severity), f),
            solution: truncate_chars(
                rule.map_or("Revoke the key and replace it.", |r| r.remediation.as_str()),
                MAX_SOLUTION_CHARS,
            ),
            identifiers: vec![Identifier {
                kind: "leadey_scan_rule_id",
                name: format!("leadey-scan rule {}", f.rule_id),
                value: &f.rule_id,
            }],
            location: Location {
                // Relative to the scan root (the repository root for `leadey-scan .`), as
                // GitLab links files from the repository root.
                file: f.origin.relative(),
                start_line: f.location.line,
                end_line: f.location.line,
                commit,
            },
        }
    }
}

impl Reporter for Gitlab {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let elapsed_s = report
            .stats
            .elapsed_ms
            .map_or(0, |ms| i64::try_from(ms.div_ceil(1000)).unwrap_or(i64::MAX));
        let mut messages: Vec<Message> = report
            .errors
            .iter()
            .take(MAX_ERROR_MESSAGES)
            .map(|e| Message {
                level: "warn",
                value: format!("not scanned: {}: {}", e.path, e.message),
            })
            .collect();
        if report.errors.len() > MAX_ERROR_MESSAGES {
            messages.push(Message {
                level: "warn",
                value: format!(
                    "{} more paths could not be scanned",
                    report.errors.len() - MAX_ERROR_MESSAGES
                ),
            });
        }
        messages.extend(report.warnings.iter().map(|w| Message {
            level: "warn",
            value: w.clone(),
        }));
        let doc = Document {
            version: SCHEMA_VERSION,
            schema: format!(
                "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/\
                 v{SCHEMA_VERSION}/dist/secret-detection-report-format.json"
            ),
            scan: Scan {
                analyzer: component(),
                scanner: component(),
                kind: "secret_detection",
                start_time: utc_time(self.end_time_unix.saturating_sub(elapsed_s)),
                end_time: utc_time(self.end_time_unix),
                // A scan that could not read everything still reports what it found; the
                // unread paths are `warn` messages, and the exit code is 2.
                status: "success",
                messages,
            },
            vulnerabilities: report
                .findings
                .iter()
                .map(|f| self.vulnerability(report, f))
                .collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}

/// The schema checks the integration tests use too (#16: one copy).
#[cfg(test)]
#[path = "../../tests/common/gitlab_schema.rs"]
mod gitlab_schema;

#[cfg(test)]
mod tests {
    use super::gitlab_schema::{schema_errors, undeclared};
    use super::*;
    use crate::finding::{test_finding, CommitInfo, Fingerprint, Verification};
    use crate::origin::Origin;
    use crate::report::Stats;
    use crate::rules::RuleSet;
    use crate::skip::FileError;
    use serde_json::Value;

    const SCAN_COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
    const END: i64 = 1_714_564_800; // 2024-05-01T12:00:00Z

    fn commit(id: char) -> CommitInfo {
        CommitInfo {
            id: id.to_string().repeat(40),
            author_name: "Dev".into(),
            author_email: "dev@example.invalid".into(),
            date: "2024-05-01T12:00:00+02:00".into(),
            summary: "add config".into(),
            reflog_only: false,
        }
    }

    /// A report with a tree finding, a live one, one only in history, an unreadable path and
    /// a warning, rendered as GitLab's report.
    fn rendered(scan_commit: Option<&str>) -> (Report, Value) {
        let mut tree = finding_at("app/config.env");
        tree.rule_id = "leadey-api-key".into();
        let mut live = finding_at("deploy/prod.env");
        live.rule_id = "leadey-api-key".into();
        live.verification = Some(Verification::Live {
            http_status: 200,
            organization: None,
            api_key: None,
            data: serde_json::json!({}),
        });
        let mut old = finding_at("old.env");
        old.rule_id = "leadey-api-key".into();
        old.commit = Some(commit('b'));
        old.present_at_head = Some(false);
        let report = Report {
            stats: Stats {
                findings: 3,
                elapsed_ms: Some(2_500),
                ..Stats::default()
            },
            findings: vec![tree, live, old],
            suppressed: vec![finding_at("tests/fixture.env")],
            skipped: Vec::new(),
            errors: vec![FileError::new(
                Some(Origin::file("locked".into(), "locked".into())),
                "cannot read: permission denied".into(),
            )],
            rules: RuleSet::builtin().expect("built-in rules compile"),
            warnings: vec!["shallow clone: older history not scanned".into()],
            ignored: Vec::new(),
        };
        let reporter = Gitlab {
            commit: scan_commit.map(str::to_string),
            end_time_unix: END,
        };
        let mut out = Vec::new();
        reporter.render(&report, &mut out).unwrap();
        let doc = serde_json::from_slice(&out).expect("the report is JSON");
        (report, doc)
    }

    #[test]
    fn the_report_is_valid_under_gitlabs_schema_and_a_broken_one_is_not() {
        let (_, doc) = rendered(Some(SCAN_COMMIT));
        let errors = schema_errors(&doc);
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
        let extra = undeclared(&doc);
        assert!(extra.is_empty(), "not in the schema: {extra:?}");
        // The validator bites: each of these breaks a rule GitLab enforces.
        for (pointer, bad) in [
            ("/vulnerabilities/0/location/commit", Value::Null),
            ("/vulnerabilities/0/identifiers", serde_json::json!([])),
            (
                "/scan/start_time",
                serde_json::json!("2024-05-01T12:00:00Z"),
            ),
            ("/scan/type", serde_json::json!("sast")),
            ("/vulnerabilities/0/severity", serde_json::json!("critical")),
        ] {
            let mut broken = doc.clone();
            *broken.pointer_mut(pointer).unwrap() = bad;
            assert!(!schema_errors(&broken).is_empty(), "{pointer} accepted");
        }
    }

    #[test]
    fn every_required_field_is_written() {
        let (report, doc) = rendered(Some(SCAN_COMMIT));
        assert_eq!(doc["version"], SCHEMA_VERSION);
        let scan = &doc["scan"];
        assert_eq!(scan["type"], "secret_detection");
        assert_eq!(scan["status"], "success");
        assert_eq!(scan["end_time"], "2024-05-01T12:00:00");
        assert_eq!(scan["start_time"], "2024-05-01T11:59:57");
        for part in ["analyzer", "scanner"] {
            assert_eq!(scan[part]["id"], "leadey-scan");
            assert_eq!(scan[part]["version"], env!("CARGO_PKG_VERSION"));
            assert_eq!(scan[part]["vendor"]["name"], "leadey-scan");
        }
        assert_eq!(
            scan["messages"],
            serde_json::json!([
                {"level": "warn", "value": "not scanned: locked: cannot read: permission denied"},
                {"level": "warn", "value": "shallow clone: older history not scanned"},
            ])
        );
        let vulns = doc["vulnerabilities"].as_array().unwrap();
        assert_eq!(vulns.len(), 3, "suppressed findings are left out");
        let rule = report.rules.get("leadey-api-key").unwrap();
        for (v, f) in vulns.iter().zip(&report.findings) {
            assert_eq!(v["id"], vulnerability_id(f));
            assert_eq!(v["name"], rule.title.as_str());
            assert_eq!(v["solution"], rule.remediation.as_str());
            assert_eq!(
                v["identifiers"],
                serde_json::json!([{"type": "leadey_scan_rule_id",
                    "name": "leadey-scan rule leadey-api-key", "value": "leadey-api-key"}])
            );
            assert_eq!(v["location"]["file"], f.location.path.as_str());
            assert_eq!(v["location"]["start_line"], f.location.line);
            assert!(v["description"].as_str().unwrap().contains(&f.masked_key));
            // Schema 15 removed these; GitLab rejects reports that still have them.
            for gone in ["category", "message", "cve", "confidence", "scanner"] {
                assert!(v.get(gone).is_none(), "{gone} in {v:#}");
            }
            assert!(v.get("raw_source_code_extract").is_none());
        }
        assert_eq!(vulns[0]["severity"], "Critical");
        assert_eq!(vulns[1]["severity"], "Critical");
        assert!(vulns[1]["description"]
            .as_str()
            .unwrap()
            .contains("the key works"));
        // The scanned commit for tree findings, the finding's own commit in git scopes.
        assert_eq!(
            vulns[0]["location"]["commit"],
            serde_json::json!({"sha": SCAN_COMMIT})
        );
        assert_eq!(vulns[2]["location"]["commit"]["sha"], "b".repeat(40));
        assert_eq!(vulns[2]["location"]["commit"]["author"], "Dev");
        assert!(vulns[2]["description"]
            .as_str()
            .unwrap()
            .contains("deleted later"));
    }

    #[test]
    fn without_a_commit_the_sha_is_zeros_and_the_report_stays_valid() {
        let (_, doc) = rendered(None);
        assert_eq!(
            doc["vulnerabilities"][0]["location"]["commit"]["sha"],
            NO_COMMIT
        );
        assert!(schema_errors(&doc).is_empty());
    }

    #[test]
    fn the_report_never_holds_a_full_key() {
        let (report, doc) = rendered(Some(SCAN_COMMIT));
        let text = doc.to_string();
        for f in report.findings.iter().chain(&report.suppressed) {
            // Test only: the leak check needs the key it searches for.
            let key = String::from_utf8_lossy(f.key().expose()).into_owned();
            let body = &key[key.len() - 12..];
            assert!(!text.contains(body), "key body in the report");
        }
    }

    /// `test_finding`'s key at another path (with that path's fingerprint).
    fn finding_at(path: &str) -> Finding {
        let mut f = test_finding();
        f.location.path = path.to_string();
        f.origin = Origin::file(path.to_string(), path.to_string());
        f.fingerprint = Fingerprint::new(&f.rule_id, path, &f.key_sha256);
        f
    }

    #[test]
    fn times_are_utc_without_offset() {
        assert_eq!(utc_time(1_714_564_800), "2024-05-01T12:00:00");
    }

    #[test]
    fn ids_are_stable_uuid_shaped_and_differ_by_commit() {
        let f = finding_at("a.env");
        let id = vulnerability_id(&f);
        assert_eq!(id, vulnerability_id(&f.clone()));
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        let mut g = f.clone();
        g.commit = Some(CommitInfo {
            id: "a".repeat(40),
            author_name: "Dev".into(),
            author_email: "dev@example.invalid".into(),
            date: "2024-05-01T12:00:00+02:00".into(),
            summary: "add".into(),
            reflog_only: false,
        });
        assert_ne!(vulnerability_id(&g), id);
        assert_ne!(vulnerability_id(&finding_at("b.env")), id);
    }

    #[test]
    fn live_keys_are_critical_and_refused_ones_low() {
        let mut f = test_finding();
        assert_eq!(severity(Severity::High, &f), "High");
        f.verification = Some(Verification::Invalid { http_status: 401 });
        assert_eq!(severity(Severity::High, &f), "Low");
        f.verification = Some(Verification::Live {
            http_status: 200,
            organization: None,
            api_key: None,
            data: serde_json::json!({}),
        });
        assert_eq!(severity(Severity::Low, &f), "Critical");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        assert_eq!(truncate_chars("ab→cd", 3), "ab→");
        assert_eq!(truncate_chars("abc", 7), "abc");
    }
}

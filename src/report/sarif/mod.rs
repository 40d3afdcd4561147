//! The SARIF 2.1.0 report (`--format sarif`), shaped for GitHub code scanning
//! (`github/codeql-action/upload-sarif`): one run, one rule descriptor per loaded rule, one
//! result per finding, unreadable files as tool execution notifications. Built with the
//! `serde-sarif` types. Never prints and never reads files; the directory that artifact URIs
//! are relative to is a field (`Sarif::new` takes the current directory).
//!
//! GitHub keeps at most 5,000 results of a run and rejects files over 10 MB gzipped, so the
//! log holds at most [`MAX_RESULTS`] results (live keys first, then in report order) and at
//! most [`MAX_RESULTS_BYTES`] of them; what is cut is counted in `run.properties.truncated`,
//! told in a warning notification, and returned by [`Sarif::truncation_warning`] for `main`
//! to print.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactContent, ArtifactLocation, Invocation, Location, LogicalLocation, Message,
    MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region,
    ReportingConfiguration, ReportingDescriptor, ReportingDescriptorReference,
    Result as SarifResult, ResultLevel, Run, Sarif as SarifLog, Suppression, Tool, ToolComponent,
};

use super::{RenderOptions, Report, Reporter};
use crate::finding::{Finding, Verification, LIVE_OVERRIDE_REASON, MASK_BULLETS};
use crate::origin::{normalize_bytes, split_root, DisplayPath, Origin};
use crate::rules::{Rule, Severity};

/// The schema the log declares (the OASIS errata 01 schema, as in `tests/data/`).
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Most results in one log: GitHub code scanning keeps 5,000 results of a run (and rejects a
/// run with more than 25,000).
pub const MAX_RESULTS: usize = 5_000;

/// Most bytes of results (compact JSON) in one log. GitHub rejects files over 10 MB gzipped;
/// keeping the results under 8 MiB before compression keeps the whole file under that bound
/// whatever its content. A typical result is about 0.7 KiB (5,000 of them: 6.6 MB pretty,
/// 0.5 MB gzipped), so this only bites on very long paths.
pub const MAX_RESULTS_BYTES: usize = 8 << 20;

/// Most unreadable files listed one by one as notifications; the rest are counted in one more.
pub const MAX_FILE_ERROR_NOTIFICATIONS: usize = 1_000;

/// The `uriBaseId` of relative artifact URIs: the directory leadey-scan ran in.
pub const SRCROOT: &str = "%SRCROOT%";

/// Our own, versioned key in `partialFingerprints` (bumped if the fingerprint changes).
pub const FINGERPRINT_KEY: &str = "leadeyScan/v1";

/// The key GitHub code scanning matches alerts by; it computes one from the file's content
/// when it is absent, so we give ours (see docs/reference.md, "SARIF log").
pub const GITHUB_FINGERPRINT_KEY: &str = "primaryLocationLineHash";

/// Notification descriptor id for a file that could not be read.
pub const FILE_ERROR_ID: &str = "file-error";

/// Notification descriptor id for findings left out of the log.
pub const TRUNCATED_ID: &str = "results-truncated";

/// Notification descriptor id for incomplete content (#20): read, not fully opened.
pub const INCOMPLETE_ID: &str = "incomplete-content";

/// Caps on what one log holds; [`Limits::default`] is GitHub's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most results.
    pub max_results: usize,
    /// Most bytes of results, compact JSON.
    pub max_results_bytes: usize,
    /// Most unreadable files listed one by one.
    pub max_file_error_notifications: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_results: MAX_RESULTS,
            max_results_bytes: MAX_RESULTS_BYTES,
            max_file_error_notifications: MAX_FILE_ERROR_NOTIFICATIONS,
        }
    }
}

/// Renders `--format sarif`.
#[derive(Debug, Clone, Default)]
pub struct Sarif {
    /// How to render (`show_secrets` adds `properties.secret` to each result).
    pub options: RenderOptions,
    /// The directory relative artifact URIs are relative to (`%SRCROOT%`): display paths under
    /// it become relative URIs, others `file://` URIs. `None` when unknown: relative display
    /// paths stay relative, absolute ones become `file://` URIs.
    pub base_dir: Option<PathBuf>,
    /// Caps on the size of the log.
    pub limits: Limits,
}

impl Reporter for Sarif {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &self.to_log(report))?;
        out.write_all(b"\n")
    }
}

/// Results chosen for the log, and how many findings were left out.
struct Selection {
    results: Vec<SarifResult>,
    truncated: usize,
}

impl Sarif {
    /// A reporter whose relative URIs are relative to the current directory.
    pub fn new(options: RenderOptions) -> Sarif {
        Sarif {
            options,
            base_dir: std::env::current_dir().ok(),
            limits: Limits::default(),
        }
    }

    /// How many findings the log leaves out to stay within the limits.
    pub fn truncated(&self, report: &Report) -> usize {
        self.select(report).truncated
    }

    /// The one warning `main` prints when findings were left out, or `None`.
    pub fn truncation_warning(&self, report: &Report) -> Option<String> {
        let cut = self.truncated(report);
        (cut > 0).then(|| truncation_text(cut, result_count(report)))
    }

    /// The whole log.
    pub fn to_log(&self, report: &Report) -> SarifLog {
        let selection = self.select(report);
        let base = self.base_path();
        let mut base_ids = BTreeMap::new();
        let srcroot = match &base {
            Some(b) => ArtifactLocation::builder()
                .uri(dir_uri(b.as_bytes()))
                .build(),
            None => ArtifactLocation::builder()
                .description(text_message("The directory leadey-scan ran in (unknown)."))
                .build(),
        };
        base_ids.insert(SRCROOT.to_string(), srcroot);

        let mut notifications: Vec<Notification> = Vec::new();
        let cap = self.limits.max_file_error_notifications;
        for err in report.errors.iter().take(cap) {
            let mut n = Notification::builder()
                .level(json!("error"))
                .descriptor(descriptor_ref(FILE_ERROR_ID, 0))
                .message(text_message(&format!("{}: {}", err.path, err.message)))
                .build();
            if let Some(origin) = &err.origin {
                n.locations = Some(vec![Location::builder()
                    .physical_location(
                        PhysicalLocation::builder()
                            .artifact_location(self.artifact_location(origin))
                            .build(),
                    )
                    .build()]);
            }
            notifications.push(n);
        }
        if report.errors.len() > cap {
            let more = report.errors.len() - cap;
            notifications.push(
                Notification::builder()
                    .level(json!("error"))
                    .descriptor(descriptor_ref(FILE_ERROR_ID, 0))
                    .message(text_message(&format!(
                        "{more} more {} could not be read (not listed here; see the \
                         warnings on standard error or --format json).",
                        if more == 1 { "path" } else { "paths" }
                    )))
                    .build(),
            );
        }
        // #20: incomplete content is never silent, in the log too.
        let incomplete = report.skipped.iter().filter(|s| s.reason.is_incomplete());
        for skip in incomplete.take(cap) {
            let mut n = Notification::builder()
                .level(json!("warning"))
                .descriptor(descriptor_ref(INCOMPLETE_ID, 2))
                .message(text_message(&format!(
                    "{}: {}",
                    skip.path,
                    skip.reason.describe()
                )))
                .build();
            n.locations = Some(vec![Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(self.artifact_location(&skip.origin))
                        .build(),
                )
                .build()]);
            notifications.push(n);
        }
        if selection.truncated > 0 {
            notifications.push(
                Notification::builder()
                    .level(json!("warning"))
                    .descriptor(descriptor_ref(TRUNCATED_ID, 1))
                    .message(text_message(&truncation_text(
                        selection.truncated,
                        result_count(report),
                    )))
                    .build(),
            );
        }

        let mut invocation = Invocation::builder()
            .execution_successful(report.errors.is_empty())
            .build();
        if !notifications.is_empty() {
            invocation.tool_execution_notifications = Some(notifications);
        }
        if let Some(b) = &base {
            // GitHub makes absolute URIs under this directory relative to the repository.
            invocation.working_directory = Some(
                ArtifactLocation::builder()
                    .uri(dir_uri(b.as_bytes()))
                    .build(),
            );
        }

        let mut run_props = BTreeMap::new();
        run_props.insert("truncated".to_string(), json!(selection.truncated));
        run_props.insert("stats".to_string(), to_json(&report.stats));
        let run = Run::builder()
            .tool(Tool::builder().driver(driver(report)).build())
            .invocations(vec![invocation])
            .original_uri_base_ids(base_ids)
            .column_kind(json!("unicodeCodePoints"))
            .results(selection.results)
            .properties(
                PropertyBag::builder()
                    .additional_properties(run_props)
                    .build(),
            )
            .build();
        SarifLog::builder()
            .schema(SARIF_SCHEMA_URI)
            .version(json!("2.1.0"))
            .runs(vec![run])
            .build()
    }

    /// Orders findings (live keys first, then report order: path, line, column) and keeps what
    /// fits the limits.
    fn select(&self, report: &Report) -> Selection {
        let mut order: Vec<&Finding> = report.findings.iter().collect();
        // Stable: report order is kept within a rank.
        order.sort_by_cached_key(|f| verification_rank(f.verification.as_ref()));
        // #7: suppressed findings are results too (GitHub shows them dismissed), after the rest.
        order.extend(report.suppressed.iter());
        let mut results = Vec::new();
        let mut bytes = 0usize;
        for finding in order {
            if results.len() >= self.limits.max_results {
                break;
            }
            let result = self.result(report, finding);
            let size = serde_json::to_vec(&result).map_or(0, |v| v.len());
            if bytes.saturating_add(size) > self.limits.max_results_bytes {
                break; // keep the priority order: no smaller, later result jumps the queue
            }
            bytes += size;
            results.push(result);
        }
        Selection {
            truncated: result_count(report) - results.len(),
            results,
        }
    }

    fn result(&self, report: &Report, f: &Finding) -> SarifResult {
        let rules = report.rules.rules();
        let rule_index = rules.iter().position(|r| r.id == f.rule_id);
        let rule = rule_index.and_then(|i| rules.get(i));
        let title = rule.map_or(f.rule_id.as_str(), |r| r.title.as_str());
        let status = f.verification.as_ref().and_then(verification_status);
        let status_text = match status.as_deref() {
            Some("live") => " (verified live: the key works)",
            Some("invalid") => " (refused by the API: revoked or never valid)",
            Some(_) => " (could not be verified)",
            None => "",
        };
        let suppression_text = match &f.suppression {
            Some(s) if s.overridden.is_some() => format!(
                " It is suppressed ({}), but the suppression is ignored: {}.",
                s.kind.describe(),
                LIVE_OVERRIDE_REASON
            ),
            _ => String::new(),
        };
        let commit_text = match (&f.commit, f.present_at_head) {
            (Some(c), Some(false)) => format!(
                " It was added in commit {} and deleted later: it is still in the history, \
                 and still needs revoking.{}",
                c.short_id(),
                if c.reflog_only {
                    " Only a reflog still holds that commit: revoke the key if it was ever pushed."
                } else {
                    ""
                }
            ),
            (Some(c), _) => format!(" It was added in commit {}.", c.short_id()),
            (None, _) => String::new(),
        };
        let layer_text = f.deleted_in_layer.as_ref().map_or(String::new(), |layer| {
            format!(
                " A later layer of the image ({layer}) deletes the file, but it still ships in \
                 its own layer: the key still needs revoking."
            )
        });
        // #20: a key the API refused has nothing left to revoke.
        let todo = if status.as_deref() == Some("invalid") {
            "Remove it from the code and from the git history; there is nothing to revoke."
        } else {
            "Revoke and rotate it: see the rule's help."
        };
        let message = format!(
            "Leaked {title} {}{status_text}. {todo}{commit_text}{layer_text}{suppression_text}",
            f.masked_key
        );

        let loc = &f.location;
        // #12: the span of the matched bytes (the key, or its encoded form), not the key's length.
        let span = loc.byte_length;
        let mut region = Region::builder()
            .start_line(to_i64(loc.line))
            .start_column(to_i64(loc.column))
            .end_line(to_i64(loc.line))
            // Keys and their encoded forms are ASCII: as many characters as bytes.
            .end_column(to_i64(loc.column.saturating_add(span)))
            .byte_offset(to_i64(loc.byte_offset))
            .byte_length(to_i64(span))
            .build();
        if !f.snippet.is_empty() {
            region.snippet = Some(ArtifactContent::builder().text(f.snippet.clone()).build());
        }
        // The physical location is the outermost file, the one that exists in the repository;
        // a member inside it (#13) is named by a logical location and `properties.members`.
        let mut location = Location::builder()
            .physical_location(
                PhysicalLocation::builder()
                    .artifact_location(self.artifact_location(&f.origin))
                    .region(region)
                    .build(),
            )
            .build();
        if let Some(member) = f.origin.members.last() {
            location.logical_locations = Some(vec![LogicalLocation::builder()
                .fully_qualified_name(f.origin.display())
                .name(member.clone())
                .kind("member")
                .build()]);
        }

        let mut fingerprints = BTreeMap::new();
        fingerprints.insert(GITHUB_FINGERPRINT_KEY.to_string(), f.fingerprint.0.clone());
        fingerprints.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.0.clone());

        let mut result = SarifResult::builder()
            .rule_id(f.rule_id.to_string())
            .level(rule.map_or(ResultLevel::Error, |r| {
                level(super::severity(r.severity, f))
            }))
            .message(text_message(&message))
            .locations(vec![location])
            .partial_fingerprints(fingerprints)
            .properties(
                PropertyBag::builder()
                    .additional_properties(self.result_properties(f))
                    .build(),
            )
            .build();
        result.rule_index = rule_index.map(|i| i as i64);
        if let Some(s) = f.suppression.as_ref().filter(|s| s.overridden.is_none()) {
            let kind = if s.kind.is_in_source() {
                "inSource"
            } else {
                "external"
            };
            result.suppressions = Some(vec![Suppression::builder()
                .kind(json!(kind))
                .status(json!("accepted"))
                .justification(format!("{}: {}", s.kind.describe(), s.detail))
                .build()]);
        }
        result
    }

    /// `result.properties`: the hook for data beyond SARIF's own fields. `verification` is the
    /// finding's `Verification` serialized as is (`{"status": "live", ...}`), so a richer type
    /// lands in the same place. #5: git findings add their `commit`, and `--history` ones
    /// `present_at_head` and `history_only`.
    fn result_properties(&self, f: &Finding) -> BTreeMap<String, Value> {
        let mut props = BTreeMap::new();
        props.insert("masked_key".to_string(), json!(f.masked_key));
        props.insert("key_sha256".to_string(), json!(f.key_sha256.to_hex()));
        props.insert("binary".to_string(), json!(f.binary));
        if !f.origin.members.is_empty() {
            props.insert("members".to_string(), json!(f.origin.members));
        }
        if !f.encoding.is_empty() {
            props.insert("encoding".to_string(), json!(f.encoding));
        }
        if let Some(v) = &f.verification {
            props.insert("verification".to_string(), to_json(v));
        }
        if let Some(s) = &f.suppression {
            props.insert("suppression".to_string(), to_json(s));
        }
        if let Some(c) = &f.commit {
            props.insert("commit".to_string(), to_json(c));
        }
        if let Some(present) = f.present_at_head {
            props.insert("present_at_head".to_string(), json!(present));
            // The marker `--sarif-file` and code-scanning categories split on (#5).
            props.insert("history_only".to_string(), json!(!present));
        }
        if let Some(layer) = &f.deleted_in_layer {
            props.insert("deleted_in_layer".to_string(), json!(layer));
        }
        if self.options.show_secrets {
            // The only place a full key may appear in the log: never in a message.
            let secret = String::from_utf8_lossy(f.key().expose()).into_owned();
            props.insert("secret".to_string(), json!(secret));
        }
        props
    }

    /// The base directory's display path, when it is absolute.
    fn base_path(&self) -> Option<DisplayPath> {
        self.base_dir
            .as_deref()
            .filter(|b| b.is_absolute())
            .map(DisplayPath::from_path)
    }

    /// Where the outermost input of `origin` is, as a SARIF artifact location.
    fn artifact_location(&self, origin: &Origin) -> ArtifactLocation {
        let base = self.base_path();
        match place(origin, base.as_ref().map(DisplayPath::as_bytes)) {
            Place::Relative(rel) => ArtifactLocation::builder()
                .uri(encode_path(&rel))
                .uri_base_id(SRCROOT)
                .build(),
            Place::Absolute(abs) => ArtifactLocation::builder().uri(file_uri(&abs)).build(),
            Place::Stdin => ArtifactLocation::builder()
                .description(text_message("standard input"))
                .build(),
        }
    }
}

/// Findings that become results when nothing is cut: reported and suppressed ones.
fn result_count(report: &Report) -> usize {
    report.findings.len() + report.suppressed.len()
}

/// The truncation warning, for the log and for stderr.
fn truncation_text(cut: usize, total: usize) -> String {
    format!(
        "{cut} of {total} findings left out of the SARIF log to stay within GitHub code \
         scanning's limits ({MAX_RESULTS} results, 10 MB); live keys come first. Use \
         --format json for the full list."
    )
}

/// Sort rank: live keys, then unverified or unknown, then keys the API refused.
fn verification_rank(v: Option<&Verification>) -> u8 {
    match v.and_then(verification_status).as_deref() {
        Some("live") => 0,
        Some("invalid") => 2,
        _ => 1,
    }
}

/// The `status` of a serialized verification (`live`, `invalid`, `unknown`). Read from the
/// serialized form so that any `Verification` shape with a `status` tag works.
fn verification_status(v: &Verification) -> Option<String> {
    match to_json(v).get("status") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn text_message(text: &str) -> Message {
    Message::builder().text(text).build()
}

fn descriptor_ref(id: &str, index: i64) -> ReportingDescriptorReference {
    ReportingDescriptorReference::builder()
        .id(id)
        .index(index)
        .build()
}

/// `tool.driver`: name, versions, the rules and the notification descriptors.
fn driver(report: &Report) -> ToolComponent {
    let notifications = vec![
        notification_descriptor(NotificationText {
            id: FILE_ERROR_ID,
            name: "FileError",
            short: "A file or folder could not be read, so the scan is incomplete.",
            full: "leadey-scan could not read a file or folder it was asked to scan (permission \
                   denied, a broken link, an I/O error, a git object that did not decode). \
                   Keys in it, if any, are not in this log. The notification's message names \
                   the path and the reason.",
            help: "Fix what the message names (permissions, a missing or damaged file, a \
                   shallow or corrupt git repository) and run the scan again; until then the \
                   run is reported as not successful (exit code 2).",
            level: "error",
        }),
        notification_descriptor(NotificationText {
            id: TRUNCATED_ID,
            name: "ResultsTruncated",
            short:
                "Findings were left out of the log to stay within GitHub code scanning's limits.",
            full: "GitHub code scanning keeps at most 5,000 results per run and rejects larger \
                   files, so the log holds live keys first, then findings in path order, and \
                   counts the rest in run.properties.truncated.",
            help: "Run leadey-scan with --format json for the complete list of findings, and \
                   revoke the keys it reports; the SARIF log holds only the first ones.",
            level: "warning",
        }),
        notification_descriptor(NotificationText {
            id: INCOMPLETE_ID,
            name: "IncompleteContent",
            short: "Content was read but could not be fully opened, so keys in it may be missed.",
            full: "An archive member was corrupt, truncated, encrypted or in an unsupported \
                   codec, or a limit (--max-archive-bytes, --max-archive-depth, the member \
                   count) was reached. The notification names the member and the reason.",
            help: "Raise the limit the message names, or check the archive by hand. The run \
                   passes unless --fail-on-incomplete (or --release) is given.",
            level: "warning",
        }),
    ];
    ToolComponent::builder()
        .name("leadey-scan")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri(env!("CARGO_PKG_REPOSITORY"))
        .rules(
            report
                .rules
                .rules()
                .iter()
                .map(rule_descriptor)
                .collect::<Vec<_>>(),
        )
        .notifications(notifications)
        .build()
}

/// What a notification descriptor says. GitHub's ingestion rules (the SARIF Multitool's
/// GH2012) want a `fullDescription` and a `help` on every descriptor, notifications included.
struct NotificationText<'a> {
    id: &'a str,
    name: &'a str,
    short: &'a str,
    full: &'a str,
    help: &'a str,
    level: &'a str,
}

fn notification_descriptor(text: NotificationText<'_>) -> ReportingDescriptor {
    let NotificationText {
        id,
        name,
        short,
        full,
        help,
        level,
    } = text;
    ReportingDescriptor::builder()
        .id(id)
        .name(name)
        .short_description(multiformat(short, None))
        .full_description(multiformat(full, None))
        .help(multiformat(help, None))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level))
                .build(),
        )
        .build()
}

fn multiformat(text: &str, markdown: Option<String>) -> MultiformatMessageString {
    let mut m = MultiformatMessageString::builder().text(text).build();
    m.markdown = markdown;
    m
}

/// One `reportingDescriptor`: what leaked, how to revoke and rotate, and GitHub's properties.
fn rule_descriptor(rule: &Rule) -> ReportingDescriptor {
    let description = if rule.description.trim().is_empty() {
        rule.title.clone()
    } else {
        rule.description.clone()
    };
    let masked_example = format!(
        "{}{MASK_BULLETS}",
        String::from_utf8_lossy(&rule.prefix).into_owned()
    );
    let help_text = format!(
        "What leaked: {description}\n\nWhat to do: {}\n\nAlerts name the key as the dashboard \
         shows it: {masked_example} followed by its last four characters. The full key is never \
         written to the report unless --show-secrets is given.",
        rule.remediation
    );
    let help_markdown = format!(
        "**What leaked.** {description}\n\n**What to do.** {}\n\nAlerts name the key as the \
         dashboard shows it: `{masked_example}` followed by its last four characters. The full \
         key is never written to the report unless `--show-secrets` is given.",
        rule.remediation
    );
    let mut props = BTreeMap::new();
    props.insert("precision".to_string(), json!(rule.precision.as_str()));
    props.insert(
        "security-severity".to_string(),
        json!(security_severity(rule.severity)),
    );
    props.insert("severity".to_string(), json!(rule.severity.as_str()));
    ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(pascal_case(&rule.id))
        .short_description(multiformat(&rule.title, None))
        .full_description(multiformat(&description, None))
        .help(multiformat(&help_text, Some(help_markdown)))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level_name(rule.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec!["security".to_string(), "secret".to_string()])
                .additional_properties(props)
                .build(),
        )
        .build()
}

/// GitHub's `security-severity` (a CVSS-like score as text) for a rule severity. GitHub shows
/// over 9.0 as critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
///
/// ```
/// use leadey_scan::rules::Severity;
/// assert_eq!(leadey_scan::report::sarif::security_severity(Severity::Critical), "9.8");
/// ```
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.8",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low => ResultLevel::Note,
    }
}

fn level_name(severity: Severity) -> &'static str {
    match level(severity) {
        ResultLevel::Error => "error",
        ResultLevel::Warning => "warning",
        ResultLevel::Note => "note",
        ResultLevel::None => "none",
    }
}

/// `leadey-api-key` → `LeadeyApiKey` (SARIF's `name` is an identifier).
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Where an artifact is, relative to the base directory or not.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// A `/`-separated path below the base directory (the path's bytes).
    Relative(Vec<u8>),
    /// An absolute `/`-separated path (the path's bytes).
    Absolute(Vec<u8>),
    /// Standard input: no URI.
    Stdin,
}

/// Places the outermost input of `origin` (its display path's bytes, #23: not its escaped
/// text) given the base directory `base` (the bytes of an absolute display path). Relative
/// paths without `.`/`..` segments are kept as they are; others are resolved against `base`
/// lexically (symbolic links are not looked at: the reporter reads nothing).
fn place(origin: &Origin, base: Option<&[u8]>) -> Place {
    let Some(path) = origin.outer_path() else {
        return Place::Stdin;
    };
    let path = path.as_bytes();
    let absolute = is_absolute(path);
    let plain = !path
        .split(|&b| b == b'/')
        .any(|seg| seg.is_empty() || seg == b"." || seg == b"..");
    if !absolute && plain {
        return Place::Relative(path.to_vec());
    }
    let Some(base) = base else {
        return if absolute {
            Place::Absolute(normalize_bytes(path))
        } else {
            Place::Relative(path.to_vec())
        };
    };
    let full = if absolute {
        normalize_bytes(path)
    } else {
        normalize_bytes(&[base, b"/", path].concat())
    };
    let mut prefix = normalize_bytes(base);
    if !prefix.ends_with(b"/") {
        prefix.push(b'/');
    }
    match full.strip_prefix(prefix.as_slice()) {
        Some(rel) if !rel.is_empty() => Place::Relative(rel.to_vec()),
        _ => Place::Absolute(full),
    }
}

/// Whether the display path of bytes `path` is absolute on this platform.
#[cfg(unix)]
fn is_absolute(path: &[u8]) -> bool {
    path.starts_with(b"/")
}

/// Whether the display path of bytes `path` is absolute on this platform.
#[cfg(not(unix))]
fn is_absolute(path: &[u8]) -> bool {
    std::path::Path::new(&*String::from_utf8_lossy(path)).is_absolute()
}

/// The `file://` URI of the bytes of an absolute display path.
fn file_uri(abs: &[u8]) -> String {
    let (root, rest) = split_root(abs);
    match root {
        b"//" => format!("file://{}", encode_path(rest)), // UNC: //server/share/…
        b"/" | b"" => format!("file:///{}", encode_path(rest)),
        // `C:`: an ASCII letter and a colon (`split_root`).
        drive => format!(
            "file:///{}/{}",
            String::from_utf8_lossy(drive),
            encode_path(rest)
        ),
    }
}

/// The `file://` URI of a directory, ending in `/` as `originalUriBaseIds` requires.
fn dir_uri(abs: &[u8]) -> String {
    let uri = file_uri(abs);
    if uri.ends_with('/') {
        uri
    } else {
        uri + "/"
    }
}

/// Percent-encodes the bytes of a `/`-separated path for a URI (RFC 3986): every byte but the
/// unreserved characters and `/` becomes `%XX`, so spaces, non-ASCII, bytes that are not
/// UTF-8, `%`, `#`, `?`, `:` and `+` are safe in any reader.
///
/// ```
/// # use leadey_scan::report::sarif::encode_path;
/// assert_eq!(encode_path("a b/é#1?%.txt".as_bytes()), "a%20b/%C3%A9%231%3F%25.txt");
/// ```
pub fn encode_path(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;

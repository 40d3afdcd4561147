//! GitHub Actions mode (`--github`): reads the runner's standard environment to decide what to
//! scan for the triggering event, and renders what GitHub shows: workflow annotations, a job
//! summary table and step outputs. Pure functions on data; `main.rs` does the file writes.

use std::fmt::Write as _;

use serde_json::Value;

use crate::report::Report;

/// GitHub shows at most this many error annotations per step; the job summary has the rest.
pub const MAX_ANNOTATIONS: usize = 10;

/// The all-zero id GitHub sends as `before` when a push creates a branch.
const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// What the event asks us to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Lines added by the commits reachable from `head` and not from `base`.
    Range {
        /// Exclusive base (a commit id or ref).
        base: String,
        /// Inclusive head.
        head: String,
    },
    /// Nothing to scan (a deleted branch); why.
    Nothing(String),
    /// The whole working tree (schedule, manual runs, other events).
    Tree,
}

/// Why the GitHub environment could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// A variable the runner always sets is missing.
    #[error(
        "{0} is not set: --github runs inside GitHub Actions (or a simulation of its environment)"
    )]
    MissingVar(&'static str),
    /// The event file could not be read or parsed.
    #[error("cannot read the event file {path}: {message}")]
    Event {
        /// `GITHUB_EVENT_PATH`.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The event lacks a field we need.
    #[error("the {event} event has no `{field}`")]
    MissingField {
        /// Event name.
        event: String,
        /// JSON path of the field.
        field: &'static str,
    },
}

/// Decides the scan for `event_name` with payload `event`.
///
/// - `pull_request`/`pull_request_target`: `base.sha..head.sha`, i.e. every commit of the pull
///   request, however many (commits reachable from the head and not from the base).
/// - `push`: `before..after`; a new branch (`before` all zeros) is compared with the default
///   branch (`origin/<default_branch>`); a deleted branch scans nothing.
/// - anything else (`schedule`, `workflow_dispatch`, …): the whole tree.
pub fn plan(event_name: &str, event: &Value) -> Result<Plan, GithubError> {
    let field = |path: &'static str| -> Result<String, GithubError> {
        let mut v = event;
        for part in path.split('.') {
            v = v.get(part).unwrap_or(&Value::Null);
        }
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| GithubError::MissingField {
                event: event_name.to_string(),
                field: path,
            })
    };
    match event_name {
        "pull_request" | "pull_request_target" => Ok(Plan::Range {
            base: field("pull_request.base.sha")?,
            head: field("pull_request.head.sha")?,
        }),
        "push" => {
            if event.get("deleted").and_then(Value::as_bool) == Some(true) {
                return Ok(Plan::Nothing("the push deleted a branch".into()));
            }
            let after = field("after")?;
            let before = field("before")?;
            if before == ZERO_SHA {
                let default = field("repository.default_branch")?;
                Ok(Plan::Range {
                    base: format!("origin/{default}"),
                    head: after,
                })
            } else {
                Ok(Plan::Range {
                    base: before,
                    head: after,
                })
            }
        }
        _ => Ok(Plan::Tree),
    }
}

/// Reads `GITHUB_EVENT_NAME` and the JSON at `GITHUB_EVENT_PATH` through `var`.
pub fn plan_from_env(var: impl Fn(&str) -> Option<String>) -> Result<Plan, GithubError> {
    let name = var("GITHUB_EVENT_NAME").ok_or(GithubError::MissingVar("GITHUB_EVENT_NAME"))?;
    let event = match var("GITHUB_EVENT_PATH") {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| GithubError::Event {
                path: path.clone(),
                message: e.to_string(),
            })?;
            serde_json::from_str(&text).map_err(|e| GithubError::Event {
                path,
                message: e.to_string(),
            })?
        }
        None if matches!(
            name.as_str(),
            "pull_request" | "pull_request_target" | "push"
        ) =>
        {
            return Err(GithubError::MissingVar("GITHUB_EVENT_PATH"));
        }
        None => Value::Null,
    };
    plan(&name, &event)
}

/// Escapes the message part of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Workflow commands (`::error file=…,line=…,col=…,title=…::…`) for the first
/// `MAX_ANNOTATIONS` findings, live keys first, then a notice pointing at the job summary when
/// there are more. Masked keys only.
pub fn annotations(report: &Report) -> String {
    let mut order: Vec<&crate::finding::Finding> = report.findings.iter().collect();
    order.sort_by_key(|f| !f.verification.as_ref().is_some_and(|v| v.is_live()));
    let mut out = String::new();
    for f in order.iter().take(MAX_ANNOTATIONS) {
        let title = report
            .rules
            .get(&f.rule_id)
            .map_or(f.rule_id.clone(), |r| r.title.clone());
        let status = f
            .verification
            .as_ref()
            .map(|v| format!(" ({})", v.status()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "::error file={},line={},col={},title={}::{} leaked{status}: revoke it in Settings → API Keys, then remove it.",
            // The file that exists in the checkout (#12); TODO(#13): a key in an archive member
            // has its line inside the member, which the annotation cannot point at.
            escape_property(f.origin.outer_display()),
            f.location.line,
            f.location.column,
            escape_property(&title),
            escape_data(&f.masked_key),
        );
    }
    if report.findings.len() > MAX_ANNOTATIONS {
        let _ = writeln!(
            out,
            "::notice title=leadey-scan::{} more findings are listed in the job summary.",
            report.findings.len() - MAX_ANNOTATIONS
        );
    }
    out
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "'")
        .replace(['\n', '\r'], " ")
}

/// The job summary: counts and a table of every finding (masked keys, status, commit).
pub fn step_summary(report: &Report) -> String {
    let s = &report.stats;
    let mut out = String::from("## leadey-scan\n\n");
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "No Leadey API key found ({} {}, {} {}).",
            s.files_scanned,
            crate::report::plural(s.files_scanned, "file"),
            s.errors,
            crate::report::plural(s.errors, "error")
        );
        return out;
    }
    let c = crate::report::Counts::of(report); // #20: the counts every format shares
    let _ = writeln!(
        out,
        "**{}**{}. Revoke each key in the Leadey dashboard (Settings → API Keys), then remove it from the code.\n",
        c.findings_text(),
        c.verified.filter(|v| v.live.keys > 0).map_or(String::new(), |v| format!(", **{} live {}**", v.live.keys, crate::report::plural(v.live.keys, "key")))
    );
    out.push_str("| Location | Key | Status | Commit |\n| --- | --- | --- | --- |\n");
    for f in &report.findings {
        let status = f
            .verification
            .as_ref()
            .map_or("not verified", |v| v.status());
        let _ = writeln!(
            out,
            "| `{}:{}:{}` | `{}` | {} | {} |",
            cell(&f.location.path),
            f.location.line,
            f.location.column,
            cell(&f.masked_key),
            status,
            commit_cell(f)
        );
    }
    if !report.errors.is_empty() {
        let _ = writeln!(
            out,
            "\n{} path(s) could not be read; the scan is incomplete.",
            report.errors.len()
        );
    }
    out
}

fn commit_cell(f: &crate::finding::Finding) -> String {
    let Some(c) = &f.commit else {
        return String::new();
    };
    let deleted = if f.present_at_head == Some(false) {
        " (deleted later: still needs revoking)"
    } else {
        ""
    };
    format!("`{}` {}{deleted}", c.short_id(), cell(&c.summary))
}

/// Number of findings whose key is live.
pub fn live_count(report: &Report) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.verification.as_ref().is_some_and(|v| v.is_live()))
        .count()
}

/// Step outputs in `GITHUB_OUTPUT` syntax.
pub fn outputs(report: &Report, sarif_file: Option<&str>) -> String {
    let mut out = format!(
        "findings={}\nlive={}\n",
        report.findings.len(),
        live_count(report)
    );
    if let Some(path) = sarif_file {
        let _ = writeln!(out, "sarif-file={}", path.replace(['\n', '\r'], ""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_request_scans_base_to_head() {
        let ev = json!({"pull_request": {"base": {"sha": "b1"}, "head": {"sha": "h1"}}});
        assert_eq!(
            plan("pull_request", &ev).unwrap(),
            Plan::Range {
                base: "b1".into(),
                head: "h1".into()
            }
        );
        let err = plan("pull_request", &json!({})).unwrap_err().to_string();
        assert_eq!(err, "the pull_request event has no `pull_request.base.sha`");
    }

    #[test]
    fn push_scans_before_to_after_and_new_branches_against_the_default_branch() {
        let ev = json!({"before": "a", "after": "b", "repository": {"default_branch": "main"}});
        assert_eq!(
            plan("push", &ev).unwrap(),
            Plan::Range {
                base: "a".into(),
                head: "b".into()
            }
        );
        let ev =
            json!({"before": ZERO_SHA, "after": "b", "repository": {"default_branch": "main"}});
        assert_eq!(
            plan("push", &ev).unwrap(),
            Plan::Range {
                base: "origin/main".into(),
                head: "b".into()
            }
        );
        let ev = json!({"before": "a", "after": ZERO_SHA, "deleted": true});
        assert!(matches!(plan("push", &ev).unwrap(), Plan::Nothing(_)));
    }

    #[test]
    fn other_events_scan_the_tree() {
        assert_eq!(plan("schedule", &Value::Null).unwrap(), Plan::Tree);
        assert_eq!(plan("workflow_dispatch", &json!({})).unwrap(), Plan::Tree);
    }

    #[test]
    fn workflow_command_values_are_escaped() {
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
        assert_eq!(escape_data("50%\r\n"), "50%25%0D%0A");
        assert_eq!(cell("a|b`c\nd"), "a\\|b'c d");
    }
}

//! GitHub Actions mode (`--github`): reads the runner's standard environment to decide what to
//! scan for the triggering event, and renders what GitHub shows: workflow annotations, a job
//! summary table and step outputs. Planning is a pure function of the event and of a few facts
//! about the checkout (`RepoFacts`, which the binary reads with gix). Never prints, never reads
//! the repository: `main.rs` does, and writes the lines and files.

use std::fmt::Write as _;

use serde_json::Value;

use crate::config::CommitRange;
use crate::report::Report;

/// GitHub shows at most this many error annotations per step; the job summary has the rest.
pub const MAX_ANNOTATIONS: usize = 10;

/// The all-zero id GitHub sends as `before` when a push creates a ref, `after` when it deletes.
const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// GitHub lists at most this many commits in a push event; a list this long may be cut.
pub const MAX_EVENT_COMMITS: usize = 2048;

/// The advice for a commit the checkout lacks.
const FETCH_DEPTH_ADVICE: &str =
    "set `fetch-depth: 0` on actions/checkout so that the whole history is fetched";

/// What the event asks us to scan, and why (the line each run prints and puts in the summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Lines added by a set of commits.
    Commits {
        /// The commits, as `git rev-list` takes them.
        range: CommitRange,
        /// Why these commits (the event, the branch, the fallback taken).
        why: String,
        /// A fallback was taken: printed as a `::notice`.
        notice: Option<String>,
        /// Whether every later plan of this kind on the same ref covers at least these commits
        /// (pull requests, merge groups): only then may its SARIF replace the previous upload.
        cumulative: bool,
    },
    /// The working tree.
    Tree {
        /// Release mode (`--release`): ignore rules off, incomplete content fails the run.
        release: bool,
        /// Why the tree.
        why: String,
    },
    /// Nothing to scan (a deleted branch or tag); why. Printed as a `::notice`.
    Nothing(String),
}

/// Facts about the checkout that planning needs. Implemented by the binary (gix) and by tests.
pub trait RepoFacts {
    /// Whether the scanned path is inside a git repository.
    fn is_repository(&self) -> bool;
    /// The full id of the commit `rev` (an id or a full ref name) names, if the clone holds it.
    fn commit(&self, rev: &str) -> Option<String>;
    /// The parents of commit `id`, if the clone holds the commit.
    fn parents(&self, id: &str) -> Option<Vec<String>>;
    /// Whether the clone is shallow (`fetch-depth` other than 0).
    fn is_shallow(&self) -> bool;
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
    /// The scanned path is not in a git repository, and the event needs commits.
    #[error("the {event} event scans commits, but the scanned path is not in a git repository (check it out with actions/checkout)")]
    NotARepository {
        /// Event name.
        event: String,
    },
    /// A commit the plan needs is not in the clone.
    #[error("{what} {id} is not in the clone{advice}")]
    MissingCommit {
        /// Which commit (`the pull request's base commit`).
        what: &'static str,
        /// Its id.
        id: String,
        /// What to do about it.
        advice: String,
    },
}

/// Looks up `path` (dot-separated) in `event` as a string.
fn str_at<'a>(event: &'a Value, path: &str) -> Option<&'a str> {
    path.split('.')
        .try_fold(event, |v, part| v.get(part))
        .and_then(Value::as_str)
}

/// The first 7 characters of an id, for messages.
fn short(id: &str) -> &str {
    id.get(..7).unwrap_or(id)
}

/// Decides the scan for `event_name` with payload `event`, given facts about the checkout.
///
/// - `push` of a branch: the commits it brings to the remote. A first push of the default
///   branch: all of its history; a new branch: its commits not on the default branch; a push
///   whose `before` is in the clone: `before..after` (for a force push, what GitHub's compare
///   lists); a `before` missing from the clone: the commits the event lists, or when those
///   cannot be known, every commit of `after` that no other branch or tag reaches (a notice).
/// - `push` of a tag, `release`: the working tree in release mode.
/// - `pull_request`, `pull_request_target`: `base.sha..head.sha`; `merge_group`:
///   `base_sha..head_sha`. A commit missing from the clone is an error.
/// - a deleted branch or tag: nothing.
/// - `schedule`, `workflow_dispatch` and any other event: the working tree.
pub fn plan(event_name: &str, event: &Value, repo: &dyn RepoFacts) -> Result<Plan, GithubError> {
    let field = |path: &'static str| -> Result<String, GithubError> {
        str_at(event, path)
            .map(str::to_string)
            .ok_or_else(|| GithubError::MissingField {
                event: event_name.to_string(),
                field: path,
            })
    };
    let commits_plan = |base_field: &'static str,
                        head_field: &'static str,
                        what: String,
                        target: bool|
     -> Result<Plan, GithubError> {
        let base = field(base_field)?;
        let head = field(head_field)?;
        need_repository(event_name, repo)?;
        let checkout_advice = if target {
            // #20: pull_request_target checks out the base branch by default.
            ": pull_request_target checks out the base branch; fetch the pull request's head \
             (`ref: refs/pull/<number>/head` on actions/checkout, with `fetch-depth: 0`)"
                .to_string()
        } else {
            advice(repo)
        };
        let head_id = repo.commit(&head).ok_or(GithubError::MissingCommit {
            what: "the head commit",
            id: head.clone(),
            advice: checkout_advice,
        })?;
        let base_id = repo.commit(&base).ok_or(GithubError::MissingCommit {
            what: "the base commit",
            id: base.clone(),
            advice: advice(repo),
        })?;
        Ok(Plan::Commits {
            range: CommitRange::between(&base_id, &head_id),
            why: format!("{what}: the commits it adds"),
            notice: None,
            cumulative: true,
        })
    };
    match event_name {
        "pull_request" | "pull_request_target" => {
            let number = event
                .get("number")
                .and_then(Value::as_u64)
                .map_or(String::new(), |n| format!(" #{n}"));
            commits_plan(
                "pull_request.base.sha",
                "pull_request.head.sha",
                format!("{event_name}{number}"),
                event_name == "pull_request_target",
            )
        }
        "merge_group" => commits_plan(
            "merge_group.base_sha",
            "merge_group.head_sha",
            "merge_group".to_string(),
            false,
        ),
        "push" => plan_push(event, repo, &field),
        "release" => {
            let tag = str_at(event, "release.tag_name").unwrap_or("?");
            let action = str_at(event, "action").unwrap_or("published");
            Ok(Plan::Tree {
                release: true,
                why: format!("release {tag} {action}: what ships, in release mode"),
            })
        }
        "schedule" => Ok(Plan::Tree {
            release: false,
            why: "scheduled run".into(),
        }),
        "workflow_dispatch" => Ok(Plan::Tree {
            release: false,
            why: "manual run (workflow_dispatch)".into(),
        }),
        other => Ok(Plan::Tree {
            release: false,
            why: format!("{other} event"),
        }),
    }
}

/// The fetch-depth advice, only for a shallow clone (where a missing commit is expected).
fn advice(repo: &dyn RepoFacts) -> String {
    if repo.is_shallow() {
        format!(": the checkout is shallow; {FETCH_DEPTH_ADVICE}")
    } else {
        String::new()
    }
}

fn need_repository(event_name: &str, repo: &dyn RepoFacts) -> Result<(), GithubError> {
    if repo.is_repository() {
        Ok(())
    } else {
        Err(GithubError::NotARepository {
            event: event_name.to_string(),
        })
    }
}

/// The `push` part of `plan`.
fn plan_push(
    event: &Value,
    repo: &dyn RepoFacts,
    field: &dyn Fn(&'static str) -> Result<String, GithubError>,
) -> Result<Plan, GithubError> {
    let git_ref = field("ref")?;
    if event.get("deleted").and_then(Value::as_bool) == Some(true) {
        return Ok(Plan::Nothing(format!("the push deleted {git_ref}")));
    }
    if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
        return Ok(Plan::Tree {
            release: true,
            why: format!("tag push {tag}: what ships, in release mode"),
        });
    }
    need_repository("push", repo)?;
    let after = field("after")?;
    let before = field("before")?;
    let after_id = repo.commit(&after).ok_or(GithubError::MissingCommit {
        what: "the pushed commit",
        id: after.clone(),
        advice: advice(repo),
    })?;
    let branch = git_ref.strip_prefix("refs/heads/").unwrap_or(&git_ref);
    // The names the pushed branch has in a clone made by actions/checkout.
    let pushed_refs = vec![git_ref.clone(), format!("refs/remotes/origin/{branch}")];
    let unreached = |why: String, cause: String| Plan::Commits {
        range: CommitRange {
            tips: vec![after_id.clone()],
            hide: Vec::new(),
            hide_refs_except: Some(pushed_refs.clone()),
        },
        why,
        notice: Some(format!(
            "{cause}: scanning every commit of {} that no other branch or tag reaches",
            short(&after_id)
        )),
        cumulative: false,
    };
    if before == ZERO_SHA {
        let default = field("repository.default_branch")?;
        if branch == default {
            return Ok(Plan::Commits {
                range: CommitRange {
                    tips: vec![after_id],
                    hide: Vec::new(),
                    hide_refs_except: None,
                },
                why: format!("first push of the default branch {default}: all of its history"),
                notice: None,
                cumulative: false,
            });
        }
        let why = format!("new branch {branch}: its commits that are not on {default}");
        let default_ref = [
            format!("refs/remotes/origin/{default}"),
            format!("refs/heads/{default}"),
        ]
        .into_iter()
        .find(|r| repo.commit(r).is_some());
        return Ok(match default_ref {
            Some(default_ref) => Plan::Commits {
                range: CommitRange {
                    tips: vec![after_id],
                    hide: vec![default_ref],
                    hide_refs_except: None,
                },
                why,
                notice: None,
                cumulative: false,
            },
            None => unreached(
                why,
                format!("the default branch {default} is not in the clone"),
            ),
        });
    }
    let forced = event.get("forced").and_then(Value::as_bool) == Some(true);
    let what = if forced { "force push" } else { "push" };
    if let Some(before_id) = repo.commit(&before) {
        return Ok(Plan::Commits {
            range: CommitRange {
                tips: vec![after_id],
                hide: vec![before_id],
                hide_refs_except: None,
            },
            why: format!(
                "{what} to {branch}: the commits it adds ({}..{})",
                short(&before),
                short(&after)
            ),
            notice: None,
            cumulative: false,
        });
    }
    let why = format!(
        "{what} to {branch}, whose previous tip {} is not in the clone",
        short(&before)
    );
    let shallow = if repo.is_shallow() {
        format!(" (the checkout is shallow; {FETCH_DEPTH_ADVICE})")
    } else {
        String::new()
    };
    match listed_commits(event, repo) {
        Some(range) => {
            let n = range.tips.len();
            Ok(Plan::Commits {
                range,
                why: why.clone(),
                notice: Some(format!(
                    "{why}{shallow}: scanning the {n} {} the event lists",
                    if n == 1 { "commit" } else { "commits" }
                )),
                cumulative: false,
            })
        }
        None => Ok(unreached(why.clone(), format!("{why}{shallow}"))),
    }
}

/// Exactly the commits a push event lists (`commits[].id`): each as a tip, their parents
/// outside the list hidden. `None` when the list cannot be trusted to be whole: empty, as long
/// as GitHub's cap, or naming a commit the clone lacks.
fn listed_commits(event: &Value, repo: &dyn RepoFacts) -> Option<CommitRange> {
    let list = event.get("commits")?.as_array()?;
    if list.is_empty() || list.len() >= MAX_EVENT_COMMITS {
        return None;
    }
    let mut tips: Vec<String> = Vec::with_capacity(list.len());
    for c in list {
        let id = repo.commit(c.get("id")?.as_str()?)?;
        if !tips.contains(&id) {
            tips.push(id);
        }
    }
    let mut hide = Vec::new();
    for id in &tips {
        for p in repo.parents(id)? {
            if !tips.contains(&p) && !hide.contains(&p) {
                hide.push(p);
            }
        }
    }
    Some(CommitRange {
        tips,
        hide,
        hide_refs_except: None,
    })
}

impl Plan {
    /// The line each run prints and puts in the job summary: what is scanned, and why.
    pub fn describe(&self) -> String {
        match self {
            Plan::Commits { range, why, .. } => format!("{} ({why})", describe_range(range)),
            Plan::Tree { release, why } => format!(
                "the working tree{} ({why})",
                if *release {
                    " in release mode: --release, ignore rules off, incomplete content fails"
                } else {
                    ""
                }
            ),
            Plan::Nothing(why) => format!("nothing ({why})"),
        }
    }

    /// The code scanning category for this plan's SARIF, or `None` when it must not be
    /// uploaded: a push scans only the commits it brings, so its analysis is partial, and an
    /// upload would close the alerts of the previous analysis of the same category on that
    /// ref that it did not look at (docs/integrations.md, "Code scanning categories").
    pub fn sarif_category(&self) -> Option<&'static str> {
        match self {
            Plan::Commits {
                cumulative: true, ..
            } => Some("leadey-scan/pull-request"),
            Plan::Commits { .. } | Plan::Nothing(_) => None,
            Plan::Tree { .. } => Some("leadey-scan/tree"),
        }
    }
}

/// `range` in words, ids shortened.
pub fn describe_range(range: &CommitRange) -> String {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| if s.len() == 40 { short(s) } else { s.as_str() })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "the commits reachable from {}",
        if range.tips.len() > 3 {
            format!("{} listed commits", range.tips.len())
        } else {
            list(&range.tips)
        }
    );
    if !range.hide.is_empty() {
        let _ = write!(
            out,
            " and not from {}",
            if range.hide.len() > 3 {
                format!("{} of their parents", range.hide.len())
            } else {
                list(&range.hide)
            }
        );
    }
    if range.hide_refs_except.is_some() {
        out.push_str(" that no other branch or tag reaches");
    }
    out
}

/// Reads `GITHUB_EVENT_NAME` and the JSON at `GITHUB_EVENT_PATH` through `var`, and plans.
pub fn plan_from_env(
    var: impl Fn(&str) -> Option<String>,
    repo: &dyn RepoFacts,
) -> Result<Plan, GithubError> {
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
            "pull_request" | "pull_request_target" | "push" | "merge_group" | "release"
        ) =>
        {
            return Err(GithubError::MissingVar("GITHUB_EVENT_PATH"));
        }
        None => Value::Null,
    };
    plan(&name, &event, repo)
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

/// Workflow commands for the first `MAX_ANNOTATIONS` findings, live keys first, then a notice
/// pointing at the job summary when there are more. Masked keys only. A key in a plain file is
/// annotated at its line and column (`::error file=…,line=…,col=…,title=…::…`); a key inside
/// an archive member is annotated on the archive, the file that exists in the checkout, without
/// a line (a line of the member is not a line of the archive), and the message names the
/// member chain and the line inside the innermost member. A key found encoded says how.
pub fn annotations(report: &Report) -> String {
    let mut order: Vec<&crate::finding::Finding> = report.findings.iter().collect();
    order.sort_by_key(|f| !f.verification.as_ref().is_some_and(|v| v.is_live()));
    let mut out = String::new();
    for f in order.iter().take(MAX_ANNOTATIONS) {
        let title = report
            .rules
            .get(&f.rule_id)
            .map_or(f.rule_id.to_string(), |r| r.title.clone());
        let status = f
            .verification
            .as_ref()
            .map(|v| format!(" ({})", v.status()))
            .unwrap_or_default();
        // #20: the member chain and the encoding, which the file and line cannot show.
        let mut place = String::new();
        if !f.origin.members.is_empty() {
            let _ = write!(
                place,
                " in {} line {} column {}",
                f.location.path, f.location.line, f.location.column
            );
        }
        if !f.encoding.is_empty() {
            let _ = write!(
                place,
                " (encoded: {})",
                f.encoding
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(" → ")
            );
        }
        let position = if f.origin.members.is_empty() {
            format!(",line={},col={}", f.location.line, f.location.column)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "::error file={}{position},title={}::{} leaked{place}{status}: revoke it in Settings → API Keys, then remove it.",
            escape_property(f.origin.outer_display()),
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

/// A `::notice` workflow command with `message`.
pub fn notice(message: &str) -> String {
    format!("::notice title=leadey-scan::{}\n", escape_data(message))
}

/// The job summary of an empty plan (`Plan::Nothing`): why nothing was scanned.
pub fn nothing_summary(why: &str) -> String {
    format!("## leadey-scan\n\nScanned nothing: {}.\n", cell(why))
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "'")
        .replace(['\n', '\r'], " ")
}

/// The job summary: what was scanned and why (`scanned`, from `Plan::describe`), counts and a
/// table of every finding (masked keys, status, commit).
pub fn step_summary(report: &Report, scanned: &str) -> String {
    let s = &report.stats;
    let mut out = String::from("## leadey-scan\n\n");
    let _ = writeln!(out, "Scanned {}.\n", cell(scanned));
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
mod tests;

//! Push protection (#21): `--pre-receive`, the server-side gate, and `--pre-push`, its client-side
//! twin. Reads git's hook input, chooses the commits of the push (a `CommitRange`, scanned by the
//! git scopes like `--range`), applies the time budget, the bypass and the failure policies, and
//! returns the decision with the message for the pusher. Never prints: `main.rs` writes the
//! message on stderr, where git shows it to the pusher under `remote:`.
//!
//! Configuration is the server's, never the pushed tree's: `--config FILE` (server-wide) or a
//! `.leadey-scan.toml` in the directory the hook runs in (the bare repository). A push that adds
//! a key could otherwise add the allow list that lets it through in the same push. Allow
//! comments in pushed content work, as in every scope: they sit next to the key, in review.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crate::config::{CommitRange, GitScope, ScanConfig};
use crate::exit::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::finding::Finding;
use crate::git::push::HookRepo;
use crate::report::Report;
use crate::suppress::{Options as SuppressOptions, Suppressor};
use crate::term::escape;

/// Default `--timeout`: GitHub Enterprise Server gives all of a repository's pre-receive hooks
/// together 5 seconds; 4 leaves a second to start, to read the input and to tell the pusher.
pub const DEFAULT_TIMEOUT_SECS: f64 = 4.0;

/// Findings the blocked message lists one by one; the rest are counted.
pub const MAX_LISTED: usize = 10;

/// The push option that asks for a bypass: `git push -o leadey-scan.skip="reason"`.
pub const SKIP_OPTION: &str = "leadey-scan.skip";

const ZERO_ID_CHARS: &str = "0";

/// What a hook does when it cannot decide: the scan ran out of time or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Policy {
    /// Reject the push and say why (never crash open).
    #[default]
    Reject,
    /// Accept the push with a warning.
    Accept,
}

/// Push protection flags (#21), the "Push protection" group of `--help`.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct PushArgs {
    /// Run as a git pre-receive hook: read `<old> <new> <ref>` lines on stdin and reject the push
    /// (exit 1) when one of its commits adds a key. Install as the repository's hooks/pre-receive.
    #[arg(long, help_heading = "Push protection", conflicts_with = "pre_push")]
    pub pre_receive: bool,

    /// Run as a git pre-push hook (git passes REMOTE and URL): read `<local ref> <local sha>
    /// <remote ref> <remote sha>` lines on stdin and stop the push when a commit the remote does
    /// not have adds a key. Under the pre-commit framework, reads its PRE_COMMIT_* variables.
    #[arg(long, help_heading = "Push protection", value_names = ["REMOTE", "URL"], num_args = 0..=2)]
    pub pre_push: Option<Vec<String>>,

    /// With a push hook: decide within SECS seconds (GitHub Enterprise allows 5 for all hooks).
    #[arg(long, help_heading = "Push protection", value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS, value_parser = parse_secs)]
    pub timeout: f64,

    /// With a push hook: what to do when the time runs out.
    #[arg(long, help_heading = "Push protection", value_enum, default_value_t = Policy::Reject)]
    pub on_timeout: Policy,

    /// With a push hook: what to do when the scan fails (an unreadable object, a bad config).
    #[arg(long, help_heading = "Push protection", value_enum, default_value_t = Policy::Reject)]
    pub on_error: Policy,

    /// With --pre-receive: let a pusher skip the check with `git push -o
    /// leadey-scan.skip="reason"` (also `git config leadey-scan.allowSkip true`). Every skip is
    /// recorded.
    #[arg(long, help_heading = "Push protection")]
    pub allow_skip: bool,

    /// With a push hook: append a JSON line for every skip and every rejection to FILE (also `git
    /// config leadey-scan.auditLog FILE`).
    #[arg(long, help_heading = "Push protection", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

impl PushArgs {
    /// Whether a push hook runs instead of a scan.
    pub fn is_hook(&self) -> bool {
        self.pre_receive || self.pre_push.is_some()
    }
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0 and 86400"
        )),
    }
}

/// One updated ref: `old` and `new` are full hex ids (all zeros: the ref does not exist on that
/// side), `refname` the full name on the receiving side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// The value the receiving side has now.
    pub old: String,
    /// The value pushed.
    pub new: String,
    /// The receiving side's ref name.
    pub refname: String,
}

/// Whether `id` is git's null id (a ref that does not exist).
pub fn is_zero(id: &str) -> bool {
    !id.is_empty() && id.trim_start_matches(ZERO_ID_CHARS).is_empty()
}

fn is_hex_id(id: &str) -> bool {
    matches!(id.len(), 40 | 64) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses git's pre-receive input: `<old> <new> <refname>` per line.
///
/// ```
/// use leadey_scan::push::parse_pre_receive;
/// let z = "0".repeat(40);
/// let a = "a".repeat(40);
/// let got = parse_pre_receive(format!("{z} {a} refs/heads/main\n").as_bytes()).unwrap();
/// assert_eq!(got[0].refname, "refs/heads/main");
/// ```
pub fn parse_pre_receive(input: &[u8]) -> Result<Vec<RefUpdate>, String> {
    parse_lines(input, 3, |f| RefUpdate {
        old: f[0].to_string(),
        new: f[1].to_string(),
        refname: f[2].to_string(),
    })
}

/// Parses git's pre-push input: `<local ref> <local sha> <remote ref> <remote sha>` per line, as
/// updates of the remote (`old`: the remote's value, `new`: the local one).
pub fn parse_pre_push(input: &[u8]) -> Result<Vec<RefUpdate>, String> {
    parse_lines(input, 4, |f| RefUpdate {
        old: f[3].to_string(),
        new: f[1].to_string(),
        refname: f[2].to_string(),
    })
}

fn parse_lines(
    input: &[u8],
    fields: usize,
    make: impl Fn(&[&str]) -> RefUpdate,
) -> Result<Vec<RefUpdate>, String> {
    let text = std::str::from_utf8(input).map_err(|_| "the hook input is not UTF-8".to_string())?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        // The ref name is last in pre-receive input and may not hold a space; split on
        // whitespace all the same, and refuse any other shape.
        let parts: Vec<&str> = line.split_whitespace().collect();
        let update = (parts.len() == fields).then(|| make(&parts));
        match update {
            Some(u) if is_hex_id(&u.old) && is_hex_id(&u.new) => out.push(u),
            _ => {
                return Err(format!(
                    "line {} of the hook input is not `{}`",
                    n + 1,
                    if fields == 3 {
                        "<old> <new> <refname>"
                    } else {
                        "<local ref> <local sha> <remote ref> <remote sha>"
                    }
                ))
            }
        }
    }
    Ok(out)
}

/// The commits a pre-receive hook scans: everything reachable from a pushed value and from no
/// ref the repository has (during pre-receive the refs still hold their old values). `None`
/// when nothing needs scanning: only deletions, or values that are not commits (a tag of a
/// tree).
pub fn pre_receive_range(updates: &[RefUpdate], repo: &HookRepo) -> Option<CommitRange> {
    let mut tips: Vec<String> = Vec::new();
    for u in updates {
        if is_zero(&u.new) || tips.contains(&u.new) {
            continue;
        }
        // A tag of a tree or a blob adds no commit: its content is not scanned (#21).
        if repo.is_commitish(&u.new) == Some(false) {
            continue;
        }
        tips.push(u.new.clone());
    }
    (!tips.is_empty()).then(|| CommitRange {
        tips,
        hide: Vec::new(),
        hide_refs_except: Some(Vec::new()),
    })
}

/// The commits a pre-push hook scans: reachable from a pushed local value and not from what the
/// remote is known to have (its values in the input that exist here, and the remote-tracking
/// refs of `remote`). `None` when nothing needs scanning.
pub fn pre_push_range(
    updates: &[RefUpdate],
    remote: Option<&str>,
    repo: &HookRepo,
) -> Option<CommitRange> {
    let mut tips: Vec<String> = Vec::new();
    let mut hide: Vec<String> = Vec::new();
    for u in updates {
        if !is_zero(&u.new) && !tips.contains(&u.new) && repo.is_commitish(&u.new) != Some(false) {
            tips.push(u.new.clone());
        }
        // A remote value we do not have (someone else pushed it) cannot be hidden; the
        // remote-tracking refs still are.
        if !is_zero(&u.old) && repo.is_commitish(&u.old) == Some(true) && !hide.contains(&u.old) {
            hide.push(u.old.clone());
        }
    }
    if let Some(remote) = remote.filter(|r| !r.contains('/') && !r.is_empty()) {
        for id in repo.remote_tracking_commits(remote) {
            if !hide.contains(&id) {
                hide.push(id);
            }
        }
    }
    (!tips.is_empty()).then_some(CommitRange {
        tips,
        hide,
        hide_refs_except: None,
    })
}

/// The push options git passes a pre-receive hook (`GIT_PUSH_OPTION_COUNT`,
/// `GIT_PUSH_OPTION_<n>`).
pub fn push_options(var: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let count = var("GIT_PUSH_OPTION_COUNT")
        .and_then(|c| c.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (0..count.min(1000))
        .filter_map(|i| var(&format!("GIT_PUSH_OPTION_{i}")))
        .collect()
}

/// The reason of a bypass request among `options`: `leadey-scan.skip=reason` (or a bare
/// `leadey-scan.skip`, an empty reason).
pub fn skip_request(options: &[String]) -> Option<String> {
    options.iter().find_map(|o| {
        if o == SKIP_OPTION {
            Some(String::new())
        } else {
            o.strip_prefix(SKIP_OPTION)
                .and_then(|rest| rest.strip_prefix('='))
                .map(|r| r.trim_matches('"').to_string())
        }
    })
}

/// Which hook runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// `--pre-receive`, on the server.
    PreReceive,
    /// `--pre-push`, on the client, with the remote's name when git gave it.
    PrePush {
        /// The remote's name (`origin`), or its URL when it has none.
        remote: Option<String>,
    },
}

/// What the hook decided, for `main.rs` to print and return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The exit status: 0 accepts the push, anything else rejects it.
    pub exit: u8,
    /// What to tell the pusher (stderr), possibly empty.
    pub message: String,
}

/// Everything a hook run needs besides its input.
#[derive(Debug, Clone)]
pub struct HookRun {
    /// Which hook.
    pub hook: Hook,
    /// The flags.
    pub args: PushArgs,
    /// The scan settings from the other flags (rules, limits, threads); paths and scope are
    /// set by the hook.
    pub scan: ScanConfig,
    /// Config file and baseline choice.
    pub suppress: SuppressOptions,
    /// Reject a push whose content could not all be opened (`--fail-on-incomplete`,
    /// `--release`, or `git config leadey-scan.failOnIncomplete true`); otherwise it is accepted
    /// with a warning that lists what was not opened.
    pub fail_on_incomplete: bool,
}

/// Runs a push hook on `input` (the hook's stdin) in the repository git runs it in (`GIT_DIR`,
/// else the current directory), with the environment `var`.
pub fn run_hook(run: HookRun, input: &[u8], var: &dyn Fn(&str) -> Option<String>) -> Decision {
    let updates = match &run.hook {
        Hook::PrePush { .. } => match pre_commit_update(var) {
            Some(u) => Ok(vec![u]),
            None => parse_pre_push(input),
        },
        Hook::PreReceive => parse_pre_receive(input),
    };
    let updates = match updates {
        Ok(u) => u,
        Err(e) => return failure(&run.args, &e),
    };
    let repo = match HookRepo::open(Path::new(".")) {
        Ok(r) => r,
        Err(e) => return failure(&run.args, &e.to_string()),
    };
    let audit_log = run
        .args
        .audit_log
        .clone()
        .or_else(|| repo.config_path("leadey-scan.auditLog"));
    let allow_skip = run.args.allow_skip || repo.config_bool("leadey-scan.allowSkip") == Some(true);
    let fail_on_incomplete =
        run.fail_on_incomplete || repo.config_bool("leadey-scan.failOnIncomplete") == Some(true);
    let mut notes = String::new();
    if run.hook == Hook::PreReceive {
        if let Some(reason) = skip_request(&push_options(var)) {
            if allow_skip {
                let record = audit_record("skip", &reason, &updates, var, 0);
                let mut msg = format!(
                    "leadey-scan: push protection SKIPPED at the pusher's request ({}); this is \
                     recorded.\n",
                    if reason.is_empty() {
                        "no reason given".to_string()
                    } else {
                        format!("reason: {}", escape(&reason))
                    }
                );
                if let Err(e) = append_audit(audit_log.as_deref(), &record) {
                    // An unrecorded bypass is no bypass.
                    msg = format!(
                        "leadey-scan: the skip could not be recorded ({e}); checking the push\n"
                    );
                    notes.push_str(&msg);
                } else {
                    return Decision {
                        exit: EXIT_CLEAN,
                        message: msg,
                    };
                }
            } else {
                notes.push_str(
                    "leadey-scan: this server does not allow skipping push protection; checking \
                     the push\n",
                );
            }
        }
    }
    let range = match &run.hook {
        Hook::PreReceive => pre_receive_range(&updates, &repo),
        Hook::PrePush { remote } => {
            // The pre-commit framework passes no arguments; it names the remote in a variable.
            let remote = remote.clone().or_else(|| var("PRE_COMMIT_REMOTE_NAME"));
            pre_push_range(&updates, remote.as_deref(), &repo)
        }
    };
    drop(repo);
    let Some(range) = range else {
        return Decision {
            exit: EXIT_CLEAN,
            message: notes,
        };
    };
    let timeout = Duration::from_secs_f64(run.args.timeout);
    let outcome = scan_with_timeout(&run, range, timeout);
    let mut decision = match outcome {
        Outcome::Done(report) if report.findings.is_empty() && report.errors.is_empty() => {
            match incomplete_message(&report, fail_on_incomplete) {
                None => Decision {
                    exit: EXIT_CLEAN,
                    message: String::new(),
                },
                Some(message) if fail_on_incomplete => {
                    let _ = append_audit(
                        audit_log.as_deref(),
                        &audit_record("reject-incomplete", "", &updates, var, 0),
                    );
                    Decision {
                        exit: EXIT_ERROR,
                        message,
                    }
                }
                Some(message) => Decision {
                    exit: EXIT_CLEAN,
                    message,
                },
            }
        }
        Outcome::Done(report) if !report.findings.is_empty() => {
            let _ = append_audit(
                audit_log.as_deref(),
                &audit_record("reject", "", &updates, var, report.findings.len()),
            );
            Decision {
                exit: EXIT_FINDINGS,
                message: blocked_message(&report.findings, &run.hook, allow_skip)
                    + &incomplete_message(&report, false).unwrap_or_default(),
            }
        }
        Outcome::Done(report) => {
            let first = report
                .errors
                .first()
                .map(|e| format!("{}: {}", e.path, e.message))
                .unwrap_or_default();
            failure(
                &run.args,
                &format!(
                    "{} object(s) of the push could not be read ({first})",
                    report.errors.len()
                ),
            )
        }
        Outcome::Failed(e) => failure(&run.args, &e),
        Outcome::TimedOut => match run.args.on_timeout {
            Policy::Reject => Decision {
                exit: EXIT_ERROR,
                message: format!(
                    "leadey-scan: PUSH REJECTED: the push is too big to check for Leadey API keys \
                     in {}s.\nPush fewer commits at a time (for example one branch, or part of \
                     its history: `git push origin <commit>:refs/heads/<branch>`).\n",
                    run.args.timeout
                ),
            },
            Policy::Accept => Decision {
                exit: EXIT_CLEAN,
                message: format!(
                    "leadey-scan: warning: the push was NOT checked for Leadey API keys: it took \
                     longer than {}s; accepted by the server's policy (--on-timeout accept).\n",
                    run.args.timeout
                ),
            },
        },
    };
    decision.message.insert_str(0, &notes);
    decision
}

/// Under the pre-commit framework's pre-push stage, the one update it describes
/// (`PRE_COMMIT_TO_REF`, `PRE_COMMIT_FROM_REF`, `PRE_COMMIT_REMOTE_BRANCH`).
fn pre_commit_update(var: &dyn Fn(&str) -> Option<String>) -> Option<RefUpdate> {
    let new = var("PRE_COMMIT_TO_REF").filter(|v| is_hex_id(v))?;
    let old = var("PRE_COMMIT_FROM_REF")
        .filter(|v| is_hex_id(v))
        .unwrap_or_else(|| "0".repeat(new.len()));
    Some(RefUpdate {
        old,
        new,
        refname: var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default(),
    })
}

enum Outcome {
    Done(Box<Report>),
    Failed(String),
    TimedOut,
}

/// Scans `range` on a worker thread and waits at most `timeout`; past it the worker is left
/// to the end of the process (the hook exits right after deciding).
fn scan_with_timeout(run: &HookRun, range: CommitRange, timeout: Duration) -> Outcome {
    let mut config = run.scan.clone();
    config.paths = vec![PathBuf::from(".")];
    config.git = Some(GitScope::Range(range));
    let suppress = run.suppress.clone();
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("push-scan".into())
        .spawn(move || {
            let result = scan(&config, &suppress);
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Outcome::Failed(format!("cannot start the scan: {e}"));
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(report)) => Outcome::Done(Box::new(report)),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // The process ends right after the decision: leave no temporary directory behind.
            crate::git::push::remove_object_views();
            Outcome::TimedOut
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Outcome::Failed("the scan stopped unexpectedly".to_string())
        }
    }
}

fn scan(config: &ScanConfig, suppress: &SuppressOptions) -> Result<Report, String> {
    let suppressor = Suppressor::load(suppress, &config.paths).map_err(|e| e.to_string())?;
    let rules = suppressor
        .rule_set(&config.rule_files)
        .map_err(|e| e.to_string())?;
    let mut report = crate::scan::run_with_rules(config, rules).map_err(|e| e.to_string())?;
    crate::scan::suppress(&mut report, &suppressor).map_err(|e| e.to_string())?;
    Ok(report)
}

/// #20, #21: what a push held that could not be opened (damaged, truncated or encrypted
/// archives, limits, unsupported codecs), never passed in silence: the first `MAX_LISTED` with
/// their reason, then a count; a rejection when `reject`, else a warning. `None` when the push
/// was opened whole.
fn incomplete_message(report: &Report, reject: bool) -> Option<String> {
    let incomplete: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.reason.is_incomplete())
        .collect();
    let n = incomplete.len();
    if n == 0 {
        return None;
    }
    let mut m = if reject {
        format!(
            "leadey-scan: PUSH REJECTED: {n} file(s) of the push could not be opened whole, so \
             they could not be checked for Leadey API keys (this server rejects such pushes):\n"
        )
    } else {
        format!(
            "leadey-scan: warning: {n} file(s) of the push could not be opened whole and were \
             NOT fully checked for Leadey API keys:\n"
        )
    };
    for s in incomplete.iter().take(MAX_LISTED) {
        let path = escape(&crate::redact_builtin(&s.path)).into_owned();
        m.push_str(&format!("  {path}  ({})\n", s.reason.describe()));
    }
    if n > MAX_LISTED {
        m.push_str(&format!("  … and {} more\n", n - MAX_LISTED));
    }
    if reject {
        m.push_str(
            "Push them in a form that can be read (not encrypted, not damaged, within the \
             archive limits), or ask the server's administrator.\n",
        );
    }
    Some(m)
}

/// The decision when the hook cannot check the push: reject unless `--on-error accept`.
fn failure(args: &PushArgs, error: &str) -> Decision {
    let error = escape(&crate::redact_builtin(error)).into_owned();
    match args.on_error {
        Policy::Reject => Decision {
            exit: EXIT_ERROR,
            message: format!(
                "leadey-scan: PUSH REJECTED: the push could not be checked for Leadey API keys: \
                 {error}\nAsk the server's administrator; pushing again will not help until \
                 this is fixed.\n"
            ),
        },
        Policy::Accept => Decision {
            exit: EXIT_CLEAN,
            message: format!(
                "leadey-scan: warning: the push was NOT checked for Leadey API keys: {error}; \
                 accepted by the server's policy (--on-error accept).\n"
            ),
        },
    }
}

/// The message of a blocked push, modelled on GitLab's `PUSH BLOCKED`: each key's commit,
/// `path:line` and dashboard mask (the first `MAX_LISTED`, then a count), what to do, and how
/// to ask for a bypass when the server allows one. Never a full key.
pub fn blocked_message(findings: &[Finding], hook: &Hook, allow_skip: bool) -> String {
    let n = findings.len();
    let mut m = String::new();
    let keys = {
        let mut hashes: Vec<_> = findings.iter().map(|f| &f.key_sha256).collect();
        hashes.sort();
        hashes.dedup();
        hashes.len()
    };
    m.push_str(&format!(
        "leadey-scan: PUSH BLOCKED: {keys} Leadey API {} added by the pushed commits ({n} {})\n\n",
        if keys == 1 { "key" } else { "keys" },
        if n == 1 { "place" } else { "places" }
    ));
    for f in findings.iter().take(MAX_LISTED) {
        let commit = f
            .commit
            .as_ref()
            .map(|c| c.id.get(..12).unwrap_or(&c.id).to_string())
            .unwrap_or_else(|| "(unknown)".into());
        let mut place = format!("{}:{}", f.origin, f.location.line);
        if !f.encoding.is_empty() {
            place.push_str(&format!(" ({})", crate::decode::join(&f.encoding, " in ")));
        }
        m.push_str(&format!(
            "  commit {commit}  {}  {}\n",
            escape(&place),
            f.masked_key
        ));
    }
    if n > MAX_LISTED {
        m.push_str(&format!(
            "  … and {} more (run `leadey-scan --range <old>..<new>` locally for the full list)\n",
            n - MAX_LISTED
        ));
    }
    m.push_str(
        "\nTo push, remove each key from the commit that adds it, not in a new commit:\n  \
         - in the last commit: delete the key, `git add` the file, `git commit --amend`;\n  \
         - in an older commit: `git rebase -i <commit>~1`, mark it `edit`, delete the key, \
         `git commit --amend`, `git rebase --continue`.\n\
         Load the key from the environment or a secret store instead. If the key may have been \
         seen (shared, pushed elsewhere, in a CI log), revoke it in the Leadey dashboard \
         (Settings → API Keys) and create a new one.\n\
         Not a real key? Add `leadey-scan:allow` in a comment on its line.\n",
    );
    if *hook == Hook::PreReceive && allow_skip {
        m.push_str("To skip this check (recorded): git push -o leadey-scan.skip=\"<reason>\"\n");
    }
    if let Hook::PrePush { .. } = hook {
        m.push_str("This check runs on your machine: `git push --no-verify` skips it.\n");
    }
    m
}

/// One line of the audit log: what happened, to which refs, by whom, when.
fn audit_record(
    event: &str,
    reason: &str,
    updates: &[RefUpdate],
    var: &dyn Fn(&str) -> Option<String>,
    findings: usize,
) -> serde_json::Value {
    let pusher = [
        "GL_USERNAME",
        "GITEA_PUSHER_NAME",
        "GITHUB_USER_LOGIN",
        "REMOTE_USER",
        "USER",
    ]
    .iter()
    .find_map(|k| var(k).filter(|v| !v.is_empty()));
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let repository = std::env::current_dir()
        .map(|p| crate::origin::display_path(&p))
        .unwrap_or_default();
    serde_json::json!({
        "time_unix": time,
        "event": event,
        "reason": reason,
        "pusher": pusher,
        "repository": repository,
        "findings": findings,
        "refs": updates.iter().map(|u| serde_json::json!({
            "ref": u.refname, "old": u.old, "new": u.new,
        })).collect::<Vec<_>>(),
    })
}

/// Appends `record` as one line to `path` (nothing without a path).
fn append_audit(path: Option<&Path>, record: &serde_json::Value) -> std::io::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let mut line = record.to_string();
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // One write: lines of concurrent pushes do not interleave (O_APPEND).
    f.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(c: char) -> String {
        c.to_string().repeat(40)
    }

    #[test]
    fn pre_receive_lines_parse_and_bad_lines_are_refused() {
        let input = format!(
            "{} {} refs/heads/main\n{} {} refs/tags/v1\r\n\n",
            id('0'),
            id('a'),
            id('b'),
            id('c')
        );
        let got = parse_pre_receive(input.as_bytes()).unwrap();
        assert_eq!(
            got,
            vec![
                RefUpdate {
                    old: id('0'),
                    new: id('a'),
                    refname: "refs/heads/main".into()
                },
                RefUpdate {
                    old: id('b'),
                    new: id('c'),
                    refname: "refs/tags/v1".into()
                },
            ]
        );
        assert!(parse_pre_receive(b"abc def refs/heads/x\n").is_err());
        assert!(parse_pre_receive(format!("{} refs/heads/x\n", id('a')).as_bytes()).is_err());
        assert!(parse_pre_receive(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn pre_push_lines_become_updates_of_the_remote() {
        let input = format!("refs/heads/dev {} refs/heads/main {}\n", id('a'), id('b'));
        let got = parse_pre_push(input.as_bytes()).unwrap();
        assert_eq!(
            got,
            vec![RefUpdate {
                old: id('b'),
                new: id('a'),
                refname: "refs/heads/main".into()
            }]
        );
    }

    #[test]
    fn null_ids_are_all_zeros() {
        assert!(is_zero(&id('0')));
        assert!(is_zero(&"0".repeat(64)));
        assert!(!is_zero(&format!("{}1", "0".repeat(39))));
        assert!(!is_zero(""));
    }

    #[test]
    fn push_options_and_the_skip_request_are_read_from_git_variables() {
        let env = |k: &str| match k {
            "GIT_PUSH_OPTION_COUNT" => Some("2".to_string()),
            "GIT_PUSH_OPTION_0" => Some("ci.skip".to_string()),
            "GIT_PUSH_OPTION_1" => Some("leadey-scan.skip=test fixture".to_string()),
            _ => None,
        };
        let options = push_options(&env);
        assert_eq!(options, vec!["ci.skip", "leadey-scan.skip=test fixture"]);
        assert_eq!(skip_request(&options), Some("test fixture".to_string()));
        assert_eq!(
            skip_request(&["leadey-scan.skip".into()]),
            Some(String::new())
        );
        assert_eq!(skip_request(&["leadey-scan.skipper=x".into()]), None);
        assert_eq!(push_options(&|_| None), Vec::<String>::new());
    }

    #[test]
    fn timeouts_must_be_positive_seconds() {
        assert_eq!(parse_secs("0.5"), Ok(0.5));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("NaN").is_err());
    }

    fn finding(n: u32) -> Finding {
        let mut f = crate::finding::test_finding();
        f.location.line = u64::from(n);
        f.commit = Some(crate::finding::CommitInfo {
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            author_name: String::new(),
            author_email: String::new(),
            date: String::new(),
            summary: String::new(),
            reflog_only: false,
        });
        f
    }

    #[test]
    fn blocked_message_lists_the_first_findings_and_counts_the_rest() {
        let findings: Vec<Finding> = (1..=13).map(finding).collect();
        let m = blocked_message(&findings, &Hook::PreReceive, false);
        assert!(m.starts_with("leadey-scan: PUSH BLOCKED: 1 Leadey API key added by the pushed commits (13 places)"), "{m}");
        assert_eq!(m.matches("  commit 0123456789ab  ").count(), MAX_LISTED);
        assert!(m.contains(":10  "), "{m}");
        assert!(!m.contains(":11  "), "{m}");
        assert!(m.contains("… and 3 more"), "{m}");
        assert!(m.contains("git commit --amend") && m.contains("git rebase -i"));
        assert!(m.contains("revoke it"));
        assert!(!m.contains("leadey-scan.skip"), "no bypass offered: {m}");
        let allowed = blocked_message(&findings[..1], &Hook::PreReceive, true);
        assert!(allowed.contains("git push -o leadey-scan.skip=\"<reason>\""));
        assert!(!allowed.contains("more"));
    }
}

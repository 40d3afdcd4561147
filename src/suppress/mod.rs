//! Suppression (#7): the stage after the scan (and after `--verify`) that moves findings a team
//! has accepted out of `Report::findings` into `Report::suppressed`, each with the reason:
//! an allow comment on the key's line, a path glob, key hash or fingerprint of the config file,
//! or a baseline entry. It never hides a live key: a finding whose key the API says is live
//! stays a finding, its suppression marked `overridden`. Also writes baselines
//! (`--write-baseline`) and prunes stale baseline entries (`--prune-baseline`).
//! Reads the config and baseline files it is given; never prints.

pub mod baseline;
pub mod config_file;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::detect::allow;
use crate::detect::redact_builtin;
use crate::finding::{Finding, Fingerprint, Suppression, SuppressionKind};
pub use crate::origin::ScanRoot;
use crate::origin::{display_path, Root, MEMBER_SEPARATOR};
use crate::rules::RuleSet;
use baseline::{Baseline, BaselineError, Entry};
use config_file::{ConfigError, ConfigFile, RuleSetError, CONFIG_FILE_NAME};

// #23: shared with the reporters, so defined below both, in `finding`.
pub use crate::finding::{count_by_kind, LIVE_OVERRIDE_REASON};

/// Which config file to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConfigChoice {
    /// `.leadey-scan.toml` at the scan root, else at the root of the git repository that holds
    /// the scan root (`find_config`), if there is one.
    #[default]
    Auto,
    /// `--config FILE`: this file, which must exist.
    File(PathBuf),
    /// `--no-config`.
    Off,
}

/// The suppression settings from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Which config file.
    pub config: ConfigChoice,
    /// `--baseline FILE`.
    pub baseline: Option<PathBuf>,
    /// `--write-baseline FILE`.
    pub write_baseline: Option<PathBuf>,
    /// `--prune-baseline`: rewrite the `--baseline` file without entries that match nothing.
    pub prune_baseline: bool,
    /// `--no-suppress` (#16): suppress nothing (allow comments, the config file's allow lists
    /// and the baseline are ignored); the config file's rules still apply. For audits.
    pub no_suppress: bool,
}

/// What stops suppression from starting or finishing.
#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    /// The config file is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A baseline file is unusable or cannot be written.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
}

/// The loaded suppression settings of a run.
#[derive(Debug, Clone)]
pub struct Suppressor {
    config: Option<ConfigFile>,
    /// Where the config file was found, when it was looked for (#20).
    found: Option<FoundConfig>,
    /// For a config file found at the repository root above the scan root: that root, which its
    /// path globs and fingerprints are relative to (#20).
    glob_base: Option<ScanRoot>,
    baseline: Option<Baseline>,
    write_baseline: Option<PathBuf>,
    prune_baseline: bool,
    no_suppress: bool,
}

/// What the stage did, beyond moving findings: for messages on standard error.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Findings whose suppression was not applied because the key is live: (path, line,
    /// masked key, kind).
    pub overridden: Vec<(String, u64, String, SuppressionKind)>,
    /// `--baseline` entries that matched no finding.
    pub stale: Vec<Entry>,
    /// The `--baseline` file, when `--prune-baseline` rewrote it.
    pub pruned: Option<String>,
    /// Why `--prune-baseline` did not rewrite the file, when it did not.
    pub prune_refused: Option<String>,
    /// The `--write-baseline` file and its number of entries.
    pub written: Option<(String, usize)>,
    /// Live keys left out of the written baseline.
    pub live_not_written: usize,
}

impl Outcome {
    /// Lines for standard error, without the `leadey-scan: ` prefix; `list_stale` lists each
    /// stale entry (with `--prune-baseline`), otherwise they are counted; `quiet` leaves out
    /// what is neither a warning nor asked for. Key-shaped text is masked: stale entries are
    /// quoted from the baseline file as it was read.
    pub fn messages(&self, list_stale: bool, quiet: bool) -> Vec<String> {
        self.unredacted_messages(list_stale, quiet)
            .iter()
            .map(|line| redact_builtin(line))
            .collect()
    }

    fn unredacted_messages(&self, list_stale: bool, quiet: bool) -> Vec<String> {
        let mut lines = Vec::new();
        for (path, line, masked, kind) in &self.overridden {
            lines.push(format!(
                "warning: {path}:{line}: {masked} is suppressed by {}, but the suppression is \
                 ignored: {LIVE_OVERRIDE_REASON}",
                describe_kind(*kind)
            ));
        }
        if let Some((file, n)) = self.written.as_ref().filter(|_| !quiet) {
            lines.push(format!(
                "wrote baseline {file} ({n} {})",
                if *n == 1 { "entry" } else { "entries" }
            ));
        }
        if self.live_not_written > 0 {
            lines.push(format!(
                "warning: {} live {} not written to the baseline: revoke {}",
                self.live_not_written,
                if self.live_not_written == 1 {
                    "key was"
                } else {
                    "keys were"
                },
                if self.live_not_written == 1 {
                    "it"
                } else {
                    "them"
                }
            ));
        }
        if list_stale {
            for e in &self.stale {
                lines.push(format!(
                    "stale baseline entry: {} {} {} (fingerprint {})",
                    e.path, e.rule_id, e.masked_key, e.fingerprint
                ));
            }
        } else if !self.stale.is_empty() && !quiet {
            let n = self.stale.len();
            lines.push(format!(
                "{n} baseline {} matched no finding (--prune-baseline lists and removes them)",
                if n == 1 { "entry" } else { "entries" }
            ));
        }
        if let Some(file) = &self.pruned {
            lines.push(format!(
                "pruned {} stale {} from {file}",
                self.stale.len(),
                if self.stale.len() == 1 {
                    "entry"
                } else {
                    "entries"
                }
            ));
        }
        if let Some(why) = &self.prune_refused {
            lines.push(format!("warning: baseline not pruned: {why}"));
        }
        lines
    }
}

fn describe_kind(kind: SuppressionKind) -> &'static str {
    match kind {
        SuppressionKind::AllowComment => "an allow comment",
        SuppressionKind::ConfigPath => "a path glob of the config file",
        SuppressionKind::AcceptedKey => "an accepted key hash of the config file",
        SuppressionKind::AcceptedFingerprint => "an accepted fingerprint of the config file",
        SuppressionKind::Baseline => "the baseline",
    }
}

/// What the suppression stage made of a scan's findings.
#[derive(Debug)]
pub struct Sorted {
    /// Findings that still count (live keys included, even when an allow list names them).
    pub findings: Vec<Finding>,
    /// Findings an allow comment, the config file or a baseline accepted, each with its reason.
    pub suppressed: Vec<Finding>,
    /// Baseline writes, prunes, stale entries and live overrides, for the user.
    pub outcome: Outcome,
}

impl Suppressor {
    /// Loads the config file and baseline `options` name, for a scan of `paths`. A missing
    /// `.leadey-scan.toml` is no error; a missing `--config` or `--baseline` file is.
    pub fn load(options: &Options, paths: &[PathBuf]) -> Result<Suppressor, SuppressError> {
        let root = ScanRoot::of(paths);
        let (config, found) = match &options.config {
            ConfigChoice::Off => (None, None),
            ConfigChoice::File(file) => (Some(ConfigFile::load(file)?), None),
            ConfigChoice::Auto => match find_config(&root.path) {
                Some(found) => (Some(ConfigFile::load(&found.path)?), Some(found)),
                None => (None, None),
            },
        };
        let cwd = std::env::current_dir().ok().map(|d| display_path(&d));
        let glob_base = found
            .as_ref()
            .and_then(|f| f.repository_root.clone())
            .map(|dir| ScanRoot::new(dir, cwd));
        let baseline = options
            .baseline
            .as_deref()
            .map(Baseline::load)
            .transpose()?;
        Ok(Suppressor {
            config,
            found,
            glob_base,
            baseline,
            write_baseline: options.write_baseline.clone(),
            prune_baseline: options.prune_baseline,
            no_suppress: options.no_suppress,
        })
    }

    /// Where the config file was found, when `ConfigChoice::Auto` found one.
    pub fn found_config(&self) -> Option<&FoundConfig> {
        self.found.as_ref()
    }

    /// The rules to scan with: built-in, the config file's `[[rule]]`s, `rule_files`, then the
    /// config file's overrides.
    pub fn rule_set(&self, rule_files: &[PathBuf]) -> Result<RuleSet, RuleSetError> {
        match &self.config {
            Some(config) => config.rule_set(rule_files),
            // #8: rule files are input; their errors mask keys here, in the library.
            None => Ok(RuleSet::load(rule_files).map_err(|e| e.redacted(redact_builtin))?),
        }
    }

    /// Runs the stage on a scan's `findings`: marks suppressed ones and sets them apart, keeps
    /// live keys as findings, and writes or prunes baselines as asked (a baseline is pruned only
    /// when the scan was `complete`: no path failed to be read, so no entry is lost for one).
    /// The report's orchestrator (`scan::suppress`) puts the two lists into the report.
    pub fn apply(&self, findings: Vec<Finding>, complete: bool) -> Result<Sorted, SuppressError> {
        let mut outcome = Outcome::default();
        if self.no_suppress {
            // #16: an audit reports everything; nothing is written or pruned either (clap
            // refuses --write-baseline and --prune-baseline with --no-suppress).
            return Ok(Sorted {
                findings,
                suppressed: Vec::new(),
                outcome,
            });
        }
        let mut all = findings;
        for f in all.iter_mut() {
            f.suppression = self.suppression_before_baseline(f);
        }

        let mut baseline_fps: HashSet<String> = self
            .baseline
            .as_ref()
            .map(|b| b.entries.iter().map(|e| e.fingerprint.clone()).collect())
            .unwrap_or_default();
        let mut baseline_name = self.baseline.as_ref().map(Baseline::display);
        if let Some(path) = &self.write_baseline {
            let mut entries = Vec::new();
            for f in all.iter().filter(|f| f.suppression.is_none()) {
                if is_live(f) {
                    outcome.live_not_written += 1;
                    continue;
                }
                entries.push(Entry {
                    fingerprint: f.fingerprint.0.clone(),
                    rule_id: f.rule_id.to_string(),
                    path: f.origin.relative(),
                    masked_key: f.masked_key.clone(),
                });
            }
            let written = Baseline::new(path.clone(), entries);
            written.save()?;
            baseline_fps.extend(written.entries.iter().map(|e| e.fingerprint.clone()));
            outcome.written = Some((written.display(), written.entries.len()));
            baseline_name = Some(written.display());
        }

        let mut matched: BTreeSet<String> = BTreeSet::new();
        if let Some(name) = &baseline_name {
            for f in all.iter_mut().filter(|f| f.suppression.is_none()) {
                let fp = f.fingerprint.0.clone();
                if baseline_fps.contains(&fp) {
                    f.suppression = Some(Suppression {
                        kind: SuppressionKind::Baseline,
                        detail: format!("fingerprint {fp} in baseline {name}"),
                        overridden: None,
                    });
                    matched.insert(fp);
                }
            }
        }

        for f in all.iter_mut() {
            let live = is_live(f);
            if let Some(s) = f.suppression.as_mut().filter(|_| live) {
                s.overridden = Some(LIVE_OVERRIDE_REASON.to_string());
                outcome.overridden.push((
                    f.location.path.clone(),
                    f.location.line,
                    f.masked_key.clone(),
                    s.kind,
                ));
            }
        }

        let (suppressed, findings): (Vec<Finding>, Vec<Finding>) = all.into_iter().partition(|f| {
            f.suppression
                .as_ref()
                .is_some_and(|s| s.overridden.is_none())
        });
        if let Some(loaded) = &self.baseline {
            outcome.stale = loaded
                .entries
                .iter()
                .filter(|e| !matched.contains(&e.fingerprint))
                .cloned()
                .collect();
            if self.prune_baseline && !outcome.stale.is_empty() {
                if complete {
                    let kept = loaded
                        .entries
                        .iter()
                        .filter(|e| matched.contains(&e.fingerprint))
                        .cloned()
                        .collect();
                    Baseline::new(loaded.path.clone(), kept).save()?;
                    outcome.pruned = Some(loaded.display());
                } else {
                    outcome.prune_refused = Some(
                        "some paths could not be read, so entries for them would be lost"
                            .to_string(),
                    );
                }
            }
        }
        Ok(Sorted {
            findings,
            suppressed,
            outcome,
        })
    }

    /// The first suppression of `f` other than a baseline: allow comment, config path,
    /// accepted key, accepted fingerprint.
    fn suppression_before_baseline(&self, f: &Finding) -> Option<Suppression> {
        let make = |kind, detail: String| {
            Some(Suppression {
                kind,
                detail,
                overridden: None,
            })
        };
        if let Some(marker) = f.allow_marker {
            return make(SuppressionKind::AllowComment, allow::describe(marker));
        }
        let config = self.config.as_ref()?;
        let rel = self.config_relative(f);
        if let Some(glob) = config.paths.matching(&rel) {
            return make(
                SuppressionKind::ConfigPath,
                format!("path matches `{glob}` in {}", config.display),
            );
        }
        if config.keys.contains(&f.key_sha256.to_hex()) {
            return make(
                SuppressionKind::AcceptedKey,
                format!("key sha256 listed in {}", config.display),
            );
        }
        // #20: a config found at the repository root lists fingerprints of repository paths.
        let rebased =
            (rel != f.origin.relative()).then(|| Fingerprint::new(&f.rule_id, &rel, &f.key_sha256));
        if config.fingerprints.contains(&f.fingerprint.0)
            || rebased.is_some_and(|fp| config.fingerprints.contains(&fp.0))
        {
            return make(
                SuppressionKind::AcceptedFingerprint,
                format!("fingerprint {} listed in {}", f.fingerprint, config.display),
            );
        }
        None
    }
}

impl Suppressor {
    /// The path of `f` that the config file's globs and fingerprints are written for: relative to
    /// the scan root (git scopes: the repository root), or, for a config found at the
    /// repository root above the scan root, relative to that root (#20).
    fn config_relative(&self, f: &Finding) -> String {
        match (&self.glob_base, &f.origin.root) {
            (Some(base), Root::File { display, .. }) => {
                let mut rel = base.relative(display.as_str());
                for m in &f.origin.members {
                    rel.push(MEMBER_SEPARATOR);
                    rel.push_str(m);
                }
                rel
            }
            _ => f.origin.relative(),
        }
    }
}

/// Where `find_config` found the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundConfig {
    /// The file, as it can be opened from the current directory.
    pub path: PathBuf,
    /// The repository's top folder, when the file was found there and not in the scan root.
    pub repository_root: Option<PathBuf>,
}

/// Looks for `.leadey-scan.toml` (#20): in `scan_root` (the folder scanned: the current
/// directory, or the one folder given as a path), then at the top of the git repository that
/// holds `scan_root`, found as git finds it (`GIT_DIR` honoured, no work tree for a bare
/// repository). So `cd src && leadey-scan --history` reads the repository's config file. Never
/// looks above the repository, and outside one only in `scan_root`.
pub fn find_config(scan_root: &Path) -> Option<FoundConfig> {
    let here = if scan_root == Path::new(".") {
        PathBuf::from(CONFIG_FILE_NAME)
    } else {
        scan_root.join(CONFIG_FILE_NAME)
    };
    if here.is_file() {
        return Some(FoundConfig {
            path: here,
            repository_root: None,
        });
    }
    let cwd = std::env::current_dir().ok()?;
    // gix looks upwards lexically: a relative `sub` has no parent to look in.
    let repo =
        gix::ThreadSafeRepository::discover_with_environment_overrides(cwd.join(scan_root)).ok()?;
    let top = repo.to_thread_local().workdir()?.to_path_buf();
    let top = if top.is_absolute() {
        top
    } else {
        cwd.join(top)
    };
    let file = top.join(CONFIG_FILE_NAME);
    if !file.is_file() {
        return None;
    }
    let shown = lexically_relative(&cwd, &file).unwrap_or(file);
    let top = lexically_relative(&cwd, &top).unwrap_or(top);
    Some(FoundConfig {
        path: shown,
        repository_root: Some(if top.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            top
        }),
    })
}

/// `target` relative to `base` (both absolute), with `..` for each folder of `base` below
/// their common part; `None` when they share no root. Lexical: `.` and `..` are resolved as
/// text, symbolic links are not followed.
///
/// ```
/// use std::path::{Path, PathBuf};
/// use leadey_scan::suppress::lexically_relative;
/// let up = lexically_relative(Path::new("/r/src/a"), Path::new("/r/.leadey-scan.toml"));
/// assert_eq!(up, Some(PathBuf::from("../../.leadey-scan.toml")));
/// ```
pub fn lexically_relative(base: &Path, target: &Path) -> Option<PathBuf> {
    use std::path::Component;
    fn parts(p: &Path) -> Vec<Component<'_>> {
        let mut out: Vec<Component<'_>> = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    if matches!(out.last(), Some(Component::Normal(_))) {
                        out.pop();
                    }
                }
                other => out.push(other),
            }
        }
        out
    }
    let (b, t) = (parts(base), parts(target));
    if b.first() != t.first() || !target.is_absolute() || !base.is_absolute() {
        return None;
    }
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..b.len() {
        rel.push("..");
    }
    for c in t.iter().skip(common) {
        rel.push(c.as_os_str());
    }
    Some(rel)
}

fn is_live(f: &Finding) -> bool {
    f.verification.as_ref().is_some_and(|v| v.is_live())
}

/// `path` as displayed in messages and reports, key-shaped text masked (#8: a config file or
/// a baseline can be named after a key, and reports and messages quote its name).
fn shown_path(path: &Path) -> String {
    redact_builtin(&display_path(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_relative_to_the_root_lexically() {
        let cwd = Some("/w/t".to_string());
        let dot = ScanRoot::new(".".into(), cwd.clone());
        assert_eq!(dot.relative("a/b.txt"), "a/b.txt");
        assert_eq!(dot.relative("/w/t/a/b.txt"), "a/b.txt");
        assert_eq!(dot.relative("../x/a.txt"), "../x/a.txt");
        assert_eq!(dot.relative("<stdin>"), "<stdin>");
        let sub = ScanRoot::new("./repo/".into(), cwd.clone());
        assert_eq!(sub.relative("repo/a.txt"), "a.txt");
        assert_eq!(sub.relative("repo/./b/../a.txt"), "a.txt");
        assert_eq!(sub.relative("repository/a.txt"), "repository/a.txt");
        let abs = ScanRoot::new("/w/t/repo".into(), cwd);
        assert_eq!(abs.relative("/w/t/repo/src/k.env"), "src/k.env");
        let slash = ScanRoot::new("/".into(), Some("/".into()));
        assert_eq!(slash.relative("/etc/k"), "etc/k");
    }

    #[test]
    fn stale_entries_quoted_from_a_baseline_are_listed_masked() {
        let key = "leadey_sk_live_u8jzPde0IgxLd6GncfBA";
        let outcome = Outcome {
            stale: vec![Entry {
                fingerprint: "0a".repeat(16),
                rule_id: "leadey-api-key".into(),
                path: format!("old/{key}.env"),
                masked_key: key.into(),
            }],
            ..Outcome::default()
        };
        let lines = outcome.messages(true, false);
        assert_eq!(
            lines,
            [format!(
                "stale baseline entry: old/leadey_sk_live_••••cfBA.env leadey-api-key \
                 leadey_sk_live_••••cfBA (fingerprint {})",
                "0a".repeat(16)
            )]
        );
    }

    #[test]
    fn kinds_are_counted_in_order() {
        let finding = |kind| {
            let mut f = crate::finding::test_finding();
            f.suppression = Some(Suppression {
                kind,
                detail: String::new(),
                overridden: None,
            });
            f
        };
        let list = vec![
            finding(SuppressionKind::Baseline),
            finding(SuppressionKind::AllowComment),
            finding(SuppressionKind::Baseline),
        ];
        assert_eq!(
            count_by_kind(&list),
            vec![
                (SuppressionKind::AllowComment, 1),
                (SuppressionKind::Baseline, 2)
            ]
        );
    }
}

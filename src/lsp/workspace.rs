//! One workspace folder's scan settings (#24), loaded as the CLI loads them for a scan of that
//! folder: `.leadey-scan.toml` found by `suppress::find_config` (in the folder, else at the top
//! of its git repository), its rules and rule overrides, `--rules` files, `--baseline`, and the
//! detector with its decoders; and the scan of one buffer's text on the CLI's road
//! (`blob::Scanner`, in-memory bytes as for standard input and git blobs), then the suppression
//! stage (allow comments, config allow lists, baseline). Reads the config, rule and baseline
//! files; never sends anything anywhere (no verification) and never prints.

use std::path::{Path, PathBuf};

use crate::blob::{Bytes, NoStream, Scanner, Tally};
use crate::config::ScanConfig;
use crate::detect::{redact_builtin, Detector};
use crate::finding::Finding;
use crate::origin::{display_path, Origin, ScanRoot};
use crate::rules::RuleSet;
use crate::skip::{FileError, Skip};
use crate::source::Excludes;
use crate::suppress::{ConfigChoice, Options as SuppressOptions, Suppressor};

/// The server's settings: what the command line of `leadey-scan --lsp` says about the scan
/// (rules, decoders, limits, excludes) and suppression (config file choice, baseline). Relative
/// paths in it (`--config`, `--baseline`, `--rules`) are taken from each workspace folder.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Scan settings; its paths and git scope are not used.
    pub scan: ScanConfig,
    /// Suppression settings; baselines are read, never written or pruned.
    pub suppress: SuppressOptions,
}

/// The scan settings of one workspace folder.
#[derive(Debug)]
pub struct Workspace {
    /// The folder (absolute).
    pub folder: PathBuf,
    root: ScanRoot,
    /// The rules, their text masked (titles, remediation).
    pub rules: RuleSet,
    detector: Detector,
    excludes: Excludes,
    suppressor: Suppressor,
    scan: ScanConfig,
    /// What went wrong loading the settings, in the user's words, key-shaped text masked: the
    /// folder is scanned with what could be loaded (built-in rules, no config file).
    pub problems: Vec<String>,
}

/// What the scan of one buffer found.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Findings not suppressed, in the order of their offsets.
    pub findings: Vec<Finding>,
    /// Findings an allow comment, the config file or the baseline accepted.
    pub suppressed: Vec<Finding>,
    /// Content left out (`--max-filesize`) or not fully opened (archives in the buffer).
    pub skipped: Vec<Skip>,
    /// Content that could not be read.
    pub errors: Vec<FileError>,
    /// Whether `--exclude` leaves the document out.
    pub excluded: bool,
}

impl Workspace {
    /// Loads the settings of `folder` (absolute). Never fails: a broken config file, baseline
    /// or rule file is a `problem`, and the folder is scanned without it.
    pub fn load(folder: &Path, settings: &Settings) -> Workspace {
        let mut problems = Vec::new();
        let from_folder = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                folder.join(p)
            }
        };
        let options = SuppressOptions {
            config: match &settings.suppress.config {
                ConfigChoice::File(f) => ConfigChoice::File(from_folder(f)),
                other => other.clone(),
            },
            baseline: settings.suppress.baseline.as_ref().map(from_folder),
            // The editor reads baselines, it never writes them.
            write_baseline: None,
            prune_baseline: false,
            no_suppress: settings.suppress.no_suppress,
        };
        let paths = [folder.to_path_buf()];
        let suppressor = match Suppressor::load(&options, &paths) {
            Ok(s) => s,
            Err(e) => {
                problems.push(redact_builtin(&e.to_string()));
                // Without the broken file, the rest still applies.
                let fallback = [
                    SuppressOptions {
                        config: ConfigChoice::Off,
                        ..options.clone()
                    },
                    SuppressOptions {
                        baseline: None,
                        ..options.clone()
                    },
                    SuppressOptions {
                        config: ConfigChoice::Off,
                        baseline: None,
                        ..options.clone()
                    },
                ];
                fallback
                    .iter()
                    .find_map(|o| Suppressor::load(o, &paths).ok())
                    .unwrap_or_else(|| {
                        let off = SuppressOptions {
                            config: ConfigChoice::Off,
                            ..SuppressOptions::default()
                        };
                        Suppressor::load(&off, &paths)
                            .expect("invariant: a suppressor without files always loads")
                    })
            }
        };
        let rule_files: Vec<PathBuf> = settings.scan.rule_files.iter().map(from_folder).collect();
        let mut rules = match suppressor.rule_set(&rule_files) {
            Ok(rules) => rules,
            Err(e) => {
                problems.push(redact_builtin(&e.to_string()));
                RuleSet::builtin().expect("invariant: the built-in rules compile (tests/rules.rs)")
            }
        };
        // #8: rule text is input; diagnostics quoting it (titles, remediation) mask keys.
        rules.redact_text(redact_builtin);
        let detector = Detector::with_decode_depth(&rules, settings.scan.decode_depth);
        let excludes = match Excludes::new(&settings.scan.excludes) {
            Ok(x) => x,
            Err(e) => {
                problems.push(redact_builtin(&format!(
                    "--exclude `{}`: {}",
                    e.glob, e.message
                )));
                Excludes::new(&[]).expect("invariant: no glob always compiles")
            }
        };
        let cwd = std::env::current_dir().ok().map(|d| display_path(&d));
        Workspace {
            folder: folder.to_path_buf(),
            root: ScanRoot::new(folder.to_path_buf(), cwd),
            rules,
            detector,
            excludes,
            suppressor,
            scan: settings.scan.clone(),
            problems,
        }
    }

    /// The config file this folder uses, when one was found next to it or at its repository's
    /// top.
    pub fn config_file(&self) -> Option<PathBuf> {
        self.suppressor.found_config().map(|f| f.path.clone())
    }

    /// Scans `text`, the buffer of the file at `path` (absolute; `None` for a buffer that is
    /// no file, named `name`), as the CLI scans that file in this folder: same origin and
    /// fingerprint, same road (`Scanner::scan_whole` on in-memory bytes), same suppression.
    /// `buf` is reused between scans.
    pub fn scan(&self, path: Option<&Path>, name: &str, text: &[u8], buf: &mut Vec<u8>) -> Scanned {
        let redact = |t: &str| self.detector.redact(t).into_owned();
        let origin = match path {
            Some(p) => self.root.origin_of(p, redact),
            None => {
                let shown = redact(name);
                Origin::file(shown.clone(), shown)
            }
        };
        if path.is_some() && self.excludes.is_excluded_relative(&origin.relative()) {
            return Scanned {
                excluded: true,
                ..Scanned::default()
            };
        }
        let scanner = Scanner {
            detector: &self.detector,
            excludes: &self.excludes,
            max_filesize_bytes: self.scan.max_filesize_bytes,
            chunk_size_bytes: self.scan.chunk_size_bytes,
            archives: self.scan.archives,
        };
        let mut tally = Tally::default();
        scanner.scan_whole(
            &mut tally,
            &|| origin.clone(),
            Some(text.len() as u64),
            Bytes::<NoStream>::Memory(text),
            buf,
        );
        let complete = tally.errors.is_empty();
        let found = tally.findings;
        let (mut findings, suppressed) = match self.suppressor.apply(found.clone(), complete) {
            Ok(sorted) => (sorted.findings, sorted.suppressed),
            // Only a baseline write can fail, and the editor writes none.
            Err(_) => (found, Vec::new()),
        };
        findings.sort_by_key(|f| (f.location.byte_offset, f.rule_id.to_string()));
        Scanned {
            findings,
            suppressed,
            skipped: tally.skipped,
            errors: tally.errors,
            excluded: false,
        }
    }
}

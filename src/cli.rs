//! Command-line arguments (clap derive; doc comments are the help text) and their conversion
//! into a `ScanConfig` plus output settings. No scanning here.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::config::{
    ArchiveLimits, CommitRange, GitScope, ScanConfig, DEFAULT_CHUNK_SIZE_BYTES,
    DEFAULT_MAX_ARCHIVE_DEPTH, DEFAULT_MAX_ARCHIVE_MEMBERS,
};
use crate::exit::FailOn;
use crate::suppress::{ConfigChoice, Options as SuppressOptions};
use crate::term::ColorChoice;
use crate::verify::{
    ApiBase, VerifyConfig, VerifyError, DEFAULT_API_BASE, DEFAULT_CONCURRENCY,
    DEFAULT_DEADLINE_SECS,
};

/// Finds leaked Leadey API keys (`leadey_sk_live_…`) in files, fast and without noise.
///
/// Walks the given paths in parallel, honouring .gitignore (inside git repositories), .ignore
/// and git excludes; hidden files are scanned, the .git folder is not. Keys are shown as the
/// Leadey dashboard shows them (`leadey_sk_live_••••a1b2`), never in full unless
/// --show-secrets is given.
#[derive(Debug, Parser)]
#[command(name = "leadey-scan", version, after_help = crate::exit::EXIT_CODES_HELP)]
pub struct Args {
    /// Actions other than scanning, as flags (#20: a bare word is always a path).
    #[command(flatten)]
    pub action: ActionArgs,

    /// What to scan and how to walk it.
    #[command(flatten)]
    pub scan: ScanArgs,

    /// How to report.
    #[command(flatten)]
    pub output: OutputArgs,

    /// `--verify` and its settings.
    #[command(flatten)]
    pub verify: VerifyArgs,

    /// Allow lists and baselines (#7).
    #[command(flatten)]
    pub suppression: SuppressArgs,

    /// Git scopes (#5).
    #[command(flatten)]
    pub git: GitArgs,

    /// Push protection hooks (#21).
    #[command(flatten)]
    pub push: crate::push::PushArgs,
}

/// What to scan and how to walk it: becomes the `ScanConfig` (with the git scope).
#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Add or override rules from a rule file (same format as rules/*.toml); repeatable.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Also scan files left out by .gitignore, .ignore and git excludes.
    #[arg(long)]
    pub no_ignore: bool,

    /// Release mode, for scanning what ships (build output such as `dist/` is usually
    /// gitignored): --no-ignore and --fail-on-incomplete together.
    #[arg(long)]
    pub release: bool,

    /// Follow symbolic links (loops are detected and reported as errors).
    #[arg(long, short = 'L')]
    pub follow: bool,

    /// Skip (and count) files larger than SIZE: bytes, or with a K, M or G suffix (1024-based).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_filesize: Option<u64>,

    /// Leave out paths matching GLOB (a glob without `/` matches any file or folder name, one
    /// with `/` the path below the scanned root); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Worker threads (0: one per CPU).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Unpack archives and compressed files (zip, jar, tar, gzip, bzip2, xz, zstd, container
    /// images; recognised by content) nested up to N levels and scan their members; 0 scans
    /// them as raw bytes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_ARCHIVE_DEPTH)]
    pub max_archive_depth: u32,

    /// Stop unpacking an input's archives after SIZE inflated bytes (zip-bomb guard; bytes, or
    /// with a K, M or G suffix); what is left is reported as skipped.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "4G")]
    pub max_archive_bytes: u64,

    /// Members one archive may have; the rest are reported as skipped.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_ARCHIVE_MEMBERS)]
    pub max_archive_members: u64,

    /// Find keys encoded up to N layers deep (base64, percent-encoding, UTF-16, \u005f and
    /// HTML escapes, hex; 2: base64 of base64); 0 finds plain keys only.
    #[arg(long, value_name = "N", default_value_t = crate::detect::DEFAULT_DECODE_DEPTH,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(crate::decode::MAX_DECODE_DEPTH)))]
    pub max_decode_depth: u32,

    /// Size of one read in bytes (for tests of chunk boundaries).
    #[arg(long, hide = true, value_name = "BYTES", default_value_t = DEFAULT_CHUNK_SIZE_BYTES)]
    pub chunk_size: usize,
}

/// How to report: becomes the `OutputConfig`.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// When to colour the human report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Include full keys in the report (`secret` in JSON). Off by default: keys are masked.
    #[arg(long)]
    pub show_secrets: bool,

    /// Leave timing out of the report and summary, for byte-identical output.
    #[arg(long)]
    pub no_timing: bool,

    /// List skipped paths and why on standard error.
    #[arg(long)]
    pub list_skipped: bool,

    /// Print no summary line on standard error (warnings still appear).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Which findings make the exit code 1 (every finding is reported whatever the setting).
    #[arg(long, value_enum, default_value_t = FailOn::Any, value_name = "WHICH",
          requires_ifs = [("live", "verify"), ("live-or-unknown", "verify")])]
    pub fail_on: FailOn,

    /// Exit 2 when any content was read but not fully opened: a damaged, truncated or
    /// encrypted archive, an archive limit reached, an unsupported codec (listed in the report
    /// either way).
    #[arg(long)]
    pub fail_on_incomplete: bool,

    /// GitHub Actions mode: choose the scan from the triggering event (pull request: the lines
    /// its commits add; push: the commits it brings; tag or release: the tree with --release;
    /// schedule and others: the whole tree), say what it scans and why, and write annotations
    /// (on stderr), a job summary ($GITHUB_STEP_SUMMARY) and outputs ($GITHUB_OUTPUT).
    /// An explicit git scope flag takes precedence over the event.
    #[arg(long, help_heading = "CI")]
    pub github: bool,

    /// Also write a SARIF log to FILE (findings no longer at HEAD go to FILE with `.history`
    /// before the extension, for their own code scanning category).
    #[arg(long, value_name = "FILE", help_heading = "CI")]
    pub sarif_file: Option<PathBuf>,

    /// List suppressed findings in the human report too (JSON and SARIF always carry them).
    #[arg(long)]
    pub show_suppressed: bool,
}

/// `--verify` and its settings: becomes the `VerifyConfig`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Ask the Leadey API whether each key found is live: every distinct key is sent once, in
    /// the Authorization header of `GET <api base>/me`, to the API base only. Off by default.
    #[arg(long)]
    pub verify: bool,

    /// Where --verify sends keys. https:// only, except http:// to a loopback host.
    #[arg(
        long,
        value_name = "URL",
        env = "LEADEY_API_BASE",
        default_value = DEFAULT_API_BASE
    )]
    pub api_base: String,

    /// Most --verify requests in flight at once (1 to 64).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY as u16,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub verify_concurrency: u16,

    /// Deadline of the whole --verify phase in seconds; keys without an answer by then are
    /// reported as `unknown: timeout`.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_DEADLINE_SECS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub verify_timeout: u64,
}

/// Allow lists and baselines (#7): becomes the suppression `Options`.
#[derive(Debug, Clone, clap::Args)]
pub struct SuppressArgs {
    /// Read allow lists, rule overrides and extra rules from FILE instead of
    /// `.leadey-scan.toml` (looked for in the folder scanned, then at the top of its git
    /// repository; README.md, "Living with findings").
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Read no `.leadey-scan.toml`.
    #[arg(long)]
    pub no_config: bool,

    /// Report only findings that are not in the baseline FILE (made by --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record the current findings in the baseline FILE (fingerprints, paths and masked keys,
    /// never keys) and suppress them in this run. Live keys (--verify) are left out.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// List the --baseline entries that match no finding and remove them from its file.
    #[arg(long, requires = "baseline", conflicts_with = "write_baseline")]
    pub prune_baseline: bool,

    /// Report every finding, for audits: ignore allow comments, the config file's allow lists
    /// and --baseline (the config file's rules still apply).
    #[arg(long, conflicts_with_all = ["write_baseline", "prune_baseline"])]
    pub no_suppress: bool,
}

/// Git scopes (#5): become `ScanConfig::git`.
#[derive(Debug, Clone, clap::Args)]
pub struct GitArgs {
    /// Scan what the next commit will contain (the git index, not the working tree) and report
    /// keys on the lines it adds. For pre-commit hooks.
    #[arg(long, help_heading = "Git scopes", conflicts_with_all = ["since", "range", "history"])]
    pub staged: bool,

    /// Scan every line added by the commits reachable from HEAD and not from REV (what a push
    /// or pull request adds); each finding names its commit.
    #[arg(long, value_name = "REV", help_heading = "Git scopes", conflicts_with_all = ["range", "history"])]
    pub since: Option<String>,

    /// Like --since, for the commits reachable from HEAD and not from BASE.
    #[arg(
        long,
        value_name = "BASE..HEAD",
        help_heading = "Git scopes",
        conflicts_with = "history",
        value_parser = CommitRange::parse
    )]
    pub range: Option<CommitRange>,

    /// Scan everything ever committed on any ref: each distinct blob once, each key once per
    /// path with the commit that introduced it, and whether HEAD still has it.
    #[arg(long, help_heading = "Git scopes")]
    pub history: bool,

    /// The pre-commit framework's mode (.pre-commit-hooks.yaml): scans the files it names, but
    /// in a file the index changes reports only keys on lines the staged change adds, so a
    /// `git mv` of a file with a baselined or accepted key passes and a copy of it does not.
    /// Files without a staged change are scanned whole (`pre-commit run --all-files`).
    #[arg(long, help_heading = "Hooks", conflicts_with_all = ["staged", "since", "range", "history"])]
    pub pre_commit: bool,

    /// With --history: only the commits reachable from REF (presence is checked at REF).
    #[arg(
        long,
        value_name = "REF",
        help_heading = "Git scopes",
        requires = "history"
    )]
    pub branch: Option<String>,
}

/// Actions other than scanning (#20). They are flags, as `rg --generate` is, so that a bare
/// word on the command line is always a path: a folder named `man` or `install-hook` is scanned.
#[derive(Debug, Clone, clap::Args)]
pub struct ActionArgs {
    /// Print the manual page (roff, section 1) or a shell completion script to standard output,
    /// then exit (`--generate man > leadey-scan.1`; `--generate complete-bash >
    /// ~/.local/share/bash-completion/completions/leadey-scan`).
    #[arg(
        long,
        value_enum,
        value_name = "KIND",
        help_heading = "Other actions",
        conflicts_with = "install_hook"
    )]
    pub generate: Option<Generate>,

    /// Write a plain git pre-commit hook that runs `leadey-scan --staged` into the repository
    /// REPO (default: the current one), then exit. For repositories without the pre-commit
    /// framework. Refuses to replace another hook unless --force.
    #[arg(long, value_name = "REPO", num_args = 0..=1, default_missing_value = ".",
          help_heading = "Hooks")]
    pub install_hook: Option<PathBuf>,

    /// With --install-hook: replace an existing pre-commit hook that leadey-scan did not write.
    #[arg(long, requires = "install_hook", help_heading = "Hooks")]
    pub force: bool,

    /// Run a language server on standard input and output, for editors (docs/editors.md): keys
    /// are flagged in unsaved buffers as they are typed, with the rules, decoders, allow
    /// comments and `.leadey-scan.toml` of each workspace folder (and --rules, --baseline,
    /// --config, taken from the folder when relative). Never sends anything over the network.
    #[arg(long, help_heading = "Editors",
          conflicts_with_all = ["generate", "install_hook", "verify", "write_baseline",
                                "prune_baseline", "staged", "since", "range", "history",
                                "pre_commit", "github", "pre_receive", "pre_push"])]
    pub lsp: bool,
}

/// `--generate`: what to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    /// The manual page (roff, section 1).
    Man,
    /// The bash completion script.
    CompleteBash,
    /// The zsh completion script.
    CompleteZsh,
    /// The fish completion script.
    CompleteFish,
    /// The PowerShell completion script.
    CompletePowershell,
    /// The elvish completion script.
    CompleteElvish,
}

/// What `Args` asks for besides the scan, decided before anything is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Scan (the default).
    Scan,
    /// `--generate KIND`.
    Generate(Generate),
    /// `--lsp` (#24).
    Lsp,
    /// `--install-hook [REPO]` (with `--force`).
    InstallHook {
        /// The repository.
        repo: PathBuf,
        /// Replace a hook leadey-scan did not write.
        force: bool,
    },
}

impl Generate {
    /// The shell of a completion script; `None` for the manual page.
    pub fn shell(self) -> Option<clap_complete::Shell> {
        use clap_complete::Shell;
        match self {
            Generate::Man => None,
            Generate::CompleteBash => Some(Shell::Bash),
            Generate::CompleteZsh => Some(Shell::Zsh),
            Generate::CompleteFish => Some(Shell::Fish),
            Generate::CompletePowershell => Some(Shell::PowerShell),
            Generate::CompleteElvish => Some(Shell::Elvish),
        }
    }

    /// Writes the manual page or completion script to `out`.
    pub fn write(self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self.shell() {
            Some(shell) => {
                write_completions(shell, out);
                Ok(())
            }
            None => write_man_page(out),
        }
    }
}

/// Writes the completion script for `shell` (#16), generated from the clap definition, so it
/// always matches the flags.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    let mut cmd = <Args as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cmd, "leadey-scan", out);
}

/// Writes the manual page (roff, section 1) generated from the clap definition (#16): the
/// about text, every flag with its help and the exit codes.
pub fn write_man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let cmd = <Args as clap::CommandFactory>::command();
    clap_mangen::Man::new(cmd).render(out)
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics for people, in the style of rustc.
    Human,
    /// One JSON document (schema in docs/reference.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning (README.md).
    Sarif,
    /// One line per finding (`path:line:col: rule: masked key`), for hooks.
    Short,
    /// GitLab's secret-detection report (`gl-secret-detection-report.json`, schema 15.2.1),
    /// for merge-request security widgets (README.md). Never holds a key.
    Gitlab,
}

/// Output settings that are not part of the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputConfig {
    /// Report format.
    pub format: Format,
    /// Report file, or stdout.
    pub output: Option<PathBuf>,
    /// Colour choice.
    pub color: ColorChoice,
    /// Show full keys.
    pub show_secrets: bool,
    /// Include timing.
    pub timing: bool,
    /// List skipped paths.
    pub list_skipped: bool,
    /// No summary.
    pub quiet: bool,
    /// Which findings make the exit code 1.
    pub fail_on: FailOn,
    /// Incomplete content makes the exit code 2 (`--fail-on-incomplete`, `--release`).
    pub fail_on_incomplete: bool,
    /// GitHub Actions mode.
    pub github: bool,
    /// Also write a SARIF log here.
    pub sarif_file: Option<PathBuf>,
    /// List suppressed findings in the human report.
    pub show_suppressed: bool,
    /// List stale baseline entries one by one (`--prune-baseline`).
    pub list_stale: bool,
}

impl Args {
    /// The action the flags ask for: `--generate`, `--install-hook`, or a scan.
    pub fn action(&self) -> Action {
        if let Some(kind) = self.action.generate {
            Action::Generate(kind)
        } else if self.action.lsp {
            Action::Lsp
        } else if let Some(repo) = &self.action.install_hook {
            Action::InstallHook {
                repo: repo.clone(),
                force: self.action.force,
            }
        } else {
            Action::Scan
        }
    }

    /// The scan settings: what `ScanArgs` and `GitArgs` say.
    pub fn scan_config(&self) -> ScanConfig {
        self.scan.to_scan_config(self.git.to_scope())
    }

    /// The output settings: what `OutputArgs` says, and whether stale baseline entries are
    /// listed one by one (`--prune-baseline`).
    pub fn output_config(&self) -> OutputConfig {
        let mut output = self.output.to_output_config();
        output.list_stale = self.suppression.prune_baseline;
        output.fail_on_incomplete |= self.scan.release;
        output
    }

    /// The suppression settings (#7): config file choice and baselines.
    pub fn suppress_options(&self) -> SuppressOptions {
        self.suppression.to_options()
    }

    /// The language server's settings (`--lsp`, #24): the scan and suppression flags.
    pub fn lsp_settings(&self) -> crate::lsp::Settings {
        crate::lsp::Settings {
            scan: self.scan_config(),
            suppress: self.suppress_options(),
        }
    }

    /// The verification settings when `--verify` is given, `None` otherwise (see
    /// `VerifyArgs::to_verify_config`).
    pub fn verify_config(&self) -> Result<Option<VerifyConfig>, VerifyError> {
        self.verify.to_verify_config()
    }
}

impl ScanArgs {
    /// The scan settings, with the git scope `git` (from `GitArgs::to_scope`).
    pub fn to_scan_config(&self, git: Option<GitScope>) -> ScanConfig {
        ScanConfig {
            paths: if self.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                self.paths.clone()
            },
            rule_files: self.rules.clone(),
            no_ignore: self.no_ignore || self.release,
            follow: self.follow,
            max_filesize_bytes: self.max_filesize,
            excludes: self.exclude.clone(),
            threads: self.threads,
            chunk_size_bytes: self.chunk_size.max(1),
            git,
            archives: ArchiveLimits {
                max_depth: self.max_archive_depth,
                max_inflated_bytes: self.max_archive_bytes,
                max_members: self.max_archive_members,
                ..ArchiveLimits::default()
            },
            decode_depth: self.max_decode_depth,
        }
    }
}

impl OutputArgs {
    /// The output settings (`list_stale` off: it follows `--prune-baseline`, see
    /// `Args::output_config`).
    pub fn to_output_config(&self) -> OutputConfig {
        OutputConfig {
            format: self.format,
            output: self.output.clone(),
            color: self.color,
            show_secrets: self.show_secrets,
            timing: !self.no_timing,
            list_skipped: self.list_skipped,
            quiet: self.quiet,
            fail_on: self.fail_on,
            fail_on_incomplete: self.fail_on_incomplete,
            github: self.github,
            sarif_file: self.sarif_file.clone(),
            show_suppressed: self.show_suppressed,
            list_stale: false,
        }
    }
}

impl SuppressArgs {
    /// The suppression settings (#7): config file choice and baselines.
    pub fn to_options(&self) -> SuppressOptions {
        SuppressOptions {
            config: match (&self.config, self.no_config) {
                (Some(file), _) => ConfigChoice::File(file.clone()),
                (None, true) => ConfigChoice::Off,
                (None, false) => ConfigChoice::Auto,
            },
            baseline: self.baseline.clone(),
            write_baseline: self.write_baseline.clone(),
            prune_baseline: self.prune_baseline,
            no_suppress: self.no_suppress,
        }
    }
}

impl VerifyArgs {
    /// The verification settings when `--verify` is given, `None` otherwise. The API base is
    /// checked here, before any scan or request: `http://` to a host that is not loopback is
    /// an error.
    pub fn to_verify_config(&self) -> Result<Option<VerifyConfig>, VerifyError> {
        if !self.verify {
            return Ok(None);
        }
        let mut config = VerifyConfig::new(ApiBase::parse(&self.api_base)?);
        config.concurrency = usize::from(self.verify_concurrency);
        config.deadline = std::time::Duration::from_secs(self.verify_timeout);
        Ok(Some(config))
    }
}

impl GitArgs {
    /// The git scope the flags select (clap has already rejected combinations).
    pub fn to_scope(&self) -> Option<GitScope> {
        if self.staged {
            Some(GitScope::Staged)
        } else if let Some(rev) = &self.since {
            Some(GitScope::Range(CommitRange::between(rev, "HEAD")))
        } else if let Some(range) = &self.range {
            Some(GitScope::Range(range.clone()))
        } else if self.history {
            Some(GitScope::History {
                branch: self.branch.clone(),
            })
        } else {
            None
        }
    }
}

/// Parses `123`, `10K`, `5M`, `1G` (1024-based, case-insensitive, optional `B`/`iB`).
///
/// ```
/// assert_eq!(leadey_scan::cli::parse_size("2K"), Ok(2048));
/// ```
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let lower = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .unwrap_or(&lower);
    let (digits, shift) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 10),
        Some('m') => (&lower[..lower.len() - 1], 20),
        Some('g') => (&lower[..lower.len() - 1], 30),
        Some('t') => (&lower[..lower.len() - 1], 40),
        _ => (lower, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{t}` is not a size (use e.g. 500K, 10M, 1G)"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{t}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_scan_the_current_directory_with_ignores() {
        let args = Args::parse_from(["leadey-scan"]);
        let (scan, out) = (args.scan_config(), args.output_config());
        assert_eq!(scan.paths, vec![PathBuf::from(".")]);
        assert!(!scan.no_ignore && !scan.follow);
        assert_eq!(scan.max_filesize_bytes, None);
        assert_eq!(out.format, Format::Human);
        assert!(out.timing && !out.show_secrets);
    }

    #[test]
    fn flags_map_to_configs() {
        let args = Args::parse_from([
            "leadey-scan",
            "a",
            "-",
            "--no-ignore",
            "--follow",
            "--max-filesize",
            "10M",
            "--exclude",
            "*.min.js",
            "--threads",
            "3",
            "--format",
            "json",
            "--no-timing",
            "--show-secrets",
            "--rules",
            "r.toml",
            "-o",
            "out.json",
        ]);
        let (scan, out) = (args.scan_config(), args.output_config());
        assert_eq!(scan.paths, vec![PathBuf::from("a"), PathBuf::from("-")]);
        assert!(scan.no_ignore && scan.follow);
        assert_eq!(scan.max_filesize_bytes, Some(10 << 20));
        assert_eq!(scan.excludes, vec!["*.min.js".to_string()]);
        assert_eq!(scan.threads, 3);
        assert_eq!(scan.rule_files, vec![PathBuf::from("r.toml")]);
        assert_eq!(out.format, Format::Json);
        assert_eq!(out.output, Some(PathBuf::from("out.json")));
        assert!(!out.timing && out.show_secrets);
    }

    #[test]
    fn verification_is_off_by_default_and_ignores_the_api_base() {
        let args = Args::parse_from(["leadey-scan", "--api-base", "http://leadey.test/v1"]);
        assert!(args.verify_config().unwrap().is_none());
        assert_eq!(args.output_config().fail_on, FailOn::Any);
    }

    #[test]
    fn verify_flags_map_to_a_verify_config() {
        let args = Args::parse_from([
            "leadey-scan",
            "--verify",
            "--api-base",
            "http://127.0.0.1:9/v1",
            "--verify-concurrency",
            "2",
            "--verify-timeout",
            "5",
            "--fail-on",
            "live-or-unknown",
        ]);
        let v = args.verify_config().unwrap().unwrap();
        assert_eq!(v.api_base.me_url().as_str(), "http://127.0.0.1:9/v1/me");
        assert_eq!(v.concurrency, 2);
        assert_eq!(v.deadline, std::time::Duration::from_secs(5));
        assert_eq!(args.output_config().fail_on, FailOn::LiveOrUnknown);
        let default = Args::parse_from(["leadey-scan", "--verify"]);
        let v = default.verify_config().unwrap().unwrap();
        assert_eq!(
            v.api_base.me_url().as_str(),
            "https://backend.leadey.ai/v1/me"
        );
        assert_eq!(v.concurrency, DEFAULT_CONCURRENCY);
    }

    #[test]
    fn verify_refuses_cleartext_to_a_remote_host() {
        let args = Args::parse_from(["leadey-scan", "--verify", "--api-base", "http://a.test/v1"]);
        assert!(matches!(
            args.verify_config(),
            Err(VerifyError::Cleartext { .. })
        ));
    }

    #[test]
    fn fail_on_live_needs_verify() {
        assert!(Args::try_parse_from(["leadey-scan", "--fail-on", "live"]).is_err());
        assert!(Args::try_parse_from(["leadey-scan", "--fail-on", "live-or-unknown"]).is_err());
        assert!(Args::try_parse_from(["leadey-scan", "--fail-on", "any"]).is_ok());
        assert!(Args::try_parse_from(["leadey-scan", "--fail-on", "live", "--verify"]).is_ok());
        assert!(Args::try_parse_from(["leadey-scan", "--verify-concurrency", "0"]).is_err());
    }

    #[test]
    fn git_flags_select_one_scope() {
        let scope = |args: &[&str]| {
            let mut all = vec!["leadey-scan"];
            all.extend_from_slice(args);
            Args::try_parse_from(all).map(|a| a.scan_config().git)
        };
        assert_eq!(scope(&[]).unwrap(), None);
        assert_eq!(scope(&["--staged"]).unwrap(), Some(GitScope::Staged));
        assert_eq!(
            scope(&["--since", "main"]).unwrap(),
            Some(GitScope::Range(CommitRange::between("main", "HEAD")))
        );
        assert_eq!(
            scope(&["--range", "a..b"]).unwrap(),
            Some(GitScope::Range(CommitRange::between("a", "b")))
        );
        assert_eq!(
            scope(&["--history", "--branch", "dev"]).unwrap(),
            Some(GitScope::History {
                branch: Some("dev".into())
            })
        );
        assert!(scope(&["--staged", "--history"]).is_err());
        assert!(scope(&["--since", "a", "--range", "a..b"]).is_err());
        assert!(
            scope(&["--branch", "dev"]).is_err(),
            "--branch needs --history"
        );
        // #20: the pre-commit framework's mode is a tree scan of the named files (the staged
        // change only filters its findings), and no other git scope.
        let args = Args::parse_from(["leadey-scan", "--pre-commit", "a.env", "b/c.env"]);
        assert!(args.git.pre_commit);
        let scan = args.scan_config();
        assert_eq!(scan.git, None);
        assert_eq!(scan.paths, ["a.env", "b/c.env"].map(PathBuf::from));
        assert!(!scan.no_ignore);
        assert!(scope(&["--pre-commit", "--staged"]).is_err());
        assert!(scope(&["--pre-commit", "--history"]).is_err());
    }

    #[test]
    fn suppression_flags_map_to_options() {
        let args = Args::parse_from(["leadey-scan"]);
        assert_eq!(args.suppress_options(), SuppressOptions::default());
        let args = Args::parse_from([
            "leadey-scan",
            "--config",
            "c.toml",
            "--baseline",
            "b.json",
            "--prune-baseline",
            "--show-suppressed",
        ]);
        let o = args.suppress_options();
        assert_eq!(o.config, ConfigChoice::File(PathBuf::from("c.toml")));
        assert_eq!(o.baseline, Some(PathBuf::from("b.json")));
        assert!(o.prune_baseline && o.write_baseline.is_none());
        let out = args.output_config();
        assert!(out.show_suppressed && out.list_stale);
        let o = Args::parse_from(["leadey-scan", "--no-config", "--write-baseline", "w.json"])
            .suppress_options();
        assert_eq!(o.config, ConfigChoice::Off);
        assert_eq!(o.write_baseline, Some(PathBuf::from("w.json")));
        assert!(Args::try_parse_from(["leadey-scan", "--config", "c", "--no-config"]).is_err());
        assert!(Args::try_parse_from(["leadey-scan", "--prune-baseline"]).is_err());
        assert!(Args::try_parse_from([
            "leadey-scan",
            "--baseline",
            "b",
            "--write-baseline",
            "b",
            "--prune-baseline"
        ])
        .is_err());
    }

    #[test]
    fn bare_words_are_paths_and_actions_are_flags() {
        // #20: the old subcommand names are folders to scan.
        let args = Args::parse_from(["leadey-scan", "man", "help", "completions", "version"]);
        assert_eq!(args.action(), Action::Scan);
        assert_eq!(
            args.scan_config().paths,
            ["man", "help", "completions", "version"].map(PathBuf::from)
        );
        let args = Args::parse_from(["leadey-scan", "install-hook"]);
        assert_eq!(args.action(), Action::Scan);
        assert_eq!(args.scan_config().paths, [PathBuf::from("install-hook")]);

        let action = |argv: &[&str]| {
            let mut all = vec!["leadey-scan"];
            all.extend_from_slice(argv);
            Args::try_parse_from(all).map(|a| a.action())
        };
        assert_eq!(
            action(&["--generate", "man"]).unwrap(),
            Action::Generate(Generate::Man)
        );
        assert_eq!(
            action(&["--generate", "complete-powershell"]).unwrap(),
            Action::Generate(Generate::CompletePowershell)
        );
        assert_eq!(
            Generate::CompleteZsh.shell(),
            Some(clap_complete::Shell::Zsh)
        );
        assert!(action(&["--generate", "bash"]).is_err());
        assert_eq!(
            action(&["--install-hook"]).unwrap(),
            Action::InstallHook {
                repo: PathBuf::from("."),
                force: false
            }
        );
        assert_eq!(
            action(&["--install-hook", "repo", "--force"]).unwrap(),
            Action::InstallHook {
                repo: PathBuf::from("repo"),
                force: true
            }
        );
        assert!(
            action(&["--force"]).is_err(),
            "--force needs --install-hook"
        );
        assert!(action(&["--generate", "man", "--install-hook"]).is_err());
        // #24: the language server is a flag too, and never verifies.
        assert_eq!(action(&["--lsp"]).unwrap(), Action::Lsp);
        assert!(action(&["--lsp", "--verify"]).is_err());
        assert!(action(&["--lsp", "--write-baseline", "b.json"]).is_err());
        assert!(action(&["--lsp", "--history"]).is_err());
        assert!(action(&["--lsp", "--pre-receive"]).is_err());
        let args = Args::parse_from(["leadey-scan", "--lsp", "--baseline", "b.json"]);
        assert_eq!(
            args.lsp_settings().suppress.baseline,
            Some(PathBuf::from("b.json"))
        );
    }

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("10k"), Ok(10 * 1024));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("3G"), Ok(3 << 30));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("99999999999999T").is_err());
    }
}

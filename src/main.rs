//! The `leadey-scan` binary: parse arguments, run the library, print the report, warnings and
//! summary, map the outcome to an exit code. Errors are printed once, redacted, with exit 2.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use leadey_scan::cli::{Action, Args, Format, OutputConfig};
use leadey_scan::config::{GitScope, ScanConfig};
use leadey_scan::exit::{exit_code, ExitRule, EXIT_CLEAN, EXIT_ERROR};
use leadey_scan::github::{self, Plan};
use leadey_scan::report::gitlab::Gitlab;
use leadey_scan::report::human::{summary, Human};
use leadey_scan::report::json::Json;
use leadey_scan::report::sarif::Sarif;
use leadey_scan::report::short::Short;
use leadey_scan::report::{RenderOptions, Report, Reporter};
use leadey_scan::suppress::Suppressor;
use leadey_scan::term::escape;
use leadey_scan::verify::{self, VerifyConfig};

mod progress;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => return usage_error(&err),
    };
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(EXIT_CLEAN),
        Err(err) => {
            let text = format!("{err:#}");
            eprintln!(
                "leadey-scan: error: {}",
                escape(&leadey_scan::redact_builtin(&text))
            );
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(args: Args) -> anyhow::Result<u8> {
    setup_process(&args.scan_config())?;
    match args.action() {
        Action::Scan => {}
        Action::Lsp => {
            leadey_scan::lsp::run_stdio(args.lsp_settings()).context("--lsp")?;
            return Ok(EXIT_CLEAN);
        }
        Action::Generate(kind) => {
            kind.write(&mut io::stdout().lock())
                .context("cannot write to standard output")?;
            return Ok(EXIT_CLEAN);
        }
        Action::InstallHook { repo, force } => {
            let exe = std::env::current_exe().context("cannot find the leadey-scan executable")?;
            let path = leadey_scan::hook::install_hook(&repo, &exe, force)
                .context("cannot install the pre-commit hook")?;
            eprintln!(
                "leadey-scan: installed the pre-commit hook {}",
                path.display()
            );
            return Ok(EXIT_CLEAN);
        }
    }
    // #21: push hooks decide in `push`; the message is for the pusher, on stderr.
    if args.push.is_hook() {
        return Ok(push_hook(&args));
    }
    // Checked before the scan, so that a refused API base costs nothing and sends nothing.
    let verify_config = args.verify_config().context("cannot verify keys")?;
    let suppress_options = args.suppress_options();
    let mut scan_config = args.scan_config();
    let mut out_config = args.output_config();
    let github_plan = if out_config.github {
        match github_planning(&mut scan_config, &mut out_config)? {
            Some(plan) => Some(plan),
            None => return Ok(EXIT_CLEAN),
        }
    } else {
        None
    };
    // #7: config file and baseline are read before the scan, so a mistake in them costs nothing.
    let suppressor =
        Suppressor::load(&suppress_options, &scan_config.paths).context("cannot start the scan")?;
    // #20: a config file read from above the current directory is named, so that a run from a
    // subfolder says why it suppresses what it suppresses.
    if let Some(found) = suppressor.found_config() {
        let elsewhere = found
            .path
            .parent()
            .is_some_and(|dir| !dir.as_os_str().is_empty());
        if found.repository_root.is_some() && elsewhere && !out_config.quiet {
            eprintln!(
                "leadey-scan: using {} (the repository's config file)",
                escape(&leadey_scan::redact_builtin(
                    &found.path.display().to_string()
                ))
            );
        }
    }
    let rules = suppressor
        .rule_set(&scan_config.rule_files)
        .context("cannot start the scan")?;
    // #5: a history scan takes a while; show progress on a terminal only, never in CI logs.
    let progress = scan_config.git.is_some() && !out_config.quiet && io::stderr().is_terminal();
    let mut report = if progress {
        let bar = progress::HistoryBar::stderr();
        let report =
            leadey_scan::scan::run_with_rules_and_progress(&scan_config, rules, &|p| bar.update(p));
        bar.finish();
        report
    } else {
        leadey_scan::scan::run_with_rules(&scan_config, rules)
    }
    .context("cannot start the scan")?;
    if args.git.pre_commit {
        keep_staged_lines(&mut report, &scan_config, &suppressor)?;
    }
    if !out_config.timing {
        report.stats.elapsed_ms = None;
    }
    if let Some(config) = &verify_config {
        verify(&mut report, config, &out_config)?;
    }
    // After verification, so that a live key is never suppressed.
    let outcome = leadey_scan::scan::suppress(&mut report, &suppressor)
        .context("cannot update the baseline")?;
    // GitLab's report names the commit a tree scan saw (#16).
    let scanned_commit = (out_config.format == Format::Gitlab)
        .then(|| leadey_scan::git::scanned_head(&scan_config))
        .flatten();
    write_report(&report, &out_config, scanned_commit)?;
    if out_config.format == Format::Sarif {
        let options = RenderOptions {
            show_secrets: out_config.show_secrets,
            ..RenderOptions::default()
        };
        if let Some(warning) = Sarif::new(options).truncation_warning(&report) {
            eprintln!("leadey-scan: warning: {warning}");
        }
    }
    print_diagnostics(&report, &out_config);
    let sarif_files = match &out_config.sarif_file {
        Some(path) => Some(write_sarif_files(&report, path, &out_config)?),
        None => None,
    };
    if let Some(plan) = &github_plan {
        github_report(&report, sarif_files.as_ref(), plan)?;
    }
    for line in outcome.messages(out_config.list_stale, out_config.quiet) {
        eprintln!("leadey-scan: {}", escape(&line));
    }
    let rule = ExitRule {
        fail_on: out_config.fail_on,
        fail_on_incomplete: out_config.fail_on_incomplete,
    };
    Ok(exit_code(&report, rule))
}

/// `--pre-commit` (#20): in files with a staged change, keeps only the findings on lines the
/// change adds, as the `--staged` scan of the same repository reports them.
fn keep_staged_lines(
    report: &mut Report,
    scan_config: &leadey_scan::config::ScanConfig,
    suppressor: &Suppressor,
) -> anyhow::Result<()> {
    let files = leadey_scan::hook::StagedFiles::from_git().context("--pre-commit")?;
    if files.changed.is_empty() {
        return Ok(());
    }
    let staged_config = leadey_scan::config::ScanConfig {
        paths: vec![".".into()],
        git: Some(GitScope::Staged),
        ..scan_config.clone()
    };
    let rules = suppressor
        .rule_set(&staged_config.rule_files)
        .context("cannot start the scan")?;
    let staged = leadey_scan::scan::run_with_rules(&staged_config, rules)
        .context("--pre-commit: cannot scan the staged change")?;
    leadey_scan::hook::keep_staged_lines(report, &staged, &files);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Process setup (#23): the one place that builds the thread pool and tunes the allocator, before
// any scope runs. Library code never does either.

/// Builds rayon's global pool, sized by `--threads` (0: rayon's default, one thread per CPU),
/// which every scope that fans work out uses (STYLE.md §1); a library caller that builds none
/// gets rayon's default pool. For `--history`, also keeps the heap in one glibc arena (#15): by
/// default glibc gives each allocating thread an arena of its own (up to 8 per CPU), and what
/// one thread frees stays in its arena: measured on rust-lang/cargo, 145 MiB peak RSS against
/// 123 MiB with one arena, and on git/git 240 against 177 MiB, with no more CPU time (the pack
/// pass and the walk allocate little per object). Tree scans keep glibc's default.
fn setup_process(config: &leadey_scan::ScanConfig) -> anyhow::Result<()> {
    if matches!(config.git, Some(GitScope::History { .. })) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes an allocator setting; no allocation is touched. It runs
        // before the pool's threads exist, so each of them uses the one arena.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build_global()
        .context("cannot start the worker threads")
}

/// Runs `--pre-receive` or `--pre-push` (#21) on standard input and prints the decision.
fn push_hook(args: &Args) -> u8 {
    use leadey_scan::push::{run_hook, Hook, HookRun};
    let mut input = Vec::new();
    // Never crash open: a hook input that cannot be read rejects the push.
    if let Err(e) = io::Read::read_to_end(&mut io::stdin().lock(), &mut input) {
        eprintln!("leadey-scan: error: cannot read the hook's input: {e}; the push is rejected");
        return EXIT_ERROR;
    }
    let hook = match &args.push.pre_push {
        Some(remote) => Hook::PrePush {
            remote: remote.first().cloned(),
        },
        None => Hook::PreReceive,
    };
    let run = HookRun {
        hook,
        args: args.push.clone(),
        scan: args.scan_config(),
        suppress: args.suppress_options(),
        fail_on_incomplete: args.output_config().fail_on_incomplete,
    };
    let decision = run_hook(run, &input, &|k| std::env::var(k).ok());
    eprint!("{}", decision.message);
    decision.exit
}

/// Writes the SARIF log(s) for `--sarif-file`: findings still present go to `path`; findings
/// that only history holds go to `<stem>.history.<ext>` when there are any.
fn write_sarif_files(
    report: &Report,
    path: &std::path::Path,
    cfg: &OutputConfig,
) -> anyhow::Result<(String, Option<String>)> {
    let options = RenderOptions {
        show_secrets: cfg.show_secrets,
        ..RenderOptions::default()
    };
    let (history, current): (Vec<_>, Vec<_>) = report
        .findings
        .iter()
        .cloned()
        .partition(|f| f.present_at_head == Some(false));
    let write = |findings: Vec<leadey_scan::finding::Finding>, path: &std::path::Path| {
        let mut part = report.clone();
        part.stats.findings = findings.len() as u64;
        part.findings = findings;
        let file = File::create(path)
            .with_context(|| format!("cannot create SARIF file {}", path.display()))?;
        let mut w = BufWriter::new(file);
        Sarif::new(options).render(&part, &mut w)?;
        w.flush()
            .with_context(|| format!("cannot write SARIF file {}", path.display()))
    };
    write(current, path)?;
    let history_path = if history.is_empty() {
        None
    } else {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = path
            .extension()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sarif".into());
        let hp = path.with_file_name(format!("{stem}.history.{ext}"));
        write(history, &hp)?;
        Some(hp.display().to_string())
    };
    Ok((path.display().to_string(), history_path))
}

/// What `--github` scans: the line that says it, and the code scanning categories of the SARIF
/// logs (`None`: not to be uploaded).
struct GithubPlan {
    scanned: String,
    category: Option<&'static str>,
    history_category: Option<&'static str>,
    /// A commit plan, whose empty result is a notice.
    commits: bool,
}

/// `--github`: plans the scan from the event (unless a git scope was given), prints what is
/// scanned and why, and sets the scope, or release mode for a tag or release. `None` when the
/// plan is empty: the notice, the summary and the outputs are written, and the run ends.
fn github_planning(
    scan_config: &mut ScanConfig,
    out_config: &mut OutputConfig,
) -> anyhow::Result<Option<GithubPlan>> {
    let plan = match &scan_config.git {
        Some(scope) => {
            // An explicit scope in `extra-args` wins over the event.
            let (what, category, history_category) = match scope {
                GitScope::History { .. } => (
                    "every commit of the history (--history)",
                    Some("leadey-scan/history"),
                    Some("leadey-scan/history-deleted"),
                ),
                GitScope::Staged => ("the staged changes (--staged)", None, None),
                GitScope::Range(_) => ("the commits given on the command line", None, None),
            };
            GithubPlan {
                scanned: what.to_string(),
                category,
                history_category,
                commits: false,
            }
        }
        None => {
            let root = scan_config
                .paths
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            let checkout = Checkout::open(&root);
            let plan =
                github::plan_from_env(|k| std::env::var(k).ok(), &checkout).context("--github")?;
            let scanned = plan.describe();
            let category = plan.sarif_category();
            let commits = matches!(plan, Plan::Commits { .. });
            match plan {
                Plan::Commits { range, notice, .. } => {
                    if let Some(notice) = notice {
                        eprint!("{}", github::notice(&notice));
                    }
                    scan_config.git = Some(GitScope::Range(range));
                }
                Plan::Tree { release: true, .. } => {
                    // #20: what ships is often gitignored build output (`dist/`).
                    scan_config.no_ignore = true;
                    out_config.fail_on_incomplete = true;
                }
                Plan::Tree { .. } => {}
                Plan::Nothing(why) => {
                    eprint!("{}", github::notice(&format!("nothing to scan: {why}")));
                    append_env_file("GITHUB_STEP_SUMMARY", &github::nothing_summary(&why))?;
                    append_env_file(
                        "GITHUB_OUTPUT",
                        "findings=0\nlive=0\nsarif-file=\nhistory-sarif-file=\nsarif-category=\nhistory-sarif-category=\n",
                    )?;
                    return Ok(None);
                }
            }
            GithubPlan {
                scanned,
                category,
                history_category: None,
                commits,
            }
        }
    };
    eprintln!("leadey-scan: scanning {}", escape(&plan.scanned));
    Ok(Some(plan))
}

/// `--github`: the checkout's facts for planning (`github::RepoFacts`), read with gix; a path
/// outside any repository knows no commits.
struct Checkout {
    repo: Option<gix::Repository>,
}

impl Checkout {
    /// The repository holding `path`, as git finds it (`GIT_DIR` honoured).
    fn open(path: &std::path::Path) -> Checkout {
        let repo = gix::ThreadSafeRepository::discover_with_environment_overrides(path)
            .ok()
            .map(|r| r.to_thread_local());
        Checkout { repo }
    }

    fn find(&self, rev: &str) -> Option<gix::Commit<'_>> {
        let repo = self.repo.as_ref()?;
        let id = repo.rev_parse_single(rev).ok()?;
        id.object().ok()?.peel_to_commit().ok()
    }
}

impl github::RepoFacts for Checkout {
    fn is_repository(&self) -> bool {
        self.repo.is_some()
    }

    fn commit(&self, rev: &str) -> Option<String> {
        self.find(rev).map(|c| c.id.to_string())
    }

    fn parents(&self, id: &str) -> Option<Vec<String>> {
        let commit = self.find(id)?;
        // Past a shallow boundary a parent is named but absent: nothing to hide there.
        Some(
            commit
                .parent_ids()
                .map(|p| p.to_string())
                .filter(|p| self.find(p).is_some())
                .collect(),
        )
    }

    fn is_shallow(&self) -> bool {
        self.repo.as_ref().is_some_and(gix::Repository::is_shallow)
    }
}

/// `--github`: annotations and notices on stderr, which the runner reads for workflow commands
/// as it reads stdout, so that stdout stays a clean report (`--format json|sarif`); the job
/// summary and the step outputs.
fn github_report(
    report: &Report,
    sarif: Option<&(String, Option<String>)>,
    plan: &GithubPlan,
) -> anyhow::Result<()> {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    err.write_all(github::annotations(report).as_bytes())?;
    if plan.commits && report.stats.files_scanned == 0 && report.findings.is_empty() {
        err.write_all(github::notice(&format!("scanned no file: {}", plan.scanned)).as_bytes())?;
    }
    err.flush()?;
    append_env_file(
        "GITHUB_STEP_SUMMARY",
        &github::step_summary(report, &plan.scanned),
    )?;
    let mut outputs = github::outputs(report, sarif.map(|s| s.0.as_str()));
    if sarif.is_none() {
        outputs.push_str("sarif-file=\n");
    }
    let history_file = sarif.and_then(|s| s.1.as_deref());
    outputs.push_str(&format!(
        "history-sarif-file={}\nsarif-category={}\nhistory-sarif-category={}\n",
        history_file.unwrap_or(""),
        plan.category.unwrap_or(""),
        history_file.and(plan.history_category).unwrap_or("")
    ));
    append_env_file("GITHUB_OUTPUT", &outputs)
}

/// Appends `text` to the file named by environment variable `var`, if it is set.
fn append_env_file(var: &str, text: &str) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os(var) else {
        return Ok(());
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| {
            format!(
                "cannot open ${var} ({})",
                std::path::Path::new(&path).display()
            )
        })?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write ${var}"))
}

/// `--verify`: runs after the scan, on its findings; says on stderr where keys are sent.
fn verify(report: &mut Report, config: &VerifyConfig, cfg: &OutputConfig) -> anyhow::Result<()> {
    let keys = verify::keys_to_verify(&report.findings).len();
    if keys > 0 && !cfg.quiet {
        eprintln!(
            "leadey-scan: verifying {keys} distinct {} with {}",
            if keys == 1 { "key" } else { "keys" },
            escape(&config.api_base.to_string())
        );
    }
    verify::verify_keys(&mut report.findings, config).context("cannot verify keys")?;
    Ok(())
}

/// Renders `report` in `cfg.format`; `scanned_commit` is the commit of a tree scan, for
/// `--format gitlab`.
fn write_report(
    report: &Report,
    cfg: &OutputConfig,
    scanned_commit: Option<String>,
) -> anyhow::Result<()> {
    match &cfg.output {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create report file {}", path.display()))?;
            render(report, cfg, scanned_commit, file)
                .with_context(|| format!("cannot write report file {}", path.display()))?;
        }
        None => render(report, cfg, scanned_commit, io::stdout().lock())?,
    }
    Ok(())
}

/// Renders `report` into `raw`. The human report goes through `anstream`, which decides
/// whether `raw` gets colour (`--color`; for `auto`: a terminal, `NO_COLOR`, `CLICOLOR`,
/// `CLICOLOR_FORCE`, `TERM=dumb`) and drives Windows consoles that take no ANSI codes (#16).
fn render<W: anstream::stream::RawStream + anstream::stream::AsLockedWrite>(
    report: &Report,
    cfg: &OutputConfig,
    scanned_commit: Option<String>,
    raw: W,
) -> io::Result<()> {
    let options = RenderOptions {
        show_secrets: cfg.show_secrets,
        show_suppressed: cfg.show_suppressed,
        color: false,
    };
    let reporter: Box<dyn Reporter> = match cfg.format {
        Format::Human => {
            let stream = anstream::AutoStream::new(raw, cfg.color.into());
            let color = stream.current_choice() != anstream::ColorChoice::Never;
            let mut w = BufWriter::new(stream);
            Human {
                options: RenderOptions { color, ..options },
            }
            .render(report, &mut w)?;
            return w.flush();
        }
        Format::Json => Box::new(Json { options }),
        Format::Sarif => Box::new(Sarif::new(options)),
        Format::Short => Box::new(Short { options }),
        Format::Gitlab => Box::new(Gitlab::ending_now(scanned_commit)),
    };
    let mut w = BufWriter::new(raw);
    reporter.render(report, &mut w)?;
    w.flush()
}

/// Warnings (one per unreadable path), the skip list when asked, and the summary: all on stderr.
fn print_diagnostics(report: &Report, cfg: &OutputConfig) {
    let stderr = io::stderr();
    let mut e = stderr.lock();
    for err in &report.errors {
        let _ = writeln!(
            e,
            "leadey-scan: warning: {}: {}",
            escape(&err.path),
            escape(&err.message)
        );
    }
    for warning in &report.warnings {
        let _ = writeln!(e, "leadey-scan: warning: {}", escape(warning));
    }
    for skip in &report.skipped {
        // #13: archive limits and encrypted members are warned about even without the list.
        if cfg.list_skipped || skip.reason.is_incomplete() {
            let _ = writeln!(
                e,
                "leadey-scan: skipped: {}: {}",
                escape(&skip.path),
                skip.reason.describe()
            );
        }
    }
    for path in report.ignored.iter().filter(|_| cfg.list_skipped) {
        let _ = writeln!(e, "leadey-scan: ignored: {}", escape(&path.path));
    }
    if !cfg.quiet {
        let _ = writeln!(e, "leadey-scan: {}", summary(report));
    }
}

/// clap's message for bad arguments, with key-shaped text masked: clap quotes the value it
/// refused, and a key pasted after the wrong flag must not be echoed (#8). Help and version
/// print as clap prints them.
fn usage_error(err: &clap::Error) -> ExitCode {
    if !err.use_stderr() {
        let _ = err.print();
        return ExitCode::from(EXIT_CLEAN);
    }
    let rendered = err.render();
    let text = if io::stderr().is_terminal() {
        rendered.ansi().to_string()
    } else {
        rendered.to_string()
    };
    eprint!("{}", leadey_scan::redact_builtin(&text));
    ExitCode::from(EXIT_ERROR)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

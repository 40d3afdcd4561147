//! The `leadey-scan` binary: parse arguments, run the library, print the report, warnings and
//! summary, map the outcome to an exit code. Errors are printed once, redacted, with exit 2.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use leadey_scan::cli::{Args, Command, Format, OutputConfig};
use leadey_scan::config::{CommitRange, GitScope};
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

fn run(mut args: Args) -> anyhow::Result<u8> {
    match args.command.take() {
        Some(Command::Completions { shell }) => {
            leadey_scan::cli::write_completions(shell, &mut io::stdout().lock());
            return Ok(EXIT_CLEAN);
        }
        Some(Command::Man) => {
            leadey_scan::cli::write_man_page(&mut io::stdout().lock())
                .context("cannot write the manual page")?;
            return Ok(EXIT_CLEAN);
        }
        command => args.command = command,
    }
    if let Some(Command::InstallHook { force, repo }) = args.command.take() {
        let exe = std::env::current_exe().context("cannot find the leadey-scan executable")?;
        let path = leadey_scan::hook::install_hook(&repo, &exe, force)
            .context("cannot install the pre-commit hook")?;
        eprintln!(
            "leadey-scan: installed the pre-commit hook {}",
            path.display()
        );
        return Ok(EXIT_CLEAN);
    }
    // Checked before the scan, so that a refused API base costs nothing and sends nothing.
    let verify_config = args.verify_config().context("cannot verify keys")?;
    let suppress_options = args.suppress_options();
    let mut scan_config = args.scan_config();
    let out_config = args.output_config();
    let mut range_note = None;
    if out_config.github && scan_config.git.is_none() {
        match github::plan_from_env(|k| std::env::var(k).ok()).context("--github")? {
            Plan::Range { base, head } => {
                range_note = Some(format!(
                    "cannot scan the commits {base}..{head}; if the checkout is shallow, set \
                     `fetch-depth: 0` on actions/checkout so that both commits are present"
                ));
                scan_config.git = Some(GitScope::Range(CommitRange::between(&base, &head)));
            }
            Plan::Nothing(why) => {
                eprintln!("leadey-scan: nothing to scan: {why}");
                append_env_file(
                    "GITHUB_OUTPUT",
                    "findings=0\nlive=0\nsarif-file=\nhistory-sarif-file=\n",
                )?;
                return Ok(EXIT_CLEAN);
            }
            Plan::Tree => {}
        }
    }
    // #7: config file and baseline are read before the scan, so a mistake in them costs nothing.
    let suppressor =
        Suppressor::load(&suppress_options, &scan_config.paths).context("cannot start the scan")?;
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
    .with_context(|| range_note.unwrap_or_else(|| "cannot start the scan".to_string()))?;
    if !out_config.timing {
        report.stats.elapsed_ms = None;
    }
    if let Some(config) = &verify_config {
        verify(&mut report, config, &out_config)?;
    }
    // After verification, so that a live key is never suppressed.
    let outcome = suppressor
        .apply(&mut report)
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
    if out_config.github {
        github_report(&report, sarif_files.as_ref())?;
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

/// `--github`: annotations on stdout, the job summary and the step outputs.
fn github_report(report: &Report, sarif: Option<&(String, Option<String>)>) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    out.write_all(github::annotations(report).as_bytes())?;
    out.flush()?;
    append_env_file("GITHUB_STEP_SUMMARY", &github::step_summary(report))?;
    let mut outputs = github::outputs(report, sarif.map(|s| s.0.as_str()));
    if sarif.is_none() {
        outputs.push_str("sarif-file=\n");
    }
    outputs.push_str(&format!(
        "history-sarif-file={}\n",
        sarif.and_then(|s| s.1.as_deref()).unwrap_or("")
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

//! The `leadey-scan` binary: parse arguments, run the library, print the report, warnings and
//! summary, map the outcome to an exit code. Errors are printed once, redacted, with exit 2.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use leadey_scan::cli::{Args, Format, OutputConfig};
use leadey_scan::exit::{exit_code, EXIT_CLEAN, EXIT_ERROR};
use leadey_scan::report::human::{summary, Human};
use leadey_scan::report::json::Json;
use leadey_scan::report::{RenderOptions, Report, Reporter};
use leadey_scan::term::{escape, use_color};

fn main() -> ExitCode {
    let args = Args::parse();
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
    let (scan_config, out_config) = args.into_configs();
    // #5: a history scan takes a while; show progress on a terminal only, never in CI logs.
    let progress = scan_config.git.is_some() && !out_config.quiet && io::stderr().is_terminal();
    let mut report = if progress {
        let report = leadey_scan::run_with_progress(&scan_config, &print_progress);
        eprint!("\r\x1b[K");
        report
    } else {
        leadey_scan::run(&scan_config)
    }
    .context("cannot start the scan")?;
    if !out_config.timing {
        report.stats.elapsed_ms = None;
    }
    write_report(&report, &out_config)?;
    print_diagnostics(&report, &out_config);
    Ok(exit_code(&report))
}

fn print_progress(p: &leadey_scan::git::Progress) {
    eprint!("\r\x1b[Kleadey-scan: {p}");
}

fn write_report(report: &Report, cfg: &OutputConfig) -> anyhow::Result<()> {
    let to_terminal = cfg.output.is_none() && io::stdout().is_terminal();
    let options = RenderOptions {
        show_secrets: cfg.show_secrets,
        color: cfg.format == Format::Human
            && use_color(
                cfg.color,
                to_terminal,
                std::env::var_os("NO_COLOR").is_some(),
            ),
    };
    let reporter: Box<dyn Reporter> = match cfg.format {
        Format::Human => Box::new(Human { options }),
        Format::Json => Box::new(Json { options }),
    };
    match &cfg.output {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create report file {}", path.display()))?;
            let mut w = BufWriter::new(file);
            reporter.render(report, &mut w)?;
            w.flush()
                .with_context(|| format!("cannot write report file {}", path.display()))?;
        }
        None => {
            let stdout = io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            reporter.render(report, &mut w)?;
            w.flush()?;
        }
    }
    Ok(())
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
    if cfg.list_skipped {
        for skip in &report.skipped {
            let _ = writeln!(
                e,
                "leadey-scan: skipped: {}: {}",
                escape(&skip.path),
                skip.reason.describe()
            );
        }
    }
    if !cfg.quiet {
        let _ = writeln!(e, "leadey-scan: {}", summary(report));
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

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
use leadey_scan::report::sarif::Sarif;
use leadey_scan::report::{RenderOptions, Report, Reporter};
use leadey_scan::term::{escape, use_color};
use leadey_scan::verify::{self, VerifyConfig};

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
    // Checked before the scan, so that a refused API base costs nothing and sends nothing.
    let verify_config = args.verify_config().context("cannot verify keys")?;
    let (scan_config, out_config) = args.into_configs();
    let mut report = leadey_scan::run(&scan_config).context("cannot start the scan")?;
    if !out_config.timing {
        report.stats.elapsed_ms = None;
    }
    if let Some(config) = &verify_config {
        verify(&mut report, config, &out_config)?;
    }
    write_report(&report, &out_config)?;
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
    Ok(exit_code(&report, out_config.fail_on))
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
        Format::Sarif => Box::new(Sarif::new(options)),
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

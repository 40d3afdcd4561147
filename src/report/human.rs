//! The human report: one rustc-style block per finding, then the remediation of each rule that
//! matched. The one-line summary is built here too (`summary`) but printed by `main` on stderr.

use std::collections::BTreeSet;
use std::io;

use super::{human_bytes, RenderOptions, Report, Reporter};
use crate::finding::Finding;
use crate::term::{escape, Painter, Style};

/// Renders `--format human`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Human {
    /// How to render.
    pub options: RenderOptions,
}

impl Reporter for Human {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let p = Painter {
            enabled: self.options.color,
        };
        for finding in &report.findings {
            self.render_finding(report, finding, &p, out)?;
        }
        let used: BTreeSet<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
        for id in used {
            if let Some(rule) = report.rules.get(id) {
                writeln!(
                    out,
                    "{}: {}",
                    p.paint(Style::Help, &format!("help[{id}]")),
                    escape(&rule.remediation.replace('\n', " "))
                )?;
            }
        }
        Ok(())
    }
}

impl Human {
    fn render_finding(
        &self,
        report: &Report,
        f: &Finding,
        p: &Painter,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        let title = report
            .rules
            .get(&f.rule_id)
            .map_or(f.rule_id.as_str(), |r| r.title.as_str());
        let severity = report
            .rules
            .get(&f.rule_id)
            .map_or("error", |r| r.severity.as_str());
        writeln!(
            out,
            "{}: {} {}",
            p.paint(Style::Error, &format!("{severity}[{}]", f.rule_id)),
            p.paint(Style::Bold, title),
            p.paint(Style::Key, &f.masked_key),
        )?;
        let loc = &f.location;
        let binary = if f.binary {
            format!(" (binary file, byte offset {})", loc.byte_offset)
        } else {
            String::new()
        };
        let line_no = loc.line.to_string();
        let pad = " ".repeat(line_no.len());
        writeln!(
            out,
            "{pad}{} {}:{}:{}{binary}",
            p.paint(Style::Gutter, "-->"),
            escape(&loc.path),
            loc.line,
            loc.column
        )?;
        let before: String = f.snippet.chars().take(f.snippet_key_start).collect();
        let before = escape(&before).into_owned();
        let after: String = f.snippet.chars().skip(f.snippet_key_start).collect();
        writeln!(out, "{pad} {}", p.paint(Style::Gutter, "|"))?;
        writeln!(
            out,
            "{} {} {before}{}",
            p.paint(Style::Gutter, &line_no),
            p.paint(Style::Gutter, "|"),
            escape(&after)
        )?;
        writeln!(
            out,
            "{pad} {} {}{}",
            p.paint(Style::Gutter, "|"),
            " ".repeat(before.chars().count()),
            p.paint(Style::Error, &"^".repeat(f.masked_key.chars().count()))
        )?;
        writeln!(
            out,
            "{pad} {} key sha256 {}",
            p.paint(Style::Gutter, "="),
            f.key_sha256
        )?;
        if let Some(c) = &f.commit {
            writeln!(
                out,
                "{pad} {} commit {} {} <{}> {}: {}",
                p.paint(Style::Gutter, "="),
                c.short_id(),
                escape(&c.author_name),
                escape(&c.author_email),
                c.date,
                escape(&c.summary)
            )?;
        }
        if f.present_at_head == Some(false) {
            writeln!(
                out,
                "{pad} {} {}",
                p.paint(Style::Gutter, "="),
                p.paint(Style::Error, "deleted later: still needs revoking")
            )?;
        }
        if self.options.show_secrets {
            writeln!(
                out,
                "{pad} {} secret: {}",
                p.paint(Style::Gutter, "="),
                escape(&String::from_utf8_lossy(f.key().expose()))
            )?;
        }
        writeln!(out)
    }
}

/// The one-line summary: findings, files with findings, files and bytes scanned, skipped,
/// errors, and the elapsed time when known.
pub fn summary(report: &Report) -> String {
    let s = &report.stats;
    let mut line = format!(
        "{} {} in {} {}; scanned {} {} ({}); {} skipped; {} {}",
        s.findings,
        plural(s.findings, "finding", "findings"),
        s.files_with_findings,
        plural(s.files_with_findings, "file", "files"),
        s.files_scanned,
        plural(s.files_scanned, "file", "files"),
        human_bytes(s.bytes_scanned),
        s.skipped,
        s.errors,
        plural(s.errors, "error", "errors"),
    );
    if let Some(ms) = s.elapsed_ms {
        line.push_str(&format!("; {:.2}s", ms as f64 / 1000.0));
    }
    line
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

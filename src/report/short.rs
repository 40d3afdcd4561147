//! The short report (`--format short`): one line per finding, `path:line:col: rule: masked key`,
//! then one help line per rule. For hooks and terminals where a block per finding is too much.

use std::collections::BTreeSet;
use std::io;

use super::{RenderOptions, Report, Reporter};
use crate::finding::Finding;
use crate::term::escape;

/// Renders `--format short`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Short {
    /// How to render (`show_secrets` appends the full key; `show_suppressed` lists suppressed
    /// findings after the open ones, each marked `[suppressed: kind]`).
    pub options: RenderOptions,
}

impl Short {
    /// One line: `path:line:col: rule: masked key (title)`, the verification, the suppression
    /// (for suppressed findings) and, with `--show-secrets`, the key.
    fn line(&self, report: &Report, f: &Finding, out: &mut dyn io::Write) -> io::Result<()> {
        let loc = &f.location;
        let title = report
            .rules
            .get(&f.rule_id)
            .map_or("", |r| r.title.as_str());
        write!(
            out,
            "{}:{}:{}: {}: {} ({title})",
            escape(&loc.path),
            loc.line,
            loc.column,
            f.rule_id,
            f.masked_key
        )?;
        if let Some(v) = &f.verification {
            write!(out, " [{}]", v.status())?;
        }
        // #20: git scopes name the commit, as the human report does.
        if let Some(c) = &f.commit {
            write!(out, " [commit {}]", c.short_id())?;
        }
        match &f.suppression {
            Some(s) if s.overridden.is_some() => {
                write!(out, " [{} ignored: the key is live]", s.kind.describe())?;
            }
            Some(s) => write!(out, " [suppressed: {}]", s.kind.describe())?,
            None => {}
        }
        if self.options.show_secrets {
            write!(
                out,
                " secret: {}",
                escape(&String::from_utf8_lossy(f.key().expose()))
            )?;
        }
        writeln!(out)
    }
}

impl Reporter for Short {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        for f in &report.findings {
            self.line(report, f, out)?;
        }
        // #16: `--show-suppressed` lists them here too, after the open findings, marked.
        if self.options.show_suppressed {
            for f in &report.suppressed {
                self.line(report, f, out)?;
            }
        }
        // #20: keys the API refused get their own help, not the rule's "revoke".
        let (invalid, open): (Vec<&Finding>, Vec<&Finding>) = report
            .findings
            .iter()
            .partition(|f| f.verification.as_ref().is_some_and(|v| v.is_invalid()));
        let used: BTreeSet<&str> = open.iter().map(|f| f.rule_id.as_str()).collect();
        for id in used {
            if let Some(rule) = report.rules.get(id) {
                writeln!(
                    out,
                    "help[{id}]: {}",
                    escape(&rule.remediation.replace('\n', " "))
                )?;
            }
        }
        if !invalid.is_empty() {
            writeln!(out, "help[invalid]: {}", super::INVALID_KEY_HELP)?;
        }
        Ok(())
    }
}

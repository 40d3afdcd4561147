//! The short report (`--format short`): one line per finding, `path:line:col: rule: masked key`,
//! then one help line per rule. For hooks and terminals where a block per finding is too much.

use std::collections::BTreeSet;
use std::io;

use super::{RenderOptions, Report, Reporter};
use crate::term::escape;

/// Renders `--format short`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Short {
    /// How to render (`show_secrets` appends the full key).
    pub options: RenderOptions,
}

impl Reporter for Short {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        for f in &report.findings {
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
            if self.options.show_secrets {
                write!(
                    out,
                    " secret: {}",
                    escape(&String::from_utf8_lossy(f.key().expose()))
                )?;
            }
            writeln!(out)?;
        }
        let used: BTreeSet<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
        for id in used {
            if let Some(rule) = report.rules.get(id) {
                writeln!(
                    out,
                    "help[{id}]: {}",
                    escape(&rule.remediation.replace('\n', " "))
                )?;
            }
        }
        Ok(())
    }
}

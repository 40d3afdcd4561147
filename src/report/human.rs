//! The human report: one rustc-style block per finding, then the remediation of each rule that
//! matched. The one-line summary is built here too (`summary`) but printed by `main` on stderr.

use std::collections::BTreeSet;
use std::io;

use super::{human_bytes, plural, Counts, RenderOptions, Report, Reporter};
use crate::finding::{Finding, Verification};
use crate::skip::SkipReason;
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
        // #20: a rule's "revoke" help is for keys not known to be dead; a key the API refused
        // gets its own help line in its block.
        let used: BTreeSet<&str> = report
            .findings
            .iter()
            .filter(|f| !f.verification.as_ref().is_some_and(|v| v.is_invalid()))
            .map(|f| f.rule_id.as_str())
            .collect();
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
        if self.options.show_suppressed && !report.suppressed.is_empty() {
            let n = report.suppressed.len() as u64;
            writeln!(
                out,
                "{}: {n} suppressed {} (they do not fail the run):\n",
                p.paint(Style::Help, "note"),
                plural(n, "finding")
            )?;
            for finding in &report.suppressed {
                self.render_finding(report, finding, &p, out)?;
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
            .map_or("error", |r| super::severity(r.severity, f).as_str());
        let live = if f.verification.as_ref().is_some_and(|v| v.is_live()) {
            format!(" {}", p.paint(Style::Error, "LIVE"))
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}: {} {}{live}",
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
        // #14: `found base64-encoded`; nested, innermost first: `found utf-16le-encoded,
        // inside base64` (the chain is outermost first).
        let binary = match f.encoding.split_last() {
            Some((inner, outer)) => {
                let inside: String = outer
                    .iter()
                    .rev()
                    .map(|e| format!(", inside {e}"))
                    .collect();
                format!("{binary} (found {inner}-encoded{inside})")
            }
            None => binary,
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
        if let Some(v) = &f.verification {
            let text = describe_verification(v);
            let text = if v.is_live() {
                p.paint(Style::Error, &text)
            } else {
                text
            };
            writeln!(
                out,
                "{pad} {} verification: {text}",
                p.paint(Style::Gutter, "=")
            )?;
            if v.is_invalid() {
                writeln!(
                    out,
                    "{pad} {} {}: {}",
                    p.paint(Style::Gutter, "="),
                    p.paint(Style::Help, "help"),
                    super::INVALID_KEY_HELP
                )?;
            }
        }
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
            if c.reflog_only {
                writeln!(
                    out,
                    "{pad} {} only a reflog still holds this commit (amended, rebased or reset \
                     away): revoke the key if it was ever pushed",
                    p.paint(Style::Gutter, "=")
                )?;
            }
        }
        if f.present_at_head == Some(false) {
            writeln!(
                out,
                "{pad} {} {}",
                p.paint(Style::Gutter, "="),
                p.paint(Style::Error, "deleted later: still needs revoking")
            )?;
        }
        if let Some(other) = &f.head_path {
            writeln!(
                out,
                "{pad} {} now at HEAD in {}, no longer in this file",
                p.paint(Style::Gutter, "="),
                escape(other)
            )?;
        }
        if let Some(layer) = &f.deleted_in_layer {
            writeln!(
                out,
                "{pad} {} {}",
                p.paint(Style::Gutter, "="),
                p.paint(
                    Style::Error,
                    &format!(
                        "deleted in a later layer ({}): still ships in the image, still needs \
                         revoking",
                        escape(layer)
                    )
                )
            )?;
        }
        if let Some(s) = &f.suppression {
            let what = format!("{} ({})", s.kind.describe(), escape(&s.detail));
            match &s.overridden {
                Some(why) => writeln!(
                    out,
                    "{pad} {} {}",
                    p.paint(Style::Gutter, "="),
                    p.paint(Style::Error, &format!("suppression ignored: {what}: {why}"))
                )?,
                None => writeln!(
                    out,
                    "{pad} {} suppressed: {what}",
                    p.paint(Style::Gutter, "=")
                )?,
            }
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

/// The one-line summary, from [`Counts`]: findings, keys and files holding them, files and
/// bytes scanned, skipped, errors, incomplete content by reason, ignored paths, suppressed,
/// verification by key, and the elapsed time when known.
pub fn summary(report: &Report) -> String {
    let c = Counts::of(report);
    let mut line = format!(
        "{}; scanned {} {} ({}); {} skipped; {} {}",
        c.findings_text(),
        c.files_scanned,
        plural(c.files_scanned, "file"),
        human_bytes(c.bytes_scanned),
        c.skipped,
        c.errors,
        plural(c.errors, "error"),
    );
    if c.incomplete > 0 {
        // #20: incomplete content never passes silently, even when it does not fail the run.
        let reasons: Vec<String> = c
            .incomplete_by_reason
            .iter()
            .map(|(reason, n)| format!("{n} {}", reason_word(*reason)))
            .collect();
        line.push_str(&format!(
            "; {} incomplete ({}: --fail-on-incomplete fails the run)",
            c.incomplete,
            reasons.join(", ")
        ));
    }
    if c.ignored > 0 {
        line.push_str(&format!(
            "; {} {} left out by ignore rules (--list-skipped lists them, --no-ignore scans them)",
            c.ignored,
            plural(c.ignored, "path")
        ));
    }
    if !report.suppressed.is_empty() {
        let kinds: Vec<String> = crate::finding::count_by_kind(&report.suppressed)
            .into_iter()
            .map(|(kind, n)| format!("{n} {}", kind.describe()))
            .collect();
        line.push_str(&format!(
            "; {} suppressed ({})",
            report.suppressed.len(),
            kinds.join(", ")
        ));
    }
    let ignored = report
        .findings
        .iter()
        .filter(|f| {
            f.suppression
                .as_ref()
                .is_some_and(|s| s.overridden.is_some())
        })
        .count() as u64;
    if ignored > 0 {
        line.push_str(&format!(
            "; {ignored} {} ignored: live {}",
            plural(ignored, "suppression"),
            plural(ignored, "key")
        ));
    }
    if let Some(text) = c.verified_text() {
        line.push_str(&format!("; {text}"));
    }
    if let Some(ms) = report.stats.elapsed_ms {
        line.push_str(&format!("; {:.2}s", ms as f64 / 1000.0));
    }
    line
}

/// A skip reason as its stable word (`archive-too-large`), as JSON writes it.
fn reason_word(reason: SkipReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// A verification in words: `LIVE, organization Acme (id org_1)`, `revoked or invalid (HTTP
/// 401)`, `unknown: rate limit (HTTP 429, after 3 tries)`. Text from the network is escaped.
pub fn describe_verification(v: &Verification) -> String {
    match v {
        Verification::Live {
            organization,
            api_key,
            ..
        } => {
            let named = |o: &Option<crate::finding::Organization>| {
                o.as_ref()
                    .map_or(String::new(), |o| match (&o.name, &o.id) {
                        (Some(name), Some(id)) => format!("{} (id {})", escape(name), escape(id)),
                        (Some(name), None) => escape(name).into_owned(),
                        (None, Some(id)) => format!("id {}", escape(id)),
                        (None, None) => String::new(),
                    })
            };
            let mut text = "LIVE".to_string();
            for (what, name) in [
                ("key", named(api_key)),
                ("organization", named(organization)),
            ] {
                if !name.is_empty() {
                    text.push_str(&format!(", {what} {name}"));
                }
            }
            text
        }
        Verification::Invalid { http_status } => {
            format!(
                "does not work: refused by the API (HTTP {http_status}), revoked or never valid"
            )
        }
        Verification::Unknown {
            http_status,
            reason,
            detail,
        } => {
            let notes: Vec<String> = http_status
                .map(|s| format!("HTTP {s}"))
                .into_iter()
                .chain(detail.as_deref().map(|d| escape(d).into_owned()))
                .collect();
            if notes.is_empty() {
                format!("unknown: {}", reason.describe())
            } else {
                format!("unknown: {} ({})", reason.describe(), notes.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Organization, UnknownReason};

    #[test]
    fn verifications_read_as_words() {
        let live = |id: Option<&str>, name: Option<&str>| Verification::Live {
            http_status: 200,
            organization: Some(Organization {
                id: id.map(String::from),
                name: name.map(String::from),
            }),
            api_key: None,
            data: serde_json::Value::Null,
        };
        assert_eq!(
            describe_verification(&live(Some("o1"), Some("Acme"))),
            "LIVE, organization Acme (id o1)"
        );
        assert_eq!(
            describe_verification(&live(Some("o1"), None)),
            "LIVE, organization id o1"
        );
        assert_eq!(describe_verification(&live(None, None)), "LIVE");
        assert_eq!(
            describe_verification(&Verification::Invalid { http_status: 401 }),
            "does not work: refused by the API (HTTP 401), revoked or never valid"
        );
        let key = Verification::Live {
            http_status: 200,
            organization: None,
            api_key: Some(Organization {
                id: Some("key_7".into()),
                name: Some("CI \x1b[31mdeploy".into()),
            }),
            data: serde_json::Value::Null,
        };
        assert_eq!(
            describe_verification(&key),
            "LIVE, key CI \\u{1b}[31mdeploy (id key_7)"
        );
        assert_eq!(
            describe_verification(&Verification::Unknown {
                http_status: Some(429),
                reason: UnknownReason::RateLimit,
                detail: Some("after 3 tries".into()),
            }),
            "unknown: rate limit (HTTP 429, after 3 tries)"
        );
        assert_eq!(
            describe_verification(&Verification::Unknown {
                http_status: None,
                reason: UnknownReason::Timeout,
                detail: None,
            }),
            "unknown: timeout"
        );
    }

    #[test]
    fn text_from_the_api_cannot_drive_the_terminal() {
        let v = Verification::Live {
            http_status: 200,
            organization: Some(Organization {
                id: None,
                name: Some("Evil\x1b[2J\r\nCorp".into()),
            }),
            api_key: None,
            data: serde_json::Value::Null,
        };
        let text = describe_verification(&v);
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert_eq!(text, "LIVE, organization Evil\\u{1b}[2J\\u{d}\\u{a}Corp");
    }
}

//! Terminal concerns: whether to colour, ANSI styling, and escaping untrusted text (file names,
//! snippets) so that it cannot drive the terminal. Pure string functions.

use std::borrow::Cow;

/// Text with control characters (C0, DEL, C1) written as `\u{..}` escapes and tabs as a space,
/// so untrusted text cannot move the cursor, change colours or rewrite earlier lines.
///
/// ```
/// assert_eq!(leadey_scan::term::escape("a\x1b[2Jb"), "a\\u{1b}[2Jb");
/// ```
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// ANSI styles used by the human report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Bold red: the severity word.
    Error,
    /// Bold: headlines.
    Bold,
    /// Bold blue: gutters and arrows.
    Gutter,
    /// Bold yellow: the masked key.
    Key,
    /// Bold cyan: help lines.
    Help,
}

/// Applies styles when enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Painter {
    /// Whether to emit escape codes.
    pub enabled: bool,
}

impl Painter {
    /// `text` wrapped in the codes of `style`, or unchanged when disabled.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.enabled {
            return text.to_string();
        }
        let code = match style {
            Style::Error => "1;31",
            Style::Bold => "1",
            Style::Gutter => "1;34",
            Style::Key => "1;33",
            Style::Help => "1;36",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Whether to colour: `always`, `never`, or `auto` (a terminal and no `NO_COLOR`).
pub fn use_color(choice: ColorChoice, is_terminal: bool, no_color_env: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !no_color_env,
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_only_terminals_without_no_color() {
        assert!(use_color(ColorChoice::Auto, true, false));
        assert!(!use_color(ColorChoice::Auto, true, true));
        assert!(!use_color(ColorChoice::Auto, false, false));
        assert!(use_color(ColorChoice::Always, false, true));
        assert!(!use_color(ColorChoice::Never, true, false));
    }

    #[test]
    fn escape_leaves_plain_text_alone() {
        assert!(matches!(escape("héllo"), Cow::Borrowed(_)));
        assert_eq!(escape("a\tb\nc\u{9b}"), "a b\\u{a}c\\u{9b}");
    }
}

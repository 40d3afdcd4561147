//! Terminal concerns: the `--color` choice, the report's styles (`anstyle`), and escaping
//! untrusted text (file names, snippets) so that it cannot drive the terminal. Pure string
//! functions: whether a stream gets colour is `anstream`'s decision, made in the binary.

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

/// Styles of the human report.
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

impl Style {
    /// The style as `anstyle` writes it.
    pub const fn to_anstyle(self) -> anstyle::Style {
        use anstyle::AnsiColor;
        let bold = anstyle::Style::new().bold();
        match self {
            Style::Error => bold.fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red))),
            Style::Bold => bold,
            Style::Gutter => bold.fg_color(Some(anstyle::Color::Ansi(AnsiColor::Blue))),
            Style::Key => bold.fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow))),
            Style::Help => bold.fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan))),
        }
    }
}

/// Applies styles when enabled. Whether to enable them is the caller's choice (the binary asks
/// `anstream` for its output stream: see `ColorChoice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Painter {
    /// Whether to emit escape codes.
    pub enabled: bool,
}

impl Painter {
    /// `text` wrapped in the codes of `style`, or unchanged when disabled.
    ///
    /// ```
    /// use leadey_scan::term::{Painter, Style};
    /// assert_eq!(Painter { enabled: true }.paint(Style::Bold, "x"), "\x1b[1mx\x1b[0m");
    /// assert_eq!(Painter { enabled: false }.paint(Style::Bold, "x"), "x");
    /// ```
    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.enabled {
            return text.to_string();
        }
        let style = style.to_anstyle();
        format!("{style}{text}{style:#}")
    }
}

/// `--color`. `auto` is decided by `anstream` for the stream the report goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal, unless `NO_COLOR` is set, `CLICOLOR=0` or
    /// `TERM=dumb`; `CLICOLOR_FORCE` colours any output.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl From<ColorChoice> for anstream::ColorChoice {
    fn from(choice: ColorChoice) -> Self {
        match choice {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_are_the_ansi_codes_of_the_report() {
        let p = Painter { enabled: true };
        assert_eq!(p.paint(Style::Error, "e"), "\x1b[1m\x1b[31me\x1b[0m");
        assert_eq!(p.paint(Style::Gutter, "|"), "\x1b[1m\x1b[34m|\x1b[0m");
        assert_eq!(p.paint(Style::Key, "k"), "\x1b[1m\x1b[33mk\x1b[0m");
        assert_eq!(p.paint(Style::Help, "h"), "\x1b[1m\x1b[36mh\x1b[0m");
    }

    #[test]
    fn escape_leaves_plain_text_alone() {
        assert!(matches!(escape("héllo"), Cow::Borrowed(_)));
        assert_eq!(escape("a\tb\nc\u{9b}"), "a b\\u{a}c\\u{9b}");
    }
}

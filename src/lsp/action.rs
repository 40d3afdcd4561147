//! The one code action (#24): an allow comment (`leadey-scan:allow`, `detect::allow`) at the
//! end of a key's line, in the comment syntax of the file's language, chosen by the editor's
//! language id and, for plain text, by the file's extension. Pure: no I/O.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, NumberOrString, Range, TextEdit,
    Uri, WorkspaceEdit,
};

use super::text::Positions;
use crate::detect::allow::ALLOW_MARKERS;

/// The `source` of the server's diagnostics.
pub const SOURCE: &str = "leadey-scan";

/// How a comment is written in a language: text before the marker, and after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comment {
    /// What opens the comment (`#`, `//`, `<!--`).
    pub open: &'static str,
    /// What closes it (`-->`, `*/`), empty for a line comment.
    pub close: &'static str,
}

const HASH: Comment = Comment {
    open: "#",
    close: "",
};
const SLASHES: Comment = Comment {
    open: "//",
    close: "",
};
const DASHES: Comment = Comment {
    open: "--",
    close: "",
};
const SEMICOLON: Comment = Comment {
    open: ";",
    close: "",
};
const PERCENT: Comment = Comment {
    open: "%",
    close: "",
};
const BLOCK: Comment = Comment {
    open: "/*",
    close: "*/",
};
const MARKUP: Comment = Comment {
    open: "<!--",
    close: "-->",
};
const QUOTE: Comment = Comment {
    open: "\"",
    close: "",
};
const REM: Comment = Comment {
    open: "REM",
    close: "",
};

/// The comment syntax of a language: by the editor's language id, else by the file name's
/// extension (or whole name, for `Dockerfile`, `.env`); `#` when neither is known (shell,
/// `.env`, YAML, TOML, INI-like files, and most configuration formats use it). `None` for
/// languages without comments (JSON), where any text added would break the file.
///
/// ```
/// use leadey_scan::lsp::action::comment_syntax;
/// assert_eq!(comment_syntax("rust", "lib.rs").unwrap().open, "//");
/// assert_eq!(comment_syntax("plaintext", "settings.py").unwrap().open, "#");
/// assert_eq!(comment_syntax("html", "a.html").unwrap().close, "-->");
/// assert!(comment_syntax("json", "a.json").is_none());
/// ```
pub fn comment_syntax(language_id: &str, file_name: &str) -> Option<Comment> {
    if let Some(by_language) = by_language(language_id) {
        return by_language;
    }
    let lower = file_name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map_or(lower.as_str(), |(_, e)| e);
    let as_language = match ext {
        "rs" => "rust",
        "js" | "mjs" | "cjs" | "jsx" => "javascript",
        "ts" | "tsx" | "mts" | "cts" => "typescript",
        "go" | "java" | "kt" | "kts" | "swift" | "c" | "h" | "cc" | "cpp" | "hpp" | "cs"
        | "scala" | "dart" | "php" | "groovy" | "gradle" | "proto" | "zig" | "jsonc" | "json5" => {
            "c"
        }
        "py" | "rb" | "sh" | "bash" | "zsh" | "fish" | "pl" | "r" | "yml" | "yaml" | "toml"
        | "env" | "cfg" | "conf" | "properties" | "tf" | "hcl" | "ps1" | "nix" | "ex" | "exs"
        | "dockerfile" | "makefile" | "mk" | "cmake" | "jl" | "nim" | "coffee" => "shellscript",
        "sql" | "lua" | "hs" | "elm" | "adb" | "ads" => "sql",
        "ini" | "clj" | "cljs" | "el" | "lisp" | "scm" | "rkt" | "asm" => "ini",
        "tex" | "erl" | "m" => "latex",
        "html" | "htm" | "xml" | "svg" | "md" | "markdown" | "vue" | "svelte" | "xaml"
        | "csproj" | "plist" => "html",
        "css" | "scss" | "less" => "css",
        "vim" => "vim",
        "bat" | "cmd" => "bat",
        "json" | "ipynb" => "json",
        _ => "",
    };
    by_language(as_language).unwrap_or(Some(HASH))
}

/// The syntax for a language id the editors use (VS Code's list, which Neovim, Helix and
/// Emacs mostly share); `None` for an id this list does not know.
fn by_language(id: &str) -> Option<Option<Comment>> {
    let syntax = match id {
        "c" | "cpp" | "csharp" | "cuda" | "d" | "dart" | "go" | "groovy" | "java"
        | "javascript" | "javascriptreact" | "jsonc" | "json5" | "kotlin" | "objective-c"
        | "objective-cpp" | "php" | "proto" | "rust" | "scala" | "solidity" | "swift"
        | "typescript" | "typescriptreact" | "zig" | "hcl" | "terraform" => SLASHES,
        "python" | "ruby" | "shellscript" | "sh" | "bash" | "zsh" | "fish" | "perl" | "r"
        | "yaml" | "toml" | "dotenv" | "properties" | "dockerfile" | "makefile" | "cmake"
        | "powershell" | "elixir" | "julia" | "nim" | "nix" | "coffeescript" | "gitignore"
        | "conf" | "ignore" | "crystal" | "tcl" | "awk" | "starlark" | "bzl" => HASH,
        "sql" | "lua" | "haskell" | "elm" | "ada" | "vhdl" | "plsql" => DASHES,
        "ini" | "clojure" | "lisp" | "commonlisp" | "scheme" | "racket" | "elisp"
        | "emacs-lisp" | "asm" | "nasm" => SEMICOLON,
        "latex" | "tex" | "bibtex" | "erlang" | "matlab" | "prolog" => PERCENT,
        "html" | "xml" | "xsl" | "markdown" | "vue" | "svelte" | "razor" | "astro" => MARKUP,
        "css" | "scss" | "less" => BLOCK,
        "vim" => QUOTE,
        "bat" => REM,
        "json" => return Some(None),
        _ => return None,
    };
    Some(Some(syntax))
}

/// The allow comment for `syntax`: marker inside, a space either side.
pub fn allow_comment(syntax: Comment) -> String {
    let marker = ALLOW_MARKERS[0];
    if syntax.close.is_empty() {
        format!(" {} {marker}", syntax.open)
    } else {
        format!(" {} {marker} {}", syntax.open, syntax.close)
    }
}

/// The quick fixes for the server's `diagnostics` among those the client sent: one per key
/// line, adding an allow comment at the end of the line (after whatever the line holds, so a
/// comment already there keeps its place). Lines that already carry a marker get none.
// lsp-types hashes and compares a `Uri` by its text only; its cached parts do not change that.
#[allow(clippy::mutable_key_type)]
pub fn allow_actions(
    uri: &Uri,
    positions: &Positions<'_>,
    syntax: Option<Comment>,
    diagnostics: &[Diagnostic],
) -> Vec<CodeActionOrCommand> {
    let Some(syntax) = syntax else {
        return Vec::new();
    };
    let mut lines: Vec<(u32, Vec<Diagnostic>)> = Vec::new();
    for d in diagnostics {
        let ours = d.source.as_deref() == Some(SOURCE)
            && matches!(&d.code, Some(NumberOrString::String(code)) if code != INCOMPLETE_CODE);
        if !ours {
            continue;
        }
        let line = d.range.start.line;
        match lines.iter_mut().find(|(l, _)| *l == line) {
            Some((_, ds)) => ds.push(d.clone()),
            None => lines.push((line, vec![d.clone()])),
        }
    }
    let mut actions = Vec::new();
    for (line, ds) in lines {
        let (Some(end), Some(text)) = (positions.line_end(line), positions.line_text(line)) else {
            continue;
        };
        if crate::detect::allow::find_marker(text.as_bytes()).is_some() {
            continue;
        }
        let edit = TextEdit::new(Range::new(end, end), allow_comment(syntax));
        let changes = HashMap::from([(uri.clone(), vec![edit])]);
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!(
                "Allow this key: add `{}` to line {}",
                ALLOW_MARKERS[0],
                line + 1
            ),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(ds),
            edit: Some(WorkspaceEdit::new(changes)),
            ..CodeAction::default()
        }));
    }
    actions
}

/// The `code` of the diagnostic that says content of a buffer was not fully read.
pub const INCOMPLETE_CODE: &str = "incomplete";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_follow_the_language_then_the_extension() {
        let open = |id, name| comment_syntax(id, name).map(allow_comment);
        assert_eq!(open("python", "x").unwrap(), " # leadey-scan:allow");
        assert_eq!(open("typescript", "x").unwrap(), " // leadey-scan:allow");
        assert_eq!(open("lua", "x").unwrap(), " -- leadey-scan:allow");
        assert_eq!(open("css", "x").unwrap(), " /* leadey-scan:allow */");
        assert_eq!(
            open("markdown", "x").unwrap(),
            " <!-- leadey-scan:allow -->"
        );
        assert_eq!(
            open("plaintext", "main.go").unwrap(),
            " // leadey-scan:allow"
        );
        assert_eq!(open("plaintext", ".env").unwrap(), " # leadey-scan:allow");
        assert_eq!(
            open("plaintext", "Dockerfile").unwrap(),
            " # leadey-scan:allow"
        );
        assert_eq!(open("", "init.lua").unwrap(), " -- leadey-scan:allow");
        assert_eq!(open("plaintext", "notes").unwrap(), " # leadey-scan:allow");
        assert_eq!(open("json", "a.json"), None);
        assert_eq!(open("plaintext", "package.json"), None);
        // Every comment written is one the scanner reads as an allow marker.
        for c in [
            HASH, SLASHES, DASHES, SEMICOLON, PERCENT, BLOCK, MARKUP, QUOTE, REM,
        ] {
            let text = format!("k = 1{}", allow_comment(c));
            assert!(crate::detect::allow::find_marker(text.as_bytes()).is_some());
        }
    }
}

//! The config file (#7): `.leadey-scan.toml` (looked up by `suppress::find_config`), or `--config FILE`.
//! Parses and checks it; every mistake is an error naming the file, the line and column, and
//! what was expected. Reads only the file it is given; never prints.
//!
//! ```toml
//! [allow]
//! paths = ["tests/fixtures/**", "*.md"]     # globs relative to the scan root
//! keys = ["<sha256 hex>"]                   # `key_sha256` of the JSON report
//! fingerprints = ["<32 hex>"]               # `fingerprint` of the JSON report
//!
//! [rules.leadey-api-key]                    # tunables of a loaded rule
//! min_entropy = 3.0
//!
//! [[rule]]                                  # extra rules, as in rules/*.toml
//! id = "…"
//! ```

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::shown_path;
use crate::detect::redact_builtin;
use crate::problem::FileProblem;
use crate::rules::{Rule, RuleError, RuleSet, RuleSpec};

/// The name of the config file looked for in the folder scanned and at the repository top.
pub const CONFIG_FILE_NAME: &str = ".leadey-scan.toml";

/// Longest piece of a config value quoted in an error message, in characters.
const QUOTE_MAX_CHARS: usize = 80;

/// Why the config file cannot be used. Quoted values are redacted (key-shaped text masked).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read config file: {error}")]
    Read {
        /// The file, as displayed.
        path: String,
        /// The underlying error (not a `source`: the message already shows it).
        error: std::io::Error,
    },
    /// A value is wrong, at a line and column of the file.
    #[error(transparent)]
    Invalid(FileProblem),
}

/// A checked config file.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The file, as displayed in reports (`.leadey-scan.toml`, `ci/leadey.toml`; key-shaped
    /// text masked).
    pub display: String,
    /// `[allow] paths`.
    pub paths: PathGlobs,
    /// `[allow] keys`: lowercase SHA-256 hex of accepted keys.
    pub keys: HashSet<String>,
    /// `[allow] fingerprints`: lowercase hex.
    pub fingerprints: HashSet<String>,
    /// `[rules.<id>]` overrides, applied to the merged rule set.
    overrides: Vec<Override>,
    /// `[[rule]]` extra rules, compiled.
    pub rules: Vec<Rule>,
    /// The file's text, for positions of errors found after parsing.
    text: String,
}

#[derive(Debug, Clone)]
struct Override {
    id: String,
    span: std::ops::Range<usize>,
    spec: OverrideSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSpec {
    #[serde(default)]
    allow: AllowSpec,
    #[serde(default)]
    rules: BTreeMap<String, Spanned<OverrideSpec>>,
    #[serde(default)]
    rule: Vec<Spanned<RuleSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSpec {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    keys: Vec<Spanned<String>>,
    #[serde(default)]
    fingerprints: Vec<Spanned<String>>,
}

/// `[rules.<id>]`: the tunables a config may change.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideSpec {
    min_entropy: Option<f64>,
    body_min_len: Option<usize>,
    body_max_len: Option<usize>,
}

impl ConfigFile {
    /// Reads and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: shown_path(path),
            error,
        })?;
        ConfigFile::parse(&text, path)
    }

    /// Checks the text of a config file; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
        let display = shown_path(path);
        let problem = |span: Option<std::ops::Range<usize>>, message: String| {
            let message = redact_builtin(&message);
            ConfigError::Invalid(FileProblem::at(display.clone(), text, span, message))
        };
        let at = |span: std::ops::Range<usize>, message: String| problem(Some(span), message);
        let spec: ConfigSpec =
            toml::from_str(text).map_err(|e| problem(e.span(), e.message().replace('\n', " ")))?;

        let mut globs = PathGlobs::builder();
        for glob in &spec.allow.paths {
            globs
                .add(glob.get_ref())
                .map_err(|why| at(glob.span(), why))?;
        }
        let paths = globs.build().map_err(|why| at(0..0, why))?;

        let mut keys = HashSet::new();
        for key in &spec.allow.keys {
            keys.insert(check_hex(key.get_ref(), 64).map_err(|_| {
                at(
                    key.span(),
                    bad_hex_message(key.get_ref(), KEY_HASH_EXPECTED),
                )
            })?);
        }
        let mut fingerprints = HashSet::new();
        for fp in &spec.allow.fingerprints {
            fingerprints.insert(check_hex(fp.get_ref(), 32).map_err(|_| {
                at(
                    fp.span(),
                    bad_hex_message(fp.get_ref(), FINGERPRINT_EXPECTED),
                )
            })?);
        }

        let mut rules: Vec<Rule> = Vec::with_capacity(spec.rule.len());
        for rule in spec.rule {
            let span = rule.span();
            let rule_spec = rule.into_inner();
            if rules.iter().any(|r| r.id == rule_spec.id) {
                let message = format!(
                    "rule `{}`: the id is used twice in this file; expected unique ids",
                    rule_spec.id
                );
                return Err(at(span, message));
            }
            let compiled =
                Rule::from_spec(rule_spec, path).map_err(|e| at(span.clone(), rule_message(e)))?;
            rules.push(compiled);
        }

        let overrides = spec
            .rules
            .into_iter()
            .map(|(id, o)| Override {
                id,
                span: o.span(),
                spec: o.into_inner(),
            })
            .collect();
        Ok(ConfigFile {
            display,
            paths,
            keys,
            fingerprints,
            overrides,
            rules,
            text: text.to_string(),
        })
    }

    /// The rules to scan with: the built-in rules, this file's `[[rule]]`s, then the rule files
    /// of `--rules` (each replacing rules with the same id), then this file's `[rules.<id>]`
    /// overrides, checked like a rule file.
    pub fn rule_set(&self, rule_files: &[PathBuf]) -> Result<RuleSet, RuleSetError> {
        let mut set = RuleSet::builtin()?;
        set.merge(self.rules.clone());
        for file in rule_files {
            // #8: rule files are input; their errors mask keys here, in the library.
            let rules =
                crate::rules::load_rule_file(file).map_err(|e| e.redacted(redact_builtin))?;
            set.merge(rules);
        }
        self.apply_overrides(&mut set)?;
        Ok(set)
    }

    fn apply_overrides(&self, set: &mut RuleSet) -> Result<(), ConfigError> {
        for o in &self.overrides {
            let at = |message: String| {
                let message = redact_builtin(&message);
                let span = Some(o.span.clone());
                ConfigError::Invalid(FileProblem::at(
                    self.display.clone(),
                    &self.text,
                    span,
                    message,
                ))
            };
            let Some(rule) = set.get(&o.id) else {
                let ids: Vec<String> = set.rules().iter().map(|r| format!("`{}`", r.id)).collect();
                return Err(at(format!(
                    "[rules.{}]: no rule `{}` to override; expected one of {}",
                    o.id,
                    o.id,
                    ids.join(", ")
                )));
            };
            let mut spec = spec_of(rule);
            if let Some(v) = o.spec.min_entropy {
                spec.min_entropy = v;
            }
            if let Some(v) = o.spec.body_min_len {
                spec.body_min_len = v;
            }
            if let Some(v) = o.spec.body_max_len {
                spec.body_max_len = v;
            }
            let source = rule.source.clone();
            let changed = Rule::from_spec(spec, &source)
                .map_err(|e| at(format!("[rules.{}]: {}", o.id, rule_message(e))))?;
            set.merge(vec![changed]);
        }
        Ok(())
    }
}

/// What `ConfigFile::rule_set` can fail with: a `--rules` file or the config file.
#[derive(Debug, thiserror::Error)]
pub enum RuleSetError {
    /// A rule file (built-in or `--rules`) is broken.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// An override in the config file is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The spec a rule was compiled from, for re-checking it with changed tunables.
fn spec_of(rule: &Rule) -> RuleSpec {
    RuleSpec {
        id: rule.id.clone(),
        title: rule.title.clone(),
        description: rule.description.clone(),
        prefix: String::from_utf8_lossy(&rule.prefix).into_owned(),
        body_chars: rule.body_chars.clone(),
        body_min_len: rule.body_min_len,
        body_max_len: rule.body_max_len,
        min_entropy: rule.min_entropy,
        max_sequence_share: rule.max_sequence_share,
        max_word_share: rule.max_word_share,
        reject_periodic: rule.reject_periodic,
        placeholder_words: rule.placeholder_words.clone(),
        severity: rule.severity,
        precision: rule.precision,
        remediation: rule.remediation.clone(),
        examples: rule.examples.clone(),
        negative_examples: rule.negative_examples.clone(),
    }
}

/// The message of a rule error, without the rule file's path (the config file is named).
fn rule_message(e: RuleError) -> String {
    match e {
        RuleError::Invalid { id, message, .. } => format!("rule `{id}`: {message}"),
        other => other.to_string(),
    }
}

const KEY_HASH_EXPECTED: &str =
    "expected a key's SHA-256 as 64 hexadecimal characters (`key_sha256` in the JSON report)";
const FINGERPRINT_EXPECTED: &str =
    "expected a fingerprint of 32 hexadecimal characters (`fingerprint` in the JSON report)";

/// `text` lowercased when it is `len` hexadecimal characters.
fn check_hex(text: &str, len: usize) -> Result<String, ()> {
    let t = text.trim();
    if t.len() == len && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(())
    }
}

fn bad_hex_message(value: &str, expected: &str) -> String {
    let redacted = redact_builtin(value);
    if redacted != value {
        // Someone pasted the key itself: say so, and never echo it.
        return format!(
            "this is a key, not its hash: never put a key in the config file; {expected}"
        );
    }
    format!("`{}` is not valid: {expected}", quote(value))
}

/// `text` cut to `QUOTE_MAX_CHARS` characters.
fn quote(text: &str) -> String {
    if text.chars().count() <= QUOTE_MAX_CHARS {
        text.to_string()
    } else {
        let cut: String = text.chars().take(QUOTE_MAX_CHARS).collect();
        format!("{cut}…")
    }
}

/// `[allow] paths`: globs of paths relative to the scan root. As with `--exclude`, a glob
/// without `/` matches any file or folder name on the path (`*.md`, `fixtures`); one with `/`
/// matches the whole relative path or a folder it is in (`tests/fixtures`,
/// `tests/fixtures/**`, `docs/*.md`).
#[derive(Debug, Clone)]
pub struct PathGlobs {
    names: GlobSet,
    name_globs: Vec<String>,
    paths: GlobSet,
    path_globs: Vec<String>,
}

/// Collects globs for a [`PathGlobs`].
#[derive(Debug)]
pub struct PathGlobsBuilder {
    names: GlobSetBuilder,
    name_globs: Vec<String>,
    paths: GlobSetBuilder,
    path_globs: Vec<String>,
}

impl PathGlobs {
    /// An empty builder.
    pub fn builder() -> PathGlobsBuilder {
        PathGlobsBuilder {
            names: GlobSetBuilder::new(),
            name_globs: Vec::new(),
            paths: GlobSetBuilder::new(),
            path_globs: Vec::new(),
        }
    }

    /// The first glob (as written, key-shaped text masked) that `rel`, a `/`-separated path
    /// relative to the scan root, matches.
    ///
    /// ```
    /// use leadey_scan::suppress::config_file::PathGlobs;
    /// let mut b = PathGlobs::builder();
    /// b.add("tests/fixtures").unwrap();
    /// b.add("*.md").unwrap();
    /// let globs = b.build().unwrap();
    /// assert_eq!(globs.matching("tests/fixtures/a/key.txt"), Some("tests/fixtures"));
    /// assert_eq!(globs.matching("docs/README.md"), Some("*.md"));
    /// assert_eq!(globs.matching("src/tests/fixtures/a.txt"), None);
    /// ```
    pub fn matching(&self, rel: &str) -> Option<&str> {
        if !self.name_globs.is_empty() {
            for name in rel.split('/').filter(|c| !c.is_empty()) {
                if let Some(&i) = self.names.matches(name).first() {
                    return self.name_globs.get(i).map(String::as_str);
                }
            }
        }
        if !self.path_globs.is_empty() {
            let ends = rel
                .match_indices('/')
                .map(|(i, _)| i)
                .chain(std::iter::once(rel.len()));
            for end in ends {
                let prefix = rel.get(..end).unwrap_or(rel);
                if let Some(&i) = self.paths.matches(prefix).first() {
                    return self.path_globs.get(i).map(String::as_str);
                }
            }
        }
        None
    }

    /// Every glob as written (key-shaped text masked): name globs (no `/`) first, then path
    /// globs, each in file order.
    pub fn as_written(&self) -> impl Iterator<Item = &str> {
        self.name_globs
            .iter()
            .chain(&self.path_globs)
            .map(String::as_str)
    }
}

impl PathGlobsBuilder {
    /// Adds a glob; the error says what is wrong and what was expected. Key-shaped text in
    /// the glob is masked wherever it is shown (errors, `matching`, reports), never in what is
    /// matched.
    pub fn add(&mut self, glob: &str) -> Result<(), String> {
        // #8: reports quote the glob that suppressed a finding; a glob can spell out a key.
        let shown = redact_builtin(glob);
        let pattern = glob.trim_start_matches("./").trim_start_matches('/');
        let pattern = pattern.trim_end_matches('/');
        if pattern.is_empty() {
            return Err(format!(
                "`{}` is not a usable glob: {GLOB_EXPECTED}",
                quote(&shown)
            ));
        }
        let compiled = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                format!(
                    "`{}` is not a valid glob ({}): {GLOB_EXPECTED}",
                    quote(&shown),
                    redact_builtin(&e.kind().to_string())
                )
            })?;
        if pattern.contains('/') {
            self.paths.add(compiled);
            self.path_globs.push(shown);
        } else {
            self.names.add(compiled);
            self.name_globs.push(shown);
        }
        Ok(())
    }

    /// The compiled globs; the error (key-shaped text masked) says what is wrong.
    pub fn build(self) -> Result<PathGlobs, String> {
        let message = |e: globset::Error| redact_builtin(&e.to_string());
        Ok(PathGlobs {
            names: self.names.build().map_err(message)?,
            name_globs: self.name_globs,
            paths: self.paths.build().map_err(message)?,
            path_globs: self.path_globs,
        })
    }
}

const GLOB_EXPECTED: &str =
    "expected a glob of paths relative to the scan root, such as `tests/fixtures/**` or `*.md`";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, String> {
        ConfigFile::parse(text, Path::new("c.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_config_parses() {
        let c = parse(&format!(
            "[allow]\npaths = [\"tests/**\"]\nkeys = [\"{}\"]\nfingerprints = [\"{}\"]\n\
             [rules.leadey-api-key]\nmin_entropy = 3\n",
            "AB".repeat(32),
            "0f".repeat(16)
        ))
        .unwrap();
        assert!(c.keys.contains(&"ab".repeat(32)));
        assert!(c.fingerprints.contains(&"0f".repeat(16)));
        assert_eq!(c.paths.matching("tests/a/b.txt"), Some("tests/**"));
        let set = c.rule_set(&[]).unwrap();
        assert_eq!(set.rules()[0].min_entropy, 3.0);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("[allow]\npathz = []\n").unwrap_err();
        assert!(e.starts_with("c.toml:2:1: unknown field `pathz`"), "{e}");
        let e = parse("[allow]\nkeys = [\n  \"abc\"]\n").unwrap_err();
        assert!(e.starts_with("c.toml:3:3: `abc` is not valid"), "{e}");
    }

    #[test]
    fn a_key_in_place_of_its_hash_is_never_echoed() {
        let key = "leadey_sk_live_u8jzPde0IgxLd6GncfBA";
        let e = parse(&format!("[allow]\nkeys = [\"{key}\"]\n")).unwrap_err();
        assert!(!e.contains("u8jz"), "{e}");
        assert!(e.contains("this is a key, not its hash"), "{e}");
    }

    #[test]
    fn globs_and_file_names_that_spell_out_a_key_are_shown_masked() {
        let key = "leadey_sk_live_u8jzPde0IgxLd6GncfBA";
        let text = format!("[allow]\npaths = [\"{{fixtures,{key}}}/**\"]\n");
        let c = ConfigFile::parse(&text, Path::new(&format!("{key}.toml"))).unwrap();
        assert_eq!(c.display, "leadey_sk_live_••••cfBA.toml");
        let shown = "{fixtures,leadey_sk_live_••••cfBA}/**";
        assert_eq!(c.paths.matching("fixtures/a.env"), Some(shown));
        assert_eq!(c.paths.as_written().collect::<Vec<_>>(), [shown]);
        let e = PathGlobs::builder().add(&format!("[{key}")).unwrap_err();
        assert!(
            !e.contains("u8jz") && e.contains("leadey_sk_live_••••cfBA"),
            "{e}"
        );
    }

    #[test]
    fn name_globs_match_any_component_and_path_globs_prefixes() {
        let mut b = PathGlobs::builder();
        b.add("fixtures").unwrap();
        b.add("./docs/*.md").unwrap();
        let g = b.build().unwrap();
        assert_eq!(g.matching("a/fixtures/b/c.txt"), Some("fixtures"));
        assert_eq!(g.matching("docs/x.md"), Some("./docs/*.md"));
        assert_eq!(g.matching("docs/sub/x.md"), None);
        assert_eq!(g.matching("src/docs/x.md"), None);
        assert!(PathGlobs::builder().add("a/[b").is_err());
        assert!(PathGlobs::builder().add("/").is_err());
    }
}

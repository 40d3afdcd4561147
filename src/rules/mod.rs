//! Detection rules: validated, compiled forms of `rules/*.toml`. Owns the built-in rule files
//! (embedded with `include_str!`) and merging of user rule files (`--rules`). Never reads files
//! other than the rule files it is asked to load, and never prints.

pub mod spec;

use std::path::{Path, PathBuf};

use memchr::memmem;
use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;

use crate::problem::FileProblem;

pub use spec::{Precision, RuleFileSpec, RuleSpec, Severity};

/// The rule files compiled into the binary, as (path in the repository, contents).
/// `tests/rules.rs` checks that this list names exactly the files under `rules/`.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] =
    &[("rules/leadey.toml", include_str!("../../rules/leadey.toml"))];

/// The longest body any rule may declare, in bytes; bounds chunk overlaps.
pub const MAX_BODY_LEN_LIMIT: usize = 1024;

/// Why a rule file could not be used. Messages carry the file, the rule id and the position,
/// never raw key bytes (text quoted from a file is redacted by the caller's redactor).
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file could not be read.
    // The io error is the source: error chains (`{:#}`) print it once, after this text.
    #[error("{path}: cannot read rule file")]
    Read {
        /// The rule file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the rule file's shape.
    #[error(transparent)]
    Parse(FileProblem),
    /// A rule parsed but its values are not usable.
    #[error("{path}: rule `{id}`: {message}")]
    Invalid {
        /// The rule file.
        path: PathBuf,
        /// The rule's id.
        id: String,
        /// What is wrong.
        message: String,
    },
}

impl RuleError {
    /// The error with `redact` applied to all text that may quote input (the path, the rule id,
    /// the message), so that a key in a rule file or its name never reaches a message (#8).
    pub fn redacted(self, redact: impl Fn(&str) -> String) -> RuleError {
        let path = |p: PathBuf| {
            let text = p.to_string_lossy();
            let masked = redact(&text);
            if masked == text {
                p
            } else {
                PathBuf::from(masked)
            }
        };
        match self {
            RuleError::Read { path: p, source } => RuleError::Read {
                path: path(p),
                source,
            },
            RuleError::Parse(problem) => RuleError::Parse(problem.redacted(&redact)),
            RuleError::Invalid {
                path: p,
                id,
                message,
            } => RuleError::Invalid {
                path: path(p),
                id: redact(&id),
                message: redact(&message),
            },
        }
    }
}

/// A rule's id, cheap to clone (#12: a candidate names its rule by id, not only by an index
/// that could point elsewhere; #23: findings carry it typed). Compares, orders and serializes
/// as its text (`"leadey-api-key"`); derefs to `str` where text is wanted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(std::sync::Arc<str>);

impl RuleId {
    /// The id `id`.
    pub fn new(id: &str) -> RuleId {
        RuleId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl std::ops::Deref for RuleId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RuleId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RuleId {
    fn from(id: &str) -> RuleId {
        RuleId::new(id)
    }
}

impl From<RuleId> for String {
    fn from(id: RuleId) -> String {
        id.as_str().to_string()
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<RuleId> for String {
    fn eq(&self, other: &RuleId) -> bool {
        self.as_str() == other.as_str()
    }
}

/// A validated, compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Kebab-case id.
    pub id: String,
    /// Short human name.
    pub title: String,
    /// Longer explanation.
    pub description: String,
    /// Literal prefix of every key.
    pub prefix: Vec<u8>,
    /// The body class as written in the file.
    pub body_chars: String,
    /// Shortest body, bytes.
    pub body_min_len: usize,
    /// Longest body, bytes.
    pub body_max_len: usize,
    /// Minimum body entropy, bits per character.
    pub min_entropy: f64,
    /// Largest share of the body that sequences may cover.
    pub max_sequence_share: f64,
    /// Largest share of the body that dictionary words may cover.
    pub max_word_share: f64,
    /// Reject bodies that repeat a shorter pattern.
    pub reject_periodic: bool,
    /// Lowercased placeholder words.
    pub placeholder_words: Vec<String>,
    /// Severity of a leak.
    pub severity: Severity,
    /// Likelihood of a true positive.
    pub precision: Precision,
    /// What to do.
    pub remediation: String,
    /// Positive examples.
    pub examples: Vec<String>,
    /// Negative examples.
    pub negative_examples: Vec<String>,
    /// The file the rule came from (`rules/leadey.toml` for built-ins).
    pub source: PathBuf,
    pub(crate) finder: memmem::Finder<'static>,
    /// Anchored: the longest run of body characters, at most `body_max_len + 1` long.
    pub(crate) body_re: Regex,
}

impl Rule {
    /// Validates and compiles one rule read from `source`.
    pub fn from_spec(spec: RuleSpec, source: &Path) -> Result<Rule, RuleError> {
        let invalid = |message: String| RuleError::Invalid {
            path: source.to_path_buf(),
            id: spec.id.clone(),
            message,
        };
        if !is_kebab_case(&spec.id) {
            return Err(invalid("id must be kebab-case (a-z, 0-9 and `-`)".into()));
        }
        if spec.prefix.is_empty() {
            return Err(invalid("prefix must not be empty".into()));
        }
        if spec.body_min_len == 0 {
            return Err(invalid("body_min_len must be at least 1".into()));
        }
        if spec.body_min_len > spec.body_max_len {
            return Err(invalid(format!(
                "body_min_len ({}) is greater than body_max_len ({})",
                spec.body_min_len, spec.body_max_len
            )));
        }
        if spec.body_max_len > MAX_BODY_LEN_LIMIT {
            return Err(invalid(format!(
                "body_max_len ({}) is above the limit of {MAX_BODY_LEN_LIMIT}",
                spec.body_max_len
            )));
        }
        if !(0.0..=8.0).contains(&spec.min_entropy) {
            return Err(invalid(format!(
                "min_entropy ({}) must be between 0 and 8 bits per character",
                spec.min_entropy
            )));
        }
        if !(0.0..=1.0).contains(&spec.max_sequence_share) {
            return Err(invalid(format!(
                "max_sequence_share ({}) must be between 0 and 1",
                spec.max_sequence_share
            )));
        }
        if !(0.0..=1.0).contains(&spec.max_word_share) {
            return Err(invalid(format!(
                "max_word_share ({}) must be between 0 and 1",
                spec.max_word_share
            )));
        }
        if spec.body_chars.is_empty() || spec.body_chars.contains(['[', ']']) {
            return Err(invalid(
                "body_chars must be the inside of a character class, e.g. `A-Za-z0-9`".into(),
            ));
        }
        let body_re = RegexBuilder::new(&format!(
            "\\A[{}]{{0,{}}}",
            spec.body_chars,
            spec.body_max_len + 1
        ))
        .unicode(false)
        .build()
        .map_err(|e| invalid(format!("body_chars is not a valid character class: {e}")))?;
        for b in [b'\n', b'\r', 0u8] {
            if body_re.find(&[b]).is_some_and(|m| m.len() == 1) {
                return Err(invalid(
                    "body_chars must not contain line breaks or NUL".into(),
                ));
            }
        }
        let prefix = spec.prefix.into_bytes();
        let finder = memmem::Finder::new(&prefix).into_owned();
        Ok(Rule {
            id: spec.id,
            title: spec.title,
            description: spec.description,
            prefix,
            body_chars: spec.body_chars,
            body_min_len: spec.body_min_len,
            body_max_len: spec.body_max_len,
            min_entropy: spec.min_entropy,
            max_sequence_share: spec.max_sequence_share,
            max_word_share: spec.max_word_share,
            reject_periodic: spec.reject_periodic,
            placeholder_words: spec
                .placeholder_words
                .into_iter()
                .map(|w| w.to_ascii_lowercase())
                .collect(),
            severity: spec.severity,
            precision: spec.precision,
            remediation: spec.remediation,
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            source: source.to_path_buf(),
            finder,
            body_re,
        })
    }

    /// Longest key this rule can match, prefix included, in bytes.
    pub fn max_key_len(&self) -> usize {
        self.prefix.len() + self.body_max_len
    }
}

/// An ordered set of rules with unique ids.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        for (path, text) in BUILTIN_RULE_FILES {
            set.merge(parse_rule_file(text, Path::new(path))?);
        }
        Ok(set)
    }

    /// The built-in rules plus the rules of `files`; a rule whose id already exists replaces it.
    pub fn load(files: &[PathBuf]) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::builtin()?;
        for path in files {
            set.merge(load_rule_file(path)?);
        }
        Ok(set)
    }

    /// Adds `rules`, replacing rules with the same id in place.
    pub fn merge(&mut self, rules: Vec<Rule>) {
        for rule in rules {
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(slot) => *slot = rule,
                None => self.rules.push(rule),
            }
        }
    }

    /// Applies `redact` to the text every report prints (title, description, remediation),
    /// so that a key pasted into a user rule file is not echoed by reports (#8).
    pub fn redact_text(&mut self, redact: impl Fn(&str) -> String) {
        for rule in &mut self.rules {
            rule.title = redact(&rule.title);
            rule.description = redact(&rule.description);
            rule.remediation = redact(&rule.remediation);
        }
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Reads and compiles one rule file.
pub fn load_rule_file(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let text = std::fs::read_to_string(path).map_err(|source| RuleError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_rule_file(&text, path)
}

/// Parses and compiles the text of a rule file; `path` names it in errors.
pub fn parse_rule_file(text: &str, path: &Path) -> Result<Vec<Rule>, RuleError> {
    let shown = || path.display().to_string();
    let spec: RuleFileSpec = toml::from_str(text).map_err(|e| {
        RuleError::Parse(FileProblem::at(
            shown(),
            text,
            e.span(),
            e.message().to_string(),
        ))
    })?;
    if spec.rule.is_empty() {
        return Err(RuleError::Parse(FileProblem::at(
            shown(),
            text,
            None,
            "no [[rule]] table in the file".into(),
        )));
    }
    let mut rules: Vec<Rule> = Vec::with_capacity(spec.rule.len());
    for rule_spec in spec.rule {
        if rules.iter().any(|r| r.id == rule_spec.id) {
            return Err(RuleError::Invalid {
                path: path.to_path_buf(),
                id: rule_spec.id,
                message: "the id is used twice in this file".into(),
            });
        }
        rules.push(Rule::from_spec(rule_spec, path)?);
    }
    Ok(rules)
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rule]]
id = "x-key"
title = "X"
prefix = "x_"
body_chars = "a-z"
body_min_len = 4
body_max_len = 8
min_entropy = 1.0
severity = "high"
remediation = "revoke"
"#;

    #[test]
    fn builtin_rules_compile() {
        let set = RuleSet::builtin().unwrap();
        assert_eq!(set.rules()[0].id, "leadey-api-key");
        assert_eq!(set.rules()[0].prefix, b"leadey_sk_live_");
    }

    #[test]
    fn unknown_field_is_an_error_with_position() {
        let text = GOOD.replace("min_entropy", "min_entropyy");
        let err = parse_rule_file(&text, Path::new("r.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("r.toml:9:1: unknown field `min_entropyy`"),
            "{msg}"
        );
    }

    #[test]
    fn min_len_above_max_len_is_rejected() {
        let text = GOOD.replace("body_min_len = 4", "body_min_len = 9");
        let msg = parse_rule_file(&text, Path::new("r.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "r.toml: rule `x-key`: body_min_len (9) is greater than body_max_len (8)"
        );
    }

    #[test]
    fn bad_id_entropy_and_class_are_rejected() {
        for (from, to, want) in [
            ("id = \"x-key\"", "id = \"X_Key\"", "kebab-case"),
            ("min_entropy = 1.0", "min_entropy = 9.5", "between 0 and 8"),
            (
                "body_chars = \"a-z\"",
                "body_chars = \"z-a\"",
                "not a valid character class",
            ),
            (
                "body_chars = \"a-z\"",
                "body_chars = \"[a-z]\"",
                "inside of a character class",
            ),
            (
                "body_chars = \"a-z\"",
                "body_chars = \"a-z\\\\n\"",
                "line breaks",
            ),
            (
                "prefix = \"x_\"",
                "prefix = \"\"",
                "prefix must not be empty",
            ),
        ] {
            let text = GOOD.replace(from, to);
            let msg = parse_rule_file(&text, Path::new("r.toml"))
                .unwrap_err()
                .to_string();
            assert!(msg.contains(want), "{to}: {msg}");
        }
    }

    #[test]
    fn user_rule_replaces_builtin_with_same_id() {
        let mut set = RuleSet::builtin().unwrap();
        let text = GOOD.replace("x-key", "leadey-api-key");
        set.merge(parse_rule_file(&text, Path::new("r.toml")).unwrap());
        assert_eq!(set.rules().len(), 1);
        assert_eq!(set.rules()[0].prefix, b"x_");
    }
}

//! Serde mirror of a rule file (`rules/*.toml`, `--rules FILE`). Parsing only: validation and
//! compilation live in `rules::mod`. Unknown fields are rejected so that a misspelt field is an
//! error, never a silently disabled check.

use serde::Deserialize;

/// A whole rule file: a list of `[[rule]]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSpec {
    /// The rules, in file order.
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
}

/// One `[[rule]]` table, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Kebab-case id, unique across all rule files (`leadey-api-key`).
    pub id: String,
    /// Short human name (`Leadey API key`).
    pub title: String,
    /// Longer explanation of what the key is and why a leak matters.
    #[serde(default)]
    pub description: String,
    /// Literal bytes every key starts with (`leadey_sk_live_`).
    pub prefix: String,
    /// The body's characters, as the inside of a regex class (`A-Za-z0-9`).
    pub body_chars: String,
    /// Shortest body, in bytes.
    pub body_min_len: usize,
    /// Longest body, in bytes.
    pub body_max_len: usize,
    /// Minimum Shannon entropy of the body, in bits per character.
    pub min_entropy: f64,
    /// Share (0..=1) of the body that runs of sequential/keyboard characters may cover before the
    /// body counts as a placeholder. 1.0 (the default) turns the check off.
    #[serde(default = "default_sequence_share")]
    pub max_sequence_share: f64,
    /// Share (0..=1) of the body that words of the built-in placeholder dictionary may cover
    /// before the body counts as a placeholder (`YourLeadeyKeyHere2024`). 1.0 (the default)
    /// turns the check off.
    #[serde(default = "default_sequence_share")]
    pub max_word_share: f64,
    /// Reject bodies that repeat a pattern of at most half their length (default true).
    #[serde(default = "default_true")]
    pub reject_periodic: bool,
    /// Case-insensitive words that mark a body as a documentation placeholder.
    #[serde(default)]
    pub placeholder_words: Vec<String>,
    /// How bad a leak is.
    pub severity: Severity,
    /// How sure a finding of this rule is a real key.
    #[serde(default)]
    pub precision: Precision,
    /// What to do about a finding.
    pub remediation: String,
    /// Inputs that must give exactly one finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Inputs that must give no finding.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_true() -> bool {
    true
}

fn default_sequence_share() -> f64 {
    1.0
}

/// Severity of a leak, lowest to highest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Low,
    /// Worth fixing.
    Medium,
    /// Fix soon.
    High,
    /// Fix now: the key grants broad access.
    Critical,
}

impl Severity {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// How likely a finding of the rule is a true positive (SARIF's `precision` vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// Mostly noise.
    Low,
    /// Often right.
    Medium,
    /// Usually right.
    #[default]
    High,
    /// Almost always right.
    VeryHigh,
}

impl Precision {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Low => "low",
            Precision::Medium => "medium",
            Precision::High => "high",
            Precision::VeryHigh => "very-high",
        }
    }
}

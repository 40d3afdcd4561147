//! leadey-scan: finds leaked Leadey API keys. The pipeline is Source → Detector → Finding →
//! Verifier (only with `--verify`, `verify::verify_keys`) → Suppression (`suppress`: allow
//! comments, config file, baselines) → Reporter (see `STYLE.md`), with `unpack` turning archives
//! into member blobs on the way in (#13); `scan::run` ties the scan
//! together. The library never prints.

pub mod blob;
pub mod cli;
pub mod config;
pub mod decode;
pub mod detect;
pub mod exit;
pub mod finding;
pub mod git;
pub mod github;
pub mod hook;
pub mod ignored;
pub mod origin;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod term;
pub mod unpack;
pub mod verify;

pub use config::ScanConfig;
pub use report::Report;
pub use scan::{run, run_with_progress, ScanError};

/// `text` with every key-shaped run of the built-in rules masked; for error messages that may
/// quote input before any user rule is loaded.
pub fn redact_builtin(text: &str) -> String {
    // Built once: verification data is redacted string by string.
    static DETECTOR: std::sync::OnceLock<Option<detect::Detector>> = std::sync::OnceLock::new();
    let detector = DETECTOR.get_or_init(|| {
        rules::RuleSet::builtin()
            .ok()
            .map(|set| detect::Detector::new(&set))
    });
    match detector {
        Some(d) => d.redact(text).into_owned(),
        None => text.to_string(),
    }
}

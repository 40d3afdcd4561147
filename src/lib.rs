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
pub mod lsp;
pub mod origin;
pub mod problem;
pub mod push;
pub mod report;
pub mod rules;
pub mod scan;
pub mod skip;
pub mod source;
pub mod suppress;
pub mod term;
pub mod unpack;
pub mod verify;

pub use config::ScanConfig;
/// For the binary (`main.rs`); library modules use `detect::redact_builtin` (#23: no stage
/// imports the crate root).
pub use detect::redact_builtin;
pub use report::Report;
pub use scan::{run, run_with_progress, ScanError};

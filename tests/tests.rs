//! The integration tests, one binary with a module per behaviour (#23, as ripgrep does it): every
//! extra test binary would link gix, reqwest and zip again. Run one module with
//! `cargo test --test integration scan::`.

mod common;

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod bodies;

mod archive;
mod baseline;
mod completions;
mod config_file;
mod containers;
mod decode;
mod encodings;
mod fuzz_seeds;
mod git;
mod github;
mod gitlab;
mod history;
mod hostile;
mod leak;
mod lsp;
mod origin;
mod precommit;
mod props;
mod push;
mod release;
mod release_names;
mod report;
mod rules;
mod sarif;
mod scan;
mod streams;
mod strings;
mod suppress;
mod verify;

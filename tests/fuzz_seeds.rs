//! The fuzz targets' bodies (fuzz/src/lib.rs) over their seed corpora (fuzz/corpus/<target>/)
//! and every prefix of each seed, in the normal test suite: CI checks the fuzzed properties on
//! known inputs without a nightly toolchain. Long runs: fuzz/README.md.

use crate::bodies;

use std::path::Path;

/// Runs `body` on every seed of `target`, and on prefixes of each (cut every 7 bytes), and
/// returns how many seeds there were.
fn run_corpus(target: &str, body: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| {
            body(&data);
            for cut in (0..data.len()).step_by(7) {
                body(&data[..cut]);
            }
        });
        assert!(result.is_ok(), "{target}: seed {} fails", path.display());
        seeds += 1;
    }
    seeds
}

#[test]
fn detector_properties_hold_on_the_seeds() {
    assert!(run_corpus("detect", bodies::detect) >= 5);
}

#[test]
fn chunked_reads_agree_with_whole_reads_on_the_seeds() {
    assert!(run_corpus("chunks", bodies::chunks) >= 4);
}

#[test]
fn rule_file_parsing_holds_on_the_seeds() {
    assert!(run_corpus("rules", bodies::rules) >= 4);
}

#[test]
fn answer_parsing_holds_on_the_seeds() {
    assert!(run_corpus("answer", bodies::answer) >= 6);
}

#[test]
fn config_file_parsing_holds_on_the_seeds() {
    assert!(run_corpus("config", bodies::config) >= 8);
}

#[test]
fn baseline_parsing_holds_on_the_seeds() {
    assert!(run_corpus("baseline", bodies::baseline) >= 5);
}

#[test]
fn stream_unpackers_hold_on_the_seeds() {
    assert!(run_corpus("streams", bodies::streams::streams) >= 10);
}

//! Fuzz target `streams`: see `fuzz_bodies::streams::streams` (fuzz/src/streams.rs) for what it
//! checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::streams::streams(data));

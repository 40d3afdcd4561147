//! Fuzz target `rules`: see `fuzz_bodies::rules` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::rules(data));

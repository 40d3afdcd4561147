//! Fuzz target `baseline`: see `fuzz_bodies::baseline` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::baseline(data));

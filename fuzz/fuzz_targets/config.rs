//! Fuzz target `config`: see `fuzz_bodies::config` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::config(data));

//! Fuzz target `chunks`: see `fuzz_bodies::chunks` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::chunks(data));

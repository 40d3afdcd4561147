//! Fuzz target `detect`: see `fuzz_bodies::detect` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::detect(data));

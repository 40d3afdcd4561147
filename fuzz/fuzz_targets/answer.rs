//! Fuzz target `answer`: see `fuzz_bodies::answer` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::answer(data));

//! Fuzz target `strings`: see `fuzz_bodies::strings::strings` (fuzz/src/strings.rs) for what it
//! checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::strings::strings(data));

//! Fuzz target `encodings`: see `fuzz_bodies::encodings::encodings` (fuzz/src/encodings.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::encodings::encodings(data));

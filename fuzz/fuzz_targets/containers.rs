//! Fuzz target `containers`: see `fuzz_bodies::containers` (fuzz/src/containers.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::containers::containers(data));

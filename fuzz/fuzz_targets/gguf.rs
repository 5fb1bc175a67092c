//! GGUF metadata parsing: arbitrary bytes after the magic (version, counts, key/values).
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::gguf(data));

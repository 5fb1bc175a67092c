//! zstd expansion (and what it holds): arbitrary bytes after the zstd magic; the first byte
//! picks the name, so a compressed tar and a compressed log are both reached.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::zstd(data));

//! gzip expansion (and what it holds): arbitrary bytes after the gzip magic.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::gzip(data));

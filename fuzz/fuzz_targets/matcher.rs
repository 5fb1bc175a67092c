//! The matcher on arbitrary bytes: the prefiltered search equals the brute-force search, and
//! a chunked scan equals a whole scan.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::matcher(data));

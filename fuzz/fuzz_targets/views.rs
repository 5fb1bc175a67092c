//! The decoding views on arbitrary bytes: JSON string escapes, base64, percent-encoding and
//! ANSI stripping. Each decoded byte maps back to encoded bytes inside the input, in order, and
//! a view of text that holds a secret is scanned without panicking.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::views(data));

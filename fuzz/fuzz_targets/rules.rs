//! Rule-file loading: ferret's TOML format and gitleaks' (translated, Go regex syntax
//! rewritten). Loading either fails with an error or gives rules that compile into a matcher
//! and scan text without panicking.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::rules(data));

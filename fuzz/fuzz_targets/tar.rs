//! The tar expansion on arbitrary bytes named `fuzz.tar`: no panic, no hang, bounded memory.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::tar(data));

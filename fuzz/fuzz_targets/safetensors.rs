//! safetensors header parsing: the input is the header, framed by its true length (even first
//! byte), or the whole file with whatever length the fuzzer wrote (odd first byte).
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::safetensors(data));

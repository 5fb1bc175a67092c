//! The onnx expansion on arbitrary bytes named `fuzz.onnx`: no panic, no hang, bounded memory.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::onnx(data));

//! the TensorBoard event reader (TFRecord frames, Event protos) on arbitrary bytes: no panic, no hang, bounded memory.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::tfevents(data));

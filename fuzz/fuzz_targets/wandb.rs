//! the W&B run-file reader (log blocks, fragments, records) on arbitrary bytes: no panic, no hang, bounded memory.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::wandb(data));

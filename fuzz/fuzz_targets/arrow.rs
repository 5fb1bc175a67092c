//! the Arrow IPC reader (files and streams: messages, dictionaries, record batches, compressed buffers) on arbitrary bytes: no panic, no hang, bounded memory.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::arrow(data));

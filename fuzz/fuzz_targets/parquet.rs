//! the Parquet reader (footer, row groups, pages, levels) on arbitrary bytes: no panic, no hang, bounded memory.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::parquet(data));

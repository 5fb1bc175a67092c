//! The pickle expansion on arbitrary bytes named `fuzz.pkl`: no panic, no hang, bounded memory.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::expand(data, "fuzz.pkl");
});

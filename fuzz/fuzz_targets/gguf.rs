//! GGUF metadata parsing: arbitrary bytes after the magic (version, counts, key/values).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut file = b"GGUF".to_vec();
    file.extend_from_slice(data.strip_prefix(&b"GGUF"[..]).unwrap_or(data));
    common::expand(&file, "fuzz.gguf");
});

//! gzip expansion (and what it holds): arbitrary bytes after the gzip magic.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut file = vec![0x1f, 0x8b];
    file.extend_from_slice(data.strip_prefix(&[0x1f, 0x8b][..]).unwrap_or(data));
    common::expand(&file, "fuzz.log.gz");
});

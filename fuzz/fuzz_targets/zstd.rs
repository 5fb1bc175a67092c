//! zstd expansion (and what it holds): arbitrary bytes after the zstd magic; the first byte
//! picks the name, so a compressed tar and a compressed log are both reached.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut file = MAGIC.to_vec();
    file.extend_from_slice(rest.strip_prefix(&MAGIC[..]).unwrap_or(rest));
    let name = if pick & 1 == 0 { "fuzz.tar.zst" } else { "fuzz.log.zst" };
    common::expand(&file, name);
});

//! safetensors header parsing: the input is the header, framed by its true length (even first
//! byte), or the whole file with whatever length the fuzzer wrote (odd first byte).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    if pick & 1 == 0 {
        let mut file = (rest.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(rest);
        file.extend_from_slice(&[0u8; 64]);
        common::expand(&file, "fuzz.safetensors");
    } else {
        common::expand(rest, "fuzz.safetensors");
    }
});

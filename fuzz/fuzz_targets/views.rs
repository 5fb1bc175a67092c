//! The decoding views on arbitrary bytes: JSON string escapes, base64, percent-encoding and
//! ANSI stripping. Each decoded byte maps back to encoded bytes inside the input, in order, and
//! a view of text that holds a secret is scanned without panicking.
#![no_main]

#[path = "common.rs"]
mod common;

use ferret::view::{ansi, base64, json_string, percent};
use libfuzzer_sys::fuzz_target;

fn check(decoded: &ferret::view::Decoded, len: usize) {
    let n = decoded.bytes.len();
    let mut last = 0;
    for i in 0..n {
        let r = decoded.encoded_range(i..i + 1);
        assert!(r.start <= r.end && r.end <= len, "byte {i}: {r:?} of {len}");
        assert!(r.start >= last, "byte {i} maps back before byte {}", i.saturating_sub(1));
        last = r.start;
    }
    let whole = decoded.encoded_range(0..n);
    assert!(whole.end <= len);
}

fuzz_target!(|data: &[u8]| {
    check(&json_string::decode(data), data.len());
    check(&percent::decode(data), data.len());
    if let Some(d) = base64::decode(data) {
        check(&d, data.len());
        let _ = base64::is_text(&d.bytes);
    }
    for pos in [0, data.len() / 2, data.len().saturating_sub(1)] {
        if pos < data.len()
            && let Some((span, content)) = json_string::enclosing(data, pos)
        {
            assert!(span.start <= content.start && content.end <= span.end);
            assert!(span.end <= data.len());
        }
    }
    if let Some(s) = ansi::strip(data) {
        assert!(s.text.len() <= data.len());
        let mut prev = 0;
        for pos in 0..=s.text.len() as u64 {
            let o = s.map.original(pos);
            assert!(o >= prev && o <= data.len() as u64, "stripped {pos} -> {o}");
            prev = o;
        }
    }
    // The whole engine with its views (base64 blocks, JSON strings, percent-encoding, ANSI).
    common::expand(data, "fuzz.log");
});

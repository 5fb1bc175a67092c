//! Views: the same bytes the way a human would read them, so that a secret hidden by an
//! encoding is still found.
//!
//! A secret can sit in a file in a form no rule matches as written: base64 in a Kubernetes
//! Secret's `data:`, in a Docker `config.json` `auth`, in an HTTP `Basic` header; escaped in a
//! JSON string (`\/`, `\u002B`); percent-encoded inside another URL's query string; wrapped in
//! ANSI colour codes in a terminal log; in UTF-16 (Windows configuration, `.reg` exports,
//! PowerShell transcripts). This module holds the decoders ([`json_string`], [`base64`],
//! [`percent`], [`ansi`], [`utf16`]): each turns encoded bytes into [`Decoded`] text that keeps,
//! for every decoded byte, the range of encoded bytes it came from, so a secret found in the
//! decoded text can be pointed at in the file.
//!
//! Which regions are decoded is decided by the matcher's view triggers
//! ([`crate::matcher::triggers`]); the confirm stage decodes them, scans the decoded text and
//! maps what it finds back ([`crate::confirm::views`]). Decoders depend on nothing else in the
//! crate but the names of the encodings ([`Encoding`]).

pub mod ansi;
pub mod base64;
pub mod json_string;
pub mod percent;
pub mod utf16;

use std::ops::Range;

use crate::finding::Encoding;

/// Undoes `encoding` on `raw`; `None` when `raw` is not valid base64 of text.
pub fn decode(encoding: Encoding, raw: &[u8]) -> Option<Decoded> {
    match encoding {
        Encoding::Json => Some(json_string::decode(raw)),
        Encoding::Percent => Some(percent::decode(raw)),
        Encoding::Base64 => base64::decode(raw).filter(|d| base64::is_text(&d.bytes)),
    }
}

/// Offsets in text read another way (ANSI codes removed, UTF-16 read as UTF-8) back to the
/// original bytes, for whole-blob views: a finding keeps pointing at the bytes of the file.
pub trait Remap {
    /// The original bytes of text bytes `start..end`.
    fn original(&self, start: u64, end: u64) -> (u64, u64);
}

impl Remap for ansi::OffsetMap {
    fn original(&self, start: u64, end: u64) -> (u64, u64) {
        let end = end.max(start + 1);
        (
            ansi::OffsetMap::original(self, start),
            ansi::OffsetMap::original(self, end - 1) + 1,
        )
    }
}

/// Decoded bytes, each with the range of encoded bytes it came from.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    /// The decoded bytes.
    pub bytes: Vec<u8>,
    starts: Vec<u32>,
    ends: Vec<u32>,
}

const UNSET: u32 = u32::MAX;

impl Decoded {
    fn with_capacity(n: usize) -> Decoded {
        Decoded {
            bytes: Vec::with_capacity(n),
            starts: Vec::with_capacity(n),
            ends: Vec::with_capacity(n),
        }
    }

    /// Adds a byte decoded from the unit of encoded bytes starting at `start` (the unit ends
    /// where the next byte's unit starts).
    fn push(&mut self, byte: u8, start: usize) {
        self.bytes.push(byte);
        self.starts.push(start as u32);
        self.ends.push(UNSET);
    }

    /// Adds a byte decoded from encoded bytes `start..end`.
    fn push_span(&mut self, byte: u8, start: usize, end: usize) {
        self.bytes.push(byte);
        self.starts.push(start as u32);
        self.ends.push(end as u32);
    }

    /// Fills in the ends of units pushed with [`Decoded::push`]; `len` is the encoded length.
    fn finish(&mut self, len: usize) {
        let mut next = len as u32;
        for i in (0..self.bytes.len()).rev() {
            if self.ends[i] == UNSET {
                self.ends[i] = next;
            }
            if i > 0 && self.starts[i - 1] != self.starts[i] {
                next = self.starts[i];
            }
        }
    }

    /// The encoded bytes that decoded bytes `range` came from.
    pub fn encoded_range(&self, range: Range<usize>) -> Range<usize> {
        let n = self.bytes.len();
        if n == 0 {
            return 0..0;
        }
        let start = range.start.min(n - 1);
        let last = range.end.saturating_sub(1).clamp(start, n - 1);
        self.starts[start] as usize..self.ends[last] as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_map_of_units() {
        let mut d = Decoded::default();
        d.push(b'a', 0);
        d.push(0xE2, 1);
        d.push(0x82, 1);
        d.push(0xAC, 1);
        d.push(b'b', 7);
        d.finish(8);
        assert_eq!(d.encoded_range(1..4), 1..7);
        assert_eq!(d.encoded_range(4..5), 7..8);
        assert_eq!(d.encoded_range(0..5), 0..8);
    }
}

//! UTF-16 text read as UTF-8: Windows writes configuration and logs in UTF-16.
//!
//! A `.reg` export, a Windows PowerShell transcript (`Out-File`, `Start-Transcript`), a .NET
//! configuration or log saved as "Unicode" is UTF-16, little-endian mostly, with or without a
//! byte-order mark. Every ASCII character is then two bytes, one of them NUL, and no keyword or
//! rule matches the bytes as written. [`detect`] recognises such text by its first bytes (a
//! byte-order mark, or ASCII-range characters with their NUL on the same side throughout the
//! first bytes) and checks that it reads as text (no control characters, surrogates paired);
//! [`transcode`] turns it into UTF-8 with an [`OffsetMap`] back to the original bytes, so a
//! finding points at the UTF-16 bytes of its secret. Lines are the same in both; columns count
//! characters.

use crate::view::Remap;

/// Byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Little-endian (`FF FE` mark; what Windows writes as "Unicode").
    Le,
    /// Big-endian (`FE FF` mark).
    Be,
}

/// UTF-16 text found by [`detect`]: its byte order and the length of its byte-order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf16 {
    /// The byte order.
    pub order: Order,
    /// Bytes of byte-order mark at the start (0 or 2).
    pub bom: usize,
}

/// Bytes of the head that [`detect`] reads.
pub const PROBE: usize = 4096;

/// Fewest code units a head without a byte-order mark must hold to be taken for UTF-16.
pub const MIN_UNITS: usize = 8;

/// Whether `head` (the first bytes of a blob) is UTF-16 text, and how.
///
/// With a byte-order mark (`FF FE`, `FE FF`; not `FF FE 00 00`, which starts UTF-32) the
/// text after it must read as text. Without one, at least [`MIN_UNITS`] code units, nine in
/// ten of them ASCII-range characters with their NUL byte on the same side, and the whole head
/// reading as text: binary data full of small 16-bit numbers has control characters among them.
pub fn detect(head: &[u8]) -> Option<Utf16> {
    let head = &head[..head.len().min(PROBE)];
    let (order, bom) = match head {
        [0xFF, 0xFE, 0, 0, ..] => return None,
        [0xFF, 0xFE, ..] => (Order::Le, 2),
        [0xFE, 0xFF, ..] => (Order::Be, 2),
        // Text without a mark starts with an ASCII-range character: one of its bytes is NUL.
        [a, b, ..] if *a != 0 && *b != 0 => return None,
        _ => {
            let units = head.len() / 2;
            if units < MIN_UNITS {
                return None;
            }
            let (mut le, mut be) = (0usize, 0usize);
            for pair in head.chunks_exact(2) {
                match (pair[0], pair[1]) {
                    (b, 0) if b != 0 && b < 0x80 => le += 1,
                    (0, b) if b != 0 && b < 0x80 => be += 1,
                    _ => {}
                }
            }
            let order = if le * 10 >= units * 9 {
                Order::Le
            } else if be * 10 >= units * 9 {
                Order::Be
            } else {
                return None;
            };
            (order, 0)
        }
    };
    reads_as_text(&head[bom..], order).then_some(Utf16 { order, bom })
}

/// Whether `bytes` decode as UTF-16 text: no control characters but tab, line feed, form feed
/// and carriage return, no NUL, no unpaired surrogate (but one cut off at the end of `bytes`).
fn reads_as_text(bytes: &[u8], order: Order) -> bool {
    let units: Vec<u16> = units(bytes, order).collect();
    let n = units.len();
    let mut i = 0;
    for c in char::decode_utf16(units.iter().copied()) {
        match c {
            Ok(c) => {
                i += c.len_utf16();
                if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c') {
                    return false;
                }
            }
            Err(_) => {
                i += 1;
                if i < n {
                    return false;
                }
            }
        }
    }
    true
}

fn units(bytes: &[u8], order: Order) -> impl Iterator<Item = u16> + '_ {
    bytes.chunks_exact(2).map(move |p| match order {
        Order::Le => u16::from_le_bytes([p[0], p[1]]),
        Order::Be => u16::from_be_bytes([p[0], p[1]]),
    })
}

/// UTF-16 text as UTF-8, and the way back to the original bytes.
#[derive(Debug, Clone, Default)]
pub struct Transcoded {
    /// The text in UTF-8 (an unpaired surrogate becomes U+FFFD).
    pub text: Vec<u8>,
    /// UTF-8 offsets to UTF-16 offsets.
    pub map: OffsetMap,
}

/// Where each UTF-8 byte came from: runs of ASCII characters (one byte from one code unit
/// each) and single non-ASCII characters (several bytes from one or two code units).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetMap {
    /// `(UTF-8 offset, UTF-16 offset, code-unit bytes per character or 0 for a run of ASCII
    /// characters of two bytes each)`, increasing in both offsets.
    points: Vec<(u64, u64, u8)>,
}

impl OffsetMap {
    fn point(&self, pos: u64) -> Option<&(u64, u64, u8)> {
        let i = self.points.partition_point(|p| p.0 <= pos);
        i.checked_sub(1).map(|i| &self.points[i])
    }

    /// The UTF-16 offset where the character holding UTF-8 byte `pos` starts.
    pub fn start(&self, pos: u64) -> u64 {
        match self.point(pos) {
            Some(&(out, orig, 0)) => orig + 2 * (pos - out),
            Some(&(_, orig, _)) => orig,
            None => pos,
        }
    }

    /// The UTF-16 offset where the character holding UTF-8 byte `pos` ends.
    pub fn end(&self, pos: u64) -> u64 {
        match self.point(pos) {
            Some(&(out, orig, 0)) => orig + 2 * (pos - out) + 2,
            Some(&(_, orig, len)) => orig + u64::from(len),
            None => pos + 1,
        }
    }

    /// How many points are kept (one per run of ASCII, one per other character).
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the map is empty (no text).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

impl Remap for OffsetMap {
    fn original(&self, start: u64, end: u64) -> (u64, u64) {
        let last = end.max(start + 1) - 1;
        (self.start(start), self.end(last))
    }
}

/// `bytes` (UTF-16 text as [`detect`] found it, byte-order mark included) in UTF-8. A last odd
/// byte is dropped.
pub fn transcode(bytes: &[u8], how: Utf16) -> Transcoded {
    let body = &bytes[how.bom.min(bytes.len())..];
    let mut out = Transcoded {
        text: Vec::with_capacity(body.len() / 2 + body.len() / 8),
        map: OffsetMap::default(),
    };
    let mut orig = how.bom as u64;
    let mut in_run = false;
    let mut buf = [0u8; 4];
    for c in char::decode_utf16(units(body, how.order)) {
        let (c, len) = match c {
            Ok(c) => (c, c.len_utf16() * 2),
            Err(_) => (char::REPLACEMENT_CHARACTER, 2),
        };
        let at = out.text.len() as u64;
        if c.is_ascii() {
            if !in_run {
                out.map.points.push((at, orig, 0));
                in_run = true;
            }
            out.text.push(c as u8);
        } else {
            out.map.points.push((at, orig, len as u8));
            in_run = false;
            out.text
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        orig += len as u64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    fn be(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFE, 0xFF] } else { Vec::new() };
        v.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        v
    }

    #[test]
    fn detects_both_orders_with_and_without_a_mark() {
        let text = "Windows Registry Editor Version 5.00\r\n";
        let (l, b) = (Order::Le, Order::Be);
        let want = |order, bom| Some(Utf16 { order, bom });
        assert_eq!(detect(&le(text, true)), want(l, 2));
        assert_eq!(detect(&le(text, false)), want(l, 0));
        assert_eq!(detect(&be(text, true)), want(b, 2));
        assert_eq!(detect(&be(text, false)), want(b, 0));
    }

    #[test]
    fn plain_text_and_binary_are_not_utf16() {
        assert_eq!(detect(b"password = hunter2-but-longer\n"), None);
        // UTF-32 with its mark.
        assert_eq!(detect(&[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0]), None);
        // Little 16-bit numbers: NUL on one side, but control characters.
        let numbers: Vec<u8> = (1u16..200).flat_map(u16::to_le_bytes).collect();
        assert_eq!(detect(&numbers), None);
        // Too short to tell.
        assert_eq!(detect(&le("abc", false)), None);
        // A mark followed by binary.
        assert_eq!(detect(&[0xFF, 0xFE, 1, 0, 2, 0, 3, 0]), None);
    }

    #[test]
    fn transcodes_and_maps_back() {
        let text = "é=1\r\nkey=\u{1F511}tok\n";
        let bytes = le(text, true);
        let how = detect(&bytes).unwrap();
        let t = transcode(&bytes, how);
        assert_eq!(t.text, text.as_bytes());
        // In UTF-16: the mark (2), `é=1\r\n` (10), `key=` (8), the emoji (4), then `tok`.
        let at = text.find("tok").unwrap() as u64;
        assert_eq!(t.map.original(at, at + 3), (24, 30));
        // The emoji, all four UTF-8 bytes, is its surrogate pair.
        let e = text.find('\u{1F511}').unwrap() as u64;
        assert_eq!(t.map.original(e, e + 4), (20, 24));
        assert_eq!(t.map.original(e + 1, e + 2), (20, 24));
        // `é` at the start.
        assert_eq!(t.map.original(0, 2), (2, 4));
    }

    #[test]
    fn big_endian_and_unpaired_surrogates() {
        let bytes = be("ab", false);
        let t = transcode(
            &bytes,
            Utf16 {
                order: Order::Be,
                bom: 0,
            },
        );
        assert_eq!(t.text, b"ab");
        let mut bytes = le("a", false);
        bytes.extend_from_slice(&0xD800u16.to_le_bytes());
        bytes.extend_from_slice(&le("b", false));
        bytes.push(b'x');
        let t = transcode(
            &bytes,
            Utf16 {
                order: Order::Le,
                bom: 0,
            },
        );
        assert_eq!(t.text, "a\u{FFFD}b".as_bytes());
        assert_eq!(t.map.original(4, 5), (4, 6));
    }
}

//! Undoing JSON string escapes: `\"`, `\\`, `\/`, `\n` and friends, and `\uXXXX` (with
//! surrogate pairs).
//!
//! A JSON-lines log or a notebook keeps text inside JSON strings, and some writers escape more
//! than they must: PHP writes `/` as `\/`, .NET and Go write `+`, `=`, `&`, `<` as `\u002B`,
//! `\u003D`, `\u0026`, `\u003C`, and a JSON document logged inside another is escaped twice. A
//! secret with such bytes does not match its rule as written; decoded, it does.
//!
//! [`decode`] is lenient: an escape it does not understand is kept as written, so a string that
//! only looks like JSON decodes to something close to itself instead of failing. Every decoded
//! byte remembers the offset of the escape it came from ([`super::Decoded`]).

use std::ops::Range;

use super::Decoded;

/// The longest JSON string content the view looks at on each side of an escape.
pub const MAX_STRING: usize = 1024;

/// The JSON string around the escape at `pos` of `hay`: `(span, content)`, where `content` is
/// between the quotes and `span` also covers a key before it (`"key": "…"`) and the closing
/// quote. `None` when no string delimited by unescaped quotes holds `pos` within
/// [`MAX_STRING`] bytes on each side (text that is not JSON), or the key is longer than 64
/// bytes (it is then left out).
pub fn enclosing(hay: &[u8], pos: usize) -> Option<(Range<usize>, Range<usize>)> {
    let lo = pos.saturating_sub(MAX_STRING);
    let hi = (pos + MAX_STRING).min(hay.len());
    let open = (lo..pos)
        .rev()
        .find(|&i| hay[i] == b'"' && !is_escaped(hay, i))?;
    let close = (pos..hi).find(|&i| hay[i] == b'"' && !is_escaped(hay, i))?;
    if hay[open + 1..close]
        .iter()
        .any(|&b| b == b'\n' || b == b'\r')
    {
        return None;
    }
    let content = open + 1..close;
    // A key: `"…"` then `:` before the opening quote, within a short distance.
    let mut start = open;
    let mut i = open;
    while i > 0 && matches!(hay[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i > 0 && hay[i - 1] == b':' {
        let mut j = i - 1;
        while j > 0 && matches!(hay[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        if j > 0 && hay[j - 1] == b'"' && !is_escaped(hay, j - 1) {
            let key_end = j - 1;
            let from = key_end.saturating_sub(64);
            if let Some(k) = (from..key_end)
                .rev()
                .find(|&k| hay[k] == b'"' && !is_escaped(hay, k))
            {
                start = k;
            }
        }
    }
    Some((start..close + 1, content))
}

/// Whether the quote at `i` is escaped: an odd number of backslashes before it.
fn is_escaped(hay: &[u8], i: usize) -> bool {
    hay[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// Decodes the content of a JSON string (without its quotes).
pub fn decode(raw: &[u8]) -> Decoded {
    let mut out = Decoded::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 >= raw.len() {
            out.push(b, i);
            i += 1;
            continue;
        }
        let simple = match raw[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c, i);
            i += 2;
            continue;
        }
        if raw[i + 1] == b'u'
            && let Some(unit) = hex4(&raw[i + 2..])
        {
            let (c, used) = match unit {
                0xD800..=0xDBFF => match low_surrogate(&raw[i + 6..]) {
                    Some(low) => {
                        let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(c), 12)
                    }
                    None => (None, 6),
                },
                0xDC00..=0xDFFF => (None, 6),
                _ => (char::from_u32(unit), 6),
            };
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut buf = [0u8; 4];
            for &byte in c.encode_utf8(&mut buf).as_bytes() {
                out.push(byte, i);
            }
            i += used;
            continue;
        }
        // Not an escape JSON knows: keep the backslash and go on.
        out.push(b, i);
        i += 1;
    }
    out.finish(raw.len());
    out
}

fn hex4(bytes: &[u8]) -> Option<u32> {
    let digits = bytes.get(..4)?;
    let s = std::str::from_utf8(digits).ok()?;
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

fn low_surrogate(bytes: &[u8]) -> Option<u32> {
    if bytes.len() >= 6 && bytes[0] == b'\\' && bytes[1] == b'u' {
        hex4(&bytes[2..]).filter(|u| (0xDC00..=0xDFFF).contains(u))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn escapes_are_undone_and_mapped_back() {
        let d = decode(br#"a\/b\u002Bc\"\n\\x"#);
        assert_eq!(d.bytes, b"a/b+c\"\n\\x");
        // `+` came from the `\u002B` at offset 4; `c` from offset 10.
        assert_eq!(d.encoded_range(3..4), 4..10);
        assert_eq!(d.encoded_range(4..5), 10..11);
        assert_eq!(d.encoded_range(0..d.bytes.len()), 0..18);
    }

    #[test]
    fn the_string_around_an_escape() {
        let hay = br#"{"a": "x", "aws_secret": "ab\/cd\"e", "z": 1}"#;
        let pos = hay.windows(2).position(|w| w == br"\/").unwrap();
        let (span, content) = super::enclosing(hay, pos).unwrap();
        assert_eq!(&hay[content], br#"ab\/cd\"e"#);
        assert_eq!(&hay[span], br#""aws_secret": "ab\/cd\"e""#);
        assert!(super::enclosing(b"no quotes \\/ here", 10).is_none());
    }

    #[test]
    fn surrogate_pairs_and_bad_escapes() {
        let d = decode(br#"\ud83d\ude00 \q \u12"#);
        assert_eq!(d.bytes, "\u{1F600} \\q \\u12".as_bytes());
        let lone = decode(br#"\ud83d!"#);
        assert_eq!(lone.bytes, "\u{FFFD}!".as_bytes());
    }
}

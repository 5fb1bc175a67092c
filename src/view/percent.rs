//! Undoing percent-encoding (`%3A%2F%2F` → `://`), for URLs inside query strings, form bodies
//! and redirect parameters.
//!
//! A URL with credentials passed as a parameter of another URL (`?next=https%3A%2F%2Fuser%3Apw%40host`)
//! or a JSON document in a query string (`%7B%22api_key%22%3A…`) hides its secret from every
//! rule until it is decoded. `+` is kept as written: in a form body it means a space, but in a
//! base64 secret it is itself, and a rule would rather see it. Invalid escapes are kept as
//! written.

use super::Decoded;

/// Decodes `%XX` escapes.
pub fn decode(raw: &[u8]) -> Decoded {
    let mut out = Decoded::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && let (Some(h), Some(l)) = (
                raw.get(i + 1).and_then(|&c| hex(c)),
                raw.get(i + 2).and_then(|&c| hex(c)),
            )
        {
            out.push(h << 4 | l, i);
            i += 3;
        } else {
            out.push(raw[i], i);
            i += 1;
        }
    }
    out.finish(raw.len());
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn escapes_are_undone_and_mapped_back() {
        let d = decode(b"https%3A%2F%2Fu%3Ap%40h+x%zz%4");
        assert_eq!(d.bytes, b"https://u:p@h+x%zz%4");
        assert_eq!(d.encoded_range(5..8), 5..14);
        assert_eq!(d.encoded_range(10..11), 18..19);
    }
}

//! Decoding base64 (standard or URL-safe alphabet, padded or not) found where a credential is
//! often base64-encoded: Kubernetes Secret `data:` values, Docker `config.json` `auths`, HTTP
//! `Basic` headers, kubeconfig `client-key-data`, and values that start like the base64 of a
//! known token prefix.
//!
//! Only candidates that the view triggers chose are decoded (never every base64-looking run: a
//! notebook's PNG outputs are megabytes of it), and only a result that reads as text is
//! scanned ([`is_text`]). Four encoded characters make three decoded bytes, so decoded byte `i`
//! maps back to characters `4·(i/3) + i%3` and the one after it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use super::Decoded;

/// Decodes `raw`, which must be one run of base64 characters (padding allowed at the end).
/// A trailing partial group that cannot hold a byte is dropped. `None` when `raw` is not
/// base64.
pub fn decode(raw: &[u8]) -> Option<Decoded> {
    let body = trim_padding(raw);
    let usable = body.len() - body.len() % 4
        + if body.len() % 4 >= 2 {
            body.len() % 4
        } else {
            0
        };
    let body = &body[..usable];
    if body.is_empty() {
        return None;
    }
    let url_safe = body.iter().any(|&b| b == b'-' || b == b'_');
    let engine = if url_safe {
        &URL_SAFE_NO_PAD
    } else {
        &STANDARD_NO_PAD
    };
    let bytes = engine
        .decode(body)
        .or_else(|_| {
            // A final group whose unused bits are not zero: decode what precedes it.
            let whole = body.len() - body.len() % 4;
            engine.decode(&body[..whole])
        })
        .ok()?;
    let mut out = Decoded::with_capacity(bytes.len());
    for (i, b) in bytes.into_iter().enumerate() {
        let start = 4 * (i / 3) + i % 3;
        out.push_span(b, start, start + 2);
    }
    out.finish(raw.len());
    Some(out)
}

fn trim_padding(raw: &[u8]) -> &[u8] {
    let mut end = raw.len();
    while end > 0 && raw[end - 1] == b'=' {
        end -= 1;
    }
    &raw[..end]
}

/// Whether decoded bytes read as text: at least 95% printable ASCII or whitespace, bytes of
/// valid UTF-8 sequences counted as printable. Random bytes (a base64 image, a word that
/// happened to be valid base64) are about 37% printable; a document with a few damaged bytes
/// still passes.
pub fn is_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let text = String::from_utf8_lossy(bytes);
    let mut good = 0usize;
    let mut total = 0usize;
    for c in text.chars() {
        total += 1;
        if c == char::REPLACEMENT_CHARACTER {
            continue;
        }
        if !c.is_control() || matches!(c, '\t' | '\n' | '\r') {
            good += 1;
        }
    }
    good * 20 >= total * 19
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_maps_back() {
        // "user:pass1" → dXNlcjpwYXNzMQ==
        let d = decode(b"dXNlcjpwYXNzMQ==").unwrap();
        assert_eq!(d.bytes, b"user:pass1");
        // "pass1" is decoded bytes 5..10: characters 6..14.
        assert_eq!(d.encoded_range(5..10), 6..14);
        assert_eq!(d.encoded_range(0..4), 0..6);
        // URL-safe alphabet, no padding.
        let url = decode(b"-_-_").unwrap();
        assert_eq!(url.bytes, [0xfb, 0xff, 0xbf]);
        assert!(decode(b"=").is_none());
    }

    #[test]
    fn text_or_not() {
        assert!(is_text(b"user:pass\n"));
        let mut damaged =
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIEogIBAAKCAQEAoy1XXuVAQpqHbQE05mkh".to_vec();
        damaged.push(0xa1);
        assert!(is_text(&damaged));
        assert!(!is_text(&[0x89, b'P', b'N', b'G', 0, 0, 0, 13]));
        assert!(!is_text(b""));
    }
}

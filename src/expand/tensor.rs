//! Tensor files: scan where text can be, skip the numbers.
//!
//! A safetensors file is an 8-byte little-endian header length, a JSON header (tensor names,
//! shapes, and a free-form `__metadata__` map that training scripts fill with arguments, tokens
//! included), then raw tensor bytes. A NumPy `.npy` file is a magic string, a header dict, then
//! raw array bytes. In both, the payload of a numeric dtype cannot hold a secret, so only the
//! header is scanned: a 10 GB file costs as much as its header. (An `.npy` of strings or
//! Python objects is scanned whole.)
//!
//! A safetensors header is parsed ([`safetensors_header`]): each `__metadata__` value is
//! scanned as `__metadata__.key = "value"` with a [`Segment::Metadata`] naming its key
//! (`safetensors:__metadata__.hub_token`), and each tensor name as `(key)`. A header that is
//! not valid JSON is scanned as bytes, with a warning.

use super::Expander;
use super::Format;
use super::texts::Texts;
use crate::blob::{Origin, Segment};

/// Scans a safetensors JSON header (the bytes after the length prefix).
pub fn safetensors_header(ex: &Expander<'_>, header: &[u8], origin: &Origin) {
    let map: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(header) {
        Ok(m) => m,
        Err(e) => {
            ex.sink.error(
                origin,
                format!("safetensors header is not valid JSON ({e}): scanned as bytes"),
            );
            return ex.leaf(&crate::blob::Data::Owned(header.to_vec()), origin);
        }
    };
    let mut texts = Texts::new(ex);
    let mut push = |key: String, value: &[u8]| {
        let label = format!("{key} = \"");
        let child = origin.child(Segment::Metadata {
            format: "safetensors".into(),
            key,
        });
        texts.push(child, label.as_bytes(), value, b"\"");
    };
    for (name, value) in &map {
        if name == "__metadata__" {
            let Some(meta) = value.as_object() else {
                push("__metadata__".into(), value.to_string().as_bytes());
                continue;
            };
            for (k, v) in meta {
                let mut key = "__metadata__".to_string();
                super::pickle::push_name(&mut key, k);
                push("__metadata__.(key)".into(), k.as_bytes());
                match v {
                    serde_json::Value::String(s) => push(key, s.as_bytes()),
                    other => push(key, other.to_string().as_bytes()),
                }
            }
        } else {
            push("(key)".into(), name.as_bytes());
        }
    }
    texts.finish();
}

/// The largest header length believed (larger values are corrupt or hostile).
const MAX_HEADER: u64 = 100 << 20;

/// The safetensors header length, if `head` starts like a safetensors file.
pub fn safetensors_header_len(head: &[u8]) -> Option<u64> {
    let len = u64::from_le_bytes(head.get(..8)?.try_into().ok()?);
    let first = *head.get(8)?;
    (first == b'{' && (2..=MAX_HEADER).contains(&len)).then_some(len)
}

/// How many leading bytes of a tensor file of `len` bytes can hold text.
pub fn text_prefix(format: Format, head: &[u8], len: u64) -> u64 {
    let end = match format {
        Format::Safetensors => safetensors_header_len(head).map(|n| 8 + n),
        Format::Npy => npy_data_offset(head),
        _ => None,
    };
    end.unwrap_or(len).min(len)
}

/// Where an `.npy` file's array bytes start, if its dtype is numeric.
fn npy_data_offset(head: &[u8]) -> Option<u64> {
    let major = *head.get(6)?;
    let (header_len, start) = match major {
        1 => (
            u64::from(u16::from_le_bytes(head.get(8..10)?.try_into().ok()?)),
            10,
        ),
        2 | 3 => (
            u64::from(u32::from_le_bytes(head.get(8..12)?.try_into().ok()?)),
            12,
        ),
        _ => return None,
    };
    let header = head.get(start as usize..)?;
    let header = &header[..header.len().min(header_len as usize)];
    let text = String::from_utf8_lossy(header);
    let descr = text.split("'descr':").nth(1)?.trim_start();
    let quoted = descr.strip_prefix('\'')?;
    let dtype = &quoted[..quoted.find('\'')?];
    // b(ool), i(nt), u(int), f(loat), c(omplex), m/M (time): numbers only.
    let kind = dtype
        .trim_start_matches(['<', '>', '|', '='])
        .chars()
        .next()?;
    "biufcmM".contains(kind).then_some(start + header_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str) -> Vec<u8> {
        let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (4,), }}");
        let mut h = b"\x93NUMPY\x01\x00".to_vec();
        h.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        h.extend_from_slice(dict.as_bytes());
        h
    }

    #[test]
    fn numeric_npy_stops_at_its_header() {
        let h = npy("<f4");
        assert_eq!(text_prefix(Format::Npy, &h, 1000), h.len() as u64);
        let h = npy("<U10");
        assert_eq!(
            text_prefix(Format::Npy, &h, 1000),
            1000,
            "strings are scanned"
        );
        let h = npy("|O");
        assert_eq!(
            text_prefix(Format::Npy, &h, 1000),
            1000,
            "objects are scanned"
        );
    }

    #[test]
    fn safetensors_stops_after_its_json_header() {
        let json = br#"{"__metadata__":{"hub_token":"x"}}"#;
        let mut h = (json.len() as u64).to_le_bytes().to_vec();
        h.extend_from_slice(json);
        assert_eq!(
            text_prefix(Format::Safetensors, &h, 1 << 30),
            8 + json.len() as u64
        );
        let mut huge = (1u64 << 63).to_le_bytes().to_vec();
        huge.push(b'{');
        assert_eq!(safetensors_header_len(&huge), None);
    }
}

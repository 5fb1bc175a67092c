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
//! (`safetensors:__metadata__.hub_token`), and each tensor name as `(key)`. A string value is
//! scanned as it is, so JSON kept in it (a config dumped as a string) is scanned as JSON text; a
//! value that is not a string is scanned as compact JSON text. The header is parsed as a stream
//! (tensor entries skipped unstored, no `Value` tree: [`super::json_text`]), so a 100 MB header
//! of nested empty arrays costs about its size, not 17 times it. A header that is not valid
//! JSON is scanned as bytes, with a warning.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Expander;
use super::Format;
use super::json_text::JsonText;
use super::texts::Texts;
use crate::blob::{Origin, Segment};

/// Scans a safetensors JSON header (the bytes after the length prefix).
pub fn safetensors_header(ex: &Expander<'_>, header: &[u8], origin: &Origin) {
    let pieces = match parse_header(header) {
        Ok(p) => p,
        Err(e) => {
            ex.sink.error(
                origin,
                format!("safetensors header is not valid JSON ({e}): scanned as bytes"),
            );
            return ex.leaf(&crate::blob::Data::Owned(header.to_vec()), origin);
        }
    };
    let mut texts = Texts::new(ex);
    for (key, value) in pieces {
        let label = format!("{key} = \"");
        let child = origin.child(Segment::Metadata {
            format: "safetensors".into(),
            key,
        });
        texts.push(child, label.as_bytes(), value.as_bytes(), b"\"");
    }
    texts.finish();
}

/// The pieces of text of a safetensors header, in file order: `(key, text)`. Parsed as a
/// stream: tensor entries are skipped unstored, and a non-string metadata value is written
/// as compact JSON text while it is parsed ([`JsonText`]), so a header of nested empty arrays
/// costs no more than its bytes.
fn parse_header(header: &[u8]) -> serde_json::Result<Vec<(String, String)>> {
    struct Header;
    impl<'de> Visitor<'de> for Header {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a safetensors header (a JSON object)")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(name) = map.next_key::<Cow<'de, str>>()? {
                if name == "__metadata__" {
                    map.next_value_seed(Metadata(&mut out))?;
                } else {
                    out.push(("(key)".into(), name.into_owned()));
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(out)
        }
    }

    /// `__metadata__`: a map of strings (others written as JSON text), or any JSON.
    struct Metadata<'o>(&'o mut Vec<(String, String)>);
    impl<'de> DeserializeSeed<'de> for Metadata<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Metadata<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("safetensors metadata")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<Cow<'de, str>>()? {
                let mut key = "__metadata__".to_string();
                super::pickle::push_name(&mut key, &k);
                self.0.push(("__metadata__.(key)".into(), k.into_owned()));
                let text = map.next_value::<MetaValue>()?.0;
                self.0.push((key, text));
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
            let text = JsonText::read(0, de::value::SeqAccessDeserializer::new(seq))?;
            self.0.push(("__metadata__".into(), text));
            Ok(())
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
            let text = serde_json::to_string(s).map_err(E::custom)?;
            self.0.push(("__metadata__".into(), text));
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            self.0.push(("__metadata__".into(), "null".into()));
            Ok(())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
            self.0.push(("__metadata__".into(), v.to_string()));
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
            self.0.push(("__metadata__".into(), v.to_string()));
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
            self.0.push(("__metadata__".into(), v.to_string()));
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
            self.0.push(("__metadata__".into(), v.to_string()));
            Ok(())
        }
    }

    /// A metadata value: a string as it is (JSON kept in a string is text like any other),
    /// anything else as compact JSON text.
    struct MetaValue(String);
    impl<'de> Deserialize<'de> for MetaValue {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<MetaValue, D::Error> {
            d.deserialize_any(MetaVisitor)
        }
    }
    struct MetaVisitor;
    impl<'de> Visitor<'de> for MetaVisitor {
        type Value = MetaValue;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a metadata value")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<MetaValue, E> {
            Ok(MetaValue(s.to_string()))
        }
        fn visit_string<E: de::Error>(self, s: String) -> Result<MetaValue, E> {
            Ok(MetaValue(s))
        }
        fn visit_unit<E: de::Error>(self) -> Result<MetaValue, E> {
            Ok(MetaValue("null".into()))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<MetaValue, E> {
            Ok(MetaValue(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<MetaValue, E> {
            Ok(MetaValue(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<MetaValue, E> {
            Ok(MetaValue(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<MetaValue, E> {
            Ok(MetaValue(serde_json::to_string(&v).unwrap_or_default()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<MetaValue, A::Error> {
            let text = JsonText::read(0, de::value::SeqAccessDeserializer::new(seq))?;
            Ok(MetaValue(if text.is_empty() { "[]".into() } else { text }))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MetaValue, A::Error> {
            let text = JsonText::read(0, de::value::MapAccessDeserializer::new(map))?;
            Ok(MetaValue(if text.is_empty() { "{}".into() } else { text }))
        }
    }

    let mut d = serde_json::Deserializer::from_slice(header);
    let out = d.deserialize_map(Header)?;
    d.end()?;
    Ok(out)
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

//! JSON values as scannable text, streamed: no `serde_json::Value` tree is built.
//!
//! Notebook metadata, MIME bundles of JSON and non-string safetensors metadata values are
//! scanned as JSON text, so that a rule sees a secret beside its key (`"token": "…"`). Parsing
//! them into a `Value` tree first costs about 17 times the input for nesting that holds no
//! text (`[[],[],…]`: 2 bytes of input, a 32-byte `Value` and a vector each), so a header or a
//! metadata map of a few hundred megabytes took gigabytes. [`JsonText`] is a
//! [`DeserializeSeed`]: it writes the text while the value is parsed, and keeps what can hold
//! a secret: every string and object key, every member of an object. An array element that
//! holds no string (a number, `null`, `[]`, a nest of arrays of numbers) cannot hold one and is
//! left out (an array of nothing else is written `[]`), so the text is never longer than the
//! JSON it comes from, plus the indentation below.
//!
//! The text is indented as `serde_json::to_string_pretty` would write it (line and column of
//! a finding stay readable) until it reaches `pretty_until` bytes; past that it is written
//! compact, so deep nesting cannot multiply a large input by its indentation.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Text indented as `to_string_pretty` writes it, up to this many bytes (1 MiB).
pub const PRETTY_BYTES: usize = 1 << 20;

/// An array or object being written.
struct Frame {
    open: u8,
    close: u8,
    /// Its opening bracket has been written (it holds something).
    written: bool,
    /// Members or elements written.
    items: usize,
    /// The current member or element has its separator written.
    in_item: bool,
}

/// Writes the JSON value it deserializes as text (see the module documentation).
pub struct JsonText {
    out: Vec<u8>,
    frames: Vec<Frame>,
    pretty_until: usize,
}

impl JsonText {
    /// A writer indenting its first `pretty_until` bytes (0: compact).
    pub fn new(pretty_until: usize) -> JsonText {
        JsonText {
            out: Vec::new(),
            frames: Vec::new(),
            pretty_until,
        }
    }

    /// The value read by `d` as text; empty when it holds nothing that can hold a secret
    /// (`null`, a number, `[]`, `{}`, an array of numbers).
    pub fn read<'de, D: de::Deserializer<'de>>(
        pretty_until: usize,
        d: D,
    ) -> Result<String, D::Error> {
        let mut w = JsonText::new(pretty_until);
        Node {
            w: &mut w,
            required: false,
        }
        .deserialize(d)?;
        Ok(w.finish())
    }

    /// The text written (empty when nothing was).
    pub fn finish(self) -> String {
        // Only whole UTF-8 strings and ASCII are written.
        String::from_utf8(self.out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }

    fn pretty(&self) -> bool {
        self.out.len() < self.pretty_until
    }

    fn newline(&mut self, depth: usize) {
        if self.pretty() {
            self.out.push(b'\n');
            self.out.resize(self.out.len() + 2 * depth, b' ');
        }
    }

    /// Writes every opening bracket and separator not written yet, so a token can follow.
    fn flush(&mut self) {
        for i in 0..self.frames.len() {
            if !self.frames[i].written {
                self.out.push(self.frames[i].open);
                self.frames[i].written = true;
            }
            if !self.frames[i].in_item {
                if self.frames[i].items > 0 {
                    self.out.push(b',');
                }
                self.frames[i].items += 1;
                self.frames[i].in_item = true;
                self.newline(i + 1);
            }
        }
    }

    fn string(&mut self, s: &str) {
        // Writing a &str to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, s);
    }

    /// A token that is not a string: written only where it must be (an object member's value).
    fn scalar(&mut self, required: bool, text: &str) {
        if required {
            self.flush();
            self.out.extend_from_slice(text.as_bytes());
        }
    }

    fn push(&mut self, open: u8, close: u8) {
        self.frames.push(Frame {
            open,
            close,
            written: false,
            items: 0,
            in_item: false,
        });
    }

    fn next_item(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.in_item = false;
        }
    }

    fn pop(&mut self, required: bool) {
        let Some(f) = self.frames.pop() else { return };
        if f.written {
            let depth = self.frames.len();
            self.newline(depth);
            self.out.push(f.close);
        } else if required {
            self.flush();
            self.out.extend_from_slice(&[f.open, f.close]);
        }
    }
}

/// One value, written into `w`. `required`: it must be written even when it holds no text
/// (the value of a member whose key is written).
struct Node<'w> {
    w: &'w mut JsonText,
    required: bool,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.w
            .scalar(self.required, if v { "true" } else { "false" });
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.w.scalar(self.required, &v.to_string());
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.w.scalar(self.required, &v.to_string());
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        if self.required {
            let text = serde_json::to_string(&v).unwrap_or_else(|_| "null".into());
            self.w.scalar(true, &text);
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.w.scalar(self.required, "null");
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        if self.required || !s.is_empty() {
            self.w.flush();
            self.w.string(s);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.w.push(b'[', b']');
        loop {
            self.w.next_item();
            let node = Node {
                w: &mut *self.w,
                required: false,
            };
            if seq.next_element_seed(node)?.is_none() {
                break;
            }
        }
        self.w.pop(self.required);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.w.push(b'{', b'}');
        loop {
            self.w.next_item();
            let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? else {
                break;
            };
            self.w.flush();
            self.w.string(&key);
            let sep: &[u8] = if self.w.pretty() { b": " } else { b":" };
            self.w.out.extend_from_slice(sep);
            map.next_value_seed(Node {
                w: &mut *self.w,
                required: true,
            })?;
        }
        self.w.pop(self.required);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(json: &str, pretty: usize) -> String {
        let mut d = serde_json::Deserializer::from_str(json);
        JsonText::read(pretty, &mut d).unwrap()
    }

    #[test]
    fn small_values_are_written_as_to_string_pretty_writes_them() {
        // (Keys sorted: a `Value` map sorts them, the text keeps the order of the file.)
        for json in [
            r#"{"papermill": {"parameters": {"f": 1.5, "n": 3, "slack_token": "xoxb-1"}}}"#,
            r#"{"a": [], "b": {}, "c": null, "d": true, "e": ["x", {"k": "v"}], "u": "\u00e9\"\n"}"#,
            r#"["a", "b"]"#,
            r#""only""#,
        ] {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(
                text(json, PRETTY_BYTES),
                serde_json::to_string_pretty(&v).unwrap()
            );
            assert_eq!(text(json, 0), serde_json::to_string(&v).unwrap());
        }
    }

    #[test]
    fn array_elements_without_text_are_left_out() {
        assert_eq!(text("[[],[],[[],[1,2]],3,null,\"\"]", PRETTY_BYTES), "");
        assert_eq!(text("null", PRETTY_BYTES), "");
        assert_eq!(text("{}", PRETTY_BYTES), "");
        assert_eq!(text("{\"x\": [[],[[]],1]}", 0), "{\"x\":[]}");
        assert_eq!(
            text("[[], [1, [\"tok\"]], 2]", 0),
            "[[[\"tok\"]]]",
            "the nest that holds a string is kept"
        );
        assert_eq!(text("{\"x\": [1, {\"k\": 2}]}", 0), "{\"x\":[{\"k\":2}]}");
    }

    #[test]
    fn indentation_stops_at_the_pretty_limit() {
        let json = format!("[{}\"end\"]", "\"abcdefgh\",".repeat(1000));
        let t = text(&json, 100);
        assert!(t.len() <= json.len() + 100, "{}", t.len());
        assert!(t.ends_with("\"abcdefgh\",\"end\"]"));
        assert!(t.starts_with("[\n  \"abcdefgh\",\n"));
    }
}

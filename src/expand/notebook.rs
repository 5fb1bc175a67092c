//! Jupyter notebooks: each cell's source and each text output, as the text a person sees.
//!
//! A notebook is JSON: `cells`, each with a `source` (a string or a list of lines), and code
//! cells with `outputs`: `stream` text (what `print` wrote), `execute_result` and
//! `display_data` bundles keyed by MIME type (`text/plain`, `text/html`, `application/json`,
//! and base64 `image/png`), and `error` tracebacks full of ANSI colour codes. Scanning the raw
//! JSON would see `\n` and `\"` escapes around every secret, line numbers of the JSON file
//! rather than of the cell, and megabytes of base64 pixels. So the notebook is parsed
//! (serde, with the binary outputs skipped by the parser without being stored), and every
//! text part is scanned as decoded text with its own origin: `eda.ipynb › cells[3].source:2:9`,
//! `eda.ipynb › cells[4].outputs[0]:1:12`, `cells[4].outputs[1][text/html]` for one MIME type of
//! a bundle. Lines and columns count inside that text. Tracebacks are scanned with their ANSI
//! codes removed. Notebook and cell `metadata` (papermill parameters live there) are scanned as
//! JSON text, written while the notebook is parsed ([`super::json_text`]): no `Value` tree is
//! built, and nesting that holds no string (`[[],[],…]`) is left out, so a notebook costs about
//! its size however its metadata is shaped.
//!
//! nbformat 4 is the format Jupyter writes; the cells of nbformat 3 (`worksheets`, `input`)
//! are read too. A file that does not parse as a notebook is scanned as bytes, with a warning
//! when its name says it is one.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Expander;
use super::json_text::{JsonText, PRETTY_BYTES};
use super::texts::{Texts, line_column};
use crate::blob::{CellPart, Data, Origin, Segment};
use crate::finding::{Finding, LineColumn, location};
use crate::view::ansi;

/// Whether `head` (the first bytes) and `name` look like a notebook: a `.ipynb` name, or a JSON
/// object whose first bytes name `cells`, `nbformat` or `worksheets`.
pub fn is_notebook(head: &[u8], name: &str) -> bool {
    if name.to_ascii_lowercase().ends_with(".ipynb") {
        return true;
    }
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let Some(first) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    head[first] == b'{'
        && [&b"\"cells\""[..], b"\"nbformat\"", b"\"worksheets\""]
            .iter()
            .any(|k| memchr::memmem::find(head, k).is_some())
}

/// Scans a notebook held in `data`; falls back to the raw bytes if it does not parse.
pub fn notebook_blob(ex: &Expander<'_>, data: Arc<Data>, origin: Origin) {
    let named = origin.name().to_ascii_lowercase().ends_with(".ipynb");
    let limit = ex.budget.max_in_memory.max(1 << 30);
    if data.len() > limit {
        ex.sink.skipped(
            &origin,
            format!("notebook larger than {limit} bytes: scanned as bytes, not parsed"),
        );
        return ex.leaf(&data, &origin);
    }
    let mut buf = Vec::new();
    let bytes = match data.range(0..data.len(), &mut buf) {
        Ok(b) => b,
        Err(e) => return ex.sink.error(&origin, e.to_string()),
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match serde_json::from_slice::<Notebook>(bytes) {
        Ok(nb) if nb.nbformat.is_some() => {
            // A notebook that is a file of its own: its findings also say where in the file
            // the secret is, for SARIF regions (inside an archive there is no such line).
            let raw = origin
                .file_location()
                .is_some_and(|(_, direct)| direct)
                .then_some(bytes);
            scan(ex, nb, &origin, raw)
        }
        Ok(_) => {
            if named {
                ex.sink.error(
                    &origin,
                    "not a notebook (no nbformat): scanned as bytes".into(),
                );
            }
            ex.leaf(&data, &origin);
        }
        Err(e) => {
            if named {
                ex.sink.error(
                    &origin,
                    format!("malformed notebook ({e}): scanned as bytes"),
                );
            }
            ex.leaf(&data, &origin);
        }
    }
}

fn scan(ex: &Expander<'_>, nb: Notebook, origin: &Origin, raw: Option<&[u8]>) {
    // Found on the first finding: most notebooks have none.
    let cells = std::sync::OnceLock::new();
    let place = |f: &mut Finding| {
        if let Some(raw) = raw {
            f.file_region =
                file_region(raw, cells.get_or_init(|| cell_spans(raw)), f).map(Box::new);
        }
    };
    let mut texts = Texts::new(ex).placing(&place);
    if let Some(meta) = nb.metadata.as_ref().filter(|m| !m.0.is_empty()) {
        let o = origin.child(Segment::Metadata {
            format: "ipynb".into(),
            key: "metadata".into(),
        });
        texts.push(o, b"", meta.0.as_bytes(), b"");
    }
    let cells = nb
        .cells
        .iter()
        .chain(nb.worksheets.iter().flat_map(|w| w.cells.iter()));
    for (index, cell) in cells.enumerate() {
        let part = |part| origin.child(Segment::Cell { index, part });
        let source = cell.source.as_ref().or(cell.input.as_ref());
        if let Some(source) = source.filter(|s| !s.0.is_empty()) {
            texts.push(part(CellPart::Source), b"", source.0.as_bytes(), b"");
        }
        for (output, out) in cell.outputs.iter().enumerate() {
            for (mime, text) in out.texts() {
                let o = part(CellPart::Output { output, mime });
                texts.push(o, b"", text.as_bytes(), b"");
            }
        }
        if let Some(meta) = cell.metadata.as_ref().filter(|m| !m.0.is_empty()) {
            texts.push(part(CellPart::Metadata), b"", meta.0.as_bytes(), b"");
        }
    }
    texts.finish();
}

/// Where `f`'s secret is in the notebook's raw JSON: searched, in its JSON-escaped form, in
/// the raw bytes of its cell, from the key of the part it was found in (`source`, `outputs`,
/// `metadata`). `None` when the cell or the escaped secret cannot be found (nbformat 3, an
/// unusual escape).
fn file_region(
    raw: &[u8],
    cells: &[Range<usize>],
    f: &Finding,
) -> Option<(LineColumn, LineColumn)> {
    let Segment::Cell { index, part } = f.origin.segment() else {
        return None;
    };
    let cell = cells.get(*index)?;
    let cell_bytes = raw.get(cell.clone())?;
    let key: &[u8] = match part {
        CellPart::Source => b"\"source\"",
        CellPart::Output { .. } => b"\"outputs\"",
        CellPart::Metadata => b"\"metadata\"",
    };
    let from = memchr::memmem::find(cell_bytes, key).unwrap_or(0);
    let escaped = serde_json::to_string(&f.secret).ok()?;
    let needle = escaped.as_bytes().get(1..escaped.len().saturating_sub(1))?;
    if needle.is_empty() {
        return None;
    }
    let at = cell.start + from + memchr::memmem::find(&cell_bytes[from..], needle)?;
    let start = line_column(&raw[..at]);
    Some((start, location::end_of(start, needle)))
}

/// The byte ranges of the elements of a notebook's top-level `cells` array, found without
/// parsing them (a string-aware bracket count). Empty when the text is not shaped that way.
fn cell_spans(raw: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let ws = |i: &mut usize| {
        while raw.get(*i).is_some_and(|b| b.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    let mut i = 0;
    ws(&mut i);
    if raw.get(i) != Some(&b'{') {
        return out;
    }
    i += 1;
    loop {
        ws(&mut i);
        if raw.get(i) != Some(&b'"') {
            return out;
        }
        let Some(key_end) = skip_value(raw, i) else {
            return out;
        };
        let key = &raw[i..key_end];
        i = key_end;
        ws(&mut i);
        if raw.get(i) != Some(&b':') {
            return out;
        }
        i += 1;
        ws(&mut i);
        if key == b"\"cells\"" && raw.get(i) == Some(&b'[') {
            i += 1;
            loop {
                ws(&mut i);
                match raw.get(i) {
                    Some(b']') | None => return out,
                    Some(b',') => i += 1,
                    Some(_) => {
                        let Some(end) = skip_value(raw, i) else {
                            return out;
                        };
                        out.push(i..end);
                        i = end;
                    }
                }
            }
        }
        let Some(end) = skip_value(raw, i) else {
            return out;
        };
        i = end;
        ws(&mut i);
        if raw.get(i) != Some(&b',') {
            return out;
        }
        i += 1;
    }
}

/// The end of the JSON value that starts at `start` (string, object, array or literal).
fn skip_value(raw: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    let mut in_string = false;
    while i < raw.len() {
        let b = raw[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return Some(i);
                    }
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b',' if depth == 0 => return Some(i),
                b if depth == 0 && b.is_ascii_whitespace() => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    (depth == 0 && !in_string).then_some(raw.len())
}

/// A JSON value (metadata) as the text scanned, written while it is parsed ([`JsonText`]):
/// empty when it holds no text.
struct Json(String);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        JsonText::read(PRETTY_BYTES, d).map(Json)
    }
}

#[derive(Deserialize)]
struct Notebook {
    #[serde(default)]
    cells: Vec<Cell>,
    #[serde(default)]
    worksheets: Vec<Worksheet>,
    #[serde(default)]
    metadata: Option<Json>,
    #[serde(default)]
    nbformat: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Worksheet {
    #[serde(default)]
    cells: Vec<Cell>,
}

#[derive(Deserialize)]
struct Cell {
    #[serde(default)]
    source: Option<Text>,
    /// nbformat 3 code cells.
    #[serde(default)]
    input: Option<Text>,
    #[serde(default)]
    outputs: Vec<Output>,
    #[serde(default)]
    metadata: Option<Json>,
}

#[derive(Deserialize)]
struct Output {
    #[serde(default)]
    text: Option<Text>,
    #[serde(default)]
    data: Option<Bundle>,
    #[serde(default)]
    ename: Option<String>,
    #[serde(default)]
    evalue: Option<String>,
    #[serde(default)]
    traceback: Option<Vec<String>>,
    /// nbformat 3 keeps HTML outputs at the top level.
    #[serde(default)]
    html: Option<Text>,
}

impl Output {
    /// The text parts of this output: `(MIME type when it is one of several, text)`.
    fn texts(&self) -> Vec<(Option<String>, String)> {
        let mut out = Vec::new();
        if let Some(t) = &self.text {
            out.push((None, t.0.clone()));
        }
        if let Some(tb) = &self.traceback {
            let joined = tb.join("\n");
            let mut text = match ansi::strip(joined.as_bytes()) {
                Some(s) => String::from_utf8_lossy(&s.text).into_owned(),
                None => joined,
            };
            if let Some(v) = self.evalue.as_deref().filter(|v| !text.contains(*v)) {
                let name = self.ename.as_deref().unwrap_or("Error");
                text = format!("{name}: {v}\n{text}");
            }
            out.push((None, text));
        } else if let Some(v) = &self.evalue {
            let name = self.ename.as_deref().unwrap_or("Error");
            out.push((None, format!("{name}: {v}")));
        }
        if let Some(b) = &self.data {
            let single = out.is_empty() && b.0.len() == 1;
            for (mime, text) in &b.0 {
                out.push(((!single).then(|| mime.clone()), text.clone()));
            }
        }
        if let Some(h) = &self.html {
            out.push((Some("text/html".into()), h.0.clone()));
        }
        out
    }
}

/// A notebook string: either one string or a list of lines to concatenate.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text, E> {
                Ok(Text(s))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                let mut s = String::new();
                while let Some(part) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    s.push_str(&part);
                }
                Ok(Text(s))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether an output bundle's MIME type holds text a person reads (not base64 bytes).
pub fn is_text_mime(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m.starts_with("text/")
        || m == "application/json"
        || m == "application/javascript"
        || m == "application/x-javascript"
        || m.ends_with("+json")
        || m.ends_with("+xml")
        || m == "application/xml"
}

/// The text parts of an output bundle, in file order; binary ones skipped unread.
struct Bundle(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Bundle {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Bundle, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bundle;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a MIME bundle")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bundle, A::Error> {
                let mut out = Vec::new();
                while let Some(mime) = map.next_key::<String>()? {
                    if !is_text_mime(&mime) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    if let Some(text) = map.next_value::<MimeText>()?.0.filter(|t| !t.is_empty()) {
                        out.push((mime, text));
                    }
                }
                Ok(Bundle(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The text of one MIME type of a bundle: a string, a list of lines (joined), or other JSON
/// (`application/json`) as text; `None` for `null`.
struct MimeText(Option<String>);

impl<'de> Deserialize<'de> for MimeText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<MimeText, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MimeText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a MIME bundle value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<MimeText, E> {
                Ok(MimeText(Some(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<MimeText, E> {
                Ok(MimeText(Some(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<MimeText, E> {
                Ok(MimeText(None))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<MimeText, E> {
                Ok(MimeText(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MimeText, E> {
                Ok(MimeText(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MimeText, E> {
                Ok(MimeText(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<MimeText, E> {
                Ok(MimeText(serde_json::to_string(&v).ok()))
            }
            /// Lines are joined; a list that also holds other JSON is written as JSON text.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MimeText, A::Error> {
                let mut lines = String::new();
                let mut json: Vec<String> = Vec::new();
                while let Some(part) = seq.next_element::<Part>()? {
                    match part {
                        Part::Line(s) if json.is_empty() => lines.push_str(&s),
                        Part::Line(s) => json.push(serde_json::to_string(&s).unwrap_or_default()),
                        Part::Json(j) => {
                            if json.is_empty() && !lines.is_empty() {
                                json.push(serde_json::to_string(&lines).unwrap_or_default());
                                lines.clear();
                            }
                            if !j.is_empty() {
                                json.push(j);
                            }
                        }
                    }
                }
                if json.is_empty() {
                    return Ok(MimeText(Some(lines)));
                }
                Ok(MimeText(Some(format!("[\n{}\n]", json.join(",\n")))))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MimeText, A::Error> {
                let d = de::value::MapAccessDeserializer::new(map);
                JsonText::read(PRETTY_BYTES, d).map(|t| MimeText(Some(t)))
            }
        }
        d.deserialize_any(V)
    }
}

/// An element of a list in a MIME bundle: a line, or other JSON as text.
enum Part {
    Line(String),
    Json(String),
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Part, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Part;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a line or JSON")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Part, E> {
                Ok(Part::Line(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Part, E> {
                Ok(Part::Line(s))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Part, E> {
                Ok(Part::Json(String::new()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Part, E> {
                Ok(Part::Json(String::new()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Part, E> {
                Ok(Part::Json(String::new()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Part, E> {
                Ok(Part::Json(String::new()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Part, E> {
                Ok(Part::Json(String::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Part, A::Error> {
                let d = de::value::SeqAccessDeserializer::new(seq);
                JsonText::read(0, d).map(Part::Json)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Part, A::Error> {
                let d = de::value::MapAccessDeserializer::new(map);
                JsonText::read(0, d).map(Part::Json)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notebooks_are_recognised_by_name_or_content() {
        assert!(is_notebook(b"", "eda.IPYNB"));
        assert!(is_notebook(b" {\n \"cells\": [", "x.json"));
        assert!(is_notebook(b"{\"nbformat\": 4", "x"));
        assert!(!is_notebook(b"{\"name\": 1}", "x.json"));
        assert!(!is_notebook(b"cells", "x.txt"));
    }

    #[test]
    fn outputs_keep_text_and_skip_images() {
        let out: Output = serde_json::from_str(
            r#"{"output_type":"display_data","data":{"image/png":"iVBORw0KGgo=","text/plain":["a\n","b"]}}"#,
        )
        .unwrap();
        assert_eq!(out.texts(), vec![(None, "a\nb".to_string())]);
        let err: Output = serde_json::from_str(
            r#"{"output_type":"error","ename":"ValueError","evalue":"bad","traceback":["\u001b[0;31mValueError\u001b[0m: bad"]}"#,
        )
        .unwrap();
        assert_eq!(err.texts(), vec![(None, "ValueError: bad".to_string())]);
    }

    #[test]
    fn cell_spans_are_found_without_parsing() {
        let raw = br#" {"metadata": {"a": "]}\"{"}, "cells": [ {"source": "x]"} ,[1,2], "s\"}"
            , 3 ], "nbformat": 4}"#;
        let spans: Vec<&[u8]> = cell_spans(raw).into_iter().map(|r| &raw[r]).collect();
        assert_eq!(
            spans,
            vec![&br#"{"source": "x]"}"#[..], b"[1,2]", br#""s\"}""#, b"3"]
        );
        assert!(cell_spans(b"[1, 2]").is_empty());
        assert!(cell_spans(br#"{"cells": [{"a": "#).len() <= 1);
        assert!(cell_spans(b"").is_empty());
    }
}

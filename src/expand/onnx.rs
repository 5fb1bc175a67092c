//! ONNX models: metadata, doc strings and names scanned, tensor data skipped.
//!
//! An ONNX file is one protobuf `ModelProto`. Exporters and users put text in a few places:
//! `metadata_props` (free key/value pairs, where tokens and internal URLs end up), `doc_string`
//! on the model, graph, nodes, attributes and values, string attributes (`s`, `strings`),
//! string tensors, external-data entries, and the names of everything. Weights sit in
//! `TensorProto.raw_data` (and the typed `*_data` fields), which hold numbers.
//!
//! The wire format is parsed by hand (`walk`): a loop over tag/length pairs with an explicit
//! stack of open messages, a small table of which field of which message is text and which is
//! a message to enter (`field`), and everything else skipped by seeking over it, so a model
//! costs time proportional to its number of fields, not to its weights. Every text field is
//! scanned with a [`Segment::Metadata`] naming its place (`onnx:metadata_props.hub_token`,
//! `onnx:graph.node[3].doc_string`), written as `place = "value"`.
//!
//! Bounds: messages nested deeper than [`MAX_DEPTH`] are skipped (subgraphs of subgraphs of
//! ...), text fields longer than [`MAX_TEXT`] are skipped with a warning, and a length that
//! runs past its enclosing message ends the walk with a warning (what was read is kept, the
//! rest is scanned as bytes). A file recognised by its first bytes that turns out not to be a
//! model is scanned as raw bytes.

use std::io::{self, BufReader};
use std::sync::Arc;

use super::Expander;
use super::cursor::Cursor;
use super::texts::Texts;
use crate::blob::reader::DataReader;
use crate::blob::{Data, Origin, Segment};

/// Open messages, at most.
pub const MAX_DEPTH: usize = 64;
/// The longest text field scanned (64 MiB).
pub const MAX_TEXT: u64 = 64 << 20;

/// Whether `head` and `name` look like an ONNX model: a `.onnx` name, or a protobuf that starts
/// with `ir_version` (field 1, a small number) followed by another `ModelProto` field.
pub fn is_onnx(head: &[u8], name: &str) -> bool {
    if name.to_ascii_lowercase().ends_with(".onnx") {
        return head.first() == Some(&0x08);
    }
    matches!(
        head,
        [
            0x08,
            1..=12,
            0x12 | 0x1a | 0x22 | 0x28 | 0x32 | 0x3a | 0x42,
            ..
        ]
    )
}

/// Message types whose fields are looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Msg {
    Model,
    Graph,
    Node,
    Attribute,
    Tensor,
    SparseTensor,
    ValueInfo,
    Function,
    TrainingInfo,
}

/// What a field is.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// Text to scan; `repeated` fields get an index in the path.
    Text { name: &'static str, repeated: bool },
    /// A message to enter.
    Message {
        name: &'static str,
        msg: Msg,
        repeated: bool,
    },
    /// A `StringStringEntryProto` list (`metadata_props`, `external_data`).
    Entries { name: &'static str },
}

/// The fields of each message that hold text or lead to text (onnx.proto, IR version 10).
fn field(msg: Msg, number: u64) -> Option<Field> {
    use Field::{Entries, Message, Text};
    let t = |name| {
        Some(Text {
            name,
            repeated: false,
        })
    };
    let tr = |name| {
        Some(Text {
            name,
            repeated: true,
        })
    };
    let m = |name, msg| {
        Some(Message {
            name,
            msg,
            repeated: false,
        })
    };
    let mr = |name, msg| {
        Some(Message {
            name,
            msg,
            repeated: true,
        })
    };
    match (msg, number) {
        (Msg::Model, 2) => t("producer_name"),
        (Msg::Model, 3) => t("producer_version"),
        (Msg::Model, 4) => t("domain"),
        (Msg::Model, 6) => t("doc_string"),
        (Msg::Model, 7) => m("graph", Msg::Graph),
        (Msg::Model, 14) => Some(Entries {
            name: "metadata_props",
        }),
        (Msg::Model, 20) => mr("training_info", Msg::TrainingInfo),
        (Msg::Model, 25) => mr("functions", Msg::Function),
        (Msg::Graph, 1) => mr("node", Msg::Node),
        (Msg::Graph, 2) => t("name"),
        (Msg::Graph, 5) => mr("initializer", Msg::Tensor),
        (Msg::Graph, 10) => t("doc_string"),
        (Msg::Graph, 11) => mr("input", Msg::ValueInfo),
        (Msg::Graph, 12) => mr("output", Msg::ValueInfo),
        (Msg::Graph, 13) => mr("value_info", Msg::ValueInfo),
        (Msg::Graph, 15) => mr("sparse_initializer", Msg::SparseTensor),
        (Msg::Graph, 16) => Some(Entries {
            name: "metadata_props",
        }),
        (Msg::Node, 1) => tr("input"),
        (Msg::Node, 2) => tr("output"),
        (Msg::Node, 3) => t("name"),
        (Msg::Node, 4) => t("op_type"),
        (Msg::Node, 5) => mr("attribute", Msg::Attribute),
        (Msg::Node, 6) => t("doc_string"),
        (Msg::Node, 7) => t("domain"),
        (Msg::Node, 9) => Some(Entries {
            name: "metadata_props",
        }),
        (Msg::Attribute, 1) => t("name"),
        (Msg::Attribute, 4) => t("s"),
        (Msg::Attribute, 5) => m("t", Msg::Tensor),
        (Msg::Attribute, 6) => m("g", Msg::Graph),
        (Msg::Attribute, 9) => tr("strings"),
        (Msg::Attribute, 10) => mr("tensors", Msg::Tensor),
        (Msg::Attribute, 11) => mr("graphs", Msg::Graph),
        (Msg::Attribute, 13) => t("doc_string"),
        (Msg::Attribute, 21) => t("ref_attr_name"),
        (Msg::Attribute, 22) => m("sparse_tensor", Msg::SparseTensor),
        (Msg::Attribute, 23) => mr("sparse_tensors", Msg::SparseTensor),
        (Msg::Tensor, 6) => tr("string_data"),
        (Msg::Tensor, 8) => t("name"),
        (Msg::Tensor, 12) => t("doc_string"),
        (Msg::Tensor, 13) => Some(Entries {
            name: "external_data",
        }),
        (Msg::Tensor, 16) => Some(Entries {
            name: "metadata_props",
        }),
        (Msg::SparseTensor, 1) => m("values", Msg::Tensor),
        (Msg::SparseTensor, 2) => m("indices", Msg::Tensor),
        (Msg::ValueInfo, 1) => t("name"),
        (Msg::ValueInfo, 3) => t("doc_string"),
        (Msg::ValueInfo, 4) => Some(Entries {
            name: "metadata_props",
        }),
        (Msg::Function, 1) => t("name"),
        (Msg::Function, 4) => tr("input"),
        (Msg::Function, 5) => tr("output"),
        (Msg::Function, 6) => tr("attribute"),
        (Msg::Function, 7) => mr("node", Msg::Node),
        (Msg::Function, 8) => t("doc_string"),
        (Msg::Function, 10) => t("domain"),
        (Msg::Function, 11) => mr("attribute_proto", Msg::Attribute),
        (Msg::Function, 12) => mr("value_info", Msg::ValueInfo),
        (Msg::Function, 14) => Some(Entries {
            name: "metadata_props",
        }),
        (Msg::TrainingInfo, 1) => m("initialization", Msg::Graph),
        (Msg::TrainingInfo, 2) => m("algorithm", Msg::Graph),
        _ => None,
    }
}

/// Scans an ONNX model held in `data`; falls back to raw bytes if it does not parse.
pub fn onnx_blob(ex: &Expander<'_>, data: Arc<Data>, origin: Origin) {
    let named = origin.name().to_ascii_lowercase().ends_with(".onnx");
    let mut texts = Texts::new(ex);
    let mut r = Wire::new(
        BufReader::with_capacity(64 * 1024, DataReader::new(Arc::clone(&data))),
        data.len(),
    );
    let result = walk(&mut r, &mut texts, &origin, ex);
    match result {
        Ok(()) => texts.finish(),
        Err(e) if named => {
            // What was read is kept; the rest is scanned as bytes.
            texts.finish();
            ex.sink.error(
                &origin,
                format!(
                    "ONNX model not fully read ({e} at byte {}): the rest scanned as bytes",
                    r.pos()
                ),
            );
            ex.leaf_after(&data, &origin, r.pos());
        }
        // Recognised by its first bytes only and not a model after all: plain bytes.
        Err(_) => ex.leaf(&data, &origin),
    }
}

/// One open message: its type, where it ends, its path, and how many of each repeated field
/// were seen.
struct Frame {
    msg: Msg,
    end: u64,
    path: String,
    counts: Vec<(u64, u32)>,
}

impl Frame {
    fn next_index(&mut self, number: u64) -> u32 {
        match self.counts.iter_mut().find(|(n, _)| *n == number) {
            Some((_, c)) => {
                *c += 1;
                *c - 1
            }
            None => {
                self.counts.push((number, 1));
                0
            }
        }
    }
}

fn join(path: &str, name: &str, index: Option<u32>) -> String {
    let mut p = String::with_capacity(path.len() + name.len() + 8);
    p.push_str(path);
    if !p.is_empty() {
        p.push('.');
    }
    p.push_str(name);
    if let Some(i) = index {
        p.push_str(&format!("[{i}]"));
    }
    p
}

fn walk(
    r: &mut Wire,
    texts: &mut Texts<'_, '_>,
    origin: &Origin,
    ex: &Expander<'_>,
) -> io::Result<()> {
    let push = |texts: &mut Texts<'_, '_>, key: String, value: &[u8]| {
        let label = format!("{key} = \"");
        let child = origin.child(Segment::Metadata {
            format: "onnx".into(),
            key,
        });
        texts.push(child, label.as_bytes(), value, b"\"");
    };
    let mut stack = vec![Frame {
        msg: Msg::Model,
        end: r.len(),
        path: String::new(),
        counts: Vec::new(),
    }];
    while let Some(top) = stack.last_mut() {
        if r.pos() >= top.end {
            if r.pos() > top.end {
                return Err(invalid("a field runs past the end of its message"));
            }
            stack.pop();
            continue;
        }
        let tag = r.varint()?;
        let (number, wire) = (tag >> 3, tag & 7);
        match wire {
            0 => {
                r.varint()?;
                continue;
            }
            1 => {
                r.skip(8)?;
                continue;
            }
            5 => {
                r.skip(4)?;
                continue;
            }
            2 => {}
            _ => return Err(invalid(&format!("wire type {wire}"))),
        }
        let len = r.varint()?;
        if len > top.end.saturating_sub(r.pos()) {
            return Err(invalid("a length runs past the end of its message"));
        }
        match field(top.msg, number) {
            None => r.skip(len)?,
            Some(Field::Text { name, repeated }) => {
                let index = repeated.then(|| top.next_index(number));
                let key = join(&top.path, name, index);
                if len > MAX_TEXT {
                    ex.sink.skipped(
                        &origin.child(Segment::Metadata {
                            format: "onnx".into(),
                            key,
                        }),
                        format!("text field of {len} bytes not scanned"),
                    );
                    r.skip(len)?;
                } else {
                    let text = r.bytes(len)?;
                    push(texts, key, &text);
                }
            }
            Some(Field::Entries { name }) => {
                let entry = r.bytes(len.min(MAX_TEXT))?;
                r.skip(len.saturating_sub(MAX_TEXT))?;
                let (k, v) = entry_pair(&entry);
                let base = join(&top.path, name, None);
                let k = String::from_utf8_lossy(&k).into_owned();
                push(texts, format!("{base}.(key)"), k.as_bytes());
                let mut key = base;
                super::pickle::push_name(&mut key, &k);
                push(texts, key, &v);
            }
            Some(Field::Message {
                name,
                msg,
                repeated,
            }) => {
                let index = repeated.then(|| top.next_index(number));
                let path = join(&top.path, name, index);
                if stack.len() >= MAX_DEPTH {
                    r.skip(len)?;
                    continue;
                }
                let end = r.pos() + len;
                stack.push(Frame {
                    msg,
                    end,
                    path,
                    counts: Vec::new(),
                });
            }
        }
    }
    Ok(())
}

/// The key (field 1) and value (field 2) of a `StringStringEntryProto`.
fn entry_pair(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (mut k, mut v) = (Vec::new(), Vec::new());
    let mut r = Wire::new(
        BufReader::new(DataReader::new(Arc::new(Data::Owned(bytes.to_vec())))),
        bytes.len() as u64,
    );
    while r.pos() < r.len() {
        let Ok(tag) = r.varint() else { break };
        if tag & 7 != 2 {
            break;
        }
        let Ok(len) = r.varint() else { break };
        let Ok(b) = r.bytes(len) else { break };
        match tag >> 3 {
            1 => k = b,
            2 => v = b,
            _ => {}
        }
    }
    (k, v)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

/// Protobuf wire reading with position, over random-access data (skips are seeks).
type Wire = Cursor<BufReader<DataReader>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert!(is_onnx(b"\x08\x07\x12\x07pytorch", "model.bin"));
        assert!(is_onnx(b"\x08\x09", "m.onnx"));
        assert!(!is_onnx(b"\x08\x07hello", "x"));
        assert!(!is_onnx(b"{}", "m.onnx"));
    }

    #[test]
    fn entries_are_split_into_key_and_value() {
        let e = b"\x0a\x03key\x12\x05value";
        assert_eq!(entry_pair(e), (b"key".to_vec(), b"value".to_vec()));
    }
}

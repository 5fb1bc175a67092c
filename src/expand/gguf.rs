//! GGUF model files (llama.cpp): metadata key/values scanned, tensors skipped.
//!
//! A GGUF file is a header (magic `GGUF`, version, tensor and key/value counts), the key/value
//! metadata (`general.name`, `general.source.url`, `tokenizer.ggml.tokens`, and whatever a
//! conversion script copied from a config, tokens included), the tensor descriptions (names,
//! shapes, offsets) and then gigabytes of tensor data. [`scan`] reads the header sequentially
//! and stops after the tensor descriptions: a 10 GB file costs what its header costs. Every
//! string value, every string in an array, and every tensor name is scanned with a
//! [`Segment::Metadata`] naming its key (`gguf:general.source.url`,
//! `gguf:tokenizer.ggml.tokens[17]`, `gguf:tensors[3].name`), written as `key = "value"` so
//! that rules that want a name before a value see it. Numeric arrays are skipped unread.
//!
//! Versions 1 (32-bit counts and lengths) to 3 are read, in either byte order. Bounds: a string
//! longer than [`MAX_STRING`], an array nested deeper than [`MAX_NESTING`] or a count larger
//! than the bytes left end the walk with a warning; the strings read before are kept.

use std::io::{self, Read};

use super::Expander;
use super::cursor::Cursor;
use super::texts::Texts;
use crate::blob::{Origin, Segment};

/// The longest string read from a header (64 MiB).
pub const MAX_STRING: u64 = 64 << 20;
/// Arrays inside arrays, at most this deep.
pub const MAX_NESTING: usize = 4;
/// Tensor descriptions read, at most (their names are scanned).
pub const MAX_TENSORS: u64 = 1 << 20;

/// Whether `head` starts a GGUF file.
pub fn is_gguf(head: &[u8]) -> bool {
    head.starts_with(b"GGUF")
}

/// Reads the header of a GGUF file from `reader` (positioned at its start; `len` bytes long,
/// or `u64::MAX` when unknown) and scans its strings. Reads nothing past the tensor
/// descriptions.
pub fn scan(ex: &Expander<'_>, reader: &mut dyn Read, len: u64, origin: &Origin) {
    let mut texts = Texts::new(ex);
    let mut r = Header {
        cursor: Cursor::new(reader, len),
        big_endian: false,
        v1: false,
    };
    if let Err(e) = walk(&mut r, &mut texts, origin) {
        ex.sink.error(
            origin,
            format!(
                "GGUF header not fully read ({e} at byte {})",
                r.cursor.pos()
            ),
        );
    }
    texts.finish();
}

fn walk(r: &mut Header<'_>, texts: &mut Texts<'_, '_>, origin: &Origin) -> io::Result<()> {
    let mut magic = [0u8; 4];
    r.cursor.exact(&mut magic)?;
    if &magic != b"GGUF" {
        return Err(invalid("not a GGUF file"));
    }
    let raw = r.u32()?;
    let version = if raw > 0xffff {
        r.big_endian = true;
        raw.swap_bytes()
    } else {
        raw
    };
    if !(1..=3).contains(&version) {
        return Err(invalid(&format!("unknown GGUF version {version}")));
    }
    r.v1 = version == 1;
    let tensors = r.count()?;
    let kvs = r.count()?;
    let push = |texts: &mut Texts<'_, '_>, key: String, value: &[u8]| {
        let label = format!("{key} = \"");
        let child = origin.child(Segment::Metadata {
            format: "gguf".into(),
            key,
        });
        texts.push(child, label.as_bytes(), value, b"\"");
    };
    for _ in 0..kvs {
        let key_bytes = r.string()?;
        let key = String::from_utf8_lossy(&key_bytes).into_owned();
        let ty = r.u32()?;
        value(r, texts, &key, ty, 0, &push)?;
    }
    for i in 0..tensors.min(MAX_TENSORS) {
        let name = r.string()?;
        push(texts, format!("tensors[{i}].name"), &name);
        let dims = r.u32()?;
        if dims > 64 {
            return Err(invalid("tensor with more than 64 dimensions"));
        }
        for _ in 0..dims {
            r.count()?;
        }
        r.u32()?; // type
        r.u64()?; // offset
    }
    Ok(())
}

/// Element sizes of the fixed-size value types, by type id.
fn fixed_size(ty: u32) -> Option<u64> {
    match ty {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

fn value(
    r: &mut Header<'_>,
    texts: &mut Texts<'_, '_>,
    key: &str,
    ty: u32,
    depth: usize,
    push: &dyn Fn(&mut Texts<'_, '_>, String, &[u8]),
) -> io::Result<()> {
    if let Some(size) = fixed_size(ty) {
        return r.skip(size);
    }
    match ty {
        8 => {
            let s = r.string()?;
            push(texts, key.to_string(), &s);
            Ok(())
        }
        9 => {
            if depth >= MAX_NESTING {
                return Err(invalid("arrays nested too deep"));
            }
            let item = r.u32()?;
            let n = r.count()?;
            // Every item takes at least a byte (a string at least its length field).
            if n > r.cursor.remaining() {
                return Err(invalid(&format!("an array of {n} items")));
            }
            if let Some(size) = fixed_size(item) {
                return r.skip(n.saturating_mul(size));
            }
            for i in 0..n {
                value(r, texts, &format!("{key}[{i}]"), item, depth + 1, push)?;
            }
            Ok(())
        }
        other => Err(invalid(&format!("unknown value type {other}"))),
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

/// A header reader: byte order and version-dependent widths over a bounded cursor.
struct Header<'r> {
    cursor: Cursor<&'r mut dyn Read>,
    big_endian: bool,
    v1: bool,
}

impl Header<'_> {
    fn u32(&mut self) -> io::Result<u32> {
        let b = self.cursor.array()?;
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u64(&mut self) -> io::Result<u64> {
        let b = self.cursor.array()?;
        Ok(if self.big_endian {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// A count or length: 32 bits in version 1, 64 after.
    fn count(&mut self) -> io::Result<u64> {
        if self.v1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }

    fn string(&mut self) -> io::Result<Vec<u8>> {
        let n = self.count()?;
        if n > MAX_STRING || n > self.cursor.remaining() {
            return Err(invalid(&format!("a {n}-byte string")));
        }
        self.cursor.bytes(n)
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        self.cursor.discard(n)
    }
}

//! The protobuf wire format, read without a schema: the shared reader of the trackers' records.
//!
//! W&B run files and TensorBoard event files are logs of protobuf messages (`wandb_internal.proto`
//! `Record`, TensorFlow's `Event`). ferret does not carry their schemas: [`Fields`] walks one
//! message's fields (number, wire type, value) by hand, and the parsers name the fields they
//! know by number. Everything they do not know is handed to [`strings`], a generic walk that
//! finds every text in a message whatever its schema, so that a field added by a later version
//! of the writer is still scanned, under a path of field numbers (`#26.3`).
//!
//! A length-delimited field is text, bytes or a nested message, and the wire does not say which.
//! [`strings`] calls it text when it is UTF-8 without control characters (other than tab and line
//! ends), a message when it parses as one to its last byte, and bytes otherwise, which are still
//! scanned (a token in a `bytes` field is a token). Nothing is recursive: nested messages go on
//! an explicit stack, at most [`MAX_DEPTH`] deep; deeper ones are scanned as bytes.

/// Messages nested deeper than this are scanned as bytes by [`strings`].
pub const MAX_DEPTH: usize = 32;

/// The value of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// A varint (wire type 0).
    Varint(u64),
    /// Eight bytes (wire type 1).
    Fixed64(u64),
    /// Length-delimited bytes (wire type 2): text, bytes, a message or a packed array.
    Bytes(&'a [u8]),
    /// Four bytes (wire type 5).
    Fixed32(u32),
}

/// A malformed message: where the walk stopped, in bytes from the message's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed {
    /// The offset of the field that could not be read.
    pub at: usize,
}

/// The fields of one message, in the order they are written.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    /// The fields of the message `buf`.
    pub fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields {
            buf,
            pos: 0,
            failed: false,
        }
    }

    /// Reads a varint at the position, moving past it. One-byte varints (field keys, short
    /// lengths: most of them) take the short path. Always inlined, like [`Fields::take`] and
    /// [`Fields::field`]: they are the inner loop of every record, and the dev profile (tests,
    /// opt-level 1) does not inline them otherwise.
    #[inline(always)]
    fn varint(&mut self) -> Option<u64> {
        let first = *self.buf.get(self.pos)?;
        if first < 0x80 {
            self.pos += 1;
            return Some(u64::from(first));
        }
        let (v, n) = varint(self.buf.get(self.pos..)?)?;
        self.pos += n;
        Some(v)
    }

    #[inline(always)]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    #[inline(always)]
    fn field(&mut self) -> Option<(u64, Value<'a>)> {
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 {
            return None;
        }
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                Value::Bytes(self.take(len)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().ok()?)),
            // Groups (3, 4) are long deprecated and never written by these writers.
            _ => return None,
        };
        Some((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), Malformed>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let at = self.pos;
        match self.field() {
            Some(f) => Some(Ok(f)),
            None => {
                self.failed = true;
                Some(Err(Malformed { at }))
            }
        }
    }
}

/// A varint at the start of `buf` and its length in bytes (at most 10).
#[inline]
pub fn varint(buf: &[u8]) -> Option<(u64, usize)> {
    // Two bytes: lengths of 128 bytes to 16 KiB (a history row, a line of text).
    if let [first, second, ..] = *buf
        && first >= 0x80
        && second < 0x80
    {
        return Some((u64::from(first & 0x7f) | u64::from(second) << 7, 2));
    }
    let mut v = 0u64;
    for (i, &b) in buf.iter().take(10).enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// `bytes` as text, replacing invalid UTF-8: [`String::from_utf8_lossy`] with the fast check
/// first (tags and keys are nearly always valid, and the lossy walk is the slower one).
#[inline]
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Whether `buf` parses as a message to its last byte (every field well formed).
pub fn is_message(buf: &[u8]) -> bool {
    !buf.is_empty() && Fields::new(buf).all(|f| f.is_ok())
}

/// Whether `buf` reads as text: UTF-8 without control characters other than tab, CR and LF
/// (and ESC, which terminal output is full of).
pub fn is_text(buf: &[u8]) -> bool {
    std::str::from_utf8(buf).is_ok()
        && !buf
            .iter()
            .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x1b)) || b == 0x7f)
}

/// A string found by [`strings`]: its path of field numbers below the message and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'a> {
    /// Field numbers from the message down (`26.3` is field 3 of the message in field 26).
    pub path: String,
    /// The text (or bytes that are neither text nor a message).
    pub bytes: &'a [u8],
}

/// Every text and bytes field of `msg`, whatever its schema, in the order written, each with
/// its path of field numbers prefixed by `prefix`. Numbers are skipped. A message that stops
/// being well formed part-way yields its remaining bytes as one found string (so nothing after
/// the damage is lost).
pub fn strings<'a>(msg: &'a [u8], prefix: &str, out: &mut impl FnMut(Found<'a>)) {
    let mut stack: Vec<(Fields<'a>, String, usize)> = vec![(Fields::new(msg), prefix.into(), 0)];
    while let Some((fields, path, depth)) = stack.last_mut() {
        let Some(next) = fields.next() else {
            stack.pop();
            continue;
        };
        let (number, value) = match next {
            Ok(f) => f,
            Err(Malformed { at }) => {
                let rest = fields.buf.get(at..).unwrap_or_default();
                out(Found {
                    path: path.clone(),
                    bytes: rest,
                });
                continue;
            }
        };
        let Value::Bytes(bytes) = value else {
            continue;
        };
        if bytes.is_empty() {
            continue;
        }
        let child = if path.is_empty() {
            format!("#{number}")
        } else {
            format!("{path}.{number}")
        };
        if is_text(bytes) {
            out(Found { path: child, bytes });
        } else if *depth + 1 < MAX_DEPTH && is_message(bytes) {
            let d = *depth + 1;
            stack.push((Fields::new(bytes), child, d));
        } else {
            out(Found { path: child, bytes });
        }
    }
}

/// Whether `name` is a plain name (letters, digits, `_ - . /` and spaces): a key or tag of
/// a W&B or TensorBoard record that is not worth scanning on its own. Checked by table.
pub(crate) fn is_plain_name(name: &[u8]) -> bool {
    static PLAIN: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b' ');
            c += 1;
        }
        t
    };
    name.iter()
        .fold(true, |all, &b| all & PLAIN[usize::from(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64, wire: u64) -> Vec<u8> {
        enc(n << 3 | wire)
    }

    fn enc(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn bytes_field(n: u64, b: &[u8]) -> Vec<u8> {
        let mut out = key(n, 2);
        out.extend(enc(b.len() as u64));
        out.extend_from_slice(b);
        out
    }

    #[test]
    fn reads_every_wire_type() {
        let mut m = key(1, 0);
        m.extend(enc(300));
        m.extend(key(2, 1));
        m.extend(7u64.to_le_bytes());
        m.extend(bytes_field(3, b"hi"));
        m.extend(key(4, 5));
        m.extend(9u32.to_le_bytes());
        let got: Vec<_> = Fields::new(&m).map(Result::unwrap).collect();
        assert_eq!(
            got,
            [
                (1, Value::Varint(300)),
                (2, Value::Fixed64(7)),
                (3, Value::Bytes(b"hi")),
                (4, Value::Fixed32(9)),
            ]
        );
        let cut = &m[..m.len() - 2];
        assert!(Fields::new(cut).last().unwrap().is_err());
        assert!(!is_message(cut));
    }

    #[test]
    fn strings_finds_text_in_nested_messages_and_keeps_damaged_tails() {
        let inner = [bytes_field(1, b"token=abc"), bytes_field(2, &[0, 1, 2])].concat();
        let mut m = bytes_field(5, &inner);
        m.extend(bytes_field(6, b"plain"));
        let mut found = Vec::new();
        strings(&m, "", &mut |f| found.push((f.path, f.bytes.to_vec())));
        assert_eq!(
            found,
            [
                ("#5.1".to_string(), b"token=abc".to_vec()),
                ("#5.2".to_string(), vec![0, 1, 2]),
                ("#6".to_string(), b"plain".to_vec()),
            ]
        );
        let mut damaged = bytes_field(6, b"ok");
        damaged.extend_from_slice(&[0x0a, 0x7f, b'x']);
        let mut found = Vec::new();
        strings(&damaged, "r", &mut |f| {
            found.push((f.path, f.bytes.to_vec()))
        });
        assert_eq!(found[1], ("r".to_string(), vec![0x0a, 0x7f, b'x']));
    }

    #[test]
    fn deep_nesting_stops_at_the_limit() {
        let mut m = bytes_field(1, b"deep secret");
        for _ in 0..200 {
            m = bytes_field(1, &m);
        }
        let mut n = 0;
        strings(&m, "", &mut |_| n += 1);
        assert_eq!(n, 1);
    }
}

//! The bounded byte cursor that the binary parsers (GGUF, ONNX, pickle) read with.
//!
//! A [`Cursor`] reads from a stream and keeps its position and the length of the whole input, so
//! that a length field read from the input is checked against what is left before anything is
//! allocated or skipped: a header that claims a 2^60-byte string costs an error, not memory.

use std::io::{self, BufRead, BufReader, Read, Seek};

/// A reader that knows its position in an input of known length.
#[derive(Debug)]
pub struct Cursor<R> {
    inner: R,
    pos: u64,
    len: u64,
}

impl<R: Read> Cursor<R> {
    /// A cursor at the start of `inner`, an input of `len` bytes.
    pub fn new(inner: R, len: u64) -> Cursor<R> {
        Cursor { inner, pos: 0, len }
    }

    /// Bytes read (or skipped) so far.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// The length of the input.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the input is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes left after the position.
    pub fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    /// Fills `buf` exactly.
    pub fn exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// The next `N` bytes.
    pub fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.exact(&mut b)?;
        Ok(b)
    }

    /// The next byte.
    pub fn byte(&mut self) -> io::Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A protobuf-style varint (little-endian groups of seven bits, at most ten bytes).
    pub fn varint(&mut self) -> io::Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "varint longer than 10 bytes",
        ))
    }

    /// The next `n` bytes; an error, before reading anything, when fewer than `n` are left.
    pub fn bytes(&mut self, n: u64) -> io::Result<Vec<u8>> {
        if n > self.remaining() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let mut v = Vec::new();
        (&mut self.inner).take(n).read_to_end(&mut v)?;
        self.pos += v.len() as u64;
        if (v.len() as u64) < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(v)
    }

    /// Reads and drops the next `n` bytes (for streams that cannot seek).
    pub fn discard(&mut self, n: u64) -> io::Result<()> {
        if n > self.remaining() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let done = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        self.pos += done;
        if done < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

impl<R: BufRead> Cursor<R> {
    /// The next byte without consuming it; `None` at the end.
    pub fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.inner.fill_buf()?.first().copied())
    }

    /// Reads through the next `\n` (included), at most `max` bytes; an error for a line that is
    /// longer or not terminated.
    pub fn line(&mut self, max: usize) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        let n = (&mut self.inner)
            .take(max as u64 + 1)
            .read_until(b'\n', &mut v)?;
        self.pos += n as u64;
        if v.last() != Some(&b'\n') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unterminated or too long text line",
            ));
        }
        Ok(v)
    }
}

impl<S: Read + Seek> Cursor<BufReader<S>> {
    /// Moves past the next `n` bytes without reading them.
    pub fn skip(&mut self, n: u64) -> io::Result<()> {
        if n > self.remaining() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let d = i64::try_from(n).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
        self.inner.seek_relative(d)?;
        self.pos += n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_counts() {
        let mut c = Cursor::new(&b"\x96\x01abcdef"[..], 8);
        assert_eq!(c.varint().unwrap(), 150);
        assert_eq!(c.pos(), 2);
        assert_eq!(c.bytes(3).unwrap(), b"abc");
        assert_eq!(c.remaining(), 3);
        assert_eq!(c.array::<2>().unwrap(), *b"de");
    }

    #[test]
    fn lengths_past_the_end_are_refused_before_reading() {
        let mut c = Cursor::new(&b"abcdef"[..], 6);
        let e = c.bytes(1 << 60).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        // Nothing was consumed by the refused read.
        assert_eq!(c.pos(), 0);
        assert_eq!(c.bytes(6).unwrap(), b"abcdef");
        assert!(c.discard(1).is_err());
    }

    #[test]
    fn a_length_that_lies_about_the_stream_is_an_error() {
        // The declared length says 10 bytes; the stream holds 4.
        let mut c = Cursor::new(&b"abcd"[..], 10);
        assert_eq!(c.bytes(8).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn varints_longer_than_ten_bytes_are_malformed() {
        let mut c = Cursor::new(&[0xffu8; 12][..], 12);
        assert_eq!(c.varint().unwrap_err().kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn skips_seek_and_lines_are_bounded() {
        let data = b"0123456789line\nmore".to_vec();
        let len = data.len() as u64;
        let mut c = Cursor::new(BufReader::new(io::Cursor::new(data)), len);
        c.skip(10).unwrap();
        assert_eq!(c.peek().unwrap(), Some(b'l'));
        assert_eq!(c.line(100).unwrap(), b"line\n");
        assert!(c.line(2).is_err());
        assert!(c.skip(100).is_err());
    }
}

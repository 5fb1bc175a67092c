//! `Read + Seek` over [`Data`], for parsers that want a file-like object (zip's central
//! directory is at the end). Reads go through [`Data::range`], so a mapped file is copied from the
//! map and a range-read file is read with positioned reads: no whole-file buffer either way.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use super::Data;

/// A cursor over shared data.
#[derive(Debug)]
pub struct DataReader {
    data: Arc<Data>,
    pos: u64,
    buf: Vec<u8>,
}

impl DataReader {
    /// A reader at offset 0.
    pub fn new(data: Arc<Data>) -> DataReader {
        DataReader {
            data,
            pos: 0,
            buf: Vec::new(),
        }
    }
}

impl Clone for DataReader {
    fn clone(&self) -> DataReader {
        DataReader {
            data: Arc::clone(&self.data),
            pos: self.pos,
            buf: Vec::new(),
        }
    }
}

impl Read for DataReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let end = self.pos.saturating_add(out.len() as u64);
        let bytes = self.data.range(self.pos..end, &mut self.buf)?;
        let n = bytes.len();
        out[..n].copy_from_slice(bytes);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for DataReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.data.len() as i128;
        let target = match to {
            SeekFrom::Start(n) => n as i128,
            SeekFrom::End(d) => len + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the data",
            ));
        }
        self.pos = target as u64;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_seeks_over_a_slice() {
        let parent = Arc::new(Data::Owned(b"0123456789".to_vec()));
        let slice = Arc::new(parent.slice(2..8));
        assert_eq!(slice.as_slice(), Some(&b"234567"[..]));
        let mut r = DataReader::new(slice);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "234567");
        r.seek(SeekFrom::End(-2)).unwrap();
        let mut two = [0u8; 4];
        assert_eq!(r.read(&mut two).unwrap(), 2);
        assert_eq!(&two[..2], b"67");
        assert!(r.seek(SeekFrom::Current(-100)).is_err());
    }
}

//! The data that flows through the pipeline: bytes plus where they came from.
//!
//! Bytes travel as [`Data`] beside their [`Origin`] (and the nesting depth and tracker of the
//! expansion that produced them; see `crate::expand`). Data is either in memory (a small file read whole,
//! a decompressed entry) or a large file that is read by ranges: memory-mapped
//! ([`Data::Mapped`]) or, with `--mmap never`, read with positioned reads into a worker's buffer
//! ([`Data::File`]). A stored archive member is a [`Data::Slice`] of its parent: no copy. Either
//! way the engine asks for byte ranges ([`Data::range`]) and never for the whole of a large file,
//! so memory stays bounded by threads × chunk size. Bytes that live elsewhere (an object in a
//! bucket) are [`Data::Remote`]: a [`RangeSource`] fetches the ranges asked for, so a consumer
//! that reads only a header fetches only the header. [`reader::DataReader`] gives any data a
//! `Read + Seek` face for parsers that want one (zip).

pub mod chunk;
pub mod load;
pub mod origin;
pub mod reader;

use std::io;
use std::ops::Range;
use std::sync::Arc;

pub use origin::{CellPart, Origin, Segment};

/// Bytes to scan.
#[derive(Debug)]
pub enum Data {
    /// Bytes in memory.
    Owned(Vec<u8>),
    /// A memory-mapped file.
    Mapped(load::Map),
    /// A file read by ranges.
    File {
        /// The open file.
        file: std::fs::File,
        /// Its length when opened.
        len: u64,
    },
    /// Bytes read by ranges from somewhere else (an object in a bucket), fetched on demand.
    Remote(Box<dyn RangeSource>),
    /// A range of other data (a stored archive member, a layer inside an image tarball).
    Slice {
        /// The data this is part of.
        parent: Arc<Data>,
        /// Where in the parent (within its length).
        range: Range<u64>,
    },
}

impl Data {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Data::Owned(v) => v.len() as u64,
            Data::Mapped(m) => m.len() as u64,
            Data::File { len, .. } => *len,
            Data::Remote(r) => r.len(),
            Data::Slice { range, .. } => range.end - range.start,
        }
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole contents, when they are addressable without copying.
    pub fn as_slice(&self) -> Option<&[u8]> {
        match self {
            Data::Owned(v) => Some(v),
            Data::Mapped(m) => Some(m.as_slice()),
            Data::File { .. } | Data::Remote(_) => None,
            Data::Slice { parent, range } => parent
                .as_slice()
                .and_then(|all| all.get(range.start as usize..range.end as usize)),
        }
    }

    /// The bytes in `range` (clamped to the length), borrowed from memory or read into `buf`.
    /// A file that shrank since it was opened gives a shorter slice.
    pub fn range<'a>(&'a self, range: Range<u64>, buf: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        let len = self.len();
        let start = range.start.min(len);
        let end = range.end.min(len).max(start);
        match self {
            Data::Owned(_) | Data::Mapped(_) => {
                let all = self.as_slice().unwrap_or_default();
                Ok(&all[start as usize..end as usize])
            }
            Data::Slice { parent, range } => {
                parent.range(range.start + start..range.start + end, buf)
            }
            Data::File { file, .. } => {
                buf.clear();
                buf.resize((end - start) as usize, 0);
                let n = read_at_full(file, buf, start)?;
                buf.truncate(n);
                Ok(buf)
            }
            Data::Remote(r) => {
                r.read_range(start..end, buf)?;
                Ok(buf)
            }
        }
    }

    /// Tells the kernel the scan is done with `range` of a mapping, so that its pages stop
    /// counting towards this process's resident memory (the page cache keeps them).
    pub fn release(&self, range: Range<u64>) {
        match self {
            Data::Mapped(m) => m.release(range.start as usize..range.end as usize),
            Data::Slice { parent, range: r } => {
                parent.release(r.start + range.start..r.start + range.end)
            }
            _ => {}
        }
    }

    /// Pages of a mapped file that faulted because the file shrank during the scan (read as
    /// zeros instead); 0 for other data.
    pub fn faults(&self) -> u64 {
        match self {
            Data::Mapped(m) => m.faults(),
            Data::Slice { parent, .. } => parent.faults(),
            _ => 0,
        }
    }

    /// The part `range` of this data, sharing its bytes.
    pub fn slice(self: &Arc<Data>, range: Range<u64>) -> Data {
        let len = self.len();
        let start = range.start.min(len);
        let end = range.end.min(len).max(start);
        match &**self {
            Data::Slice { parent, range: r } => Data::Slice {
                parent: Arc::clone(parent),
                range: r.start + start..r.start + end,
            },
            _ => Data::Slice {
                parent: Arc::clone(self),
                range: start..end,
            },
        }
    }
}

/// Random-access bytes that are not in this process: an object in a bucket, read with ranged
/// requests. [`Data::range`] calls [`RangeSource::read_range`] with a range already clamped to
/// [`RangeSource::len`]. Implementations may cache and read ahead; they are called from several
/// threads at once (chunks of one blob are scanned in parallel).
pub trait RangeSource: Send + Sync + std::fmt::Debug {
    /// Length in bytes.
    fn len(&self) -> u64;

    /// Whether there are no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the contents of `buf` with the bytes of `range` (within the length). A source
    /// that ends early gives fewer bytes; a source that cannot be read gives an error.
    fn read_range(&self, range: Range<u64>, buf: &mut Vec<u8>) -> io::Result<()>;
}

/// Reads until `buf` is full or the file ends; returns how many bytes were read.
fn read_at_full(file: &std::fs::File, buf: &mut [u8], mut offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

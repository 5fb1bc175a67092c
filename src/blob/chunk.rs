//! Cutting a large blob into chunks that are scanned in parallel.
//!
//! A chunk owns the keyword hits that *start* in its nominal range `[start, end)`; its buffer
//! reaches `margin` bytes further on both sides so that every window around its hits (and the
//! context snippet of every finding) is inside the buffer. Windows that may join a neighbour's
//! are deferred by the matcher (see `matcher::window`), so the findings of a chunked scan are
//! exactly those of a whole scan. Memory is bounded by threads × (chunk size + 2 × margin).

use std::ops::Range;

/// Default chunk size: 8 MiB.
pub const DEFAULT_CHUNK_SIZE: u64 = 8 << 20;

/// One chunk of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position in the chunk list.
    pub index: usize,
    /// The hits this chunk owns start in this range.
    pub nominal: Range<u64>,
    /// The bytes this chunk reads: `nominal` widened by the margin, clamped to the blob.
    pub buffer: Range<u64>,
}

impl Chunk {
    /// Whether this is the first chunk (no seam before it).
    pub fn is_first(&self) -> bool {
        self.nominal.start == 0
    }
}

/// Cuts `len` bytes into as few chunks of at most `size` as it takes, of even length (the last
/// may be shorter by less than one byte per chunk), with `margin` on each side. Even, so that a
/// blob a little over one chunk (9 MiB at 8 MiB) keeps two threads busy for the same time, not
/// one for 8 MiB and the other for 1.
pub fn plan(len: u64, size: u64, margin: u64) -> Vec<Chunk> {
    let count = len.div_ceil(size.max(1)).max(1);
    let size = len.div_ceil(count).max(1);
    let mut out = Vec::with_capacity(len.div_ceil(size) as usize);
    let mut start = 0;
    while start < len || (len == 0 && out.is_empty()) {
        let end = start.saturating_add(size).min(len);
        out.push(Chunk {
            index: out.len(),
            nominal: start..end,
            buffer: start.saturating_sub(margin)..end.saturating_add(margin).min(len),
        });
        if end == start {
            break;
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_the_blob_once_with_margins() {
        let chunks = plan(25, 10, 3);
        let nominal: Vec<_> = chunks.iter().map(|c| c.nominal.clone()).collect();
        assert_eq!(nominal, vec![0..9, 9..18, 18..25]);
        let buffers: Vec<_> = chunks.iter().map(|c| c.buffer.clone()).collect();
        assert_eq!(buffers, vec![0..12, 6..21, 15..25]);
        assert_eq!(plan(0, 10, 3).len(), 1);
        assert_eq!(plan(10, 10, 3).len(), 1);
        let nominal: Vec<_> = plan(11, 10, 0).iter().map(|c| c.nominal.clone()).collect();
        assert_eq!(nominal, vec![0..6, 6..11]);
        // As few chunks as chunks of `size` take, none longer, every byte once.
        for len in [1u64, 9, 10, 11, 99, 100, 101, 1000, 1001] {
            for size in [1u64, 3, 10, 64, 100] {
                let chunks = plan(len, size, 1);
                assert_eq!(chunks.len() as u64, len.div_ceil(size), "{len} {size}");
                assert!(
                    chunks
                        .iter()
                        .all(|c| c.nominal.end - c.nominal.start <= size)
                );
                assert!(
                    chunks
                        .windows(2)
                        .all(|w| w[0].nominal.end == w[1].nominal.start)
                );
                assert_eq!(chunks.first().unwrap().nominal.start, 0);
                assert_eq!(chunks.last().unwrap().nominal.end, len);
            }
        }
    }
}

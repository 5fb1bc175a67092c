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

/// Cuts `len` bytes into chunks of `size` (the last may be shorter) with `margin` on each side.
pub fn plan(len: u64, size: u64, margin: u64) -> Vec<Chunk> {
    let size = size.max(1);
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
        assert_eq!(nominal, vec![0..10, 10..20, 20..25]);
        let buffers: Vec<_> = chunks.iter().map(|c| c.buffer.clone()).collect();
        assert_eq!(buffers, vec![0..13, 7..23, 17..25]);
        assert_eq!(plan(0, 10, 3).len(), 1);
        assert_eq!(plan(10, 10, 3).len(), 1);
    }
}

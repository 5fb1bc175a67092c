//! Byte offsets to lines and columns, computed only for findings.
//!
//! Counting lines for every byte scanned would cost a second pass over the input, so lines are
//! computed after the scan, and only up to the last finding. Chunks of a large blob are scanned
//! out of order, so each chunk records a few numbers about itself ([`ChunkStats`]) while its
//! bytes are in memory, and the [`Locator`] walks forward from the start of the chunk that holds
//! a finding instead of from the start of the blob.
//!
//! Lines are 1-based and count `\n`. Columns are 1-based and count Unicode code points (UTF-8
//! lead bytes), so a finding after a tqdm progress bar full of block characters points at the
//! right character; SARIF reports say so with `columnKind: unicodeCodePoints`.

use std::io;
use std::ops::Range;

use crate::blob::Data;

/// Line and column of a byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineColumn {
    /// 1-based line.
    pub line: u64,
    /// 1-based column in code points.
    pub column: u64,
}

/// What the locator needs to know about a chunk it has not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkStats {
    /// The chunk's nominal range.
    pub nominal: Range<u64>,
    /// `\n` bytes in the nominal range.
    pub newlines: u64,
    /// Offset of the last `\n` in the nominal range.
    pub last_newline: Option<u64>,
    /// Code points after the last `\n` (all of them when there is none).
    pub tail_chars: u64,
}

impl ChunkStats {
    /// Measures `bytes`, the nominal range of a chunk starting at offset `start`.
    pub fn measure(bytes: &[u8], start: u64) -> ChunkStats {
        let newlines = memchr::memchr_iter(b'\n', bytes).count() as u64;
        let last = memchr::memrchr(b'\n', bytes);
        let tail = last.map_or(bytes, |i| &bytes[i + 1..]);
        ChunkStats {
            nominal: start..start + bytes.len() as u64,
            newlines,
            last_newline: last.map(|i| start + i as u64),
            tail_chars: count_chars(tail),
        }
    }

    /// Stats for a blob scanned as a single chunk (only `nominal.start` is ever read).
    pub fn whole(len: u64) -> ChunkStats {
        ChunkStats {
            nominal: 0..len,
            ..ChunkStats::default()
        }
    }
}

/// Code points in `bytes`: every byte that is not a UTF-8 continuation byte.
pub fn count_chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

#[derive(Debug, Clone, Copy)]
struct Cursor {
    pos: u64,
    line: u64,
    chars: u64,
}

/// Turns non-decreasing byte offsets into lines and columns.
#[derive(Debug)]
pub struct Locator<'a> {
    data: &'a Data,
    stats: &'a [ChunkStats],
    newlines_before: Vec<u64>,
    cursor: Option<Cursor>,
    buf: Vec<u8>,
}

impl<'a> Locator<'a> {
    /// A locator over `data`, cut into chunks described by `stats` (sorted, covering the blob).
    pub fn new(data: &'a Data, stats: &'a [ChunkStats]) -> Locator<'a> {
        let mut newlines_before = Vec::with_capacity(stats.len());
        let mut total = 0;
        for s in stats {
            newlines_before.push(total);
            total += s.newlines;
        }
        Locator {
            data,
            stats,
            newlines_before,
            cursor: None,
            buf: Vec::new(),
        }
    }

    /// The line and column of `pos`. Offsets must come in non-decreasing order.
    pub fn locate(&mut self, pos: u64) -> io::Result<LineColumn> {
        let chunk = self
            .stats
            .partition_point(|s| s.nominal.start <= pos)
            .saturating_sub(1);
        let chunk_start = self.stats.get(chunk).map_or(0, |s| s.nominal.start);
        let mut cur = match self.cursor {
            Some(c) if c.pos >= chunk_start && c.pos <= pos => c,
            _ => self.enter(chunk),
        };
        while cur.pos < pos {
            let step = (pos - cur.pos).min(1 << 20);
            let bytes = self.data.range(cur.pos..cur.pos + step, &mut self.buf)?;
            if bytes.is_empty() {
                break;
            }
            match memchr::memrchr(b'\n', bytes) {
                Some(last) => {
                    cur.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
                    cur.chars = count_chars(&bytes[last + 1..]);
                }
                None => cur.chars += count_chars(bytes),
            }
            cur.pos += bytes.len() as u64;
        }
        self.cursor = Some(cur);
        Ok(LineColumn {
            line: cur.line,
            column: cur.chars + 1,
        })
    }

    /// The cursor at the start of chunk `index`, from the stats of the chunks before it.
    fn enter(&self, index: usize) -> Cursor {
        let Some(stats) = self.stats.get(index) else {
            return Cursor {
                pos: 0,
                line: 1,
                chars: 0,
            };
        };
        let mut chars = 0;
        for s in self.stats[..index].iter().rev() {
            chars += s.tail_chars;
            if s.last_newline.is_some() {
                break;
            }
        }
        Cursor {
            pos: stats.nominal.start,
            line: 1 + self.newlines_before[index],
            chars,
        }
    }
}

/// The line and column just past `secret`, which starts at `start`.
pub fn end_of(start: LineColumn, secret: &[u8]) -> LineColumn {
    match memchr::memrchr(b'\n', secret) {
        None => LineColumn {
            line: start.line,
            column: start.column + count_chars(secret),
        },
        Some(last) => LineColumn {
            line: start.line + memchr::memchr_iter(b'\n', secret).count() as u64,
            column: 1 + count_chars(&secret[last + 1..]),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: &[u8], pos: usize) -> LineColumn {
        let before = &bytes[..pos];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        LineColumn {
            line,
            column: 1 + count_chars(&before[start..]),
        }
    }

    #[test]
    fn chunked_locator_agrees_with_naive_count() {
        let text = "ab\ncd€ef\n\nlong line without breaks ééé\nx\n".repeat(7);
        let bytes = text.as_bytes();
        let data = Data::Owned(bytes.to_vec());
        for size in [1, 3, 7, 64, 10_000] {
            let stats: Vec<ChunkStats> = crate::blob::chunk::plan(bytes.len() as u64, size, 0)
                .iter()
                .map(|c| {
                    ChunkStats::measure(
                        &bytes[c.nominal.start as usize..c.nominal.end as usize],
                        c.nominal.start,
                    )
                })
                .collect();
            let mut loc = Locator::new(&data, &stats);
            for pos in (0..bytes.len()).step_by(5) {
                assert_eq!(
                    loc.locate(pos as u64).unwrap(),
                    naive(bytes, pos),
                    "size {size} pos {pos}"
                );
            }
        }
    }

    #[test]
    fn end_of_multiline_secret() {
        let start = LineColumn { line: 3, column: 5 };
        assert_eq!(end_of(start, b"abc"), LineColumn { line: 3, column: 8 });
        assert_eq!(
            end_of(start, b"ab\ncdef\ngh"),
            LineColumn { line: 5, column: 3 }
        );
    }
}

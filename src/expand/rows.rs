//! The values of one dataset column, scanned as one document and named by their row.
//!
//! A Parquet or Arrow string column is millions of short values. [`super::texts::Texts`] would
//! give each its own [`Origin`] up front; [`Rows`] keeps only `(start, row)` per value, writes
//! the values one after another (separated by `"\n\0\n"`, which no secret can cross), scans the
//! document when it passes [`FLUSH_BYTES`], and builds a value's origin (`… › messages.content ›
//! row 41872`) only for a finding in it. Lines, columns and offsets count inside the value.

use crate::blob::{Data, Origin, Segment};
use crate::engine;
use crate::finding::location;

use super::Expander;
use super::texts::line_column;

/// The document is scanned once it holds this many bytes (16 MiB).
pub const FLUSH_BYTES: usize = 16 << 20;

const SEPARATOR: &[u8] = b"\n\0\n";

/// The values of one column, by row.
pub struct Rows<'e, 'a> {
    ex: &'e Expander<'a>,
    column: Origin,
    doc: Vec<u8>,
    /// Start of each value in `doc`, its end, and its row.
    values: Vec<(usize, usize, u64)>,
    stopped: bool,
    /// Bytes of values scanned.
    pub bytes: u64,
}

impl<'e, 'a> Rows<'e, 'a> {
    /// An empty document for the column named by `column`.
    pub fn new(ex: &'e Expander<'a>, column: Origin) -> Rows<'e, 'a> {
        Rows {
            ex,
            column,
            doc: Vec::new(),
            values: Vec::new(),
            stopped: false,
            bytes: 0,
        }
    }

    /// Whether the scan was told to stop.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Adds the value of `row`.
    pub fn push(&mut self, row: u64, value: &[u8]) {
        if self.stopped || value.is_empty() {
            return;
        }
        if !self.doc.is_empty() {
            self.doc.extend_from_slice(SEPARATOR);
        }
        let start = self.doc.len();
        self.doc.extend_from_slice(value);
        self.values.push((start, self.doc.len(), row));
        if self.doc.len() >= FLUSH_BYTES {
            self.flush();
        }
    }

    /// Scans what is left.
    pub fn finish(mut self) -> u64 {
        self.flush();
        self.bytes
    }

    fn flush(&mut self) {
        if self.values.is_empty() {
            self.doc.clear();
            return;
        }
        let ex = self.ex;
        let data = Data::Owned(std::mem::take(&mut self.doc));
        let result = ex.pool.with(ex.matcher, |scratch, buf| {
            engine::scan_data_until(
                ex.matcher,
                &data,
                &self.column,
                ex.chunk_size,
                scratch,
                buf,
                &|| ex.sink.stopped(),
            )
        });
        let value_bytes: usize = self.values.iter().map(|(s, e, _)| e - s).sum();
        self.bytes += value_bytes as u64;
        ex.sink.scanned(value_bytes as u64);
        let doc = data.as_slice().unwrap_or_default();
        for mut f in result.findings {
            let at = f.offset as usize;
            let i = self.values.partition_point(|v| v.0 <= at);
            let Some(&(start, end, row)) = i.checked_sub(1).map(|i| &self.values[i]) else {
                continue;
            };
            if at >= end {
                continue;
            }
            let rel = at - start;
            f.start = line_column(&doc[start..at]);
            f.end = location::end_of(f.start, f.secret.as_bytes());
            f.end_offset -= start as u64;
            f.offset = rel as u64;
            f.origin = self.column.child(Segment::Row { index: row });
            if !ex.sink.finding(f) {
                self.stopped = true;
                break;
            }
        }
        if let Some(e) = result.error {
            ex.sink.error(&self.column, e.to_string());
        }
        self.values.clear();
        if let Data::Owned(mut v) = data {
            v.clear();
            self.doc = v;
        }
    }
}

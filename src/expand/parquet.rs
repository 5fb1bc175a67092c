//! Parquet datasets: every string and binary column, page by page, decompressed, by row.
//!
//! Datasets of chat logs, scraped code and support tickets hold whatever people pasted, and
//! they travel as Parquet (the Hugging Face Hub converts every dataset to it). A Parquet file
//! is row groups of column chunks of compressed pages, so its bytes as stored show nothing:
//! ferret reads it with the `parquet` crate's low-level column API (no Arrow arrays are built),
//! one column chunk at a time, page by page (a page is decompressed, decoded and dropped), and
//! scans each value as text named by its place:
//! `train-00003.parquet › row group 2 › messages.content › row 41872:1:17`. The row is the
//! row's position in the whole file, 0-based; lines and columns count in the value.
//!
//! - Only `BYTE_ARRAY` columns (strings, JSON, binary) and `FIXED_LEN_BYTE_ARRAY` columns
//!   without a numeric meaning are read; numbers, booleans, timestamps, decimals and UUIDs are
//!   never decoded (their pages are not even read). Nested and repeated fields are columns of
//!   their own: a value's row comes from its repetition levels, and the column is named by its
//!   field path with the list and map wrappers left out (`messages.list.element.content` is
//!   shown as `messages.content`).
//! - Dictionary pages are decoded once per column chunk by the crate; a value repeated in a
//!   thousand rows is reported in each row that holds it.
//! - The footer's key/value metadata (pandas, Hugging Face and user metadata) is scanned as
//!   `› metadata › KEY`.
//! - Codecs: Snappy, gzip, zstd, LZ4 (raw and Hadoop framing) and uncompressed. A chunk
//!   compressed with Brotli or LZO is not decompressed: a warning says which.
//!
//! Memory: at most [`BATCH`] records of one column and one decompressed page at a time, plus
//! the scan's document ([`super::rows::FLUSH_BYTES`]); a 10 GB file streams through in
//! constant memory. The footer may be at most [`MAX_FOOTER`] bytes. A file that does not open
//! as Parquet is scanned as bytes with a warning; a column chunk that breaks mid-way is a
//! warning naming it, and the other columns go on. The crate's decoders are not hardened
//! against hostile files (some assert): each column chunk is read under
//! [`super::contain::contained`], so that a panic is that chunk's warning, not the scan's end.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{ConvertedType, Encoding, LogicalType, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::column::reader::ColumnReader;
use parquet::file::reader::{ChunkReader, FileReader, Length, SerializedFileReader};

use super::Expander;
use super::contain::contained;
use super::rows::Rows;
use super::texts::Texts;
use crate::blob::{Data, Origin, Segment};

/// Records read from a column at a time.
pub const BATCH: usize = 4096;
/// The largest footer (file metadata) read (64 MiB).
pub const MAX_FOOTER: u64 = 64 << 20;

/// Whether `head` starts like a Parquet file (`PAR1`).
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

/// Random access to ferret's data for the `parquet` crate.
struct Source(Arc<Data>);

impl Length for Source {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

/// A reader from an offset to the end of the data, by ranges of 64 KiB.
pub struct RangeReader {
    data: Arc<Data>,
    pos: u64,
    buf: Vec<u8>,
}

impl Read for RangeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let want = (out.len() as u64).min(64 << 10);
        let bytes = self.data.range(self.pos..self.pos + want, &mut self.buf)?;
        let n = bytes.len();
        out[..n].copy_from_slice(bytes);
        self.pos += n as u64;
        Ok(n)
    }
}

impl ChunkReader for Source {
    type T = RangeReader;

    fn get_read(&self, start: u64) -> parquet::errors::Result<RangeReader> {
        Ok(RangeReader {
            data: Arc::clone(&self.0),
            pos: start,
            buf: Vec::new(),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let mut buf = Vec::new();
        let bytes = self
            .0
            .range(start..start.saturating_add(length as u64), &mut buf)
            .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
        if bytes.len() != length {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at {start} run past the end of the file"
            )));
        }
        Ok(Bytes::copy_from_slice(bytes))
    }
}

/// Scans a Parquet file held in `data`.
pub fn parquet_blob(ex: &Expander<'_>, data: Arc<Data>, origin: Origin) {
    let len = data.len();
    let mut tail = Vec::new();
    let footer = match data.range(len.saturating_sub(8)..len, &mut tail) {
        Ok(t) if t.len() == 8 && &t[4..] == b"PAR1" => {
            u64::from(u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
        }
        Ok(_) => {
            ex.sink.error(
                &origin,
                "not a whole Parquet file (no footer): scanned as bytes".into(),
            );
            return ex.leaf(&data, &origin);
        }
        Err(e) => return ex.sink.error(&origin, e.to_string()),
    };
    if footer > MAX_FOOTER {
        ex.sink.skipped(
            &origin,
            format!("Parquet footer of {footer} bytes is over {MAX_FOOTER}: scanned as bytes"),
        );
        return ex.leaf(&data, &origin);
    }
    let opened = contained(|| SerializedFileReader::new(Source(Arc::clone(&data))))
        .unwrap_or_else(|p| Err(parquet::errors::ParquetError::General(p.to_string())));
    let reader = match opened {
        Ok(r) => r,
        Err(e) => {
            ex.sink.error(
                &origin,
                format!("malformed Parquet file ({e}): scanned as bytes"),
            );
            return ex.leaf(&data, &origin);
        }
    };
    let meta = reader.metadata();
    if let Some(kv) = meta.file_metadata().key_value_metadata() {
        let mut texts = Texts::new(ex);
        let record = origin.child(Segment::Record {
            name: "metadata".into(),
            step: None,
        });
        for entry in kv {
            if let Some(value) = &entry.value {
                let o = record.child(Segment::Key {
                    path: entry.key.clone(),
                });
                texts.push(o, b"", value.as_bytes(), b"");
            }
        }
        texts.finish();
    }
    let schema = meta.file_metadata().schema_descr();
    let columns: Vec<(usize, String)> = (0..schema.num_columns())
        .filter(|&i| is_text_column(schema.column(i).as_ref()))
        .map(|i| (i, display_path(schema.column(i).path().parts())))
        .collect();
    let mut first_row = 0u64;
    for g in 0..meta.num_row_groups() {
        let rows_in_group = u64::try_from(meta.row_group(g).num_rows()).unwrap_or(0);
        let group_origin = origin.child(Segment::RowGroup { index: g });
        let group = contained(|| reader.get_row_group(g))
            .unwrap_or_else(|p| Err(parquet::errors::ParquetError::General(p.to_string())));
        let group = match group {
            Ok(r) => r,
            Err(e) => {
                ex.sink.error(&group_origin, e.to_string());
                first_row += rows_in_group;
                continue;
            }
        };
        for (i, path) in &columns {
            if ex.sink.stopped() {
                return;
            }
            let column_origin = group_origin.child(Segment::Column { path: path.clone() });
            let codec = meta.row_group(g).column(*i).compression();
            if matches!(
                codec,
                parquet::basic::Compression::BROTLI(_) | parquet::basic::Compression::LZO
            ) {
                ex.sink.skipped(
                    &column_origin,
                    format!("a {codec} column chunk is not decompressed by ferret: not scanned"),
                );
                continue;
            }
            // The crate's decoders assert on some malformed pages: a panic is contained to
            // this column chunk, and the values read before it are still scanned.
            let mut rows = Rows::new(ex, column_origin.clone());
            let result = contained(|| {
                let pages = group.get_column_page_reader(*i)?;
                let reader = parquet::column::reader::get_column_reader(
                    schema.column(*i),
                    Box::new(Guard {
                        pages,
                        dictionary: false,
                    }),
                );
                let max_def = schema.column(*i).max_def_level();
                match reader {
                    ColumnReader::ByteArrayColumnReader(mut r) => {
                        read_column(&mut rows, first_row, max_def, |d, rep, v: &mut Vec<_>| {
                            r.read_records(BATCH, Some(d), Some(rep), v)
                        })
                    }
                    ColumnReader::FixedLenByteArrayColumnReader(mut r) => {
                        read_column(&mut rows, first_row, max_def, |d, rep, v: &mut Vec<_>| {
                            r.read_records(BATCH, Some(d), Some(rep), v)
                        })
                    }
                    _ => Ok(()),
                }
            });
            rows.finish();
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => ex.sink.error(
                    &column_origin,
                    format!("column chunk unreadable from here on: {e}"),
                ),
                Err(p) => ex.sink.error(
                    &column_origin,
                    format!("column chunk unreadable from here on: {p}"),
                ),
            }
        }
        first_row += rows_in_group;
    }
}

/// Pages of a column chunk, checked before the crate decodes them: a dictionary-encoded data
/// page with no dictionary page before it is an error here (the crate would panic on it; found
/// by the `parquet` fuzz target).
struct Guard {
    pages: Box<dyn parquet::column::page::PageReader>,
    dictionary: bool,
}

impl Guard {
    fn check(&mut self, page: Option<Page>) -> parquet::errors::Result<Option<Page>> {
        if let Some(p) = &page {
            if p.is_dictionary_page() {
                self.dictionary = true;
            } else if matches!(
                p.encoding(),
                Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY
            ) && !self.dictionary
            {
                return Err(parquet::errors::ParquetError::General(
                    "a dictionary-encoded page without a dictionary page".into(),
                ));
            }
        }
        Ok(page)
    }
}

impl Iterator for Guard {
    type Item = parquet::errors::Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        parquet::column::page::PageReader::get_next_page(self).transpose()
    }
}

impl parquet::column::page::PageReader for Guard {
    fn get_next_page(&mut self) -> parquet::errors::Result<Option<Page>> {
        let page = self.pages.get_next_page()?;
        self.check(page)
    }

    fn peek_next_page(
        &mut self,
    ) -> parquet::errors::Result<Option<parquet::column::page::PageMetadata>> {
        self.pages.peek_next_page()
    }

    fn skip_next_page(&mut self) -> parquet::errors::Result<()> {
        self.pages.skip_next_page()
    }
}

/// Reads a column chunk batch by batch, giving each value to `rows` with its row.
fn read_column<V: AsRef<[u8]>>(
    rows: &mut Rows<'_, '_>,
    first_row: u64,
    max_def: i16,
    mut read: impl FnMut(
        &mut Vec<i16>,
        &mut Vec<i16>,
        &mut Vec<V>,
    ) -> parquet::errors::Result<(usize, usize, usize)>,
) -> parquet::errors::Result<()> {
    let mut defs = Vec::with_capacity(BATCH);
    let mut reps = Vec::with_capacity(BATCH);
    let mut values: Vec<V> = Vec::with_capacity(BATCH);
    let mut row = first_row;
    loop {
        defs.clear();
        reps.clear();
        values.clear();
        let (records, _values, levels) = read(&mut defs, &mut reps, &mut values)?;
        if records == 0 && levels == 0 {
            return Ok(());
        }
        if reps.is_empty() {
            // Not repeated: one value (or null) per row.
            if defs.is_empty() || values.len() == records {
                // Required, or nullable without nulls: values are rows.
                for (k, v) in values.iter().enumerate() {
                    rows.push(row + k as u64, v.as_ref());
                }
            } else {
                let mut vals = values.iter();
                for (k, d) in defs.iter().enumerate() {
                    if *d == max_def
                        && let Some(v) = vals.next()
                    {
                        rows.push(row + k as u64, v.as_ref());
                    }
                }
            }
            row += records as u64;
        } else {
            // Repeated: a repetition level of 0 starts the next row. A value is present where
            // its definition level is the column's maximum.
            let mut vals = values.iter();
            let mut current = row.wrapping_sub(1);
            for (k, rep) in reps.iter().enumerate() {
                if *rep == 0 {
                    current = current.wrapping_add(1);
                }
                if defs.get(k).copied().unwrap_or(max_def) == max_def
                    && let Some(v) = vals.next()
                {
                    rows.push(current, v.as_ref());
                }
            }
            row += records as u64;
        }
        if rows.is_stopped() {
            return Ok(());
        }
    }
}

/// Whether a leaf column can hold text: `BYTE_ARRAY`, or `FIXED_LEN_BYTE_ARRAY` that is not a
/// decimal, UUID, float16 or interval.
fn is_text_column(c: &parquet::schema::types::ColumnDescriptor) -> bool {
    match c.physical_type() {
        PhysicalType::BYTE_ARRAY => true,
        PhysicalType::FIXED_LEN_BYTE_ARRAY => {
            let numeric_logical = matches!(
                c.logical_type_ref(),
                Some(LogicalType::Decimal { .. } | LogicalType::Uuid | LogicalType::Float16)
            );
            let numeric_converted = matches!(
                c.converted_type(),
                ConvertedType::DECIMAL | ConvertedType::INTERVAL
            );
            !numeric_logical && !numeric_converted
        }
        _ => false,
    }
}

/// A column's path as people name it: the wrappers of lists (`list.element`, `list.item`,
/// `bag.array_element`) and maps (`key_value`) left out.
pub fn display_path(parts: &[String]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        let p = parts[i].as_str();
        let next = parts.get(i + 1).map(String::as_str);
        match (p, next) {
            ("list", Some("element" | "item")) | ("bag", Some("array_element")) => i += 2,
            ("key_value", _) => i += 1,
            _ => {
                out.push(p);
                i += 1;
            }
        }
    }
    if out.is_empty() {
        parts.join(".")
    } else {
        out.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_map_wrappers_are_left_out_of_column_names() {
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            display_path(&p("messages.list.element.content")),
            "messages.content"
        );
        assert_eq!(display_path(&p("tags.list.item")), "tags");
        assert_eq!(display_path(&p("headers.key_value.value")), "headers.value");
        assert_eq!(display_path(&p("text")), "text");
        assert_eq!(display_path(&p("list")), "list");
    }
}

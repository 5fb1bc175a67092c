//! Arrow IPC files (Feather v2) and streams: every string and binary column, batch by batch,
//! by row.
//!
//! Arrow's IPC format is what `pyarrow.feather`, pandas' `to_feather`, Hugging Face `datasets`
//! (its cache of `*.arrow` files), Polars and DuckDB write for data frames. A stream is a run of
//! messages (a schema, dictionaries, record batches), each a FlatBuffers header and a body of
//! buffers, optionally LZ4- or zstd-compressed buffer by buffer; a file (`ARROW1`) is a stream
//! between a magic and a footer. ferret walks the messages itself (each header's sizes are
//! checked against the file and the budget before its body is read) and decodes them with the
//! `arrow-ipc` crate (the Apache Arrow project's Rust implementation, the same release line as
//! the `parquet` crate ferret already uses), reading only the top-level columns that can hold
//! text (a projection: numeric columns are never decompressed). Each value is scanned as text
//! named by its place: `train.feather › messages.content › row 41872:1:17`. The row is the
//! row's position in the whole file, 0-based; lines and columns count in the value.
//!
//! - Strings and binaries of every layout (`Utf8`, `LargeUtf8`, `Utf8View`, the binaries,
//!   `FixedSizeBinary` but UUIDs), also inside lists, structs, maps, unions and run-end encoded
//!   arrays. A nested value's row comes from its list offsets; a struct field is named by its
//!   path (`messages.content`), a map's by `.key` and `.value`.
//! - Dictionary-encoded strings (pandas categoricals, `dictionary_encode()`), also delta
//!   dictionaries: a value is reported in each row that holds it.
//! - The schema's key/value metadata (pandas, Hugging Face, user metadata) as
//!   `› metadata › KEY`.
//!
//! Memory: one record batch at a time (its body, at most [`MAX_BATCH`] bytes compressed and
//! decompressed) and the dictionaries. Damage is a warning and never a loss: a batch that does
//! not decode is named (`› record batch 3`) and the next is read; a file without its footer (a
//! cut download) is read up to the cut; where the messages stop making sense, the rest of the
//! file is scanned as bytes. A decoder panic on a hostile file is contained ([`super::contain`]).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int16Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, GenericListViewArray, OffsetSizeTrait};
use arrow_buffer::Buffer;
use arrow_ipc::{MessageHeader, MetadataVersion};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::Expander;
use super::contain::contained;
use super::rows::Rows;
use super::texts::Texts;
use crate::blob::reader::DataReader;
use crate::blob::{Data, Origin, Segment};

/// The magic at both ends of an Arrow IPC file.
pub const FILE_MAGIC: &[u8; 6] = b"ARROW1";
/// Before each message's length in a stream (since Arrow 0.15).
const CONTINUATION: [u8; 4] = [0xff; 4];
/// The largest message header (FlatBuffers metadata) read (16 MiB).
pub const MAX_METADATA: u32 = 16 << 20;
/// The largest record batch body read, and decompressed, at once (1 GiB); a larger batch is
/// skipped with a warning (the budget's `max_entry_bytes` lowers it).
pub const MAX_BATCH: u64 = 1 << 30;

/// Whether `head` starts like an Arrow IPC file (`ARROW1`) or stream (a continuation marker,
/// then a schema message; the message is checked when it fits in `head`, and a `.arrow`,
/// `.arrows`, `.feather` or `.ipc` name is enough for a larger one).
pub fn is_arrow(head: &[u8], name: &str) -> bool {
    head.starts_with(FILE_MAGIC) || is_stream(head, name)
}

fn is_stream(head: &[u8], name: &str) -> bool {
    let Some(len) = head
        .get(4..8)
        .filter(|_| head.starts_with(&CONTINUATION))
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return false;
    };
    if !(8..=MAX_METADATA).contains(&len) {
        return false;
    }
    if let Some(meta) = head.get(8..8 + len as usize) {
        return arrow_ipc::root_as_message(meta)
            .is_ok_and(|m| m.header_type() == MessageHeader::Schema);
    }
    let lower = name.to_ascii_lowercase();
    [".arrow", ".arrows", ".feather", ".ipc"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// Scans an Arrow IPC file or stream held in `data`.
pub fn arrow_blob(ex: &Expander<'_>, data: Arc<Data>, origin: Origin) {
    let len = data.len();
    let mut head = Vec::new();
    let is_file = match data.range(0..8, &mut head) {
        Ok(h) => h.starts_with(FILE_MAGIC),
        Err(e) => return ex.sink.error(&origin, e.to_string()),
    };
    // A file is a stream from byte 8 to its footer; without a footer, to the end.
    let (start, end) = if is_file {
        let mut tail = Vec::new();
        match data.range(len.saturating_sub(10)..len, &mut tail) {
            Ok(t) if len >= 18 && t.len() == 10 && &t[4..] == FILE_MAGIC => {
                let footer = u64::from(u32::from_le_bytes([t[0], t[1], t[2], t[3]]));
                if footer + 18 <= len {
                    (8, len - 10 - footer)
                } else {
                    ex.sink.error(
                        &origin,
                        "Arrow IPC footer length runs past the start of the file: record \
                         batches read up to the end"
                            .into(),
                    );
                    (8, len)
                }
            }
            Ok(_) => {
                ex.sink.error(
                    &origin,
                    "not a whole Arrow IPC file (no footer): record batches read up to the cut"
                        .into(),
                );
                (8, len)
            }
            Err(e) => return ex.sink.error(&origin, e.to_string()),
        }
    } else {
        (0, len)
    };
    let mut reader = DataReader::new(Arc::clone(&data));
    if io::copy(&mut (&mut reader).take(start), &mut io::sink()).is_err() {
        return ex.leaf(&data, &origin);
    }
    let mut reader = reader.take(end.saturating_sub(start));
    let mut walk = Walk {
        ex,
        origin: &origin,
        pos: start,
        schema: None,
        projection: Vec::new(),
        dictionaries: HashMap::new(),
        batch: 0,
        first_row: 0,
    };
    if let Err(broken) = walk.run(&mut reader) {
        ex.sink.error(
            &origin,
            format!(
                "Arrow IPC message at byte {} unreadable ({}): the rest scanned as bytes",
                broken.at, broken.why
            ),
        );
        ex.leaf_after(&data, &origin, broken.at);
    }
}

/// Where the messages stopped making sense.
struct Broken {
    at: u64,
    why: String,
}

/// The state of a walk through the messages.
struct Walk<'w, 'e> {
    ex: &'w Expander<'e>,
    origin: &'w Origin,
    /// Byte of the file at the reader.
    pos: u64,
    schema: Option<SchemaRef>,
    /// Top-level columns that can hold text.
    projection: Vec<usize>,
    dictionaries: HashMap<i64, ArrayRef>,
    /// Record batches seen.
    batch: usize,
    /// Rows before the next batch.
    first_row: u64,
}

impl Walk<'_, '_> {
    fn run(&mut self, r: &mut dyn Read) -> Result<(), Broken> {
        let max_body = MAX_BATCH.min(self.ex.budget.max_entry_bytes);
        loop {
            if self.ex.sink.stopped() {
                return Ok(());
            }
            let at = self.pos;
            let broken = |why: String| Broken { at, why };
            // The length, after a continuation marker (or without one: Arrow before 0.15).
            let mut word = [0u8; 4];
            match read_full(r, &mut word) {
                Ok(0) => return Ok(()),
                Ok(4) => {}
                Ok(_) => return Err(broken("cut in a message length".into())),
                Err(e) => return Err(broken(e.to_string())),
            }
            self.pos += 4;
            if word == CONTINUATION {
                match read_full(r, &mut word) {
                    Ok(4) => self.pos += 4,
                    Ok(_) => return Err(broken("cut in a message length".into())),
                    Err(e) => return Err(broken(e.to_string())),
                }
            }
            let meta_len = u32::from_le_bytes(word);
            if meta_len == 0 {
                // The end-of-stream marker.
                return Ok(());
            }
            if meta_len > MAX_METADATA {
                return Err(broken(format!(
                    "a message header of {meta_len} bytes (at most {MAX_METADATA})"
                )));
            }
            let meta = read_exact_vec(r, u64::from(meta_len)).map_err(broken)?;
            self.pos += u64::from(meta_len);
            let message = arrow_ipc::root_as_message(&meta)
                .map_err(|e| broken(format!("not a message: {e}")))?;
            let body_len = u64::try_from(message.bodyLength())
                .map_err(|_| broken("a negative body length".into()))?;
            let kind = message.header_type();
            if body_len > max_body {
                return Err(broken(format!(
                    "a message body of {body_len} bytes (at most {max_body} in one batch)"
                )));
            }
            let body = read_exact_vec(r, body_len).map_err(broken)?;
            self.pos += body_len;
            let version = message.version();
            match kind {
                MessageHeader::Schema => {
                    let Some(fb) = message.header_as_schema() else {
                        return Err(broken("a schema message without a schema".into()));
                    };
                    if self.schema.is_some() {
                        return Err(broken("a second schema".into()));
                    }
                    let schema = contained(|| arrow_ipc::convert::try_fb_to_schema(fb))
                        .map_err(|p| broken(p.to_string()))?
                        .map_err(|e| broken(e.to_string()))?;
                    self.metadata(&schema);
                    self.projection = schema
                        .fields()
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| field_holds_text(f))
                        .map(|(i, _)| i)
                        .collect();
                    self.schema = Some(Arc::new(schema));
                }
                MessageHeader::DictionaryBatch => {
                    let Some(schema) = self.schema.clone() else {
                        return Err(broken("a dictionary before the schema".into()));
                    };
                    let Some(dict) = message.header_as_dictionary_batch() else {
                        return Err(broken("a dictionary message without a dictionary".into()));
                    };
                    let place = self.origin.child(Segment::Key {
                        path: format!("dictionary {}", dict.id()),
                    });
                    if let Some(sizes) = dict.data()
                        && let Err(why) = check_decompressed(&sizes, &body, max_body)
                    {
                        self.ex.sink.over_budget(&place, why);
                        continue;
                    }
                    let buf = Buffer::from(body);
                    let dictionaries = &mut self.dictionaries;
                    let result = contained(|| {
                        arrow_ipc::reader::read_dictionary(
                            &buf,
                            dict,
                            &schema,
                            dictionaries,
                            &version,
                        )
                    });
                    match result {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => self
                            .ex
                            .sink
                            .error(&place, format!("dictionary unreadable: {e}")),
                        Err(p) => self
                            .ex
                            .sink
                            .error(&place, format!("dictionary unreadable: {p}")),
                    }
                }
                MessageHeader::RecordBatch => {
                    let Some(schema) = self.schema.clone() else {
                        return Err(broken("a record batch before the schema".into()));
                    };
                    let Some(batch) = message.header_as_record_batch() else {
                        return Err(broken("a record batch message without a batch".into()));
                    };
                    let index = self.batch;
                    self.batch += 1;
                    let rows = u64::try_from(batch.length()).unwrap_or(0);
                    let first_row = self.first_row;
                    self.first_row += rows;
                    if self.projection.is_empty() {
                        continue;
                    }
                    let place = self.origin.child(Segment::Batch { index });
                    if let Err(why) = check_decompressed(&batch, &body, max_body) {
                        self.ex.sink.over_budget(&place, why);
                        continue;
                    }
                    self.batch_body(&place, schema, batch, body, version, first_row);
                }
                _ => {}
            }
        }
    }

    /// Decodes one record batch's text columns and scans them.
    fn batch_body(
        &mut self,
        place: &Origin,
        schema: SchemaRef,
        batch: arrow_ipc::RecordBatch<'_>,
        body: Vec<u8>,
        version: MetadataVersion,
        first_row: u64,
    ) {
        let buf = Buffer::from(body);
        let projection = self.projection.as_slice();
        let dictionaries = &self.dictionaries;
        let decoded = contained(|| {
            arrow_ipc::reader::RecordBatchDecoder::try_new(
                &buf,
                batch,
                Arc::clone(&schema),
                dictionaries,
                &version,
            )?
            .with_projection(Some(projection))
            .read_record_batch()
        });
        let why = match decoded {
            Ok(Ok(b)) => return self.scan_batch(place, &b, first_row),
            Ok(Err(e)) => e.to_string(),
            Err(p) => p.to_string(),
        };
        // Nothing is lost: the batch's body is scanned as bytes (its values, when it is not
        // compressed).
        self.ex.sink.error(
            place,
            format!("record batch unreadable ({why}): scanned as bytes"),
        );
        self.ex.leaf(&Data::Owned(buf.as_slice().to_vec()), place);
    }

    /// Scans the text columns of a decoded batch.
    fn scan_batch(&self, place: &Origin, decoded: &arrow_array::RecordBatch, first_row: u64) {
        let mut columns = Columns {
            ex: self.ex,
            origin: self.origin,
            first_row,
            rows: BTreeMap::new(),
        };
        let walked = contained(|| {
            for (field, array) in decoded.schema().fields().iter().zip(decoded.columns()) {
                if columns.ex.sink.stopped() {
                    break;
                }
                columns.walk(array.as_ref(), None, field.name());
            }
        });
        columns.finish();
        if let Err(p) = walked {
            self.ex
                .sink
                .error(place, format!("record batch not read to its end: {p}"));
        }
    }

    /// The schema's key/value metadata, as `› metadata › KEY`.
    fn metadata(&self, schema: &Schema) {
        if schema.metadata().is_empty() {
            return;
        }
        let record = self.origin.child(Segment::Record {
            name: "metadata".into(),
            step: None,
        });
        let mut texts = Texts::new(self.ex);
        for (key, value) in schema.metadata() {
            let o = record.child(Segment::Key { path: key.clone() });
            texts.push(o, b"", value.as_bytes(), b"");
        }
        texts.finish();
    }
}

/// Reads until `buf` is full or the reader ends; how many bytes were read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `len` bytes; past 64 MiB, allocated as they arrive (a length the file lies about costs a
/// short read, not the allocation it asks for).
fn read_exact_vec(r: &mut dyn Read, len: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(usize::try_from(len.min(64 << 20)).unwrap_or(0));
    match r.take(len).read_to_end(&mut out) {
        Ok(n) if n as u64 == len => Ok(out),
        Ok(n) => Err(format!("cut: {n} of {len} bytes")),
        Err(e) => Err(e.to_string()),
    }
}

/// With compression, each buffer starts with its decompressed length: their sum must stay
/// within `max` (a small zstd body can claim, and produce, gigabytes).
fn check_decompressed(
    batch: &arrow_ipc::RecordBatch<'_>,
    body: &[u8],
    max: u64,
) -> Result<(), String> {
    if batch.compression().is_none() {
        return Ok(());
    }
    let mut total = 0u64;
    for b in batch.buffers().into_iter().flatten() {
        let (Ok(off), Ok(len)) = (usize::try_from(b.offset()), usize::try_from(b.length())) else {
            continue;
        };
        if len < 8 {
            continue;
        }
        if let Some(prefix) = body.get(off..off.saturating_add(8)) {
            let n = i64::from_le_bytes(prefix.try_into().unwrap_or([0; 8]));
            total = total.saturating_add(u64::try_from(n).unwrap_or(0));
        }
    }
    if total > max {
        Err(format!(
            "compressed buffers that decompress to {total} bytes (at most {max} in one batch): \
             not decompressed (--max-entry-bytes)"
        ))
    } else {
        Ok(())
    }
}

/// Whether a top-level field can hold text (UUIDs, stored as 16-byte binaries, cannot).
fn field_holds_text(f: &Field) -> bool {
    let uuid = f
        .metadata()
        .get("ARROW:extension:name")
        .is_some_and(|n| n == "arrow.uuid");
    !uuid && holds_text(f.data_type())
}

/// Whether values of `dt` can hold text somewhere inside.
fn holds_text(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => true,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => holds_text(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| holds_text(f.data_type())),
        DataType::Union(fields, _) => fields.iter().any(|(_, f)| holds_text(f.data_type())),
        DataType::Dictionary(_, v) => holds_text(v),
        DataType::RunEndEncoded(_, v) => holds_text(v.data_type()),
        _ => false,
    }
}

/// No row (the element belongs to a null parent).
const NO_ROW: u64 = u64::MAX;

/// The row (in the batch) of element `i`: itself at the top level, else from the map.
fn row_of(map: Option<&[u64]>, i: usize) -> Option<u64> {
    match map {
        None => Some(i as u64),
        Some(m) => m.get(i).copied().filter(|&r| r != NO_ROW),
    }
}

/// The text columns of one batch, by path, each a document of its values.
struct Columns<'w, 'e> {
    ex: &'w Expander<'e>,
    origin: &'w Origin,
    first_row: u64,
    rows: BTreeMap<String, Rows<'w, 'e>>,
}

impl<'w, 'e> Columns<'w, 'e> {
    fn push(&mut self, path: &str, row: u64, value: &[u8]) {
        if !self.rows.contains_key(path) {
            let column = self.origin.child(Segment::Column {
                path: path.to_string(),
            });
            self.rows
                .insert(path.to_string(), Rows::new(self.ex, column));
        }
        if let Some(rows) = self.rows.get_mut(path) {
            rows.push(self.first_row + row, value);
        }
    }

    fn finish(self) {
        for (_, rows) in self.rows {
            rows.finish();
        }
    }

    /// Text values of `array` (and of its children), element `i` in batch row `map[i]`.
    fn walk(&mut self, array: &dyn Array, map: Option<&[u64]>, path: &str) {
        let n = array.len();
        match array.data_type() {
            DataType::Utf8 => {
                let a = array.as_string::<i32>();
                self.leaf(array, map, path, |i| a.value(i).as_bytes());
            }
            DataType::LargeUtf8 => {
                let a = array.as_string::<i64>();
                self.leaf(array, map, path, |i| a.value(i).as_bytes());
            }
            DataType::Utf8View => {
                let a = array.as_string_view();
                self.leaf(array, map, path, |i| a.value(i).as_bytes());
            }
            DataType::Binary => {
                let a = array.as_binary::<i32>();
                self.leaf(array, map, path, |i| a.value(i));
            }
            DataType::LargeBinary => {
                let a = array.as_binary::<i64>();
                self.leaf(array, map, path, |i| a.value(i));
            }
            DataType::BinaryView => {
                let a = array.as_binary_view();
                self.leaf(array, map, path, |i| a.value(i));
            }
            DataType::FixedSizeBinary(_) => {
                let a = array.as_fixed_size_binary();
                self.leaf(array, map, path, |i| a.value(i));
            }
            DataType::List(_) => {
                let a = array.as_list::<i32>();
                let child = spread(a, map, a.offsets().windows(2).map(range32));
                self.walk(a.values().as_ref(), Some(&child), path);
            }
            DataType::LargeList(_) => {
                let a = array.as_list::<i64>();
                let child = spread(a, map, a.offsets().windows(2).map(range64));
                self.walk(a.values().as_ref(), Some(&child), path);
            }
            DataType::ListView(_) => {
                let a = array.as_list_view::<i32>();
                let child = spread(a, map, view_ranges(a));
                self.walk(a.values().as_ref(), Some(&child), path);
            }
            DataType::LargeListView(_) => {
                let a = array.as_list_view::<i64>();
                let child = spread(a, map, view_ranges(a));
                self.walk(a.values().as_ref(), Some(&child), path);
            }
            DataType::FixedSizeList(_, size) => {
                let a = array.as_fixed_size_list();
                let size = usize::try_from(*size).unwrap_or(0);
                let child = spread(a, map, (0..n).map(|i| i * size..(i + 1) * size));
                self.walk(a.values().as_ref(), Some(&child), path);
            }
            DataType::Map(_, _) => {
                let a = array.as_map();
                let child = spread(a, map, a.offsets().windows(2).map(range32));
                let entries = a.entries();
                for (field, column) in entries.fields().iter().zip(entries.columns()) {
                    let p = format!("{path}.{}", field.name());
                    self.walk(column.as_ref(), Some(&child), &p);
                }
            }
            DataType::Struct(_) => {
                let a = array.as_struct();
                // A null struct's fields are not values.
                let own: Vec<u64> = (0..n)
                    .map(|i| {
                        if a.is_valid(i) {
                            row_of(map, i).unwrap_or(NO_ROW)
                        } else {
                            NO_ROW
                        }
                    })
                    .collect();
                for (field, column) in a.fields().iter().zip(a.columns()) {
                    let p = format!("{path}.{}", field.name());
                    self.walk(column.as_ref(), Some(&own), &p);
                }
            }
            DataType::Union(fields, _) => {
                let a = array.as_union();
                for (type_id, field) in fields.iter() {
                    let child = a.child(type_id);
                    let mut m = vec![NO_ROW; child.len()];
                    for i in 0..n {
                        if a.type_id(i) == type_id
                            && let Some(slot) = m.get_mut(a.value_offset(i))
                        {
                            *slot = row_of(map, i).unwrap_or(NO_ROW);
                        }
                    }
                    let p = format!("{path}.{}", field.name());
                    self.walk(child.as_ref(), Some(&m), &p);
                }
            }
            DataType::Dictionary(_, _) => {
                let Some(d) = array.as_any_dictionary_opt() else {
                    return;
                };
                let values = d.values();
                let keys = d.normalized_keys();
                if is_bytes(values.data_type()) {
                    // Each row that holds a value is reported: the value is read per row.
                    let mut m = Vec::with_capacity(n);
                    let mut order = Vec::with_capacity(n);
                    for (i, &k) in keys.iter().enumerate() {
                        if array.is_valid(i)
                            && k < values.len()
                            && let Some(row) = row_of(map, i)
                        {
                            order.push(k);
                            m.push(row);
                        }
                    }
                    self.dictionary_values(values.as_ref(), &order, &m, path);
                } else {
                    // Nested values: each is named by the first row that holds it.
                    let mut m = vec![NO_ROW; values.len()];
                    for (i, &k) in keys.iter().enumerate() {
                        if array.is_valid(i)
                            && let Some(slot) = m.get_mut(k)
                            && *slot == NO_ROW
                        {
                            *slot = row_of(map, i).unwrap_or(NO_ROW);
                        }
                    }
                    self.walk(values.as_ref(), Some(&m), path);
                }
            }
            DataType::RunEndEncoded(ends, _) => {
                let Some(values) = array.as_any_ree_opt().map(|r| r.values().clone()) else {
                    return;
                };
                // A run is named by its first row.
                let starts: Vec<u64> = match ends.data_type() {
                    DataType::Int16 => run_starts(array.as_run_opt::<Int16Type>().map(|r| {
                        r.run_ends()
                            .values()
                            .iter()
                            .map(|&e| i64::from(e))
                            .collect()
                    })),
                    DataType::Int32 => run_starts(array.as_run_opt::<Int32Type>().map(|r| {
                        r.run_ends()
                            .values()
                            .iter()
                            .map(|&e| i64::from(e))
                            .collect()
                    })),
                    DataType::Int64 => run_starts(
                        array
                            .as_run_opt::<Int64Type>()
                            .map(|r| r.run_ends().values().to_vec()),
                    ),
                    _ => Vec::new(),
                };
                let m: Vec<u64> = starts
                    .iter()
                    .map(|&s| {
                        usize::try_from(s)
                            .ok()
                            .and_then(|s| row_of(map, s))
                            .unwrap_or(NO_ROW)
                    })
                    .collect();
                self.walk(values.as_ref(), Some(&m), path);
            }
            _ => {}
        }
    }

    /// Each valid element of a string or binary array, in its row.
    fn leaf<'v>(
        &mut self,
        array: &'v dyn Array,
        map: Option<&[u64]>,
        path: &str,
        value: impl Fn(usize) -> &'v [u8],
    ) {
        for i in 0..array.len() {
            if array.is_valid(i)
                && let Some(row) = row_of(map, i)
            {
                self.push(path, row, value(i));
            }
        }
    }

    /// Values `order[j]` of a dictionary of strings or binaries, in batch rows `rows[j]`.
    fn each<'v>(
        &mut self,
        values: &'v dyn Array,
        order: &[usize],
        rows: &[u64],
        path: &str,
        value: impl Fn(usize) -> &'v [u8],
    ) {
        for (&k, &row) in order.iter().zip(rows) {
            if values.is_valid(k) {
                self.push(path, row, value(k));
            }
        }
    }

    /// Values `order[j]` of a dictionary of strings or binaries, in batch rows `rows[j]`.
    fn dictionary_values(&mut self, values: &dyn Array, order: &[usize], rows: &[u64], path: &str) {
        match values.data_type() {
            DataType::Utf8 => {
                let a = values.as_string::<i32>();
                self.each(values, order, rows, path, |i| a.value(i).as_bytes());
            }
            DataType::LargeUtf8 => {
                let a = values.as_string::<i64>();
                self.each(values, order, rows, path, |i| a.value(i).as_bytes());
            }
            DataType::Utf8View => {
                let a = values.as_string_view();
                self.each(values, order, rows, path, |i| a.value(i).as_bytes());
            }
            DataType::Binary => {
                let a = values.as_binary::<i32>();
                self.each(values, order, rows, path, |i| a.value(i));
            }
            DataType::LargeBinary => {
                let a = values.as_binary::<i64>();
                self.each(values, order, rows, path, |i| a.value(i));
            }
            DataType::BinaryView => {
                let a = values.as_binary_view();
                self.each(values, order, rows, path, |i| a.value(i));
            }
            DataType::FixedSizeBinary(_) => {
                let a = values.as_fixed_size_binary();
                self.each(values, order, rows, path, |i| a.value(i));
            }
            _ => {}
        }
    }
}

/// Whether `dt` is a string or binary layout.
fn is_bytes(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

fn range32(w: &[i32]) -> std::ops::Range<usize> {
    usize::try_from(w[0]).unwrap_or(0)..usize::try_from(w[1]).unwrap_or(0)
}

/// The element ranges of a list view's rows (offset, size); a negative one reads as empty.
fn view_ranges<O: OffsetSizeTrait>(
    a: &GenericListViewArray<O>,
) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    a.offsets().iter().zip(a.sizes().iter()).map(|(o, s)| {
        let o = o.to_usize().unwrap_or(0);
        o..o.saturating_add(s.to_usize().unwrap_or(0))
    })
}

fn range64(w: &[i64]) -> std::ops::Range<usize> {
    usize::try_from(w[0]).unwrap_or(0)..usize::try_from(w[1]).unwrap_or(0)
}

/// The rows of a list's child elements: element `k` in the row of the list that holds it.
fn spread(
    list: &dyn Array,
    map: Option<&[u64]>,
    ranges: impl Iterator<Item = std::ops::Range<usize>>,
) -> Vec<u64> {
    let child_len = match list.data_type() {
        DataType::List(_) => list.as_list::<i32>().values().len(),
        DataType::LargeList(_) => list.as_list::<i64>().values().len(),
        DataType::ListView(_) => list.as_list_view::<i32>().values().len(),
        DataType::LargeListView(_) => list.as_list_view::<i64>().values().len(),
        DataType::FixedSizeList(_, _) => list.as_fixed_size_list().values().len(),
        DataType::Map(_, _) => list.as_map().entries().len(),
        _ => 0,
    };
    let mut m = vec![NO_ROW; child_len];
    for (i, r) in ranges.enumerate() {
        if !list.is_valid(i) {
            continue;
        }
        let Some(row) = row_of(map, i) else { continue };
        let end = r.end.min(child_len);
        if let Some(slots) = m.get_mut(r.start.min(end)..end) {
            slots.fill(row);
        }
    }
    m
}

/// The first element of each run, from the runs' ends.
fn run_starts(ends: Option<Vec<i64>>) -> Vec<u64> {
    let mut prev = 0i64;
    ends.unwrap_or_default()
        .into_iter()
        .map(|e| {
            let s = prev;
            prev = e;
            u64::try_from(s).unwrap_or(NO_ROW)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_recognised_by_their_schema_message_or_name() {
        assert!(is_arrow(b"ARROW1\0\0", "x"));
        // A marker and a length, the message not in the head: the name decides.
        let mut head = CONTINUATION.to_vec();
        head.extend(4096u32.to_le_bytes());
        head.extend([0u8; 100]);
        assert!(is_arrow(&head, "data.arrows"));
        assert!(!is_arrow(&head, "data.bin"));
        // A message that fits in the head but is no schema.
        let mut head = CONTINUATION.to_vec();
        head.extend(16u32.to_le_bytes());
        head.extend([0u8; 16]);
        assert!(!is_arrow(&head, "data.bin"));
        assert!(!is_arrow(b"\xff\xff\xff\xff\x00\x00\x00\x00", "data.arrow"));
    }

    #[test]
    fn run_starts_follow_run_ends() {
        assert_eq!(run_starts(Some(vec![3, 5, 9])), [0, 3, 5]);
        assert_eq!(run_starts(None), Vec::<u64>::new());
    }
}

//! Expansion: a container blob becomes named child blobs, streamed and bounded.
//!
//! [`Expander::blob`] looks at a blob's first bytes (magic numbers first, the name second;
//! [`sniff`]) and either scans it as a leaf or opens it: a compressed stream is decompressed
//! ([`compress`]: gzip, zstd, bzip2, xz), an archive is walked entry by entry ([`archive`]), a tensor file is scanned
//! only where text can be ([`tensor`]). Children get a longer [`Origin`] and go through the same
//! dispatch, so a zip inside a tar.gz inside an image layer is found and named.
//!
//! ML artifacts are parsed rather than scanned as bytes: notebooks cell by cell
//! ([`notebook`]), pickles and PyTorch checkpoints string by string with key paths
//! ([`pickle`]), safetensors, GGUF and ONNX metadata with tensor data skipped ([`tensor`],
//! [`gguf`], [`onnx`]). Their many small texts are scanned together ([`texts`]).
//!
//! Leaves are scanned by the engine. Text that holds ANSI escape codes is scanned with the
//! codes removed ([`crate::view::ansi`]), UTF-16 text as UTF-8 ([`crate::view::utf16`]),
//! offsets still pointing at the original bytes. The
//! stream of `ferret scan -` reports each finding as soon as its line has arrived: when stdin
//! has nothing more to read for the moment, the complete lines received are scanned at once
//! ([`StreamScanner::flush_lines`]).
//!
//! Nothing is extracted to disk. Random-access data (a mapped file, an entry in memory) is
//! expanded with zero-copy slices and its entries are scanned in parallel on the rayon pool;
//! a stream (stdin, a decompressor) is expanded as it is read: small entries are buffered and
//! scanned in parallel while the stream goes on, large ones are scanned as streams. Every size
//! the input controls is bounded by a [`Budget`]; what hits a budget is reported through the
//! [`Sink`], and what was found before is kept.

pub mod archive;
pub mod arrow;
pub mod compress;
pub mod contain;
pub mod cursor;
pub mod gguf;
pub mod image;
pub mod json_text;
pub mod limits;
pub mod notebook;
pub mod onnx;
pub mod parquet;
pub mod pickle;
pub mod protobuf;
pub mod rows;
pub mod tensor;
#[cfg(test)]
mod testkit;
pub mod texts;
pub mod tfevents;
pub mod wandb;

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use crate::blob::{Data, Origin, Segment};
use crate::engine::{self, StreamScanner};
use crate::finding::Finding;
use crate::matcher::{Matcher, Scratch};
use crate::summary::WarningKind;
use crate::view::{Remap, ansi, utf16};
pub use limits::{Budget, Limit, Tracker};

/// What a blob is, as far as expansion cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// gzip (`1f 8b`).
    Gzip,
    /// Zstandard (`28 b5 2f fd`).
    Zstd,
    /// bzip2 (`BZh1`..`BZh9`, then a block or end-of-stream magic).
    Bzip2,
    /// xz (`fd 37 7a 58 5a 00`).
    Xz,
    /// A POSIX/GNU tar archive (`ustar` at offset 257, or a `.tar` name with a valid header).
    Tar,
    /// A zip archive, also `.whl`, `.jar`, `.nupkg` and PyTorch checkpoints (`PK\x03\x04`).
    Zip,
    /// A safetensors file: a JSON header, then raw tensor bytes.
    Safetensors,
    /// A NumPy `.npy` array: a header, then raw numbers.
    Npy,
    /// A GGUF model (`GGUF`): a metadata header, then tensors.
    Gguf,
    /// A Python pickle (`\x80` and a protocol of 2 to 5, or a `.pkl`/`.pt`/`.joblib` name),
    /// also a legacy PyTorch checkpoint.
    Pickle,
    /// A Jupyter notebook (`.ipynb`, or JSON that starts with `cells` or `nbformat`).
    Notebook,
    /// An ONNX model (`.onnx`, or a protobuf that starts like a `ModelProto`).
    Onnx,
    /// A W&B run file (`run-ID.wandb`, `:W&B`): a log of protobuf records.
    Wandb,
    /// A TFRecord file (TensorBoard's `events.out.tfevents.*`): checksummed protobuf events.
    TfEvents,
    /// A Parquet file (`PAR1`): row groups of compressed column pages.
    Parquet,
    /// An Arrow IPC file (`ARROW1`, Feather v2) or stream: record batches of columns.
    Arrow,
    /// Anything else: scanned as bytes.
    Other,
}

/// Recognises a format from the first bytes (at least 512 when the blob has them) and the name.
pub fn sniff(head: &[u8], name: &str) -> Format {
    let lower = name.to_ascii_lowercase();
    if head.starts_with(&[0x1f, 0x8b]) {
        return Format::Gzip;
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Format::Zstd;
    }
    if is_bzip2(head) {
        return Format::Bzip2;
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        return Format::Xz;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Format::Zip;
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Format::Tar;
    }
    if lower.ends_with(".tar") && archive::is_tar_header(head) {
        return Format::Tar;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Format::Npy;
    }
    if tensor::safetensors_header_len(head).is_some() {
        return Format::Safetensors;
    }
    if gguf::is_gguf(head) {
        return Format::Gguf;
    }
    if parquet::is_parquet(head) {
        return Format::Parquet;
    }
    if arrow::is_arrow(head, name) {
        return Format::Arrow;
    }
    if wandb::is_wandb(head) {
        return Format::Wandb;
    }
    if tfevents::is_tfrecord(head) {
        return Format::TfEvents;
    }
    if pickle::is_pickle(head, name) {
        return Format::Pickle;
    }
    if notebook::is_notebook(head, name) {
        return Format::Notebook;
    }
    if onnx::is_onnx(head, name) {
        return Format::Onnx;
    }
    Format::Other
}

/// `BZh` and a block size digit, then the magic of a block (the digits of pi) or of the end of
/// the stream (of its square root): five bytes of magic alone would match text like "BZh9".
fn is_bzip2(head: &[u8]) -> bool {
    const BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    const END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
    head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == BLOCK || head[4..10] == END)
}

/// Where expansion sends findings and warnings. Called from several threads at once.
pub trait Sink: Sync {
    /// A finding. Returns false when the scan should stop (the reader went away).
    fn finding(&self, finding: Finding) -> bool;
    /// A blob's findings, in order: one call instead of one per finding (a dump of
    /// passwords holds a few hundred thousand). Returns false when the scan should stop.
    fn findings(&self, findings: Vec<Finding>) -> bool {
        findings.into_iter().all(|f| self.finding(f))
    }
    /// A per-item problem: an error (not read, or not completely) or a deliberate skip (a
    /// budget, a special file). Callers say which with [`Sink::error`] or [`Sink::skipped`].
    fn warn(&self, origin: &Origin, kind: WarningKind, message: String);
    /// `origin` could not be read or scanned completely.
    fn error(&self, origin: &Origin, message: String) {
        self.warn(origin, WarningKind::Error, message);
    }
    /// `origin` (or part of it) was not scanned on purpose: a budget, a special file. A
    /// message that names a budget's flag (`--max-depth 12`, [`limits::Limit`]'s messages) is
    /// a [`WarningKind::Budget`] skip.
    fn skipped(&self, origin: &Origin, message: String) {
        let kind = if crate::summary::names_budget(&message) {
            WarningKind::Budget
        } else {
            WarningKind::Skipped
        };
        self.warn(origin, kind, message);
    }
    /// `origin` (or part of it) was not scanned because a budget was hit: a skip that makes a
    /// scan without failing findings exit 2.
    fn over_budget(&self, origin: &Origin, message: String) {
        self.warn(origin, WarningKind::Budget, message);
    }
    /// Bytes that went through the matcher.
    fn scanned(&self, bytes: u64);
    /// Whether the scan should stop.
    fn stopped(&self) -> bool {
        false
    }
}

/// Scratch spaces shared by the threads of a scan: taken for one blob, given back after.
#[derive(Debug, Default)]
pub struct ScratchPool {
    free: Mutex<Vec<(Scratch, Vec<u8>)>>,
}

impl ScratchPool {
    fn with<T>(&self, matcher: &Matcher, f: impl FnOnce(&mut Scratch, &mut Vec<u8>) -> T) -> T {
        let taken = self.free.lock().ok().and_then(|mut v| v.pop());
        let (mut scratch, mut buf) = taken.unwrap_or_else(|| (matcher.scratch(), Vec::new()));
        let out = f(&mut scratch, &mut buf);
        if buf.capacity() > 16 << 20 {
            buf = Vec::new();
        }
        if let Ok(mut v) = self.free.lock() {
            v.push((scratch, buf));
        }
        out
    }
}

/// Opens containers and scans leaves, for one scan.
pub struct Expander<'a> {
    /// The rules.
    pub matcher: &'a Matcher,
    /// Where results go.
    pub sink: &'a dyn Sink,
    /// Limits.
    pub budget: Budget,
    /// Chunk size for large leaves.
    pub chunk_size: u64,
    /// Scratch spaces, shared with the expanders made by [`Expander::with_sink`].
    pub pool: Arc<ScratchPool>,
}

impl<'a> Expander<'a> {
    /// An expander with the default budget and chunk size.
    pub fn new(matcher: &'a Matcher, sink: &'a dyn Sink) -> Expander<'a> {
        Expander {
            matcher,
            sink,
            budget: Budget::default(),
            chunk_size: crate::blob::chunk::DEFAULT_CHUNK_SIZE,
            pool: Arc::default(),
        }
    }

    /// The same expander (rules, budget, chunk size, scratch spaces) sending its results to
    /// `sink` instead: a wrapper that holds or filters one item's findings.
    pub fn with_sink<'b>(&'b self, sink: &'b dyn Sink) -> Expander<'b> {
        Expander {
            matcher: self.matcher,
            sink,
            budget: self.budget,
            chunk_size: self.chunk_size,
            pool: Arc::clone(&self.pool),
        }
    }

    /// Scans a top-level input (a file) with a fresh budget tracker.
    pub fn input(&self, data: Arc<Data>, origin: Origin) {
        self.blob(data, origin, &Tracker::new(), 0);
    }

    /// Scans a top-level stream (stdin) with a fresh budget tracker.
    pub fn input_stream(&self, reader: &mut dyn Read, origin: Origin) {
        self.stream(reader, origin, &Tracker::new(), 0);
    }

    /// Expands or scans random-access data. `depth` is how many containers enclose it.
    pub fn blob(&self, data: Arc<Data>, origin: Origin, tracker: &Arc<Tracker>, depth: usize) {
        if self.sink.stopped() {
            return;
        }
        let mut head_buf = Vec::new();
        let head = match data.range(0..512, &mut head_buf) {
            Ok(h) => h.to_vec(),
            Err(e) => return self.sink.error(&origin, e.to_string()),
        };
        let format = sniff(&head, origin.name());
        if format != Format::Other && depth >= self.budget.max_depth {
            self.sink
                .skipped(&origin, Limit::Depth(self.budget.max_depth).to_string());
            return self.leaf(&data, &origin);
        }
        match format {
            Format::Gzip | Format::Zstd | Format::Bzip2 | Format::Xz => {
                compress::compressed_blob(self, format, data, origin, tracker, depth + 1)
            }
            Format::Tar => self.tar(data, origin, tracker, depth + 1),
            Format::Zip => archive::zip_blob(self, data, origin, tracker, depth + 1),
            Format::Safetensors => {
                let end = tensor::text_prefix(format, &head, data.len());
                let mut buf = Vec::new();
                match data.range(8..end, &mut buf) {
                    Ok(header) => tensor::safetensors_header(self, header, &origin),
                    Err(e) => self.sink.error(&origin, e.to_string()),
                }
            }
            Format::Npy => {
                let end = tensor::text_prefix(format, &head, data.len());
                self.leaf(&Arc::new(data.slice(0..end)), &origin);
            }
            Format::Gguf => {
                let len = data.len();
                let mut reader = io::BufReader::new(crate::blob::reader::DataReader::new(data));
                gguf::scan(self, &mut reader, len, &origin);
            }
            Format::Pickle => pickle::pickle_blob(self, data, origin),
            Format::Notebook => notebook::notebook_blob(self, data, origin),
            Format::Onnx => onnx::onnx_blob(self, data, origin),
            Format::Wandb => wandb::wandb_blob(self, data, origin),
            Format::TfEvents => tfevents::tfevents_blob(self, data, origin),
            Format::Parquet => parquet::parquet_blob(self, data, origin),
            Format::Arrow => arrow::arrow_blob(self, data, origin),
            Format::Other => self.leaf(&data, &origin),
        }
    }

    /// A tar in random-access data: a container image (a `docker save` tarball, an OCI layout
    /// in a tar) is opened as one ([`image::tar_image`]), any other tar as an archive whose
    /// members are zero-copy slices scanned in parallel.
    fn tar(&self, data: Arc<Data>, origin: Origin, tracker: &Arc<Tracker>, depth: usize) {
        let members = archive::members(self, &data, &origin, tracker);
        if !image::tar_image(self, &data, &origin, &members, tracker, depth) {
            archive::scan_members(
                self,
                &data,
                &origin,
                &members,
                tracker,
                depth,
                &archive::keep_all,
            );
        }
    }

    /// A tar read from a stream: an image tarball (`docker save | gzip`) is recognised by its
    /// first member's name, since its manifest only comes at the end, and read in one pass
    /// ([`image::tar_stream_image`]); any other tar is expanded as an archive.
    fn tar_stream(
        &self,
        reader: &mut dyn Read,
        origin: Origin,
        tracker: &Arc<Tracker>,
        depth: usize,
    ) {
        let mut head = Vec::with_capacity(512);
        if let Err(e) = reader.take(512).read_to_end(&mut head) {
            return self.read_error(&origin, &e);
        }
        let image_start = head.len() == 512
            && image::looks_like_image_start(&tar::Header::from_byte_slice(&head).path_bytes());
        let mut chained = io::Cursor::new(head).chain(reader);
        if image_start {
            image::tar_stream_image(self, &mut chained, origin, tracker, depth);
        } else {
            archive::tar_stream_with(
                self,
                &mut chained,
                origin,
                tracker,
                depth,
                &archive::keep_all,
            );
        }
    }

    /// Expands or scans a stream, reading it once.
    pub fn stream(
        &self,
        reader: &mut dyn Read,
        origin: Origin,
        tracker: &Arc<Tracker>,
        depth: usize,
    ) {
        if self.sink.stopped() {
            return;
        }
        // A live stdin is sniffed from what has arrived: waiting for 512 bytes would hold back
        // the first lines of a slow log.
        let live = depth == 0 && matches!(origin.segment(), Segment::Stdin);
        let head = match read_head(reader, live) {
            Ok(h) => h,
            Err(e) => return self.read_error(&origin, &e),
        };
        let mut chained = io::Cursor::new(head.clone()).chain(reader);
        let format = sniff(&head, origin.name());
        if format != Format::Other && depth >= self.budget.max_depth {
            self.sink
                .skipped(&origin, Limit::Depth(self.budget.max_depth).to_string());
            return self.leaf_stream(&mut chained, &origin);
        }
        match format {
            Format::Gzip | Format::Zstd | Format::Bzip2 | Format::Xz => {
                compress::compressed_stream(self, format, &mut chained, origin, tracker, depth + 1)
            }
            Format::Tar => self.tar_stream(&mut chained, origin, tracker, depth + 1),
            Format::Zip
            | Format::Pickle
            | Format::Notebook
            | Format::Onnx
            | Format::Wandb
            | Format::TfEvents
            | Format::Parquet
            | Format::Arrow => {
                // A zip's directory is at its end, and these formats are parsed from random
                // access: buffer the stream (within budget) and expand it as data.
                let limit = self.budget.max_in_memory;
                let mut buf = Vec::new();
                match (&mut chained).take(limit + 1).read_to_end(&mut buf) {
                    Ok(_) if buf.len() as u64 <= limit => {
                        self.blob(Arc::new(Data::Owned(buf)), origin, tracker, depth)
                    }
                    Ok(_) => {
                        let what = match format {
                            Format::Zip => "zip",
                            Format::Pickle => "pickle",
                            Format::Notebook => "notebook",
                            Format::Wandb => "W&B run file",
                            Format::TfEvents => "TensorBoard event file",
                            Format::Parquet => "Parquet file",
                            Format::Arrow => "Arrow IPC file",
                            _ => "ONNX model",
                        };
                        self.sink.skipped(
                            &origin,
                            format!(
                                "{what} inside a stream is larger than {limit} bytes: scanned as bytes, not expanded"
                            ));
                        let mut rest = io::Cursor::new(buf).chain(chained);
                        self.leaf_stream(&mut rest, &origin);
                    }
                    Err(e) => self.read_error(&origin, &e),
                }
            }
            Format::Safetensors => {
                let end = tensor::text_prefix(format, &head, u64::MAX);
                let mut header = Vec::new();
                match (&mut chained).take(end).read_to_end(&mut header) {
                    Ok(_) => {
                        let json = header.get(8..).unwrap_or_default();
                        tensor::safetensors_header(self, json, &origin);
                    }
                    Err(e) => self.read_error(&origin, &e),
                }
                // Drain the tensor bytes so an enclosing archive can go on to its next entry.
                let _ = io::copy(&mut chained, &mut io::sink());
            }
            Format::Npy => {
                let end = tensor::text_prefix(format, &head, u64::MAX);
                self.leaf_stream(&mut (&mut chained).take(end), &origin);
                let _ = io::copy(&mut chained, &mut io::sink());
            }
            Format::Gguf => {
                gguf::scan(self, &mut chained, u64::MAX, &origin);
                let _ = io::copy(&mut chained, &mut io::sink());
            }
            Format::Other => self.leaf_stream(&mut chained, &origin),
        }
    }

    /// Scans random-access bytes with the matcher (with ANSI escape codes removed when the
    /// bytes hold any).
    pub fn leaf(&self, data: &Data, origin: &Origin) {
        self.leaf_after(data, origin, 0);
    }

    /// [`Expander::leaf`], reporting only findings that start at or after `from` (what a parser
    /// could not read, with positions in the whole data).
    pub fn leaf_after(&self, data: &Data, origin: &Origin, from: u64) {
        let len = data.len();
        // Data in memory or mapped is checked whole for ESC (one memchr pass); large data and
        // files read by ranges by their first MiB (a coloured log is coloured from the start),
        // so that a plain log keeps its parallel chunked scan and is read once.
        let probe = if len <= self.budget.max_in_memory && data.as_slice().is_some() {
            len
        } else {
            len.min(ANSI_PROBE)
        };
        let mut buf = Vec::new();
        let head = match data.range(0..probe, &mut buf) {
            Ok(h) if len <= self.budget.max_in_memory && utf16::detect(h).is_some() => {
                return self.leaf_utf16(data, origin, from);
            }
            Ok(h) if ansi::is_coloured_text(h) => h,
            _ => return self.scan_leaf(data, origin, None, from),
        };
        if len > self.budget.max_in_memory {
            // Too large to copy: one pass as a stream, the codes removed on the way.
            let mut reader = Ranges {
                data,
                pos: 0,
                buf: Vec::new(),
            };
            return self.leaf_stream(&mut reader, origin);
        }
        let mut whole = Vec::new();
        let all = if probe < len {
            match data.range(0..len, &mut whole) {
                Ok(all) => all,
                Err(_) => return self.scan_leaf(data, origin, None, from),
            }
        } else {
            head
        };
        match ansi::strip(all) {
            Some(stripped) => {
                let text = Data::Owned(stripped.text);
                self.scan_leaf(&text, origin, Some(&stripped.map), from);
            }
            None => self.scan_leaf(data, origin, None, from),
        }
    }

    /// Scans UTF-16 text (no larger than the in-memory budget) read as UTF-8, positions in
    /// the UTF-16 bytes ([`utf16`]).
    fn leaf_utf16(&self, data: &Data, origin: &Origin, from: u64) {
        let mut whole = Vec::new();
        let transcoded = match data.range(0..data.len(), &mut whole) {
            Ok(all) => utf16::detect(all).map(|how| utf16::transcode(all, how)),
            Err(_) => None,
        };
        match transcoded {
            Some(t) => {
                let text = Data::Owned(t.text);
                self.scan_leaf(&text, origin, Some(&t.map), from);
            }
            None => self.scan_leaf(data, origin, None, from),
        }
    }

    /// Scans `data`; `map` turns its offsets back into those of the original bytes; findings
    /// before `from` are dropped.
    fn scan_leaf(&self, data: &Data, origin: &Origin, map: Option<&dyn Remap>, from: u64) {
        let result = self.pool.with(self.matcher, |scratch, buf| {
            engine::scan_data_until(
                self.matcher,
                data,
                origin,
                self.chunk_size,
                scratch,
                buf,
                &|| self.sink.stopped(),
            )
        });
        self.sink.scanned(result.bytes);
        let mut findings = result.findings;
        if let Some(map) = map {
            findings.iter_mut().for_each(|f| unstrip(f, map));
        }
        findings.retain(|f| f.offset >= from);
        if !findings.is_empty() && !self.sink.findings(findings) {
            return;
        }
        if let Some(e) = result.error {
            self.sink.error(origin, e.to_string());
        }
    }

    /// Scans a stream with the matcher, reporting findings as soon as they are final. Once
    /// an ESC byte is seen, ANSI escape codes are removed from the rest of the stream.
    ///
    /// The top-level stdin stream is *live* (`kubectl logs -f | ferret scan -`): whenever it
    /// has no more bytes ready, the complete lines received so far are scanned at once, so a
    /// finding is reported as soon as its line has arrived ([`StreamScanner::flush_lines`]).
    pub fn leaf_stream(&self, reader: &mut dyn Read, origin: &Origin) {
        let live = matches!(origin.segment(), Segment::Stdin);
        let stopped = || self.sink.stopped();
        let mut scanner =
            StreamScanner::new(self.matcher, origin.clone(), self.chunk_size as usize)
                .until(&stopped);
        let mut block = vec![0u8; 256 * 1024];
        let mut ansi: Option<(ansi::Stripper, ansi::OffsetMap, Vec<u8>)> = None;
        let mut failed = None;
        let emit = |found: Vec<Finding>, map: Option<&ansi::OffsetMap>| {
            for mut f in found {
                if let Some(map) = map {
                    unstrip(&mut f, map);
                }
                if !self.sink.finding(f) {
                    return false;
                }
            }
            true
        };
        loop {
            if self.sink.stopped() {
                return;
            }
            match reader.read(&mut block) {
                Ok(0) => break,
                Ok(n) => {
                    let bytes = &block[..n];
                    if ansi.is_none() && ansi::is_coloured_text(bytes) {
                        ansi = Some(Default::default());
                    }
                    let found = match &mut ansi {
                        Some((stripper, map, out)) => {
                            out.clear();
                            stripper.feed(bytes, out, map);
                            scanner.push(out)
                        }
                        None => scanner.push(bytes),
                    };
                    let map = ansi.as_ref().map(|a| &a.1);
                    if !emit(found, map) {
                        return;
                    }
                    if live && !stdin_ready() && !emit(scanner.flush_lines(), map) {
                        return;
                    }
                    if let Some((_, map, _)) = &mut ansi {
                        map.forget_before(scanner.retained_from());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some((stripper, map, out)) = &mut ansi {
            out.clear();
            stripper.finish(out);
            if !emit(scanner.push(out), Some(map)) {
                return;
            }
        }
        self.sink.scanned(scanner.len());
        if !emit(scanner.finish(), ansi.as_ref().map(|a| &a.1)) {
            return;
        }
        if let Some(e) = failed {
            self.read_error(origin, &e);
        }
    }

    /// Reports a read error: a budget as a skip, anything else as an error.
    pub fn read_error(&self, origin: &Origin, e: &io::Error) {
        match Limit::from_io(e) {
            Some(limit) => self.sink.skipped(origin, limit.to_string()),
            None => self.sink.error(origin, e.to_string()),
        }
    }
}

/// The first 512 bytes of a stream (fewer at its end), or, on a live stdin, what has arrived
/// when it pauses.
fn read_head(reader: &mut dyn Read, live: bool) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; 512];
    let mut n = 0;
    while n < head.len() {
        match reader.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                if live && !stdin_ready() {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    Ok(head)
}

/// Bytes of a large leaf looked at for an ESC byte (1 MiB).
const ANSI_PROBE: u64 = 1 << 20;

/// Moves a finding made in ANSI-stripped text back onto the original bytes. Lines are the
/// same in both; columns stay those of the text a person sees.
fn unstrip(f: &mut Finding, map: &dyn Remap) {
    (f.offset, f.end_offset) = map.original(f.offset, f.end_offset);
}

/// Whether stdin has bytes ready to read now (or is not something that can be waited on, such
/// as a regular file).
pub fn stdin_ready() -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = io::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match poll(&mut fds, Some(&zero)) {
        Ok(n) => n > 0,
        Err(_) => true,
    }
}

/// `Read` over any data by ranges (a mapped, owned or range-read file).
struct Ranges<'d> {
    data: &'d Data,
    pos: u64,
    buf: Vec<u8>,
}

impl Read for Ranges<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let end = self.pos.saturating_add(out.len() as u64);
        let bytes = self.data.range(self.pos..end, &mut self.buf)?;
        let n = bytes.len();
        out[..n].copy_from_slice(bytes);
        self.pos += n as u64;
        Ok(n)
    }
}

/// The origin of a decompressed leaf: the stream's origin plus a `Decompressed` segment.
pub fn decompressed(origin: &Origin, format: &str) -> Origin {
    origin.child(Segment::Decompressed {
        format: format.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_by_magic_then_name() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00", "x.bin"), Format::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest", "model.pt"), Format::Zip);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar, "layer"), Format::Tar);
        assert_eq!(sniff(b"\x93NUMPY\x01\x00", "a"), Format::Npy);
        assert_eq!(
            sniff(b"BZh91AY&SY\x00\x00", "x"),
            Format::Bzip2,
            "a bzip2 block header"
        );
        assert_eq!(sniff(b"BZh9 is not bzip2", "x"), Format::Other);
        assert_eq!(sniff(b"\xfd7zXZ\x00\x00\x04", "x"), Format::Xz);
        assert_eq!(sniff(b"hello world", "notes.tar"), Format::Other);
        let mut st = 20u64.to_le_bytes().to_vec();
        st.extend_from_slice(b"{\"__metadata__\":{}} ");
        assert_eq!(sniff(&st, "m.safetensors"), Format::Safetensors);
    }
}

//! Expansion: a container blob becomes named child blobs, streamed and bounded.
//!
//! [`Expander::blob`] looks at a blob's first bytes (magic numbers first, the name second;
//! [`sniff`]) and either scans it as a leaf or opens it: a compressed stream is decompressed
//! ([`compress`]: gzip, zstd, bzip2, xz), an archive is walked entry by entry ([`archive`]), a tensor file is scanned
//! only where text can be ([`tensor`]). Children get a longer [`Origin`] and go through the same
//! dispatch, so a zip inside a tar.gz inside an image layer is found and named.
//!
//! Nothing is extracted to disk. Random-access data (a mapped file, an entry in memory) is
//! expanded with zero-copy slices and its entries are scanned in parallel on the rayon pool;
//! a stream (stdin, a decompressor) is expanded as it is read: small entries are buffered and
//! scanned in parallel while the stream goes on, large ones are scanned as streams. Every size
//! the input controls is bounded by a [`Budget`]; what hits a budget is reported through the
//! [`Sink`], and what was found before is kept.

pub mod archive;
pub mod compress;
pub mod image;
pub mod limits;
pub mod tensor;

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use crate::blob::{Data, Origin, Segment};
use crate::engine::{self, StreamScanner};
use crate::finding::Finding;
use crate::matcher::{Matcher, Scratch};
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
    /// A per-item problem: `skipped` for budgets and deliberate skips, otherwise an error.
    fn warning(&self, origin: &Origin, skipped: bool, message: String);
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
    /// Per-thread scratch.
    pub pool: ScratchPool,
}

impl<'a> Expander<'a> {
    /// An expander with the default budget and chunk size.
    pub fn new(matcher: &'a Matcher, sink: &'a dyn Sink) -> Expander<'a> {
        Expander {
            matcher,
            sink,
            budget: Budget::default(),
            chunk_size: crate::blob::chunk::DEFAULT_CHUNK_SIZE,
            pool: ScratchPool::default(),
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
            Err(e) => return self.sink.warning(&origin, false, e.to_string()),
        };
        let format = sniff(&head, origin.name());
        if format != Format::Other && depth >= self.budget.max_depth {
            self.sink.warning(
                &origin,
                true,
                Limit::Depth(self.budget.max_depth).to_string(),
            );
            return self.leaf(&data, &origin);
        }
        match format {
            Format::Gzip | Format::Zstd | Format::Bzip2 | Format::Xz => {
                compress::compressed_blob(self, format, data, origin, tracker, depth + 1)
            }
            Format::Tar => archive::tar_blob(self, data, origin, tracker, depth + 1),
            Format::Zip => archive::zip_blob(self, data, origin, tracker, depth + 1),
            Format::Safetensors | Format::Npy => {
                let end = tensor::text_prefix(format, &head, data.len());
                self.leaf(&Arc::new(data.slice(0..end)), &origin);
            }
            Format::Other => self.leaf(&data, &origin),
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
        let mut head = Vec::with_capacity(512);
        if let Err(e) = reader.take(512).read_to_end(&mut head) {
            return self.read_error(&origin, &e);
        }
        let mut chained = io::Cursor::new(head.clone()).chain(reader);
        let format = sniff(&head, origin.name());
        if format != Format::Other && depth >= self.budget.max_depth {
            self.sink.warning(
                &origin,
                true,
                Limit::Depth(self.budget.max_depth).to_string(),
            );
            return self.leaf_stream(&mut chained, &origin);
        }
        match format {
            Format::Gzip | Format::Zstd | Format::Bzip2 | Format::Xz => {
                compress::compressed_stream(self, format, &mut chained, origin, tracker, depth + 1)
            }
            Format::Tar => archive::tar_stream(self, &mut chained, origin, tracker, depth + 1),
            Format::Zip => {
                // A zip's directory is at its end: buffer it (within budget) to expand it.
                let limit = self.budget.max_in_memory;
                let mut buf = Vec::new();
                match (&mut chained).take(limit + 1).read_to_end(&mut buf) {
                    Ok(_) if buf.len() as u64 <= limit => archive::zip_blob(
                        self,
                        Arc::new(Data::Owned(buf)),
                        origin,
                        tracker,
                        depth + 1,
                    ),
                    Ok(_) => {
                        self.sink.warning(
                            &origin,
                            true,
                            format!(
                                "zip inside a stream is larger than {limit} bytes: scanned as bytes, not expanded"
                            ),
                        );
                        let mut rest = io::Cursor::new(buf).chain(chained);
                        self.leaf_stream(&mut rest, &origin);
                    }
                    Err(e) => self.read_error(&origin, &e),
                }
            }
            Format::Safetensors | Format::Npy => {
                let end = tensor::text_prefix(format, &head, u64::MAX);
                self.leaf_stream(&mut (&mut chained).take(end), &origin);
                // Drain the tensor bytes so an enclosing archive can go on to its next entry.
                let _ = io::copy(&mut chained, &mut io::sink());
            }
            Format::Other => self.leaf_stream(&mut chained, &origin),
        }
    }

    /// Scans random-access bytes with the matcher.
    pub fn leaf(&self, data: &Data, origin: &Origin) {
        let result = self.pool.with(self.matcher, |scratch, buf| {
            engine::scan_data(self.matcher, data, origin, self.chunk_size, scratch, buf)
        });
        self.sink.scanned(result.bytes);
        for f in result.findings {
            if !self.sink.finding(f) {
                return;
            }
        }
        if let Some(e) = result.error {
            self.sink.warning(origin, false, e.to_string());
        }
    }

    /// Scans a stream with the matcher, reporting findings as soon as they are final.
    pub fn leaf_stream(&self, reader: &mut dyn Read, origin: &Origin) {
        let mut scanner =
            StreamScanner::new(self.matcher, origin.clone(), self.chunk_size as usize);
        let mut block = vec![0u8; 256 * 1024];
        let mut failed = None;
        loop {
            if self.sink.stopped() {
                return;
            }
            match reader.read(&mut block) {
                Ok(0) => break,
                Ok(n) => {
                    for f in scanner.push(&block[..n]) {
                        if !self.sink.finding(f) {
                            return;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        self.sink.scanned(scanner.len());
        for f in scanner.finish() {
            if !self.sink.finding(f) {
                return;
            }
        }
        if let Some(e) = failed {
            self.read_error(origin, &e);
        }
    }

    /// Reports a read error: a budget as a skip, anything else as an error.
    pub fn read_error(&self, origin: &Origin, e: &io::Error) {
        match Limit::from_io(e) {
            Some(limit) => self.sink.warning(origin, true, limit.to_string()),
            None => self.sink.warning(origin, false, e.to_string()),
        }
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

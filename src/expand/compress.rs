//! Compressed streams: decompressed as they are read, under the ratio and size budgets.
//!
//! The decompressed content goes back through the expander's dispatch: a `.tar.gz` becomes a tar
//! stream whose entries are named after the tar (no extra origin segment), and a `.log.gz` is
//! scanned as text under a `(gzip)` segment, with lines counted in the decompressed text. A
//! truncated or corrupt stream keeps the findings made before the damage and warns.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use flate2::read::MultiGzDecoder;

use super::limits::{Counting, Guard, Tracker};
use super::{Expander, Format, decompressed, sniff};
use crate::blob::reader::DataReader;
use crate::blob::{Data, Origin};

/// Decompresses random-access gzip data.
pub fn gzip_blob(
    ex: &Expander<'_>,
    data: Arc<Data>,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut reader = DataReader::new(data);
    gzip_stream(ex, &mut reader, origin, tracker, depth);
}

/// Decompresses a gzip stream (several concatenated members are one stream, as `zcat` reads
/// them).
pub fn gzip_stream(
    ex: &Expander<'_>,
    reader: &mut dyn Read,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let consumed = Arc::new(AtomicU64::new(0));
    let decoder = MultiGzDecoder::new(Counting::new(reader, Arc::clone(&consumed)));
    let mut guard = Guard::new(decoder, &ex.budget, tracker, Some(consumed), None);
    decompressed_stream(ex, &mut guard, origin, "gzip", tracker, depth);
}

/// Decompresses random-access zstd data.
pub fn zstd_blob(
    ex: &Expander<'_>,
    data: Arc<Data>,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut reader = DataReader::new(data);
    zstd_stream(ex, &mut reader, origin, tracker, depth);
}

/// Decompresses a zstd stream (concatenated frames are one stream).
pub fn zstd_stream(
    ex: &Expander<'_>,
    reader: &mut dyn Read,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let consumed = Arc::new(AtomicU64::new(0));
    let counting = io::BufReader::new(Counting::new(reader, Arc::clone(&consumed)));
    let decoder = match zstd::stream::read::Decoder::with_buffer(counting) {
        Ok(d) => d,
        Err(e) => return ex.read_error(&origin, &e),
    };
    let mut guard = Guard::new(decoder, &ex.budget, tracker, Some(consumed), None);
    decompressed_stream(ex, &mut guard, origin, "zstd", tracker, depth);
}

/// Dispatches decompressed content: containers keep the stream's origin, text gets a
/// `Decompressed` segment.
pub fn decompressed_stream(
    ex: &Expander<'_>,
    reader: &mut dyn Read,
    origin: Origin,
    format: &str,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut head = Vec::with_capacity(512);
    if let Err(e) = reader.take(512).read_to_end(&mut head) {
        // Damaged before anything could be read: say so, scan nothing.
        return ex.read_error(&origin, &e);
    }
    let mut chained = io::Cursor::new(head.clone()).chain(reader);
    if sniff(&head, inner_name(origin.name())) == Format::Other {
        ex.leaf_stream(&mut chained, &decompressed(&origin, format));
    } else {
        ex.stream(&mut chained, origin, tracker, depth);
    }
}

/// `x.tar` for `x.tar.gz` and `x.tgz`: the name the decompressed content would have.
fn inner_name(name: &str) -> &str {
    for ext in [".gz", ".zst", ".bz2", ".xz"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return stem;
        }
    }
    name
}

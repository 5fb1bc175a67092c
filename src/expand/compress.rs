//! Compressed streams: decompressed as they are read, under the ratio and size budgets.
//!
//! gzip (flate2 over zlib-rs), zstd (the reference library), bzip2 (`bzip2` over libbz2-rs-sys,
//! a Rust port of libbzip2) and xz (`lzma-rust2`, pure Rust, with its dictionary bounded by
//! [`XZ_MEMORY_LIMIT_KIB`] so that a hostile header cannot ask for gigabytes).
//!
//! The decompressed content goes back through the expander's dispatch: a `.tar.gz` becomes a tar
//! stream whose entries are named after the tar (no extra origin segment), and a `.log.gz` is
//! scanned as text under a `(gzip)` segment, with lines counted in the decompressed text. A
//! truncated or corrupt stream keeps the findings made before the damage and warns.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bzip2::read::MultiBzDecoder;
use flate2::read::MultiGzDecoder;

use super::limits::{Budget, Counting, Guard, Tracker};
use super::{Expander, Format, decompressed, sniff};
use crate::blob::reader::DataReader;
use crate::blob::{Data, Origin};

/// A decoder for `format` over `reader`, under the budget: its output stops with a
/// [`super::Limit`] error past the entry size, the input's total or the compression ratio.
/// `None` for a format that is not a compressed stream.
pub fn decoder<'a>(
    format: Format,
    reader: Box<dyn Read + 'a>,
    budget: &'a Budget,
    tracker: &'a Tracker,
) -> io::Result<Option<(Box<dyn Read + 'a>, &'static str)>> {
    let consumed = Arc::new(AtomicU64::new(0));
    let counting = Counting::new(reader, Arc::clone(&consumed));
    let (decoded, name): (Box<dyn Read + 'a>, _) = match format {
        // Several concatenated members are one stream, as `zcat` reads them.
        Format::Gzip => (Box::new(MultiGzDecoder::new(counting)), "gzip"),
        // Concatenated frames are one stream.
        Format::Zstd => (
            Box::new(zstd::stream::read::Decoder::with_buffer(
                io::BufReader::new(counting),
            )?),
            "zstd",
        ),
        // Concatenated streams (as `pbzip2` writes them) are one stream.
        Format::Bzip2 => (
            Box::new(MultiBzDecoder::new(io::BufReader::new(counting))),
            "bzip2",
        ),
        Format::Xz => (
            Box::new(lzma_rust2::XzReader::new_mem_limit(
                io::BufReader::new(counting),
                true,
                XZ_MEMORY_LIMIT_KIB,
            )),
            "xz",
        ),
        _ => return Ok(None),
    };
    let guard = Guard::new(decoded, budget, tracker, Some(consumed), None);
    Ok(Some((Box::new(guard), name)))
}

/// The largest xz/LZMA2 dictionary accepted, in KiB: 256 MiB (`xz -9` uses 64 MiB). A stream
/// asking for more is reported as an error, not decompressed.
pub const XZ_MEMORY_LIMIT_KIB: u32 = 256 << 10;

/// Decompresses random-access data in a compressed `format`.
pub fn compressed_blob(
    ex: &Expander<'_>,
    format: Format,
    data: Arc<Data>,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut reader = DataReader::new(data);
    compressed_stream(ex, format, &mut reader, origin, tracker, depth);
}

/// Decompresses a stream in a compressed `format` and dispatches what comes out.
pub fn compressed_stream(
    ex: &Expander<'_>,
    format: Format,
    reader: &mut dyn Read,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    match decoder(format, Box::new(reader), &ex.budget, tracker) {
        Ok(Some((mut decoded, name))) => {
            decompressed_stream(ex, &mut decoded, origin, name, tracker, depth)
        }
        Ok(None) => ex
            .sink
            .error(&origin, format!("{format:?} is not a compressed format")),
        Err(e) => ex.read_error(&origin, &e),
    }
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

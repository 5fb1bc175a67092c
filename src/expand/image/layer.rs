//! One layer: decompressed if it is, walked as a tar with whiteouts taken out, or (an artifact
//! that is not a tar: a model file, a JSON document) scanned like any blob.

use std::io::{self, Read};
use std::sync::Arc;

use super::store::LayerBytes;
use crate::blob::Origin;
use crate::expand::archive::{self};
use crate::expand::limits::Tracker;
use crate::expand::{Expander, Format, compress, sniff};

/// Scans one layer: decompressed if it is, walked as a tar with whiteouts taken out, or (an
/// artifact that is not a tar: a model file, a JSON document) scanned like any blob.
pub fn scan_layer(
    ex: &Expander<'_>,
    bytes: LayerBytes,
    origin: Origin,
    keep: archive::Keep<'_>,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    match bytes {
        LayerBytes::Data(data) => {
            let mut buf = Vec::new();
            let head = match data.range(0..512, &mut buf) {
                Ok(h) => h.to_vec(),
                Err(e) => return ex.read_error(&origin, &e),
            };
            match sniff(&head, "") {
                Format::Tar => archive::tar_blob_with(ex, data, origin, tracker, depth + 1, keep),
                Format::Gzip | Format::Zstd | Format::Bzip2 | Format::Xz => {
                    let mut reader = crate::blob::reader::DataReader::new(Arc::clone(&data));
                    layer_stream(ex, &mut reader, origin, keep, tracker, depth);
                    // The compressed bytes are read: let their pages leave this process's
                    // resident memory (a mapped tarball's pages stay in the page cache).
                    data.release(0..data.len());
                }
                _ => ex.blob(data, origin, tracker, depth),
            }
        }
        LayerBytes::Stream(mut reader) => {
            layer_stream(ex, &mut reader, origin.clone(), keep, tracker, depth);
            // Read what the tar reader left (the end-of-archive padding), so that a stream
            // that checks its digest at its end (a registry blob) gets to check it.
            if !ex.sink.stopped()
                && let Err(e) = io::copy(&mut reader, &mut io::sink())
            {
                ex.read_error(&origin, &e);
            }
        }
    }
}

pub(super) fn layer_stream(
    ex: &Expander<'_>,
    reader: &mut dyn Read,
    origin: Origin,
    keep: archive::Keep<'_>,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut head = Vec::with_capacity(512);
    if let Err(e) = reader.take(512).read_to_end(&mut head) {
        return ex.read_error(&origin, &e);
    }
    let mut chained = io::Cursor::new(head.clone()).chain(reader);
    let format = sniff(&head, "");
    match format {
        Format::Tar => archive::tar_stream_with(ex, &mut chained, origin, tracker, depth + 1, keep),
        Format::Gzip | Format::Zstd | Format::Bzip2 | Format::Xz => {
            match compress::decoder(format, Box::new(&mut chained), &ex.budget, tracker) {
                Ok(Some((mut decoded, _))) => {
                    let mut inner_head = Vec::with_capacity(512);
                    if let Err(e) = (&mut decoded).take(512).read_to_end(&mut inner_head) {
                        return ex.read_error(&origin, &e);
                    }
                    let mut inner = io::Cursor::new(inner_head.clone()).chain(decoded);
                    if sniff(&inner_head, "") == Format::Tar
                        || (inner_head.len() >= 512 && archive::is_tar_header(&inner_head))
                    {
                        archive::tar_stream_with(ex, &mut inner, origin, tracker, depth + 2, keep);
                    } else {
                        ex.stream(&mut inner, origin, tracker, depth + 1);
                    }
                }
                Ok(None) => {}
                Err(e) => ex.read_error(&origin, &e),
            }
        }
        _ => {
            if head.len() >= 512 && archive::is_tar_header(&head) {
                archive::tar_stream_with(ex, &mut chained, origin, tracker, depth + 1, keep);
            } else {
                ex.stream(&mut chained, origin, tracker, depth);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Images in a tar (docker save, OCI layout in a tar).

//! Archives: tar and zip (also `.whl`, `.jar`, `.nupkg` and PyTorch `.pt` checkpoints).
//!
//! A PyTorch checkpoint is a zip holding `<name>/data.pkl` (the pickled object, expanded by
//! [`super::pickle`]) and one `<name>/data/<n>` member per tensor storage: raw numbers, which
//! are skipped.
//!
//! A tar in random-access data (a mapped `.tar`, an image layer already in memory) is walked by
//! its headers only, and each member becomes a zero-copy slice scanned in parallel. A tar in a
//! stream (`.tar.gz`, stdin) is read once: members up to the in-memory budget are buffered and
//! scanned in parallel while the stream goes on (with at most [`MAX_IN_FLIGHT`] bytes buffered
//! and waiting), larger ones are scanned as streams. A zip's members are read in parallel, each
//! thread with its own handle on the archive; stored members of mapped data are slices.
//!
//! Member paths are reported as the archive wrote them, `../` and absolute paths included:
//! nothing is ever written to disk, so no path can escape anywhere. (Whether a tar holds a
//! container image, `docker save` or an OCI layout, is decided before it gets here, by the
//! dispatcher in [`super`].) Links and directories hold no bytes and are skipped. A corrupt or truncated archive keeps what was found before the
//! damage and warns; a corrupt zip is also scanned as raw bytes, since its members' bytes may
//! still be readable.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use super::Expander;
use super::limits::{Guard, Tracker};
use crate::blob::reader::DataReader;
use crate::blob::{Data, Origin, Segment};

/// Bytes of buffered stream members waiting to be scanned, at most; past it, members are scanned
/// on the reading thread.
pub const MAX_IN_FLIGHT: u64 = 256 << 20;

/// Whether a 512-byte block is a tar header (its checksum is right).
pub fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 || block[..100].iter().all(|&b| b == 0) {
        return false;
    }
    let field = &block[148..156];
    let text = String::from_utf8_lossy(field);
    let Ok(stored) = u32::from_str_radix(text.trim_matches(|c: char| c == '\0' || c == ' '), 8)
    else {
        return false;
    };
    let sum: u32 = block[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == stored
}

fn entry_origin(origin: &Origin, path: &[u8]) -> Origin {
    origin.child(Segment::Entry {
        path: String::from_utf8_lossy(path).into_owned(),
    })
}

/// Decides, from a member's path, whether a tar member is scanned. Image layers use it to take
/// out whiteout markers (and note what they delete); plain archives keep everything.
pub type Keep<'k> = &'k (dyn Fn(&[u8]) -> bool + Sync);

/// Keeps every member (a plain archive).
pub fn keep_all(_: &[u8]) -> bool {
    true
}

/// One regular file or link of a tar in random-access data.
#[derive(Debug, Clone)]
pub struct Member {
    /// The path as written in the archive.
    pub path: Vec<u8>,
    /// Where its bytes start in the archive.
    pub offset: u64,
    /// Its size as the header says.
    pub size: u64,
    /// For a symbolic or hard link, its target (no bytes of its own).
    pub link: Option<Vec<u8>>,
}

/// Reads the headers of a tar held in random-access data: its files and links, in order. A
/// corrupt header stops the reading with a warning; what was read before is returned.
pub fn members(
    ex: &Expander<'_>,
    data: &Arc<Data>,
    origin: &Origin,
    tracker: &Arc<Tracker>,
) -> Vec<Member> {
    let mut archive = tar::Archive::new(DataReader::new(Arc::clone(data)));
    let entries = match archive.entries_with_seek() {
        Ok(e) => e,
        Err(e) => {
            ex.sink.error(origin, format!("not a readable tar: {e}"));
            return Vec::new();
        }
    };
    let mut members = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                ex.sink
                    .error(origin, format!("corrupt tar, stopped reading: {e}"));
                break;
            }
        };
        if let Err(limit) = tracker.entry(&ex.budget) {
            ex.sink.skipped(origin, limit.to_string());
            break;
        }
        let kind = entry.header().entry_type();
        let link = if kind.is_symlink() || kind.is_hard_link() {
            match entry.link_name_bytes() {
                Some(target) => Some(target.into_owned()),
                None => continue,
            }
        } else if kind.is_file() {
            None
        } else {
            continue;
        };
        members.push(Member {
            path: entry.path_bytes().into_owned(),
            offset: entry.raw_file_position(),
            size: if link.is_some() { 0 } else { entry.size() },
            link,
        });
    }
    members
}

/// Expands a tar held in random-access data, scanning only the members `keep` accepts.
pub fn tar_blob_with(
    ex: &Expander<'_>,
    data: Arc<Data>,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
    keep: Keep<'_>,
) {
    let members = members(ex, &data, &origin, tracker);
    scan_members(ex, &data, &origin, &members, tracker, depth, keep);
}

/// Scans the given members of a tar in random-access data (links skipped), in parallel.
pub fn scan_members(
    ex: &Expander<'_>,
    data: &Arc<Data>,
    origin: &Origin,
    members: &[Member],
    tracker: &Arc<Tracker>,
    depth: usize,
    keep: Keep<'_>,
) {
    members.par_iter().for_each(|m| {
        if m.link.is_some() || !keep(&m.path) {
            return;
        }
        let child = entry_origin(origin, &m.path);
        if m.offset.saturating_add(m.size) > data.len() {
            ex.sink.error(
                &child,
                format!(
                    "truncated: the tar header says {} bytes, {} are there",
                    m.size,
                    data.len().saturating_sub(m.offset)
                ),
            );
        }
        let slice = Arc::new(data.slice(m.offset..m.offset.saturating_add(m.size)));
        ex.blob(slice, child, tracker, depth);
    });
}

/// Expands a tar read from a stream, scanning only the members `keep` accepts.
pub fn tar_stream_with(
    ex: &Expander<'_>,
    reader: &mut dyn Read,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
    keep: Keep<'_>,
) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return ex.read_error(&origin, &e),
    };
    let in_flight = AtomicU64::new(0);
    rayon::in_place_scope(|scope| {
        for entry in entries {
            if ex.sink.stopped() {
                return;
            }
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    report_stream_error(ex, &origin, &e);
                    return;
                }
            };
            if let Err(limit) = tracker.entry(&ex.budget) {
                ex.sink.skipped(&origin, limit.to_string());
                return;
            }
            if !entry.header().entry_type().is_file() || !keep(&entry.path_bytes()) {
                continue;
            }
            let child = entry_origin(&origin, &entry.path_bytes());
            let size = entry.size();
            if size > ex.budget.max_in_memory {
                ex.stream(&mut entry, child, tracker, depth);
                continue;
            }
            let mut buf = Vec::with_capacity(size as usize);
            if let Err(e) = entry.read_to_end(&mut buf) {
                // The member is cut short: scan what arrived, then report the stream.
                ex.blob(Arc::new(Data::Owned(buf)), child, tracker, depth);
                report_stream_error(ex, &origin, &e);
                return;
            }
            let len = buf.len() as u64;
            if in_flight.load(Ordering::Relaxed) + len > MAX_IN_FLIGHT {
                ex.blob(Arc::new(Data::Owned(buf)), child, tracker, depth);
                continue;
            }
            in_flight.fetch_add(len, Ordering::Relaxed);
            let in_flight = &in_flight;
            scope.spawn(move |_| {
                ex.blob(Arc::new(Data::Owned(buf)), child, tracker, depth);
                in_flight.fetch_sub(len, Ordering::Relaxed);
            });
        }
    });
}

/// Reports a damaged tar stream: a budget as a skip, anything else as corruption.
pub fn report_stream_error(ex: &Expander<'_>, origin: &Origin, e: &io::Error) {
    if super::Limit::from_io(e).is_some() {
        ex.read_error(origin, e);
    } else {
        ex.sink
            .error(origin, format!("corrupt or truncated archive: {e}"));
    }
}

/// Expands a zip held in random-access data, members in parallel.
pub fn zip_blob(
    ex: &Expander<'_>,
    data: Arc<Data>,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let archive = match zip::ZipArchive::new(DataReader::new(Arc::clone(&data))) {
        Ok(a) => a,
        Err(e) => {
            ex.sink.error(
                &origin,
                format!("not a readable zip ({e}): scanned as bytes"),
            );
            return ex.leaf(&data, &origin);
        }
    };
    let over_budget = AtomicBool::new(false);
    let torch = super::pickle::torch_prefixes(archive.file_names());
    (0..archive.len()).into_par_iter().for_each_init(
        || archive.clone(),
        |archive, index| {
            if ex.sink.stopped() || over_budget.load(Ordering::Relaxed) {
                return;
            }
            if let Err(limit) = tracker.entry(&ex.budget) {
                if !over_budget.swap(true, Ordering::Relaxed) {
                    ex.sink.skipped(&origin, limit.to_string());
                }
                return;
            }
            if !torch.is_empty()
                && archive
                    .name_for_index(index)
                    .is_some_and(|n| super::pickle::is_torch_storage(n, &torch))
            {
                // A tensor storage of a PyTorch checkpoint: numbers, not scanned.
                return;
            }
            zip_member(ex, &data, archive, index, &origin, tracker, depth);
        },
    );
}

fn zip_member(
    ex: &Expander<'_>,
    data: &Arc<Data>,
    archive: &mut zip::ZipArchive<DataReader>,
    index: usize,
    origin: &Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let name = archive.name_for_index(index).unwrap_or("?").to_string();
    let file = match archive.by_index(index) {
        Ok(f) => f,
        Err(zip::result::ZipError::UnsupportedArchive(why)) => {
            return ex.sink.skipped(
                &entry_origin(origin, name.as_bytes()),
                format!("not scanned: {why}"),
            );
        }
        Err(e) => {
            return ex
                .sink
                .error(origin, format!("entry {index} unreadable: {e}"));
        }
    };
    if file.is_dir() || file.is_symlink() {
        return;
    }
    let child = entry_origin(origin, file.name_raw());
    let stored = file.compression() == zip::CompressionMethod::Stored && !file.encrypted();
    if stored
        && data.as_slice().is_some()
        && let Some(start) = file.data_start()
    {
        let size = file.compressed_size();
        drop(file);
        let slice = Arc::new(data.slice(start..start.saturating_add(size)));
        return ex.blob(slice, child, tracker, depth);
    }
    let size = file.size();
    let declared = file.compressed_size();
    let mut guard = Guard::new(file, &ex.budget, tracker, None, Some(declared));
    if size > ex.budget.max_in_memory {
        return ex.stream(&mut guard, child, tracker, depth);
    }
    let mut buf = Vec::with_capacity(size as usize);
    let result = guard.read_to_end(&mut buf);
    ex.blob(Arc::new(Data::Owned(buf)), child.clone(), tracker, depth);
    if let Err(e) = result {
        ex.read_error(&child, &e);
    }
}

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
    /// The path as written in the archive (a PAX `path` or GNU long name applied).
    pub path: Vec<u8>,
    /// Where its bytes start in the archive.
    pub offset: u64,
    /// Its size as the header says.
    pub size: u64,
    /// For a symbolic or hard link, its target (no bytes of its own).
    pub link: Option<Vec<u8>>,
    /// The PAX records of its extended headers that are text (comments, extended attributes,
    /// any unknown key): `(key, value)`, scanned as metadata.
    pub records: Vec<(String, Vec<u8>)>,
}

/// Extended headers (PAX, GNU long names) up to this size are read and applied; a larger one
/// (a 2 GiB "header" is a valid tar) is scanned as a member of its own under its header's name,
/// as a stream under the budgets, and not applied to the next member (1 MiB).
pub const MAX_TAR_EXTENSION: u64 = 1 << 20;

/// What extended headers said about the member that follows them.
#[derive(Debug, Default)]
struct Extensions {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    records: Vec<(String, Vec<u8>)>,
}

/// What one raw tar entry was.
enum Ext {
    /// Not an extended header: a member.
    No,
    /// An extended header, read and applied to what follows.
    Applied,
    /// An extended header too large to read as one: the warning to give. The entry is then
    /// scanned as a member.
    Oversized(String),
}

/// PAX keys that hold numbers or are applied (not scanned as text).
fn is_structural_pax_key(key: &str) -> bool {
    matches!(
        key,
        "path" | "linkpath" | "size" | "mtime" | "atime" | "ctime" | "uid" | "gid"
    ) || key.starts_with("GNU.sparse.")
}

/// Reads an extended header (PAX local or global, GNU long name or link) into `ext`. Entries
/// are read raw (`Entries::raw`), so that no header is ever read whole by the tar crate.
fn extension<R: Read>(entry: &mut tar::Entry<'_, R>, ext: &mut Extensions) -> io::Result<Ext> {
    let kind = entry.header().entry_type();
    let (what, pax, global) = if kind.is_pax_local_extensions() {
        ("PAX header", true, false)
    } else if kind.is_pax_global_extensions() {
        ("PAX global header", true, true)
    } else if kind.is_gnu_longname() || kind.is_gnu_longlink() {
        ("GNU long name", false, false)
    } else {
        return Ok(Ext::No);
    };
    let size = entry.size();
    if size > MAX_TAR_EXTENSION {
        return Ok(Ext::Oversized(format!(
            "{what} of {size} bytes is more than the {MAX_TAR_EXTENSION} bytes read as one: \
             scanned as a member, not applied to the next"
        )));
    }
    let mut buf = Vec::with_capacity(size as usize);
    entry.read_to_end(&mut buf)?;
    if !pax {
        let end = memchr::memchr(0, &buf).unwrap_or(buf.len());
        buf.truncate(end);
        if kind.is_gnu_longname() {
            ext.path = Some(buf);
        } else {
            ext.link = Some(buf);
        }
        return Ok(Ext::Applied);
    }
    for record in tar::PaxExtensions::new(&buf).flatten() {
        let key = String::from_utf8_lossy(record.key_bytes()).into_owned();
        let value = record.value_bytes();
        match key.as_str() {
            "path" if !global => ext.path = Some(value.to_vec()),
            "linkpath" if !global => ext.link = Some(value.to_vec()),
            k if is_structural_pax_key(k) => {}
            _ => {
                let key = if global { format!("global {key}") } else { key };
                ext.records.push((key, value.to_vec()));
            }
        }
    }
    Ok(Ext::Applied)
}

/// The names of a tar's members (one a line, in order: line N is member N) and their PAX
/// records, scanned as metadata: `a.tar › tar:member names`, `a.tar › x.txt › tar:pax comment`.
struct TarMetadata<'e, 'a> {
    texts: super::texts::Texts<'e, 'a>,
    origin: &'e Origin,
    names: Vec<u8>,
    /// Members whose names were pushed before `names` (line offset) and their bytes.
    base: super::texts::Base,
    lines: u64,
}

impl<'e, 'a> TarMetadata<'e, 'a> {
    fn new(ex: &'e Expander<'a>, origin: &'e Origin) -> Self {
        TarMetadata {
            texts: super::texts::Texts::new(ex),
            origin,
            names: Vec::new(),
            base: super::texts::Base::default(),
            lines: 0,
        }
    }

    fn member(&mut self, path: &[u8], records: &[(String, Vec<u8>)]) {
        self.names.extend(path.iter().map(|&b| match b {
            b'\n' | b'\r' | 0 => b' ',
            b => b,
        }));
        self.names.push(b'\n');
        self.lines += 1;
        for (key, value) in records {
            let origin =
                entry_origin(self.origin, path).child(metadata("tar", format!("pax {key}")));
            self.texts
                .push(origin, format!("{key}=").as_bytes(), value, b"\n");
        }
        if self.names.len() >= 1 << 20 {
            self.flush_names();
        }
    }

    fn flush_names(&mut self) {
        if self.names.is_empty() {
            return;
        }
        let origin = self.origin.child(metadata("tar", "member names".into()));
        self.texts.push_at(origin, b"", &self.names, b"", self.base);
        self.base.lines += self.lines;
        self.base.bytes += self.names.len() as u64;
        self.lines = 0;
        self.names.clear();
    }

    fn finish(mut self) {
        self.flush_names();
        self.texts.finish();
    }
}

/// A metadata segment: `tar:member names`, `zip:comment`, `gzip:name`.
pub fn metadata(format: &str, key: String) -> Segment {
    Segment::Metadata {
        format: format.to_string(),
        key,
    }
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
        Ok(e) => e.raw(true),
        Err(e) => {
            ex.sink.error(origin, format!("not a readable tar: {e}"));
            return Vec::new();
        }
    };
    let mut members = Vec::new();
    let mut ext = Extensions::default();
    for entry in entries {
        if ex.sink.stopped() {
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                ex.sink
                    .error(origin, format!("corrupt tar, stopped reading: {e}"));
                break;
            }
        };
        let oversized = match extension(&mut entry, &mut ext) {
            Ok(Ext::No) => false,
            Ok(Ext::Applied) => continue,
            Ok(Ext::Oversized(warning)) => {
                ex.sink
                    .skipped(&entry_origin(origin, &entry.path_bytes()), warning);
                true
            }
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
        let taken = std::mem::take(&mut ext);
        let kind = entry.header().entry_type();
        let link = if oversized {
            None
        } else if kind.is_symlink() || kind.is_hard_link() {
            match taken
                .link
                .or_else(|| entry.link_name_bytes().map(|l| l.into_owned()))
            {
                Some(target) => Some(target),
                None => continue,
            }
        } else if kind.is_file() {
            None
        } else {
            continue;
        };
        let path = match taken.path {
            Some(p) if !oversized => p,
            _ => entry.path_bytes().into_owned(),
        };
        members.push(Member {
            path,
            offset: entry.raw_file_position(),
            size: if link.is_some() { 0 } else { entry.size() },
            link,
            records: taken.records,
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
    let mut meta = TarMetadata::new(ex, origin);
    for m in members.iter().filter(|m| keep(&m.path)) {
        meta.member(&m.path, &m.records);
    }
    meta.finish();
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
        Ok(e) => e.raw(true),
        Err(e) => return ex.read_error(&origin, &e),
    };
    let in_flight = AtomicU64::new(0);
    let mut meta = TarMetadata::new(ex, &origin);
    let mut ext = Extensions::default();
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
            let oversized = match extension(&mut entry, &mut ext) {
                Ok(Ext::No) => false,
                Ok(Ext::Applied) => continue,
                Ok(Ext::Oversized(warning)) => {
                    ex.sink
                        .skipped(&entry_origin(&origin, &entry.path_bytes()), warning);
                    true
                }
                Err(e) => {
                    report_stream_error(ex, &origin, &e);
                    return;
                }
            };
            if let Err(limit) = tracker.entry(&ex.budget) {
                ex.sink.skipped(&origin, limit.to_string());
                return;
            }
            let taken = std::mem::take(&mut ext);
            let path = match taken.path {
                Some(p) if !oversized => p,
                _ => entry.path_bytes().into_owned(),
            };
            if !(oversized || entry.header().entry_type().is_file()) || !keep(&path) {
                continue;
            }
            meta.member(&path, &taken.records);
            let child = entry_origin(&origin, &path);
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
    meta.finish();
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
///
/// The central directory is the input's to write: several records may name the same local
/// header (200,000 names for one stored member), or a member may lie inside the bytes of a
/// stored one. Such an entry is not read again: its bytes are scanned once (as the first
/// entry, or as part of the stored member holding them), with one warning for the archive.
/// Stored bytes count toward `--max-total-bytes` like decompressed ones.
pub fn zip_blob(
    ex: &Expander<'_>,
    data: Arc<Data>,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut archive = match zip::ZipArchive::new(DataReader::new(Arc::clone(&data))) {
        Ok(a) => a,
        Err(e) => {
            ex.sink.error(
                &origin,
                format!("not a readable zip ({e}): scanned as bytes"),
            );
            return ex.leaf(&data, &origin);
        }
    };
    let skip = zip_overlaps(ex, &mut archive, &data, &origin);
    let over_budget = AtomicBool::new(false);
    let torch = super::pickle::torch_prefixes(archive.file_names());
    (0..archive.len()).into_par_iter().for_each_init(
        || archive.clone(),
        |archive, index| {
            if ex.sink.stopped() || over_budget.load(Ordering::Relaxed) {
                return;
            }
            if skip.get(index).copied().unwrap_or(false) {
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
            let stored = zip_member(ex, &data, archive, index, &origin, tracker, depth);
            if let Err(limit) = stored
                && !over_budget.swap(true, Ordering::Relaxed)
            {
                ex.sink.skipped(&origin, limit.to_string());
            }
        },
    );
}

/// One entry's place in a zip, from its local header and central record.
struct Span {
    index: usize,
    header: u64,
    start: u64,
    end: u64,
    stored: bool,
    method: zip::CompressionMethod,
}

/// Scans the zip's own text (its comment, its entries' names and comments) and finds the
/// entries whose bytes another entry covers: `skip[i]` for each.
fn zip_overlaps(
    ex: &Expander<'_>,
    archive: &mut zip::ZipArchive<DataReader>,
    data: &Data,
    origin: &Origin,
) -> Vec<bool> {
    let n = archive
        .len()
        .min(usize::try_from(ex.budget.max_entries).unwrap_or(usize::MAX));
    let mut texts = super::texts::Texts::new(ex);
    if !archive.comment().is_empty() {
        let comment = archive.comment().to_vec();
        texts.push(
            origin.child(metadata("zip", "comment".into())),
            b"",
            &comment,
            b"\n",
        );
    }
    let mut names = Vec::new();
    let mut spans = Vec::with_capacity(n);
    for index in 0..n {
        if ex.sink.stopped() {
            break;
        }
        let Ok(file) = archive.by_index_raw(index) else {
            // Reported when the entry is read.
            continue;
        };
        names.extend(file.name_raw().iter().map(|&b| match b {
            b'\n' | b'\r' | 0 => b' ',
            b => b,
        }));
        names.push(b'\n');
        if !file.comment().is_empty() {
            let o = entry_origin(origin, file.name_raw()).child(metadata("zip", "comment".into()));
            texts.push(o, b"", file.comment().as_bytes(), b"\n");
        }
        let header = file.header_start();
        let start = file.data_start().unwrap_or(header);
        let method = file.compression();
        spans.push(Span {
            index,
            header,
            start,
            end: start.saturating_add(file.compressed_size()),
            stored: method == zip::CompressionMethod::Stored && !file.encrypted(),
            method,
        });
    }
    if !names.is_empty() {
        texts.push(
            origin.child(metadata("zip", "member names".into())),
            b"",
            &names,
            b"",
        );
    }
    texts.finish();

    let mut skip = vec![false; archive.len()];
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end), s.index));
    let mut cover: Option<&Span> = None;
    let mut prev: Option<&Span> = None;
    let (mut covered, mut partial) = (0u64, 0u64);
    let mut example: Option<(usize, usize)> = None;
    for s in &spans {
        let same_header = prev.is_some_and(|p| {
            p.header == s.header && p.start == s.start && p.end == s.end && p.method == s.method
        });
        let inside = cover.is_some_and(|c| s.start >= c.start && s.end <= c.end);
        if same_header || inside {
            skip[s.index] = true;
            covered += 1;
            let by = if same_header { prev } else { cover };
            if example.is_none()
                && let Some(by) = by
            {
                example = Some((s.index, by.index));
            }
            continue;
        }
        if cover.is_some_and(|c| s.start < c.end) || prev.is_some_and(|p| s.start < p.end) {
            partial += 1;
        }
        if s.stored && s.end <= data.len() && cover.is_none_or(|c| s.end > c.end) {
            cover = Some(s);
        }
        prev = Some(s);
    }
    let name = |i: usize| archive.name_for_index(i).unwrap_or("?").to_string();
    if let Some((entry, by)) = example {
        ex.sink.skipped(
            origin,
            format!(
                "{covered} entries overlap the bytes of other entries (the same local header, \
                 or inside a stored entry; {:?} in {:?}): their bytes were scanned once",
                name(entry),
                name(by)
            ),
        );
    }
    if partial > 0 {
        ex.sink.skipped(
            origin,
            format!(
                "{partial} entries partly overlap the bytes of other entries: scanned as they are"
            ),
        );
    }
    skip
}

/// Scans one zip entry. `Err` when its stored bytes do not fit in `--max-total-bytes`.
fn zip_member(
    ex: &Expander<'_>,
    data: &Arc<Data>,
    archive: &mut zip::ZipArchive<DataReader>,
    index: usize,
    origin: &Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) -> Result<(), super::Limit> {
    let name = archive.name_for_index(index).unwrap_or("?").to_string();
    let file = match archive.by_index(index) {
        Ok(f) => f,
        Err(zip::result::ZipError::UnsupportedArchive(why)) => {
            ex.sink.skipped(
                &entry_origin(origin, name.as_bytes()),
                format!("not scanned: {why}"),
            );
            return Ok(());
        }
        Err(e) => {
            ex.sink
                .error(origin, format!("entry {index} unreadable: {e}"));
            return Ok(());
        }
    };
    if file.is_dir() || file.is_symlink() {
        return Ok(());
    }
    let child = entry_origin(origin, file.name_raw());
    let stored = file.compression() == zip::CompressionMethod::Stored && !file.encrypted();
    // A compressed size larger than what follows the header is a lie: the ratio is measured
    // against what can really be there.
    let start = file.data_start();
    let available = data.len().saturating_sub(start.unwrap_or(0));
    if stored
        && data.as_slice().is_some()
        && let Some(start) = start
    {
        let size = file.compressed_size().min(available);
        drop(file);
        tracker.bytes(size, &ex.budget)?;
        let slice = Arc::new(data.slice(start..start.saturating_add(size)));
        ex.blob(slice, child, tracker, depth);
        return Ok(());
    }
    let size = file.size();
    let declared = file.compressed_size().min(available);
    let mut guard = Guard::new(file, &ex.budget, tracker, None, Some(declared));
    let limit = ex.budget.max_in_memory;
    if size > limit {
        ex.stream(&mut guard, child, tracker, depth);
        return Ok(());
    }
    // The declared size is the input's word: read at most the in-memory budget, and stream
    // the rest if there is more.
    let mut buf = Vec::with_capacity(size as usize);
    let result = (&mut guard).take(limit + 1).read_to_end(&mut buf);
    if result.is_ok() && buf.len() as u64 > limit {
        let mut rest = io::Cursor::new(buf).chain(guard);
        ex.stream(&mut rest, child, tracker, depth);
        return Ok(());
    }
    ex.blob(Arc::new(Data::Owned(buf)), child.clone(), tracker, depth);
    if let Err(e) = result {
        ex.read_error(&child, &e);
    }
    Ok(())
}

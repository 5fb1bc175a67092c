//! Opening files: read small ones, map or range-read large ones.
//!
//! This module holds the crate's only `unsafe`: creating a memory map. The rest of the crate
//! sees a mapping as a `&[u8]`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::Data;

/// Whether large files are memory-mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MmapChoice {
    /// Map files at or above the threshold (the default).
    #[default]
    Auto,
    /// Never map; large files are read by ranges with positioned reads.
    Never,
}

/// How files are opened.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Files smaller than this are read into memory whole. Default 1 MiB.
    pub mmap_threshold: u64,
    /// Whether larger files are mapped or range-read. Default [`MmapChoice::Auto`].
    pub mmap: MmapChoice,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            mmap_threshold: 1 << 20,
            mmap: MmapChoice::Auto,
        }
    }
}

/// A read-only memory map of a whole file.
#[derive(Debug)]
pub struct Map(memmap2::Mmap);

impl Map {
    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Drops this process's page-table entries for `range` (`MADV_DONTNEED`); the bytes stay
    /// readable and are faulted in again from the page cache if touched.
    pub fn release(&self, range: std::ops::Range<usize>) {
        let page = 4096;
        let start = range.start.div_ceil(page) * page;
        let end = range.end.min(self.0.len());
        if start >= end {
            return;
        }
        // Only advice: an error changes nothing but memory accounting.
        #[allow(unsafe_code)]
        // SAFETY: the mapping is shared and read-only; MADV_DONTNEED on a file-backed shared
        // mapping discards only our page-table entries, and later reads fault the same file
        // bytes back in from the page cache, so no live reference can observe a change.
        let _ = unsafe {
            self.0
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
        };
    }
}

/// Opens `path` as scannable data: read whole below the threshold, mapped or range-read above.
/// `size` is the length from the walk's metadata, used to choose without another `stat`.
pub fn open(path: &Path, size: u64, opts: &LoadOptions, buf: &mut Vec<u8>) -> io::Result<Data> {
    let mut file = File::open(path)?;
    if size < opts.mmap_threshold {
        buf.clear();
        // Bound the read by the size seen in the walk (plus slack): a file that grows while
        // being read (a live log) does not grow our memory without limit.
        let limit = opts.mmap_threshold.max(size).saturating_add(64 * 1024);
        (&mut file).take(limit).read_to_end(buf)?;
        return Ok(Data::Owned(std::mem::take(buf)));
    }
    let len = file.metadata()?.len();
    match opts.mmap {
        MmapChoice::Never => Ok(Data::File { file, len }),
        MmapChoice::Auto => {
            #[allow(unsafe_code)]
            // SAFETY: the map is read-only and private to this process. Another process may
            // modify or truncate the file while it is mapped: a modification shows up as
            // changed bytes (scanned as they are), a truncation as SIGBUS on access to the
            // lost pages. ferret does not write to the files it scans.
            let map = unsafe { memmap2::MmapOptions::new().len(len as usize).map(&file) };
            match map {
                Ok(m) => {
                    let _ = m.advise(memmap2::Advice::Sequential);
                    Ok(Data::Mapped(Map(m)))
                }
                // Some files cannot be mapped (procfs, some network filesystems): read by range.
                Err(_) => Ok(Data::File { file, len }),
            }
        }
    }
}

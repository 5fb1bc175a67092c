//! Opening files: read small ones, map or range-read large ones.
//!
//! This module holds the crate's `unsafe` about memory (the only other is the keyword
//! prefilter's calls of CPU-specific loops and vector loads): creating a memory map, and
//! surviving a file that shrinks while it is mapped. The rest of the crate sees a mapping as a
//! `&[u8]`.
//!
//! Touching a mapped page past the end of a file that was truncated after mapping raises
//! `SIGBUS`, which would kill the process. Every live map is registered in a small lock-free
//! table; a `SIGBUS` handler that finds the faulting address inside a registered map replaces
//! the rest of the map from that page with zero pages (an anonymous mapping over it) and counts the fault, and the
//! scan goes on. After the scan the fault count is checked and the file is reported as having
//! changed. A fault anywhere else restores the default action, so real bugs still crash.

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
pub struct Map {
    map: memmap2::Mmap,
    slot: usize,
}

impl Map {
    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.map
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Pages that faulted because the file shrank, read as zeros instead.
    pub fn faults(&self) -> u64 {
        guard::faults(self.slot)
    }

    /// Drops this process's page-table entries for `range` (`MADV_DONTNEED`); the bytes stay
    /// readable and are faulted in again from the page cache if touched.
    pub fn release(&self, range: std::ops::Range<usize>) {
        let page = page_size();
        let start = range.start.div_ceil(page) * page;
        let end = range.end.min(self.map.len());
        if start >= end {
            return;
        }
        // Only advice: an error changes nothing but memory accounting.
        #[allow(unsafe_code)]
        // SAFETY: the mapping is shared and read-only; MADV_DONTNEED on a file-backed shared
        // mapping discards only our page-table entries, and later reads fault the same file
        // bytes back in from the page cache, so no live reference can observe a change.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
        };
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        guard::unregister(self.slot);
    }
}

/// The size of a memory page on this machine (4 KiB on most x86-64, 16 or 64 KiB on some arm64
/// machines), read once from the OS.
pub fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf only reads a system constant.
        #[allow(unsafe_code)]
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        // A page size is a power of two; anything else (an error is -1) falls back to 4 KiB.
        usize::try_from(n)
            .ok()
            .filter(|n| n.is_power_of_two())
            .unwrap_or(4096)
    })
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
                    match guard::register(m.as_ptr() as usize, m.len()) {
                        Some(slot) => Ok(Data::Mapped(Map { map: m, slot })),
                        // No free slot to protect it: read by ranges instead.
                        None => Ok(Data::File { file, len }),
                    }
                }
                // Some files cannot be mapped (procfs, some network filesystems): read by range.
                Err(_) => Ok(Data::File { file, len }),
            }
        }
    }
}

/// The `SIGBUS` guard: a fixed table of live maps and the handler that consults it.
#[allow(unsafe_code)]
mod guard {
    use std::sync::Once;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    const SLOTS: usize = 512;

    /// The page size, read when the handler is installed (the handler itself may only touch
    /// atomics).
    static PAGE: AtomicUsize = AtomicUsize::new(4096);

    struct Slot {
        start: AtomicUsize,
        len: AtomicUsize,
        faults: AtomicU64,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        faults: AtomicU64::new(0),
    };
    static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
    static INSTALL: Once = Once::new();

    /// Registers a live map; `None` when the table is full.
    pub fn register(start: usize, len: usize) -> Option<usize> {
        INSTALL.call_once(install);
        for (i, slot) in TABLE.iter().enumerate() {
            if slot
                .start
                .compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                slot.faults.store(0, Ordering::Relaxed);
                slot.len.store(len, Ordering::Release);
                return Some(i);
            }
        }
        None
    }

    /// Frees a slot when its map is dropped.
    pub fn unregister(i: usize) {
        TABLE[i].len.store(0, Ordering::Release);
        TABLE[i].start.store(0, Ordering::Release);
    }

    /// Faults counted for a slot.
    pub fn faults(i: usize) -> u64 {
        TABLE[i].faults.load(Ordering::Acquire)
    }

    fn install() {
        PAGE.store(super::page_size(), Ordering::Relaxed);
        // SAFETY: a zeroed sigaction is a valid starting value; the handler is an
        // `extern "C"` function with the SA_SIGINFO signature; sigemptyset initializes the mask.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    }

    /// Runs on the faulting thread. Only atomics and raw system calls: async-signal-safe.
    extern "C" fn on_sigbus(
        _sig: libc::c_int,
        info: *mut libc::siginfo_t,
        _ctx: *mut libc::c_void,
    ) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        for slot in &TABLE {
            let start = slot.start.load(Ordering::Acquire);
            let len = slot.len.load(Ordering::Acquire);
            if start != 0 && addr >= start && addr < start + len {
                let size = PAGE.load(Ordering::Relaxed);
                let page = addr & !(size - 1);
                // Every page from here to the end of the map is past the file's new end: cover
                // them all at once (one mapping, not one per page).
                let rest = (start + len).div_ceil(size) * size - page;
                // SAFETY: the range lies inside a live, registered read-only file mapping that
                // this process owns; replacing it with anonymous zero pages (MAP_FIXED) keeps
                // the address range valid until the map is unmapped as a whole on drop.
                let p = unsafe {
                    libc::mmap(
                        page as *mut libc::c_void,
                        rest,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if p != libc::MAP_FAILED {
                    slot.faults.fetch_add(1, Ordering::AcqRel);
                    return;
                }
            }
        }
        // Not ours (or the page could not be replaced): let the default action happen.
        // SAFETY: resetting a signal disposition is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGBUS, libc::SIG_DFL);
        }
    }
}

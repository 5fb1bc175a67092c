//! Budgets: how far expansion may go into what an input controls.
//!
//! Every container format lets its author choose sizes: a 42 KB zip can hold petabytes, a tar
//! can hold a million entries, an archive can hold itself. A [`Budget`] bounds each of these per
//! top-level input; a [`Tracker`] counts what one input has used. Hitting a budget is reported
//! (a warning naming the item and the budget) and the rest of the scan goes on: what was found
//! before is kept. Defaults are on the fields and in README.md.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Limits on expansion, per top-level input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Archives inside archives, at most this deep. Default 12.
    pub max_depth: usize,
    /// Decompressed bytes per top-level input, all entries together. Default 64 GiB.
    pub max_total_bytes: u64,
    /// Decompressed bytes per archive entry or compressed stream. Default 8 GiB.
    pub max_entry_bytes: u64,
    /// Decompressed bytes per compressed byte (zip bombs reach 1000 and more; real data rarely
    /// passes 20). Checked once 1 MiB has been produced. Default 100.
    pub max_ratio: u64,
    /// Archive entries per top-level input. Default 1,000,000.
    pub max_entries: u64,
    /// Entries up to this size are decompressed into memory and scanned in parallel; larger
    /// ones are scanned as a stream. Default 64 MiB.
    pub max_in_memory: u64,
    /// Memory the decoders' windows (xz dictionaries, zstd windows) may hold together, all
    /// threads of the process at once ([`DecoderMemory`]). Default 512 MiB. A decoder takes
    /// its dictionary's worth before it starts (at most the whole budget), waiting for other
    /// threads' decoders when they hold it (at most [`DECODER_WAIT`]); an xz dictionary larger
    /// than the budget is still read while its window, which grows with the output, fits the
    /// budget, and the stream stops with a warning naming the flag when it would not. A zstd
    /// frame's window is allocated whole when the frame starts: a frame whose window (or
    /// content size, when smaller) passes the budget is not decoded, with that warning.
    pub max_decoder_memory: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            max_depth: 12,
            max_total_bytes: 64 << 30,
            max_entry_bytes: 8 << 30,
            max_ratio: 100,
            max_entries: 1_000_000,
            max_in_memory: 64 << 20,
            max_decoder_memory: 512 << 20,
        }
    }
}

/// Which budget was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `--max-depth`.
    Depth(usize),
    /// `--max-total-bytes`.
    TotalBytes(u64),
    /// `--max-entry-bytes`.
    EntryBytes(u64),
    /// `--max-ratio`.
    Ratio(u64),
    /// `--max-entries`.
    Entries(u64),
    /// `--max-decoder-memory`.
    DecoderMemory(u64),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Depth(n) => write!(f, "nesting deeper than --max-depth {n}: not expanded"),
            Limit::TotalBytes(n) => write!(
                f,
                "decompressed bytes over --max-total-bytes {n}: expansion stopped"
            ),
            Limit::EntryBytes(n) => write!(
                f,
                "entry larger than --max-entry-bytes {n} when decompressed: scanned up to the limit"
            ),
            Limit::Ratio(n) => write!(
                f,
                "compression ratio over --max-ratio {n} (a zip bomb?): decompression stopped"
            ),
            Limit::Entries(n) => write!(f, "more than --max-entries {n} entries: the rest skipped"),
            Limit::DecoderMemory(n) => write!(
                f,
                "the decoder's window needs more than --max-decoder-memory {n} (shared by all decoders): decompression stopped"
            ),
        }
    }
}

impl std::error::Error for Limit {}

impl Limit {
    /// The limit carried by an I/O error from a [`Guard`], if that is what it is.
    pub fn from_io(e: &io::Error) -> Option<Limit> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<Limit>())
            .copied()
    }

    /// An I/O error carrying this limit.
    pub fn into_io(self) -> io::Error {
        io::Error::other(self)
    }
}

/// What one top-level input has used.
#[derive(Debug, Default)]
pub struct Tracker {
    total: AtomicU64,
    entries: AtomicU64,
    /// Blobs (image layers, by key) scanned already in this input.
    seen: Mutex<HashSet<String>>,
}

impl Tracker {
    /// A fresh tracker.
    pub fn new() -> Arc<Tracker> {
        Arc::new(Tracker::default())
    }

    /// Counts one more entry; `Err` once the budget is exceeded.
    pub fn entry(&self, budget: &Budget) -> Result<(), Limit> {
        let n = self.entries.fetch_add(1, Ordering::Relaxed) + 1;
        if n > budget.max_entries {
            Err(Limit::Entries(budget.max_entries))
        } else {
            Ok(())
        }
    }

    /// Counts decompressed bytes; `Err` once the budget is exceeded.
    pub fn bytes(&self, n: u64, budget: &Budget) -> Result<(), Limit> {
        let t = self.total.fetch_add(n, Ordering::Relaxed) + n;
        if t > budget.max_total_bytes {
            Err(Limit::TotalBytes(budget.max_total_bytes))
        } else {
            Ok(())
        }
    }

    /// Whether `key` (an image layer) is met for the first time in this input; a blob listed
    /// again is not scanned again.
    pub fn first_time(&self, key: &str) -> bool {
        match self.seen.lock() {
            Ok(mut seen) => seen.insert(key.to_string()),
            Err(_) => true,
        }
    }

    /// Decompressed bytes so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// Bytes the decoders' windows hold now, all threads together.
#[derive(Debug, Default)]
pub struct DecoderPool {
    used: AtomicU64,
}

impl DecoderPool {
    /// An empty pool.
    pub const fn new() -> DecoderPool {
        DecoderPool {
            used: AtomicU64::new(0),
        }
    }

    /// Bytes held now.
    pub fn in_use(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

/// The process's decoders.
pub static DECODERS: DecoderPool = DecoderPool::new();

thread_local! {
    /// Bytes held by the decoders of this thread.
    static HELD_HERE: Cell<u64> = const { Cell::new(0) };
}

/// How long a decoder waits for memory other threads' decoders hold before it stops (10 s).
pub const DECODER_WAIT: Duration = Duration::from_secs(10);

/// One decoder's share of the `--max-decoder-memory` budget, which all threads share. It
/// grows as the decoder's window grows ([`DecoderMemory::grow`]) and is given back when
/// dropped.
///
/// Growing never blocks for long: when other threads hold the rest of the budget the decoder
/// waits for them (sleeping, at most [`DECODER_WAIT`]); when nothing it could wait for is held
/// elsewhere (it alone, or with decoders of its own thread, would pass the budget) it stops at
/// once. A rayon worker could otherwise wait for memory held by a task waiting on it.
#[derive(Debug)]
pub struct DecoderMemory {
    pool: &'static DecoderPool,
    held: u64,
    limit: u64,
}

impl DecoderMemory {
    /// A share of nothing yet of `pool` ([`DECODERS`]), under a budget of `limit` bytes.
    pub fn new(pool: &'static DecoderPool, limit: u64) -> DecoderMemory {
        DecoderMemory {
            pool,
            held: 0,
            limit,
        }
    }

    /// The budget, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Grows the share to `want` bytes; `Err` (the budget) when it cannot.
    pub fn grow(&mut self, want: u64) -> Result<(), Limit> {
        if want <= self.held {
            return Ok(());
        }
        let more = want - self.held;
        let start = Instant::now();
        loop {
            let used = self.pool.used.load(Ordering::Acquire);
            if used.saturating_add(more) <= self.limit {
                if self
                    .pool
                    .used
                    .compare_exchange(used, used + more, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    self.held = want;
                    HELD_HERE.with(|h| h.set(h.get().saturating_add(more)));
                    return Ok(());
                }
                continue;
            }
            let elsewhere = used.saturating_sub(HELD_HERE.with(Cell::get));
            if elsewhere == 0 || start.elapsed() >= DECODER_WAIT {
                return Err(Limit::DecoderMemory(self.limit));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for DecoderMemory {
    fn drop(&mut self) {
        self.pool.used.fetch_sub(self.held, Ordering::AcqRel);
        let held = self.held;
        HELD_HERE.with(|h| h.set(h.get().saturating_sub(held)));
    }
}

/// Counts the bytes read through it (the compressed side of a decoder).
#[derive(Debug)]
pub struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    /// Wraps `inner`; `count` grows by every byte read.
    pub fn new(inner: R, count: Arc<AtomicU64>) -> Counting<R> {
        Counting { inner, count }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Wraps a decoder's output: stops with a [`Limit`] error when the entry size, the total or the
/// compression ratio budget is exceeded.
pub struct Guard<'a, R> {
    inner: R,
    budget: &'a Budget,
    tracker: &'a Tracker,
    /// Compressed bytes consumed so far (shared with a [`Counting`] on the input), if known.
    compressed: Option<Arc<AtomicU64>>,
    /// Declared compressed size (zip headers), when the input is not counted.
    declared: Option<u64>,
    produced: u64,
}

impl<'a, R> Guard<'a, R> {
    /// A guard over `inner`.
    pub fn new(
        inner: R,
        budget: &'a Budget,
        tracker: &'a Tracker,
        compressed: Option<Arc<AtomicU64>>,
        declared: Option<u64>,
    ) -> Guard<'a, R> {
        Guard {
            inner,
            budget,
            tracker,
            compressed,
            declared,
            produced: 0,
        }
    }
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.budget.max_entry_bytes.saturating_sub(self.produced);
        if room == 0 {
            return Err(Limit::EntryBytes(self.budget.max_entry_bytes).into_io());
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.produced += n as u64;
        self.tracker
            .bytes(n as u64, self.budget)
            .map_err(Limit::into_io)?;
        if self.produced > 1 << 20 {
            let consumed = match &self.compressed {
                Some(c) => c.load(Ordering::Relaxed),
                None => self.declared.unwrap_or(u64::MAX),
            };
            if self.produced / consumed.max(1) > self.budget.max_ratio {
                return Err(Limit::Ratio(self.budget.max_ratio).into_io());
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_stops_a_high_ratio_stream() {
        let budget = Budget::default();
        let tracker = Tracker::default();
        let consumed = Arc::new(AtomicU64::new(1000));
        let zeros = io::repeat(0).take(10 << 20);
        let mut g = Guard::new(zeros, &budget, &tracker, Some(consumed), None);
        let err = io::copy(&mut g, &mut io::sink()).unwrap_err();
        assert_eq!(Limit::from_io(&err), Some(Limit::Ratio(100)));
    }

    #[test]
    fn guard_stops_at_the_entry_size() {
        let budget = Budget {
            max_entry_bytes: 4096,
            ..Budget::default()
        };
        let tracker = Tracker::default();
        let mut g = Guard::new(io::repeat(1).take(10_000), &budget, &tracker, None, None);
        let mut out = Vec::new();
        let err = g.read_to_end(&mut out).unwrap_err();
        assert_eq!(Limit::from_io(&err), Some(Limit::EntryBytes(4096)));
        assert_eq!(out.len(), 4096, "what fit in the budget was read");
    }

    #[test]
    fn decoders_share_one_memory_budget() {
        static POOL: DecoderPool = DecoderPool::new();
        let mut a = DecoderMemory::new(&POOL, 1500);
        a.grow(1000).unwrap();
        assert_eq!(POOL.in_use(), 1000);
        let mut b = DecoderMemory::new(&POOL, 1500);
        // The rest is held by this thread: waiting could never end, so it stops at once.
        assert_eq!(b.grow(600), Err(Limit::DecoderMemory(1500)));
        b.grow(400).unwrap();
        drop(a);
        assert_eq!(POOL.in_use(), 400);
        b.grow(1400).unwrap();
        // Held by another thread: waited for until it is given back.
        let c = std::thread::spawn(move || {
            let mut c = DecoderMemory::new(&POOL, 1500);
            c.grow(1000).map(|_| POOL.in_use())
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(b);
        assert_eq!(c.join().unwrap(), Ok(1000));
        assert_eq!(POOL.in_use(), 0);
    }

    #[test]
    fn tracker_counts_entries_and_bytes() {
        let budget = Budget {
            max_entries: 2,
            max_total_bytes: 10,
            ..Budget::default()
        };
        let t = Tracker::default();
        assert!(t.entry(&budget).is_ok());
        assert!(t.entry(&budget).is_ok());
        assert_eq!(t.entry(&budget), Err(Limit::Entries(2)));
        assert!(t.bytes(10, &budget).is_ok());
        assert_eq!(t.bytes(1, &budget), Err(Limit::TotalBytes(10)));
    }
}

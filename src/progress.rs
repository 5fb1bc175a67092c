//! Live counters of a running scan, for a progress display.
//!
//! The driver bumps [`Progress::item`] where it already counts the items it opens and their
//! bytes (so at the end `items` and `bytes` equal the summary's `files` and `bytes`); whoever
//! knows the size of the work ahead (a walk that counts ahead, a listing) sets the totals;
//! whoever receives findings counts them. Everything is a relaxed atomic: a display reads a
//! consistent-enough picture a few times a second, and a scan without a display pays nothing
//! ([`crate::ScanOptions::progress`] is `None` by default).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counters of a running scan. Shared by `Arc` between the driver and a display.
#[derive(Debug, Default)]
pub struct Progress {
    items: AtomicU64,
    bytes: AtomicU64,
    findings: AtomicU64,
    items_total: AtomicU64,
    bytes_total: AtomicU64,
    total_known: AtomicBool,
}

/// What a display shows, read at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Items opened (files, blobs, objects, streams).
    pub items: u64,
    /// Their bytes (as read: compressed bytes for compressed files).
    pub bytes: u64,
    /// Findings reported so far.
    pub findings: u64,
    /// Items and bytes to do, when known.
    pub total: Option<(u64, u64)>,
}

impl Progress {
    /// New counters at zero, with no total.
    pub fn new() -> Progress {
        Progress::default()
    }

    /// One more item opened, of `bytes` bytes.
    pub fn item(&self, bytes: u64) {
        self.items.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// One more finding reported.
    pub fn finding(&self) {
        self.findings(1);
    }

    /// `n` more findings reported.
    pub fn findings(&self, n: u64) {
        self.findings.fetch_add(n, Ordering::Relaxed);
    }

    /// The work ahead is `items` items of `bytes` bytes in all.
    pub fn set_total(&self, items: u64, bytes: u64) {
        self.items_total.store(items, Ordering::Relaxed);
        self.bytes_total.store(bytes, Ordering::Relaxed);
        self.total_known.store(true, Ordering::Release);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let total = self.total_known.load(Ordering::Acquire).then(|| {
            (
                self.items_total.load(Ordering::Relaxed),
                self.bytes_total.load(Ordering::Relaxed),
            )
        });
        Snapshot {
            items: self.items.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            findings: self.findings.load(Ordering::Relaxed),
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_totals() {
        let p = Progress::new();
        assert_eq!(p.snapshot(), Snapshot::default());
        p.item(10);
        p.item(5);
        p.finding();
        let s = p.snapshot();
        assert_eq!((s.items, s.bytes, s.findings, s.total), (2, 15, 1, None));
        p.set_total(4, 100);
        assert_eq!(p.snapshot().total, Some((4, 100)));
    }
}

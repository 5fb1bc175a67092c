//! Shared by the expansion targets: a matcher built once, a sink that checks what it is given,
//! and a small budget so that one input stays cheap (the default budget lets a single input
//! decompress gigabytes, which a fuzzer would report as a timeout or out-of-memory).
#![allow(dead_code)]

use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use ferret::expand::{Budget, Expander, Sink};
use ferret::{Data, Finding, Matcher, Origin, RuleSet};

/// The built-in rules, compiled once per process.
pub fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(&RuleSet::builtin().expect("rules")).expect("matcher"))
}

/// Checks every finding and warning the expansion reports.
#[derive(Default)]
pub struct CheckingSink {
    pub findings: AtomicU64,
    pub warnings: AtomicU64,
    pub scanned: AtomicU64,
}

impl Sink for CheckingSink {
    fn finding(&self, f: Finding) -> bool {
        // A finding points at a non-empty span with a sane position.
        assert!(f.offset <= f.end_offset, "offsets {}..{}", f.offset, f.end_offset);
        assert!(!f.secret.is_empty());
        assert!(f.start.line >= 1 && f.start.column >= 1, "position {:?}", f.start);
        assert!(!f.origin.segments().is_empty());
        self.findings.fetch_add(1, Ordering::Relaxed);
        true
    }
    fn warning(&self, origin: &Origin, _skipped: bool, message: String) {
        assert!(!message.is_empty(), "an empty warning for {origin}");
        self.warnings.fetch_add(1, Ordering::Relaxed);
    }
    fn scanned(&self, bytes: u64) {
        self.scanned.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// A budget small enough for thousands of executions a second.
pub fn budget() -> Budget {
    Budget {
        max_depth: 6,
        max_total_bytes: 32 << 20,
        max_entry_bytes: 16 << 20,
        max_ratio: 100,
        max_entries: 2_000,
        max_in_memory: 1 << 20,
    }
}

/// Expands `bytes` named `name` the way a scan of a file does, and again as a stream (stdin,
/// a registry layer). Neither may panic; both must finish.
pub fn expand(bytes: &[u8], name: &str) {
    let sink = CheckingSink::default();
    let mut ex = Expander::new(matcher(), &sink);
    ex.budget = budget();
    ex.chunk_size = 4096;
    ex.input(Arc::new(Data::Owned(bytes.to_vec())), Origin::file(name));
    let as_blob = sink.findings.load(Ordering::Relaxed);
    let stream_sink = CheckingSink::default();
    let mut ex = Expander::new(matcher(), &stream_sink);
    ex.budget = budget();
    ex.chunk_size = 4096;
    ex.input_stream(&mut Cursor::new(bytes), Origin::file(name));
    // What one path finds, the other may not (a stream cannot seek to a zip's directory), so
    // only the absence of panics and hangs is checked across them.
    let _ = as_blob;
}

//! What the expanders' unit tests share: protobuf fields written by hand, a sink that keeps
//! what it is given, and an expander on a pool of two threads.

use std::sync::Mutex;

use super::{Expander, Sink, WarningKind};
use crate::blob::Origin;
use crate::finding::Finding;

/// A varint.
fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A length-delimited protobuf field.
pub fn bytes_field(number: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, number << 3 | 2);
    varint(&mut out, bytes.len() as u64);
    out.extend_from_slice(bytes);
    out
}

/// A varint protobuf field.
pub fn varint_field(number: u64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, number << 3);
    varint(&mut out, value);
    out
}

/// Keeps every finding and warning.
#[derive(Default)]
pub struct Collect {
    pub findings: Mutex<Vec<Finding>>,
    pub warnings: Mutex<Vec<String>>,
}

impl Sink for Collect {
    fn finding(&self, finding: Finding) -> bool {
        self.findings.lock().unwrap().push(finding);
        true
    }
    fn warn(&self, _: &Origin, _: WarningKind, message: String) {
        self.warnings.lock().unwrap().push(message);
    }
    fn scanned(&self, _: u64) {}
}

/// Each finding as `origin:line:column @offset-end rule secret`, sorted.
pub fn described(findings: &[Finding]) -> Vec<String> {
    let mut out: Vec<String> = findings
        .iter()
        .map(|f| {
            let (l, c) = (f.start.line, f.start.column);
            let (a, b) = (f.offset, f.end_offset);
            format!("{}:{l}:{c} @{a}-{b} {} {}", f.origin, f.rule.id(), f.secret)
        })
        .collect();
    out.sort();
    out
}

/// Runs `f` with an expander over the built-in rules, with chunks of `chunk_size`, on a pool of
/// two threads; returns the findings and the warnings (sorted).
pub fn on_two_threads(
    chunk_size: u64,
    f: impl FnOnce(&Expander<'_>) + Send,
) -> (Vec<Finding>, Vec<String>) {
    let matcher = crate::Matcher::new(&crate::RuleSet::builtin().unwrap()).unwrap();
    let sink = Collect::default();
    let mut ex = Expander::new(&matcher, &sink);
    ex.chunk_size = chunk_size;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    pool.install(|| f(&ex));
    let mut warnings = sink.warnings.into_inner().unwrap();
    warnings.sort();
    (sink.findings.into_inner().unwrap(), warnings)
}

//! Findings that other findings explain are dropped.
//!
//! Two rules can find the same secret: a generic rule (`password = …`) and a specific one (a
//! GitHub token assigned to `password`); a view can find again what the scan found as written.
//! The specific finding, and the finding as written, are the ones a person acts on.

use crate::finding::Finding;

/// Drops findings that others explain: a decoded finding where the same rule found the secret
/// as written ([`dedupe`]), and a generic rule's finding whose secret overlaps a
/// specific rule's finding. `findings` must be sorted by offset.
pub fn suppress_generic(findings: &mut Vec<Finding>) {
    dedupe(findings);
    if !findings.iter().any(|f| f.rule.spec.generic) {
        return;
    }
    // Specific findings sorted by start, with the running maximum of their ends: a generic
    // finding overlaps one iff some specific one starting before its end ends after its start.
    let mut max_end = 0;
    let specific: Vec<(u64, u64)> = findings
        .iter()
        .filter(|f| !f.rule.spec.generic)
        .map(|f| {
            max_end = max_end.max(f.end_offset);
            (f.offset, max_end)
        })
        .collect();
    findings.retain(|f| {
        if !f.rule.spec.generic {
            return true;
        }
        let upto = specific.partition_point(|&(s, _)| s < f.end_offset);
        upto == 0 || specific[upto - 1].1 <= f.offset
    });
}

/// Drops findings that repeat another finding of the same rule at an overlapping place with a
/// longer decoding chain: a secret found as written is reported as written, and a secret found
/// through two views once. `findings` must be sorted by offset.
pub fn dedupe(findings: &mut Vec<Finding>) {
    if !findings.iter().any(|f| !f.decoded.is_empty()) {
        return;
    }
    let mut drop = vec![false; findings.len()];
    for i in 0..findings.len() {
        if findings[i].decoded.is_empty() {
            continue;
        }
        // Earlier-starting findings that may overlap are within the sorted neighbourhood.
        for j in 0..findings.len() {
            if i == j || drop[j] {
                continue;
            }
            let (a, b) = (&findings[i], &findings[j]);
            if b.offset >= a.end_offset {
                break;
            }
            let overlaps = b.end_offset > a.offset && b.offset < a.end_offset;
            let better =
                b.decoded.len() < a.decoded.len() || (b.decoded.len() == a.decoded.len() && j < i);
            if overlaps && better && a.rule.id() == b.rule.id() {
                drop[i] = true;
                break;
            }
        }
    }
    let mut k = 0;
    findings.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
}

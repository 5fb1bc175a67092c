//! The bounded windows around keyword hits where a rule's regex runs, and how chunk seams
//! are handled so that chunked scans equal whole scans.
//!
//! A rule whose matches are at most `r` bytes long, and whose every match contains one of its
//! keywords, can only match inside `[hit.end - r, hit.start + r)` of some keyword hit. Windows of
//! one rule that overlap or touch are merged, and the regex runs once over each merged window
//! with look-around seeing the bytes around it. The matches found are exactly those a search of
//! the whole input would find (the proof is in `Matcher`'s docs).
//!
//! When a large input is cut into chunks, a window near a seam may need to merge with a window
//! of the neighbouring chunk. Such windows are *deferred*: the chunk hands them back instead
//! of searching them, and the caller merges the deferred windows of all chunks and searches them
//! at the end. Which windows must be deferred follows from the window formula:
//! - a hit of the previous chunk starts before `lo`, so its window ends before `lo + r`: a window
//!   starting before `lo + r` may touch it;
//! - a hit of the next chunk ends after `hi`, so its window starts after `hi - r`: a window
//!   ending after `hi - r` may touch it.

/// Windows of one rule whose gap is at most this many bytes are searched as one region: a
/// search has a fixed cost of about that many bytes of scanning, and most rules' regexes skip
/// a gap with their literal prefilter.
pub const JOIN_GAP: usize = 256;

/// A search window for one rule, in haystack offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleWindow {
    /// Index of the rule in the matcher.
    pub rule: super::RuleIndex,
    /// First byte of the window.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Where the chunk being scanned meets its neighbours (`None` at the real edges of the input).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seams {
    /// Offset where this chunk's hits start; hits before belong to the previous chunk.
    pub lo: Option<usize>,
    /// Offset where this chunk's hits end; hits from here belong to the next chunk.
    pub hi: Option<usize>,
}

impl Seams {
    /// No neighbours: the haystack is the whole input.
    pub const NONE: Seams = Seams { lo: None, hi: None };

    /// Whether a window of a rule with radius `radius` may merge with a neighbour's window.
    pub fn must_defer(&self, start: usize, end: usize, radius: usize) -> bool {
        self.lo.is_some_and(|lo| start < lo.saturating_add(radius))
            || self.hi.is_some_and(|hi| end.saturating_add(radius) > hi)
    }
}

/// Sorts windows by rule and start, then merges the windows of one rule that overlap or touch.
pub fn merge(windows: &mut Vec<RuleWindow>) {
    windows.sort_unstable();
    let mut out: Vec<RuleWindow> = Vec::with_capacity(windows.len());
    for w in windows.drain(..) {
        match out.last_mut() {
            Some(last) if last.rule == w.rule && w.start <= last.end => {
                last.end = last.end.max(w.end);
            }
            _ => out.push(w),
        }
    }
    *windows = out;
}

/// Moves windows by `delta` bytes (from chunk-buffer offsets to input offsets).
pub fn shift(windows: &mut [RuleWindow], delta: usize) {
    for w in windows {
        w.start += delta;
        w.end += delta;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_joins_overlapping_and_touching_windows_of_one_rule() {
        let w = |rule, start, end| RuleWindow {
            rule: crate::matcher::RuleIndex(rule),
            start,
            end,
        };
        let mut v = vec![
            w(1, 10, 20),
            w(0, 5, 8),
            w(1, 20, 25),
            w(1, 30, 40),
            w(0, 7, 9),
        ];
        merge(&mut v);
        assert_eq!(v, vec![w(0, 5, 9), w(1, 10, 25), w(1, 30, 40)]);
    }

    #[test]
    fn seams_defer_only_near_edges() {
        let s = Seams {
            lo: Some(100),
            hi: Some(200),
        };
        assert!(s.must_defer(105, 120, 10));
        assert!(!s.must_defer(110, 120, 10));
        assert!(!s.must_defer(150, 190, 10));
        assert!(s.must_defer(150, 191, 10));
        assert!(!Seams::NONE.must_defer(0, usize::MAX, 10));
    }
}

//! Scanning one blob's bytes: chunking, matching, confirming, locating.
//!
//! [`scan_data`] is what a worker calls for each blob. A blob no larger than a chunk is scanned
//! in one piece. A larger one is cut into chunks ([`crate::blob::chunk`]) that are scanned in
//! parallel on the current rayon pool; the windows each chunk deferred at its seams are merged
//! and searched at the end; then findings are sorted, generic findings that a specific rule
//! explains are dropped, and lines and columns are computed. [`StreamScanner`] does the same
//! over a stream (stdin), one chunk at a time, keeping only the bytes that pending windows and
//! line counting still need.
//!
//! Every scanned piece's candidates are confirmed at once ([`confirm::candidates`], which also
//! decodes and scans the view triggers' regions), so views behave the same in whole, chunked and
//! streamed scans; a blob's findings are finished in one call ([`confirm::finalize`]) before
//! lines and columns are counted.
//!
//! Errors while reading (a file that shrank, an I/O error mid-way) do not lose what was already
//! found: [`BlobScan`] carries both the findings and the error.

use std::io;

use rayon::prelude::*;

use crate::blob::chunk::{self, Chunk};
use crate::blob::{Data, Origin};
use crate::confirm::{self, CONTEXT_BYTES};
use crate::finding::location::{self, ChunkStats, Locator};
use crate::finding::{self, Finding};
use crate::matcher::{Matcher, RuleWindow, Scratch, Seams, window};

/// Extra bytes around windows so that look-around (`\b`) sees real neighbours.
const LOOKAROUND: usize = 8;

/// What scanning one blob gave.
#[derive(Debug, Default)]
pub struct BlobScan {
    /// Findings, sorted by offset, with lines and columns.
    pub findings: Vec<Finding>,
    /// Bytes scanned.
    pub bytes: u64,
    /// The error that cut the scan short, if any (findings before it are kept).
    pub error: Option<io::Error>,
    /// The scan was stopped before the end of the data.
    pub interrupted: bool,
}

/// How far a chunk's buffer reaches past its nominal range.
pub fn margin(matcher: &Matcher) -> usize {
    matcher.max_radius() + matcher.max_keyword_len() + CONTEXT_BYTES + LOOKAROUND
}

/// Scans `data`, in parallel chunks of `chunk_size` when it is larger than one.
pub fn scan_data(
    matcher: &Matcher,
    data: &Data,
    origin: &Origin,
    chunk_size: u64,
    scratch: &mut Scratch,
    buf: &mut Vec<u8>,
) -> BlobScan {
    scan_data_until(matcher, data, origin, chunk_size, scratch, buf, &|| false)
}

/// [`scan_data`], stopping once `stop` returns true (an interrupted scan): chunks not begun
/// are skipped, and the confirming of candidates in progress (in a chunk or in a deferred
/// window) stops within a few hundred candidates ([`confirm::candidates_until`]). What was
/// confirmed before is kept and `interrupted` is set.
pub fn scan_data_until(
    matcher: &Matcher,
    data: &Data,
    origin: &Origin,
    chunk_size: u64,
    scratch: &mut Scratch,
    buf: &mut Vec<u8>,
    stop: &(dyn Fn() -> bool + Sync),
) -> BlobScan {
    let len = data.len();
    if len == 0 {
        return BlobScan::default();
    }
    if len <= chunk_size {
        let whole = [ChunkStats::whole(len)];
        let mut out = BlobScan {
            bytes: len,
            ..BlobScan::default()
        };
        let hay = match data.range(0..len, buf) {
            Ok(h) => h,
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        };
        let mut candidates = Vec::new();
        matcher.scan(hay, scratch, &mut candidates);
        let mut findings =
            confirm::candidates_until(matcher, hay, 0, &candidates, origin, scratch, stop);
        out.interrupted = stop();
        if (hay.len() as u64) < len {
            out.error = Some(shrank(len, hay.len() as u64));
        }
        if let Err(e) = finish(matcher, data, &whole, &mut findings) {
            out.error.get_or_insert(e);
        }
        out.findings = findings;
        return out;
    }

    let margin = margin(matcher) as u64;
    let chunks = chunk::plan(len, chunk_size, margin);
    let last = chunks.len() - 1;
    let results: Vec<Option<ChunkScan>> = chunks
        .par_iter()
        .map_init(
            || (matcher.scratch(), Vec::new()),
            |(scratch, buf), chunk| {
                if stop() {
                    return None;
                }
                Some(scan_chunk(
                    matcher, data, origin, chunk, last, scratch, buf, stop,
                ))
            },
        )
        .collect();
    let interrupted = results.iter().any(Option::is_none);
    let results: Vec<ChunkScan> = results.into_iter().flatten().collect();

    let mut out = BlobScan {
        bytes: len,
        interrupted,
        ..BlobScan::default()
    };
    if interrupted {
        // Without every chunk, lines cannot be counted past the first gap and deferred windows
        // may miss their neighbours: keep the findings of the leading run of finished chunks.
        let done = results
            .iter()
            .zip(&chunks)
            .take_while(|(r, c)| r.stats.nominal == c.nominal)
            .count();
        let mut findings = Vec::new();
        let mut stats = Vec::new();
        for r in results.into_iter().take(done) {
            findings.extend(r.findings);
            stats.push(r.stats);
        }
        out.bytes = stats.last().map_or(0, |s| s.nominal.end);
        if let Err(e) = finish(matcher, data, &stats, &mut findings) {
            out.error.get_or_insert(e);
        }
        out.findings = findings;
        return out;
    }
    let mut stats = Vec::with_capacity(results.len());
    let mut deferred = Vec::new();
    for r in results {
        out.findings.extend(r.findings);
        deferred.extend(r.deferred);
        stats.push(r.stats);
        if let Some(e) = r.error {
            out.error.get_or_insert(e);
        }
    }
    window::merge(&mut deferred);
    // Where a keyword is dense (`token` in a JSON log), a rule's windows merge into one that
    // spans whole chunks and is deferred here: search the windows of different rules in
    // parallel, the largest first. A stop skips the windows not yet begun and cuts short the
    // confirming of those in progress (what they confirmed is kept: every chunk is in, so
    // lines and columns are still right).
    let found: Vec<io::Result<Vec<Finding>>> = if deferred.len() > 1 {
        deferred.sort_by_key(|w| std::cmp::Reverse(w.end - w.start));
        deferred
            .par_iter()
            .with_max_len(1)
            .map_init(
                || (matcher.scratch(), Vec::new()),
                |(scratch, buf), w| search_window(matcher, data, origin, *w, scratch, buf, stop),
            )
            .collect()
    } else {
        deferred
            .iter()
            .map(|w| search_window(matcher, data, origin, *w, scratch, buf, stop))
            .collect()
    };
    out.interrupted = stop();
    for r in found {
        match r {
            // The one window of a dense keyword may hold a few hundred thousand findings:
            // taken as it is rather than copied.
            Ok(found) if out.findings.is_empty() => out.findings = found,
            Ok(found) => out.findings.extend(found),
            Err(e) => {
                out.error.get_or_insert(e);
            }
        }
    }
    if let Err(e) = finish(matcher, data, &stats, &mut out.findings) {
        out.error.get_or_insert(e);
    }
    out
}

struct ChunkScan {
    findings: Vec<Finding>,
    deferred: Vec<RuleWindow>,
    stats: ChunkStats,
    error: Option<io::Error>,
}

#[allow(clippy::too_many_arguments)]
fn scan_chunk(
    matcher: &Matcher,
    data: &Data,
    origin: &Origin,
    chunk: &Chunk,
    last: usize,
    scratch: &mut Scratch,
    buf: &mut Vec<u8>,
    stop: &(dyn Fn() -> bool + Sync),
) -> ChunkScan {
    let base = chunk.buffer.start;
    let mut result = ChunkScan {
        findings: Vec::new(),
        deferred: Vec::new(),
        stats: ChunkStats {
            nominal: chunk.nominal.clone(),
            ..ChunkStats::default()
        },
        error: None,
    };
    let hay = match data.range(chunk.buffer.clone(), buf) {
        Ok(h) => h,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    let lo = ((chunk.nominal.start - base) as usize).min(hay.len());
    let hi = ((chunk.nominal.end - base) as usize).min(hay.len());
    if (hay.len() as u64) < chunk.buffer.end - base {
        result.error = Some(shrank(chunk.buffer.end, base + hay.len() as u64));
    }
    let seams = Seams {
        lo: (!chunk.is_first()).then_some(lo),
        hi: (chunk.index != last).then_some(hi),
    };
    let mut candidates = Vec::new();
    matcher.scan_region(
        hay,
        lo..hi,
        seams,
        scratch,
        &mut candidates,
        &mut result.deferred,
        stop,
    );
    window::shift(&mut result.deferred, base as usize);
    // A stop while confirming keeps what was confirmed; the chunk's lines are still counted
    // whole below, so its findings are located right.
    result.findings =
        confirm::candidates_until(matcher, hay, base, &candidates, origin, scratch, stop);
    result.stats = ChunkStats::measure(&hay[lo..hi], chunk.nominal.start);
    data.release(chunk.nominal.clone());
    result
}

/// Searches one merged window (input offsets), reading just the bytes it needs; nothing once
/// `stop` says so, and only part of its candidates confirmed if it says so meanwhile.
fn search_window(
    matcher: &Matcher,
    data: &Data,
    origin: &Origin,
    w: RuleWindow,
    scratch: &mut Scratch,
    buf: &mut Vec<u8>,
    stop: &(dyn Fn() -> bool + Sync),
) -> io::Result<Vec<Finding>> {
    if stop() {
        return Ok(Vec::new());
    }
    let pad = (CONTEXT_BYTES + LOOKAROUND) as u64;
    let base = (w.start as u64).saturating_sub(pad);
    let hay = data.range(base..w.end as u64 + pad, buf)?;
    let start = w.start - base as usize;
    let end = (w.end - base as usize).min(hay.len());
    let mut windows = vec![RuleWindow {
        rule: w.rule,
        start: start.min(end),
        end,
    }];
    let mut candidates = Vec::new();
    matcher.scan_windows(hay, &mut windows, scratch, &mut candidates, stop);
    Ok(confirm::candidates_until(
        matcher,
        hay,
        base,
        &candidates,
        origin,
        scratch,
        stop,
    ))
}

/// Sorts, drops generic findings explained by specific ones, and fills in lines and columns.
fn finish(
    matcher: &Matcher,
    data: &Data,
    stats: &[ChunkStats],
    findings: &mut Vec<Finding>,
) -> io::Result<()> {
    confirm::finalize(matcher, findings);
    let mut locator = Locator::new(data, stats);
    for f in findings.iter_mut() {
        f.start = locator.locate(f.offset)?;
        f.end = f.end_from(f.start);
    }
    Ok(())
}

fn shrank(expected: u64, got: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("file shrank while being scanned (expected {expected} bytes, read {got})"),
    )
}

/// Scans a stream chunk by chunk with bounded memory: `push` bytes as they arrive, `finish` at
/// the end. Findings come out in order of offset, each as soon as no later input can change it.
///
/// The stream is cut into chunks like a file, so a stream and a file with the same bytes give
/// the same findings. Between chunks the scanner keeps the windows deferred at the last seam
/// (they may still merge with the next chunk's) and the bytes they and the line counter need.
///
/// # Low latency
///
/// A chunk is scanned once `chunk_size` bytes and a margin have arrived, which on a slow live
/// stream (a pod's log) can take hours. [`StreamScanner::flush_lines`] scans the complete lines
/// received since the last scan right away, as if the stream ended there, and reports what
/// it finds; the exact chunk scan later finds the same secrets and does not report them again.
/// For secrets that lie within a line (every rule's secrets but multi-line private keys) the
/// early findings are exactly the chunk scan's. A secret that continues past the last newline
/// received (a PEM block still arriving) is found by the chunk scan when the rest arrives. The
/// trade-off is one more pass over the bytes that arrive slowly: callers flush only when the
/// stream pauses.
#[derive(Debug)]
pub struct StreamScanner<'m> {
    matcher: &'m Matcher,
    origin: Origin,
    chunk_size: usize,
    margin: usize,
    max_radius: usize,
    scratch: Scratch,
    /// Bytes from offset `base` of the stream.
    buf: Vec<u8>,
    base: u64,
    /// Start of the next chunk to scan.
    next: u64,
    /// Windows deferred at the last seam, in stream offsets.
    pending: Vec<RuleWindow>,
    /// Findings not yet safe to emit (a pending window may still produce an earlier one).
    held: Vec<Finding>,
    /// Line counting: position, line, and code points since the line's start.
    cursor: (u64, u64, u64),
    /// Low latency: where the next [`StreamScanner::flush_lines`] starts.
    early_from: u64,
    /// Findings already reported by `flush_lines`: `(offset, end offset, rule id)`.
    early: std::collections::BTreeSet<(u64, u64, String)>,
    /// The line cursor of `flush_lines` (ahead of `cursor`).
    early_cursor: (u64, u64, u64),
    /// Asked while candidates are confirmed ([`StreamScanner::until`]).
    stop: Stop<'m>,
}

/// What a [`StreamScanner`] asks whether to stop.
#[derive(Clone, Copy)]
struct Stop<'m>(&'m (dyn Fn() -> bool + Sync));

impl std::fmt::Debug for Stop<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stop")
    }
}

/// The stop of a [`StreamScanner`] that nothing stops.
fn never() -> bool {
    false
}

impl<'m> StreamScanner<'m> {
    /// A scanner for one stream.
    pub fn new(matcher: &'m Matcher, origin: Origin, chunk_size: usize) -> StreamScanner<'m> {
        StreamScanner {
            matcher,
            origin,
            chunk_size: chunk_size.max(1),
            margin: margin(matcher),
            max_radius: matcher.max_radius(),
            scratch: matcher.scratch(),
            buf: Vec::new(),
            base: 0,
            next: 0,
            pending: Vec::new(),
            held: Vec::new(),
            cursor: (0, 1, 0),
            early_from: 0,
            early: std::collections::BTreeSet::new(),
            early_cursor: (0, 1, 0),
            stop: Stop(&never),
        }
    }

    /// Gives up confirming a chunk's candidates once `stop` returns true (an interrupted
    /// scan: [`confirm::candidates_until`]); what was confirmed is still returned.
    pub fn until(mut self, stop: &'m (dyn Fn() -> bool + Sync)) -> StreamScanner<'m> {
        self.stop = Stop(stop);
        self
    }

    /// The first offset still buffered: no finding reported later starts before it.
    pub fn retained_from(&self) -> u64 {
        self.base
    }

    /// Scans the complete lines received since the last scan now, without waiting for a full
    /// chunk, and returns their findings (see "Low latency" above). Bytes after the last
    /// newline wait for the rest of their line.
    pub fn flush_lines(&mut self) -> Vec<Finding> {
        let from = self.next.max(self.early_from);
        let len = self.len();
        if from >= len {
            return Vec::new();
        }
        let tail = &self.buf[(from - self.base) as usize..];
        let Some(last) = memchr::memrchr(b'\n', tail) else {
            return Vec::new();
        };
        let to = from + last as u64 + 1;
        let hay_start = from.saturating_sub(self.margin as u64).max(self.base);
        let hay = &self.buf[(hay_start - self.base) as usize..(to - self.base) as usize];
        let mut candidates = Vec::new();
        let mut deferred = Vec::new();
        self.matcher.scan_region(
            hay,
            (from - hay_start) as usize..hay.len(),
            Seams::NONE,
            &mut self.scratch,
            &mut candidates,
            &mut deferred,
            self.stop.0,
        );
        let mut found = confirm::candidates(
            self.matcher,
            hay,
            hay_start,
            &candidates,
            &self.origin,
            &mut self.scratch,
        );
        // Earlier lines were scanned before (early or by a chunk).
        found.retain(|f| f.offset >= from);
        confirm::finalize(self.matcher, &mut found);
        self.early_from = to;
        if self.early_cursor.0 < self.cursor.0 {
            self.early_cursor = self.cursor;
        }
        for f in &mut found {
            self.early_cursor = count_lines(self.early_cursor, f.offset, &self.buf, self.base);
            f.start = finding::LineColumn {
                line: self.early_cursor.1,
                column: self.early_cursor.2 + 1,
            };
            f.end = location::end_of(f.start, f.secret.as_bytes());
            self.early
                .insert((f.offset, f.end_offset, f.rule.id().to_string()));
        }
        found
    }

    /// Bytes received so far.
    pub fn len(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Whether nothing was received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds bytes; scans every chunk that now has its margin. Returns findings now final.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Finding> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while self.len() >= self.next + (self.chunk_size + self.margin) as u64 {
            let end = self.next + self.chunk_size as u64;
            self.step(end, false, &mut out);
        }
        out
    }

    /// Scans what is left at the end of the stream. Returns the remaining findings.
    pub fn finish(mut self) -> Vec<Finding> {
        let mut out = Vec::new();
        let end = self.len();
        self.step(end, true, &mut out);
        out
    }

    fn step(&mut self, end: u64, last: bool, out: &mut Vec<Finding>) {
        let start = self.next;
        let base = self.base;
        let b = |x: u64| (x - base) as usize;
        let hay = &self.buf[..];
        let seams = Seams {
            lo: (start > 0).then_some(b(start)),
            hi: (!last).then_some(b(end)),
        };
        let mut candidates = Vec::new();
        let mut deferred = Vec::new();
        self.matcher.scan_region(
            hay,
            b(start)..b(end),
            seams,
            &mut self.scratch,
            &mut candidates,
            &mut deferred,
            self.stop.0,
        );
        window::shift(&mut deferred, self.base as usize);
        let stop = self.stop.0;
        self.held.extend(confirm::candidates_until(
            self.matcher,
            hay,
            self.base,
            &candidates,
            &self.origin,
            &mut self.scratch,
            stop,
        ));
        self.pending.extend(deferred);
        window::merge(&mut self.pending);
        // Pending windows that can no longer merge with a later chunk's are searched now.
        let (ready, keep): (Vec<RuleWindow>, Vec<RuleWindow>) = self
            .pending
            .drain(..)
            .partition(|w| last || (w.end as u64).saturating_add(self.max_radius as u64) <= end);
        self.pending = keep;
        for w in ready {
            let mut one = vec![RuleWindow {
                rule: w.rule,
                start: b(w.start as u64),
                end: b(w.end as u64).min(hay.len()),
            }];
            if stop() {
                break;
            }
            let mut found = Vec::new();
            self.matcher
                .scan_windows(hay, &mut one, &mut self.scratch, &mut found, stop);
            self.held.extend(confirm::candidates_until(
                self.matcher,
                hay,
                self.base,
                &found,
                &self.origin,
                &mut self.scratch,
                stop,
            ));
        }
        self.next = end;

        // Findings before `safe` are final: pending windows and later chunks start after it.
        let mut safe = if last {
            u64::MAX
        } else {
            (end + 1).saturating_sub(self.max_radius as u64)
        };
        if let Some(min) = self.pending.iter().map(|w| w.start as u64).min() {
            safe = safe.min(min);
        }
        self.held.sort_by(|a, b| {
            (a.offset, a.end_offset, a.rule.id()).cmp(&(b.offset, b.end_offset, b.rule.id()))
        });
        let split = self.held.partition_point(|f| f.offset < safe);
        let mut ready: Vec<Finding> = self.held.drain(..split).collect();
        confirm::finalize(self.matcher, &mut ready);
        if !self.early.is_empty() {
            // Reported early by `flush_lines`: not again.
            ready.retain(|f| {
                !self
                    .early
                    .contains(&(f.offset, f.end_offset, f.rule.id().to_string()))
            });
            self.early = self.early.split_off(&(safe, 0, String::new()));
        }
        for f in &mut ready {
            self.advance(f.offset);
            f.start = finding::LineColumn {
                line: self.cursor.1,
                column: self.cursor.2 + 1,
            };
            f.end = f.end_from(f.start);
        }
        out.extend(ready);

        // Drop bytes that neither pending windows, held findings nor the next chunk need.
        let keep_from = [
            safe,
            self.next.saturating_sub(self.margin as u64),
            self.held.first().map_or(u64::MAX, |f| f.offset),
        ]
        .into_iter()
        .min()
        .unwrap_or(0)
        .saturating_sub((CONTEXT_BYTES + LOOKAROUND) as u64)
        .min(self.len());
        self.advance(keep_from.max(self.cursor.0));
        let drop = (keep_from.min(self.cursor.0) - self.base) as usize;
        self.buf.drain(..drop);
        self.base += drop as u64;
    }

    /// Moves the line cursor forward to `pos` (which must still be buffered).
    fn advance(&mut self, pos: u64) {
        self.cursor = count_lines(self.cursor, pos, &self.buf, self.base);
    }
}

/// A line cursor `(position, line, code points since the line's start)` moved forward to `pos`
/// over `buf`, which holds the stream from offset `base`.
fn count_lines(cursor: (u64, u64, u64), pos: u64, buf: &[u8], base: u64) -> (u64, u64, u64) {
    let (cur, mut line, mut chars) = cursor;
    if pos <= cur {
        return cursor;
    }
    let from = (cur - base) as usize;
    let to = ((pos - base) as usize).min(buf.len());
    let bytes = &buf[from..to];
    match memchr::memrchr(b'\n', bytes) {
        Some(last) => {
            line += memchr::memchr_iter(b'\n', bytes).count() as u64;
            chars = location::count_chars(&bytes[last + 1..]);
        }
        None => chars += location::count_chars(bytes),
    }
    (base + to as u64, line, chars)
}

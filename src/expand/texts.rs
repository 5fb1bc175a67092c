//! Many small named texts scanned as one document.
//!
//! Structured formats hand over their text as many small pieces, each with its own place: the
//! source and outputs of every notebook cell, every string constant of a pickle, every
//! metadata value of a model file. Scanning each piece as a blob of its own would pay the
//! per-blob cost (scratch, chunk plan, reporting) thousands of times, so [`Texts`] writes the
//! pieces one after another into a document, scans the document once (in parallel chunks when
//! it is large), and maps every finding back to its piece: the finding gets the piece's origin,
//! and its offset, line and column count inside the piece.
//!
//! A piece may have a *label* written before it and a *suffix* after it: a pickle string is
//! written as `hyper_parameters.wandb_api_key = "…"`, so that rules which need the name of a
//! value (`api_key = "…"`) see it, as they would in a config file. Labels are context only: a
//! match that starts outside a piece is dropped (every key is also pushed as a piece of its
//! own, so nothing is lost). Pieces are separated by `"\n\0\n"`, which no rule's secret can
//! cross (no secret alphabet holds NUL).
//!
//! Memory: the document is scanned and cleared whenever it passes [`FLUSH_BYTES`] (a smaller
//! size beside the scan, where at most three documents are in flight).
//!
//! A decoder that is slower per byte than the scan (W&B logs, TensorBoard event files: every
//! value is a protobuf field to walk) runs [`beside`] the scan: on a thread of its own, handing
//! each full document to the calling thread, which scans it while the next one is decoded. At
//! most three documents of 4 MiB are held: the one being scanned, one waiting and the one being
//! filled; each fits in one chunk, so the scan of each is one pass on the calling thread (two
//! busy threads in all: on two cores, a scan in parallel chunks beside the decoder would only
//! add the chunks' overlap and line counting). The decoder releases the mapped file's pages
//! behind it ([`Behind`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};

use crate::blob::{Data, Origin, Segment};
use crate::engine;
use crate::finding::{Finding, LineColumn, location};

use super::Expander;

/// The document is scanned once it holds this many bytes (16 MiB).
pub const FLUSH_BYTES: usize = 16 << 20;

/// Beside the scan ([`beside`]), a document is handed over once it holds this many bytes (4 MiB),
/// or half a chunk if chunks are smaller: a document that fits in one chunk is scanned whole on
/// the scanning thread, so that decoder and scan keep two threads busy, not three (a larger one
/// would be cut into chunks scanned in parallel, with their lines counted, while the decoder
/// runs too). Small documents also keep the memory of the three in flight low.
const BESIDE_FLUSH_BYTES: usize = 4 << 20;

/// Documents in flight beside the scan: one being filled, one waiting, one being scanned.
const BESIDE_BATCHES: usize = 3;

/// Between two pieces.
const SEPARATOR: &[u8] = b"\n\0\n";

#[derive(Debug)]
struct Piece {
    origin: PieceOrigin,
    start: usize,
    end: usize,
    base: Base,
}

/// A piece's origin: built by the caller (kept in the batch's `built`, so that a piece owns
/// nothing and a scanned batch is emptied without visiting its pieces), or described
/// ([`Place`] and a key, kept in [`Texts`]' name arena) and built only when the piece has a
/// finding.
#[derive(Debug)]
enum PieceOrigin {
    /// Its index in the batch's `built`, and the tag its findings are held with
    /// ([`Texts::push_held`]).
    Built(u32, Option<u8>),
    Lazy {
        /// Its index in the batch's `parents`.
        parent: u32,
        /// A record segment: its name and its step.
        record: Option<(&'static str, Option<i64>)>,
        /// A key segment: its path's range in the arena.
        key: Option<std::ops::Range<usize>>,
    },
}

/// Where pieces of one record are, without building an [`Origin`] for each: the record's
/// parent, and the record's name and step (`› history step 12`). Formats with millions of small
/// values (W&B history rows, TensorBoard summaries) push with [`Texts::push_in`], so that the
/// origin is built only for a piece that has a finding.
#[derive(Debug, Clone, Copy)]
pub struct Place<'p> {
    /// The origin the record is in (the file).
    pub parent: &'p Origin,
    /// The record's name and step, when the pieces are in a record.
    pub record: Option<(&'static str, Option<i64>)>,
}

impl Place<'_> {
    /// The record's origin (or the parent's), built now.
    pub fn origin(&self) -> Origin {
        match self.record {
            Some((name, step)) => self.parent.child(Segment::Record {
                name: name.to_string(),
                step,
            }),
            None => self.parent.clone(),
        }
    }
}

/// Where a piece starts in a longer text it continues (console output cut into pieces): its
/// findings' lines and offsets count from the start of that text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Base {
    /// Lines of the text before the piece (the piece starts at the start of a line).
    pub lines: u64,
    /// Bytes of the text before the piece.
    pub bytes: u64,
}

/// Completes a finding of a piece before it is reported (see [`Texts::placing`]).
pub type Placer<'p> = dyn Fn(&mut Finding) + Sync + 'p;

/// A document of named pieces of text, scanned when full and at [`Texts::finish`].
pub struct Texts<'e, 'a> {
    ex: &'e Expander<'a>,
    place: Option<&'e Placer<'e>>,
    batch: Batch,
    stopped: bool,
    /// The document is scanned (or handed over) once it holds this many bytes.
    limit: usize,
    /// Set by [`Texts::finish`]: no document is filled after this one.
    last: bool,
    /// When decoding [`beside`] the scan: where full documents go.
    outbox: Option<Outbox>,
    /// Findings of pieces pushed with [`Texts::push_held`], with their tags.
    held: Vec<(u8, Finding)>,
}

/// A document and the pieces it holds.
#[derive(Debug, Default)]
struct Batch {
    doc: Vec<u8>,
    pieces: Vec<Piece>,
    /// Record names and key paths of lazily named pieces.
    names: String,
    /// The parents of lazily named pieces, each once per run of pieces that share it (one
    /// reference count change per run, not per piece).
    parents: Vec<Origin>,
    /// The origins of pieces pushed with one.
    built: Vec<Origin>,
    /// Bytes of the pieces' texts (labels, suffixes and separators not counted).
    text_bytes: usize,
}

/// Work a decoder running [`beside`] the scan hands to the scanning thread.
enum Work {
    /// A full document.
    Batch(Batch),
    /// Bytes to scan as a leaf (a damaged or oversized record).
    Leaf(Data, Origin),
}

struct Outbox {
    tx: SyncSender<Work>,
    /// Scanned documents, emptied, to fill again (their allocations are reused).
    empty: std::sync::mpsc::Receiver<Batch>,
    /// Documents made so far (at most [`BESIDE_BATCHES`]; then the decoder waits for one).
    made: usize,
    /// Set by the scanning thread when the sink wants no more.
    stop: Arc<AtomicBool>,
}

/// Runs `decode` on a thread of its own with a [`Texts`] whose documents are scanned on the
/// calling thread as they fill, so that decoding and scanning overlap; `decode` hands the
/// [`Texts`] back and what is left in it is scanned. The decoder must not
/// scan anything itself ([`Texts::leaf`] hands bytes over instead): the calling thread may be
/// one of the pool's workers, and the decoder's thread is not. With one worker, or when no
/// thread can be started, `decode` runs here and each document is scanned when full.
pub fn beside<'e, 'a, F>(ex: &'e Expander<'a>, decode: F)
where
    F: FnOnce(Texts<'e, 'a>) -> Texts<'e, 'a> + Send,
{
    let decode = std::sync::Mutex::new(Some(decode));
    let run = |texts: Texts<'e, 'a>| {
        let f = decode.lock().ok().and_then(|mut d| d.take());
        match f {
            Some(f) => f(texts),
            None => texts,
        }
    };
    if rayon::current_num_threads() < 2 {
        return run(Texts::new(ex)).finish();
    }
    // One document may wait while another is scanned.
    let (tx, rx) = sync_channel::<Work>(1);
    // Every document made comes back here (so sending never fails).
    let (give_back, empty) = sync_channel::<Batch>(BESIDE_BATCHES);
    let stop = Arc::new(AtomicBool::new(false));
    let outbox = Outbox {
        tx,
        empty,
        made: 1,
        stop: Arc::clone(&stop),
    };
    let limit = beside_limit(ex);
    std::thread::scope(|s| {
        let started = std::thread::Builder::new()
            .name("ferret-decode".into())
            .spawn_scoped(s, || {
                let mut texts = Texts::new(ex);
                texts.limit = limit;
                texts.batch.reserve(limit);
                texts.outbox = Some(outbox);
                run(texts).finish();
            });
        let Ok(decoder) = started else {
            // The outbox's sender went with the failed spawn; `decode` did not run.
            return run(Texts::new(ex)).finish();
        };
        for work in rx {
            match work {
                Work::Batch(mut batch) => {
                    if !stop.load(Ordering::Relaxed) && !scan_batch(ex, None, &mut batch, None) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    batch.clear();
                    // The decoder may be waiting for it (after a stop too).
                    let _ = give_back.try_send(batch);
                }
                Work::Leaf(data, origin) => {
                    if !stop.load(Ordering::Relaxed) {
                        ex.leaf(&data, &origin);
                    }
                }
            }
        }
        if let Err(panic) = decoder.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

/// The size of a document decoded beside the scan (at most half a chunk).
fn beside_limit(ex: &Expander<'_>) -> usize {
    BESIDE_FLUSH_BYTES.min((ex.chunk_size / 2).max(1 << 16) as usize)
}

impl<'e, 'a> Texts<'e, 'a> {
    /// An empty document whose findings go to `ex`'s sink.
    pub fn new(ex: &'e Expander<'a>) -> Texts<'e, 'a> {
        Texts {
            ex,
            place: None,
            batch: Batch::default(),
            stopped: false,
            limit: FLUSH_BYTES,
            last: false,
            outbox: None,
            held: Vec::new(),
        }
    }

    /// An empty document handed to the scan in documents of one chunk, as [`beside`] does,
    /// each scanned in one pass on the thread that fills it: for a decoder that runs on
    /// several threads of the pool at once (a W&B log in segments).
    pub fn one_chunk(ex: &'e Expander<'a>) -> Texts<'e, 'a> {
        let mut texts = Texts::new(ex);
        texts.limit = beside_limit(ex);
        texts.batch.reserve(texts.limit);
        texts
    }

    /// Has `place` complete each finding (with its region in the outer file) before it is
    /// reported.
    pub fn placing(mut self, place: &'e Placer<'e>) -> Self {
        self.place = Some(place);
        self
    }

    /// Adds `text`, found at `origin`, with `label` before it and `suffix` after it as context.
    pub fn push(&mut self, origin: Origin, label: &[u8], text: &[u8], suffix: &[u8]) {
        self.push_at(origin, label, text, suffix, Base::default());
    }

    /// Whether the scan wants no more pieces.
    fn is_stopped(&mut self) -> bool {
        if let Some(out) = &self.outbox
            && out.stop.load(Ordering::Relaxed)
        {
            self.stopped = true;
        }
        self.stopped
    }

    /// [`Texts::push`] for a piece that continues a longer text from `base`.
    pub fn push_at(
        &mut self,
        origin: Origin,
        label: &[u8],
        text: &[u8],
        suffix: &[u8],
        base: Base,
    ) {
        self.push_piece(origin, label, text, suffix, base, None);
    }

    /// [`Texts::push_at`] for a piece whose findings are held with `tag`
    /// ([`Texts::finish_holding`]), not reported: where its text starts is not known yet (a W&B
    /// log's console output, decoded in segments, counts its lines from a segment's start; the
    /// caller adds the lines before).
    pub fn push_held(&mut self, origin: Origin, text: &[u8], base: Base, tag: u8) {
        self.push_piece(origin, b"", text, b"", base, Some(tag));
    }

    fn push_piece(
        &mut self,
        origin: Origin,
        label: &[u8],
        text: &[u8],
        suffix: &[u8],
        base: Base,
        hold: Option<u8>,
    ) {
        if self.is_stopped() {
            return;
        }
        let b = &mut self.batch;
        if !b.doc.is_empty() {
            b.doc.extend_from_slice(SEPARATOR);
        }
        b.doc.extend_from_slice(label);
        let start = b.doc.len();
        b.doc.extend_from_slice(text);
        b.text_bytes += text.len();
        b.built.push(origin);
        b.pieces.push(Piece {
            origin: PieceOrigin::Built((b.built.len() - 1) as u32, hold),
            start,
            end: b.doc.len(),
            base,
        });
        b.doc.extend_from_slice(suffix);
        if b.doc.len() >= self.limit {
            self.flush();
        }
    }

    /// Adds `text`, found in `place` under `key` (`place › key`, or `place` itself without a
    /// key), with the parts of `label` before it as context. No origin is built unless the
    /// text has a finding.
    pub fn push_in(&mut self, place: Place<'_>, key: Option<&str>, label: &[&[u8]], text: &[u8]) {
        if self.is_stopped() {
            return;
        }
        let b = &mut self.batch;
        if !b.doc.is_empty() {
            b.doc.extend_from_slice(SEPARATOR);
        }
        for part in label {
            b.doc.extend_from_slice(part);
        }
        let start = b.doc.len();
        b.doc.extend_from_slice(text);
        b.text_bytes += text.len();
        let name = |s: &str| {
            let at = b.names.len();
            b.names.push_str(s);
            at..b.names.len()
        };
        let key = key.map(name);
        if !b.parents.last().is_some_and(|p| p.is(place.parent)) {
            b.parents.push(place.parent.clone());
        }
        let parent = (b.parents.len() - 1) as u32;
        b.pieces.push(Piece {
            origin: PieceOrigin::Lazy {
                parent,
                record: place.record,
                key,
            },
            start,
            end: b.doc.len(),
            base: Base::default(),
        });
        if b.doc.len() >= self.limit {
            self.flush();
        }
    }

    /// Scans `data` as a leaf at `origin` (bytes that are not pieces: a damaged record). From a
    /// decoder running [`beside`] the scan, the scanning thread does it.
    pub fn leaf(&mut self, data: Data, origin: Origin) {
        if self.is_stopped() {
            return;
        }
        match &self.outbox {
            Some(out) => {
                if out.tx.send(Work::Leaf(data, origin)).is_err() {
                    self.stopped = true;
                }
            }
            None => self.ex.leaf(&data, &origin),
        }
    }

    /// Whether nothing was pushed since the last scan.
    pub fn is_empty(&self) -> bool {
        self.batch.pieces.is_empty()
    }

    /// Scans what is left.
    pub fn finish(self) {
        let held = self.finish_holding();
        debug_assert!(held.is_empty(), "findings held and never reported");
    }

    /// Scans what is left, and hands back the findings of the pieces pushed with
    /// [`Texts::push_held`], with their tags, for the caller to complete and report.
    pub fn finish_holding(mut self) -> Vec<(u8, Finding)> {
        self.last = true;
        self.flush();
        self.held
    }

    fn flush(&mut self) {
        if self.batch.pieces.is_empty() {
            self.batch.doc.clear();
            return;
        }
        if let Some(out) = &mut self.outbox {
            // The scanning thread has it; the next document reuses one it scanned, or is made
            // while fewer than three are.
            let batch = std::mem::take(&mut self.batch);
            if out.tx.send(Work::Batch(batch)).is_err() {
                self.stopped = true;
                return;
            }
            if self.last {
                return;
            }
            self.batch = match out.empty.try_recv() {
                Ok(b) => b,
                Err(_) if out.made < BESIDE_BATCHES => {
                    out.made += 1;
                    let mut b = Batch::default();
                    b.reserve(self.limit);
                    b
                }
                Err(_) => match out.empty.recv() {
                    Ok(b) => b,
                    Err(_) => {
                        self.stopped = true;
                        Batch::default()
                    }
                },
            };
            return;
        }
        if !scan_batch(self.ex, self.place, &mut self.batch, Some(&mut self.held)) {
            self.stopped = true;
        }
        // Reuse the allocations for the next batch.
        self.batch.clear();
    }
}

impl Batch {
    fn clear(&mut self) {
        self.doc.clear();
        self.pieces.clear();
        self.names.clear();
        self.parents.clear();
        self.built.clear();
        self.text_bytes = 0;
    }

    /// Room for a document of `limit` bytes (and the piece that crosses it), so that it does
    /// not grow by copies.
    fn reserve(&mut self, limit: usize) {
        self.doc.reserve(limit + (limit >> 3));
    }

    /// The origin of a piece, built now.
    fn origin_of(&self, piece: &Piece) -> Origin {
        match &piece.origin {
            // Every built piece's origin was pushed with it.
            PieceOrigin::Built(i, _) => self.built[*i as usize].clone(),
            PieceOrigin::Lazy {
                parent,
                record,
                key,
            } => {
                let name = |r: &std::ops::Range<usize>| {
                    self.names.get(r.clone()).unwrap_or_default().to_string()
                };
                // Every lazy piece's parent was pushed with it.
                let mut o = self.parents[*parent as usize].clone();
                if let Some((r, step)) = record {
                    o = o.child(Segment::Record {
                        name: (*r).to_string(),
                        step: *step,
                    });
                }
                if let Some(k) = key {
                    o = o.child(Segment::Key { path: name(k) });
                }
                o
            }
        }
    }
}

/// Scans a document and reports each finding at its piece (or keeps it in `held`, for a piece
/// pushed with [`Texts::push_held`]). Returns false when the sink wants no more.
fn scan_batch(
    ex: &Expander<'_>,
    place: Option<&Placer<'_>>,
    batch: &mut Batch,
    mut held: Option<&mut Vec<(u8, Finding)>>,
) -> bool {
    let Some(first) = batch.pieces.first() else {
        return true;
    };
    let origin = batch.origin_of(first);
    let data = Data::Owned(std::mem::take(&mut batch.doc));
    let result = ex.pool.with(ex.matcher, |scratch, buf| {
        engine::scan_data_until(
            ex.matcher,
            &data,
            &origin,
            ex.chunk_size,
            scratch,
            buf,
            &|| ex.sink.stopped(),
        )
    });
    ex.sink.scanned(batch.text_bytes as u64);
    let doc = data.as_slice().unwrap_or_default();
    let mut go_on = true;
    for mut f in result.findings {
        let at = f.offset as usize;
        let i = batch.pieces.partition_point(|p| p.start <= at);
        let Some(piece) = i.checked_sub(1).map(|i| &batch.pieces[i]) else {
            continue;
        };
        if at >= piece.end {
            // In a label or separator: the same text is also pushed as a piece.
            continue;
        }
        let text = &doc[piece.start..piece.end];
        let rel = at - piece.start;
        f.start = line_column(&text[..rel]);
        f.end = location::end_of(f.start, f.secret.as_bytes());
        f.start.line += piece.base.lines;
        f.end.line += piece.base.lines;
        f.end_offset = f.end_offset - piece.start as u64 + piece.base.bytes;
        f.offset = rel as u64 + piece.base.bytes;
        f.origin = batch.origin_of(piece);
        if let Some(place) = place {
            place(&mut f);
        }
        if let (PieceOrigin::Built(_, Some(tag)), Some(held)) = (&piece.origin, held.as_deref_mut())
        {
            let tag = *tag;
            held.push((tag, f));
            continue;
        }
        if !ex.sink.finding(f) {
            go_on = false;
            break;
        }
    }
    if let Some(e) = result.error {
        ex.sink.error(&origin, e.to_string());
    }
    if let Data::Owned(v) = data {
        batch.doc = v;
    }
    go_on
}

/// Releases a mapped file's pages behind a decoder that reads it once from start to end, a few
/// MiB at a time (see [`Data::release`]), so that a decoded file does not stay resident whole.
#[derive(Debug, Default)]
pub struct Behind {
    released: u64,
}

impl Behind {
    /// Releases at most this much at once: few calls, little held.
    const STEP: u64 = 4 << 20;

    /// For a decoder that starts reading at byte `pos`.
    pub fn at(pos: u64) -> Behind {
        Behind { released: pos }
    }

    /// The decoder is done with the bytes of `data` before `pos`.
    pub fn passed(&mut self, data: &Data, pos: u64) {
        if pos >= self.released + Self::STEP {
            data.release(self.released..pos);
            self.released = pos;
        }
    }

    /// The decoder stopped at `pos`: everything before it is released (a segment's last few
    /// MiB, which [`Behind::passed`] keeps until a step is full).
    pub fn done(self, data: &Data, pos: u64) {
        if pos > self.released {
            data.release(self.released..pos);
        }
    }
}

/// The line and column just past `before` (the bytes of a line-counted text before a point).
pub fn line_column(before: &[u8]) -> LineColumn {
    match memchr::memrchr(b'\n', before) {
        Some(last) => LineColumn {
            line: 1 + memchr::memchr_iter(b'\n', before).count() as u64,
            column: 1 + location::count_chars(&before[last + 1..]),
        },
        None => LineColumn {
            line: 1,
            column: 1 + location::count_chars(before),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::{Sink, WarningKind};
    use crate::{Matcher, RuleSet};
    use std::sync::Mutex;

    /// Keeps findings; says stop after `limit` of them.
    struct Collect {
        findings: Mutex<Vec<Finding>>,
        limit: usize,
    }

    impl Sink for Collect {
        fn finding(&self, finding: Finding) -> bool {
            let mut f = self.findings.lock().unwrap();
            f.push(finding);
            f.len() < self.limit
        }
        fn warn(&self, _: &Origin, _: WarningKind, message: String) {
            panic!("unexpected warning: {message}");
        }
        fn scanned(&self, _: u64) {}
    }

    /// A Hugging Face token made of letters drawn from `seed`.
    fn hf_token(seed: u64) -> String {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let letters: String = (0..34)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let c = (x >> 33) % 52;
                char::from(if c < 26 {
                    b'a' + c as u8
                } else {
                    b'A' + (c - 26) as u8
                })
            })
            .collect();
        format!("hf_{letters}")
    }

    /// Pushes 3.5 documents' worth of pieces with a token in the first, a middle and the last
    /// piece, decoding beside the scan in a pool of `threads`; returns the findings' origins
    /// and secrets, sorted.
    fn decode_beside(threads: usize, limit: usize) -> (Vec<(String, String)>, Vec<String>) {
        let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
        let sink = Collect {
            findings: Mutex::new(Vec::new()),
            limit,
        };
        let ex = Expander::new(&matcher, &sink);
        let parent = Origin::file("run.wandb");
        let filler = "loss 0.25 step 12 the quick brown fox ".repeat(26);
        let n = (FLUSH_BYTES * 7 / 2) / filler.len();
        let secret_at = [0, n / 2, n - 1];
        let tokens: Vec<String> = secret_at.iter().map(|&i| hf_token(i as u64)).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            beside(&ex, |mut texts| {
                for i in 0..n {
                    let place = Place {
                        parent: &parent,
                        record: Some(("history", Some(i as i64))),
                    };
                    let value = match secret_at.iter().position(|&s| s == i) {
                        Some(k) => format!("{filler} {}", tokens[k]),
                        None => filler.clone(),
                    };
                    texts.push_in(place, Some("notes"), &[b"notes = "], value.as_bytes());
                }
                texts
            })
        });
        let mut got: Vec<(String, String)> = sink
            .findings
            .into_inner()
            .unwrap()
            .into_iter()
            .map(|f| (f.origin.to_string(), f.secret.to_string()))
            .collect();
        got.sort();
        let mut want: Vec<String> = secret_at
            .iter()
            .map(|i| format!("run.wandb › history step {i} › notes"))
            .collect();
        want.sort();
        (got, want)
    }

    #[test]
    fn decoding_beside_the_scan_finds_what_decoding_in_line_finds() {
        let (two, want) = decode_beside(2, usize::MAX);
        let origins: Vec<String> = two.iter().map(|(o, _)| o.clone()).collect();
        assert_eq!(origins, want);
        assert!(
            two.iter()
                .all(|(_, s)| s.starts_with("hf_") && s.len() == 37)
        );
        let (one, _) = decode_beside(1, usize::MAX);
        assert_eq!(one, two);
    }

    #[test]
    fn decoding_beside_the_scan_stops_when_the_sink_does() {
        let (got, _) = decode_beside(2, 1);
        assert_eq!(got.len(), 1, "{got:?}");
    }

    #[test]
    fn line_column_counts_in_the_piece() {
        assert_eq!(line_column(b""), LineColumn { line: 1, column: 1 });
        assert_eq!(line_column(b"ab"), LineColumn { line: 1, column: 3 });
        assert_eq!(
            line_column("x\né".as_bytes()),
            LineColumn { line: 2, column: 2 }
        );
    }
}

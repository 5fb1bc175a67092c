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
//! Memory: the document is scanned and cleared whenever it passes [`FLUSH_BYTES`].

use crate::blob::{Data, Origin, Segment};
use crate::engine;
use crate::finding::{Finding, LineColumn, location};

use super::Expander;

/// The document is scanned once it holds this many bytes (16 MiB).
pub const FLUSH_BYTES: usize = 16 << 20;

/// Between two pieces.
const SEPARATOR: &[u8] = b"\n\0\n";

#[derive(Debug)]
struct Piece {
    origin: PieceOrigin,
    start: usize,
    end: usize,
    base: Base,
}

/// A piece's origin: built by the caller, or described ([`Place`] and a key, kept in
/// [`Texts`]' name arena) and built only when the piece has a finding.
#[derive(Debug)]
enum PieceOrigin {
    Built(Origin),
    Lazy {
        parent: Origin,
        /// A record segment: its name's range in the arena, and its step.
        record: Option<(std::ops::Range<usize>, Option<i64>)>,
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
    pub record: Option<(&'p str, Option<i64>)>,
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
    doc: Vec<u8>,
    pieces: Vec<Piece>,
    /// Record names and key paths of lazily named pieces.
    names: String,
    stopped: bool,
}

impl<'e, 'a> Texts<'e, 'a> {
    /// An empty document whose findings go to `ex`'s sink.
    pub fn new(ex: &'e Expander<'a>) -> Texts<'e, 'a> {
        Texts {
            ex,
            place: None,
            doc: Vec::new(),
            pieces: Vec::new(),
            names: String::new(),
            stopped: false,
        }
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

    /// [`Texts::push`] for a piece that continues a longer text from `base`.
    pub fn push_at(
        &mut self,
        origin: Origin,
        label: &[u8],
        text: &[u8],
        suffix: &[u8],
        base: Base,
    ) {
        if self.stopped {
            return;
        }
        if !self.doc.is_empty() {
            self.doc.extend_from_slice(SEPARATOR);
        }
        self.doc.extend_from_slice(label);
        let start = self.doc.len();
        self.doc.extend_from_slice(text);
        self.pieces.push(Piece {
            origin: PieceOrigin::Built(origin),
            start,
            end: self.doc.len(),
            base,
        });
        self.doc.extend_from_slice(suffix);
        if self.doc.len() >= FLUSH_BYTES {
            self.flush();
        }
    }

    /// Adds `text`, found in `place` under `key` (`place › key`, or `place` itself without a
    /// key), with the parts of `label` before it as context. No origin is built unless the
    /// text has a finding.
    pub fn push_in(&mut self, place: Place<'_>, key: Option<&str>, label: &[&[u8]], text: &[u8]) {
        if self.stopped {
            return;
        }
        if !self.doc.is_empty() {
            self.doc.extend_from_slice(SEPARATOR);
        }
        for part in label {
            self.doc.extend_from_slice(part);
        }
        let start = self.doc.len();
        self.doc.extend_from_slice(text);
        let mut name = |s: &str| {
            let at = self.names.len();
            self.names.push_str(s);
            at..self.names.len()
        };
        let record = place.record.map(|(n, step)| (name(n), step));
        let key = key.map(name);
        self.pieces.push(Piece {
            origin: PieceOrigin::Lazy {
                parent: place.parent.clone(),
                record,
                key,
            },
            start,
            end: self.doc.len(),
            base: Base::default(),
        });
        if self.doc.len() >= FLUSH_BYTES {
            self.flush();
        }
    }

    /// The origin of a piece, built now.
    fn origin_of(&self, piece: &Piece) -> Origin {
        match &piece.origin {
            PieceOrigin::Built(o) => o.clone(),
            PieceOrigin::Lazy {
                parent,
                record,
                key,
            } => {
                let name = |r: &std::ops::Range<usize>| {
                    self.names.get(r.clone()).unwrap_or_default().to_string()
                };
                let mut o = parent.clone();
                if let Some((r, step)) = record {
                    o = o.child(Segment::Record {
                        name: name(r),
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

    /// Whether nothing was pushed since the last scan.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Scans what is left.
    pub fn finish(mut self) {
        self.flush();
    }

    fn flush(&mut self) {
        if self.pieces.is_empty() {
            self.doc.clear();
            return;
        }
        let ex = self.ex;
        let data = Data::Owned(std::mem::take(&mut self.doc));
        let origin = self.origin_of(&self.pieces[0]);
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
        let text_bytes: usize = self.pieces.iter().map(|p| p.end - p.start).sum();
        ex.sink.scanned(text_bytes as u64);
        let doc = data.as_slice().unwrap_or_default();
        for mut f in result.findings {
            let at = f.offset as usize;
            let i = self.pieces.partition_point(|p| p.start <= at);
            let Some(piece) = i.checked_sub(1).map(|i| &self.pieces[i]) else {
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
            f.origin = self.origin_of(piece);
            if let Some(place) = self.place {
                place(&mut f);
            }
            if !ex.sink.finding(f) {
                self.stopped = true;
                break;
            }
        }
        if let Some(e) = result.error {
            ex.sink.error(&origin, e.to_string());
        }
        self.pieces.clear();
        self.names.clear();
        // Reuse the allocation for the next batch.
        if let Data::Owned(mut v) = data {
            v.clear();
            self.doc = v;
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

//! Weights & Biases run files (`wandb/run-*/run-ID.wandb`): every record of a run, by name.
//!
//! A W&B run folder keeps the run's whole story in one binary file: the config it was started
//! with, every `wandb.log` row, the summary, the console output, the machine it ran on (program,
//! arguments, git remote, user). `wandb sync` uploads it later, so offline and crashed runs
//! leave theirs on disk, in home folders, shared file systems and CI caches. The files next to
//! it (`files/config.yaml`, `files/output.log`, `files/wandb-metadata.json`) are text and are
//! scanned as files by the walk.
//!
//! The `.wandb` file is a LevelDB-style log: a 7-byte header (`:W&B`, a magic, a version), then
//! 32 KiB blocks of fragments, each with a CRC-32 of its type and data, a length and a type
//! (FULL, or FIRST, MIDDLE… LAST of a record cut across blocks). [`Log`] checks every fragment
//! and joins the pieces of a record, so a secret cut in two by a block boundary is read whole.
//! A record is a protobuf `Record` (`wandb_internal.proto`), read by field number with
//! [`super::protobuf`]:
//!
//! - `config` and `summary` items (in their own records and in the `run` record) are scanned as
//!   `key = value_json`, named `run-ID.wandb › config › hf_token`; an item repeated unchanged
//!   (the summary is re-sent at every step) is scanned once;
//! - `history` rows as `history step 12 › prompt`; numbers, booleans and `null` are skipped;
//! - console output (`output` and `output_raw` records, which cut lines anywhere) is joined into
//!   one text per stream with its ANSI codes removed, named `output:1204:17` (the line in the
//!   console);
//! - the `run` record's names, notes, tags, group and git remote, and the `environment` record's
//!   program, arguments, paths, user and host, by field name;
//! - every other record (artifacts, alerts, files, telemetry, requests…) by the generic walk of
//!   [`super::protobuf::strings`], so a field that a later version of W&B adds is still read.
//!
//! Damage is a warning, never a loss: a fragment whose checksum fails, or a block that stops
//! making sense, is scanned as bytes (`damaged record at byte N`) and the log goes on at the next
//! fragment or block. A record larger than [`MAX_RECORD`] is scanned as bytes, piece by piece,
//! without being held whole.
//!
//! A log larger than two chunks is decoded in segments of whole blocks on the pool's threads
//! ([`Log::segment`], `in_segments`), each scanning what it decodes; a smaller one on a thread
//! of its own beside its scan ([`texts::beside`]). The findings are the same either way.

use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use super::Expander;
use super::protobuf::{self, Fields, Value};
use super::texts::{self, Base, Place, Texts};
use crate::blob::{Data, Origin, Segment};
use crate::finding::Finding;
use crate::view::ansi;

mod log;

use log::HEADER;
pub use log::{BLOCK, Event, Log, MAX_RECORD};

/// Console output is handed to the scan in pieces of about this size (1 MiB), cut at lines.
const OUTPUT_PIECE: usize = 1 << 20;

/// Whether `head` starts like a W&B run file (`:W&B`).
pub fn is_wandb(head: &[u8]) -> bool {
    head.starts_with(b":W&B")
}

/// Scans a W&B run file held in `data`.
pub fn wandb_blob(ex: &Expander<'_>, data: Arc<Data>, origin: Origin) {
    let mut head = Vec::new();
    match data.range(0..HEADER, &mut head) {
        Ok(h) if h.len() == HEADER as usize && h[4..6] == [0xe1, 0xbe] => {
            if h[6] != 0 {
                ex.sink.error(
                    &origin,
                    format!("W&B log version {} (ferret knows 0): read as 0", h[6]),
                );
            }
        }
        Ok(_) => {
            ex.sink.error(
                &origin,
                "not a W&B run file (bad header): scanned as bytes".into(),
            );
            return ex.leaf(&data, &origin);
        }
        Err(e) => return ex.sink.error(&origin, e.to_string()),
    }
    let seen = Mutex::new(HashSet::new());
    let segment = segment_size(ex.chunk_size);
    if rayon::current_num_threads() > 1 && data.len() > segment {
        return in_segments(ex, &data, &origin, segment, &seen);
    }
    // Records are decoded on a thread of their own while the scan reads what they hold.
    texts::beside(ex, |texts| {
        let mut run = Run::new(texts, &origin, &seen, false);
        let mut damage = Damage::default();
        let result = Log::new(&data)
            .for_each_until(&|| ex.sink.stopped(), &mut |e| run.event(e, &mut damage));
        damage.report(ex, &origin);
        if let Err(e) = result {
            ex.read_error(&origin, &e);
        }
        run.into_texts()
    });
}

/// The size of the segments a log is decoded in, in parallel: two chunks (16 MiB by default),
/// in whole blocks. A log no larger is decoded beside its scan ([`texts::beside`]).
fn segment_size(chunk_size: u64) -> u64 {
    (chunk_size.saturating_mul(2) / BLOCK).max(1) * BLOCK
}

/// Damaged parts of a log: how many, and the first.
#[derive(Debug, Default)]
struct Damage {
    count: u64,
    first: Option<(u64, String)>,
}

impl Damage {
    fn add(&mut self, other: Damage) {
        self.count += other.count;
        if let Some((at, why)) = other.first
            && self.first.as_ref().is_none_or(|(a, _)| at < *a)
        {
            self.first = Some((at, why));
        }
    }

    fn report(self, ex: &Expander<'_>, origin: &Origin) {
        if let Some((at, why)) = self.first {
            ex.sink.error(
                origin,
                format!(
                    "{} damaged part(s) of the log scanned as bytes (first at byte {at}: {why})",
                    self.count
                ),
            );
        }
    }
}

/// What a segment of a log leaves to be joined with the others.
struct SegmentEnd {
    damage: Damage,
    error: Option<std::io::Error>,
    /// Console output (`output`, `output_raw`) at the segment's edges.
    consoles: [Edges; 2],
    /// Findings in the console output, their lines counted from the segment's (tagged with
    /// the stream).
    held: Vec<(u8, Finding)>,
}

/// Console output of one stream at the edges of a segment: lines cut by the segment's start and
/// end, joined with the segments beside it.
#[derive(Debug, Default)]
struct Edges {
    /// The stream's text up to its first newline in the segment (all of it when there is
    /// none): the end of a line begun in an earlier segment. Empty in the first segment.
    head: Vec<u8>,
    /// Whether `head` ends with a newline.
    closed: bool,
    /// The text after the last newline: a line that a later segment ends.
    tail: Vec<u8>,
    /// Lines and bytes of the text between (scanned in the segment).
    lines: u64,
    bytes: u64,
}

/// Decodes a log in segments of `size` bytes on the pool's threads, each scanning what it
/// decodes. Console output is one text per stream across the whole log: each segment scans its
/// whole lines with their findings held, and here, in order, the lines cut by segment edges are
/// joined and scanned, and the held findings get the lines and bytes of the segments before.
fn in_segments(
    ex: &Expander<'_>,
    data: &Data,
    origin: &Origin,
    size: u64,
    seen: &Mutex<HashSet<u64>>,
) {
    use rayon::prelude::*;
    let len = data.len();
    let starts: Vec<u64> = (0..len.div_ceil(size)).map(|i| i * size).collect();
    let ends: Vec<SegmentEnd> = starts
        .par_iter()
        .with_max_len(1)
        .map(|&start| {
            let mut run = Run::new(Texts::one_chunk(ex), origin, seen, start > 0);
            let mut damage = Damage::default();
            let result = Log::segment(data, start..(start + size).min(len))
                .for_each_until(&|| ex.sink.stopped(), &mut |e| run.event(e, &mut damage));
            let (texts, consoles) = run.into_segment();
            SegmentEnd {
                damage,
                error: result.err(),
                consoles,
                held: texts.finish_holding(),
            }
        })
        .collect();
    let mut damage = Damage::default();
    let mut error = None;
    let mut texts = Texts::new(ex);
    let mut held: Vec<Vec<(u8, Finding)>> = Vec::with_capacity(ends.len());
    let mut consoles: Vec<[Edges; 2]> = Vec::with_capacity(ends.len());
    for end in ends {
        damage.add(end.damage);
        error = error.or(end.error);
        held.push(end.held);
        consoles.push(end.consoles);
    }
    for (stream, name) in [(0, "output"), (1, "output_raw")] {
        let console_origin = origin.child(Segment::Record {
            name: name.to_string(),
            step: None,
        });
        // The line being joined, and where it starts in the stream.
        let mut carry: Vec<u8> = Vec::new();
        let mut at = Base::default();
        for (k, edges) in consoles.iter_mut().enumerate() {
            let edges = &mut edges[stream];
            if k > 0 {
                carry.extend_from_slice(&edges.head);
                if !edges.closed {
                    continue;
                }
                push_console(&mut texts, &console_origin, &carry, &mut at, None);
                let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut held[k])
                    .into_iter()
                    .partition(|(tag, _)| *tag == stream as u8);
                held[k] = others;
                for (_, mut f) in mine {
                    f.start.line += at.lines;
                    f.end.line += at.lines;
                    f.offset += at.bytes;
                    f.end_offset += at.bytes;
                    if !ex.sink.finding(f) {
                        return;
                    }
                }
            }
            at.lines += edges.lines;
            at.bytes += edges.bytes;
            carry = std::mem::take(&mut edges.tail);
        }
        push_console(&mut texts, &console_origin, &carry, &mut at, None);
    }
    texts.finish();
    damage.report(ex, origin);
    if let Some(e) = error {
        ex.read_error(origin, &e);
    }
}

/// Console output being joined into one text.
struct Console {
    origin: Origin,
    buf: Vec<u8>,
    base: Base,
    /// In a segment after the first: findings are held with this tag ([`Texts::push_held`]).
    hold: Option<u8>,
    /// In a segment after the first: the text before the segment's first newline ([`Edges`]).
    head: Vec<u8>,
    /// Whether text still goes to `head` (until the segment's first newline).
    in_head: bool,
}

/// The decoder of one run's records.
struct Run<'e, 'a> {
    texts: Texts<'e, 'a>,
    origin: &'e Origin,
    /// Config and summary items already scanned (hashes of record, key and value), shared by
    /// the segments of a log.
    seen: &'e Mutex<HashSet<u64>>,
    /// Decoding a segment after the first: console output starts in the middle of the
    /// stream, and its findings are held ([`Edges`]).
    relative: bool,
    output: Option<Console>,
    output_raw: Option<Console>,
    records: Vec<(&'static str, Origin)>,
    /// Where a history row's items are (reused from row to row).
    items: Vec<std::ops::Range<usize>>,
}

impl<'e, 'a> Run<'e, 'a> {
    fn new(
        texts: Texts<'e, 'a>,
        origin: &'e Origin,
        seen: &'e Mutex<HashSet<u64>>,
        relative: bool,
    ) -> Run<'e, 'a> {
        Run {
            texts,
            origin,
            seen,
            relative,
            output: None,
            output_raw: None,
            records: Vec::new(),
            items: Vec::new(),
        }
    }

    /// The origin of a record without a step, built once per name.
    fn record_origin(&mut self, name: &'static str) -> Origin {
        if let Some((_, o)) = self.records.iter().find(|(n, _)| *n == name) {
            return o.clone();
        }
        let o = self.origin.child(Segment::Record {
            name: name.to_string(),
            step: None,
        });
        self.records.push((name, o.clone()));
        o
    }

    /// One event of the log: a record decoded, damage scanned as bytes and counted.
    fn event(&mut self, event: Event<'_>, damage: &mut Damage) {
        match event {
            Event::Record(_, record) => self.record(record),
            Event::Damaged(at, bytes, why) => {
                damage.count += 1;
                if damage.first.is_none() {
                    damage.first = Some((at, why));
                }
                if !bytes.is_empty() {
                    let o = self.origin.child(Segment::Record {
                        name: format!("damaged record at byte {at}"),
                        step: None,
                    });
                    self.texts.push(o, b"", bytes, b"");
                }
            }
        }
    }

    fn record(&mut self, record: &[u8]) {
        // Most records of a run: a history row alone (field 2, its length in one or two
        // bytes, to the record's end), read without the general walk.
        if let [0x12, rest @ ..] = record
            && let Some((n, len)) = protobuf::varint(rest)
            && len <= 2
            && n == (rest.len() - len) as u64
        {
            return self.history(&rest[len..]);
        }
        for field in Fields::new(record) {
            let (number, value) = match field {
                Ok(f) => f,
                Err(e) => {
                    let o = self.record_origin("damaged record");
                    let rest = record.get(e.at..).unwrap_or_default();
                    self.texts.push(o, b"", rest, b"");
                    return;
                }
            };
            let Value::Bytes(body) = value else { continue };
            match number {
                // num, control, uuid, _info: bookkeeping.
                1 | 16 | 19 | 200 => {}
                2 => self.history(body),
                3 => self.items("summary", body),
                5 => self.items("config", body),
                4 => self.console(false, body),
                13 => self.console(true, body),
                17 => self.run(body),
                26 => self.named("environment", body, environment_field),
                10 => self.named("alert", body, alert_field),
                8 => self.named("artifact", body, artifact_field),
                n => self.generic(record_name(n), body),
            }
        }
    }

    /// `ConfigRecord`, `SummaryRecord`: items in field 1 (`update`); removals (field 2) name
    /// keys only and are skipped.
    fn items(&mut self, name: &'static str, body: &[u8]) {
        let place = Place {
            parent: self.origin,
            record: Some((name, None)),
        };
        for (number, value) in Fields::new(body).flatten() {
            if let (1, Value::Bytes(item)) = (number, value) {
                self.item(place, item, true);
            }
        }
    }

    /// One `ConfigItem`/`SummaryItem`/`HistoryItem`: `key` (1), `nested_key` (2, repeated),
    /// `value_json` (16). Its origin (`› history step 12 › prompt`) is built only for a
    /// finding ([`Texts::push_in`]): a run logs millions of them.
    fn item(&mut self, place: Place<'_>, item: &[u8], dedup: bool) {
        let mut nested: Vec<&[u8]> = Vec::new();
        let (key, value) = match plain_item(item) {
            Some(kv) => kv,
            None => {
                let mut key: &[u8] = b"";
                let mut value: &[u8] = b"";
                for (number, v) in Fields::new(item).flatten() {
                    match (number, v) {
                        (1, Value::Bytes(b)) => key = b,
                        (2, Value::Bytes(b)) => nested.push(b),
                        (16, Value::Bytes(b)) => value = b,
                        _ => {}
                    }
                }
                (key, value)
            }
        };
        let scalar = is_plain_json_scalar(value);
        if scalar && nested.is_empty() && (key.is_empty() || is_identifier(key)) {
            // Most of a run's values: a number under a plain name. Nothing to scan.
            return;
        }
        let path: Cow<'_, str> = if nested.is_empty() {
            protobuf::lossy(key)
        } else {
            Cow::Owned(
                nested
                    .iter()
                    .map(|k| protobuf::lossy(k))
                    .collect::<Vec<_>>()
                    .join("."),
            )
        };
        if scalar {
            // The key alone could still hold text worth a look (a dict keyed by tokens).
            if !path.is_empty() && !is_identifier(path.as_bytes()) {
                self.texts
                    .push_in(place, Some(&*path), &[], path.as_bytes());
            }
            return;
        }
        if dedup {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (place.record.map(|r| r.0), &*path, value).hash(&mut h);
            // A poisoned lock only means another segment panicked: its set is still sound.
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if !seen.insert(h.finish()) {
                return;
            }
        }
        self.texts
            .push_in(place, Some(&*path), &[path.as_bytes(), b" = "], value);
        if !is_identifier(path.as_bytes()) {
            self.texts
                .push_in(place, Some(&*path), &[], path.as_bytes());
        }
    }

    /// `HistoryRecord`: items (1) and the step (2, `HistoryStep.num`).
    fn history(&mut self, body: &[u8]) {
        // The step is written after the items: where the items are is kept until it is known.
        let mut items = std::mem::take(&mut self.items);
        items.clear();
        let mut step = None;
        for (number, value) in Fields::new(body).flatten() {
            match (number, value) {
                (1, Value::Bytes(item)) => {
                    let at = item.as_ptr() as usize - body.as_ptr() as usize;
                    items.push(at..at + item.len());
                }
                (2, Value::Bytes(s)) => {
                    step = Some(0);
                    for (n, v) in Fields::new(s).flatten() {
                        if let (1, Value::Varint(num)) = (n, v) {
                            step = Some(num as i64);
                        }
                    }
                }
                _ => {}
            }
        }
        let place = Place {
            parent: self.origin,
            record: Some(("history", step)),
        };
        for r in &items {
            // Each range is a field's bytes inside `body`.
            self.item(place, body.get(r.clone()).unwrap_or_default(), false);
        }
        self.items = items;
    }

    /// An `OutputRecord` or `OutputRawRecord`: its `line` (3) continues the console's text.
    fn console(&mut self, raw: bool, body: &[u8]) {
        let mut line: &[u8] = b"";
        for (number, value) in Fields::new(body).flatten() {
            if let (3, Value::Bytes(b)) = (number, value) {
                line = b;
            }
        }
        if line.is_empty() {
            return;
        }
        let slot = if raw { &self.output_raw } else { &self.output };
        if slot.is_none() {
            let name = if raw { "output_raw" } else { "output" };
            let origin = self.record_origin(name);
            let console = Some(Console {
                origin,
                buf: Vec::new(),
                base: Base::default(),
                hold: self.relative.then_some(u8::from(raw)),
                head: Vec::new(),
                in_head: self.relative,
            });
            if raw {
                self.output_raw = console;
            } else {
                self.output = console;
            }
        }
        let slot = if raw {
            &mut self.output_raw
        } else {
            &mut self.output
        };
        let Some(console) = slot.as_mut() else { return };
        if console.in_head {
            let Some(nl) = memchr::memchr(b'\n', line) else {
                console.head.extend_from_slice(line);
                return;
            };
            console.head.extend_from_slice(&line[..=nl]);
            console.in_head = false;
            line = &line[nl + 1..];
        }
        console.buf.extend_from_slice(line);
        if console.buf.len() >= OUTPUT_PIECE
            && let Some(nl) = memchr::memrchr(b'\n', &console.buf)
        {
            let rest = console.buf.split_off(nl + 1);
            let piece = std::mem::replace(&mut console.buf, rest);
            push_console(
                &mut self.texts,
                &console.origin,
                &piece,
                &mut console.base,
                console.hold,
            );
        }
    }

    /// `RunRecord`: names and notes by name, its config and summary as items, the rest by the
    /// generic walk.
    fn run(&mut self, body: &[u8]) {
        let origin = self.record_origin("run");
        let mut tag = 0;
        for (number, value) in Fields::new(body).flatten() {
            let Value::Bytes(b) = value else { continue };
            match number {
                4 => self.items("config", b),
                5 => self.items("summary", b),
                10 => {
                    let o = origin.child(Segment::Key {
                        path: format!("tags[{tag}]"),
                    });
                    tag += 1;
                    self.texts.push(o, b"", b, b"");
                }
                n => {
                    let name = run_field(n);
                    self.field(&origin, n, name, b);
                }
            }
        }
    }

    /// A record whose top-level fields have names: text fields by name, messages by the
    /// generic walk under that name.
    fn named(&mut self, record: &'static str, body: &[u8], names: fn(u64) -> Option<&'static str>) {
        let origin = self.record_origin(record);
        for (number, value) in Fields::new(body).flatten() {
            if let Value::Bytes(b) = value {
                self.field(&origin, number, names(number), b);
            }
        }
    }

    /// One length-delimited field of a known record: text under its name (or `#N`), or a
    /// message walked generically.
    fn field(&mut self, origin: &Origin, number: u64, name: Option<&str>, bytes: &[u8]) {
        if bytes.is_empty() || number == 200 {
            return;
        }
        let path = name.map_or_else(|| format!("#{number}"), str::to_string);
        if protobuf::is_text(bytes) {
            let o = origin.child(Segment::Key { path: path.clone() });
            let label = if name.is_some() {
                format!("{path} = ")
            } else {
                String::new()
            };
            self.texts.push(o, label.as_bytes(), bytes, b"");
        } else {
            let texts = &mut self.texts;
            protobuf::strings(bytes, &path, &mut |found| {
                let o = origin.child(Segment::Key { path: found.path });
                texts.push(o, b"", found.bytes, b"");
            });
        }
    }

    /// Any other record, by the generic walk.
    fn generic(&mut self, name: &'static str, body: &[u8]) {
        let origin = self.record_origin(name);
        let texts = &mut self.texts;
        protobuf::strings(body, "", &mut |found| {
            let o = origin.child(Segment::Key { path: found.path });
            texts.push(o, b"", found.bytes, b"");
        });
    }

    /// The end of a segment: its console output's whole lines are handed over, the edges
    /// kept ([`Edges`]); then the document.
    fn into_segment(mut self) -> (Texts<'e, 'a>, [Edges; 2]) {
        let mut edges: [Edges; 2] = Default::default();
        for (i, console) in [self.output.take(), self.output_raw.take()]
            .into_iter()
            .enumerate()
        {
            let Some(mut console) = console else { continue };
            let whole = memchr::memrchr(b'\n', &console.buf).map_or(0, |nl| nl + 1);
            let tail = console.buf.split_off(whole);
            push_console(
                &mut self.texts,
                &console.origin,
                &console.buf,
                &mut console.base,
                console.hold,
            );
            edges[i] = Edges {
                closed: !console.in_head,
                head: console.head,
                tail,
                lines: console.base.lines,
                bytes: console.base.bytes,
            };
        }
        (self.texts, edges)
    }

    /// Hands over what is left: the console output being joined, then the document.
    fn into_texts(mut self) -> Texts<'e, 'a> {
        for console in [self.output.take(), self.output_raw.take()]
            .into_iter()
            .flatten()
        {
            let mut base = console.base;
            push_console(
                &mut self.texts,
                &console.origin,
                &console.buf,
                &mut base,
                None,
            );
        }
        self.texts
    }
}

/// Hands a piece of console output to the scan, with its ANSI codes removed, at `base`, and
/// moves `base` past it: findings' offsets count bytes of the console text without its ANSI
/// codes, wherever it was cut into pieces. Its findings are held with `hold`, if any
/// ([`Texts::push_held`]).
fn push_console(
    texts: &mut Texts<'_, '_>,
    origin: &Origin,
    piece: &[u8],
    base: &mut Base,
    hold: Option<u8>,
) {
    if piece.is_empty() {
        return;
    }
    let stripped = ansi::strip(piece);
    let text = stripped.as_ref().map_or(piece, |s| s.text.as_slice());
    match hold {
        Some(tag) => texts.push_held(origin.clone(), text, *base, tag),
        None => texts.push_at(origin.clone(), b"", text, b"", *base),
    }
    base.lines += memchr::memchr_iter(b'\n', text).count() as u64;
    base.bytes += text.len() as u64;
}

/// The key and value of an item written the usual way (`key` then `value_json`, each shorter
/// than 128 bytes), read without the general walk; `None` for any other item.
#[inline]
fn plain_item(item: &[u8]) -> Option<(&[u8], &[u8])> {
    // Field 1, length-delimited: 0x0a, a one-byte length, the key; field 16: 0x82 0x01, a
    // one-byte length, the value, to the item's end.
    let [0x0a, k, rest @ ..] = item else {
        return None;
    };
    let k = usize::from(*k);
    if k >= 0x80 || rest.len() < k {
        return None;
    }
    let (key, rest) = rest.split_at(k);
    let [0x82, 0x01, v, value @ ..] = rest else {
        return None;
    };
    (usize::from(*v) == value.len() && *v < 0x80).then_some((key, value))
}

/// Whether a `value_json` is a number, a boolean or `null`: nothing to scan.
fn is_plain_json_scalar(v: &[u8]) -> bool {
    /// The bytes of a JSON number (and of `NaN`, `Infinity`: checked whole below).
    static NUMBER: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = b'0';
        while c <= b'9' {
            t[c as usize] = true;
            c += 1;
        }
        t[b'.' as usize] = true;
        t[b'-' as usize] = true;
        t[b'+' as usize] = true;
        t[b'e' as usize] = true;
        t[b'E' as usize] = true;
        t
    };
    match v.first() {
        None => false,
        // Text, an object, an array: the usual values worth a look.
        Some(b'"' | b'{' | b'[') => false,
        Some(_) => {
            matches!(
                v,
                b"true" | b"false" | b"null" | b"NaN" | b"Infinity" | b"-Infinity"
            ) || v.iter().fold(true, |all, &b| all & NUMBER[usize::from(b)])
        }
    }
}

/// Whether a key is a plain name (`protobuf::is_plain_name`, 64 bytes at most), not worth scanning on its own.
fn is_identifier(k: &[u8]) -> bool {
    k.len() <= 64 && super::protobuf::is_plain_name(k)
}

/// The names of `Record`'s record types (`wandb_internal.proto`).
fn record_name(n: u64) -> &'static str {
    match n {
        6 => "files",
        7 => "stats",
        9 => "tbrecord",
        11 => "telemetry",
        12 => "metric",
        18 => "exit",
        20 => "final",
        21 => "header",
        22 => "footer",
        23 => "preempting",
        24 => "link_artifact",
        25 => "use_artifact",
        27 => "output_logger",
        100 => "request",
        _ => "record",
    }
}

fn run_field(n: u64) -> Option<&'static str> {
    Some(match n {
        1 => "run_id",
        2 => "entity",
        3 => "project",
        6 => "run_group",
        7 => "job_type",
        8 => "display_name",
        9 => "notes",
        11 => "settings",
        12 => "sweep_id",
        13 => "host",
        16 => "storage_id",
        19 => "telemetry",
        21 => "git",
        _ => return None,
    })
}

fn environment_field(n: u64) -> Option<&'static str> {
    Some(match n {
        1 => "os",
        2 => "python",
        4 => "docker",
        5 => "args",
        6 => "program",
        7 => "code_path",
        8 => "code_path_local",
        9 => "git",
        10 => "email",
        11 => "root",
        12 => "host",
        13 => "username",
        14 => "executable",
        15 => "colab",
        18 => "gpu_type",
        25 => "cuda_version",
        27 => "slurm",
        _ => return None,
    })
}

fn alert_field(n: u64) -> Option<&'static str> {
    Some(match n {
        1 => "title",
        2 => "text",
        3 => "level",
        _ => return None,
    })
}

fn artifact_field(n: u64) -> Option<&'static str> {
    Some(match n {
        1 => "run_id",
        2 => "project",
        3 => "entity",
        4 => "type",
        5 => "name",
        6 => "digest",
        7 => "description",
        8 => "metadata",
        11 => "aliases",
        12 => "manifest",
        19 => "tags",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::testkit::{bytes_field as field, described, on_two_threads};

    use super::log::tests::{Lcg, log};

    /// A Hugging Face token (synthetic) made of letters drawn from `seed`.
    fn hf_token(seed: u64) -> String {
        let mut rng = Lcg(seed);
        let letters: String = (0..34)
            .map(|_| {
                let c = rng.below(52) as u8;
                char::from(if c < 26 { b'a' + c } else { b'A' + c - 26 })
            })
            .collect();
        format!("hf_{letters}")
    }

    /// Scans a run file with chunks of `chunk_size` (segments of two chunks) on two threads:
    /// the findings ([`described`]) and the warnings.
    fn scan_run(bytes: &[u8], chunk_size: u64) -> (Vec<String>, Vec<String>) {
        let data = Arc::new(Data::Owned(bytes.to_vec()));
        let (findings, warnings) = on_two_threads(chunk_size, |ex| {
            wandb_blob(ex, data, Origin::file("run-x.wandb"))
        });
        (described(&findings), warnings)
    }

    /// A run of history rows, config and summary items (re-sent) and console output written
    /// in pieces that cut lines (and tokens) anywhere, some lines longer than a block.
    fn synthetic_run(rng: &mut Lcg, tokens: &mut Vec<String>) -> Vec<Vec<u8>> {
        let mut records = Vec::new();
        let mut console = Vec::new();
        for step in 0..400u64 {
            let mut line = format!("step {step} loss 0.{} ", rng.below(1000));
            if rng.below(6) == 0 {
                let t = hf_token(step + 1000);
                line.push_str(&format!("\x1b[1mtoken\x1b[0m {t} "));
                tokens.push(t);
            }
            if rng.below(40) == 0 {
                line.push_str(&"=".repeat(40_000));
            }
            line.push_str(&"-".repeat(rng.below(300) as usize));
            line.push('\n');
            console.extend_from_slice(line.as_bytes());
            // The console so far, in pieces that end anywhere.
            while console.len() > 200 || (step == 399 && !console.is_empty()) {
                let n = (1 + rng.below(700) as usize).min(console.len());
                let piece: Vec<u8> = console.drain(..n).collect();
                let raw = field(3, &piece);
                records.push(field(13, &raw));
            }
            let mut row = field(
                1,
                &[field(1, b"loss").as_slice(), &field(16, b"0.5")].concat(),
            );
            if step % 50 == 7 {
                let t = hf_token(step + 5000);
                let v = format!("\"note {t}\"");
                row.extend(field(
                    1,
                    &[field(1, b"note").as_slice(), &field(16, v.as_bytes())].concat(),
                ));
                tokens.push(t);
            }
            row.extend(field(2, &[8, step as u8 & 0x7f]));
            records.push(field(2, &row));
            if step % 100 == 3 {
                // The config, re-sent unchanged: scanned once.
                let v = format!("\"{}\"", hf_token(1));
                let item = [field(1, b"hf_token").as_slice(), &field(16, v.as_bytes())].concat();
                records.push(field(5, &field(1, &item)));
            }
        }
        tokens.push(hf_token(1));
        records
    }

    #[test]
    fn a_log_in_segments_gives_the_same_findings_as_one_pass() {
        let mut tokens = Vec::new();
        let records = synthetic_run(&mut Lcg(3), &mut tokens);
        let refs: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
        let bytes = log(&refs);
        assert!(bytes.len() as u64 > 8 * BLOCK, "{} bytes", bytes.len());
        let (whole, warnings) = scan_run(&bytes, 8 << 20);
        assert!(warnings.is_empty(), "{warnings:?}");
        // Every planted token, once (the config once though it was sent four times).
        let mut secrets: Vec<&str> = whole
            .iter()
            .map(|f| f.rsplit(' ').next().unwrap())
            .collect();
        secrets.sort();
        let mut planted: Vec<&str> = tokens.iter().map(|t| t.as_str()).collect();
        planted.sort();
        assert_eq!(secrets, planted, "{whole:#?}");
        assert!(
            whole.iter().any(|f| f.contains("output_raw:")),
            "{whole:#?}"
        );
        // Segments of 1, 2 and 3 blocks (chunks of 16 KiB, 32 KiB, 48 KiB).
        for chunk in [BLOCK / 2, BLOCK, 3 * BLOCK / 2] {
            let (parts, warnings) = scan_run(&bytes, chunk);
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(parts, whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn json_scalars_are_skipped() {
        assert!(is_plain_json_scalar(b"0.25"));
        assert!(is_plain_json_scalar(b"-1e+09"));
        assert!(is_plain_json_scalar(b"null"));
        assert!(!is_plain_json_scalar(b"\"0.25\""));
        assert!(!is_plain_json_scalar(b""));
    }
}

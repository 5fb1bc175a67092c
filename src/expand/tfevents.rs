//! TensorBoard event files (`events.out.tfevents.*`): text summaries, hparams, tags and run
//! metadata, by step; scalars, histograms, images and audio skipped.
//!
//! An event file is a TFRecord file: records framed as a length (u64), the masked CRC-32C of
//! the length, the data, the masked CRC-32C of the data. Each record is a protobuf `Event`
//! (TensorFlow's `event.proto`): a wall time, a step, and one of a `Summary` (a list of values,
//! each with a tag), a graph, a log message, a session log or tagged run metadata. Writers put
//! text in a few places: text summaries (`tf.summary.text`, `SummaryWriter.add_text`) as string
//! tensors, hyperparameters (`hparams` plugin data: `session_start_info.hparams`), tags, display
//! names and descriptions, log messages and checkpoint paths; graphs hold names and string
//! constants. Numbers (scalars, histograms, tensor contents) and encoded images and audio hold
//! no text and are never read as such.
//!
//! A finding is named by its step and tag: `events.out.tfevents.… › summary step 12 ›
//! notes/text_summary:1:17`, `› summary step 0 › hparams.api_key:1:11`. Fields not known here
//! (in graphs, run metadata, plugin data) are scanned by the generic walk of
//! [`super::protobuf::strings`].
//!
//! Checksums are verified: a record whose data does not match its checksum is still decoded
//! (with a warning; the scan goes on), a length that does not match its checksum cannot be
//! trusted, so the bytes from there to the next record found ([`next_record`]: a length and data
//! whose checksums both hold) are scanned as bytes, with a warning, and decoding goes on there.
//! A record larger than [`MAX_RECORD`] is scanned as bytes without being held in memory.
//!
//! A file larger than two chunks is decoded in segments on the pool's threads, each from the
//! first record found in it ([`tfevents_blob`]).

use std::ops::Range;
use std::sync::Arc;

use super::Expander;
use super::protobuf::{self, Fields, Value};
use super::texts::{self, Place, Texts};
use crate::blob::{Data, Origin, Segment};

/// The largest record decoded in memory (64 MiB); larger ones are scanned as bytes.
pub const MAX_RECORD: u64 = 64 << 20;

/// TFRecord's masked CRC-32C (Castagnoli), as TensorFlow writes it.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = match <[u8; 8]>::try_from(bytes) {
        // A record's length: eight table lookups cost less than the call's setup.
        Ok(eight) => crc32c_eight(eight),
        Err(_) => crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, bytes) as u32,
    };
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// CRC-32C tables for eight bytes at a time: `T[k][b]` is the CRC of byte `b` followed by `k`
/// zero bytes.
static CRC32C_TABLES: [[u32; 256]; 8] = {
    let mut t = [[0u32; 256]; 8];
    let mut b = 0;
    while b < 256 {
        let mut c = b as u32;
        let mut i = 0;
        while i < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            i += 1;
        }
        t[0][b] = c;
        b += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            let prev = t[k - 1][b];
            t[k][b] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            b += 1;
        }
        k += 1;
    }
    t
};

/// The CRC-32C of eight bytes (slicing by eight).
fn crc32c_eight(bytes: [u8; 8]) -> u32 {
    let v = u64::from_le_bytes(bytes) ^ 0xffff_ffff;
    let t = &CRC32C_TABLES;
    let byte = |i: u32| usize::from((v >> (8 * i)) as u8);
    !(t[7][byte(0)]
        ^ t[6][byte(1)]
        ^ t[5][byte(2)]
        ^ t[4][byte(3)]
        ^ t[3][byte(4)]
        ^ t[2][byte(5)]
        ^ t[1][byte(6)]
        ^ t[0][byte(7)])
}

/// Whether `head` starts with a TFRecord frame whose length checksum holds (a chance of one in
/// four billion for other bytes).
pub fn is_tfrecord(head: &[u8]) -> bool {
    head.len() >= 12 && masked_crc(&head[..8]).to_le_bytes() == head[8..12]
}

/// Scans a TFRecord file of `Event`s held in `data`.
///
/// A file larger than two chunks is decoded in segments of about two chunks on the pool's
/// threads, each scanning what it decodes: a segment starts at the first record found at or
/// after its first byte ([`next_record`]) and decodes records until one starts at or past the
/// next segment's start. A smaller one is decoded on a thread of its own while the scan reads
/// what it holds ([`texts::beside`]).
pub fn tfevents_blob(ex: &Expander<'_>, data: Arc<Data>, origin: Origin) {
    let len = data.len();
    let segment = ex.chunk_size.saturating_mul(2).max(1);
    let mut damage = Damage::default();
    if rayon::current_num_threads() > 1 && len > segment {
        use rayon::prelude::*;
        // Where each segment starts: a record's start (segments in which none starts are
        // joined to the one before).
        let mut starts = vec![0u64];
        let mut buf = Vec::new();
        let mut checks = RESYNC_CHECKS;
        let mut from = segment;
        while from < len && !ex.sink.stopped() {
            match next_record(&data, from, len, &mut buf, &mut checks) {
                Ok(Some(at)) => {
                    starts.push(at);
                    from = (at / segment + 1) * segment;
                }
                Ok(None) => break,
                Err(e) => {
                    ex.read_error(&origin, &e);
                    break;
                }
            }
        }
        let ranges: Vec<Range<u64>> = starts
            .iter()
            .zip(starts.iter().skip(1).chain(std::iter::once(&len)))
            .map(|(&a, &b)| a..b)
            .collect();
        let damages: Vec<Damage> = ranges
            .into_par_iter()
            .with_max_len(1)
            .map(|range| {
                let mut texts = Texts::one_chunk(ex);
                let d = decode_records(ex, &data, &origin, &mut texts, range);
                texts.finish();
                d
            })
            .collect();
        damages.into_iter().for_each(|d| damage.add(d));
    } else {
        // Events are decoded on a thread of their own while the scan reads what they hold.
        texts::beside(ex, |mut texts| {
            damage = decode_records(ex, &data, &origin, &mut texts, 0..len);
            texts
        });
    }
    damage.report(ex, &origin);
}

/// What went wrong in a file's framing: records whose data fails its checksum (decoded all the
/// same), and spans that could not be read as records (scanned as bytes).
#[derive(Debug, Default)]
struct Damage {
    bad_data: u64,
    spans: u64,
    /// The first span: where, why, where the records go on (the end for none).
    first: Option<(u64, &'static str, u64)>,
}

impl Damage {
    fn add(&mut self, other: Damage) {
        self.bad_data += other.bad_data;
        self.spans += other.spans;
        if let Some(f) = other.first
            && self.first.is_none_or(|mine| f.0 < mine.0)
        {
            self.first = Some(f);
        }
    }

    fn report(self, ex: &Expander<'_>, origin: &Origin) {
        if self.bad_data > 0 {
            ex.sink.error(
                origin,
                format!(
                    "{} record(s) fail their data checksum (decoded all the same)",
                    self.bad_data
                ),
            );
        }
        if let Some((at, why, next)) = self.first {
            let rest = if next == u64::MAX {
                "the rest is scanned as bytes".to_string()
            } else {
                format!("scanned as bytes up to the next record, at byte {next}")
            };
            let more = match self.spans {
                0 | 1 => String::new(),
                n => format!(" ({} more damaged span(s) after it)", n - 1),
            };
            ex.sink
                .error(origin, format!("{why} at byte {at}: {rest}{more}"));
        }
    }
}

/// Decodes the records from `range.start` (where one starts) until one starts at or past
/// `range.end`. Damaged framing (a length that fails its checksum, a record cut short) is
/// scanned as bytes up to the next record found ([`next_record`]), and decoding goes on there.
fn decode_records(
    ex: &Expander<'_>,
    data: &Arc<Data>,
    origin: &Origin,
    texts: &mut Texts<'_, '_>,
    range: Range<u64>,
) -> Damage {
    let len = data.len();
    let mut pos = range.start;
    let mut buf = Vec::new();
    let mut damage = Damage::default();
    let mut behind = texts::Behind::at(range.start);
    let mut checks = RESYNC_CHECKS;
    while pos < range.end && !ex.sink.stopped() {
        behind.passed(data, pos);
        let header = match data.range(pos..pos + 12, &mut buf) {
            Ok(h) => h,
            Err(e) => {
                ex.read_error(origin, &e);
                break;
            }
        };
        let n = match header.get(..8) {
            Some(h) if header.len() == 12 => u64::from_le_bytes(h.try_into().unwrap_or_default()),
            _ => u64::MAX,
        };
        let why = if n == u64::MAX {
            Some("a truncated record header")
        } else if masked_crc(&header[..8]).to_le_bytes() != header[8..12] {
            Some("a record length fails its checksum")
        } else if (pos + 12).saturating_add(n).saturating_add(4) > len {
            Some("a truncated record")
        } else {
            None
        };
        if let Some(why) = why {
            match damaged(texts, data, origin, pos, range.end, &mut buf, &mut checks) {
                Ok(next) => {
                    // Without a record before the segment's end, decoding goes on where the
                    // next segment starts (a record), or nowhere at the file's end.
                    let resume = next.unwrap_or(range.end);
                    damage.spans += 1;
                    if damage.first.is_none() {
                        let goes_on = if resume < len { resume } else { u64::MAX };
                        damage.first = Some((pos, why, goes_on));
                    }
                    match next {
                        Some(next) => pos = next,
                        None => break,
                    }
                }
                Err(e) => {
                    ex.read_error(origin, &e);
                    break;
                }
            }
            continue;
        }
        let body = pos + 12;
        let end = body + n + 4;
        if n > MAX_RECORD {
            let o = origin.child(Segment::Record {
                name: format!("record at byte {pos}"),
                step: None,
            });
            ex.sink.skipped(
                &o,
                format!("a record of {n} bytes is over {MAX_RECORD}: scanned as bytes"),
            );
            texts.leaf(data.slice(body..body + n), o);
            pos = end;
            continue;
        }
        let frame = match data.range(body..end, &mut buf) {
            Ok(f) if f.len() as u64 == n + 4 => f,
            Ok(_) => {
                // The file shrank while it was read.
                break;
            }
            Err(e) => {
                ex.read_error(origin, &e);
                break;
            }
        };
        let (event, crc) = frame.split_at(n as usize);
        if masked_crc(event).to_le_bytes() != crc {
            damage.bad_data += 1;
        }
        decode_event(texts, origin, event);
        pos = end;
    }
    behind.done(data, pos.min(len));
    damage
}

/// Damage at `at`: the bytes from there to the next record found before `end` (or to `end`)
/// are scanned as bytes; returns where that record starts.
fn damaged(
    texts: &mut Texts<'_, '_>,
    data: &Arc<Data>,
    origin: &Origin,
    at: u64,
    end: u64,
    buf: &mut Vec<u8>,
    checks: &mut u64,
) -> std::io::Result<Option<u64>> {
    let next = next_record(data, at + 1, end, buf, checks)?;
    let o = origin.child(Segment::Record {
        name: format!("damaged from byte {at}"),
        step: None,
    });
    texts.leaf(data.slice(at..next.unwrap_or(end)), o);
    Ok(next)
}

/// Bytes of data whose checksum [`next_record`] may check for one decoder (256 MiB, about 60 ms):
/// a file of forged lengths cannot make it check the same megabytes again and again.
pub const RESYNC_CHECKS: u64 = 256 << 20;

/// The first byte at or after `from` and before `end` where a record starts: a length whose
/// checksum holds, then data of that length within the file whose checksum holds too (a
/// chance of one in 2^64 for other bytes). A record over [`MAX_RECORD`], or longer than what is
/// left of `checks` (bytes of data it may still check, shared by the calls of one decoder), is
/// taken on its length's checksum alone: at worst a forged length is decoded as a record.
pub fn next_record(
    data: &Data,
    from: u64,
    end: u64,
    buf: &mut Vec<u8>,
    checks: &mut u64,
) -> std::io::Result<Option<u64>> {
    /// Bytes read at once while looking.
    const WINDOW: u64 = 1 << 20;
    let len = data.len();
    let mut body = Vec::new();
    let mut at = from;
    while at < end.min(len) {
        let upto = (at + WINDOW).min(end).min(len);
        let w = data.range(at..(upto + 11).min(len), buf)?;
        for i in 0..(upto - at) as usize {
            let Some(head) = w.get(i..i + 12) else { break };
            let Ok(eight) = <[u8; 8]>::try_from(&head[..8]) else {
                break;
            };
            if masked_crc(&eight).to_le_bytes() != head[8..12] {
                continue;
            }
            let p = at + i as u64;
            let n = u64::from_le_bytes(eight);
            let stop = (p + 12).saturating_add(n).saturating_add(4);
            if stop > len {
                continue;
            }
            if n > MAX_RECORD || n > *checks {
                return Ok(Some(p));
            }
            *checks -= n;
            let frame = data.range(p + 12..stop, &mut body)?;
            if frame.len() as u64 == n + 4 {
                let (event, crc) = frame.split_at(n as usize);
                if masked_crc(event).to_le_bytes() == crc {
                    return Ok(Some(p));
                }
            }
        }
        at = upto;
    }
    Ok(None)
}

/// One `Event`: `step` (2), `summary` (5), `graph_def` (4), `log_message` (6), `session_log`
/// (7), `tagged_run_metadata` (8), `meta_graph_def` (9); `file_version` (3) and
/// `source_metadata` (10) are the writer's own strings.
pub fn decode_event(texts: &mut Texts<'_, '_>, origin: &Origin, event: &[u8]) {
    // proto3 leaves a step of 0 out.
    let mut step = Some(0);
    for (number, value) in Fields::new(event).flatten() {
        if let (2, Value::Varint(s)) = (number, value) {
            step = Some(s as i64);
        }
    }
    let record = |name: &str| {
        origin.child(Segment::Record {
            name: name.into(),
            step,
        })
    };
    for field in Fields::new(event) {
        let (number, value) = match field {
            Ok(f) => f,
            Err(e) => {
                let rest = event.get(e.at..).unwrap_or_default();
                texts.push(record("damaged event"), b"", rest, b"");
                return;
            }
        };
        let Value::Bytes(body) = value else { continue };
        match number {
            5 => summary(
                texts,
                Place {
                    parent: origin,
                    record: Some(("summary", step)),
                },
                body,
            ),
            4 => generic(texts, &record("graph"), body, ""),
            9 => generic(texts, &record("meta_graph"), body, ""),
            6 => named(texts, &record("log_message"), body, &[(2, "message")]),
            7 => named(
                texts,
                &record("session_log"),
                body,
                &[(2, "checkpoint_path"), (3, "msg")],
            ),
            8 => named(texts, &record("run_metadata"), body, &[(1, "tag")]),
            3 | 10 => {}
            n => generic(texts, &record("event"), body, &format!("#{n}")),
        }
    }
}

/// Text fields by name, the rest by the generic walk.
fn named(texts: &mut Texts<'_, '_>, origin: &Origin, body: &[u8], names: &[(u64, &str)]) {
    for (number, value) in Fields::new(body).flatten() {
        let Value::Bytes(b) = value else { continue };
        match names.iter().find(|(n, _)| *n == number) {
            Some((_, name)) if protobuf::is_text(b) => {
                let o = origin.child(Segment::Key {
                    path: (*name).to_string(),
                });
                texts.push(o, format!("{name} = ").as_bytes(), b, b"");
            }
            _ => generic(texts, origin, b, &format!("#{number}")),
        }
    }
}

/// Every string of a message of unknown schema, under `prefix`.
fn generic(texts: &mut Texts<'_, '_>, origin: &Origin, body: &[u8], prefix: &str) {
    if protobuf::is_text(body) && !prefix.is_empty() {
        let o = origin.child(Segment::Key {
            path: prefix.to_string(),
        });
        texts.push(o, b"", body, b"");
        return;
    }
    protobuf::strings(body, prefix, &mut |found| {
        let o = origin.child(Segment::Key { path: found.path });
        texts.push(o, b"", found.bytes, b"");
    });
}

/// A `Summary`: its `value`s (1), each `Summary.Value` with `tag` (1), `metadata` (9), a
/// `tensor` (8); `simple_value` (2), `histo` (5), `image` (4), `audio` (6) and the old
/// histogram (3) hold no text. Origins (`› summary step 3 › notes`) are built only for findings
/// ([`Texts::push_in`]): a run writes millions of values.
fn summary(texts: &mut Texts<'_, '_>, place: Place<'_>, body: &[u8]) {
    for (number, value) in Fields::new(body).flatten() {
        let (1, Value::Bytes(v)) = (number, value) else {
            continue;
        };
        let mut tag: &[u8] = b"";
        let mut node: &[u8] = b"";
        // A message field other than the tag and the numbers and media (a text tensor, its
        // metadata, a field not known here).
        let mut more = false;
        for (n, f) in Fields::new(v).flatten() {
            match (n, f) {
                (1, Value::Bytes(t)) => tag = t,
                (7, Value::Bytes(t)) => node = t,
                (3..=6, _) => {}
                (_, Value::Bytes(_)) => more = true,
                _ => {}
            }
        }
        let tag = if tag.is_empty() { node } else { tag };
        let plain = super::protobuf::is_plain_name(tag);
        if plain && !more {
            // A scalar, a histogram, an image under a plain tag: nothing to scan.
            continue;
        }
        let tag = protobuf::lossy(tag);
        let key = || {
            place.origin().child(Segment::Key {
                path: tag.to_string(),
            })
        };
        if !plain {
            texts.push_in(place, Some(&tag), &[], tag.as_bytes());
        }
        for (n, f) in Fields::new(v).flatten() {
            let Value::Bytes(b) = f else { continue };
            match n {
                8 => tensor_strings(texts, place, &tag, b),
                9 => metadata(texts, &tag, place, b),
                // tag, node_name (above); old histogram, image, histogram, audio: numbers and
                // encoded media.
                1 | 7 | 3..=6 => {}
                other => generic(texts, &key(), b, &format!("#{other}")),
            }
        }
    }
}

/// A `TensorProto`'s `string_val` (8): the text of a text summary. Numbers (`tensor_content`
/// and the typed value lists) are skipped.
fn tensor_strings(texts: &mut Texts<'_, '_>, place: Place<'_>, tag: &str, tensor: &[u8]) {
    for (n, f) in Fields::new(tensor).flatten() {
        if let (8, Value::Bytes(s)) = (n, f)
            && !s.is_empty()
        {
            texts.push_in(place, Some(tag), &[], s);
        }
    }
}

/// A `SummaryMetadata`: `plugin_data` (1: `plugin_name`, `content`), `display_name` (2),
/// `summary_description` (3). The hparams plugin's content is decoded; other plugins' by the
/// generic walk.
fn metadata(texts: &mut Texts<'_, '_>, tag: &str, place: Place<'_>, meta: &[u8]) {
    // Built only for a text to push: most metadata (a text summary's plugin name) holds none.
    let key = |path: String| place.origin().child(Segment::Key { path });
    for (n, f) in Fields::new(meta).flatten() {
        let Value::Bytes(b) = f else { continue };
        match n {
            1 => {
                let mut plugin: &[u8] = b"";
                let mut content: &[u8] = b"";
                for (pn, pf) in Fields::new(b).flatten() {
                    match (pn, pf) {
                        (1, Value::Bytes(p)) => plugin = p,
                        (2, Value::Bytes(c)) => content = c,
                        _ => {}
                    }
                }
                if content.is_empty() {
                    continue;
                }
                if plugin == b"hparams" {
                    hparams(texts, &place.origin(), content);
                } else {
                    generic(texts, &key(format!("{tag}.plugin_data")), content, "");
                }
            }
            2 | 3 if !b.is_empty() => {
                let name = if n == 2 {
                    "display_name"
                } else {
                    "description"
                };
                texts.push(key(format!("{tag}.{name}")), b"", b, b"");
            }
            _ => {}
        }
    }
}

/// The hparams plugin's `HParamsPluginData`: `session_start_info` (3) holds the run's
/// hyperparameters (`hparams`, a map of `google.protobuf.Value`s), its model URI, monitor URL
/// and group name; the experiment (2) and session end (4) by the generic walk.
fn hparams(texts: &mut Texts<'_, '_>, origin: &Origin, content: &[u8]) {
    let key = |path: String| origin.child(Segment::Key { path });
    for (n, f) in Fields::new(content).flatten() {
        let Value::Bytes(b) = f else { continue };
        if n != 3 {
            generic(texts, &key("hparams".into()), b, "");
            continue;
        }
        for (sn, sf) in Fields::new(b).flatten() {
            let Value::Bytes(v) = sf else { continue };
            match sn {
                1 => {
                    let mut name: &[u8] = b"";
                    let mut value: &[u8] = b"";
                    for (en, ef) in Fields::new(v).flatten() {
                        match (en, ef) {
                            (1, Value::Bytes(k)) => name = k,
                            (2, Value::Bytes(val)) => value = val,
                            _ => {}
                        }
                    }
                    let name = protobuf::lossy(name);
                    let o = key(format!("hparams.{name}"));
                    // google.protobuf.Value: string_value (3); a struct or list (5, 6) walked.
                    for (vn, vf) in Fields::new(value).flatten() {
                        match (vn, vf) {
                            (3, Value::Bytes(s)) if !s.is_empty() => {
                                texts.push(o.clone(), format!("{name} = ").as_bytes(), s, b"");
                            }
                            (5 | 6, Value::Bytes(s)) => generic(texts, &o, s, ""),
                            _ => {}
                        }
                    }
                }
                2..=4 => {
                    let name = ["model_uri", "monitor_url", "group_name"][sn as usize - 2];
                    texts.push(key(format!("hparams.{name}")), b"", v, b"");
                }
                _ => generic(texts, &key("hparams".into()), v, ""),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::testkit::{bytes_field, described, on_two_threads, varint_field};

    /// A TFRecord frame around `event`.
    fn frame(event: &[u8]) -> Vec<u8> {
        let len = (event.len() as u64).to_le_bytes();
        let mut out = len.to_vec();
        out.extend(masked_crc(&len).to_le_bytes());
        out.extend_from_slice(event);
        out.extend(masked_crc(event).to_le_bytes());
        out
    }

    /// A GitLab token (synthetic) from `seed`.
    fn token(seed: u64) -> String {
        let mut x = seed;
        let body: String = (0..20)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let c = ((x >> 33) % 36) as u8;
                char::from(if c < 10 { b'0' + c } else { b'a' + c - 10 })
            })
            .collect();
        format!("glpat-{body}")
    }

    /// Scans an event file with chunks of `chunk_size` on two threads: the findings
    /// ([`described`]) and the warnings.
    fn scan(bytes: &[u8], chunk_size: u64) -> (Vec<String>, Vec<String>) {
        let data = Arc::new(Data::Owned(bytes.to_vec()));
        let (findings, warnings) = on_two_threads(chunk_size, |ex| {
            tfevents_blob(ex, data, Origin::file("events.out.tfevents.1"))
        });
        (described(&findings), warnings)
    }

    #[test]
    fn forged_lengths_are_checked_within_a_budget() {
        // 100 forged frames in a row: each length's checksum holds, each claims 64 KiB of
        // data whose checksum fails. Looking for the next record checks the data of the
        // forged frames while `checks` lasts, then takes the next one on its length alone.
        let claimed = 64u64 << 10;
        let mut bytes = Vec::new();
        let mut at = Vec::new();
        for _ in 0..100 {
            at.push(bytes.len() as u64);
            let len = claimed.to_le_bytes();
            bytes.extend(len);
            bytes.extend(masked_crc(&len).to_le_bytes());
        }
        bytes.resize(bytes.len() + claimed as usize + 4, b'x');
        let data = Data::Owned(bytes);
        let len = data.len();
        let mut buf = Vec::new();
        let mut checks = RESYNC_CHECKS;
        assert_eq!(
            next_record(&data, 0, len, &mut buf, &mut checks).unwrap(),
            None
        );
        assert_eq!(checks, RESYNC_CHECKS - 100 * claimed);
        let mut checks = 10 * claimed;
        let found = next_record(&data, 1, len, &mut buf, &mut checks).unwrap();
        assert_eq!(
            found,
            Some(at[11]),
            "ten checked (frames 1-10), the eleventh taken"
        );
        assert_eq!(checks, 0);
    }

    #[test]
    fn a_file_in_segments_gives_the_same_findings_and_warnings_as_one_pass() {
        // Log messages (some with a token, some longer than a segment) between scalars.
        let mut bytes = Vec::new();
        let mut planted = Vec::new();
        let mut starts = Vec::new();
        for step in 0..3000u64 {
            let mut event = varint_field(2, step);
            let value = [bytes_field(1, b"loss"), varint_field(2, 0)].concat();
            event.extend(bytes_field(5, &bytes_field(1, &value)));
            if step % 7 == 3 {
                let mut message = format!("step {step} ").repeat(1 + (step % 13) as usize);
                if step % 500 == 10 {
                    message.push_str(&"~".repeat(70_000));
                }
                if step % 11 == 3 {
                    let t = token(step);
                    message.push_str(&format!(" pushed with {t}"));
                    planted.push(t);
                }
                let log = [varint_field(1, 4), bytes_field(2, message.as_bytes())].concat();
                event.extend(bytes_field(6, &log));
            }
            starts.push(bytes.len());
            bytes.extend(frame(&event));
        }
        assert!(bytes.len() > 150_000, "{}", bytes.len());
        let (whole, warnings) = scan(&bytes, 8 << 20);
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut secrets: Vec<&str> = whole
            .iter()
            .map(|f| f.rsplit(' ').next().unwrap())
            .collect();
        secrets.sort();
        planted.sort();
        assert_eq!(secrets, planted);
        for chunk in [8 << 10, 16 << 10, 40 << 10] {
            assert_eq!(
                scan(&bytes, chunk),
                (whole.clone(), vec![]),
                "chunks of {chunk}"
            );
        }
        // Damage to records with a token: broken lengths, broken data checksums; then a cut
        // end. Bytes up to the next record are scanned as bytes.
        let mut bad = bytes.clone();
        for (k, &at) in starts.iter().enumerate().filter(|(k, _)| k % 385 == 3) {
            if (k / 385) % 2 == 0 {
                bad[at + 3] ^= 0x10;
            } else {
                bad[at + 20] ^= 0x10;
            }
        }
        bad.truncate(bad.len() - 30);
        let (whole, warnings) = scan(&bad, 8 << 20);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[1].contains("fails its checksum"), "{warnings:?}");
        assert!(
            whole.iter().any(|f| f.contains("damaged from byte")),
            "{whole:#?}"
        );
        // A broken length just before the first record of the second segment (chunks of
        // 16 KiB, segments of 32 KiB): the span ends where that segment starts, and the
        // warning says so, as one pass does.
        let second = *starts.iter().find(|&&s| s >= 32 << 10).unwrap();
        let before = starts[starts.iter().position(|&s| s == second).unwrap() - 1];
        let mut edge = bytes.clone();
        edge[before + 3] ^= 0x10;
        let (one, edge_warnings) = scan(&edge, 8 << 20);
        assert_eq!(edge_warnings.len(), 1, "{edge_warnings:?}");
        assert!(
            edge_warnings[0].ends_with(&format!("the next record, at byte {second}")),
            "{edge_warnings:?}"
        );
        assert_eq!(scan(&edge, 16 << 10), (one, edge_warnings));
        for chunk in [8 << 10, 16 << 10, 40 << 10] {
            assert_eq!(
                scan(&bad, chunk),
                (whole.clone(), warnings.clone()),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn masked_crc_matches_tensorflow() {
        // The first frame of a file written by tensorboard's EventFileWriter: the length 24
        // and its masked CRC-32C.
        let len = 24u64.to_le_bytes();
        let crc = masked_crc(&len);
        let mut head = len.to_vec();
        head.extend(crc.to_le_bytes());
        assert!(is_tfrecord(&head));
        head[9] ^= 1;
        assert!(!is_tfrecord(&head));
        // The eight-byte path agrees with the general one.
        for len in [0u64, 24, 1 << 40, u64::MAX] {
            let b = len.to_le_bytes();
            let general = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, &b) as u32;
            assert_eq!(crc32c_eight(b), general, "{len}");
        }
        // CRC-32C of "123456789" is e3069283 (the check value of the Castagnoli polynomial).
        let plain = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, b"123456789");
        assert_eq!(plain, 0xe306_9283);
    }
}

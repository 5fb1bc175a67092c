//! The log of a W&B run file: 32 KiB blocks of fragments, each checked (CRC-32) and joined into
//! records, in one pass or in segments read on several threads ([`Log::segment`]).

use crate::blob::Data;
use crate::expand::texts;

/// The log's block size (32 KiB).
pub const BLOCK: u64 = 32 << 10;
/// A fragment's header: CRC-32 (4), length (2), type (1).
pub(super) const HEADER: u64 = 7;
/// The largest record held in memory to be decoded (64 MiB); larger ones are scanned as bytes.
pub const MAX_RECORD: usize = 64 << 20;

/// A fragment's type.
const FULL: u8 = 1;
const FIRST: u8 = 2;
const MIDDLE: u8 = 3;
const LAST: u8 = 4;

/// What the log hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A whole record (its fragments joined), starting at this byte of the file.
    Record(u64, &'a [u8]),
    /// Bytes that cannot be read as a record, starting at this byte: scanned as they are.
    Damaged(u64, &'a [u8], String),
}

/// Reads the fragments of a LevelDB-style log and joins them into records.
///
/// A log can be read in segments ([`Log::segment`]), each on its own thread: a segment reads the
/// fragments that start inside it, skipping the MIDDLE and LAST fragments it starts with (they
/// continue a record of the segment before), and reads on past its end for the MIDDLE and LAST
/// fragments that follow (they continue its own last record), up to the next FULL or FIRST
/// fragment or damage. So every fragment is read by one segment, and the segments together hand
/// on the same records and damage as one pass over the log.
pub struct Log<'d> {
    data: &'d Data,
    pos: u64,
    /// Fragments starting at or past this byte are read only while they continue a record.
    end: u64,
    /// At the start of a segment after the first: MIDDLE and LAST fragments are skipped.
    skipping: bool,
    block: Vec<u8>,
    record: Vec<u8>,
    record_at: u64,
    /// A FIRST fragment was read and its LAST not yet (a FIRST may be empty: LevelDB writes
    /// one when exactly a header's room is left in a block).
    open: bool,
    /// Inside a record that grew past [`MAX_RECORD`]: its next fragments are damaged bytes.
    oversized: bool,
}

impl<'d> Log<'d> {
    /// A log over `data`, starting after the 7-byte file header.
    pub fn new(data: &'d Data) -> Log<'d> {
        Log::segment(data, 0..data.len())
    }

    /// The segment of the log over `data` whose fragments start in `range` (a range of whole
    /// blocks, the last one to the end).
    pub fn segment(data: &'d Data, range: std::ops::Range<u64>) -> Log<'d> {
        Log {
            data,
            pos: range.start.max(HEADER),
            end: range.end,
            skipping: range.start > 0,
            block: Vec::new(),
            record: Vec::new(),
            record_at: 0,
            open: false,
            oversized: false,
        }
    }

    /// Calls `f` with every record and every damaged span, in file order.
    pub fn for_each(&mut self, f: &mut dyn FnMut(Event<'_>)) -> std::io::Result<()> {
        self.for_each_until(&|| false, f)
    }

    /// [`Log::for_each`], asking `stop` at every block.
    pub fn for_each_until(
        &mut self,
        stop: &dyn Fn() -> bool,
        f: &mut dyn FnMut(Event<'_>),
    ) -> std::io::Result<()> {
        let data = self.data;
        let len = data.len();
        let mut block_buf = std::mem::take(&mut self.block);
        let mut behind = texts::Behind::at(self.pos - self.pos % BLOCK);
        'blocks: while self.pos < len {
            if stop() {
                break;
            }
            let block_start = self.pos - self.pos % BLOCK;
            let block_end = (block_start + BLOCK).min(len);
            let block = data.range(block_start..block_end, &mut block_buf)?;
            if block.is_empty() {
                break;
            }
            let mut at = (self.pos - block_start) as usize;
            while at + HEADER as usize <= block.len() {
                let file_at = block_start + at as u64;
                let h = &block[at..at + HEADER as usize];
                let crc = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
                let n = usize::from(u16::from_le_bytes([h[4], h[5]]));
                let kind = h[6];
                if kind == 0 && n == 0 && crc == 0 {
                    // Zeros: the rest of the block is padding (or a preallocated tail).
                    break;
                }
                let body_start = at + HEADER as usize;
                let body = block.get(body_start..body_start + n);
                let sound = body
                    .is_some_and(|b| (FULL..=LAST).contains(&kind) && fragment_crc(kind, b) == crc);
                if file_at >= self.end {
                    // Past the segment: only what continues its last record is its own.
                    if self.skipping {
                        // A record from before the segment runs through all of it.
                        break 'blocks;
                    }
                    if !sound {
                        // The damage is the next segment's; the record it cuts is this one's.
                        self.cut(file_at, f);
                        break 'blocks;
                    }
                    if matches!(kind, FULL | FIRST) {
                        if self.open {
                            self.damaged(
                                file_at,
                                &[],
                                "a record ended without its last fragment",
                                f,
                            );
                        }
                        break 'blocks;
                    }
                } else if self.skipping {
                    if sound && matches!(kind, MIDDLE | LAST) {
                        // The segment before reads it.
                        at = body_start + n;
                        continue;
                    }
                    self.skipping = false;
                }
                let Some(body) = body else {
                    self.damaged(file_at, &block[at..], "a fragment runs past its block", f);
                    break;
                };
                if !sound {
                    let why = if (FULL..=LAST).contains(&kind) {
                        "checksum mismatch"
                    } else {
                        "unknown fragment type"
                    };
                    self.damaged(file_at, body, why, f);
                    at = body_start + n;
                    continue;
                }
                self.fragment(kind, file_at, body, f);
                at = body_start + n;
            }
            // Fewer than 7 bytes left: the block's trailer, zeros. The next block follows.
            self.pos = block_start + block.len() as u64;
            behind.passed(data, self.pos);
        }
        behind.done(data, self.pos.min(len));
        if self.open {
            self.open = false;
            let rest = std::mem::take(&mut self.record);
            f(Event::Damaged(
                self.record_at,
                &rest,
                "the last record is incomplete (a run still writing, or a cut file)".into(),
            ));
        }
        self.block = block_buf;
        Ok(())
    }

    fn damaged(&mut self, at: u64, bytes: &[u8], why: &str, f: &mut dyn FnMut(Event<'_>)) {
        self.cut(at, f);
        f(Event::Damaged(at, bytes, why.to_string()));
    }

    /// Damage at `at` ends the record in progress: what it had is scanned as bytes.
    fn cut(&mut self, at: u64, f: &mut dyn FnMut(Event<'_>)) {
        self.open = false;
        if !self.record.is_empty() {
            let partial = std::mem::take(&mut self.record);
            f(Event::Damaged(
                self.record_at,
                &partial,
                format!("record cut by damage at byte {at}"),
            ));
        }
        self.oversized = false;
    }

    fn fragment(&mut self, kind: u8, at: u64, body: &[u8], f: &mut dyn FnMut(Event<'_>)) {
        match kind {
            FULL => {
                if self.open {
                    self.damaged(at, &[], "a record ended without its last fragment", f);
                }
                f(Event::Record(at, body));
            }
            FIRST => {
                if self.open {
                    self.damaged(at, &[], "a record ended without its last fragment", f);
                }
                self.oversized = false;
                self.open = true;
                self.record_at = at;
                self.record.extend_from_slice(body);
            }
            MIDDLE | LAST => {
                if self.oversized {
                    f(Event::Damaged(
                        at,
                        body,
                        format!("part of a record larger than {MAX_RECORD} bytes"),
                    ));
                } else if !self.open {
                    f(Event::Damaged(
                        at,
                        body,
                        "a fragment without the start of its record".into(),
                    ));
                } else if self.record.len() + body.len() > MAX_RECORD {
                    let partial = std::mem::take(&mut self.record);
                    f(Event::Damaged(
                        self.record_at,
                        &partial,
                        format!("a record larger than {MAX_RECORD} bytes"),
                    ));
                    f(Event::Damaged(
                        at,
                        body,
                        format!("part of a record larger than {MAX_RECORD} bytes"),
                    ));
                    self.oversized = true;
                    self.open = false;
                } else {
                    self.record.extend_from_slice(body);
                    if kind == LAST {
                        self.open = false;
                        let whole = std::mem::take(&mut self.record);
                        f(Event::Record(self.record_at, &whole));
                        self.record = whole;
                        self.record.clear();
                    }
                }
                if kind == LAST {
                    self.oversized = false;
                }
            }
            _ => {}
        }
    }
}

/// The CRC-32 of a fragment: of its type byte, then its data. The type byte's CRC is taken
/// from a table, so that each fragment costs one pass of the hasher over its data.
fn fragment_crc(kind: u8, body: &[u8]) -> u32 {
    static KINDS: std::sync::LazyLock<[u32; 256]> =
        std::sync::LazyLock::new(|| std::array::from_fn(|k| crc32fast::hash(&[k as u8])));
    let mut hasher = crc32fast::Hasher::new_with_initial(KINDS[usize::from(kind)]);
    hasher.update(body);
    hasher.finalize()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Writes `records` as a W&B log, cutting them into fragments across 32 KiB blocks.
    pub(in crate::expand::wandb) fn log(records: &[&[u8]]) -> Vec<u8> {
        let mut out = b":W&B\xe1\xbe\x00".to_vec();
        for r in records {
            let mut rest: &[u8] = r;
            let mut first = true;
            loop {
                let left = (BLOCK - out.len() as u64 % BLOCK) as usize;
                if left < HEADER as usize {
                    out.extend(std::iter::repeat_n(0, left));
                    continue;
                }
                let room = left - HEADER as usize;
                let n = rest.len().min(room);
                let kind = match (first, n == rest.len()) {
                    (true, true) => FULL,
                    (true, false) => FIRST,
                    (false, true) => LAST,
                    (false, false) => MIDDLE,
                };
                let mut h = crc32fast::Hasher::new();
                h.update(&[kind]);
                h.update(&rest[..n]);
                out.extend(h.finalize().to_le_bytes());
                out.extend((n as u16).to_le_bytes());
                out.push(kind);
                out.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                first = false;
                if rest.is_empty() {
                    break;
                }
            }
        }
        out
    }

    fn events(bytes: Vec<u8>) -> (Vec<Vec<u8>>, Vec<String>) {
        let data = Data::Owned(bytes);
        let mut records = Vec::new();
        let mut damaged = Vec::new();
        Log::new(&data)
            .for_each(&mut |e| match e {
                Event::Record(_, r) => records.push(r.to_vec()),
                Event::Damaged(at, _, why) => damaged.push(format!("{at}: {why}")),
            })
            .unwrap();
        (records, damaged)
    }

    #[test]
    fn records_cut_across_blocks_are_joined() {
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let small = b"hello".to_vec();
        let (records, damaged) = events(log(&[&small, &big, &small]));
        assert!(damaged.is_empty(), "{damaged:?}");
        assert_eq!(records, [small.clone(), big, small]);
    }

    #[test]
    fn an_empty_first_fragment_at_a_block_end_starts_a_record() {
        // Fill block 0 so that exactly a header's room is left: the next record is written as
        // an empty FIRST, then its data in the next block (as LevelDB and wandb-core do).
        let filler = vec![b'f'; (BLOCK - HEADER - HEADER - HEADER) as usize];
        let next = b"next record".to_vec();
        let bytes = log(&[&filler, &next]);
        assert_eq!(
            bytes[BLOCK as usize - 1],
            FIRST,
            "the empty FIRST's type byte"
        );
        let (records, damaged) = events(bytes);
        assert!(damaged.is_empty(), "{damaged:?}");
        assert_eq!(records, [filler, next]);
    }

    #[test]
    fn a_bad_checksum_is_damage_and_the_log_goes_on() {
        let mut bytes = log(&[b"first", b"second", b"third"]);
        // Flip a byte of "second"'s data.
        let at = memchr::memmem::find(&bytes, b"second").unwrap();
        bytes[at] ^= 0x20;
        let (records, damaged) = events(bytes);
        assert_eq!(records, [b"first".to_vec(), b"third".to_vec()]);
        assert_eq!(damaged.len(), 1);
        assert!(damaged[0].ends_with("checksum mismatch"), "{damaged:?}");
    }

    #[test]
    fn a_cut_file_reports_its_incomplete_record() {
        let big = vec![b'x'; 50_000];
        let bytes = log(&[b"a", &big]);
        let (records, damaged) = events(bytes[..40_000].to_vec());
        assert_eq!(records, [b"a".to_vec()]);
        // The record's first fragment, and what is left of its second: both scanned as bytes.
        assert_eq!(
            damaged,
            [
                "15: record cut by damage at byte 32768",
                "32768: a fragment runs past its block"
            ]
        );
    }

    /// The events of a log read in segments of `blocks` blocks, one segment after another.
    fn events_in_segments(data: &Data, blocks: u64) -> Vec<(u64, Vec<u8>, String)> {
        let size = blocks * BLOCK;
        let mut got = Vec::new();
        let mut start = 0;
        while start < data.len() {
            Log::segment(data, start..(start + size).min(data.len()))
                .for_each(&mut |e| got.push(owned(e)))
                .unwrap();
            start += size;
        }
        got
    }

    fn owned(e: Event<'_>) -> (u64, Vec<u8>, String) {
        match e {
            Event::Record(at, r) => (at, r.to_vec(), String::new()),
            Event::Damaged(at, b, why) => (at, b.to_vec(), why),
        }
    }

    /// A little generator of test data (a linear congruential one).
    pub(in crate::expand::wandb) struct Lcg(pub(in crate::expand::wandb) u64);

    impl Lcg {
        pub(in crate::expand::wandb) fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn segments_read_the_same_records_and_damage_as_one_pass() {
        let mut rng = Lcg(7);
        let mut damaged_cases = 0;
        for case in 0..60 {
            // Records from a few bytes to several blocks, so that records start, end and cross
            // block edges everywhere, and empty FIRST fragments happen.
            let records: Vec<Vec<u8>> = (0..20 + rng.below(40))
                .map(|i| {
                    let n = match rng.below(6) {
                        0 => rng.below(3 * BLOCK),
                        1 => BLOCK - 2 * HEADER + rng.below(16),
                        _ => rng.below(4000),
                    };
                    (0..n).map(|j| (i * 31 + j) as u8).collect()
                })
                .collect();
            let refs: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
            let mut bytes = log(&refs);
            // Damage: flipped bytes (a checksum, a length, a type, data), a cut end.
            for _ in 0..case % 4 {
                let at = HEADER + rng.below(bytes.len() as u64 - HEADER);
                bytes[at as usize] ^= 1 << rng.below(8);
            }
            if case % 5 == 4 {
                bytes.truncate(bytes.len() - rng.below(bytes.len() as u64 / 3) as usize);
            }
            let data = Data::Owned(bytes);
            let mut whole = Vec::new();
            Log::new(&data)
                .for_each(&mut |e| whole.push(owned(e)))
                .unwrap();
            damaged_cases += usize::from(whole.iter().any(|(_, _, why)| !why.is_empty()));
            for blocks in [1, 2, 3] {
                let parts = events_in_segments(&data, blocks);
                assert!(
                    parts == whole,
                    "case {case}, segments of {blocks} blocks: {:?} against {:?}",
                    parts
                        .iter()
                        .map(|(a, b, w)| (a, b.len(), w))
                        .collect::<Vec<_>>(),
                    whole
                        .iter()
                        .map(|(a, b, w)| (a, b.len(), w))
                        .collect::<Vec<_>>()
                );
            }
        }
        assert!(damaged_cases > 20, "only {damaged_cases} cases with damage");
    }
}

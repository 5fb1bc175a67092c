//! Compressed streams: decompressed as they are read, under the ratio and size budgets.
//!
//! gzip (members and headers read by [`GzMembers`], deflate by flate2 over zlib-rs), zstd (the
//! reference library), bzip2 (`bzip2` over libbz2-rs-sys, a Rust port of libbzip2) and xz
//! (`lzma-rust2`, pure Rust). An xz dictionary may be as large as the format allows (1.5 GiB).
//! The decoder's window grows with the output, not with the size the header declares, and the
//! windows of all threads' decoders share one budget, `--max-decoder-memory`
//! ([`DecoderMemory`]): a decoder whose window would pass what the others leave waits for them
//! (a bounded time), and one that would pass the budget alone stops with a warning naming the
//! flag (what was decompressed before is scanned).
//!
//! A zstd frame declares its window in its header (up to 2 GiB with `zstd --long=31`; the
//! frame's content size instead when it is smaller), and the reference decoder allocates it
//! when the frame starts: [`ZstdFrames`] reads each frame's header before decoding it, takes
//! that much from the same budget (waiting and stopping as xz does) and lets the decoder use a
//! window of that size and no larger. bzip2 needs no budget: a decoder holds at most ~3.6 MB
//! (900 kB blocks, `bzip2 -9`), whatever the input says.
//!
//! A gzip member's name and comment fields are scanned as text (`x.gz › gzip:name`).
//!
//! The decompressed content goes back through the expander's dispatch: a `.tar.gz` becomes a tar
//! stream whose entries are named after the tar (no extra origin segment), and a `.log.gz` is
//! scanned as text under a `(gzip)` segment, with lines counted in the decompressed text. A
//! truncated or corrupt stream keeps the findings made before the damage and warns.

use std::io::{self, BufRead, Read};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use bzip2::read::MultiBzDecoder;

use super::limits::{Budget, Counting, DECODERS, DecoderMemory, Guard, Limit, Tracker};
use super::{Expander, Format, decompressed, sniff};
use crate::blob::reader::DataReader;
use crate::blob::{Data, Origin};

/// A decoder for `format` over `reader`, under the budget: its output stops with a
/// [`super::Limit`] error past the entry size, the input's total or the compression ratio.
/// `None` for a format that is not a compressed stream.
pub fn decoder<'a>(
    format: Format,
    reader: Box<dyn Read + 'a>,
    budget: &'a Budget,
    tracker: &'a Tracker,
) -> io::Result<Option<(Box<dyn Read + 'a>, &'static str)>> {
    open(format, reader, budget, tracker, None)
}

/// Text fields of a compressed stream's headers (gzip names and comments): `(field, bytes)`.
pub type Fields = Arc<Mutex<Vec<(&'static str, Vec<u8>)>>>;

fn open<'a>(
    format: Format,
    reader: Box<dyn Read + 'a>,
    budget: &'a Budget,
    tracker: &'a Tracker,
    fields: Option<Fields>,
) -> io::Result<Option<(Box<dyn Read + 'a>, &'static str)>> {
    let consumed = Arc::new(AtomicU64::new(0));
    let counting = Counting::new(reader, Arc::clone(&consumed));
    let (decoded, name): (Box<dyn Read + 'a>, _) = match format {
        // Several concatenated members are one stream, as `zcat` reads them.
        Format::Gzip => (
            Box::new(GzMembers::new(io::BufReader::new(counting), fields)),
            "gzip",
        ),
        // Concatenated frames are one stream.
        Format::Zstd => (
            Box::new(ZstdFrames::new(
                counting,
                DecoderMemory::new(&DECODERS, budget.max_decoder_memory),
            )?),
            "zstd",
        ),
        // Concatenated streams (as `pbzip2` writes them) are one stream. A bzip2 decoder
        // holds at most ~3.6 MB (its block size is at most 900 kB): no decoder budget needed.
        Format::Bzip2 => (
            Box::new(MultiBzDecoder::new(io::BufReader::new(counting))),
            "bzip2",
        ),
        Format::Xz => {
            // The first block header says the dictionary: the window never grows past it. A
            // later block asking for more than this is refused by the decoder's own limit.
            let mut counting = counting;
            let mut head = Vec::with_capacity(XZ_HEAD);
            (&mut counting)
                .take(XZ_HEAD as u64)
                .read_to_end(&mut head)?;
            let dict = xz_dictionary(&head).unwrap_or(XZ_MAX_DICT);
            let kib = u32::try_from((dict + XZ_OVERHEAD) >> 10).unwrap_or(u32::MAX);
            let input = io::Cursor::new(head).chain(counting);
            let xz = lzma_rust2::XzReader::new_mem_limit(io::BufReader::new(input), true, kib);
            (
                Box::new(XzWindow {
                    inner: xz,
                    memory: DecoderMemory::new(&DECODERS, budget.max_decoder_memory),
                    dict,
                    produced: 0,
                }),
                "xz",
            )
        }
        _ => return Ok(None),
    };
    let guard = Guard::new(decoded, budget, tracker, Some(consumed), None);
    Ok(Some((Box::new(guard), name)))
}

/// The first bytes of an xz stream read to find its dictionary: the stream header and the
/// largest block header.
const XZ_HEAD: usize = 12 + 1024;

/// The largest dictionary the xz format allows (1.5 GiB).
const XZ_MAX_DICT: u64 = 1536 << 20;

/// What an xz decoder holds beside its window (the decoder's own estimate, rounded up).
const XZ_OVERHEAD: u64 = 256 << 10;

/// The LZMA2 dictionary size of the first block of the xz stream starting with `head`; `None`
/// when `head` is not shaped like one (the decoder then says what is wrong).
pub fn xz_dictionary(head: &[u8]) -> Option<u64> {
    if !head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        return None;
    }
    let size = (usize::from(*head.get(12)?) + 1) * 4;
    let block = head.get(12..12 + size)?;
    let flags = *block.get(1)?;
    let mut at = 2;
    let varint = |at: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        for i in 0..9 {
            let b = *block.get(*at)?;
            *at += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    };
    for bit in [0x40, 0x80] {
        if flags & bit != 0 {
            varint(&mut at)?;
        }
    }
    for _ in 0..=(flags & 0x03) {
        let id = varint(&mut at)?;
        let len = usize::try_from(varint(&mut at)?).ok()?;
        let props = block.get(at..at.checked_add(len)?)?;
        at += len;
        if id == 0x21 {
            let code = u32::from(*props.first()?);
            return match code {
                0..40 => Some(u64::from(2 | (code & 1)) << (code / 2 + 11)),
                40 => Some(u64::from(u32::MAX)),
                _ => None,
            };
        }
    }
    None
}

/// An xz decoder under the decoders' shared memory budget. At its first read it takes its
/// dictionary's worth (at most the whole budget), waiting for other threads' decoders if they
/// hold it; a decoder whose dictionary is larger than the budget grows its share with its
/// window (which doubles as the output grows) and stops when the window would pass the
/// budget. A refusal of the decoder itself (a block asking for more than the first) is the
/// same budget.
struct XzWindow<R> {
    inner: R,
    memory: DecoderMemory,
    dict: u64,
    produced: u64,
}

impl<R: Read> Read for XzWindow<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // One read decodes at most one LZMA2 chunk (2 MiB of output); the window grows to what
        // it needs, at least doubling: under twice the output so far with that chunk.
        let chunk = (buf.len() as u64).min(2 << 20);
        let reach = (self.produced + chunk).saturating_mul(2).max(64 << 10);
        let limit = self.memory.limit();
        // The whole window it may need is taken at the first read (at most the budget): a
        // decoder that waits holds nothing, so decoders never wait for each other in a circle.
        let whole = (self.dict + XZ_OVERHEAD).min(limit);
        self.memory
            .grow((reach.min(self.dict) + XZ_OVERHEAD).max(whole))
            .map_err(Limit::into_io)?;
        let n = self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::OutOfMemory {
                Limit::DecoderMemory(limit).into_io()
            } else {
                e
            }
        })?;
        self.produced += n as u64;
        Ok(n)
    }
}

/// The largest window a zstd frame may declare that is decoded (2 GiB: `zstd --long=31`; the
/// format allows more, no encoder writes it).
const ZSTD_MAX_WINDOW_LOG: u32 = 31;

/// What a zstd decoder holds beside its window: a block (128 KiB) in and out, and the
/// context's tables (~100 KiB), rounded up.
const ZSTD_OVERHEAD: u64 = 512 << 10;

/// The longest zstd frame header: magic, descriptor, window byte, dictionary id (4), content
/// size (8).
const ZSTD_HEADER_MAX: usize = 18;

/// What a zstd frame header says about the memory the frame needs to be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZstdFrame {
    /// A frame of compressed data: its window (bytes) and, if declared, its content size.
    Data {
        /// The window the frame declares (its content size for a single-segment frame).
        window: u64,
        /// The decompressed size, when declared.
        content: Option<u64>,
    },
    /// A skippable frame (user data, no decoding).
    Skippable,
}

impl ZstdFrame {
    /// Bytes a decoder holds for this frame's window: the window, or the content size when it
    /// is smaller (the decoder allocates no more), with [`ZSTD_OVERHEAD`].
    fn memory(self) -> u64 {
        match self {
            ZstdFrame::Data { window, content } => {
                content.map_or(window, |c| c.min(window)) + ZSTD_OVERHEAD
            }
            ZstdFrame::Skippable => 0,
        }
    }
}

/// Reads the frame header at the start of `head` (RFC 8878, 3.1.1.1). `None` when `head` is
/// too short or not a frame (the decoder then says what is wrong).
pub fn zstd_frame(head: &[u8]) -> Option<ZstdFrame> {
    let magic = u32::from_le_bytes(head.get(..4)?.try_into().ok()?);
    if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
        return Some(ZstdFrame::Skippable);
    }
    if magic != 0xFD2F_B528 {
        return None;
    }
    let descriptor = *head.get(4)?;
    let single_segment = descriptor & 0x20 != 0;
    let mut at = 5;
    let mut window = 0;
    if !single_segment {
        let w = *head.get(at)?;
        at += 1;
        let log = 10 + u64::from(w >> 3);
        let base = 1u64 << log;
        window = base + (base / 8) * u64::from(w & 7);
    }
    at += [0, 1, 2, 4][usize::from(descriptor & 3)];
    let size_bytes = match descriptor >> 6 {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let content = if size_bytes == 0 {
        None
    } else {
        let field = head.get(at..at + size_bytes)?;
        let mut le = [0u8; 8];
        le[..size_bytes].copy_from_slice(field);
        let v = u64::from_le_bytes(le);
        Some(if size_bytes == 2 { v + 256 } else { v })
    };
    if single_segment {
        window = content?;
    }
    Some(ZstdFrame::Data { window, content })
}

/// A zstd stream (concatenated frames) decoded frame by frame under the decoders' shared
/// memory budget. Before a frame is decoded its header is read ([`zstd_frame`]): the decoder's
/// share grows to what the frame needs (waiting for other threads' decoders as xz does, or
/// stopping with the budget's error), and its window limit is set to the frame's window, so
/// that a legal window up to 2 GiB is decoded when the budget allows it and nothing larger
/// than what was taken is ever allocated.
struct ZstdFrames<R> {
    input: R,
    /// Compressed bytes read and not yet decoded: `buf[pos..end]`.
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    decoder: zstd::stream::raw::Decoder<'static>,
    memory: DecoderMemory,
    /// Inside a frame (its header was read and its memory taken).
    in_frame: bool,
}

impl<R: Read> ZstdFrames<R> {
    fn new(input: R, memory: DecoderMemory) -> io::Result<ZstdFrames<R>> {
        Ok(ZstdFrames {
            input,
            buf: vec![0u8; 128 << 10].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            decoder: zstd::stream::raw::Decoder::new()?,
            memory,
            in_frame: false,
        })
    }

    /// Reads more input, keeping what was not decoded, until at least `want` bytes are
    /// buffered or the input ends.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        if self.pos > 0 && self.end - self.pos < want {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        while !self.eof && self.end - self.pos < want {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// At a frame's start: takes the memory it needs and sets the decoder's window limit.
    fn begin_frame(&mut self) -> io::Result<()> {
        let limit = self.memory.limit();
        if let Some(frame @ ZstdFrame::Data { window, .. }) =
            zstd_frame(&self.buf[self.pos..self.end])
        {
            // More than the whole budget: no wait for others can help.
            if window > 1 << ZSTD_MAX_WINDOW_LOG || frame.memory() > limit {
                return Err(Limit::DecoderMemory(limit).into_io());
            }
            self.memory.grow(frame.memory()).map_err(Limit::into_io)?;
            // The smallest power of two that holds the window (the decoder's own minimum is
            // 2^10).
            let log = 64 - window.saturating_sub(1).leading_zeros();
            self.decoder
                .set_parameter(zstd::stream::raw::DParameter::WindowLogMax(
                    log.clamp(10, ZSTD_MAX_WINDOW_LOG),
                ))?;
        }
        self.in_frame = true;
        Ok(())
    }
}

impl<R: Read> Read for ZstdFrames<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                self.fill(ZSTD_HEADER_MAX)?;
                if self.pos == self.end {
                    return Ok(0);
                }
                self.begin_frame()?;
            }
            if self.pos == self.end {
                self.fill(1)?;
            }
            let mut input = InBuffer::around(&self.buf[self.pos..self.end]);
            let mut output = OutBuffer::around(&mut *out);
            let hint = self.decoder.run(&mut input, &mut output)?;
            let (read, written) = (input.pos(), output.pos());
            self.pos += read;
            if hint == 0 {
                // The frame is decoded and all of it handed out: the next one (if any) has
                // its own header.
                self.decoder.reinit()?;
                self.in_frame = false;
            }
            if written > 0 {
                return Ok(written);
            }
            if hint != 0 && read == 0 {
                if self.pos == self.end && self.eof {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "zstd frame cut short",
                    ));
                }
                if self.pos < self.end {
                    return Err(invalid("zstd decoder stuck"));
                }
            }
        }
    }
}

/// A gzip name or comment field is kept (for scanning) up to this many bytes; the rest of a
/// longer field is read past (1 MiB).
pub const MAX_GZIP_FIELD: usize = 1 << 20;

/// Concatenated gzip members read as one stream, as `zcat` reads them. Each member's header is
/// parsed here rather than by flate2, which refuses name and comment fields over 64 KiB (gzip
/// itself reads them); the fields go to `fields` to be scanned. The CRC-32 and length of each
/// member are checked.
pub struct GzMembers<R: BufRead> {
    /// Between members (or before the first).
    reader: Option<R>,
    /// Inside a member.
    member: Option<flate2::bufread::DeflateDecoder<R>>,
    crc: flate2::Crc,
    fields: Option<Fields>,
    first: bool,
}

impl<R: BufRead> GzMembers<R> {
    /// Reads the members of `reader`; header fields go to `fields`.
    pub fn new(reader: R, fields: Option<Fields>) -> GzMembers<R> {
        GzMembers {
            reader: Some(reader),
            member: None,
            crc: flate2::Crc::new(),
            fields,
            first: true,
        }
    }

    fn header(&mut self, r: &mut R) -> io::Result<()> {
        let mut fixed = [0u8; 10];
        r.read_exact(&mut fixed)
            .map_err(|e| truncated(e, "header"))?;
        if fixed[0..2] != [0x1f, 0x8b] {
            return Err(invalid("not a gzip member (bad magic)"));
        }
        if fixed[2] != 8 {
            return Err(invalid("gzip member not deflated"));
        }
        let flags = fixed[3];
        if flags & 0x04 != 0 {
            let mut len = [0u8; 2];
            r.read_exact(&mut len).map_err(|e| truncated(e, "header"))?;
            let n = u64::from(u16::from_le_bytes(len));
            let skipped = io::copy(&mut r.by_ref().take(n), &mut io::sink())?;
            if skipped < n {
                return Err(truncated(io::ErrorKind::UnexpectedEof.into(), "header"));
            }
        }
        for (bit, field) in [(0x08, "name"), (0x10, "comment")] {
            if flags & bit != 0 {
                let text = zero_terminated(r)?;
                if let Some(fields) = &self.fields
                    && !text.is_empty()
                    && let Ok(mut f) = fields.lock()
                {
                    f.push((field, text));
                }
            }
        }
        if flags & 0x02 != 0 {
            let mut crc = [0u8; 2];
            r.read_exact(&mut crc).map_err(|e| truncated(e, "header"))?;
        }
        Ok(())
    }
}

/// Reads a zero-terminated field, keeping its first [`MAX_GZIP_FIELD`] bytes.
fn zero_terminated(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(truncated(io::ErrorKind::UnexpectedEof.into(), "header"));
        }
        let (take, done) = match memchr::memchr(0, buf) {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        let room = MAX_GZIP_FIELD.saturating_sub(out.len());
        out.extend_from_slice(&buf[..take.min(room)]);
        r.consume(take + usize::from(done));
        if done {
            return Ok(out);
        }
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

fn truncated(e: io::Error, what: &str) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("gzip {what} cut short"),
        )
    } else {
        e
    }
}

impl<R: BufRead> Read for GzMembers<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(member) = &mut self.member {
                let n = member.read(out)?;
                if n > 0 {
                    self.crc.update(&out[..n]);
                    return Ok(n);
                }
                let Some(member) = self.member.take() else {
                    return Ok(0);
                };
                let mut r = member.into_inner();
                let mut trailer = [0u8; 8];
                r.read_exact(&mut trailer)
                    .map_err(|e| truncated(e, "trailer"))?;
                let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
                let len = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
                if crc != self.crc.sum() || len != self.crc.amount() {
                    return Err(invalid("gzip member corrupt (CRC-32 or length mismatch)"));
                }
                self.crc.reset();
                self.reader = Some(r);
                continue;
            }
            let Some(mut r) = self.reader.take() else {
                return Ok(0);
            };
            if !self.first && r.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.first = false;
            self.header(&mut r)?;
            self.member = Some(flate2::bufread::DeflateDecoder::new(r));
        }
    }
}

/// Decompresses random-access data in a compressed `format`.
pub fn compressed_blob(
    ex: &Expander<'_>,
    format: Format,
    data: Arc<Data>,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut reader = DataReader::new(data);
    compressed_stream(ex, format, &mut reader, origin, tracker, depth);
}

/// Decompresses a stream in a compressed `format` and dispatches what comes out.
pub fn compressed_stream(
    ex: &Expander<'_>,
    format: Format,
    reader: &mut dyn Read,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let fields = Fields::default();
    match open(
        format,
        Box::new(reader),
        &ex.budget,
        tracker,
        Some(Arc::clone(&fields)),
    ) {
        Ok(Some((mut decoded, name))) => {
            decompressed_stream(ex, &mut decoded, origin.clone(), name, tracker, depth);
            let fields = fields.lock().map(|mut f| std::mem::take(&mut *f));
            let mut texts = super::texts::Texts::new(ex);
            for (field, text) in fields.unwrap_or_default() {
                let o = origin.child(super::archive::metadata(name, field.to_string()));
                texts.push(o, b"", &text, b"\n");
            }
            texts.finish();
        }
        Ok(None) => ex
            .sink
            .error(&origin, format!("{format:?} is not a compressed format")),
        Err(e) => ex.read_error(&origin, &e),
    }
}

/// Dispatches decompressed content: containers keep the stream's origin, text gets a
/// `Decompressed` segment.
pub fn decompressed_stream(
    ex: &Expander<'_>,
    reader: &mut dyn Read,
    origin: Origin,
    format: &str,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut head = Vec::with_capacity(512);
    if let Err(e) = reader.take(512).read_to_end(&mut head) {
        // Damaged before anything could be read: say so, scan nothing.
        return ex.read_error(&origin, &e);
    }
    let mut chained = io::Cursor::new(head.clone()).chain(reader);
    if sniff(&head, inner_name(origin.name())) == Format::Other {
        ex.leaf_stream(&mut chained, &decompressed(&origin, format));
    } else {
        ex.stream(&mut chained, origin, tracker, depth);
    }
}

/// `x.tar` for `x.tar.gz` and `x.tgz`: the name the decompressed content would have.
fn inner_name(name: &str) -> &str {
    for ext in [".gz", ".zst", ".bz2", ".xz"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return stem;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_of(bytes: &[u8], window_log: u32) -> Vec<u8> {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        e.window_log(window_log).unwrap();
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    use std::io::Write as _;

    #[test]
    fn zstd_frame_headers_say_their_window() {
        // A streamed frame (no content size): the window descriptor.
        let f = frame_of(&[b'a'; 5000], 20);
        assert_eq!(
            zstd_frame(&f),
            Some(ZstdFrame::Data {
                window: 1 << 20,
                content: None
            })
        );
        // A one-shot frame: single segment, the content size is the window.
        let f = zstd::encode_all(&[b'a'; 5000][..], 3).unwrap();
        assert_eq!(
            zstd_frame(&f),
            Some(ZstdFrame::Data {
                window: 5000,
                content: Some(5000)
            })
        );
        // `--long=31`: exponent 21, mantissa 0 (2 GiB); mantissa 7: 2 GiB and 7/8 of it more.
        let head = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3];
        assert_eq!(
            zstd_frame(&head),
            Some(ZstdFrame::Data {
                window: 2 << 30,
                content: None
            })
        );
        let head = [0x28, 0xb5, 0x2f, 0xfd, 0x00, (21 << 3) | 7];
        assert_eq!(
            zstd_frame(&head).map(|f| f.memory() - ZSTD_OVERHEAD),
            Some((2 << 30) + (7 << 28))
        );
        // Two-byte content sizes count from 256; a dictionary id comes before the size.
        let head = [0x28, 0xb5, 0x2f, 0xfd, 0x40 | 0x20 | 0x01, 9, 0x10, 0x00];
        assert_eq!(
            zstd_frame(&head),
            Some(ZstdFrame::Data {
                window: 16 + 256,
                content: Some(16 + 256)
            })
        );
        assert_eq!(
            zstd_frame(&[0x5e, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]),
            Some(ZstdFrame::Skippable)
        );
        assert_eq!(zstd_frame(b"not zstd"), None);
        assert_eq!(zstd_frame(&[0x28, 0xb5, 0x2f, 0xfd, 0x00]), None);
    }

    fn read_all(bytes: &[u8], limit: u64) -> io::Result<Vec<u8>> {
        static POOL: super::super::limits::DecoderPool = super::super::limits::DecoderPool::new();
        let mut r = ZstdFrames::new(bytes, DecoderMemory::new(&POOL, limit))?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn zstd_frames_are_decoded_under_the_budget() {
        let a: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let b = b"second frame".repeat(1000);
        // Concatenated frames with a skippable frame between them, one of them streamed with a
        // 256 MiB window (more than libzstd's default limit of 128 MiB).
        let mut stream = frame_of(&a, 28);
        stream.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        stream.extend(zstd::encode_all(&b[..], 3).unwrap());
        let mut both = a.clone();
        both.extend_from_slice(&b);
        assert_eq!(read_all(&stream, 512 << 20).unwrap(), both);
        // Under a budget smaller than the window: refused, naming the flag.
        let e = read_all(&stream, 64 << 20).unwrap_err();
        assert!(e.to_string().contains("--max-decoder-memory"), "{e}");
        // Cut short: an error, not the end of the stream.
        let cut = &stream[..stream.len() / 2];
        let e = read_all(cut, 512 << 20).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
    }
}

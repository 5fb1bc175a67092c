//! Redaction: a stream copied with every secret masked, for log pipelines and model responses.
//!
//! [`redact`] reads its input, cuts it after the last complete line it has, scans those lines
//! with the engine (in parallel chunks on the current rayon pool when there are many), and
//! writes them out with each secret replaced by its mask (`ghp_****`, the rule's public prefix
//! and four stars; [`crate::finding::mask::secret`]). Every other byte is written unchanged,
//! and the output is flushed after every batch, so a line is out as soon as it is in.
//!
//! Batches follow the input: a slow stream (a live log) is processed line by line as it
//! arrives; a fast one (a file, `cat`) is read in batches of up to [`Options::batch`] bytes
//! while the caller's `ready` says more input is waiting, which keeps every core busy and the
//! per-batch costs small. Reading runs on its own thread, one batch ahead of the scan, so the
//! copy in from the pipe overlaps the scan and the copy out. Memory is bounded by three
//! batches plus one line.
//!
//! Batches end at line ends. A line longer than a batch (or than [`Options::max_line`] on a
//! slow stream) is cut inside, and there batches overlap like a file's chunks do: the last
//! [`crate::engine::margin`] bytes of the cut batch are scanned again at the start of the next
//! one, and only the bytes before them are written, so a secret that straddles the cut is seen
//! whole by one of the two scans. What stays visible: a secret that spans lines (a PEM private
//! key) when its lines arrive in separate batches (a slow stream).

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::blob::{Data, Origin};
use crate::engine;
use crate::finding::Finding;
use crate::finding::mask;
use crate::matcher::Matcher;

/// How [`redact`] batches its input.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Bytes read before a batch is scanned, at most, while more input is ready. Default 8 MiB.
    pub batch: usize,
    /// Chunk size of the parallel scan of a batch. Default 1 MiB.
    pub chunk: u64,
    /// A line longer than this is processed before its end arrives. Default 1 MiB.
    pub max_line: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            batch: 8 << 20,
            chunk: 1 << 20,
            max_line: 1 << 20,
        }
    }
}

/// What a redaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes read.
    pub bytes: u64,
    /// Secrets masked.
    pub redacted: u64,
}

/// Copies `input` to `output` with every secret masked. Each masked secret is also given to
/// `found` (with its offset, line and column in the input, origin `origin`). `ready` says
/// whether more input can be read without waiting (a fast source): while it does, input is
/// gathered into larger batches. Stops at the end of the input or at the first error.
///
/// `input` is read on a thread of its own, one batch ahead. When `redact` returns early (an
/// error, a reader of the output that went away), that thread ends at its next read; it is not
/// waited for, so an idle live stream does not hold the caller.
pub fn redact(
    matcher: &Matcher,
    input: impl Read + Send + 'static,
    output: &mut dyn Write,
    origin: &Origin,
    opts: Options,
    ready: impl Fn() -> bool + Send + 'static,
    found: &mut dyn FnMut(Finding) -> io::Result<()>,
) -> io::Result<Stats> {
    // One batch in the channel, one being read: with the one being scanned, three at most.
    let (batches, rx) = mpsc::sync_channel::<io::Result<Batch>>(1);
    let overlap = engine::margin(matcher);
    let (recycle, spare) = mpsc::channel::<Vec<u8>>();
    let idle = Arc::new(AtomicBool::new(true));
    let reader_idle = Arc::clone(&idle);
    std::thread::Builder::new()
        .name("ferret-redact-reader".into())
        .spawn(move || {
            read_batches(input, opts, overlap, &ready, &reader_idle, &batches, &spare)
        })?;
    let mut stats = Stats::default();
    // Stream offset and line number of the batch's first byte, which always starts a line (or
    // a cut one).
    let mut base = 0u64;
    let mut line = 1u64;
    // Code points between the last line start and the batch's first byte (0 unless the last
    // batch ended inside a line).
    let mut column = 0u64;
    let mut scratch = matcher.scratch();
    let mut range_buf = Vec::new();
    // Bytes at the start of the next batch that a mask already replaced (a secret that
    // straddled the end of the written part of the last batch).
    let mut masked = 0usize;
    loop {
        idle.store(true, Ordering::Release);
        let Ok(batch) = rx.recv() else {
            break;
        };
        idle.store(false, Ordering::Release);
        let Batch { bytes, written } = batch?;
        let data = Data::Owned(bytes);
        let result = engine::scan_data(
            matcher,
            &data,
            origin,
            opts.chunk,
            &mut scratch,
            &mut range_buf,
        );
        let all = data.as_slice().unwrap_or_default();
        // `all[written..]` comes again at the start of the next batch: it is scanned here only
        // so that a secret starting before it is seen whole.
        let written = written.min(all.len());
        let bytes = &all[..written];
        let mut at = masked.min(written);
        masked = masked.saturating_sub(written);
        for mut f in result.findings {
            let (s, e) = (f.offset as usize, f.end_offset as usize);
            if e <= at || s >= bytes.len() {
                // Inside a secret already masked, or for the next batch to mask.
                continue;
            }
            let s = s.max(at);
            output.write_all(&bytes[at..s])?;
            output.write_all(mask::secret(&f.rule, &f.secret).as_bytes())?;
            // A secret that runs past the written part: the next batch skips its rest.
            masked = masked.max(e.min(all.len()).saturating_sub(written));
            at = e.min(bytes.len());
            // A secret over several lines (a PEM key) keeps its line ends, so that the lines
            // after it keep their numbers.
            write_line_ends(output, &bytes[s..at])?;
            stats.redacted += 1;
            f.offset += base;
            f.end_offset += base;
            // A batch that starts inside a line (a long one, cut): columns on its first line
            // count from the line's start.
            if f.start.line == 1 {
                f.start.column += column;
                if f.end.line == 1 {
                    f.end.column += column;
                }
            }
            f.start.line += line - 1;
            f.end.line += line - 1;
            found(f)?;
        }
        output.write_all(&bytes[at..])?;
        output.flush()?;
        stats.bytes += bytes.len() as u64;
        base += bytes.len() as u64;
        line += memchr::memchr_iter(b'\n', bytes).count() as u64;
        column = match memchr::memrchr(b'\n', bytes) {
            Some(i) => crate::finding::location::count_chars(&bytes[i + 1..]),
            None => column + crate::finding::location::count_chars(bytes),
        };
        if let Data::Owned(v) = data {
            // The reader may have ended: then the buffer is simply dropped.
            let _ = recycle.send(v);
        }
    }
    Ok(stats)
}

/// Writes the line ends (`\n`, or `\r\n`) of `secret`, in order.
fn write_line_ends(output: &mut dyn Write, secret: &[u8]) -> io::Result<()> {
    for i in memchr::memchr_iter(b'\n', secret) {
        let end: &[u8] = if i > 0 && secret[i - 1] == b'\r' {
            b"\r\n"
        } else {
            b"\n"
        };
        output.write_all(end)?;
    }
    Ok(())
}

/// A batch of input: `bytes[..written]` is written out after this scan; `bytes[written..]` (an
/// over-long line cut inside) starts the next batch too.
struct Batch {
    bytes: Vec<u8>,
    written: usize,
}

/// The reader thread: reads `input` into batches that end at a line end (or the end of the
/// input, or a cut over-long line, whose last `overlap` bytes start the next batch again) and
/// sends them, then an error if reading failed. Ends at the end of the input, at an error, or
/// when the receiver has gone.
///
/// A batch is sent when it is full, at the end of the input, or when no more input is ready
/// and the scan is idle (`idle`): a live stream goes out line by line, while input that comes
/// faster than the scan gathers into large batches, which the scan spreads over every core.
fn read_batches(
    mut input: impl Read,
    opts: Options,
    overlap: usize,
    ready: &dyn Fn() -> bool,
    idle: &AtomicBool,
    batches: &mpsc::SyncSender<io::Result<Batch>>,
    spare: &mpsc::Receiver<Vec<u8>>,
) {
    const READ: usize = 256 * 1024;
    let batch_max = opts.batch.max(4096);
    let fresh = || Vec::with_capacity(batch_max + READ);
    // `buf[..filled]` is the batch so far. `buf` only grows, and recycled buffers come back
    // with their bytes initialised, so bytes are zeroed once, not before every read.
    let mut buf: Vec<u8> = fresh();
    let mut filled = 0usize;
    let mut eof = false;
    while !eof {
        // Read at least once, then go on while the batch has room and more input is waiting
        // or the scan is busy anyway.
        'fill: loop {
            if buf.len() < filled + READ {
                buf.resize(filled + READ, 0);
            }
            let n = loop {
                match input.read(&mut buf[filled..filled + READ]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // What was read before the error is still processed.
                        buf.truncate(filled);
                        let batch = Batch {
                            written: filled,
                            bytes: std::mem::take(&mut buf),
                        };
                        if filled > 0 && batches.send(Ok(batch)).is_err() {
                            return;
                        }
                        let _ = batches.send(Err(e));
                        return;
                    }
                }
            };
            filled += n;
            if n == 0 {
                eof = true;
                break;
            }
            if filled >= batch_max {
                break;
            }
            while !ready() {
                if idle.load(Ordering::Acquire) {
                    break 'fill;
                }
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
        }
        // Send complete lines; keep the partial last one for the next round, unless it is
        // too long to wait for or the input ended. A line cut inside is sent whole so far,
        // but its last `overlap` bytes are written with the next batch, which scans them
        // again: a secret across the cut is seen whole by one of the two scans.
        let (end, written) = if eof {
            (filled, filled)
        } else {
            match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(i) => (i + 1, i + 1),
                None if filled > opts.max_line.max(2 * overlap) => (filled, filled - overlap),
                None => continue,
            }
        };
        if end == 0 {
            continue;
        }
        let mut next = spare.try_recv().unwrap_or_else(|_| fresh());
        let rest = filled - written;
        if next.len() < rest {
            next.resize(rest, 0);
        }
        next[..rest].copy_from_slice(&buf[written..filled]);
        buf.truncate(end);
        let batch = Batch {
            bytes: std::mem::replace(&mut buf, next),
            written,
        };
        if batches.send(Ok(batch)).is_err() {
            return;
        }
        filled = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;

    fn run(matcher: &Matcher, input: &[u8], opts: Options) -> (Vec<u8>, Vec<Finding>) {
        let mut out = Vec::new();
        let mut found = Vec::new();
        redact(
            matcher,
            io::Cursor::new(input.to_vec()),
            &mut out,
            &Origin::stdin(),
            opts,
            || true,
            &mut |f| {
                found.push(f);
                Ok(())
            },
        )
        .unwrap();
        (out, found)
    }

    #[test]
    fn secrets_are_masked_and_everything_else_kept() {
        let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
        let gh = "ghp_R8vQ2mXk7LpZ3nT9wY4sB6dF1hJ0cA3hUQ5z";
        let input = format!("a\r\nclone https://x:{gh}@github.com/a\r\nno secret é\nlast {gh}");
        let expected = "a\r\nclone https://x:ghp_****@github.com/a\r\nno secret é\nlast ghp_****";
        for batch in [1, 16, 1 << 20] {
            let opts = Options {
                batch,
                chunk: 64,
                max_line: 1 << 20,
            };
            let (out, found) = run(&matcher, input.as_bytes(), opts);
            assert_eq!(String::from_utf8(out).unwrap(), expected, "batch {batch}");
            let lines: Vec<(u64, u64)> = found
                .iter()
                .map(|f| (f.start.line, f.start.column))
                .collect();
            assert_eq!(lines, [(2, 17), (4, 6)], "batch {batch}");
            assert_eq!(found[1].offset as usize, input.rfind("ghp_").unwrap());
        }
    }

    #[test]
    fn a_secret_over_several_lines_keeps_its_line_ends() {
        use base64::Engine as _;
        let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
        // A well-formed key body (DER sequence header), in 64-column lines.
        let der: Vec<u8> = [0x30, 0x82, 0x01, 0x0a]
            .iter()
            .copied()
            .chain((0..=255u8).map(|b| b.wrapping_mul(37)))
            .collect();
        let body = base64::engine::general_purpose::STANDARD.encode(&der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let key = format!(
            "-----BEGIN RSA PRIVATE KEY-----\r\n{}\r\n-----END RSA PRIVATE KEY-----",
            lines.join("\r\n")
        );
        let input = format!("before\r\n{key}\r\nafter\r\n");
        let (out, found) = run(&matcher, input.as_bytes(), Options::default());
        let out = String::from_utf8(out).unwrap();
        assert_eq!(found.len(), 1, "{out}");
        assert!(!out.contains(&lines[1][..20]), "{out}");
        assert_eq!(out.matches("\r\n").count(), input.matches("\r\n").count());
        assert!(out.starts_with("before\r\n") && out.ends_with("\r\nafter\r\n"));
        // Every line after the key keeps its number.
        assert_eq!(out.lines().count(), input.lines().count());
        assert_eq!(out.lines().last(), Some("after"));
    }
}

//! Redaction: a stream copied with every secret masked, for log pipelines and model responses.
//!
//! [`redact`] reads its input, cuts it after the last complete line it has, scans those lines
//! with the engine (in parallel chunks on the current rayon pool when there are many), and
//! writes them out with each secret replaced by its mask (`ghp_****`, the rule's public prefix
//! and four stars; [`crate::finding::redact::mask`]). Every other byte is written unchanged,
//! and the output is flushed after every batch, so a line is out as soon as it is in.
//!
//! Batches follow the input: a slow stream (a live log) is processed line by line as it
//! arrives; a fast one (a file, `cat`) is read in batches of up to [`Options::batch`] bytes
//! while the caller's `ready` says more input is waiting, which keeps every core busy and the
//! per-batch costs small. Memory is bounded by the batch plus one line.
//!
//! What stays visible: a secret that spans two batches cannot be seen whole, and batches end
//! at line ends, so only a secret that spans lines (a PEM private key) is at risk, and only
//! when its lines arrive in separate batches (a slow stream). A line longer than
//! [`Options::max_line`] is cut: its first part is processed without its end.

use std::io::{self, Read, Write};

use crate::blob::{Data, Origin};
use crate::engine;
use crate::finding::Finding;
use crate::finding::redact::mask;
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
pub fn redact(
    matcher: &Matcher,
    input: &mut dyn Read,
    output: &mut dyn Write,
    origin: &Origin,
    opts: Options,
    ready: &dyn Fn() -> bool,
    found: &mut dyn FnMut(Finding) -> io::Result<()>,
) -> io::Result<Stats> {
    let batch_max = opts.batch.max(4096);
    let mut buf: Vec<u8> = Vec::with_capacity(batch_max + 64 * 1024);
    let mut stats = Stats::default();
    // Stream offset and line number of `buf[0]`, which always starts a line (or a cut one).
    let mut base = 0u64;
    let mut line = 1u64;
    let mut eof = false;
    let mut scratch = matcher.scratch();
    let mut range_buf = Vec::new();
    while !eof {
        // Read at least once, then go on while more input is waiting and the batch has room.
        loop {
            let filled = buf.len();
            buf.resize(filled + 64 * 1024, 0);
            let n = loop {
                match input.read(&mut buf[filled..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        buf.truncate(filled);
                        return Err(e);
                    }
                }
            };
            buf.truncate(filled + n);
            stats.bytes += n as u64;
            if n == 0 {
                eof = true;
                break;
            }
            if buf.len() >= batch_max || !ready() {
                break;
            }
        }
        // Process complete lines; keep the partial last one for the next round, unless it is
        // too long to wait for or the input ended.
        let end = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None if buf.len() > opts.max_line => buf.len(),
                None => continue,
            }
        };
        if end == 0 {
            continue;
        }
        let rest = buf.split_off(end);
        let data = Data::Owned(std::mem::take(&mut buf));
        let result = engine::scan_data(
            matcher,
            &data,
            origin,
            opts.chunk,
            &mut scratch,
            &mut range_buf,
        );
        let bytes = data.as_slice().unwrap_or_default();
        let mut at = 0usize;
        for mut f in result.findings {
            let (s, e) = (f.offset as usize, f.end_offset as usize);
            if e <= at || s >= bytes.len() {
                // Inside a secret already masked.
                continue;
            }
            let s = s.max(at);
            output.write_all(&bytes[at..s])?;
            output.write_all(mask(&f.rule, &f.secret).as_bytes())?;
            at = e.min(bytes.len());
            stats.redacted += 1;
            f.offset += base;
            f.end_offset += base;
            f.start.line += line - 1;
            f.end.line += line - 1;
            found(f)?;
        }
        output.write_all(&bytes[at..])?;
        output.flush()?;
        base += bytes.len() as u64;
        line += memchr::memchr_iter(b'\n', bytes).count() as u64;
        // Reuse the batch's allocation.
        if let Data::Owned(mut v) = data {
            v.clear();
            v.extend_from_slice(&rest);
            buf = v;
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;

    fn run(matcher: &Matcher, input: &[u8], opts: Options) -> (Vec<u8>, Vec<Finding>) {
        let mut out = Vec::new();
        let mut found = Vec::new();
        let mut reader = input;
        redact(
            matcher,
            &mut reader,
            &mut out,
            &Origin::stdin(),
            opts,
            &|| true,
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
}

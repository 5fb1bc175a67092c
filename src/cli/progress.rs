//! The progress line on stderr during long scans (indicatif).
//!
//! It shows items and bytes done, throughput, findings so far and, when the total is known, a
//! bar and an ETA: a walk of folders is counted ahead on a thread of its own (a stat per file,
//! with the scan's own walk options), while other sources (stdin, registries, object stores,
//! git) show what is done without a total. The library only bumps relaxed atomics
//! ([`ferret::progress::Progress`]); this module reads them ten times a second on a ticker
//! thread and redraws. It is drawn only on a terminal, never with `--quiet`, never for a live
//! stdin stream; `--progress` forces it (even on a non-terminal), `--no-progress` hides it.
//! Warnings are printed above it, findings written to the same terminal suspend it, and it is
//! cleared before the report is written at the end, so no output is ever mixed with it.

use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ferret::progress::{Progress, Snapshot};
use ferret::source::walk::{self, WalkEvent, WalkOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use super::flags::OutputArgs;
use super::output::human_bytes;

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Whether to show the progress line: `--no-progress` never, `--progress` always, else on a
/// terminal stderr without `--quiet`, and not for a live stream (it never ends).
pub fn wanted(out: &OutputArgs, live: bool) -> bool {
    if out.no_progress {
        return false;
    }
    if out.progress {
        return true;
    }
    !out.quiet && !live && io::stderr().is_terminal()
}

/// A progress line being drawn.
pub struct Line {
    bar: ProgressBar,
    progress: Arc<Progress>,
    done: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
    /// Findings go to the same terminal: the line is taken down while one is written.
    suspend_findings: bool,
}

impl Line {
    /// Starts drawing `progress` on stderr. `count` is what to count ahead for a total: the
    /// folders and files named, walked with the scan's options (`None`: no total).
    pub fn start(
        progress: Arc<Progress>,
        count: Option<(Vec<PathBuf>, WalkOptions)>,
        suspend_findings: bool,
    ) -> Line {
        let target = ProgressDrawTarget::term_like_with_hz(Box::new(Stderr::new()), 10);
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(style(false));
        if let Some((roots, opts)) = count {
            let progress = Arc::clone(&progress);
            // Detached: if the scan ends first, the count no longer matters.
            std::thread::Builder::new()
                .name("ferret-count".into())
                .spawn(move || count_ahead(roots, opts, &progress))
                .ok();
        }
        let done = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (bar, progress, done) = (bar.clone(), Arc::clone(&progress), Arc::clone(&done));
            let started = Instant::now();
            std::thread::Builder::new()
                .name("ferret-progress".into())
                .spawn(move || {
                    let mut with_total = false;
                    // One frame at least, even when the scan ended before this thread ran (a
                    // loaded machine): `finish` joins this thread before clearing the line.
                    loop {
                        draw(
                            &bar,
                            &progress.snapshot(),
                            started.elapsed(),
                            &mut with_total,
                        );
                        if done.load(Ordering::Relaxed) {
                            break;
                        }
                        std::thread::sleep(TICK);
                    }
                })
                .ok()
        };
        Line {
            bar,
            progress,
            done,
            ticker,
            suspend_findings,
        }
    }

    /// Counts one finding, and runs `write` (which writes it) with the line taken down when the
    /// report goes to the same terminal.
    pub fn finding<R>(&self, write: impl FnOnce() -> R) -> R {
        self.findings(1, write)
    }

    /// [`Line::finding`] for `n` findings written at once.
    pub fn findings<R>(&self, n: u64, write: impl FnOnce() -> R) -> R {
        self.progress.findings(n);
        if self.suspend_findings {
            self.bar.suspend(write)
        } else {
            write()
        }
    }

    /// Runs `print` (which prints on stderr) above the line.
    pub fn above<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    /// Stops drawing and clears the line.
    pub fn finish(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The line's look: a bar when the total is known.
fn style(with_total: bool) -> ProgressStyle {
    let template = if with_total {
        "{spinner} [{bar:24}] {wide_msg}"
    } else {
        "{spinner} {wide_msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ")
}

/// Redraws the line from a snapshot of the counters.
fn draw(bar: &ProgressBar, s: &Snapshot, elapsed: Duration, with_total: &mut bool) {
    if let Some((_, bytes)) = s.total
        && !*with_total
    {
        *with_total = true;
        bar.set_style(style(true));
        bar.set_length(bytes.max(1));
    }
    bar.set_position(s.bytes);
    bar.set_message(message(s, elapsed));
    bar.tick();
}

/// `1200/7335 files, 180.2 MB/1.08 GB (612.4 MB/s), 12 findings, ETA 1 s`.
pub fn message(s: &Snapshot, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.bytes as f64 / secs
    } else {
        0.0
    };
    let mut m = match s.total {
        Some((items, bytes)) => format!(
            "{}/{} files, {}/{}",
            s.items,
            items,
            human_bytes(s.bytes),
            human_bytes(bytes)
        ),
        None => format!("{} files, {}", s.items, human_bytes(s.bytes)),
    };
    m.push_str(&format!(
        " ({}/s), {} findings",
        human_bytes(rate as u64),
        s.findings
    ));
    if let Some((_, bytes)) = s.total
        && rate > 0.0
    {
        let left = bytes.saturating_sub(s.bytes) as f64 / rate;
        m.push_str(&format!(", ETA {}", duration(left)));
    }
    m
}

/// `42 s`, `3 min 5 s`, `1 h 2 min`.
fn duration(secs: f64) -> String {
    let s = secs.ceil() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3600, s / 60 % 60)
    }
}

/// Walks `roots` as the scan will and sets the total when done.
fn count_ahead(roots: Vec<PathBuf>, opts: WalkOptions, progress: &Progress) {
    let Ok(events) = walk::walk(roots, opts) else {
        return;
    };
    let (mut items, mut bytes) = (0u64, 0u64);
    for event in events {
        if let WalkEvent::File(item) = event {
            items += 1;
            bytes += item.size;
        }
    }
    progress.set_total(items, bytes);
}

/// stderr as indicatif draws on it: plain ANSI sequences, whether or not it is a terminal
/// (`--progress` forces the line on a non-terminal too).
struct Stderr {
    width: u16,
}

impl Stderr {
    fn new() -> Stderr {
        let width = rustix::termios::tcgetwinsize(io::stderr().as_fd())
            .ok()
            .map(|w| w.ws_col)
            .filter(|&w| w > 0)
            .unwrap_or(80);
        Stderr { width }
    }

    fn write(&self, s: &str) -> io::Result<()> {
        io::stderr().lock().write_all(s.as_bytes())
    }
}

impl std::fmt::Debug for Stderr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stderr")
            .field("width", &self.width)
            .finish()
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        self.width
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.write(&format!("\x1b[{n}A"))?;
        }
        Ok(())
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.write(&format!("\x1b[{n}B"))?;
        }
        Ok(())
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.write(&format!("\x1b[{n}C"))?;
        }
        Ok(())
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.write(&format!("\x1b[{n}D"))?;
        }
        Ok(())
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.write(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.write(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.write("\r\x1b[2K")
    }

    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let s = Snapshot {
            items: 3,
            bytes: 2_000_000,
            findings: 1,
            total: Some((6, 4_000_000)),
        };
        assert_eq!(
            message(&s, Duration::from_secs(2)),
            "3/6 files, 2.00 MB/4.00 MB (1.00 MB/s), 1 findings, ETA 2 s"
        );
        let s = Snapshot { total: None, ..s };
        assert_eq!(
            message(&s, Duration::from_secs(1)),
            "3 files, 2.00 MB (2.00 MB/s), 1 findings"
        );
        assert_eq!(duration(185.0), "3 min 5 s");
        assert_eq!(duration(3720.0), "1 h 2 min");
    }
}

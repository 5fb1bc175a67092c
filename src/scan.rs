//! The driver: sources to rayon workers to one reporter.
//!
//! [`Scanner::run`] walks the inputs on a rayon pool (`par_bridge`), gives each worker its own
//! [`Scratch`] and buffers (`for_each_init`), and sends findings and warnings over a bounded
//! channel to the calling thread, which feeds the [`Reporter`]. Large files are chunked by the
//! engine on the same pool, so one huge log uses every core. The run returns a [`Summary`]
//! that counts what was scanned, skipped and failed; nothing global is kept.
//!
//! Findings that the baseline or the allowlist ([`ScanOptions::allow`]) covers are counted in
//! the summary and not reported ([`Summary::record`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::blob::chunk::DEFAULT_CHUNK_SIZE;
use crate::blob::load::{self, LoadOptions};
use crate::blob::{Data, Origin};
use crate::error::{Error, Result};
use crate::expand::{Budget, Expander, Sink, image};
use crate::finding::Finding;
use crate::finding::allow::{Allowlist, Suppression};
use crate::matcher::Matcher;
use crate::report::Reporter;
use crate::source::Input;
use crate::source::registry::{self, RegistryOptions};
use crate::source::walk::{self, WalkEvent, WalkOptions};

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Worker threads; 0 means one per core. Default 0.
    pub threads: usize,
    /// Blobs larger than this are cut into chunks scanned in parallel. Default 8 MiB.
    pub chunk_size: u64,
    /// How files are opened (read or mapped).
    pub load: LoadOptions,
    /// What the walk includes.
    pub walk: WalkOptions,
    /// How far archives and compressed streams are opened.
    pub budget: Budget,
    /// Set to stop the scan early (on SIGINT): the report is then written with what was found
    /// so far and marked partial. Default: none.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Findings not to report (baseline and allowlist). Default: none.
    pub allow: Arc<Allowlist>,
    /// How images are pulled from registries.
    pub registry: RegistryOptions,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            threads: 0,
            chunk_size: DEFAULT_CHUNK_SIZE,
            load: LoadOptions::default(),
            walk: WalkOptions::default(),
            budget: Budget::default(),
            cancel: None,
            allow: Arc::default(),
            registry: RegistryOptions::default(),
        }
    }
}

/// Whether a warning is an error (something could not be scanned) or a deliberate skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningKind {
    /// Could not be read or scanned completely.
    Error,
    /// Not scanned on purpose (a limit, a special file).
    Skipped,
}

/// A per-item message for the user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    /// The item (path or origin chain).
    pub path: String,
    /// Error or skip.
    pub kind: WarningKind,
    /// What happened.
    pub message: String,
}

/// What a scan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Files (and streams) scanned.
    pub files: u64,
    /// Bytes read from the inputs (compressed bytes for compressed files).
    pub bytes: u64,
    /// Bytes that went through the matcher (decompressed, without skipped tensor payloads).
    pub scanned_bytes: u64,
    /// Findings reported.
    pub findings: u64,
    /// Items that could not be scanned, or not completely.
    pub errors: u64,
    /// Items skipped on purpose.
    pub skipped: u64,
    /// Findings not reported because the baseline has them.
    pub baselined: u64,
    /// Findings not reported because the allowlist covers them.
    pub allowed: u64,
    /// Wall-clock time.
    #[serde(rename = "elapsed_seconds", serialize_with = "secs")]
    pub elapsed: Duration,
    /// Every error and every warned skip, sorted by path.
    pub warnings: Vec<Warning>,
    /// The scan was interrupted: the findings are those made before it stopped.
    pub partial: bool,
    /// The process's peak resident memory when the scan ended (Linux `VmHWM`), in bytes.
    pub peak_rss_bytes: Option<u64>,
}

/// This process's peak resident set size in bytes, from `/proc/self/status` (`VmHWM`).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl Summary {
    /// Counts `finding` and says whether to report it: `false` when `allow` suppresses it.
    pub fn record(&mut self, allow: &Allowlist, finding: &Finding) -> bool {
        match allow.verdict(finding) {
            None => {
                self.findings += 1;
                true
            }
            Some(Suppression::Baseline) => {
                self.baselined += 1;
                false
            }
            Some(Suppression::Allowlist) => {
                self.allowed += 1;
                false
            }
        }
    }

    /// Throughput in MB/s (10^6 bytes per second).
    pub fn mb_per_s(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.bytes as f64 / 1e6 / s
        } else {
            0.0
        }
    }
}

enum Event {
    Finding(Box<Finding>),
    Warning(Warning),
}

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    scanned: AtomicU64,
    skipped_quiet: AtomicU64,
}

/// Sends what expansion finds to the reporter thread.
struct ChannelSink<'a> {
    tx: SyncSender<Event>,
    stop: &'a AtomicBool,
    counters: &'a Counters,
}

impl Sink for ChannelSink<'_> {
    fn finding(&self, finding: Finding) -> bool {
        if self.tx.send(Event::Finding(Box::new(finding))).is_err() {
            self.stop.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn warning(&self, origin: &Origin, skipped: bool, message: String) {
        let kind = if skipped {
            WarningKind::Skipped
        } else {
            WarningKind::Error
        };
        let w = Warning {
            path: origin.to_string(),
            kind,
            message,
        };
        if self.tx.send(Event::Warning(w)).is_err() {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    fn scanned(&self, bytes: u64) {
        self.counters.scanned.fetch_add(bytes, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Scans inputs with a matcher.
#[derive(Debug, Clone)]
pub struct Scanner {
    matcher: Arc<Matcher>,
    opts: ScanOptions,
}

impl Scanner {
    /// A scanner with these options.
    pub fn new(matcher: Arc<Matcher>, opts: ScanOptions) -> Scanner {
        Scanner { matcher, opts }
    }

    /// The matcher.
    pub fn matcher(&self) -> &Arc<Matcher> {
        &self.matcher
    }

    /// The options.
    pub fn options(&self) -> &ScanOptions {
        &self.opts
    }

    /// Stops the scan early when `cancel` is set (from a signal handler).
    pub fn set_cancel(&mut self, cancel: Arc<AtomicBool>) {
        self.opts.cancel = Some(cancel);
    }

    /// Never scans this file (the report being written), whatever the walk finds.
    pub fn skip_file(&mut self, path: &std::path::Path) {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::metadata(path) {
            self.opts.walk.skip_files.push((meta.dev(), meta.ino()));
        }
    }

    /// Scans `inputs`, sending every finding and warning to `reporter`, then calls its
    /// `finish` with the summary. Per-item problems are warnings, counted in the summary; an
    /// `Err` means the scan itself failed (bad options, a report that cannot be written).
    pub fn run(&self, inputs: &[Input], reporter: &mut dyn Reporter) -> Result<Summary> {
        let started = Instant::now();
        // OCI layout folders named on the command line are images, not folders to walk.
        let (layouts, paths): (Vec<PathBuf>, Vec<PathBuf>) = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Path(p) => Some(p.clone()),
                _ => None,
            })
            .partition(|p| image::is_layout_dir(p));
        let urls: Vec<&str> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Registry(u) => Some(u.as_str()),
                _ => None,
            })
            .collect();
        let stdin = inputs.contains(&Input::Stdin);
        let events = walk::walk(paths, self.opts.walk.clone())?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.opts.threads)
            // Nested archives recurse once per level (up to --max-depth, at most 100).
            .stack_size(32 << 20)
            .thread_name(|i| format!("ferret-worker-{i}"))
            .build()
            .map_err(|e| Error::Threads(e.to_string()))?;

        let counters = Counters::default();
        let cancel = self.opts.cancel.clone();
        let stop_flag = cancel.clone().unwrap_or_default();
        let stop = &*stop_flag;
        let (tx, rx) = sync_channel::<Event>(1024);
        let mut summary = Summary::default();
        let mut report_error = None;

        std::thread::scope(|s| {
            let counters = &counters;
            s.spawn(move || {
                let sink = ChannelSink { tx, stop, counters };
                let mut expander = Expander::new(&self.matcher, &sink);
                expander.budget = self.opts.budget;
                expander.chunk_size = self.opts.chunk_size;
                let expander = &expander;
                pool.install(|| {
                    if stdin {
                        let read = Arc::new(AtomicU64::new(0));
                        let mut input = crate::expand::limits::Counting::new(
                            std::io::stdin().lock(),
                            Arc::clone(&read),
                        );
                        expander.input_stream(&mut input, Origin::stdin());
                        counters.files.fetch_add(1, Ordering::Relaxed);
                        counters
                            .bytes
                            .fetch_add(read.load(Ordering::Relaxed), Ordering::Relaxed);
                    }
                    for url in &urls {
                        let bytes = registry::scan(expander, url, &self.opts.registry);
                        counters.files.fetch_add(1, Ordering::Relaxed);
                        counters.bytes.fetch_add(bytes, Ordering::Relaxed);
                    }
                    for dir in &layouts {
                        let shown = walk::display(dir);
                        let bytes = image::layout_dir(expander, dir, &shown, self.opts.load);
                        counters.files.fetch_add(1, Ordering::Relaxed);
                        counters.bytes.fetch_add(bytes, Ordering::Relaxed);
                    }
                    events.par_bridge().for_each_init(Vec::new, |buf, event| {
                        if !stop.load(Ordering::Relaxed) {
                            handle(self, expander, event, buf, counters);
                        }
                    });
                });
            });
            for event in rx {
                let result = match event {
                    Event::Finding(f) if summary.record(&self.opts.allow, &f) => {
                        reporter.finding(*f)
                    }
                    Event::Finding(_) => Ok(()),
                    Event::Warning(w) => {
                        match w.kind {
                            WarningKind::Error => summary.errors += 1,
                            WarningKind::Skipped => summary.skipped += 1,
                        }
                        let r = reporter.warning(&w);
                        summary.warnings.push(w);
                        r
                    }
                };
                if let Err(e) = result {
                    stop.store(true, Ordering::Relaxed);
                    report_error = Some(e);
                    break;
                }
            }
        });
        if let Some(e) = report_error {
            return Err(Error::Report(e));
        }
        summary.files = counters.files.load(Ordering::Relaxed);
        summary.bytes = counters.bytes.load(Ordering::Relaxed);
        summary.scanned_bytes = counters.scanned.load(Ordering::Relaxed);
        summary.skipped += counters.skipped_quiet.load(Ordering::Relaxed);
        summary.warnings.sort();
        summary.partial = cancel.is_some_and(|c| c.load(Ordering::Relaxed));
        summary.elapsed = started.elapsed();
        summary.peak_rss_bytes = peak_rss();
        reporter.finish(&summary).map_err(Error::Report)?;
        Ok(summary)
    }
}

/// Opens one walked item and hands it to the expander. `buf` is the worker's read buffer,
/// reused across small files.
fn handle(
    scanner: &Scanner,
    expander: &Expander<'_>,
    event: WalkEvent,
    buf: &mut Vec<u8>,
    counters: &Counters,
) {
    let item = match event {
        WalkEvent::File(item) => item,
        WalkEvent::Skipped {
            path,
            reason,
            warn: true,
        } => return expander.sink.warning(&Origin::file(path), true, reason),
        WalkEvent::Skipped { warn: false, .. } => {
            counters.skipped_quiet.fetch_add(1, Ordering::Relaxed);
            return;
        }
        WalkEvent::Error { path, message } => {
            return expander.sink.warning(&Origin::file(path), false, message);
        }
    };
    let origin = Origin::file(item.display.clone());
    let data = match load::open(&item.path, item.size, &scanner.opts.load, buf) {
        Ok(d) => Arc::new(d),
        Err(e) => return expander.sink.warning(&origin, false, e.to_string()),
    };
    counters.files.fetch_add(1, Ordering::Relaxed);
    counters.bytes.fetch_add(data.len(), Ordering::Relaxed);
    expander.input(Arc::clone(&data), origin.clone());
    if data.faults() > 0 {
        expander.sink.warning(
            &origin,
            false,
            "the file shrank while being scanned: bytes past its new end were read as zeros".into(),
        );
    }
    // Give the read buffer back for the next small file.
    if let Ok(Data::Owned(v)) = Arc::try_unwrap(data) {
        *buf = v;
    }
}

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

use std::io::Read;
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
use crate::engine::{self, StreamScanner};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::finding::allow::{Allowlist, Suppression};
use crate::matcher::{Matcher, Scratch};
use crate::report::Reporter;
use crate::source::Input;
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
    /// Findings not to report (baseline and allowlist). Default: none.
    pub allow: Arc<Allowlist>,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            threads: 0,
            chunk_size: DEFAULT_CHUNK_SIZE,
            load: LoadOptions::default(),
            walk: WalkOptions::default(),
            allow: Arc::default(),
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
    /// Bytes scanned.
    pub bytes: u64,
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
    skipped_quiet: AtomicU64,
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

    /// Scans `inputs`, sending every finding and warning to `reporter`, then calls its
    /// `finish` with the summary. Per-item problems are warnings, counted in the summary; an
    /// `Err` means the scan itself failed (bad options, a report that cannot be written).
    pub fn run(&self, inputs: &[Input], reporter: &mut dyn Reporter) -> Result<Summary> {
        let started = Instant::now();
        let paths: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Path(p) => Some(p.clone()),
                Input::Stdin => None,
            })
            .collect();
        let stdin = inputs.contains(&Input::Stdin);
        let events = walk::walk(paths, self.opts.walk.clone())?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.opts.threads)
            .thread_name(|i| format!("ferret-worker-{i}"))
            .build()
            .map_err(|e| Error::Threads(e.to_string()))?;

        let counters = Counters::default();
        let stop = AtomicBool::new(false);
        let (tx, rx) = sync_channel::<Event>(1024);
        let mut summary = Summary::default();
        let mut report_error = None;

        std::thread::scope(|s| {
            let (counters, stop) = (&counters, &stop);
            s.spawn(move || {
                pool.install(|| {
                    if stdin {
                        self.scan_stdin(&tx, counters, stop);
                    }
                    events.par_bridge().for_each_init(
                        || Worker::new(&self.matcher),
                        |worker, event| {
                            if !stop.load(Ordering::Relaxed) {
                                worker.handle(self, event, &tx, counters, stop);
                            }
                        },
                    );
                });
                drop(tx);
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
        summary.skipped += counters.skipped_quiet.load(Ordering::Relaxed);
        summary.warnings.sort();
        summary.elapsed = started.elapsed();
        reporter.finish(&summary).map_err(Error::Report)?;
        Ok(summary)
    }

    fn scan_stdin(&self, tx: &SyncSender<Event>, counters: &Counters, stop: &AtomicBool) {
        let mut scanner = StreamScanner::new(
            &self.matcher,
            Origin::stdin(),
            self.opts.chunk_size as usize,
        );
        let mut stdin = std::io::stdin().lock();
        let mut block = vec![0u8; 256 * 1024];
        let send_all = |findings: Vec<Finding>| {
            findings
                .into_iter()
                .all(|f| tx.send(Event::Finding(Box::new(f))).is_ok())
        };
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match stdin.read(&mut block) {
                Ok(0) => break,
                Ok(n) => {
                    if !send_all(scanner.push(&block[..n])) {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Event::Warning(Warning {
                        path: "<stdin>".into(),
                        kind: WarningKind::Error,
                        message: format!("read failed: {e}"),
                    }));
                    break;
                }
            }
        }
        counters.files.fetch_add(1, Ordering::Relaxed);
        counters.bytes.fetch_add(scanner.len(), Ordering::Relaxed);
        send_all(scanner.finish());
    }
}

/// One rayon worker's reusable state.
struct Worker {
    scratch: Scratch,
    file_buf: Vec<u8>,
    range_buf: Vec<u8>,
}

impl Worker {
    fn new(matcher: &Matcher) -> Worker {
        Worker {
            scratch: matcher.scratch(),
            file_buf: Vec::new(),
            range_buf: Vec::new(),
        }
    }

    fn handle(
        &mut self,
        scanner: &Scanner,
        event: WalkEvent,
        tx: &SyncSender<Event>,
        counters: &Counters,
        stop: &AtomicBool,
    ) {
        let warn = |path: String, kind, message: String| {
            if tx
                .send(Event::Warning(Warning {
                    path,
                    kind,
                    message,
                }))
                .is_err()
            {
                stop.store(true, Ordering::Relaxed);
            }
        };
        let item = match event {
            WalkEvent::File(item) => item,
            WalkEvent::Skipped {
                path,
                reason,
                warn: true,
            } => return warn(path, WarningKind::Skipped, reason),
            WalkEvent::Skipped { warn: false, .. } => {
                counters.skipped_quiet.fetch_add(1, Ordering::Relaxed);
                return;
            }
            WalkEvent::Error { path, message } => return warn(path, WarningKind::Error, message),
        };
        let data = match load::open(
            &item.path,
            item.size,
            &scanner.opts.load,
            &mut self.file_buf,
        ) {
            Ok(d) => d,
            Err(e) => return warn(item.display, WarningKind::Error, e.to_string()),
        };
        let origin = Origin::file(item.display.clone());
        let result = engine::scan_data(
            &scanner.matcher,
            &data,
            &origin,
            scanner.opts.chunk_size,
            &mut self.scratch,
            &mut self.range_buf,
        );
        if let Data::Owned(v) = data {
            self.file_buf = v;
        }
        counters.files.fetch_add(1, Ordering::Relaxed);
        counters.bytes.fetch_add(result.bytes, Ordering::Relaxed);
        for f in result.findings {
            if tx.send(Event::Finding(Box::new(f))).is_err() {
                stop.store(true, Ordering::Relaxed);
                return;
            }
        }
        if let Some(e) = result.error {
            warn(item.display, WarningKind::Error, e.to_string());
        }
    }
}

//! The driver: sources to rayon workers to one reporter.
//!
//! [`Scanner::run`] walks the inputs on a rayon pool (`par_bridge`), gives each worker its own
//! [`Scratch`](crate::matcher::Scratch) and buffers (`for_each_init`), and sends findings and warnings over a bounded
//! channel to the calling thread, which feeds the [`Reporter`]. Large files are chunked by the
//! engine on the same pool, so one huge log uses every core. The run returns a [`Summary`]
//! that counts what was scanned, skipped and failed; nothing global is kept.
//!
//! Findings that the baseline or the allowlist ([`ScanOptions::allow`]) covers are counted in
//! the summary and not reported ([`Summary::record`]).
//!
//! Sweeps over large stores add three things ([`SweepOptions`]): object URLs are listed and read
//! by an [`ObjectSource`] next to the walk; `--shard K/N` keeps the items this worker owns; and
//! a [`State`] skips items that did not change since the last run, replaying their findings,
//! while the reporter thread records what each scanned item held as it finishes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Instant;

use rayon::prelude::*;

use crate::blob::chunk::DEFAULT_CHUNK_SIZE;
use crate::blob::load::{self, LoadOptions};
use crate::blob::{Data, Origin};
use crate::error::{Error, Result};
use crate::expand::{Budget, Expander, Sink, image};
use crate::finding::Finding;
use crate::finding::allow::Allowlist;
use crate::matcher::Matcher;
use crate::progress::Progress;
use crate::report::Reporter;
use crate::source::net::{self, NetLimits};
use crate::source::object::{Listed, ObjectItem, ObjectOptions, ObjectSource};
use crate::source::registry::{self, RegistryOptions};
use crate::source::shard::Shard;
use crate::source::walk::{self, FileItem, WalkEvent, WalkOptions};
use crate::source::{Input, git};
use crate::state::{Begin, Lookup, State};
use crate::summary::{Summary, Warning, WarningKind, peak_rss};

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
    /// Which findings are reported by confidence and validation. Default: `medium` and up,
    /// not those whose checksum or structure check fails.
    pub policy: crate::finding::ReportPolicy,
    /// How images are pulled from registries.
    pub registry: RegistryOptions,
    /// Object stores, sharding and incremental state.
    pub sweep: SweepOptions,
    /// Live counters for a progress display, bumped as items are opened. Default: none.
    pub progress: Option<Arc<Progress>>,
    /// Deadlines of the network sources (registries, object stores, MLflow servers).
    /// Default: connect within 10 s, silent at most 30 s.
    pub net: NetLimits,
}

/// How a sweep over a large store runs.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// Scan only the items of this shard. Default: all.
    pub shard: Option<Shard>,
    /// Skip unchanged items and record what scanned ones held. Default: none.
    pub state: Option<Arc<State>>,
    /// How object stores are reached.
    pub objects: ObjectOptions,
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
            policy: crate::finding::ReportPolicy::default(),
            registry: RegistryOptions::default(),
            sweep: SweepOptions::default(),
            progress: None,
            net: NetLimits::default(),
        }
    }
}

enum Event {
    Finding(Box<Finding>),
    /// A blob's findings, in order.
    Findings(Vec<Finding>),
    Warning(Warning),
    /// An item with a state record starts scanning.
    Begin(Box<Begin>),
    /// That item is done (every finding and warning of it was sent before).
    Done(String),
}

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    scanned: AtomicU64,
    skipped_quiet: AtomicU64,
    unchanged: AtomicU64,
    progress: Option<Arc<Progress>>,
}

impl Counters {
    /// One more item opened, of `bytes` bytes.
    fn item(&self, bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some(p) = &self.progress {
            p.item(bytes);
        }
    }
}

/// One unit of work for the pool.
enum Work {
    /// A walk event, with the path relative to its root (the shard key).
    File { event: WalkEvent, key: String },
    /// A listed object (or a listing problem).
    Object(Listed),
    /// A blob of a git repository (`repos[index]`), with the lines it adds.
    Git { index: usize, item: git::Item },
    /// An item of an MLflow server (the server's index among the inputs' servers).
    Mlflow(usize, crate::source::mlflow::Listed),
}

impl Work {
    /// What `--shard` hashes; `None` for a problem that names no item (every shard reports it).
    fn key(&self) -> Option<&str> {
        match self {
            Work::File { key, .. } => Some(key),
            Work::Object(Listed::Object(item)) => Some(&item.relative),
            Work::Object(Listed::Skipped { relative, .. }) => Some(relative),
            Work::Object(Listed::Error { .. }) | Work::Git { .. } => None,
            Work::Mlflow(_, crate::source::mlflow::Listed::Item(item)) => Some(&item.path),
            Work::Mlflow(_, crate::source::mlflow::Listed::Error { .. }) => None,
        }
    }
}

/// The shard key of a walk event: its path relative to the root named by the user, or the
/// root's file name when the root is the file.
fn relative_key(root: &Path, root_display: &str, event: &WalkEvent) -> String {
    let display = match event {
        WalkEvent::File(item) | WalkEvent::Stream(item) | WalkEvent::Layout(item) => &item.display,
        WalkEvent::Skipped { path, .. } | WalkEvent::Error { path, .. } => path,
    };
    let rel = display
        .strip_prefix(root_display)
        .map_or(display.as_str(), |r| r.trim_start_matches('/'));
    if rel.is_empty() {
        root.file_name()
            .map_or_else(|| display.clone(), |n| n.to_string_lossy().into_owned())
    } else {
        rel.to_string()
    }
}

/// One finding arriving at the reporter thread: the state records every finding of an item;
/// only new ones (with --only-new) and those neither baselined nor allowed are reported.
fn admit(
    f: Finding,
    recorder: &mut Option<crate::state::Recorder<'_>>,
    summary: &mut Summary,
    reporter: &mut dyn Reporter,
    opts: &ScanOptions,
) -> std::io::Result<()> {
    if admitted(&f, recorder, summary, opts) {
        reporter.finding(f)
    } else {
        Ok(())
    }
}

/// Whether [`admit`] reports `f` (recording it in the state and the summary).
fn admitted(
    f: &Finding,
    recorder: &mut Option<crate::state::Recorder<'_>>,
    summary: &mut Summary,
    opts: &ScanOptions,
) -> bool {
    recorder.as_mut().is_none_or(|r| r.finding(f))
        && summary.admit(&opts.policy, f)
        && summary.record(&opts.allow, f)
}

/// Sends what expansion finds to the reporter thread.
struct ChannelSink<'a> {
    tx: SyncSender<Event>,
    stop: &'a AtomicBool,
    counters: &'a Counters,
    /// Hugging Face caches met by the walk (names, blobs scanned once).
    hub: crate::source::hf::Hub,
}

impl Sink for ChannelSink<'_> {
    fn finding(&self, finding: Finding) -> bool {
        if self.tx.send(Event::Finding(Box::new(finding))).is_err() {
            self.stop.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn findings(&self, findings: Vec<Finding>) -> bool {
        if self.tx.send(Event::Findings(findings)).is_err() {
            self.stop.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn warn(&self, origin: &Origin, kind: WarningKind, message: String) {
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

impl ChannelSink<'_> {
    fn send(&self, event: Event) {
        if self.tx.send(event).is_err() {
            self.stop.store(true, Ordering::Relaxed);
        }
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

    /// Bumps `progress` as items are opened (for a progress display).
    pub fn set_progress(&mut self, progress: Arc<Progress>) {
        self.opts.progress = Some(progress);
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
        let stdin = inputs.contains(&Input::Stdin);
        let sweep = &self.opts.sweep;
        if stdin && sweep.shard.is_some() {
            return Err(Error::Shard(
                "--shard cannot split standard input: scan it in one worker".into(),
            ));
        }
        let cancel = self.opts.cancel.clone();
        let stop_flag = cancel.clone().unwrap_or_default();
        let objects = if inputs.iter().any(|i| matches!(i, Input::Object(_))) {
            Some(ObjectSource::new(
                sweep.objects.clone(),
                self.opts.net,
                Arc::clone(&stop_flag),
            )?)
        } else {
            None
        };
        // OCI layout folders named on the command line are images, not folders to walk.
        let layouts: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Path(p) if image::is_layout_dir(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        let urls: Vec<&str> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Registry(u) => Some(u.as_str()),
                _ => None,
            })
            .collect();
        let trackers: Vec<crate::source::mlflow::MlflowSource> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Mlflow(u) => {
                    Some(crate::source::mlflow::MlflowSource::new(u, &self.opts.net))
                }
                _ => None,
            })
            .collect();
        let Plan {
            work: events,
            planners,
            repos,
        } = self.work(inputs, objects.as_ref(), &trackers)?;
        let sources = Sources {
            objects: objects.as_ref(),
            repos: &repos,
            trackers: &trackers,
        };
        let sources = &sources;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.opts.threads)
            // Nested archives recurse once per level (up to --max-depth, at most 100).
            .stack_size(32 << 20)
            .thread_name(|i| format!("ferret-worker-{i}"))
            .build()
            .map_err(|e| Error::Threads(e.to_string()))?;

        let counters = Counters {
            progress: self.opts.progress.clone(),
            ..Counters::default()
        };
        let stop = &*stop_flag;
        let (tx, rx) = sync_channel::<Event>(1024);
        let mut summary = Summary::default();
        let mut report_error = None;
        let mut recorder = sweep.state.as_ref().map(|s| s.recorder());

        let tracker_agents: Vec<&ureq::Agent> = trackers
            .iter()
            .map(crate::source::mlflow::MlflowSource::agent)
            .collect();
        let tracker_agents = &tracker_agents[..];
        std::thread::scope(|s| {
            let counters = &counters;
            // Git history is walked on threads of their own, feeding the workers' items.
            for (planner, items) in planners {
                let warnings = tx.clone();
                s.spawn(move || {
                    let result = planner.run(stop, &mut |item| {
                        items.send(item).is_ok() && !stop.load(Ordering::Relaxed)
                    });
                    if let Err(e) = result {
                        let _ = warnings.send(Event::Warning(Warning {
                            path: "<git>".into(),
                            kind: WarningKind::Error,
                            message: e.to_string(),
                        }));
                    }
                });
            }
            s.spawn(move || {
                let sink = ChannelSink {
                    tx,
                    stop,
                    counters,
                    hub: crate::source::hf::Hub::new(),
                };
                let sink = &sink;
                let mut expander = Expander::new(&self.matcher, sink);
                expander.budget = self.opts.budget;
                expander.chunk_size = self.opts.chunk_size;
                let expander = &expander;
                // A stop shuts the MLflow clients down: requests blocked on a silent server
                // return at once (registries and object stores do the same themselves).
                let stopped = || stop.load(Ordering::Relaxed);
                net::cancellable(tracker_agents, &stopped, || {
                    pool.install(|| {
                        if stdin {
                            let read = Arc::new(AtomicU64::new(0));
                            let mut input = crate::expand::limits::Counting::new(
                                crate::source::stdin::Stdin::new(stop),
                                Arc::clone(&read),
                            );
                            expander.input_stream(&mut input, Origin::stdin());
                            counters.item(read.load(Ordering::Relaxed));
                        }
                        for url in &urls {
                            let bytes =
                                registry::scan(expander, url, &self.opts.registry, &self.opts.net);
                            counters.item(bytes);
                        }
                        for dir in &layouts {
                            let shown = walk::display(dir);
                            let bytes = image::layout_dir(expander, dir, &shown, self.opts.load);
                            counters.item(bytes);
                        }
                        events.par_bridge().for_each_init(Vec::new, |buf, work| {
                            if !stop.load(Ordering::Relaxed) {
                                handle(self, expander, sink, work, buf, sources);
                            }
                        });
                    })
                });
            });
            for event in rx {
                let result = match event {
                    Event::Finding(f) => {
                        admit(*f, &mut recorder, &mut summary, &mut *reporter, &self.opts)
                    }
                    Event::Findings(mut found) => {
                        found.retain(|f| admitted(f, &mut recorder, &mut summary, &self.opts));
                        reporter.findings(found)
                    }
                    Event::Warning(w) => {
                        match w.kind {
                            WarningKind::Error => summary.errors += 1,
                            WarningKind::Skipped | WarningKind::Budget => summary.skipped += 1,
                        }
                        if let Some(r) = recorder.as_mut() {
                            r.warning(&w);
                        }
                        let r = reporter.warning(&w);
                        summary.warnings.push(w);
                        r
                    }
                    Event::Begin(b) => {
                        if let Some(r) = recorder.as_mut() {
                            r.begin(*b);
                        }
                        Ok(())
                    }
                    Event::Done(root) => {
                        if let Some(r) = recorder.as_mut() {
                            r.done(&root);
                        }
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    stop.store(true, Ordering::Relaxed);
                    report_error = Some(e);
                    break;
                }
            }
        });
        // What finished is recorded even when the scan stopped early.
        let recorded = recorder.map(|r| r.finish());
        if let Some(e) = report_error {
            return Err(Error::Report(e));
        }
        if let Some(Err(e)) = recorded {
            let w = Warning {
                path: "--state".into(),
                kind: WarningKind::Error,
                message: e.to_string(),
            };
            summary.errors += 1;
            reporter.warning(&w).map_err(Error::Report)?;
            summary.warnings.push(w);
        }
        summary.files = counters.files.load(Ordering::Relaxed);
        summary.bytes = counters.bytes.load(Ordering::Relaxed);
        summary.scanned_bytes = counters.scanned.load(Ordering::Relaxed);
        summary.skipped += counters.skipped_quiet.load(Ordering::Relaxed);
        summary.unchanged = counters.unchanged.load(Ordering::Relaxed);
        summary.fetched_bytes = sources.objects.map_or(0, ObjectSource::fetched);
        summary.warnings.sort();
        summary.partial = cancel.is_some_and(|c| c.load(Ordering::Relaxed));
        summary.elapsed = started.elapsed();
        summary.peak_rss_bytes = peak_rss();
        reporter.finish(&summary).map_err(Error::Report)?;
        Ok(summary)
    }
}

/// What the workers look items up in: the object store, the git repositories and the MLflow
/// servers of the inputs.
struct Sources<'a> {
    objects: Option<&'a ObjectSource>,
    /// The repositories of [`Work::Git`] items, by index.
    repos: &'a [git::Repo],
    /// The servers of [`Work::Mlflow`] items, by index.
    trackers: &'a [crate::source::mlflow::MlflowSource],
}

/// What [`Scanner::work`] plans: the items, and the git planners that produce some of them.
struct Plan<'a> {
    work: Box<dyn Iterator<Item = Work> + Send + 'a>,
    /// Each git input's planner, and where it sends its items.
    planners: Vec<(git::Planner, SyncSender<git::Item>)>,
    /// The repositories of [`Work::Git`] items, by index.
    repos: Vec<git::Repo>,
}

impl Scanner {
    /// Everything to scan, in input order: walks of paths, listings of object URLs and of
    /// MLflow servers, and blobs of git repositories, lazily, keeping only this shard's items.
    fn work<'a>(
        &self,
        inputs: &[Input],
        objects: Option<&'a ObjectSource>,
        trackers: &'a [crate::source::mlflow::MlflowSource],
    ) -> Result<Plan<'a>> {
        let mut parts: Vec<Box<dyn Iterator<Item = Work> + Send + 'a>> = Vec::new();
        let mut planners = Vec::new();
        let mut repos = Vec::new();
        for input in inputs {
            match input {
                // Images are scanned apart (see `run`).
                Input::Path(root) if image::is_layout_dir(root) => {}
                Input::Path(root) => {
                    let root = root.clone();
                    let root_display = walk::display(&root);
                    let events = walk::walk(vec![root.clone()], self.opts.walk.clone())?;
                    parts.push(Box::new(events.map(move |event| Work::File {
                        key: relative_key(&root, &root_display, &event),
                        event,
                    })));
                }
                Input::Object(url) => {
                    if let Some(source) = objects {
                        let listed = source.list(url, &self.opts.walk, self.wanted())?;
                        parts.push(Box::new(listed.map(Work::Object)));
                    }
                }
                Input::Git { repo, scope } => {
                    let planner = git::Planner::new(repo, scope, &self.opts.walk.excludes)?;
                    let (tx, rx) = sync_channel::<git::Item>(256);
                    let index = repos.len();
                    repos.push(repo.clone());
                    planners.push((planner, tx));
                    parts.push(Box::new(
                        rx.into_iter().map(move |item| Work::Git { index, item }),
                    ));
                }
                Input::Stdin | Input::Registry(_) => {}
                Input::Mlflow(_) => {}
            }
        }
        for (i, tracker) in trackers.iter().enumerate() {
            parts.push(Box::new(tracker.list().map(move |l| Work::Mlflow(i, l))));
        }
        let shard = self.opts.sweep.shard;
        let work = Box::new(
            parts
                .into_iter()
                .flatten()
                .filter(move |w| match (shard, w.key()) {
                    (Some(s), Some(key)) => s.owns(key),
                    _ => true,
                }),
        );
        Ok(Plan {
            work,
            planners,
            repos,
        })
    }
}

impl Scanner {
    /// Which objects are worth downloading ahead: this shard's, and only if they changed.
    fn wanted(&self) -> crate::source::object::Wanted {
        let shard = self.opts.sweep.shard;
        let state = self.opts.sweep.state.clone();
        Arc::new(move |item: &ObjectItem| {
            shard.is_none_or(|s| s.owns(&item.relative))
                && state
                    .as_ref()
                    .is_none_or(|st| !st.is_unchanged(&item.url, &item.version()))
        })
    }
}

/// One unit of work: a walked file, a listed object or a git blob, or a warning about one.
fn handle(
    scanner: &Scanner,
    expander: &Expander<'_>,
    sink: &ChannelSink<'_>,
    work: Work,
    buf: &mut Vec<u8>,
    sources: &Sources<'_>,
) {
    match work {
        Work::Git { index, item } => {
            if let Some(repo) = sources.repos.get(index) {
                handle_git(scanner, expander, sink, repo, &item);
            }
        }
        Work::Mlflow(i, listed) => {
            if let Some(source) = sources.trackers.get(i) {
                handle_mlflow(scanner, expander, sink, source, listed);
            }
        }
        Work::File { event, .. } => handle_file(scanner, expander, sink, event, buf),
        Work::Object(Listed::Object(item)) => {
            if let Some(source) = sources.objects {
                handle_object(scanner, expander, sink, source, &item);
            }
        }
        Work::Object(Listed::Skipped { url, reason, .. }) => {
            sink.skipped(&Origin::object(url), reason);
        }
        Work::Object(Listed::Error { url, message }) => {
            sink.error(&Origin::object(url), message);
        }
    }
}

/// Scans one top-level item through `scan`, unless the state file says it is unchanged:
/// then its recorded findings are replayed (or nothing, with `--only-new`).
fn with_state(
    scanner: &Scanner,
    sink: &ChannelSink<'_>,
    origin: &Origin,
    key_version: impl FnOnce() -> Option<(String, String)>,
    scan: impl FnOnce(),
) {
    let Some(state) = &scanner.opts.sweep.state else {
        return scan();
    };
    let Some((key, version)) = key_version() else {
        return scan();
    };
    let previous = match state.lookup(&key, &version, origin) {
        Ok(Lookup::Unchanged(findings)) => {
            sink.counters.unchanged.fetch_add(1, Ordering::Relaxed);
            if !state.options().only_new {
                for f in findings {
                    if !sink.finding(f) {
                        return;
                    }
                }
            }
            return;
        }
        Ok(Lookup::Changed { previous }) => previous,
        Err(e) => {
            // The scan goes on; the item is scanned and recorded as new.
            sink.error(origin, e.to_string());
            Default::default()
        }
    };
    let root = origin.to_string();
    sink.send(Event::Begin(Box::new(Begin {
        root: root.clone(),
        key,
        version,
        previous,
    })));
    scan();
    sink.send(Event::Done(root));
}

/// One item of an MLflow server, unless the state says it did not change.
fn handle_mlflow(
    scanner: &Scanner,
    expander: &Expander<'_>,
    sink: &ChannelSink<'_>,
    source: &crate::source::mlflow::MlflowSource,
    listed: crate::source::mlflow::Listed,
) {
    use crate::source::mlflow::Listed as L;
    let item = match listed {
        L::Item(item) => item,
        L::Error { what, message } => {
            return sink.error(&source.server(), format!("{what}: {message}"));
        }
    };
    let origin = source.root(&item);
    let key_version = || Some((origin.to_string(), item.version()));
    with_state(scanner, sink, &origin, key_version, || {
        sink.counters.files.fetch_add(1, Ordering::Relaxed);
        let bytes = source.scan(expander, &item);
        sink.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
    });
}

fn handle_object(
    scanner: &Scanner,
    expander: &Expander<'_>,
    sink: &ChannelSink<'_>,
    source: &ObjectSource,
    item: &ObjectItem,
) {
    let origin = Origin::object(item.url.clone());
    let key_version = || Some((item.url.clone(), item.version()));
    with_state(scanner, sink, &origin, key_version, || {
        sink.counters.item(item.meta.size);
        source.scan(expander, item);
    });
}

/// Opens one walked item and hands it to the expander. `buf` is the worker's read buffer,
/// reused across small files.
fn handle_file(
    scanner: &Scanner,
    expander: &Expander<'_>,
    sink: &ChannelSink<'_>,
    event: WalkEvent,
    buf: &mut Vec<u8>,
) {
    let counters = sink.counters;
    let item = match event {
        WalkEvent::File(item) => item,
        // An OCI layout inside a walked folder is an image, as one named on the command line.
        WalkEvent::Layout(dir) => {
            let bytes = image::layout_dir(expander, &dir.path, &dir.display, scanner.opts.load);
            counters.item(bytes);
            return;
        }
        WalkEvent::Stream(item) => return scan_pipe(expander, sink, &item),
        WalkEvent::Skipped {
            path,
            reason,
            warn: true,
        } => return expander.sink.skipped(&Origin::file(path), reason),
        WalkEvent::Skipped { warn: false, .. } => {
            counters.skipped_quiet.fetch_add(1, Ordering::Relaxed);
            return;
        }
        WalkEvent::Error { path, message } => {
            return expander.sink.error(&Origin::file(path), message);
        }
    };
    // Hook: a file of a Hugging Face cache is named by its place on the Hub, once.
    let origin = match sink.hub.place(&item.path, &item.display) {
        crate::source::hf::Place::Plain => Origin::file(item.display.clone()),
        crate::source::hf::Place::Named(o) => o,
        crate::source::hf::Place::Seen => {
            counters.skipped_quiet.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let key_version = || {
        let meta = std::fs::metadata(&item.path).ok()?;
        let key = std::path::absolute(&item.path).ok()?;
        Some((
            key.to_string_lossy().into_owned(),
            crate::state::file_version(&meta),
        ))
    };
    with_state(scanner, sink, &origin, key_version, || {
        scan_file(scanner, expander, &item, origin.clone(), buf, counters);
    });
}

/// Reads one git blob with this worker's repository handle and scans it, keeping the findings
/// on the lines it adds ([`git::Item::keeps`]).
fn handle_git(
    scanner: &Scanner,
    expander: &Expander<'_>,
    sink: &ChannelSink<'_>,
    repo: &git::Repo,
    item: &git::Item,
) {
    let max = scanner.opts.walk.max_file_size;
    let data = match repo.with_handle(|g| item.read(g, max)) {
        Ok(Ok(data)) => data,
        Ok(Err(git::ItemError::Skipped(message))) => return sink.skipped(&item.origin, message),
        Ok(Err(git::ItemError::Error(message))) => return sink.error(&item.origin, message),
        Err(e) => return sink.error(&item.origin, e.to_string()),
    };
    sink.counters.item(data.len());
    let added = AddedLines { inner: sink, item };
    expander
        .with_sink(&added)
        .input(Arc::new(data), item.origin.clone());
}

/// Passes on the findings of one git blob that touch the lines it adds.
struct AddedLines<'a> {
    inner: &'a dyn Sink,
    item: &'a git::Item,
}

impl Sink for AddedLines<'_> {
    fn finding(&self, finding: Finding) -> bool {
        if self.item.keeps(&finding) {
            self.inner.finding(finding)
        } else {
            !self.inner.stopped()
        }
    }

    fn warn(&self, origin: &Origin, kind: WarningKind, message: String) {
        self.inner.warn(origin, kind, message);
    }

    fn scanned(&self, bytes: u64) {
        self.inner.scanned(bytes);
    }

    fn stopped(&self) -> bool {
        self.inner.stopped()
    }
}

/// Reads a FIFO named on the command line as a stream, giving up when the scan stops (a FIFO
/// whose writer never comes, or never ends, does not hold the run).
fn scan_pipe(expander: &Expander<'_>, sink: &ChannelSink<'_>, item: &FileItem) {
    let origin = Origin::file(item.display.clone());
    let pipe = match crate::source::stdin::Pipe::open(&item.path, sink.stop) {
        Ok(p) => p,
        Err(e) => return expander.sink.error(&origin, e.to_string()),
    };
    let read = Arc::new(AtomicU64::new(0));
    let mut input = crate::expand::limits::Counting::new(pipe, Arc::clone(&read));
    expander.input_stream(&mut input, origin);
    sink.counters.item(read.load(Ordering::Relaxed));
}

fn scan_file(
    scanner: &Scanner,
    expander: &Expander<'_>,
    item: &FileItem,
    origin: Origin,
    buf: &mut Vec<u8>,
    counters: &Counters,
) {
    let data = match load::open(&item.path, item.size, &scanner.opts.load, buf) {
        Ok(d) => Arc::new(d),
        Err(e) => return expander.sink.error(&origin, e.to_string()),
    };
    counters.item(data.len());
    expander.input(Arc::clone(&data), origin.clone());
    if data.faults() > 0 {
        expander.sink.error(
            &origin,
            "the file shrank while being scanned: bytes past its new end were read as zeros".into(),
        );
    }
    // Give the read buffer back for the next small file.
    if let Ok(Data::Owned(v)) = Arc::try_unwrap(data) {
        *buf = v;
    }
}

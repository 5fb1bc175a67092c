//! Git as a source: staged changes (pre-commit), what a commit range adds (CI), or every blob in
//! history (an audit).
//!
//! - [`Scope::Staged`] diffs the index against `HEAD` and scans the staged version of every
//!   added, modified, renamed or copied file, keeping only findings on lines the index adds.
//! - [`Scope::Range`] walks the commits in `base..tip` (oldest first) and diffs each against its
//!   parent, keeping findings on the lines each commit adds, attributed to that commit. Merge
//!   commits are not diffed (like `git log -p`): what they bring in is in the commits merged,
//!   which the range holds.
//! - [`Scope::All`] walks every commit reachable from any ref (and `HEAD`), oldest first, and
//!   scans every blob once, deduplicated by blob id, attributed to the first commit and path
//!   where it appears. Subtrees already seen are skipped whole, so the walk costs one visit per
//!   distinct tree, not per commit.
//!
//! Added lines come from libgit2's diff with no context lines and rename detection on, so a
//! renamed file adds only the lines that changed in it. The *whole* new blob is scanned and
//! findings are kept when they touch an added line: line numbers are the real ones in the new
//! file, context snippets are the real lines, and a secret split over lines (a PEM key) is
//! found when any of its lines is added. Binary files (as git decides) are scanned whole. Every
//! blob goes through [`Expander`] like a file on disk, so an archive or a compressed log in
//! history is opened under the same budgets; findings inside it are all kept (their lines are
//! those of the entry, not of the blob's diff).
//!
//! Findings carry a [`Segment::Commit`] (id, author, email, date) or [`Segment::Staged`], then
//! the file's path in the repository (author, email and path with control characters
//! replaced: history is untrusted input that reaches terminals and CI logs). Reading is done by `git2` (libgit2): one repository
//! handle plans the work on its own thread, and each worker thread opens its own handle
//! (libgit2 handles are not shared between threads) and reads the blobs it scans. Memory is
//! bounded by the blobs in flight plus the set of object ids seen (for [`Scope::All`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use git2::{
    Delta, Diff, DiffFindOptions, DiffOptions, FileMode, ObjectType, Oid, Repository, Sort,
    TreeWalkMode, TreeWalkResult,
};
use globset::GlobSet;

use crate::blob::{Data, Origin, Segment};
use crate::error::{Error, Result};
use crate::expand::{Expander, Sink};
use crate::finding::Finding;
use crate::report::Reporter;
use crate::scan::{Scanner, Summary, Warning, WarningKind};
use crate::source::walk::build_globs;

/// What part of a repository to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The index against `HEAD`: what the next commit adds.
    Staged,
    /// The commits reachable from `tip` and not from `base`, each against its parent.
    Range {
        /// Commits reachable from here are left out (`None`: scan back to the root).
        base: Option<String>,
        /// The newest commit.
        tip: String,
    },
    /// Every blob of every commit reachable from a ref, once.
    All,
}

impl Scope {
    /// `A..B` as a range; `None` if `spec` has no `..`.
    pub fn parse_range(spec: &str) -> Option<Scope> {
        let (a, b) = spec.split_once("..")?;
        if b.starts_with('.') {
            return None;
        }
        let or_head = |s: &str| {
            if s.is_empty() {
                "HEAD".to_string()
            } else {
                s.to_string()
            }
        };
        Some(Scope::Range {
            base: Some(or_head(a)),
            tip: or_head(b),
        })
    }
}

fn git_err(e: git2::Error) -> Error {
    Error::Git(e.message().to_string())
}

/// A repository found from a path.
#[derive(Debug, Clone)]
pub struct Repo {
    git_dir: PathBuf,
    workdir: Option<PathBuf>,
}

impl Repo {
    /// Finds the repository that contains `path` (like `git` does, walking up).
    pub fn discover(path: &Path) -> Result<Repo> {
        let repo = Repository::discover(path).map_err(|e| {
            Error::Git(format!(
                "{} is not in a git repository ({})",
                path.display(),
                e.message()
            ))
        })?;
        Ok(Repo {
            git_dir: repo.path().to_path_buf(),
            workdir: repo.workdir().map(Path::to_path_buf),
        })
    }

    /// The work tree's top folder (`None` for a bare repository).
    pub fn workdir(&self) -> Option<&Path> {
        self.workdir.as_deref()
    }

    fn open(&self) -> Result<Repository> {
        Repository::open(&self.git_dir).map_err(git_err)
    }

    /// Checks that the scope's revisions exist, so a typo fails before the scan starts.
    pub fn check(&self, scope: &Scope) -> Result<()> {
        let repo = self.open()?;
        if let Scope::Range { base, tip } = scope {
            for rev in base.iter().chain(Some(tip)) {
                resolve(&repo, rev)?;
            }
        }
        Ok(())
    }
}

fn resolve(repo: &Repository, rev: &str) -> Result<Oid> {
    let obj = repo
        .revparse_single(rev)
        .map_err(|e| Error::Git(format!("unknown revision {rev:?}: {}", e.message())))?;
    let commit = obj
        .peel_to_commit()
        .map_err(|e| Error::Git(format!("{rev:?} is not a commit: {}", e.message())))?;
    Ok(commit.id())
}

/// One blob to scan, and which of its lines count.
#[derive(Debug)]
struct Item {
    oid: Oid,
    origin: Origin,
    /// Added line ranges `[start, end)` (1-based); `None` means every line.
    lines: Option<Vec<(u64, u64)>>,
}

impl Item {
    fn keeps(&self, f: &Finding) -> bool {
        match &self.lines {
            None => true,
            Some(ranges) => ranges
                .iter()
                .any(|&(a, b)| f.start.line < b && f.end.line >= a),
        }
    }
}

enum Event {
    Finding(Box<Finding>),
    Warning(Warning),
}

/// Excludes as the walk applies them: a path is excluded when it, its file name, or any of
/// its parent folders (by path or by name) matches.
struct PathFilter(GlobSet);

impl PathFilter {
    fn is_excluded(&self, path: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let mut end = 0;
        for part in path.split('/') {
            end += part.len();
            if self.0.is_match(&path[..end]) || self.0.is_match(part) {
                return true;
            }
            end += 1;
        }
        false
    }
}

/// Scans `scope` of `repo` with `scanner`'s matcher and options (threads, chunk size, excludes,
/// `max_file_size`, allowlist), sending findings and warnings to `reporter`.
pub fn scan(
    scanner: &Scanner,
    repo: &Repo,
    scope: &Scope,
    reporter: &mut dyn Reporter,
) -> Result<Summary> {
    let started = Instant::now();
    let opts = scanner.options();
    let filter = PathFilter(build_globs(&opts.walk.excludes)?);
    repo.check(scope)?;
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    // libgit2 handles are not shared between threads: one for the planner, one per worker.
    let planner_git = repo.open()?;
    let worker_gits = (0..threads)
        .map(|_| repo.open())
        .collect::<Result<Vec<_>>>()?;
    let (item_tx, item_rx) = sync_channel::<Item>(256);
    let item_rx = Mutex::new(item_rx);
    let (tx, rx) = sync_channel::<Event>(1024);
    // Stops planner and workers: set by a signal (`cancel`) or when the report fails.
    let stop_flag = opts.cancel.clone().unwrap_or_default();
    let stop = &*stop_flag;
    let counters = Counters::default();
    let mut summary = Summary::default();
    let mut report_error = None;

    std::thread::scope(|s| {
        let (counters, item_rx, filter) = (&counters, &item_rx, &filter);
        let planner_tx = tx.clone();
        s.spawn(move || {
            let warn = |message: String| {
                let _ = planner_tx.send(Event::Warning(Warning {
                    path: "<git>".into(),
                    kind: WarningKind::Error,
                    message,
                }));
            };
            let result = plan(&planner_git, scope, filter, stop, &mut |item| {
                item_tx.send(item).is_ok() && !stop.load(Ordering::Relaxed)
            });
            if let Err(e) = result {
                warn(e.to_string());
            }
            drop(item_tx);
        });
        for git in worker_gits {
            let tx = tx.clone();
            s.spawn(move || {
                let mut worker = GitWorker { scanner, git };
                loop {
                    let item = match item_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(item) = item else { break };
                    if stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    worker.scan(item, &tx, stop, counters);
                }
            });
        }
        drop(tx);
        for event in rx {
            let result = match event {
                Event::Finding(f) if summary.record(&opts.allow, &f) => reporter.finding(*f),
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
                // Dropping the receiver (leaving the loop) makes the workers' sends fail, so
                // they stop; the planner sees `stop`.
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
    summary.warnings.sort();
    summary.partial = opts
        .cancel
        .as_ref()
        .is_some_and(|c| c.load(Ordering::Relaxed));
    summary.peak_rss_bytes = crate::scan::peak_rss();
    summary.elapsed = started.elapsed();
    reporter.finish(&summary).map_err(Error::Report)?;
    Ok(summary)
}

struct GitWorker<'a> {
    scanner: &'a Scanner,
    git: Repository,
}

/// Where one item's findings and warnings go: findings directly in the item's blob are kept
/// when they touch an added line; findings deeper inside it (an archive entry, whose lines are
/// the entry's) are all kept.
struct ItemSink<'a> {
    tx: &'a SyncSender<Event>,
    stop: &'a AtomicBool,
    counters: &'a Counters,
    item: &'a Item,
}

impl Sink for ItemSink<'_> {
    fn finding(&self, finding: Finding) -> bool {
        if finding.origin == self.item.origin && !self.item.keeps(&finding) {
            return true;
        }
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

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    scanned: AtomicU64,
}

impl GitWorker<'_> {
    /// Reads one item's blob and expands or scans it.
    fn scan(&mut self, item: Item, tx: &SyncSender<Event>, stop: &AtomicBool, counters: &Counters) {
        let opts = self.scanner.options();
        let sink = ItemSink {
            tx,
            stop,
            counters,
            item: &item,
        };
        if let Some(max) = opts.walk.max_file_size {
            let size = self
                .git
                .odb()
                .and_then(|odb| odb.read_header(item.oid))
                .map(|(n, _)| n as u64);
            if let Ok(size) = size
                && size > max
            {
                return sink.warning(
                    &item.origin,
                    true,
                    format!("{size} bytes is over the --max-file-size limit of {max} bytes"),
                );
            }
        }
        let data = match self.git.find_blob(item.oid) {
            Ok(blob) => Data::Owned(blob.content().to_vec()),
            Err(e) => {
                return sink.warning(
                    &item.origin,
                    false,
                    format!("cannot read blob {}: {}", item.oid, e.message()),
                );
            }
        };
        counters.files.fetch_add(1, Ordering::Relaxed);
        counters.bytes.fetch_add(data.len(), Ordering::Relaxed);
        if let Some(p) = &opts.progress {
            p.item(data.len());
        }
        let mut expander = Expander::new(self.scanner.matcher(), &sink);
        expander.budget = opts.budget;
        expander.chunk_size = opts.chunk_size;
        expander.input(Arc::new(data), item.origin.clone());
    }
}

/// Enumerates the items of `scope`, handing each to `emit` (which says whether to go on).
fn plan(
    repo: &Repository,
    scope: &Scope,
    filter: &PathFilter,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(Item) -> bool,
) -> Result<()> {
    match scope {
        Scope::Staged => {
            let index = repo.index().map_err(git_err)?;
            let head = match repo.head() {
                Ok(h) => Some(h.peel_to_tree().map_err(git_err)?),
                // A repository with no commit yet: everything staged is added.
                Err(e)
                    if matches!(
                        e.code(),
                        git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                    ) =>
                {
                    None
                }
                Err(e) => return Err(git_err(e)),
            };
            let mut diff = repo
                .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut diff_options()))
                .map_err(git_err)?;
            let origin = Origin::new(Segment::Staged);
            for item in added(&mut diff, &origin, filter)? {
                if !emit(item) {
                    break;
                }
            }
            Ok(())
        }
        Scope::Range { base, tip } => {
            let mut walk = repo.revwalk().map_err(git_err)?;
            walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
                .map_err(git_err)?;
            walk.push(resolve(repo, tip)?).map_err(git_err)?;
            if let Some(base) = base {
                walk.hide(resolve(repo, base)?).map_err(git_err)?;
            }
            for oid in walk {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let commit = repo.find_commit(oid.map_err(git_err)?).map_err(git_err)?;
                if commit.parent_count() > 1 {
                    continue;
                }
                let tree = commit.tree().map_err(git_err)?;
                let parent = match commit.parent_count() {
                    0 => None,
                    _ => Some(commit.parent(0).and_then(|p| p.tree()).map_err(git_err)?),
                };
                let mut diff = repo
                    .diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut diff_options()))
                    .map_err(git_err)?;
                let origin = Origin::new(commit_segment(&commit));
                for item in added(&mut diff, &origin, filter)? {
                    if !emit(item) {
                        return Ok(());
                    }
                }
            }
            Ok(())
        }
        Scope::All => plan_all(repo, filter, stop, emit),
    }
}

fn diff_options() -> DiffOptions {
    let mut o = DiffOptions::new();
    o.context_lines(0)
        .interhunk_lines(0)
        .ignore_submodules(true)
        .include_typechange(true);
    o
}

/// The blobs a diff adds or changes, with the new side's added lines.
fn added(diff: &mut Diff<'_>, parent: &Origin, filter: &PathFilter) -> Result<Vec<Item>> {
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))
        .map_err(git_err)?;
    let items: std::cell::RefCell<Vec<Item>> = std::cell::RefCell::new(Vec::new());
    // Whether the last pushed item is the current delta's (deltas not scanned push nothing).
    let current = std::cell::Cell::new(false);
    diff.foreach(
        &mut |delta, _| {
            current.set(false);
            let status = delta.status();
            if !matches!(
                status,
                Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
            ) {
                return true;
            }
            let file = delta.new_file();
            if !matches!(file.mode(), FileMode::Blob | FileMode::BlobExecutable) {
                return true;
            }
            let Some(path) = file.path_bytes() else {
                return true;
            };
            let path = printable(path);
            if filter.is_excluded(&path) {
                return true;
            }
            items.borrow_mut().push(Item {
                oid: file.id(),
                origin: parent.child(Segment::File { path }),
                lines: (status != Delta::Added).then(Vec::new),
            });
            current.set(true);
            true
        },
        Some(&mut |_, _| {
            if current.get()
                && let Some(item) = items.borrow_mut().last_mut()
            {
                item.lines = None;
            }
            true
        }),
        Some(&mut |_, hunk| {
            if current.get()
                && hunk.new_lines() > 0
                && let Some(item) = items.borrow_mut().last_mut()
                && let Some(lines) = &mut item.lines
            {
                let start = u64::from(hunk.new_start());
                lines.push((start, start + u64::from(hunk.new_lines())));
            }
            true
        }),
        None,
    )
    .map_err(git_err)?;
    let mut items = items.into_inner();
    // A pure rename or a change that only deletes adds nothing to scan.
    items.retain(|i| i.lines.as_ref().is_none_or(|l| !l.is_empty()));
    Ok(items)
}

fn plan_all(
    repo: &Repository,
    filter: &PathFilter,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(Item) -> bool,
) -> Result<()> {
    let mut walk = repo.revwalk().map_err(git_err)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err)?;
    walk.push_glob("*").map_err(git_err)?;
    // A detached HEAD is reachable from no ref; an unborn one has no commit at all.
    let _ = walk.push_head();
    let mut seen_trees: HashSet<Oid> = HashSet::new();
    let mut seen_blobs: HashSet<Oid> = HashSet::new();
    for oid in walk {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let commit = repo.find_commit(oid.map_err(git_err)?).map_err(git_err)?;
        let tree = commit.tree().map_err(git_err)?;
        if !seen_trees.insert(tree.id()) {
            continue;
        }
        let origin = Origin::new(commit_segment(&commit));
        let mut go_on = true;
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let mut raw = dir.as_bytes().to_vec();
            raw.extend_from_slice(entry.name_bytes());
            let path = printable(&raw);
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    if filter.is_excluded(&path) || !seen_trees.insert(entry.id()) {
                        TreeWalkResult::Skip
                    } else {
                        TreeWalkResult::Ok
                    }
                }
                Some(ObjectType::Blob) => {
                    let mode = entry.filemode();
                    let regular = mode == i32::from(FileMode::Blob)
                        || mode == i32::from(FileMode::BlobExecutable);
                    if regular && !filter.is_excluded(&path) && seen_blobs.insert(entry.id()) {
                        go_on = emit(Item {
                            oid: entry.id(),
                            origin: origin.child(Segment::File { path }),
                            lines: None,
                        });
                        if !go_on {
                            return TreeWalkResult::Abort;
                        }
                    }
                    TreeWalkResult::Ok
                }
                _ => TreeWalkResult::Ok,
            }
        })
        .or_else(|e| if go_on { Err(git_err(e)) } else { Ok(()) })?;
        if !go_on {
            break;
        }
    }
    Ok(())
}

/// Text from the repository (names, paths) as reports may print it: lossy UTF-8 with control
/// characters replaced, so that history cannot move a terminal's cursor or hide text.
fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

fn commit_segment(commit: &git2::Commit<'_>) -> Segment {
    let author = commit.author();
    let when = author.when();
    Segment::Commit {
        id: commit.id().to_string(),
        author: printable(author.name_bytes()),
        email: printable(author.email_bytes()),
        date: rfc3339(when.seconds(), when.offset_minutes()),
    }
}

/// `2024-05-01T10:00:00+02:00`: seconds since the epoch shown in the author's time zone.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        off / 60,
        off % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_authors_zone() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_714_550_400, 120), "2024-05-01T10:00:00+02:00");
        assert_eq!(rfc3339(951_782_400, -330), "2000-02-28T18:30:00-05:30");
        assert_eq!(rfc3339(-86_400, 0), "1969-12-31T00:00:00+00:00");
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(
            Scope::parse_range("main..feature"),
            Some(Scope::Range {
                base: Some("main".into()),
                tip: "feature".into()
            })
        );
        assert_eq!(
            Scope::parse_range("origin/main.."),
            Some(Scope::Range {
                base: Some("origin/main".into()),
                tip: "HEAD".into()
            })
        );
        assert_eq!(Scope::parse_range("a...b"), None);
        assert_eq!(Scope::parse_range("HEAD"), None);
    }

    #[test]
    fn excludes_apply_to_parent_folders() {
        let f = PathFilter(build_globs(&["node_modules".into(), "*.min.js".into()]).unwrap());
        assert!(f.is_excluded("node_modules/a/b.env"));
        assert!(f.is_excluded("web/node_modules/b.env"));
        assert!(f.is_excluded("web/app.min.js"));
        assert!(!f.is_excluded("web/app.js"));
    }
}

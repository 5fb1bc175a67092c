//! Incremental sweeps: what was scanned, at which version, and what it held.
//!
//! `--state FILE` keeps one record per top-level item (a file or an object) in an embedded
//! database ([redb]: pure Rust, one file, crash-safe transactions; SQLite would bring a C build
//! and a query language this key-value use does not need). A record holds the item's version
//! (an object's ETag, size and modification time; a file's size, mtime, ctime and inode), a hash
//! of the scan configuration (ferret's version, every rule, the expansion budget) and the
//! findings the item had. The next run looks every item up before opening it
//! ([`State::lookup`]):
//!
//! - same version and configuration: the item is not read at all and its recorded findings are
//!   reported again as still present ([`Lookup::Unchanged`]), or left out with `--only-new`;
//! - otherwise (new, modified, or scanned under other rules) it is scanned, and with
//!   `--only-new` only findings it did not have before are reported.
//!
//! Records are written by the [`Recorder`] on the reporter thread as each item finishes, in
//! transactions committed every second (and at the end): a run that dies loses at most the last
//! second of work, and the next run resumes without rescanning what was committed. An item
//! whose scan hit an error (a network failure, an unreadable entry) is not recorded, so it is
//! scanned again next time.
//!
//! **No secret is stored in clear** unless the run has `--show-secrets`: a record keeps the
//! fingerprint, the masked secret (with its length, so that masking it again gives the same
//! text) and the line around it with every secret of the item masked. Replaying such a record in
//! a `--show-secrets` run is impossible, so that run rescans the item. The file is created with
//! mode 0600 all the same: it says where secrets are.
//!
//! [redb]: https://www.redb.org

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redb::{Database, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::blob::{Origin, Segment};
use crate::error::{Error, Result};
use crate::expand::Budget;
use crate::finding::{Encoding, Finding, LineColumn, Validation, mask};
use crate::matcher::Matcher;
use crate::rules::Rule;
use crate::summary::{Warning, WarningKind};

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");

/// Commit at least this often. Default 1 s.
pub const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// How a state file is used.
#[derive(Debug, Clone, Default)]
pub struct StateOptions {
    /// Report only findings that were not recorded before (unchanged items report nothing).
    /// Default: off (unchanged items' findings are reported as still present).
    pub only_new: bool,
    /// Store secrets in clear (the run shows them anyway). Default: off.
    pub show_secrets: bool,
    /// Commit after this many items instead of every [`COMMIT_INTERVAL`]. Default: none.
    pub commit_every: Option<usize>,
}

/// An open state file.
pub struct State {
    path: PathBuf,
    db: Database,
    config: String,
    rules: HashMap<String, Arc<Rule>>,
    opts: StateOptions,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("path", &self.path)
            .field("config", &self.config)
            .finish()
    }
}

/// What the state says about an item.
#[derive(Debug)]
pub enum Lookup {
    /// Scanned before at this version and configuration: its findings, rebuilt.
    Unchanged(Vec<Finding>),
    /// New, changed, or not replayable: scan it. `previous` identifies the findings it had
    /// (see [`identity`]), for `--only-new`.
    Changed {
        /// Identities of the findings recorded for the item's earlier version.
        previous: HashSet<String>,
    },
}

/// One recorded item.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    version: String,
    config: String,
    /// Whether `findings` carry secrets in clear (`--show-secrets`).
    clear: bool,
    findings: Vec<Stored>,
}

/// One recorded finding: everything a report shows, the secret masked unless `clear`.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    rule: String,
    fingerprint: String,
    /// The origin below the item (archive entries, decompression), outermost first.
    inner: Vec<Segment>,
    offset: u64,
    end_offset: u64,
    start: (u64, u64),
    end: (u64, u64),
    before: String,
    after: String,
    /// The secret in clear (`clear` records) or masked.
    secret: String,
    /// Length in bytes of the real secret.
    secret_len: usize,
    entropy: f64,
    validation: String,
    /// The decoding chain of a secret a view revealed (outermost first).
    #[serde(default)]
    decoded: Vec<Encoding>,
    /// For a decoded secret, the newlines and trailing code points of its encoded form.
    #[serde(default)]
    encoded_extent: Option<(u64, u64)>,
    /// Where the secret is in the file's own bytes (notebook cells), start and end.
    #[serde(default)]
    file_region: Option<((u64, u64), (u64, u64))>,
    /// How sure the finding is, and why (older records: `medium`, no reasons).
    #[serde(default)]
    confidence: crate::finding::Confidence,
    #[serde(default)]
    reasons: Vec<String>,
}

/// A finding's identity for `--only-new`: its fingerprint and where in the item it is (not
/// its line: a secret that moved within a file is not new).
pub fn identity(f: &Finding) -> String {
    let segments = f.origin.segments();
    let inner: Vec<String> = segments.iter().skip(1).map(|s| s.to_string()).collect();
    format!("{}\0{}", f.fingerprint, inner.join(" \u{203a} "))
}

impl State {
    /// Opens (or creates, mode 0600) the state file at `path` for a scan with `matcher`'s rules
    /// and `budget`.
    pub fn open(
        path: &Path,
        matcher: &Matcher,
        budget: &Budget,
        opts: StateOptions,
    ) -> Result<State> {
        let err = |message: String| Error::State {
            path: path.to_path_buf(),
            message,
        };
        // Created 0600, or tightened to 0600 if it was there with a looser mode; its content
        // is the database's to read.
        let keep = crate::outfile::Options {
            follow_symlink: true,
            keep: true,
            ..Default::default()
        };
        crate::outfile::create(path, keep).map_err(|e| err(e.to_string()))?;
        let db = Database::create(path).map_err(|e| err(e.to_string()))?;
        // Make sure the table exists, so that lookups of a fresh file find nothing, not an
        // error. (Only a new file pays for this commit's fsync: it matters to a sweep where
        // nothing changed.)
        let exists = db
            .begin_read()
            .is_ok_and(|txn| txn.open_table(ITEMS).is_ok());
        if !exists {
            let txn = db.begin_write().map_err(|e| err(e.to_string()))?;
            txn.open_table(ITEMS).map_err(|e| err(e.to_string()))?;
            txn.commit().map_err(|e| err(e.to_string()))?;
        }
        let mut rules = HashMap::new();
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION"));
        h.update(format!("{budget:?}"));
        for i in matcher.indexes() {
            let rule = matcher.rule(i);
            h.update(serde_json::to_vec(&rule.spec).unwrap_or_default());
            rules.insert(rule.id().to_string(), Arc::clone(rule));
        }
        let config = crate::finding::fingerprint::hex(&h.finalize()[..16]);
        Ok(State {
            path: path.to_path_buf(),
            db,
            config,
            rules,
            opts,
        })
    }

    /// The options this state was opened with.
    pub fn options(&self) -> &StateOptions {
        &self.opts
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::State {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// What the state says about the item `key` at `version`, whose origin is `root` in this
    /// run. Safe to call from many threads while a [`Recorder`] writes.
    pub fn lookup(&self, key: &str, version: &str, root: &Origin) -> Result<Lookup> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = txn.open_table(ITEMS).map_err(|e| self.err(e))?;
        let Some(raw) = table.get(key).map_err(|e| self.err(e))? else {
            return Ok(Lookup::Changed {
                previous: HashSet::new(),
            });
        };
        // A record that does not parse (written by another version) is as good as none.
        let Ok(record) = serde_json::from_slice::<Record>(raw.value()) else {
            return Ok(Lookup::Changed {
                previous: HashSet::new(),
            });
        };
        let fresh = record.version == version
            && record.config == self.config
            && (record.clear || !self.opts.show_secrets);
        let rebuilt: Option<Vec<Finding>> = record
            .findings
            .iter()
            .map(|s| self.rebuild(s, root, record.clear))
            .collect();
        match rebuilt {
            Some(findings) if fresh => Ok(Lookup::Unchanged(findings)),
            _ => Ok(Lookup::Changed {
                previous: record.findings.iter().map(stored_identity).collect(),
            }),
        }
    }

    /// Whether the item `key` at `version` was recorded by a run like this one (a quick check,
    /// without rebuilding findings; [`State::lookup`] decides).
    pub fn is_unchanged(&self, key: &str, version: &str) -> bool {
        let Ok(txn) = self.db.begin_read() else {
            return false;
        };
        let Ok(table) = txn.open_table(ITEMS) else {
            return false;
        };
        let Ok(Some(raw)) = table.get(key) else {
            return false;
        };
        serde_json::from_slice::<Record>(raw.value()).is_ok_and(|r| {
            r.version == version && r.config == self.config && (r.clear || !self.opts.show_secrets)
        })
    }

    /// A finding from its record, or `None` if it cannot be shown exactly as it was.
    fn rebuild(&self, s: &Stored, root: &Origin, clear: bool) -> Option<Finding> {
        let rule = self.rules.get(&s.rule)?;
        let secret = if clear {
            s.secret.clone()
        } else {
            // The masked secret's visible prefix, padded to the real length, masks again to the
            // same text; if a rule's masking ever disagrees, the item is rescanned instead.
            let prefix = s.secret.strip_suffix("****")?;
            let padded = format!(
                "{prefix}{}",
                "*".repeat(s.secret_len.checked_sub(prefix.len())?)
            );
            (mask::secret(rule, &padded) == s.secret).then_some(padded)?
        };
        let mut origin = root.clone();
        for seg in &s.inner {
            origin = origin.child(seg.clone());
        }
        let validation = [Validation::Passed, Validation::Failed, Validation::None]
            .into_iter()
            .find(|v| v.as_str() == s.validation)?;
        Some(Finding {
            rule: Arc::clone(rule),
            secret,
            fingerprint: s.fingerprint.as_str().into(),
            origin,
            offset: s.offset,
            end_offset: s.end_offset,
            start: LineColumn {
                line: s.start.0,
                column: s.start.1,
            },
            end: LineColumn {
                line: s.end.0,
                column: s.end.1,
            },
            before: s.before.clone(),
            after: s.after.clone(),
            entropy: s.entropy,
            validation,
            decoded: s.decoded.clone(),
            encoded_extent: s.encoded_extent.map(Box::new),
            file_region: s.file_region.map(|(a, b)| {
                Box::new((
                    LineColumn {
                        line: a.0,
                        column: a.1,
                    },
                    LineColumn {
                        line: b.0,
                        column: b.1,
                    },
                ))
            }),
            verification: None,
            paired: Vec::new(),
            history: None,
            confidence: s.confidence,
            reasons: s.reasons.iter().map(|r| r.clone().into()).collect(),
        })
    }

    /// A recorder that writes records as items finish.
    pub fn recorder(&self) -> Recorder<'_> {
        Recorder {
            state: self,
            txn: None,
            uncommitted: 0,
            last_commit: Instant::now(),
            pending: HashMap::new(),
            error: None,
            recorded: 0,
        }
    }
}

fn stored_identity(s: &Stored) -> String {
    let inner: Vec<String> = s.inner.iter().map(|seg| seg.to_string()).collect();
    format!("{}\0{}", s.fingerprint, inner.join(" \u{203a} "))
}

/// An item being scanned, announced by [`Recorder::begin`].
#[derive(Debug)]
pub struct Begin {
    /// The item's origin as displayed (the root of its findings' origins).
    pub root: String,
    /// The state key (an absolute path or an object URL).
    pub key: String,
    /// The version being scanned.
    pub version: String,
    /// Identities of the findings recorded for an earlier version.
    pub previous: HashSet<String>,
}

#[derive(Debug)]
struct Pending {
    begin: Begin,
    findings: Vec<Finding>,
    failed: bool,
}

/// Writes records as items finish; lives on the reporter thread.
pub struct Recorder<'a> {
    state: &'a State,
    txn: Option<WriteTransaction>,
    uncommitted: usize,
    last_commit: Instant,
    pending: HashMap<String, Pending>,
    error: Option<Error>,
    recorded: u64,
}

impl Recorder<'_> {
    /// An item starts scanning.
    pub fn begin(&mut self, begin: Begin) {
        self.pending.insert(
            begin.root.clone(),
            Pending {
                begin,
                findings: Vec::new(),
                failed: false,
            },
        );
    }

    /// A finding of the scan. Returns whether to report it (`--only-new` hides the ones the
    /// item had before).
    pub fn finding(&mut self, f: &Finding) -> bool {
        let root = f.origin.root().to_string();
        let Some(p) = self.pending.get_mut(&root) else {
            return true;
        };
        p.findings.push(f.clone());
        !(self.state.opts.only_new && p.begin.previous.contains(&identity(f)))
    }

    /// A warning of the scan: an error inside an item keeps the item from being recorded.
    pub fn warning(&mut self, w: &Warning) {
        if w.kind != WarningKind::Error {
            return;
        }
        let root = w.path.split(" \u{203a} ").next().unwrap_or(&w.path);
        if let Some(p) = self.pending.get_mut(root) {
            p.failed = true;
        }
    }

    /// An item finished: its record is written (committed within [`COMMIT_INTERVAL`]).
    pub fn done(&mut self, root: &str) {
        let Some(p) = self.pending.remove(root) else {
            return;
        };
        if p.failed || self.error.is_some() {
            return;
        }
        let record = Record {
            version: p.begin.version,
            config: self.state.config.clone(),
            clear: self.state.opts.show_secrets,
            findings: store(&p.findings, self.state.opts.show_secrets),
        };
        if let Err(e) = self.put(&p.begin.key, &record) {
            self.error = Some(e);
            return;
        }
        self.recorded += 1;
        self.uncommitted += 1;
        let due = match self.state.opts.commit_every {
            Some(n) => self.uncommitted >= n.max(1),
            None => self.last_commit.elapsed() >= COMMIT_INTERVAL,
        };
        if due && let Err(e) = self.commit() {
            self.error = Some(e);
        }
    }

    fn put(&mut self, key: &str, record: &Record) -> Result<()> {
        let bytes = serde_json::to_vec(record).map_err(|e| self.state.err(e))?;
        if self.txn.is_none() {
            self.txn = Some(self.state.db.begin_write().map_err(|e| self.state.err(e))?);
        }
        if let Some(txn) = &self.txn {
            let mut table = txn.open_table(ITEMS).map_err(|e| self.state.err(e))?;
            table
                .insert(key, bytes.as_slice())
                .map_err(|e| self.state.err(e))?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if let Some(txn) = self.txn.take() {
            txn.commit().map_err(|e| self.state.err(e))?;
        }
        self.uncommitted = 0;
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Commits what is left. Returns how many items were recorded, or the first write error.
    pub fn finish(mut self) -> Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.commit()?;
        Ok(self.recorded)
    }
}

/// Records of one item's findings. Without `clear`, each secret is stored masked and every
/// secret of the item is masked in every stored line of context.
fn store(findings: &[Finding], clear: bool) -> Vec<Stored> {
    let masks: Vec<(&str, String)> = if clear {
        Vec::new()
    } else {
        let mut m: Vec<(&str, String)> = findings
            .iter()
            .map(|f| (f.secret.as_str(), mask::secret(&f.rule, &f.secret)))
            .filter(|(s, _)| !s.is_empty())
            .collect();
        // Longest first, so that a secret containing another is masked whole.
        m.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        m
    };
    let scrub = |text: &str| {
        let mut t = text.to_string();
        for (secret, mask) in &masks {
            if t.contains(secret) {
                t = t.replace(secret, mask);
            }
        }
        t
    };
    findings
        .iter()
        .map(|f| Stored {
            rule: f.rule.id().to_string(),
            fingerprint: f.fingerprint.to_string(),
            inner: f.origin.segments().into_iter().skip(1).cloned().collect(),
            offset: f.offset,
            end_offset: f.end_offset,
            start: (f.start.line, f.start.column),
            end: (f.end.line, f.end.column),
            before: scrub(&f.before),
            after: scrub(&f.after),
            secret: if clear {
                f.secret.clone()
            } else {
                mask::secret(&f.rule, &f.secret)
            },
            secret_len: f.secret.len(),
            entropy: f.entropy,
            validation: f.validation.as_str().to_string(),
            decoded: f.decoded.clone(),
            encoded_extent: f.encoded_extent.as_deref().copied(),
            file_region: f
                .file_region
                .as_deref()
                .map(|(a, b)| ((a.line, a.column), (b.line, b.column))),
            confidence: f.confidence,
            reasons: f.reasons.iter().map(|r| r.to_string()).collect(),
        })
        .collect()
}

/// The version of a file on disk: size, modification and change times, inode. `ctime` cannot
/// be set back by a copy tool the way `mtime` can (`rsync -t`, `tar x`), so a rewrite that kept
/// size and mtime is still seen.
pub fn file_version(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "size={};mtime={}.{:09};ctime={}.{:09};ino={}:{}",
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
        meta.dev(),
        meta.ino()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;

    fn matcher() -> Matcher {
        Matcher::new(&RuleSet::builtin().unwrap()).unwrap()
    }

    fn finding(m: &Matcher, text: &str, origin: &Origin) -> Vec<Finding> {
        let data = crate::blob::Data::Owned(text.as_bytes().to_vec());
        let mut scratch = m.scratch();
        let mut buf = Vec::new();
        crate::engine::scan_data(m, &data, origin, 1 << 20, &mut scratch, &mut buf).findings
    }

    #[test]
    fn records_replay_masked_and_only_new_sees_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let m = matcher();
        let root = Origin::object("s3://b/app.env");
        // Synthetic: a made-up body with GitHub's checksum.
        let body = "wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO";
        let gh = format!(
            "ghp_{body}{}",
            crate::matcher::validator::base62(crc32fast::hash(body.as_bytes()), 6)
        );
        let text = format!("GITHUB_TOKEN={gh} AWS_ACCESS_KEY_ID=AKIA4QGJ7W2ZBXN5KD3M\n");
        let found = finding(
            &m,
            &text,
            &root.child(Segment::Entry {
                path: ".env".into(),
            }),
        );
        assert_eq!(found.len(), 2, "{found:?}");

        let state = State::open(&path, &m, &Budget::default(), StateOptions::default()).unwrap();
        assert!(matches!(
            state.lookup("s3://b/app.env", "v1", &root).unwrap(),
            Lookup::Changed { previous } if previous.is_empty()
        ));
        let mut rec = state.recorder();
        rec.begin(Begin {
            root: root.to_string(),
            key: "s3://b/app.env".into(),
            version: "v1".into(),
            previous: HashSet::new(),
        });
        for f in &found {
            assert!(rec.finding(f));
        }
        rec.done(&root.to_string());
        assert_eq!(rec.finish().unwrap(), 1);

        // No secret is in the file in clear, not even in the other finding's context.
        drop(state);
        let raw = std::fs::read(&path).unwrap();
        let contains = |needle: &str| raw.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(!contains(&gh) && !contains("AKIA4QGJ7W2ZBXN5KD3M"));

        // Same version: replayed, identical to what a scan reports (masked).
        let state = State::open(&path, &m, &Budget::default(), StateOptions::default()).unwrap();
        let Lookup::Unchanged(again) = state.lookup("s3://b/app.env", "v1", &root).unwrap() else {
            panic!("unchanged");
        };
        let show = |fs: &[Finding]| -> Vec<String> {
            fs.iter()
                .map(|f| {
                    format!(
                        "{} {} {}:{} {} {}",
                        f.origin,
                        f.fingerprint,
                        f.start.line,
                        f.start.column,
                        mask::secret(&f.rule, &f.secret),
                        f.validation.as_str()
                    )
                })
                .collect()
        };
        assert_eq!(show(&again), show(&found));
        // A new version is rescanned; --only-new knows the old findings.
        let Lookup::Changed { previous } = state.lookup("s3://b/app.env", "v2", &root).unwrap()
        else {
            panic!("changed");
        };
        assert!(found.iter().all(|f| previous.contains(&identity(f))));
        drop(state);
        // A --show-secrets run cannot replay masked records: it rescans.
        let opts = StateOptions {
            show_secrets: true,
            ..StateOptions::default()
        };
        let state = State::open(&path, &m, &Budget::default(), opts).unwrap();
        assert!(matches!(
            state.lookup("s3://b/app.env", "v1", &root).unwrap(),
            Lookup::Changed { .. }
        ));
        drop(state);
        // Other rules or budgets: rescanned.
        let budget = Budget {
            max_depth: 3,
            ..Budget::default()
        };
        let state = State::open(&path, &m, &budget, StateOptions::default()).unwrap();
        assert!(matches!(
            state.lookup("s3://b/app.env", "v1", &root).unwrap(),
            Lookup::Changed { .. }
        ));
    }

    #[test]
    fn an_item_with_an_error_is_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let m = matcher();
        let state = State::open(&path, &m, &Budget::default(), StateOptions::default()).unwrap();
        let mut rec = state.recorder();
        for name in ["a.tar", "b.tar"] {
            rec.begin(Begin {
                root: name.into(),
                key: format!("/abs/{name}"),
                version: "v".into(),
                previous: HashSet::new(),
            });
        }
        rec.warning(&Warning {
            path: "a.tar \u{203a} x/y.txt".into(),
            kind: WarningKind::Error,
            message: "corrupt".into(),
        });
        rec.warning(&Warning {
            path: "b.tar".into(),
            kind: WarningKind::Skipped,
            message: "budget".into(),
        });
        rec.done("a.tar");
        rec.done("b.tar");
        assert_eq!(rec.finish().unwrap(), 1);
        let a = state
            .lookup("/abs/a.tar", "v", &Origin::file("a.tar"))
            .unwrap();
        let b = state
            .lookup("/abs/b.tar", "v", &Origin::file("b.tar"))
            .unwrap();
        assert!(matches!(a, Lookup::Changed { .. }));
        assert!(matches!(b, Lookup::Unchanged(f) if f.is_empty()));
    }
}

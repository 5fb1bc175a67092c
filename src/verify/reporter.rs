//! The reporter that verifies: it sits between a scan and its report.
//!
//! [`VerifyingReporter::finding`] keeps the finding, queues its secret for the [`Engine`] the
//! first time its fingerprint is seen, and returns at once, so the scan goes on at full speed.
//! When a verdict arrives (on a verifier thread), every finding of that secret goes on to the
//! inner report with its [`Verification`]; later findings of a secret already verified go on at
//! once. A streamed report (JSONL, text on a live stream) therefore shows each finding as soon
//! as its verdict is in. [`Reporter::finish`] waits for the last verdicts (or the deadline),
//! adds the verification summary to the scan's, and finishes the inner report.
//!
//! A [`VerifyHandle`] tells the caller afterwards how many reported findings were live at each
//! severity (for `--fail-on live`) and what a dry run would have sent.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use super::engine::{Engine, Job};
use super::{Status, Verification, VerifyOptions};
use crate::finding::Finding;
use crate::finding::verification::VerificationSummary;
use crate::report::Reporter;
use crate::rules::Severity;
use crate::summary::{Summary, Warning};

struct Inner {
    reporter: Box<dyn Reporter + Send>,
    verdicts: HashMap<String, Verification>,
    held: HashMap<String, Vec<Finding>>,
    error: Option<io::Error>,
    summary: VerificationSummary,
    /// Reported findings that were live, by severity (low..critical).
    live_findings: [u64; 4],
    /// What a dry run would send, one line per secret.
    plans: Vec<String>,
}

impl Inner {
    fn forward(&mut self, mut f: Finding, v: &Verification) {
        if v.is_live() {
            self.live_findings[severity_index(f.rule.severity())] += 1;
        }
        f.verification = Some(Box::new(v.clone()));
        if self.error.is_none()
            && let Err(e) = self.reporter.finding(f)
        {
            self.error = Some(e);
        }
    }
}

fn severity_index(s: Severity) -> usize {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Verifies findings on their way to a report; see the module docs.
pub struct VerifyingReporter {
    inner: Arc<Mutex<Inner>>,
    engine: Option<Engine>,
    dry_run: bool,
}

/// What the caller reads after the report is finished.
#[derive(Clone)]
pub struct VerifyHandle {
    inner: Arc<Mutex<Inner>>,
}

impl VerifyHandle {
    /// Reported findings that were live, at `severity` or above.
    pub fn live_at_or_above(&self, severity: Severity) -> u64 {
        let i = lock(&self.inner);
        i.live_findings[severity_index(severity)..].iter().sum()
    }

    /// What verification did.
    pub fn summary(&self) -> VerificationSummary {
        lock(&self.inner).summary.clone()
    }

    /// For a dry run: what would be sent where, one line per secret (no secret in them).
    pub fn plans(&self) -> Vec<String> {
        let mut p = lock(&self.inner).plans.clone();
        p.sort();
        p
    }
}

impl VerifyingReporter {
    /// Wraps `reporter`; verification runs with `opts`.
    pub fn new(
        reporter: Box<dyn Reporter + Send>,
        opts: VerifyOptions,
    ) -> (VerifyingReporter, VerifyHandle) {
        let dry_run = opts.dry_run;
        let inner = Arc::new(Mutex::new(Inner {
            reporter,
            verdicts: HashMap::new(),
            held: HashMap::new(),
            error: None,
            summary: VerificationSummary {
                dry_run,
                ..VerificationSummary::default()
            },
            live_findings: [0; 4],
            plans: Vec::new(),
        }));
        let sink = Arc::clone(&inner);
        let engine = Engine::new(opts, move |fp, v| {
            let mut i = lock(&sink);
            match v.status {
                Status::Live => i.summary.live += 1,
                Status::Invalid => i.summary.invalid += 1,
                Status::Unknown => i.summary.unknown += 1,
            }
            let held = i.held.remove(fp).unwrap_or_default();
            if dry_run && let Some(first) = held.first() {
                let line = format!(
                    "{} {} ({}): {}",
                    first.rule.id(),
                    crate::finding::mask::secret(&first.rule, &first.secret),
                    first.fingerprint,
                    v.detail
                );
                i.plans.push(line);
            }
            for f in held {
                i.forward(f, &v);
            }
            i.verdicts.insert(fp.to_string(), v);
        });
        let handle = VerifyHandle {
            inner: Arc::clone(&inner),
        };
        (
            VerifyingReporter {
                inner,
                engine: Some(engine),
                dry_run,
            },
            handle,
        )
    }
}

impl Reporter for VerifyingReporter {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        let job = {
            let mut i = lock(&self.inner);
            if let Some(e) = i.error.take() {
                return Err(e);
            }
            if let Some(v) = i.verdicts.get(finding.fingerprint.as_str()).cloned() {
                i.forward(finding, &v);
                return Ok(());
            }
            if let Some(held) = i.held.get_mut(finding.fingerprint.as_str()) {
                held.push(finding);
                return Ok(());
            }
            let job = Job {
                fingerprint: finding.fingerprint.to_string(),
                rule: Arc::clone(&finding.rule),
                secret: finding.secret.clone(),
                paired: finding.paired.clone(),
            };
            i.held
                .insert(finding.fingerprint.to_string(), vec![finding]);
            job
        };
        // Outside the lock: an immediate verdict (no verifier, cached) re-enters it.
        if let Some(engine) = &self.engine {
            engine.submit(job);
        }
        Ok(())
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        let mut i = lock(&self.inner);
        if let Some(e) = i.error.take() {
            return Err(e);
        }
        i.reporter.warning(warning)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let stats = self.engine.take().map(Engine::finish).unwrap_or_default();
        let mut i = lock(&self.inner);
        // Every queued job was answered by `finish`; anything still held had no job.
        let left: Vec<(String, Vec<Finding>)> = i.held.drain().collect();
        for (_, fs) in left {
            let v = Verification::unknown(super::Reason::Timeout, "not verified");
            i.summary.unknown += 1;
            for f in fs {
                i.forward(f, &v);
            }
        }
        if let Some(e) = i.error.take() {
            return Err(e);
        }
        i.summary.cached = stats.cached;
        i.summary.hosts = stats.hosts;
        i.summary.elapsed_seconds = (stats.elapsed_seconds * 1000.0).round() / 1000.0;
        i.summary.dry_run = self.dry_run;
        let mut summary = summary.clone();
        summary.verification = Some(i.summary.clone());
        i.reporter.finish(&summary)
    }
}

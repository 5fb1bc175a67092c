//! What a scan did: the counts, the per-item warnings and the time, for the reports, the exit
//! status and the summary line.
//!
//! A [`Summary`] is filled in by the driver ([`crate::scan::Scanner::run`]) and handed to the
//! report's `finish`; the command line turns it into an exit status (an error or a skip makes a
//! scan without failing findings exit 2). Each problem with one item is a [`Warning`]: an error
//! (it could not be read or scanned completely) or a deliberate skip (a budget, a special
//! file). Nothing global is kept: a library user gets the same counts.

use std::time::Duration;

use serde::Serialize;

use crate::finding::Finding;
use crate::finding::allow::{Allowlist, Suppression};

/// Whether a warning is an error (something could not be scanned) or a deliberate skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningKind {
    /// Could not be read or scanned completely.
    Error,
    /// Not scanned on purpose (a special file, a format ferret does not open).
    Skipped,
    /// Not scanned (or not all of it) because a budget was hit (`--max-depth`, `--max-ratio`,
    /// `--max-file-size`…): a skip like the others in reports (`"kind": "skipped"`), but a
    /// scan without failing findings then exits 2, since ferret cannot vouch for what it did
    /// not read.
    #[serde(rename = "skipped")]
    Budget,
}

impl WarningKind {
    /// Whether this is a skip (on purpose, or by a budget).
    pub fn is_skip(self) -> bool {
        matches!(self, WarningKind::Skipped | WarningKind::Budget)
    }
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
    /// Findings of `ferret git` folded into an earlier commit's finding of the same secret at
    /// the same path (its `history`), not reported on their own.
    #[serde(skip_serializing_if = "is_zero")]
    pub echoes: u64,
    /// Findings not reported because the baseline has them.
    pub baselined: u64,
    /// Findings not reported because the allowlist covers them.
    pub allowed: u64,
    /// Findings not reported because their confidence is below `--confidence` (default
    /// medium).
    pub low_confidence: u64,
    /// Findings not reported because their checksum or structure check failed (shown with
    /// `--show-invalid`).
    pub invalid: u64,
    /// Items not read because the state file says they did not change (their recorded
    /// findings are reported again, or not with `--only-new`).
    pub unchanged: u64,
    /// Bytes downloaded from object stores (ranged reads fetch less than `bytes`).
    pub fetched_bytes: u64,
    /// Wall-clock time.
    #[serde(rename = "elapsed_seconds", serialize_with = "secs")]
    pub elapsed: Duration,
    /// Every error and every warned skip, sorted by path.
    pub warnings: Vec<Warning>,
    /// The scan was interrupted: the findings are those made before it stopped.
    pub partial: bool,
    /// The process's peak resident memory when the scan ended (Linux `VmHWM`), in bytes.
    pub peak_rss_bytes: Option<u64>,
    /// What `--verify` did (`None` when it was off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::finding::verification::VerificationSummary>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Whether a skip's message names a budget's flag (`--max-depth 12`, `--max-ratio 100`,
/// `--max-file-size`; every budget is a `--max-…` flag): what
/// [`crate::expand::Sink::skipped`] counts as [`WarningKind::Budget`].
pub fn names_budget(message: &str) -> bool {
    message.contains("--max-")
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
    /// Whether a budget kept something from being scanned ([`WarningKind::Budget`]).
    pub fn over_budget(&self) -> bool {
        self.warnings.iter().any(|w| w.kind == WarningKind::Budget)
    }

    /// Whether `finding` is reported under `policy`; one it hides is counted as low-confidence
    /// or invalid.
    pub fn admit(&mut self, policy: &crate::finding::ReportPolicy, finding: &Finding) -> bool {
        if policy.admits(finding.confidence, finding.validation) {
            return true;
        }
        if crate::confirm::evidence::is_invalid(finding.confidence, finding.validation) {
            self.invalid += 1;
        } else {
            self.low_confidence += 1;
        }
        false
    }

    /// Counts a finding that passed [`Summary::admit`]: reported, baselined or allowed. Returns
    /// whether it is reported.
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

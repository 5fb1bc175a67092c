//! Baselines: today's findings, recorded so that CI fails only on new ones.
//!
//! A baseline is a JSON file of fingerprints (rule id + secret hash, see
//! [`crate::finding::fingerprint`]), one entry per distinct secret, with the rule, severity and
//! the places it was seen for the humans who review the file. The secret itself is never
//! written. Matching uses the fingerprint alone, so a secret that moves to another line or a
//! file that is renamed stays baselined; the same secret found by another rule, or a new secret
//! on the same line, does not.
//!
//! ```json
//! {
//!   "version": 1,
//!   "tool": "ferret",
//!   "findings": [
//!     {"fingerprint": "499fe3fc…", "rule_id": "github.pat.classic", "severity": "critical",
//!      "locations": ["config/app.env:3"]}
//!   ]
//! }
//! ```
//!
//! The output is sorted, so re-creating a baseline over the same findings gives the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Finding;
use crate::error::{Error, Result};
use crate::rules::Severity;

/// Version of the baseline format.
pub const BASELINE_VERSION: u32 = 1;

/// At most this many locations are recorded per secret (the rest are counted).
const MAX_LOCATIONS: usize = 20;

/// One baselined secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The finding fingerprint: what matching uses.
    pub fingerprint: String,
    /// The rule that found it (for readers).
    pub rule_id: String,
    /// The rule's severity (for readers).
    pub severity: Severity,
    /// Where it was seen, `path:line` (for readers; not used for matching).
    #[serde(default)]
    pub locations: Vec<String>,
    /// Places seen beyond the recorded locations.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more_locations: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version ([`BASELINE_VERSION`]).
    pub version: u32,
    /// Always `ferret`.
    pub tool: String,
    /// One entry per distinct secret, sorted by fingerprint.
    pub findings: Vec<Entry>,
}

impl Baseline {
    /// A baseline of `findings` (any order; duplicates of a secret are merged).
    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Baseline {
        let mut map: BTreeMap<String, Entry> = BTreeMap::new();
        for f in findings {
            let entry = map
                .entry(f.fingerprint.to_string())
                .or_insert_with(|| Entry {
                    fingerprint: f.fingerprint.to_string(),
                    rule_id: f.rule.id().to_string(),
                    severity: f.rule.severity(),
                    locations: Vec::new(),
                    more_locations: 0,
                });
            entry
                .locations
                .push(format!("{}:{}", f.origin, f.start.line));
        }
        let findings = map
            .into_values()
            .map(|mut e| {
                e.locations.sort();
                e.locations.dedup();
                if e.locations.len() > MAX_LOCATIONS {
                    e.more_locations = (e.locations.len() - MAX_LOCATIONS) as u64;
                    e.locations.truncate(MAX_LOCATIONS);
                }
                e
            })
            .collect();
        Baseline {
            version: BASELINE_VERSION,
            tool: "ferret".into(),
            findings,
        }
    }

    /// The fingerprints, for an [`crate::finding::allow::Allowlist`].
    pub fn fingerprints(&self) -> impl Iterator<Item = String> + '_ {
        self.findings.iter().map(|e| e.fingerprint.clone())
    }

    /// Reads and checks a baseline file.
    pub fn read(path: &Path) -> Result<Baseline> {
        let err = |message: String| Error::Baseline {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let b: Baseline =
            serde_json::from_str(&text).map_err(|e| err(format!("not a ferret baseline: {e}")))?;
        if b.version != BASELINE_VERSION || b.tool != "ferret" {
            return Err(err(format!(
                "unsupported baseline (tool {:?}, version {}; expected ferret, {BASELINE_VERSION})",
                b.tool, b.version
            )));
        }
        if let Some(e) = b.findings.iter().find(|e| {
            e.fingerprint.len() != 32 || !e.fingerprint.bytes().all(|c| c.is_ascii_hexdigit())
        }) {
            return Err(err(format!("invalid fingerprint {:?}", e.fingerprint)));
        }
        Ok(b)
    }

    /// The file's text: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

//! GitLab's secret-detection report (`gl-secret-detection-report.json`), the file a GitLab CI
//! job declares under `artifacts:reports:secret_detection` so that the merge-request widget
//! and the vulnerability report show ferret's findings.
//!
//! The shape follows GitLab's published security report schema, version 15 (secret detection):
//!
//! - `version`, and `scan` with `analyzer` and `scanner` (`id`, `name`, `version`,
//!   `vendor.name`), `type: "secret_detection"`, `start_time` and `end_time`
//!   (`YYYY-MM-DDTHH:MM:SS`, UTC), `status` (`success`, or `failure` for an interrupted scan)
//!   and `messages` (each per-item error or skip as a `warn`).
//! - One entry of `vulnerabilities` per finding, sorted as the other reports: `id` (a
//!   UUID-shaped hash of the fingerprint and the place, stable across runs), `name` (the
//!   rule's name), `description` (where, how it was decoded, what the validator said),
//!   `severity` (`Critical`, `High`, `Medium`, `Low`), `solution` (the remediation),
//!   `identifiers` (the rule id, type `ferret_rule_id`, and the fingerprint, type
//!   `ferret_fingerprint`, so GitLab tracks one secret across line moves), `links` (the rule's
//!   references), `raw_source_code_extract` (the line, masked) and `location`: `file` (the
//!   file on disk or in the repository; the inner chain of an archive or image is in the
//!   description), `start_line`/`end_line` (of that file; 1 when the secret sits inside a
//!   member of it) and `commit` (`sha`, `author`, `date` from `ferret git`; GitLab's own
//!   convention `0000000` elsewhere).
//!
//! Secrets stay masked unless `--show-secrets`. `--group secret` does not change this format:
//! GitLab groups by its identifiers itself.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{ReportOptions, Reporter, sort};
use crate::blob::Segment;
use crate::finding::Finding;
use crate::finding::Validation;
use crate::rules::Severity;
use crate::summary::{Summary, WarningKind};

/// The schema version written in `version`.
pub const SCHEMA_VERSION: &str = "15.0.7";

/// The commit GitLab's own analyzer names for findings outside git history.
const NO_COMMIT: &str = "0000000";

/// The GitLab secret-detection reporter.
pub struct GitlabReporter {
    opts: ReportOptions,
    out: Box<dyn Write + Send>,
    findings: Vec<Finding>,
    started: SystemTime,
}

impl GitlabReporter {
    /// A reporter writing to `out`; the scan's start time is now.
    pub fn new(opts: ReportOptions, out: Box<dyn Write + Send>) -> GitlabReporter {
        GitlabReporter {
            opts,
            out,
            findings: Vec::new(),
            started: SystemTime::now(),
        }
    }
}

/// GitLab's severity name.
pub fn severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

/// `2024-05-01T12:00:03` (UTC, no zone: the schema's pattern).
fn timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut s = crate::finding::seen::rfc3339(secs);
    s.pop(); // the `Z`
    s
}

/// A UUID-shaped id from a hash of `parts`.
fn stable_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

impl GitlabReporter {
    fn vulnerability(&self, f: &Finding) -> Value {
        let (file, direct) = match f.origin.file_location() {
            Some((path, direct)) => (path.to_string(), direct),
            None => (f.origin.root().to_string(), false),
        };
        let (start_line, end_line) = if direct {
            (f.start.line, f.end.line)
        } else if let Some((start, end)) = f.file_region.as_deref() {
            (start.line, end.line)
        } else {
            (1, 1)
        };
        let commit = f
            .origin
            .segments()
            .into_iter()
            .find_map(|s| match s {
                Segment::Commit {
                    id,
                    author,
                    email,
                    date,
                } => Some(json!({
                    "sha": id,
                    "author": format!("{author} <{email}>"),
                    "date": date,
                })),
                _ => None,
            })
            .unwrap_or_else(|| json!({"sha": NO_COMMIT}));
        let place = format!("{}:{}:{}", f.origin, f.start.line, f.start.column);
        let mut description = format!("{} found at {place}", f.rule.name());
        if !f.decoded.is_empty() {
            let chain: Vec<&str> = f.decoded.iter().map(|e| e.as_str()).collect();
            description.push_str(&format!(", decoded from {}", chain.join(" › ")));
        }
        if let Some(Segment::Deleted { by_layer }) = f.origin.deleted() {
            description.push_str(&format!(
                "; deleted in image layer {by_layer}, but still in the image"
            ));
        }
        if let Some(v) = &f.rule.spec.validator
            && f.validation != Validation::None
        {
            description.push_str(&format!(" ({v} {})", f.validation.as_str()));
        }
        description.push_str(&format!(". Fingerprint {}.", f.fingerprint));
        let links: Vec<Value> = f
            .rule
            .spec
            .references
            .iter()
            .map(|u| json!({"url": u}))
            .collect();
        let mut v = json!({
            "id": stable_id(&[&f.fingerprint, &place]),
            "name": f.rule.name(),
            "description": description,
            "severity": severity(f.rule.severity()),
            "solution": f.rule.spec.remediation,
            "identifiers": [
                {
                    "type": "ferret_rule_id",
                    "name": format!("ferret rule {}", f.rule.id()),
                    "value": f.rule.id(),
                },
                {
                    "type": "ferret_fingerprint",
                    "name": format!("ferret fingerprint {}", f.fingerprint),
                    "value": f.fingerprint,
                },
            ],
            "raw_source_code_extract": self.opts.shown_context(f),
            "location": {
                "file": file,
                "start_line": start_line,
                "end_line": end_line,
                "commit": commit,
            },
        });
        if !links.is_empty()
            && let Some(obj) = v.as_object_mut()
        {
            obj.insert("links".into(), Value::Array(links));
        }
        v
    }
}

impl Reporter for GitlabReporter {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.findings.push(finding);
        Ok(())
    }

    fn findings(&mut self, findings: Vec<Finding>) -> io::Result<()> {
        super::keep(&mut self.findings, findings);
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        sort(&mut self.findings);
        let vulnerabilities: Vec<Value> = self
            .findings
            .iter()
            .map(|f| self.vulnerability(f))
            .collect();
        let messages: Vec<Value> = summary
            .warnings
            .iter()
            .map(|w| {
                let label = match w.kind {
                    WarningKind::Error => "error",
                    WarningKind::Skipped | WarningKind::Budget => "skipped",
                };
                json!({"level": "warn", "value": format!("{label}: {}: {}", w.path, w.message)})
            })
            .collect();
        let tool = json!({
            "id": "ferret",
            "name": "ferret",
            "version": env!("CARGO_PKG_VERSION"),
            "vendor": {"name": "ferret"},
        });
        let ended = self.started + summary.elapsed;
        let doc = json!({
            "version": SCHEMA_VERSION,
            "scan": {
                "analyzer": tool,
                "scanner": tool,
                "type": "secret_detection",
                "start_time": timestamp(self.started),
                "end_time": timestamp(ended.max(self.started)),
                "status": if summary.partial { "failure" } else { "success" },
                "messages": messages,
            },
            "vulnerabilities": vulnerabilities,
        });
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_stable() {
        let a = stable_id(&["abc", "x:1:2"]);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(a, stable_id(&["abc", "x:1:2"]));
        assert_ne!(a, stable_id(&["abc", "x:1:3"]));
    }

    #[test]
    fn timestamps_have_no_zone() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_714_564_803);
        assert_eq!(timestamp(t), "2024-05-01T12:00:03");
    }
}

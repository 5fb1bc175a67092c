//! Reports: findings to bytes for people and machines.
//!
//! A [`Reporter`] receives findings as the scan produces them, warnings as they happen, and the
//! summary at the end. Formats that promise a deterministic order (text, JSON, SARIF) buffer
//! and sort at `finish`; JSONL writes each finding the moment it arrives.
//!
//! Secrets are masked in text and SARIF and left out of JSON and JSONL unless
//! [`ReportOptions::show_secrets`] is set: a scanner's report must not become the next leak.
//!
//! With [`Group::Secret`] (`--group secret`) reports are organised by secret instead of by
//! finding: the blast radius of [`crate::finding::radius`]. `ferret report` reads JSON results
//! back ([`results`]) and writes them as one HTML page ([`html`]) or Markdown ([`markdown`]).

pub mod gitlab;
pub mod html;
pub mod json;
pub mod markdown;
pub mod results;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use crate::finding::Finding;
use crate::finding::history;
use crate::finding::mask;
use crate::finding::radius::{Radius, SecretGroup, Sighting};
use crate::rules::RuleSet;
use crate::summary::{Summary, Warning};

/// Version of the JSON and JSONL report formats. Bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// Receives a scan's results.
pub trait Reporter {
    /// One finding, in the order the scan found it.
    fn finding(&mut self, finding: Finding) -> io::Result<()>;
    /// One per-item warning.
    fn warning(&mut self, _warning: &Warning) -> io::Result<()> {
        Ok(())
    }
    /// The end of the scan.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line, streamed.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// GitLab's secret-detection report.
    Gitlab,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "jsonl" => Ok(Format::Jsonl),
            "sarif" => Ok(Format::Sarif),
            "gitlab" => Ok(Format::Gitlab),
            _ => Err(format!(
                "unknown format {s:?} (expected text, json, jsonl, sarif or gitlab)"
            )),
        }
    }
}

/// How findings are organised in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Group {
    /// One entry per finding (the default).
    #[default]
    None,
    /// One entry per secret, with every place it reached (the blast radius).
    Secret,
}

/// Choices that apply to every format.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// One entry per finding, or per secret.
    pub group: Group,
    /// Print secrets in clear.
    pub show_secrets: bool,
    /// Colour text output.
    pub color: bool,
    /// The rules of the scan (SARIF lists them).
    pub rules: RuleSet,
    /// Directory that relative paths are relative to (SARIF's `%SRCROOT%`).
    pub root: Option<std::path::PathBuf>,
}

impl ReportOptions {
    /// The secret as this report may show it.
    pub fn shown_secret(&self, f: &Finding) -> String {
        if self.show_secrets {
            f.secret.clone()
        } else {
            mask::secret(&f.rule, &f.secret)
        }
    }

    /// The secret's line with the secret as this report may show it.
    pub fn shown_context(&self, f: &Finding) -> String {
        format!("{}{}{}", f.before, self.shown_secret(f), f.after)
    }

    /// The finding as the blast radius sees it, shown as this report may show it.
    pub fn sighting(&self, f: &Finding) -> Sighting {
        Sighting::from_finding(f, self.show_secrets, self.shown_context(f))
    }

    /// Findings grouped by secret, most urgent first.
    pub fn radius<'a>(&self, findings: impl IntoIterator<Item = &'a Finding>) -> Vec<SecretGroup> {
        let mut radius = Radius::new();
        for f in findings {
            radius.add(self.sighting(f));
        }
        radius.groups()
    }
}

/// A reporter for `format` writing to `out`.
pub fn reporter(
    format: Format,
    opts: ReportOptions,
    out: Box<dyn Write + Send>,
) -> Box<dyn Reporter + Send> {
    match format {
        Format::Text => Box::new(text::TextReporter::new(opts, out)),
        Format::Json => Box::new(json::JsonReporter::new(opts, out)),
        Format::Jsonl => Box::new(json::JsonlReporter::new(opts, out)),
        Format::Sarif => Box::new(sarif::SarifReporter::new(opts, out)),
        Format::Gitlab => Box::new(gitlab::GitlabReporter::new(opts, out)),
    }
}

/// Sorts findings into report order.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by_cached_key(Finding::sort_key);
}

/// Folds the echoes of a git history ([`history::collapse`]) before `inner` sees them: findings
/// read from commits are held to the end of the scan, the rest pass straight through.
pub struct Collapsing<'r> {
    inner: &'r mut dyn Reporter,
    held: Vec<Finding>,
    echoes: u64,
}

impl<'r> Collapsing<'r> {
    /// A reporter that collapses into `inner`.
    pub fn new(inner: &'r mut dyn Reporter) -> Collapsing<'r> {
        Collapsing {
            inner,
            held: Vec::new(),
            echoes: 0,
        }
    }

    /// How many findings were folded into another (known once the scan finished).
    pub fn echoes(&self) -> u64 {
        self.echoes
    }
}

impl Reporter for Collapsing<'_> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        if finding
            .origin
            .segments()
            .iter()
            .any(|s| matches!(s, crate::blob::Segment::Commit { .. }))
        {
            self.held.push(finding);
            return Ok(());
        }
        self.inner.finding(finding)
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        self.inner.warning(warning)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let held = std::mem::take(&mut self.held);
        let before = held.len() as u64;
        let kept = history::collapse(held);
        self.echoes = before - kept.len() as u64;
        for f in kept {
            self.inner.finding(f)?;
        }
        let mut summary = summary.clone();
        summary.findings = summary.findings.saturating_sub(self.echoes);
        summary.echoes = self.echoes;
        self.inner.finish(&summary)
    }
}

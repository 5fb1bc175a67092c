//! The reporter every scanning verb reports through: it passes findings and warnings on to
//! the report, prints warnings on stderr as they happen, and counts the findings that fail
//! the gate (`--fail-on`).
//!
//! A report that cannot be written (a reader that went away: `ferret scan | head`) is an
//! error like any other: it goes back to the driver, which stops the scan (a live stdin
//! included: its reader gives up when the scan stops) and returns it; the verb then turns it
//! into its exit status.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use ferret::report::Reporter;
use ferret::scan::{Summary, Warning, WarningKind};
use ferret::{Finding, Severity};

/// Passes everything to the report, prints warnings on stderr, and counts failing findings.
pub struct Messages<'a> {
    /// The report.
    pub inner: &'a mut dyn Reporter,
    /// Print nothing on stderr.
    pub quiet: bool,
    /// Colour the warnings' labels.
    pub color: bool,
    /// Findings reported.
    pub findings: u64,
    /// The gate: findings at or above it fail the run.
    pub fail_on: Severity,
    /// Findings at or above `fail_on`.
    pub failing: u64,
}

impl<'a> Messages<'a> {
    /// Messages for `inner`, counting findings at or above `fail_on`.
    pub fn new(inner: &'a mut dyn Reporter, quiet: bool, color: bool, fail_on: Severity) -> Self {
        Messages {
            inner,
            quiet,
            color,
            findings: 0,
            fail_on,
            failing: 0,
        }
    }
}

impl Reporter for Messages<'_> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.findings += 1;
        if finding.rule.severity() >= self.fail_on {
            self.failing += 1;
        }
        self.inner.finding(finding)
    }

    fn warning(&mut self, w: &Warning) -> io::Result<()> {
        if !self.quiet {
            let (label, style) = match w.kind {
                WarningKind::Error => ("error", Style::new().fg_color(Some(AnsiColor::Red.into()))),
                WarningKind::Skipped => (
                    "skipped",
                    Style::new().fg_color(Some(AnsiColor::Yellow.into())),
                ),
            };
            let style = if self.color { style } else { Style::new() };
            let _ = writeln!(
                io::stderr(),
                "ferret: {style}{label}{style:#}: {}: {}",
                w.path,
                w.message
            );
        }
        self.inner.warning(w)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.inner.finish(summary)
    }
}

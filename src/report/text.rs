//! Readable text: one block per finding, sorted by place.
//!
//! ```text
//! fixtures/configs/app.env:3:19: critical aws.access-key-id (AWS access key ID)
//!     AWS_ACCESS_KEY_ID=AKIA****
//! ```
//!
//! Colour is used only when the caller says so (a terminal, no `NO_COLOR`, `--color`).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{ReportOptions, Reporter, sort};
use crate::finding::Finding;
use crate::matcher::validator::Validation;
use crate::rules::Severity;
use crate::scan::Summary;

/// The text reporter.
pub struct TextReporter {
    opts: ReportOptions,
    out: Box<dyn Write + Send>,
    findings: Vec<Finding>,
}

impl TextReporter {
    /// A reporter writing to `out`.
    pub fn new(opts: ReportOptions, out: Box<dyn Write + Send>) -> TextReporter {
        TextReporter {
            opts,
            out,
            findings: Vec::new(),
        }
    }

    fn style(&self, s: Style) -> Style {
        if self.opts.color { s } else { Style::new() }
    }
}

fn severity_style(sev: Severity) -> Style {
    match sev {
        Severity::Critical => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        Severity::High => Style::new().fg_color(Some(AnsiColor::Red.into())),
        Severity::Medium => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Severity::Low => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
    }
}

impl Reporter for TextReporter {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.findings.push(finding);
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        sort(&mut self.findings);
        let bold = self.style(Style::new().bold());
        let dim = self.style(Style::new().dimmed());
        let secret_style = self.style(Style::new().fg_color(Some(AnsiColor::Magenta.into())));
        for f in &self.findings {
            let sev = self.style(severity_style(f.rule.severity()));
            let check = match (f.validation, f.rule.spec.validator.as_deref()) {
                (Validation::Passed, Some(v)) => format!(" [{v} passed]"),
                (Validation::Failed, Some(v)) => format!(" [{v} FAILED: probably not real]"),
                _ => String::new(),
            };
            let decoded = if f.decoded.is_empty() {
                String::new()
            } else {
                let chain: Vec<&str> = f.decoded.iter().map(|e| e.as_str()).collect();
                format!(" [decoded from {}]", chain.join(" \u{203a} "))
            };
            writeln!(
                self.out,
                "{bold}{}:{}:{}{bold:#}: {sev}{}{sev:#} {} ({}){check}{decoded}",
                f.origin,
                f.start.line,
                f.start.column,
                f.rule.severity(),
                f.rule.id(),
                f.rule.name(),
            )?;
            writeln!(
                self.out,
                "    {}{secret_style}{}{secret_style:#}{}",
                f.before.trim_start(),
                self.opts.shown_secret(f),
                f.after.trim_end()
            )?;
            writeln!(self.out, "    {dim}fingerprint {}{dim:#}", f.fingerprint)?;
        }
        self.out.flush()
    }
}

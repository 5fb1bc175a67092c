//! The reporter every scanning verb reports through: it passes findings and warnings on to
//! the report, prints warnings on stderr as they happen (with a hint for the common mistakes),
//! counts the findings that fail the gate (`--fail-on`), and keeps the progress line out of
//! the way.
//!
//! A report that cannot be written (a reader that went away: `ferret scan | head`) is an
//! error like any other: it goes back to the driver, which stops the scan (a live stdin
//! included: its reader gives up when the scan stops) and returns it; the verb then turns it
//! into its exit status.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use ferret::blob::origin::printable;
use ferret::report::Reporter;
use ferret::summary::{Summary, Warning, WarningKind};
use ferret::{Finding, Severity};

use super::progress::Line;

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
    /// The gate's confidence: findings less sure do not fail the run.
    pub fail_confidence: ferret::finding::Confidence,
    /// The progress line, if one is drawn.
    pub progress: Option<Line>,
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
            fail_confidence: ferret::finding::Confidence::Low,
            progress: None,
        }
    }

    /// Takes the progress line down for good.
    pub fn end_progress(&mut self) {
        if let Some(mut line) = self.progress.take() {
            line.finish();
        }
    }
}

impl Reporter for Messages<'_> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.findings += 1;
        if finding.rule.severity() >= self.fail_on && finding.confidence >= self.fail_confidence {
            self.failing += 1;
        }
        match &self.progress {
            Some(line) => line.finding(|| self.inner.finding(finding)),
            None => self.inner.finding(finding),
        }
    }

    fn findings(&mut self, findings: Vec<Finding>) -> io::Result<()> {
        let n = findings.len() as u64;
        self.findings += n;
        self.failing += findings
            .iter()
            .filter(|f| f.rule.severity() >= self.fail_on && f.confidence >= self.fail_confidence)
            .count() as u64;
        match &self.progress {
            Some(line) => line.findings(n, || self.inner.findings(findings)),
            None => self.inner.findings(findings),
        }
    }

    fn warning(&mut self, w: &Warning) -> io::Result<()> {
        if !self.quiet {
            let (label, style) = match w.kind {
                WarningKind::Error => ("error", Style::new().fg_color(Some(AnsiColor::Red.into()))),
                WarningKind::Skipped | WarningKind::Budget => (
                    "skipped",
                    Style::new().fg_color(Some(AnsiColor::Yellow.into())),
                ),
            };
            let style = if self.color { style } else { Style::new() };
            let print = || {
                let mut err = io::stderr().lock();
                // Names and messages come from the input (a zip member's name, a parser's
                // error quoting it): escaped, they cannot drive the terminal or forge a line.
                let _ = writeln!(
                    err,
                    "ferret: {style}{label}{style:#}: {}: {}",
                    printable(&w.path),
                    printable(&w.message)
                );
                if let Some(hint) = hint(w) {
                    let _ = writeln!(err, "ferret: hint: {}", printable(&hint));
                }
            };
            match &self.progress {
                Some(line) => line.above(print),
                None => print(),
            }
        }
        self.inner.warning(w)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        // The report may go to the terminal the line is drawn on.
        self.end_progress();
        self.inner.finish(summary)
    }
}

/// What to do next, for the per-item errors people run into most.
pub fn hint(w: &Warning) -> Option<String> {
    if w.kind != WarningKind::Error {
        return None;
    }
    let (path, message) = (w.path.as_str(), w.message.as_str());
    let lower = message.to_ascii_lowercase();
    if let Some(reference) = path.strip_prefix("oci://") {
        let repo = reference.split_once('/').map_or("", |(_, r)| r);
        let tagged = repo.contains('@') || repo.rsplit('/').next().is_some_and(|n| n.contains(':'));
        return (!tagged).then(|| {
            format!(
                "{path} names no tag, so `latest` was asked for: name the image you mean, \
                 oci://{reference}:TAG or oci://{reference}@sha256:DIGEST"
            )
        });
    }
    let credentials = [
        "credential",
        "169.254.169.254",
        "accessdenied",
        "access denied",
        "invalidaccesskeyid",
        "signaturedoesnotmatch",
        "expiredtoken",
        "forbidden",
        "unauthorized",
        "401",
        "403",
    ]
    .iter()
    .any(|k| lower.contains(k));
    if path.starts_with("s3://") && credentials {
        return Some(
            "ferret reads S3 credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
             AWS_SESSION_TOKEN), the AWS_PROFILE profile of ~/.aws/credentials, web identity or \
             the instance's role: set one of them (`aws sts get-caller-identity` checks it); for \
             MinIO and other S3-compatible stores also give --s3-endpoint URL"
                .into(),
        );
    }
    if path.starts_with("gs://") && credentials {
        return Some(
            "ferret reads Google Cloud credentials from GOOGLE_APPLICATION_CREDENTIALS (a service \
             account key file) or application default credentials (`gcloud auth \
             application-default login`)"
                .into(),
        );
    }
    if path.starts_with("az://") && credentials {
        return Some(
            "ferret reads Azure credentials from AZURE_STORAGE_ACCOUNT_NAME with \
             AZURE_STORAGE_ACCOUNT_KEY, a SAS token, a service principal or a managed identity"
                .into(),
        );
    }
    if !path.contains("://") && lower.contains("no such file or directory") {
        return Some(format!(
            "there is no {path:?} here ({}): check the spelling, or give the path from this \
             folder",
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| "the current folder".into())
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(path: &str, message: &str) -> Warning {
        Warning {
            path: path.into(),
            kind: WarningKind::Error,
            message: message.into(),
        }
    }

    #[test]
    fn hints() {
        let h = hint(&error(
            "oci://127.0.0.1:5000/team/app",
            "connection refused",
        ));
        assert!(h.is_some_and(|h| h.contains("oci://127.0.0.1:5000/team/app:TAG")));
        assert_eq!(hint(&error("oci://127.0.0.1:5000/team/app:1.0", "x")), None);
        assert_eq!(hint(&error("oci://h/app@sha256:ab", "x")), None);
        let h = hint(&error(
            "s3://b/p",
            "Error performing PUT http://169.254.169.254/latest",
        ));
        assert!(h.is_some_and(|h| h.contains("AWS_ACCESS_KEY_ID")));
        let h = hint(&error("nope", "No such file or directory (os error 2)"));
        assert!(h.is_some_and(|h| h.contains("\"nope\"")));
        let skipped = Warning {
            kind: WarningKind::Skipped,
            ..error("nope", "No such file or directory")
        };
        assert_eq!(hint(&skipped), None);
    }
}

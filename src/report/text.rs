//! Readable text: one block per finding, sorted by place.
//!
//! ```text
//! fixtures/configs/app.env:3:19: critical aws.access-key-id (AWS access key ID)
//!     AWS_ACCESS_KEY_ID=AKIA****
//! ```
//!
//! A finding inside an image layer gets a line with the layer's full digest and the history
//! command that made it, and one more if a later layer deleted the file:
//!
//! ```text
//! app.tar › image app:1.0 › layer 2 sha256:ab12cd34ef56 › [deleted in layer 3] › app/.env:1:14: …
//!     GITHUB_TOKEN=ghp_****
//!     layer 2 sha256:ab12cd34ef56…, made by: COPY .env /app/.env
//!     deleted in layer 3, but still in the image
//! ```
//!
//! With `--group secret`, one block per secret (its blast radius), most urgent first:
//!
//! ```text
//! critical github.pat.classic (GitHub personal access token (classic)) ghp_**** [github-crc32 passed]
//!     3 places: 2 config files, 1 log line
//!     first seen 2024-05-01T12:00:03Z (log) at logs/train.log:2:96
//!     rotate: Revoke it at https://github.com/settings/tokens …
//!     fingerprint 499fe3fcbd1ee6ceffd17b2cfb895d3d
//!       deploy/app.env:1:14  config file
//!         GITHUB_TOKEN=ghp_****
//! ```
//!
//! Colour is used only when the caller says so (a terminal, no `NO_COLOR`, `--color`).
//!
//! Findings are sorted at the end, unless the reporter is [`TextReporter::streaming`]
//! (`ferret scan -` on a live stream): then each is printed the moment it is found.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{Group, ReportOptions, Reporter, sort};
use crate::blob::Segment;
use crate::finding::Finding;
use crate::finding::Validation;
use crate::finding::radius::SecretGroup;
use crate::finding::verification::{Status, Verification};
use crate::rules::Severity;
use crate::summary::Summary;

/// The text reporter.
pub struct TextReporter {
    opts: ReportOptions,
    out: Box<dyn Write + Send>,
    findings: Vec<Finding>,
    streaming: bool,
    /// The origin of the finding written last, as text: findings are sorted by origin, and a
    /// blob may hold a few hundred thousand.
    shown_origin: Option<(crate::blob::Origin, String)>,
}

impl TextReporter {
    /// A reporter writing to `out`.
    pub fn new(opts: ReportOptions, out: Box<dyn Write + Send>) -> TextReporter {
        TextReporter {
            opts,
            out,
            findings: Vec::new(),
            streaming: false,
            shown_origin: None,
        }
    }

    /// Prints each finding as it arrives (in the order found) instead of sorting at the end.
    pub fn streaming(mut self) -> TextReporter {
        self.streaming = true;
        self
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

/// `text` on one line (control characters shown as spaces), cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

impl TextReporter {
    /// One secret and every place it reached.
    fn write_group(&mut self, g: &SecretGroup) -> io::Result<()> {
        let bold = self.style(Style::new().bold());
        let dim = self.style(Style::new().dimmed());
        let secret_style = self.style(Style::new().fg_color(Some(AnsiColor::Magenta.into())));
        let sev = self.style(severity_style(g.secret.severity));
        let s = &g.secret;
        let check = match s.validation {
            Validation::Passed => " [validator passed]",
            Validation::Failed => " [validator FAILED: probably not real]",
            Validation::None => "",
        };
        let shown = s.secret.as_deref().unwrap_or(&s.masked);
        writeln!(
            self.out,
            "{sev}{}{sev:#} {bold}{}{bold:#} ({}) {secret_style}{shown}{secret_style:#}{check}",
            s.severity, s.rule_id, s.rule_name,
        )?;
        let n = g.spread();
        let places = if n == 1 { "place" } else { "places" };
        writeln!(self.out, "    {n} {places}: {}", g.kinds_summary())?;
        match (&g.earliest, &g.latest) {
            (Some(e), Some(l)) if e.location == l.location => {
                if let Some(seen) = &e.seen {
                    writeln!(self.out, "    seen {seen} at {}", e.location)?;
                }
            }
            (Some(e), Some(l)) => {
                if let (Some(es), Some(ls)) = (&e.seen, &l.seen) {
                    writeln!(self.out, "    first seen {es} at {}", e.location)?;
                    writeln!(self.out, "    last seen  {ls} at {}", l.location)?;
                }
            }
            _ => {}
        }
        if let Some(v) = &s.verification {
            let v = v.clone();
            self.write_verification(&v)?;
        }
        writeln!(self.out, "    rotate: {}", s.remediation)?;
        writeln!(self.out, "    {dim}fingerprint {}{dim:#}", s.fingerprint)?;
        for p in &g.places {
            writeln!(
                self.out,
                "      {bold}{}{bold:#}  {dim}{}{dim:#}",
                p.location,
                p.artifact.label()
            )?;
            writeln!(self.out, "        {}", p.context.trim())?;
        }
        Ok(())
    }
}

impl Reporter for TextReporter {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        if self.streaming {
            self.write(&finding)?;
            return self.out.flush();
        }
        self.findings.push(finding);
        Ok(())
    }

    fn findings(&mut self, findings: Vec<Finding>) -> io::Result<()> {
        if self.streaming {
            return findings.into_iter().try_for_each(|f| self.finding(f));
        }
        super::keep(&mut self.findings, findings);
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        sort(&mut self.findings);
        if self.opts.group == Group::Secret {
            let groups = self.opts.radius(&self.findings);
            for g in &groups {
                self.write_group(g)?;
            }
            return self.out.flush();
        }
        // Runs of findings are turned into text in parallel on the current rayon pool and
        // written in order: a dump of passwords makes a few hundred thousand.
        let findings = std::mem::take(&mut self.findings);
        let opts = &self.opts;
        let render_run = |run: &[Finding]| -> io::Result<Vec<u8>> {
            let mut buf = Vec::with_capacity(run.len() * 192);
            let mut shown = None;
            for f in run {
                render(opts, f, &mut shown, &mut buf)?;
            }
            Ok(buf)
        };
        for batch in findings.chunks(RENDER_BATCH) {
            // A signal while the report is written cuts it short (the run says so on stderr).
            if opts.cancelled() {
                break;
            }
            let texts: Vec<io::Result<Vec<u8>>> = if batch.len() < 64 {
                vec![render_run(batch)]
            } else {
                use rayon::prelude::*;
                batch.par_chunks(RENDER_RUN).map(render_run).collect()
            };
            for t in texts {
                self.out.write_all(&t?)?;
            }
        }
        super::discard(findings);
        self.out.flush()
    }
}

/// Findings per batch of [`TextReporter::finish`], and per run rendered by one thread.
const RENDER_BATCH: usize = 16 * 1024;
const RENDER_RUN: usize = 512;

impl TextReporter {
    fn write(&mut self, f: &Finding) -> io::Result<()> {
        let mut buf = Vec::new();
        render(&self.opts, f, &mut self.shown_origin, &mut buf)?;
        self.out.write_all(&buf)
    }
}

/// Appends a finding's block to `out`. `shown` is the origin of the finding rendered before
/// it, as text (findings are sorted by origin: written once per run of a blob's findings).
fn render(
    opts: &ReportOptions,
    f: &Finding,
    shown: &mut Option<(crate::blob::Origin, String)>,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let style = |s: Style| if opts.color { s } else { Style::new() };
    let bold = style(Style::new().bold());
    let dim = style(Style::new().dimmed());
    let secret_style = style(Style::new().fg_color(Some(AnsiColor::Magenta.into())));
    let sev = style(severity_style(f.rule.severity()));
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
    let origin = match shown.take() {
        Some((o, text)) if o.is(&f.origin) => (o, text),
        _ => (f.origin.clone(), f.origin.to_string()),
    };
    // Written piece by piece rather than through `format_args!`: a dump of passwords makes a
    // few hundred thousand of these blocks, and the formatting machinery was most of their
    // cost. `{bold}path:line:col{bold:#}: {sev}severity{sev:#} id (name){check}{decoded}`.
    let mut numbers = itoa::Buffer::new();
    styled(out, bold, |out| {
        out.extend_from_slice(origin.1.as_bytes());
        out.push(b':');
        out.extend_from_slice(numbers.format(f.start.line).as_bytes());
        out.push(b':');
        out.extend_from_slice(numbers.format(f.start.column).as_bytes());
    })?;
    out.extend_from_slice(b": ");
    styled(out, sev, |out| {
        out.extend_from_slice(f.rule.severity().as_str().as_bytes())
    })?;
    for text in [
        " ",
        f.rule.id(),
        " (",
        f.rule.name(),
        ")",
        &check,
        &decoded,
        "\n    ",
    ] {
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(f.before.trim_start().as_bytes());
    styled(out, secret_style, |out| {
        out.extend_from_slice(opts.shown_secret(f).as_bytes())
    })?;
    out.extend_from_slice(f.after.trim_end().as_bytes());
    out.push(b'\n');
    if let Some(Segment::Layer {
        index,
        digest,
        created_by,
        ..
    }) = f.origin.layer()
    {
        let made_by = created_by
            .as_deref()
            .map(|c| format!(", made by: {}", one_line(c, 160)))
            .unwrap_or_default();
        writeln!(out, "    {dim}layer {index} {digest}{made_by}{dim:#}")?;
    }
    if let Some(Segment::Deleted { by_layer }) = f.origin.deleted() {
        writeln!(
            out,
            "    {dim}deleted in layer {by_layer}, but still in the image{dim:#}"
        )?;
    }
    if let Some(h) = &f.history {
        let short = |id: &str| id.chars().take(12).collect::<String>();
        writeln!(
            out,
            "    {dim}in {} commits at this path: first {} {}, last {} {}{dim:#}",
            h.count,
            short(&h.first.id),
            h.first.date,
            short(&h.last.id),
            h.last.date,
        )?;
    }
    if let Some(v) = &f.verification {
        write_verification(opts, out, v)?;
    }
    out.extend_from_slice(b"    ");
    styled(out, dim, |out| {
        out.extend_from_slice(b"fingerprint ");
        out.extend_from_slice(f.fingerprint.as_bytes());
    })?;
    out.push(b'\n');
    *shown = Some(origin);
    Ok(())
}

/// Appends what `text` writes, in `style` (as it is without colour: a plain style writes no
/// escape sequence).
fn styled(out: &mut Vec<u8>, style: Style, text: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
    let plain = style == Style::new();
    if !plain {
        write!(out, "{style}")?;
    }
    text(out);
    if !plain {
        write!(out, "{style:#}")?;
    }
    Ok(())
}

impl TextReporter {
    /// `    verified: LIVE at api.github.com 2024-05-01T12:00:03Z (account=octocat, scopes=repo)`.
    fn write_verification(&mut self, v: &Verification) -> io::Result<()> {
        write_verification(&self.opts, &mut self.out, v)
    }
}

/// `    verified: LIVE at api.github.com 2024-05-01T12:00:03Z (account=octocat, scopes=repo)`.
fn write_verification(
    opts: &ReportOptions,
    out: &mut dyn Write,
    v: &Verification,
) -> io::Result<()> {
    let style = |s: Style| if opts.color { s } else { Style::new() };
    let style = style(match v.status {
        Status::Live => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        Status::Invalid => Style::new().fg_color(Some(AnsiColor::Green.into())),
        Status::Unknown => Style::new().dimmed(),
    });
    let label = match v.status {
        Status::Live => "LIVE".to_string(),
        _ => v.label(),
    };
    let mut line = format!("    verified: {style}{label}{style:#}");
    if !v.host.is_empty() {
        line.push_str(&format!(" at {}", v.host));
    }
    if !v.checked_at.is_empty() {
        line.push_str(&format!(" {}", v.checked_at));
    }
    if !v.identity.is_empty() {
        line.push_str(&format!(" ({})", one_line(&v.identity_text(), 200)));
    }
    if !v.detail.is_empty() && v.status != Status::Live {
        line.push_str(&format!(": {}", one_line(&v.detail, 200)));
    }
    writeln!(out, "{line}")
}

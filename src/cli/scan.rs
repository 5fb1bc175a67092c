//! `ferret scan`: arguments to scan options, a reporter, a summary line and an exit status.

use std::io::{self, Write};
use std::sync::Arc;

use anstyle::{AnsiColor, Style};
use anyhow::Context as _;
use ferret::blob::load::{LoadOptions, MmapChoice};
use ferret::expand::Budget;
use ferret::report::{self, Format, ReportOptions, Reporter};
use ferret::scan::{Summary, Warning, WarningKind};
use ferret::source::Input;
use ferret::source::walk::WalkOptions;
use ferret::{Finding, Matcher, ScanOptions, Scanner};

use super::ExitStatus;
use super::args::{FormatArg, MmapArg, ScanArgs};
use super::output;

/// Passes everything to the report and prints warnings on stderr as they happen.
struct Messages<'a> {
    inner: &'a mut dyn Reporter,
    quiet: bool,
    color: bool,
    findings: u64,
}

impl Reporter for Messages<'_> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.findings += 1;
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

pub fn run(args: ScanArgs) -> anyhow::Result<ExitStatus> {
    let rules = super::rules::load(&args.rules)?;
    let matcher = Matcher::new(&rules).context("building the matcher")?;
    // User rules are compiled now so that a bad regex fails before the scan, not during it.
    matcher.compile_now(|r| !r.source.starts_with("builtin:"))?;
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    let inputs: Vec<Input> = paths.iter().map(|p| Input::parse(p)).collect();
    let mut opts = ScanOptions {
        threads: args.threads,
        chunk_size: args.chunk_size.max(4096),
        load: LoadOptions {
            mmap: match args.mmap {
                MmapArg::Auto => MmapChoice::Auto,
                MmapArg::Never => MmapChoice::Never,
            },
            ..LoadOptions::default()
        },
        walk: WalkOptions {
            excludes: args.exclude.clone(),
            follow_symlinks: args.follow_symlinks,
            max_file_size: args.max_file_size,
        },
        budget: Budget {
            max_depth: args.max_depth,
            max_total_bytes: args.max_total_bytes,
            max_entry_bytes: args.max_entry_bytes,
            max_ratio: args.max_ratio.max(1),
            max_entries: args.max_entries,
            ..Budget::default()
        },
        ..ScanOptions::default()
    };
    opts.sweep = args
        .sweep
        .options(&matcher, &opts.budget, args.show_secrets)?;
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
    };
    let out = output::open(args.output.as_deref())?;
    let report_opts = ReportOptions {
        show_secrets: args.show_secrets,
        color: format == Format::Text && output::use_color(args.color, args.output.is_some()),
        rules,
        root: None,
    };
    let mut reporter = report::reporter(format, report_opts, out);
    let mut messages = Messages {
        inner: reporter.as_mut(),
        quiet: args.quiet,
        color: output::stderr_color(args.color),
        findings: 0,
    };
    let scanner = Scanner::new(Arc::new(matcher), opts);
    let summary = match scanner.run(&inputs, &mut messages) {
        Ok(s) => s,
        Err(ferret::Error::Report(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            // The reader went away (`ferret scan | head`): stop quietly, but say what was seen.
            return Ok(if messages.findings > 0 {
                ExitStatus::Findings
            } else {
                ExitStatus::Clean
            });
        }
        Err(e) => return Err(e.into()),
    };
    if !args.quiet {
        let mut extra = String::new();
        if summary.fetched_bytes > 0 {
            extra += &format!(
                "; {} downloaded",
                output::human_bytes(summary.fetched_bytes)
            );
        }
        if args.sweep.state.is_some() {
            extra += &format!("; {} unchanged (not rescanned)", summary.unchanged);
        }
        eprintln!(
            "ferret: {} files, {} in {:.2} s ({:.1} MB/s); {} findings, {} errors, {} skipped{extra}",
            summary.files,
            output::human_bytes(summary.bytes),
            summary.elapsed.as_secs_f64(),
            summary.mb_per_s(),
            summary.findings,
            summary.errors,
            summary.skipped,
        );
    }
    Ok(if summary.findings > 0 {
        ExitStatus::Findings
    } else if summary.errors > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}

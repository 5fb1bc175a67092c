//! `ferret redact`: stdin to stdout with secrets masked, and optionally a report of them.
//!
//! The exit status is 0 when the copy completed (whether or not anything was masked: a filter
//! in a `set -o pipefail` pipeline must not fail because it did its job), and 2 on an error.
//! A reader that goes away (`ferret redact | head`) ends the copy quietly.

use std::io::{self, Write};
#[cfg(target_os = "linux")]
use std::os::fd::AsFd as _;
use std::time::Instant;

use anyhow::Context as _;
use ferret::blob::Origin;
use ferret::redact::{self, Options};
use ferret::report::{self, Format, ReportOptions};
use ferret::summary::Summary;

use super::ExitStatus;
use super::args::{RedactArgs, RedactReportFormat};
use super::output;
use super::setup;

pub fn run(args: RedactArgs) -> anyhow::Result<ExitStatus> {
    let rules = setup::rules(&args.rules)?;
    let matcher = setup::matcher(&rules)?;
    let mut reporter = match &args.report {
        Some(path) => {
            let out = output::open(Some(path), args.allow_output_symlink)?;
            let format = match args.report_format {
                RedactReportFormat::Json => Format::Json,
                RedactReportFormat::Jsonl => Format::Jsonl,
            };
            let opts = ReportOptions {
                show_secrets: args.show_secrets,
                color: false,
                rules,
                root: None,
                group: report::Group::None,
                interrupt: Default::default(),
            };
            Some(report::reporter(format, opts, out))
        }
        None => None,
    };
    // Batches are scanned in parallel chunks on the global pool.
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .thread_name(|i| format!("ferret-worker-{i}"))
        .build_global()
        .context("starting worker threads")?;
    let started = Instant::now();
    // A pipe holds 64 KiB by default: a larger one lets the writer run ahead while a batch is
    // scanned, with fewer wake-ups on both sides. Not a pipe, or not allowed: no matter.
    #[cfg(target_os = "linux")]
    for fd in [io::stdin().as_fd(), io::stdout().as_fd()] {
        let _ = rustix::pipe::fcntl_setpipe_size(fd, 1 << 20);
    }
    let mut out = io::stdout().lock();
    let mut findings = 0u64;
    let result = redact::redact(
        &matcher,
        io::stdin(),
        &mut out,
        &Origin::stdin(),
        Options::default(),
        ferret::expand::stdin_ready,
        &mut |f| {
            findings += 1;
            match reporter.as_mut() {
                Some(r) => r.finding(f),
                None => Ok(()),
            }
        },
    );
    let stats = match result {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitStatus::Clean),
        Err(e) => {
            // Write what was found before the error, then fail.
            if let Some(r) = reporter.as_mut() {
                let _ = r.finish(&Summary {
                    files: 1,
                    findings,
                    errors: 1,
                    elapsed: started.elapsed(),
                    ..Summary::default()
                });
            }
            return Err(e).context("redacting stdin");
        }
    };
    let _ = out.flush();
    let elapsed = started.elapsed();
    if let Some(r) = reporter.as_mut() {
        let summary = Summary {
            files: 1,
            bytes: stats.bytes,
            scanned_bytes: stats.bytes,
            findings,
            elapsed,
            peak_rss_bytes: ferret::summary::peak_rss(),
            ..Summary::default()
        };
        r.finish(&summary).context("writing the report")?;
    }
    if !args.quiet {
        eprintln!(
            "ferret: redacted {} secrets in {} ({:.2} s)",
            stats.redacted,
            output::human_bytes(stats.bytes),
            elapsed.as_secs_f64(),
        );
    }
    Ok(ExitStatus::Clean)
}

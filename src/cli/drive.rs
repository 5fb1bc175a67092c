//! Runs a scan into its report and turns the outcome into an exit status (`scan`, `git`).
//!
//! The report format comes from `--format`, else the configuration, else text; the gate from
//! `--fail-on`, else the configuration, else `low`. SIGINT and SIGTERM stop the scan and the
//! report is written with what was found so far (a second signal exits at once). The exit
//! status is 1 when a finding at or above the gate was reported, else 2 when an item could not
//! be scanned or the scan was interrupted, else 0; a reader that went away ends the run
//! quietly with 1 if failing findings were already reported, else 0.

use std::io::{self, IsTerminal as _};
use std::path::PathBuf;
use std::sync::Arc;

use ferret::progress::Progress;
use ferret::report::{self, Format, ReportOptions, Reporter};
use ferret::summary::Summary;
use ferret::{Scanner, Severity};

use super::ExitStatus;
use super::flags::{FormatArg, GroupArg};
use super::messages::Messages;
use super::output;
use super::progress::{self, Line};
use super::setup::{Flags, Setup};

/// Maps the command-line format to the report format.
pub fn format(arg: FormatArg) -> Format {
    match arg {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Gitlab => Format::Gitlab,
    }
}

/// Runs a scan (`run`) into the chosen report and turns the outcome into an exit status.
/// `sarif_root` is what relative paths in SARIF are relative to; `count` the folders and files
/// the progress line counts ahead for its total (`None` when the inputs are not all on disk).
/// The scan's stop flag, raised by SIGINT and SIGTERM from the first call on (a second signal
/// exits at once, status 130). Commands that scan call it before they load the rules and build
/// the matcher, so that a signal during that start-up still ends the run with a valid (empty,
/// interrupted) report instead of killing it.
pub fn stop_on_signals() -> anyhow::Result<Arc<std::sync::atomic::AtomicBool>> {
    static FLAG: std::sync::OnceLock<Arc<std::sync::atomic::AtomicBool>> =
        std::sync::OnceLock::new();
    if let Some(flag) = FLAG.get() {
        return Ok(Arc::clone(flag));
    }
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&cancel))?;
        signal_hook::flag::register(sig, Arc::clone(&cancel))?;
    }
    Ok(Arc::clone(FLAG.get_or_init(|| cancel)))
}

pub fn execute(
    flags: &Flags,
    setup: Setup,
    sarif_root: Option<PathBuf>,
    count: Option<Vec<PathBuf>>,
    run: impl FnOnce(&Scanner, &mut dyn Reporter) -> ferret::Result<Summary>,
) -> anyhow::Result<ExitStatus> {
    let Setup {
        config,
        rules,
        mut scanner,
    } = setup;
    let out_flags = &flags.output;
    let format = out_flags
        .format
        .map(format)
        .or(config.format)
        .unwrap_or_default();
    let fail_on = flags
        .gate
        .fail_on
        .map(|f| f.severity)
        .or(config.fail_on)
        .unwrap_or(Severity::Low);
    let fail_on_live = flags.gate.fail_on.is_some_and(|f| f.live);
    if fail_on_live && !flags.verify.verify {
        anyhow::bail!("--fail-on live needs --verify (without it no finding is known to be live)");
    }
    let out = output::open(out_flags.output.as_deref(), out_flags.allow_output_symlink)?;
    if let Some(path) = &out_flags.output {
        scanner.skip_file(path);
    }
    // SIGINT/SIGTERM stop the scan, and cut short a report still being written a quarter of a second
    // later (report::Interrupt); a second one exits at once.
    let cancel = stop_on_signals()?;
    let interrupt = Arc::new(report::Interrupt::on(Arc::clone(&cancel)));
    let report_opts = ReportOptions {
        interrupt: Arc::clone(&interrupt),
        show_secrets: out_flags.show_secrets,
        color: format == Format::Text
            && output::use_color(out_flags.color, out_flags.output.is_some()),
        rules,
        root: sarif_root,
        group: match out_flags.group {
            Some(GroupArg::Secret) => report::Group::Secret,
            None => report::Group::None,
        },
    };
    // A live stream (`kubectl logs -f pod | ferret scan -`) never ends: text output cannot wait
    // to be sorted, so each finding is printed as found.
    let reporter: Box<dyn Reporter + Send> = if format == Format::Text && flags.live {
        Box::new(report::text::TextReporter::new(report_opts, out).streaming())
    } else {
        report::reporter(format, report_opts, out)
    };
    let (mut reporter, verified) = flags.verify.wrap(&flags.rules, reporter)?;
    let to_terminal = out_flags.output.is_none() && io::stdout().is_terminal();
    let line = progress::wanted(out_flags, flags.live).then(|| {
        let counters = Arc::new(Progress::new());
        scanner.set_progress(Arc::clone(&counters));
        let count = count.map(|roots| (roots, scanner.options().walk.clone()));
        Line::start(counters, count, to_terminal)
    });
    let mut messages = Messages::new(
        reporter.as_mut(),
        out_flags.quiet,
        output::stderr_color(out_flags.color),
        fail_on,
    );
    messages.progress = line;
    if let Some(f) = flags.gate.fail_on {
        messages.fail_confidence = f.confidence;
    }
    scanner.set_cancel(Arc::clone(&cancel));
    let result = run(&scanner, &mut messages);
    messages.end_progress();
    let summary = match result {
        Ok(s) => s,
        Err(ferret::Error::Report(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            // The reader went away (`ferret scan | head`): stop quietly, but say what was seen.
            return Ok(if messages.failing > 0 {
                ExitStatus::Findings
            } else {
                ExitStatus::Clean
            });
        }
        Err(e) => return Err(e.into()),
    };
    if summary.partial {
        eprintln!("ferret: interrupted: the report holds what was found before the interruption");
    } else if interrupt.was_cut() {
        eprintln!(
            "ferret: interrupted while the report was written: it holds part of the findings"
        );
    }
    if let Some(h) = &verified {
        super::verify::print_plans(h, out_flags.quiet);
        if fail_on_live {
            messages.failing = h.live_at_or_above(fail_on);
        }
    }
    if !out_flags.quiet {
        let stateful = flags.sweep.as_ref().is_some_and(|s| s.state.is_some());
        let mut line = summary_line(&summary, fail_on, messages.failing, stateful);
        if let Some(h) = &verified {
            line.push_str(&super::verify::summary_text(&h.summary()));
        }
        eprintln!("{line}");
    }
    let status = if messages.failing > 0 {
        ExitStatus::Findings
    } else if summary.errors > 0 || summary.partial || summary.over_budget() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    };
    // The report is written and flushed, and the process ends: the matcher (a few hundred
    // compiled rules) and the reporter are not freed, which took longer than writing a report
    // of a few hundred thousand findings. (Paths that return early drop them as usual, so a
    // buffered output is flushed.)
    drop(messages);
    std::mem::forget(reporter);
    std::mem::forget(scanner);
    Ok(status)
}

/// The one line CI logs show:
/// `ferret: 12 files, 3.40 kB in 0.01 s (0.3 MB/s); 2 findings, 0 errors, 0 skipped`, with
/// what the gate let pass and what the baseline and allowlist kept quiet when there is any.
pub fn summary_line(summary: &Summary, fail_on: Severity, failing: u64, stateful: bool) -> String {
    let mut line = format!(
        "ferret: {} files, {} in {:.2} s ({:.1} MB/s); {} findings",
        summary.files,
        output::human_bytes(summary.bytes),
        summary.elapsed.as_secs_f64(),
        summary.mb_per_s(),
        summary.findings,
    );
    let below = summary.findings.saturating_sub(failing);
    if below > 0 {
        line.push_str(&format!(" ({below} below --fail-on {fail_on})"));
    }
    line.push_str(&format!(
        ", {} errors, {} skipped",
        summary.errors, summary.skipped
    ));
    if summary.baselined > 0 {
        line.push_str(&format!(", {} baselined", summary.baselined));
    }
    if summary.allowed > 0 {
        line.push_str(&format!(", {} allowed", summary.allowed));
    }
    if summary.low_confidence > 0 {
        line.push_str(&format!(
            ", {} low-confidence not shown (--confidence low)",
            summary.low_confidence
        ));
    }
    if summary.invalid > 0 {
        line.push_str(&format!(
            ", {} failing their checksum not shown (--show-invalid)",
            summary.invalid
        ));
    }
    if summary.fetched_bytes > 0 {
        line.push_str(&format!(
            "; {} downloaded",
            output::human_bytes(summary.fetched_bytes)
        ));
    }
    if stateful {
        line.push_str(&format!(
            "; {} unchanged (not rescanned)",
            summary.unchanged
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    #[test]
    fn sigterm_raises_the_stop_flag_once_asked_for() {
        let flag = super::stop_on_signals().unwrap();
        // The same flag for every caller (scan and git set it up before their start-up).
        assert!(std::sync::Arc::ptr_eq(
            &flag,
            &super::stop_on_signals().unwrap()
        ));
        assert!(!flag.load(Ordering::SeqCst));
        // The first signal raises the flag; the process goes on (a second would exit).
        signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
        let waited = std::time::Instant::now();
        while !flag.load(Ordering::SeqCst) && waited.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(flag.load(Ordering::SeqCst));
    }
}

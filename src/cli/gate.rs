//! What `ferret scan` and `ferret git` share: configuration, rules, allowlist and baseline, the
//! report, the one-line summary and the exit status under `--fail-on`.
//!
//! Settings come from the command line first, then `ferret.toml` (found in the scanned root or
//! named with `--config`), then defaults. Lists (excludes, rule files) add up.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anstyle::{AnsiColor, Style};
use anyhow::Context as _;
use ferret::blob::load::{LoadOptions, MmapChoice};
use ferret::config::Config;
use ferret::expand::Budget;
use ferret::finding::baseline::Baseline;
use ferret::report::{self, Format, ReportOptions, Reporter};
use ferret::rules::RuleSet;
use ferret::scan::{Summary, Warning, WarningKind};
use ferret::source::walk::WalkOptions;
use ferret::{Finding, Matcher, ScanOptions, Scanner, Severity};

use super::ExitStatus;
use super::args::{ColorChoice, FormatArg, GateArgs, MmapArg, RuleArgs};
use super::output;

/// The settings of a scanning command, whichever command it is.
#[derive(Debug, Clone, Default)]
pub struct Common {
    pub format: Option<FormatArg>,
    pub output: Option<PathBuf>,
    pub show_secrets: bool,
    pub threads: usize,
    pub exclude: Vec<String>,
    pub max_file_size: Option<u64>,
    pub follow_symlinks: bool,
    pub mmap: MmapArg,
    pub chunk_size: u64,
    pub budget: Budget,
    pub color: ColorChoice,
    pub quiet: bool,
    pub rules: RuleArgs,
    pub gate: GateArgs,
    /// The only input is a live stream (stdin): text is printed as found, not sorted at the end.
    pub live: bool,
    /// How `oci://` images are pulled.
    pub registry: ferret::source::registry::RegistryOptions,
    /// `--group secret`: one entry per secret (its blast radius) instead of one per finding.
    pub group: Option<super::args::GroupArg>,
    /// Object stores, incremental state, sharding (`ferret scan` only).
    pub sweep: Option<Box<super::sweep::SweepArgs>>,
    /// `--verify` and its settings.
    pub verify: super::verify::VerifyArgs,
}

/// What a scan is set up with. The budget is the command line's (`[budgets]` in ferret.toml
/// holds `max_file_size`; archive budgets can join it there).
pub struct Setup {
    pub config: Config,
    pub rules: RuleSet,
    pub scanner: Scanner,
}

/// Maps the command-line format to the report format.
pub fn format(arg: FormatArg) -> Format {
    match arg {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
    }
}

/// Reads the configuration (`--config`, else `root/ferret.toml`), loads rules, builds the
/// matcher and the allowlist (with the baseline when `with_baseline`).
pub fn setup(common: &Common, root: &Path, with_baseline: bool) -> anyhow::Result<Setup> {
    let gate = &common.gate;
    let config = if gate.no_config {
        Config::default()
    } else if let Some(p) = &gate.config {
        Config::read(p)?
    } else {
        Config::discover(root)?
    };
    let mut rules = super::rules::load(&common.rules)?;
    config.apply_rules(&mut rules)?;
    if !common.quiet {
        // What a gitleaks rule file could not carry over.
        for w in rules.warnings() {
            eprintln!("ferret: warning: {w}");
        }
    }
    let matcher = Matcher::new(&rules).context("building the matcher")?;
    // User rules are compiled now so that a bad regex fails before the scan, not during it.
    matcher.compile_now(|r| !r.source.starts_with("builtin:"))?;
    let mut allow = config.allowlist()?;
    if with_baseline {
        let path = match &gate.baseline {
            Some(p) => Some(p.clone()),
            None => config.baseline.as_deref().map(|p| config.resolve(p)),
        };
        if let Some(p) = path {
            allow.add_baseline(Baseline::read(&p)?.fingerprints());
        }
    }
    let mut excludes = common.exclude.clone();
    excludes.extend(config.exclude.iter().cloned());
    let opts = ScanOptions {
        threads: common.threads,
        chunk_size: common.chunk_size.max(4096),
        load: LoadOptions {
            mmap: match common.mmap {
                MmapArg::Auto => MmapChoice::Auto,
                MmapArg::Never => MmapChoice::Never,
            },
            ..LoadOptions::default()
        },
        walk: WalkOptions {
            excludes,
            follow_symlinks: common.follow_symlinks,
            max_file_size: common.max_file_size.or(config.budgets.max_file_size),
            ..WalkOptions::default()
        },
        budget: common.budget,
        cancel: None,
        allow: Arc::new(allow),
        registry: common.registry.clone(),
        ..ScanOptions::default()
    };
    let mut opts = opts;
    if let Some(sweep) = &common.sweep {
        opts.sweep = sweep.options(&matcher, &opts.budget, common.show_secrets)?;
    }
    Ok(Setup {
        config,
        scanner: Scanner::new(Arc::new(matcher), opts),
        rules,
    })
}

/// Passes everything to the report, prints warnings on stderr as they happen, and counts the
/// findings that fail the gate.
pub struct Messages<'a> {
    pub inner: &'a mut dyn Reporter,
    pub quiet: bool,
    pub color: bool,
    pub findings: u64,
    pub fail_on: Severity,
    pub failing: u64,
}

impl Reporter for Messages<'_> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.findings += 1;
        if finding.rule.severity() >= self.fail_on {
            self.failing += 1;
        }
        let result = self.inner.finding(finding);
        if let Err(e) = &result
            && e.kind() == io::ErrorKind::BrokenPipe
        {
            // The reader went away (`ferret scan - | head -1`). Exit now rather than when the
            // scan next looks up: on a live stdin that would be when the next line arrives.
            std::process::exit(if self.failing > 0 { 1 } else { 0 });
        }
        result
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

/// Runs a scan (`run`) into the chosen report and turns the outcome into an exit status:
/// 1 when a finding at or above `--fail-on` is reported, else 2 when an item could not be
/// scanned, else 0. `sarif_root` is what relative paths in SARIF are relative to.
pub fn execute(
    common: &Common,
    setup: Setup,
    sarif_root: Option<PathBuf>,
    run: impl FnOnce(&Scanner, &mut dyn Reporter) -> ferret::Result<Summary>,
) -> anyhow::Result<ExitStatus> {
    let Setup {
        config,
        rules,
        mut scanner,
    } = setup;
    let format = common
        .format
        .map(format)
        .or(config.format)
        .unwrap_or_default();
    let fail_on = common
        .gate
        .fail_on
        .map(|f| f.severity)
        .or(config.fail_on)
        .unwrap_or(Severity::Low);
    let fail_on_live = common.gate.fail_on.is_some_and(|f| f.live);
    if fail_on_live && !common.verify.verify {
        anyhow::bail!("--fail-on live needs --verify (without it no finding is known to be live)");
    }
    let out = output::open(common.output.as_deref())?;
    if let Some(path) = &common.output {
        scanner.skip_file(path);
    }
    let report_opts = ReportOptions {
        show_secrets: common.show_secrets,
        color: format == Format::Text && output::use_color(common.color, common.output.is_some()),
        rules,
        root: sarif_root,
        group: match common.group {
            Some(super::args::GroupArg::Secret) => ferret::report::Group::Secret,
            None => ferret::report::Group::None,
        },
    };
    // A live stream (`kubectl logs -f pod | ferret scan -`) never ends: text output cannot wait
    // to be sorted, so each finding is printed as found.
    let reporter: Box<dyn Reporter + Send> = if format == Format::Text && common.live {
        Box::new(report::text::TextReporter::new(report_opts, out).streaming())
    } else {
        report::reporter(format, report_opts, out)
    };
    let (mut reporter, verified) = common.verify.wrap(&common.rules, reporter)?;
    let mut messages = Messages {
        inner: reporter.as_mut(),
        quiet: common.quiet,
        color: output::stderr_color(common.color),
        findings: 0,
        fail_on,
        failing: 0,
    };
    // SIGINT/SIGTERM stop the scan and write what was found so far; a second one exits at once.
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&cancel))?;
        signal_hook::flag::register(sig, Arc::clone(&cancel))?;
    }
    scanner.set_cancel(Arc::clone(&cancel));
    let summary = match run(&scanner, &mut messages) {
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
    }
    if let Some(h) = &verified {
        super::verify::print_plans(h, common.quiet);
        if fail_on_live {
            messages.failing = h.live_at_or_above(fail_on);
        }
    }
    if !common.quiet {
        let stateful = common.sweep.as_ref().is_some_and(|s| s.state.is_some());
        let mut line = summary_line(&summary, fail_on, messages.failing, stateful);
        if let Some(h) = &verified {
            line.push_str(&super::verify::summary_text(&h.summary()));
        }
        eprintln!("{line}");
    }
    Ok(if messages.failing > 0 {
        ExitStatus::Findings
    } else if summary.errors > 0 || summary.partial {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
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

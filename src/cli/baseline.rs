//! `ferret baseline create`: scan, then write the fingerprints of every finding.
//!
//! The configuration's allowlist applies (allowed secrets need no baseline); an existing
//! baseline does not, so re-creating a baseline keeps the secrets it already had.

use std::io;

use anyhow::Context as _;
use ferret::finding::baseline::Baseline;
use ferret::report::Reporter;
use ferret::source::Input;
use ferret::summary::Summary;
use ferret::{Finding, Severity};

use super::ExitStatus;
use super::args::{BaselineCommand, BaselineCreateArgs};
use super::flags::{ColorChoice, OutputArgs};
use super::messages::Messages;
use super::output;
use super::setup::{self, Flags};

/// Keeps every finding.
#[derive(Default)]
struct Collect(Vec<Finding>);

impl Reporter for Collect {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.0.push(finding);
        Ok(())
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

pub fn run(cmd: BaselineCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        BaselineCommand::Create(args) => create(args),
    }
}

fn create(args: BaselineCreateArgs) -> anyhow::Result<ExitStatus> {
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths
    };
    let quiet = args.quiet;
    let flags = Flags {
        output: OutputArgs {
            quiet,
            ..OutputArgs::default()
        },
        walk: args.walk,
        files: args.files,
        budgets: args.budgets,
        rules: args.rules,
        config: args.config,
        ..Flags::default()
    };
    let setup = setup::scanner(&flags, &super::scan::config_root(&paths), false)?;
    let inputs: Vec<Input> = paths.iter().map(|p| Input::parse(p)).collect();
    let mut found = Collect::default();
    let mut messages = Messages::new(
        &mut found,
        quiet,
        output::stderr_color(ColorChoice::Auto),
        Severity::Low,
    );
    let summary = setup.scanner.run(&inputs, &mut messages)?;
    let baseline = Baseline::from_findings(&found.0);
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    let opts = ferret::outfile::Options {
        follow_symlink: args.allow_output_symlink,
        ..Default::default()
    };
    ferret::outfile::create(&args.output, opts)
        .and_then(|mut f| std::io::Write::write_all(&mut f, baseline.to_json().as_bytes()))
        .with_context(|| format!("cannot write baseline {}", args.output.display()))?;
    if !quiet {
        eprintln!(
            "ferret: baseline {}: {} secrets from {} findings in {} files; {} errors, {} skipped",
            args.output.display(),
            baseline.findings.len(),
            summary.findings,
            summary.files,
            summary.errors,
            summary.skipped,
        );
    }
    // A baseline of a scan that could not read everything may miss secrets: say so.
    Ok(if summary.errors > 0 || summary.over_budget() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}

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
use super::args::{BaselineCommand, BaselineCreateArgs, GateArgs};
use super::gate::{self, Common, Messages};
use super::output;

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
        args.paths.clone()
    };
    let common = Common {
        threads: args.threads,
        exclude: args.exclude.clone(),
        max_file_size: args.max_file_size,
        follow_symlinks: args.follow_symlinks,
        chunk_size: ferret::blob::chunk::DEFAULT_CHUNK_SIZE,
        quiet: args.quiet,
        rules: args.rules.clone(),
        gate: GateArgs {
            config: args.config.clone(),
            no_config: args.no_config,
            ..GateArgs::default()
        },
        ..Common::default()
    };
    let setup = gate::setup(&common, &super::scan::config_root(&paths), false)?;
    let inputs: Vec<Input> = paths.iter().map(|p| Input::parse(p)).collect();
    let mut found = Collect::default();
    let mut messages = Messages {
        inner: &mut found,
        quiet: args.quiet,
        color: output::stderr_color(super::args::ColorChoice::Auto),
        findings: 0,
        fail_on: Severity::Low,
        failing: 0,
    };
    let summary = setup.scanner.run(&inputs, &mut messages)?;
    let baseline = Baseline::from_findings(&found.0);
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    std::fs::write(&args.output, baseline.to_json())
        .with_context(|| format!("cannot write baseline {}", args.output.display()))?;
    if !args.quiet {
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
    Ok(if summary.errors > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}

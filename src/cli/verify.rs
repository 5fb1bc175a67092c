//! `--verify` and its flags (one group, flattened into `scan` and `git`), `--fail-on live`,
//! and `ferret verify RESULTS` (re-check a saved result).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use ferret::Severity;
use ferret::report::Reporter;
use ferret::verify::{HostPattern, HostPolicy, VerifyHandle, VerifyOptions, VerifyingReporter};

use super::ExitStatus;
use super::flags::{RuleArgs, VerifyArgs};

impl VerifyArgs {
    /// Whether verification (or its dry run) was asked for.
    pub fn enabled(&self) -> bool {
        self.verify || self.verify_dry_run
    }

    /// The library's options.
    pub fn options(&self, rules: &RuleArgs) -> anyhow::Result<VerifyOptions> {
        let patterns = self
            .verify_host
            .iter()
            .map(|p| p.parse::<HostPattern>().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()
            .context("--verify-host")?;
        for t in &self.verify_ssh {
            if !t.contains('@') {
                anyhow::bail!("--verify-ssh {t:?}: give USER@HOST[:PORT]");
            }
        }
        if self.verify_rate.is_nan() || self.verify_rate <= 0.0 {
            anyhow::bail!("--verify-rate must be above 0");
        }
        Ok(VerifyOptions {
            hosts: HostPolicy::new(patterns),
            ssh_targets: self.verify_ssh.clone(),
            concurrency: self.verify_concurrency.clamp(1, 64),
            per_host_rate: self.verify_rate,
            timeout: Duration::from_secs(self.verify_timeout.max(1)),
            deadline: Duration::from_secs(self.verify_deadline.max(1)),
            dry_run: self.verify_dry_run,
            cache: self.verify_cache.clone(),
            trusted_rule_paths: rules.rules.clone(),
            ..VerifyOptions::default()
        })
    }

    /// Wraps a report in verification when asked.
    pub fn wrap(
        &self,
        rules: &RuleArgs,
        reporter: Box<dyn Reporter + Send>,
    ) -> anyhow::Result<(Box<dyn Reporter + Send>, Option<VerifyHandle>)> {
        if !self.enabled() {
            return Ok((reporter, None));
        }
        let (r, handle) = VerifyingReporter::new(reporter, self.options(rules)?);
        Ok((Box::new(r), Some(handle)))
    }
}

/// After a verified scan: a dry run's plan on stderr.
pub fn print_plans(handle: &VerifyHandle, quiet: bool) {
    if quiet {
        return;
    }
    for p in handle.plans() {
        eprintln!("ferret: verify (dry run): {p}");
    }
}

/// `; verified 3 secrets: 1 live, 1 invalid, 1 unknown` for the summary line.
pub fn summary_text(s: &ferret::finding::verification::VerificationSummary) -> String {
    let n = s.live + s.invalid + s.unknown;
    if s.dry_run {
        return format!("; verification dry run: {n} secrets, nothing sent");
    }
    let requests: u64 = s.hosts.values().map(|h| h.requests).sum();
    format!(
        "; verified {n} secrets: {} live, {} invalid, {} unknown ({requests} requests to {} hosts, {} cached, {:.2} s)",
        s.live,
        s.invalid,
        s.unknown,
        s.hosts.len(),
        s.cached,
        s.elapsed_seconds
    )
}

/// `ferret verify`.
#[derive(Debug, Args)]
pub struct VerifyCommandArgs {
    /// A result of `ferret scan -f json --show-secrets` (or `-f jsonl`); `-` reads stdin.
    #[arg(value_name = "RESULT")]
    pub input: String,
    /// Write the result with verdicts to FILE (mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep the secrets (and paired values) in what is written.
    #[arg(long)]
    pub show_secrets: bool,
    /// Write -o FILE through a symbolic link at FILE (refused by default: a link planted
    /// there would send the report elsewhere).
    #[arg(long)]
    pub allow_output_symlink: bool,
    /// Exit with 1 when a finding at or above this severity is live (default: any live one).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Print no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Rule selection (the results' rule ids are looked up here).
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Verification settings (`--verify` is implied).
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Runs `ferret verify`.
pub fn run(args: VerifyCommandArgs) -> anyhow::Result<ExitStatus> {
    use std::io::{Read, Write};
    let text = if args.input == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        let b = std::fs::read(&args.input).with_context(|| format!("reading {}", args.input))?;
        String::from_utf8_lossy(&b).into_owned()
    };
    let rules = super::setup::rules(&args.rules)?;
    let opts = args.verify.options(&args.rules)?;
    let label = if args.input == "-" {
        "<stdin>"
    } else {
        &args.input
    };
    let r = ferret::verify::results::recheck(label, &text, &rules, opts, args.show_secrets)?;
    let mut out = super::output::open(args.output.as_deref(), args.allow_output_symlink)?;
    out.write_all(r.text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write the result")?;
    if !args.quiet {
        eprintln!(
            "ferret: {}",
            summary_text(&r.summary).trim_start_matches("; ")
        );
    }
    let threshold = args.fail_on.unwrap_or(Severity::Low);
    Ok(if r.live.iter().any(|s| *s >= threshold) {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

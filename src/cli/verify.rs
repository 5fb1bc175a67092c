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
use super::flags::RuleArgs;

/// `--fail-on SEVERITY`, `--fail-on live` or `--fail-on live,SEVERITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn {
    /// The lowest severity that fails.
    pub severity: Severity,
    /// Only findings verified live fail.
    pub live: bool,
    /// Only findings at least this sure fail (`confidence=LEVEL`).
    pub confidence: ferret::finding::Confidence,
}

impl std::str::FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<FailOn, String> {
        let mut out = FailOn {
            severity: Severity::Low,
            live: false,
            confidence: ferret::finding::Confidence::Low,
        };
        for part in s.split([',', '+']).map(str::trim).filter(|p| !p.is_empty()) {
            if part.eq_ignore_ascii_case("live") {
                out.live = true;
            } else if let Some(level) = part
                .strip_prefix("confidence=")
                .or_else(|| part.strip_prefix("confidence:"))
            {
                out.confidence = level.parse()?;
            } else {
                out.severity = part.parse().map_err(|e: String| {
                    format!(
                        "{e}, or `live` (only findings verified live, with --verify), or \
                         `confidence=LEVEL` (low, medium, high)"
                    )
                })?;
            }
        }
        Ok(out)
    }
}

/// Verification flags.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Verification (opt-in: asks each secret's own service)")]
pub struct VerifyArgs {
    /// Ask each secret's service whether it works (one request per distinct secret, only to
    /// the host its rule declares). Off by default: ferret stays offline.
    #[arg(long)]
    pub verify: bool,
    /// Print what would be sent where (without the secrets) and send nothing.
    #[arg(long)]
    pub verify_dry_run: bool,
    /// Allow credentials that carry their own host (database URIs, SSH targets) to be sent to
    /// hosts matching PATTERN: a name (`db.example.com`, `*.example.com`) for public addresses,
    /// an address or network (`10.0.0.0/8`, `127.0.0.1`) for exactly those (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub verify_host: Vec<String>,
    /// Offer SSH private keys to USER@HOST[:PORT] (repeatable; the host must also be allowed
    /// by --verify-host).
    #[arg(long, value_name = "USER@HOST")]
    pub verify_ssh: Vec<String>,
    /// Remember verdicts in FILE (mode 0600, no secrets) and reuse them for 24 hours.
    #[arg(long, value_name = "FILE")]
    pub verify_cache: Option<PathBuf>,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub verify_concurrency: usize,
    /// Requests per second to one host.
    #[arg(long, value_name = "N", default_value_t = 4.0)]
    pub verify_rate: f64,
    /// Seconds allowed for one request.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub verify_timeout: u64,
    /// Seconds allowed for all verification; what is left is `unknown` (timeout).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub verify_deadline: u64,
}

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

//! The flag groups, each declared once and flattened into the verbs that take it.
//!
//! A verb is the groups it flattens (Nosey Parker's `OutputArgs` idea): `scan` takes all of
//! them; `git` takes output, walk, rules, config and gate (it reads blobs from the object
//! database, so the file flags, budgets, registries and sweeps do not apply); `baseline create`
//! takes walk, files, budgets, rules and config, so that a baseline sees what a scan sees;
//! `redact` and `rules list` take the rules. Each group's `--help` heading says what it is
//! about, and each group turns itself into the library's options here, so the conversion is
//! written once too. A group a verb does not take is its [`Default`], which equals what clap
//! gives when no flag is passed (a unit test checks it).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use ferret::Severity;
use ferret::blob::chunk::DEFAULT_CHUNK_SIZE;
use ferret::blob::load::{LoadOptions, MmapChoice};
use ferret::expand::Budget;
use ferret::source::net::NetLimits;
use ferret::source::registry::RegistryOptions;

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FormatArg {
    /// Readable text (the default).
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line, streamed as found.
    Jsonl,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitLab's secret-detection report (gl-secret-detection-report.json).
    Gitlab,
}

/// How a scan report is organised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupArg {
    /// One entry per secret, with every place it reached (the blast radius).
    Secret,
}

/// Whether large files are memory-mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum MmapArg {
    /// Map files of 1 MiB and more.
    #[default]
    Auto,
    /// Never map; read large files by ranges.
    Never,
}

/// Where the report goes and what it shows (`scan`, `git`).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Report format (default: the config's `format`, else text).
    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE (created with mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in clear (text, SARIF) and include them in JSON. Off by default.
    #[arg(long)]
    pub show_secrets: bool,
    /// Write -o FILE through a symbolic link at FILE (refused by default: a link planted
    /// there would send the report elsewhere).
    #[arg(long)]
    pub allow_output_symlink: bool,
    /// Group the report by secret: one entry per secret with every place it reached, counts
    /// by kind of artifact, and the earliest and latest place seen.
    #[arg(long, value_enum, value_name = "BY")]
    pub group: Option<GroupArg>,
    /// Colour text output.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show a progress line on stderr even when it is not a terminal or with --quiet
    /// (default: on a terminal, unless --quiet).
    #[arg(long, overrides_with = "no_progress")]
    pub progress: bool,
    /// Never show the progress line.
    #[arg(long, overrides_with = "progress")]
    pub no_progress: bool,
}

/// What is scanned, and by how many threads (`scan`, `git`, `baseline create`).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Walk")]
pub struct WalkArgs {
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Do not scan paths matching GLOB (repeatable). Matched against the path relative to the
    /// folder named (for `git`: the path in the repository), its folders and its file name;
    /// files named on the command line are always scanned.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip files larger than SIZE (bytes, or with K, M, G suffix). Default: no limit.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
}

/// How files on disk are read (`scan`, `baseline create`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Walk")]
pub struct FileArgs {
    /// Follow symbolic links inside folders.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Memory-map large files (auto) or read them by ranges (never).
    #[arg(long, value_enum, default_value_t)]
    pub mmap: MmapArg,
    /// Cut files larger than SIZE into chunks scanned in parallel.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "8M")]
    pub chunk_size: u64,
}

impl Default for FileArgs {
    fn default() -> FileArgs {
        FileArgs {
            follow_symlinks: false,
            mmap: MmapArg::Auto,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

impl FileArgs {
    /// How the scan opens files.
    pub fn load(&self) -> LoadOptions {
        LoadOptions {
            mmap: match self.mmap {
                MmapArg::Auto => MmapChoice::Auto,
                MmapArg::Never => MmapChoice::Never,
            },
            ..LoadOptions::default()
        }
    }
}

/// How far archives and compressed streams are opened (`scan`, `baseline create`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Archive budgets")]
pub struct BudgetArgs {
    /// Open archives inside archives at most N deep.
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub max_depth: usize,
    /// Stop expanding one input after SIZE of decompressed bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64G")]
    pub max_total_bytes: u64,
    /// Scan at most SIZE of one decompressed archive entry or stream.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "8G")]
    pub max_entry_bytes: u64,
    /// Stop decompressing past N decompressed bytes per compressed byte (zip bombs).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_ratio: u64,
    /// Stop after N archive entries per input.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_entries: u64,
    /// Memory all decoders' windows may hold together, every thread at once (xz dictionaries,
    /// zstd windows).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "512M")]
    pub max_decoder_memory: u64,
}

impl Default for BudgetArgs {
    fn default() -> BudgetArgs {
        let b = Budget::default();
        BudgetArgs {
            max_depth: b.max_depth,
            max_total_bytes: b.max_total_bytes,
            max_entry_bytes: b.max_entry_bytes,
            max_ratio: b.max_ratio,
            max_entries: b.max_entries,
            max_decoder_memory: b.max_decoder_memory,
        }
    }
}

impl BudgetArgs {
    /// The budget of one top-level input.
    pub fn budget(&self) -> Budget {
        Budget {
            max_depth: self.max_depth,
            max_total_bytes: self.max_total_bytes,
            max_entry_bytes: self.max_entry_bytes,
            max_ratio: self.max_ratio.max(1),
            max_entries: self.max_entries,
            max_decoder_memory: self.max_decoder_memory,
            ..Budget::default()
        }
    }
}

/// How `oci://` images are pulled (`scan`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Registries (oci://HOST/REPO:TAG)")]
pub struct RegistryArgs {
    /// Reach this registry (HOST or HOST:PORT) over plain HTTP (repeatable). Loopback
    /// registries (localhost, 127.0.0.1, [::1]) always are.
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Which image of a multi-platform registry index to scan: OS/ARCH[/VARIANT], or `all`.
    /// Images in files and folders are scanned for every platform.
    #[arg(long, value_name = "PLATFORM", default_value = "linux/amd64")]
    pub platform: String,
}

impl Default for RegistryArgs {
    fn default() -> RegistryArgs {
        RegistryArgs {
            insecure_registry: Vec::new(),
            platform: RegistryOptions::default().platform,
        }
    }
}

impl RegistryArgs {
    /// The registry client's options.
    pub fn options(&self) -> RegistryOptions {
        RegistryOptions {
            insecure: self.insecure_registry.clone(),
            platform: self.platform.clone(),
            ..RegistryOptions::default()
        }
    }
}

/// Deadlines of the network sources: `oci://`, `s3://`/`gs://`/`az://`, `mlflow+http(s)://`
/// (`scan`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Network (oci://, s3://, gs://, az://, mlflow+http://)")]
pub struct NetArgs {
    /// The longest a connection may take to open (name lookup, TCP, TLS). A number with a unit:
    /// 500ms, 10s, 2m.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub connect_timeout: Duration,
    /// The longest a server may stay silent: to send a response's headers, and between any two
    /// reads of a body (a download that keeps moving is never cut). SIGINT/SIGTERM end network
    /// waits at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    pub read_timeout: Duration,
}

impl Default for NetArgs {
    fn default() -> NetArgs {
        let d = NetLimits::default();
        NetArgs {
            connect_timeout: d.connect_timeout,
            read_timeout: d.read_timeout,
        }
    }
}

impl NetArgs {
    /// The deadlines of network sources.
    pub fn limits(&self) -> NetLimits {
        NetLimits {
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
        }
    }
}

/// Parses `--connect-timeout` and `--read-timeout` (`500ms`, `10s`, `2m`; a bare number is
/// seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    ferret::source::net::parse_duration(s)
}

/// Which rules are loaded (every verb that scans, and `rules list`).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Rules")]
pub struct RuleArgs {
    /// Add the rules of a TOML file or of every *.toml file in a folder (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules given with --rules, not the built-in ones.
    #[arg(long)]
    pub no_builtin_rules: bool,
}

/// Which `ferret.toml` applies (`scan`, `git`, `baseline create`).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Configuration and gate")]
pub struct ConfigArgs {
    /// Read this configuration file instead of the scanned root's ferret.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
}

/// What is reported and what fails the run (`scan`, `git`).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Configuration and gate")]
pub struct GateArgs {
    /// Report only findings whose fingerprint is not in this baseline (`ferret baseline create`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit with 1 only for findings of this severity or higher; lower ones are still
    /// reported (low, medium, high, critical; default low). `live` (with --verify) fails only
    /// on findings verified live: `--fail-on live`, `--fail-on live,high`.
    /// `confidence=LEVEL` fails only on findings at least that sure: `--fail-on
    /// high,confidence=high`.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Report findings of this confidence and above (low, medium, high; default medium). Low
    /// findings are test values, expressions and words under a secret's name.
    #[arg(long, value_name = "LEVEL")]
    pub confidence: Option<ferret::finding::Confidence>,
    /// Also report tokens whose checksum or structure check fails (marked `validation:
    /// failed`); no such token can be live.
    #[arg(long)]
    pub show_invalid: bool,
}

impl GateArgs {
    /// Which findings the scan reports.
    pub fn policy(&self) -> ferret::finding::ReportPolicy {
        ferret::finding::ReportPolicy {
            min_confidence: self
                .confidence
                .unwrap_or(ferret::finding::Confidence::Medium),
            show_invalid: self.show_invalid,
        }
    }
}

/// Parses `123`, `64K`, `10M`, `2G` (powers of 1024; a trailing `B` or `iB` is accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    ferret::config::parse_size(s)
}

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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::args::{Cli, Command};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("10M"), Ok(10 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    /// A verb that lacks a group gets its `Default`: it must be what clap gives without flags.
    #[test]
    fn defaults_equal_what_clap_gives_without_flags() {
        let Ok(cli) = Cli::try_parse_from(["ferret", "scan"]) else {
            panic!("`ferret scan` parses");
        };
        let Command::Scan(a) = cli.command else {
            panic!("scan");
        };
        assert_eq!(
            format!("{:?}", a.files),
            format!("{:?}", FileArgs::default())
        );
        assert_eq!(
            format!("{:?}", a.budgets),
            format!("{:?}", BudgetArgs::default())
        );
        assert_eq!(
            format!("{:?}", a.registry),
            format!("{:?}", RegistryArgs::default())
        );
        assert_eq!(a.budgets.budget(), Budget::default());
        assert_eq!(format!("{:?}", a.net), format!("{:?}", NetArgs::default()));
        assert_eq!(a.net.limits(), NetLimits::default());
    }
}

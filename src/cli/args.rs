//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// Finds credentials leaked into code, logs, notebooks, archives and model artifacts.
#[derive(Debug, Parser)]
#[command(name = "ferret", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, folders or stdin (`-`) for secrets.
    Scan(ScanArgs),
    /// Copy stdin to stdout with every secret masked (a filter for logs and model responses).
    Redact(RedactArgs),
    /// Scan a git repository: staged changes, what a commit range adds, or all history.
    Git(GitArgs),
    /// Record today's findings so that later scans report only new ones.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Write an HTML page or a Markdown summary from JSON results (merging several scans).
    Report(ReportArgs),
    /// List or check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Re-check a saved result's secrets against their services (opt-in network).
    Verify(super::verify::VerifyCommandArgs),
}

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
}

/// How a scan report is organised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupArg {
    /// One entry per secret, with every place it reached (the blast radius).
    Secret,
}

/// `ferret report` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormatArg {
    /// One self-contained HTML page (the default).
    #[default]
    Html,
    /// Markdown, for CI job summaries and tickets.
    Markdown,
}

/// `ferret report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// JSON results of `ferret scan -f json` (or `-f jsonl`); `-` reads stdin. Several are
    /// merged: one entry per secret, each place once.
    #[arg(value_name = "RESULT", required = true)]
    pub inputs: Vec<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    pub format: ReportFormatArg,
    /// Write to FILE (created with mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show secrets in clear, if the results carry them (scanned with --show-secrets).
    #[arg(long)]
    pub show_secrets: bool,
    /// The report's title.
    #[arg(long, value_name = "TEXT", default_value = "ferret: secrets report")]
    pub title: String,
    /// Print no warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
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

/// Options shared by commands that load rules.
#[derive(Debug, Args, Clone, Default)]
pub struct RuleArgs {
    /// Add the rules of a TOML file or of every *.toml file in a folder (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules given with --rules, not the built-in ones.
    #[arg(long)]
    pub no_builtin_rules: bool,
}

/// Configuration, baseline and the gate policy (shared by `scan` and `git`).
#[derive(Debug, Args, Clone, Default)]
pub struct GateArgs {
    /// Read this configuration file instead of the scanned root's ferret.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Report only findings whose fingerprint is not in this baseline (`ferret baseline create`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit with 1 only for findings of this severity or higher; lower ones are still
    /// reported (low, medium, high, critical; default low). `live` (with --verify) fails only
    /// on findings verified live: `--fail-on live`, `--fail-on live,high`.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<super::verify::FailOn>,
}

/// `ferret scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and folders to scan; `-` reads stdin; `oci://HOST[:PORT]/REPO[:TAG|@DIGEST]` pulls
    /// an image from a registry; s3://bucket/prefix, gs://… and az://… list object stores.
    /// Default: the current folder.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Report format (default: the config's `format`, else text).
    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE (created with mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in clear (text, SARIF) and include them in JSON. Off by default.
    #[arg(long)]
    pub show_secrets: bool,
    /// Group the report by secret: one entry per secret with every place it reached, counts
    /// by kind of artifact, and the earliest and latest place seen.
    #[arg(long, value_enum, value_name = "BY")]
    pub group: Option<GroupArg>,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Do not scan paths matching GLOB inside folders (repeatable). Matched against the path
    /// relative to the folder and against the file name; named files are always scanned.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip files larger than SIZE (bytes, or with K, M, G suffix). Default: no limit.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Follow symbolic links inside folders.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Memory-map large files (auto) or read them by ranges (never).
    #[arg(long, value_enum, default_value_t)]
    pub mmap: MmapArg,
    /// Cut files larger than SIZE into chunks scanned in parallel.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "8M")]
    pub chunk_size: u64,
    /// Open archives inside archives at most N deep.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 12,
        help_heading = "Archive budgets"
    )]
    pub max_depth: usize,
    /// Stop expanding one input after SIZE of decompressed bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64G", help_heading = "Archive budgets")]
    pub max_total_bytes: u64,
    /// Scan at most SIZE of one decompressed archive entry or stream.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "8G", help_heading = "Archive budgets")]
    pub max_entry_bytes: u64,
    /// Stop decompressing past N decompressed bytes per compressed byte (zip bombs).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        help_heading = "Archive budgets"
    )]
    pub max_ratio: u64,
    /// Stop after N archive entries per input.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1_000_000,
        help_heading = "Archive budgets"
    )]
    pub max_entries: u64,
    /// Reach this registry (HOST or HOST:PORT) over plain HTTP (repeatable). Loopback
    /// registries (localhost, 127.0.0.1, [::1]) always are.
    #[arg(
        long,
        value_name = "HOST",
        help_heading = "Registries (oci://HOST/REPO:TAG)"
    )]
    pub insecure_registry: Vec<String>,
    /// Which image of a multi-platform registry index to scan: OS/ARCH[/VARIANT], or `all`.
    /// Images in files and folders are scanned for every platform.
    #[arg(
        long,
        value_name = "PLATFORM",
        default_value = "linux/amd64",
        help_heading = "Registries (oci://HOST/REPO:TAG)"
    )]
    pub platform: String,
    /// Colour text output.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Configuration, baseline, gate.
    #[command(flatten)]
    pub gate: GateArgs,
    /// Object stores, incremental state, sharding.
    #[command(flatten)]
    pub sweep: Box<super::sweep::SweepArgs>,
    /// Verification (opt-in).
    #[command(flatten)]
    pub verify: super::verify::VerifyArgs,
}

/// `ferret git`: exactly one of `--staged`, `--since REV`, `--all` or `REV..REV`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("scope").required(true).args(["staged", "since", "all", "range"])))]
pub struct GitArgs {
    /// Scan what is staged for the next commit (added lines only): for pre-commit hooks.
    #[arg(long)]
    pub staged: bool,
    /// Scan what the commits after REV up to HEAD add, commit by commit: for CI.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Scan every blob of every commit reachable from any ref, once each.
    #[arg(long)]
    pub all: bool,
    /// A commit range `BASE..TIP`: what the commits reachable from TIP and not BASE add.
    #[arg(value_name = "BASE..TIP")]
    pub range: Option<String>,
    /// The repository (any folder inside it). Default: the current folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Report format (default: the config's `format`, else text).
    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE (created with mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in clear (text, SARIF) and include them in JSON. Off by default.
    #[arg(long)]
    pub show_secrets: bool,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Do not scan paths matching GLOB (repeatable); matched against the path in the
    /// repository, its folders and its file name.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip blobs larger than SIZE (bytes, or with K, M, G suffix). Default: no limit.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Colour text output.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Configuration, baseline, gate.
    #[command(flatten)]
    pub gate: GateArgs,
    /// Verification (opt-in).
    #[command(flatten)]
    pub verify: super::verify::VerifyArgs,
}

/// `ferret baseline …`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan PATHs and write the fingerprints of every finding to a baseline file.
    Create(BaselineCreateArgs),
}

/// `ferret baseline create`.
#[derive(Debug, Args)]
pub struct BaselineCreateArgs {
    /// Files and folders to scan. Default: the current folder.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// The baseline file to write.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "ferret.baseline.json"
    )]
    pub output: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Do not scan paths matching GLOB inside folders (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip files larger than SIZE.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Follow symbolic links inside folders.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Read this configuration file instead of the scanned root's ferret.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// `ferret redact`.
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Also write the masked secrets' findings to FILE (created with mode 0600).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Format of the --report file: one JSON document written at the end, or JSON lines
    /// written as found (the one to use on a stream that never ends).
    #[arg(long, value_enum, default_value_t = RedactReportFormat::Json)]
    pub report_format: RedactReportFormat,
    /// Include the secrets themselves in the --report file.
    #[arg(long)]
    pub show_secrets: bool,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Print no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// Formats of `ferret redact --report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum RedactReportFormat {
    /// One JSON document.
    #[default]
    Json,
    /// One JSON object per line, as found.
    Jsonl,
}

/// `ferret rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Rule selection.
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Compile rules and run their examples and counterexamples.
    Check {
        /// A rule file or folder to check (default: the built-in rules).
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
}

/// Parses `123`, `64K`, `10M`, `2G` (powers of 1024; a trailing `B` or `iB` is accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    ferret::config::parse_size(s)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("10M"), Ok(10 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}

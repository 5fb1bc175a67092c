//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// List or check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
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

/// `ferret scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and folders to scan; `-` reads stdin; s3://bucket/prefix, gs://… and az://… list
    /// object stores. Default: the current folder.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Report format.
    #[arg(short, long, value_enum, default_value_t)]
    pub format: FormatArg,
    /// Write the report to FILE (created with mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in clear (text, SARIF) and include them in JSON. Off by default.
    #[arg(long)]
    pub show_secrets: bool,
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
    /// Colour text output.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Object stores, incremental state, sharding.
    #[command(flatten)]
    pub sweep: Box<super::sweep::SweepArgs>,
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
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        Some('T' | 't') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid size {s:?} (examples: 4096, 64K, 10M, 2G)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
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

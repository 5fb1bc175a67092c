//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use super::flags::{
    BudgetArgs, ConfigArgs, FileArgs, GateArgs, OutputArgs, RegistryArgs, RuleArgs, WalkArgs,
};

/// Finds credentials leaked into code, logs, notebooks, archives and model artifacts.
#[derive(Debug, Parser)]
#[command(name = "ferret", version, about, long_about = None, after_help = examples::FERRET)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, folders or stdin (`-`) for secrets.
    #[command(after_help = examples::SCAN)]
    Scan(ScanArgs),
    /// Copy stdin to stdout with every secret masked (a filter for logs and model responses).
    #[command(after_help = examples::REDACT)]
    Redact(RedactArgs),
    /// Scan a git repository: staged changes, what a commit range adds, or all history.
    #[command(after_help = examples::GIT)]
    Git(GitArgs),
    /// Record today's findings so that later scans report only new ones.
    #[command(subcommand, after_help = examples::BASELINE)]
    Baseline(BaselineCommand),
    /// Write an HTML page or a Markdown summary from JSON results (merging several scans).
    #[command(after_help = examples::REPORT)]
    Report(ReportArgs),
    /// List, explain or check rules.
    #[command(subcommand, after_help = examples::RULES)]
    Rules(RulesCommand),
    /// Write a commented ferret.toml and print the pre-commit and CI snippets for this
    /// repository.
    #[command(after_help = examples::INIT)]
    Init(super::init::InitArgs),
    /// Print a shell completion script.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print a manual page (roff), or write them all into a folder.
    #[command(after_help = examples::MAN)]
    Man(ManArgs),
    /// Re-check a saved result's secrets against their services (opt-in network).
    #[command(after_help = examples::VERIFY)]
    Verify(super::verify::VerifyCommandArgs),
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
    /// Write -o FILE through a symbolic link at FILE (refused by default: a link planted
    /// there would send the report elsewhere).
    #[arg(long)]
    pub allow_output_symlink: bool,
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

/// `ferret scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and folders to scan; `-` reads stdin; `oci://HOST[:PORT]/REPO[:TAG|@DIGEST]` pulls
    /// an image from a registry; s3://bucket/prefix, gs://… and az://… list object stores.
    /// Default: the current folder.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Report format, file, secrets shown, grouping, colour, quiet.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Threads, excludes, file size limit.
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Symbolic links, memory maps, chunks.
    #[command(flatten)]
    pub files: FileArgs,
    /// Archive budgets.
    #[command(flatten)]
    pub budgets: BudgetArgs,
    /// Registries.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Network deadlines.
    #[command(flatten)]
    pub net: super::flags::NetArgs,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Configuration file.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Baseline and gate.
    #[command(flatten)]
    pub gate: GateArgs,
    /// Object stores, incremental state, sharding.
    #[command(flatten)]
    pub sweep: Box<super::sweep::SweepArgs>,
    /// Verification (opt-in).
    #[command(flatten)]
    pub verify: super::flags::VerifyArgs,
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
    /// Report format, file, secrets shown, grouping, colour, quiet.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Threads, excludes, blob size limit.
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Configuration file.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Baseline and gate.
    #[command(flatten)]
    pub gate: GateArgs,
    /// Verification (opt-in).
    #[command(flatten)]
    pub verify: super::flags::VerifyArgs,
}

/// `ferret baseline …`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan PATHs and write the fingerprints of every finding to a baseline file.
    #[command(after_help = examples::BASELINE)]
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
    /// Write -o FILE through a symbolic link at FILE (refused by default: a link planted
    /// there would send the report elsewhere).
    #[arg(long)]
    pub allow_output_symlink: bool,
    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Threads, excludes, file size limit.
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Symbolic links, memory maps, chunks.
    #[command(flatten)]
    pub files: FileArgs,
    /// Archive budgets.
    #[command(flatten)]
    pub budgets: BudgetArgs,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Configuration file.
    #[command(flatten)]
    pub config: ConfigArgs,
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
    /// Write the --report FILE through a symbolic link at FILE (refused by default: a link planted
    /// there would send the report elsewhere).
    #[arg(long)]
    pub allow_output_symlink: bool,
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
    #[command(after_help = examples::RULES)]
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Rule selection.
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Print one rule: what it finds, its examples, remediation and references.
    #[command(after_help = examples::RULES)]
    Show {
        /// The rule's id (`ferret rules list` shows them).
        #[arg(value_name = "ID")]
        id: String,
        /// Rule selection.
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Compile rules and run their examples and counterexamples.
    #[command(after_help = examples::RULES)]
    Check {
        /// A rule file or folder to check (default: the built-in rules).
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
}

/// The examples each `--help` ends with: real commands, as the README runs them.
mod examples {
    pub const FERRET: &str = "\
Examples:
  ferret scan .                                  # the current folder, report on stdout
  ferret git --staged                            # what the next commit adds (pre-commit)
  kubectl logs -f pod | ferret redact            # a log stream with every secret masked
  ferret init                                    # a ferret.toml and CI snippets for this repository

Exit codes: 0 nothing found, 1 findings at or above --fail-on, 2 errors.
`ferret man VERB` prints a verb's manual page.";

    pub const SCAN: &str = "\
Examples:
  ferret scan .                                  # the current folder
  ferret scan . -f sarif -o ferret.sarif         # SARIF for GitHub code scanning
  ferret scan dist/app.tar model.ckpt notebooks/ # an image tarball, a checkpoint, notebooks
  kubectl logs pod | ferret scan - -f jsonl      # stdin, each finding as a JSON line
  ferret scan s3://artifacts/nightly/ --state sweep.redb   # only what changed since last time";

    pub const GIT: &str = "\
Examples:
  ferret git --staged                            # what the next commit adds (pre-commit)
  ferret git --since origin/main -f sarif -o ferret.sarif  # what a branch adds, for CI
  ferret git --all --group secret                # every blob in history, one entry per secret";

    pub const REDACT: &str = "\
Examples:
  kubectl logs -f pod | ferret redact | vector   # secrets masked as ghp_****
  ferret redact --report found.json < response.txt > clean.txt
  ferret redact --report found.jsonl --report-format jsonl < app.log > clean.log";

    pub const BASELINE: &str = "\
Examples:
  ferret baseline create -o ferret.baseline.json .   # record today's findings
  ferret scan . --baseline ferret.baseline.json      # then report only new ones
  ferret git --since origin/main --baseline ferret.baseline.json";

    pub const REPORT: &str = "\
Examples:
  ferret scan /mnt/bundle -f json -o scan.json && ferret report scan.json -o report.html
  ferret report scan.json -f markdown >> \"$GITHUB_STEP_SUMMARY\"
  ferret report host-*.json -o sweep.html        # merge the results of many machines";

    pub const RULES: &str = "\
Examples:
  ferret rules list                              # every rule: id, severity, name
  ferret rules show github.pat.classic           # one rule, its examples and remediation
  ferret rules check ci/ferret-rules/acme.toml   # compile your rules and run their examples";

    pub const INIT: &str = "\
Examples:
  ferret init                                    # in the repository's top folder
  ferret init --dir ../service                   # for another repository";

    pub const COMPLETIONS: &str = "\
Examples:
  source <(ferret completions bash)              # in ~/.bashrc
  ferret completions zsh > \"${fpath[1]}/_ferret\"
  ferret completions fish > ~/.config/fish/completions/ferret.fish";

    pub const MAN: &str = "\
Examples:
  ferret man scan | man -l -                     # read the page of `ferret scan`
  ferret man --dir /usr/local/share/man/man1     # install every page";
    pub const VERIFY: &str = "\
Examples:
  ferret scan bundle/ -f json --show-secrets -o found.json
  ferret verify found.json -o checked.json       # which secrets still work (opt-in network)
  ferret verify found.json --verify-dry-run      # what would be sent where, sending nothing";
}

/// `ferret completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `ferret man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The verb whose page to print (`scan`, `git`, `baseline create`, …). Default: ferret's
    /// own page.
    #[arg(value_name = "VERB")]
    pub verb: Vec<String>,
    /// Write every page into DIR instead (ferret.1, ferret-scan.1, …).
    #[arg(long, value_name = "DIR", conflicts_with = "verb")]
    pub dir: Option<PathBuf>,
}

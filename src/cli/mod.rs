//! The binary's own modules: arguments, commands, output policy, exit codes.
//!
//! Exit codes (documented in README.md and pinned by tests):
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | scan complete, nothing found |
//! | 1    | findings at or above `--fail-on` (default: any), even if some items could not be read |
//! | 2    | error: bad arguments or rules, a report that cannot be written, or no findings but some items could not be scanned (the scan cannot vouch for them) |

mod args;
mod baseline;
mod gate;
mod git;
mod output;
mod redact;
mod report;
mod rules;
mod scan;
mod sweep;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// The outcome of a command, as the process reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing found.
    Clean,
    /// Findings.
    Findings,
    /// Something failed.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        match s {
            ExitStatus::Clean => ExitCode::from(0),
            ExitStatus::Findings => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

/// Parses arguments and runs; errors are printed with their causes.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        args::Command::Scan(a) => scan::run(a),
        args::Command::Redact(a) => redact::run(a),
        args::Command::Git(a) => git::run(a),
        args::Command::Baseline(c) => baseline::run(c),
        args::Command::Report(a) => report::run(a),
        args::Command::Rules(c) => rules::run(c),
    };
    match result {
        Ok(status) => status.into(),
        Err(e) => {
            eprintln!("ferret: error: {e:#}");
            ExitStatus::Error.into()
        }
    }
}

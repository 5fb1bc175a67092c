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
mod drive;
mod flags;
mod generate;
mod git;
mod init;
mod messages;
mod output;
mod progress;
mod redact;
mod report;
mod rules;
mod scan;
mod setup;
mod sweep;
mod verify;

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
    quiet_panics();
    // For the test of the hook: a panic whose message is this variable's value.
    if let Some(v) = std::env::var_os("FERRET_TEST_PANIC") {
        panic!("test panic: {}", v.to_string_lossy());
    }
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
        args::Command::Init(a) => init::run(a),
        args::Command::Completions(a) => generate::completions(a),
        args::Command::Man(a) => generate::man(a),
        args::Command::Verify(a) => verify::run(a),
    };
    match result {
        Ok(status) => status.into(),
        // The reader went away (`ferret rules list | head`): what it wanted was written.
        Err(e) if broken_pipe(&e) => ExitStatus::Clean.into(),
        Err(e) => {
            eprintln!("ferret: error: {e:#}");
            ExitStatus::Error.into()
        }
    }
}

/// Whether an error comes from writing to a pipe whose reader went away.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            || matches!(
                c.downcast_ref::<ferret::Error>(),
                Some(ferret::Error::Report(io)) if io.kind() == std::io::ErrorKind::BrokenPipe
            )
    })
}

/// A panic's message can hold whatever the code was looking at, which in a scanner is a secret:
/// the hook prints where the panic happened and, only with `FERRET_DEBUG=1`, what it said. A
/// panic is a failure: the process exits with 2 at once (no report would be trustworthy),
/// except a panic contained by [`ferret::expand::contain`] (a decoder's, on one item).
fn quiet_panics() {
    let debug = std::env::var_os("FERRET_DEBUG").is_some_and(|v| v == "1");
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A third-party decoder's panic on a malformed file, caught and turned into a
        // warning for that item (`expand::contain`): nothing to print, the scan goes on.
        if ferret::expand::contain::is_contained() {
            return;
        }
        if debug {
            default(info);
        } else {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_else(|| "an unknown place".into());
            eprintln!(
                "ferret: internal error (a bug) at {at}; its message is hidden because it may \
                 hold scanned data: rerun with FERRET_DEBUG=1 to see it, and report the bug"
            );
        }
        std::process::exit(2);
    }));
}

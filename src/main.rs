//! The `ferret` binary: parse arguments, run, map the outcome to an exit code.
//!
//! Exit codes: 0 nothing found, 1 findings, 2 error (see README.md).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}

//! `ferret scan`: paths (or stdin) through the scanner into a report and an exit status.

use std::path::{Path, PathBuf};

use ferret::source::Input;

use super::ExitStatus;
use super::args::ScanArgs;
use super::drive;
use super::setup::{self, Flags};

/// The folder whose `ferret.toml` applies: the folder scanned when exactly one is named, else
/// the current folder.
pub fn config_root(paths: &[String]) -> PathBuf {
    match paths {
        [one] if one != "-" && Path::new(one).is_dir() => PathBuf::from(one),
        _ => PathBuf::from("."),
    }
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitStatus> {
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths
    };
    let flags = Flags {
        output: args.output,
        walk: args.walk,
        files: args.files,
        budgets: args.budgets,
        registry: args.registry,
        net: args.net,
        rules: args.rules,
        config: args.config,
        gate: args.gate,
        sweep: Some(args.sweep),
        live: paths == ["-"],
        verify: args.verify,
    };
    drive::stop_on_signals()?;
    let setup = setup::scanner(&flags, &config_root(&paths), true)?;
    let inputs: Vec<Input> = paths.iter().map(|p| Input::parse(p)).collect();
    // The progress line counts ahead when every input is on disk.
    let count = inputs
        .iter()
        .map(|i| match i {
            Input::Path(p) => Some(p.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>();
    drive::execute(&flags, setup, None, count, |scanner, reporter| {
        scanner.run(&inputs, reporter)
    })
}

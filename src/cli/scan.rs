//! `ferret scan`: paths (or stdin) through the scanner into a report and an exit status.

use std::path::{Path, PathBuf};

use ferret::expand::Budget;
use ferret::source::Input;
use ferret::source::registry::RegistryOptions;

use super::ExitStatus;
use super::args::ScanArgs;
use super::gate::{self, Common};

impl From<&ScanArgs> for Common {
    fn from(a: &ScanArgs) -> Common {
        Common {
            format: a.format,
            output: a.output.clone(),
            show_secrets: a.show_secrets,
            threads: a.threads,
            exclude: a.exclude.clone(),
            max_file_size: a.max_file_size,
            follow_symlinks: a.follow_symlinks,
            mmap: a.mmap,
            chunk_size: a.chunk_size,
            budget: Budget {
                max_depth: a.max_depth,
                max_total_bytes: a.max_total_bytes,
                max_entry_bytes: a.max_entry_bytes,
                max_ratio: a.max_ratio.max(1),
                max_entries: a.max_entries,
                ..Budget::default()
            },
            color: a.color,
            quiet: a.quiet,
            rules: a.rules.clone(),
            gate: a.gate.clone(),
            live: a.paths == ["-"],
            group: a.group,
            verify: a.verify.clone(),
            sweep: Some(a.sweep.clone()),
            registry: RegistryOptions {
                insecure: a.insecure_registry.clone(),
                platform: a.platform.clone(),
                ..RegistryOptions::default()
            },
        }
    }
}

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
        args.paths.clone()
    };
    let common = Common::from(&args);
    let setup = gate::setup(&common, &config_root(&paths), true)?;
    let inputs: Vec<Input> = paths.iter().map(|p| Input::parse(p)).collect();
    gate::execute(&common, setup, None, |scanner, reporter| {
        scanner.run(&inputs, reporter)
    })
}

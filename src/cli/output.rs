//! Where output goes: stdout or a file, with or without colour.
//!
//! Reports go to stdout or `-o FILE`; warnings and the summary go to stderr. Report files are
//! created with mode 0600: they may hold secrets (`--show-secrets`) and always hold where
//! secrets are.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use anyhow::Context as _;

use super::flags::ColorChoice;

/// Opens the report destination: stdout, or a private file ([`ferret::outfile::create`]: mode
/// 0600, an existing file tightened, a symbolic link refused unless `follow_symlink`).
pub fn open(path: Option<&Path>, follow_symlink: bool) -> anyhow::Result<Box<dyn Write + Send>> {
    match path {
        None => Ok(Box::new(io::BufWriter::new(io::stdout()))),
        Some(p) => {
            let opts = ferret::outfile::Options {
                follow_symlink,
                ..Default::default()
            };
            let file = ferret::outfile::create(p, opts)
                .with_context(|| format!("cannot create report file {}", p.display()))?;
            Ok(Box::new(io::BufWriter::new(file)))
        }
    }
}

/// Whether to colour text written to stdout (never to a file).
pub fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && io::stdout().is_terminal()
        }
    }
}

/// Whether stderr messages may be coloured.
pub fn stderr_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stderr().is_terminal()
        }
    }
}

/// Bytes in SI units, as the reports print them.
pub use ferret::report::results::human_bytes;

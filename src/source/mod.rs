//! Sources: turn what the user named into items to open.
//!
//! Paths are walked ([`walk`]); `-` means standard input, scanned as a stream. Git
//! repositories are read by [`git`] (staged changes, commit ranges, all history).

pub mod git;
pub mod walk;

use std::path::PathBuf;

/// Something the user asked to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or folder.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// `-` is stdin, anything else a path.
    pub fn parse(s: &str) -> Input {
        if s == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(s))
        }
    }
}

//! Sources: turn what the user named into items to open.
//!
//! Paths are walked ([`walk`]); `-` means standard input, scanned as a stream; `oci://…` names
//! an image in a registry ([`registry`]). Git repositories are read by [`git`] (staged changes,
//! commit ranges, all history).

pub mod git;
pub mod registry;
pub mod walk;

use std::path::PathBuf;

/// Something the user asked to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or folder.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// An image in a registry (`oci://HOST/REPO:TAG`).
    Registry(String),
}

impl Input {
    /// `-` is stdin, `oci://…` a registry image, anything else a path.
    pub fn parse(s: &str) -> Input {
        if s == "-" {
            Input::Stdin
        } else if registry::is_registry_url(s) {
            Input::Registry(s.to_string())
        } else {
            Input::Path(PathBuf::from(s))
        }
    }
}

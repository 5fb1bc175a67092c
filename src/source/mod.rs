//! Sources: turn what the user named into items to open.
//!
//! Paths are walked ([`walk`]); `-` means standard input, scanned as a stream; `s3://…`,
//! `gs://…` and `az://…` are listed in object storage ([`object`]). [`shard`] splits any of
//! them deterministically across workers.

pub mod object;
pub mod shard;
pub mod walk;

use std::path::PathBuf;

/// Something the user asked to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or folder.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// Objects in a bucket: `s3://bucket/prefix`, `gs://…`, `az://…`.
    Object(String),
}

impl Input {
    /// `-` is stdin, `s3://…` (or `gs://`, `az://`) an object store, anything else a path.
    pub fn parse(s: &str) -> Input {
        if s == "-" {
            Input::Stdin
        } else if object::ObjectUrl::is_object_url(s) {
            Input::Object(s.to_string())
        } else {
            Input::Path(PathBuf::from(s))
        }
    }
}

//! Sources: turn what the user named into items to open.
//!
//! Paths are walked ([`walk`]); `-` means standard input, scanned as a stream ([`stdin`]); `oci://…` names
//! an image in a registry ([`registry`]); `s3://…`, `gs://…` and `az://…` are listed in object
//! storage ([`object`]); `mlflow+http://…` is an MLflow tracking server ([`mlflow`]). Git
//! repositories are read by [`git`] (staged changes, commit ranges, all history). [`shard`]
//! splits a sweep deterministically across workers. [`hf`] names the files of Hugging Face
//! caches met by the walk by their place on the Hub. Every source feeds the one driver
//! ([`crate::scan::Scanner::run`]); none brings its own pool.

pub mod git;
pub mod hf;
pub mod mlflow;
pub mod net;
pub mod object;
pub mod registry;
pub mod shard;
pub mod stdin;
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
    /// Objects in a bucket: `s3://bucket/prefix`, `gs://…`, `az://…`.
    Object(String),
    /// Blobs of a git repository: staged changes, a commit range or all history
    /// (`ferret git`), each kept to the lines it adds.
    Git {
        /// The repository.
        repo: git::Repo,
        /// Which part of it.
        scope: git::Scope,
    },
    /// An MLflow tracking server: `mlflow+http://HOST:PORT`, `mlflow+https://…`.
    Mlflow(String),
}

impl Input {
    /// `-` is stdin, `oci://…` a registry image, `s3://…` (or `gs://`, `az://`) an object
    /// store, anything else a path.
    pub fn parse(s: &str) -> Input {
        if s == "-" {
            Input::Stdin
        } else if registry::is_registry_url(s) {
            Input::Registry(s.to_string())
        } else if mlflow::is_mlflow_url(s) {
            Input::Mlflow(s.to_string())
        } else if object::ObjectUrl::is_object_url(s) {
            Input::Object(s.to_string())
        } else {
            Input::Path(PathBuf::from(s))
        }
    }
}

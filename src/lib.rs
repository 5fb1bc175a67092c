//! ferret finds credentials leaked into the artifacts of AI and ML pipelines.
//!
//! Bytes flow one way, from where they live to a report:
//!
//! ```text
//! inputs ──► sources ──► blobs ──► matcher ──► findings ──► reports
//! paths      walk a dir   bytes +   keyword      confirm,      text, json,
//! stdin                   origin    prefilter →  fingerprint,  jsonl, sarif
//!                         chain     regex →      locate
//!                                   entropy →
//!                                   validator
//!                                      │
//!                                   views: decode base64 / JSON / percent candidates, scan again
//! ```
//!
//! - [`source`] turns what the user named into items (a walk of paths, stdin, objects in
//!   `s3://`, `gs://` or `az://` buckets), optionally one shard of them.
//! - [`blob`] is bytes plus their [`Origin`]; large files are mapped or range-read and cut into
//!   chunks ([`blob::chunk`]).
//! - [`rules`] are data ([`RuleSet`]), embedded from `rules/*.toml` or loaded from a user's file.
//! - [`matcher`] runs one Aho-Corasick pass over every keyword and each rule's regex only near
//!   its hits ([`Matcher`]).
//! - [`finding`] confirms candidates (entropy, placeholders, validators) into [`Finding`]s.
//! - [`view`] decodes the regions the matcher's view triggers found (base64, JSON string
//!   escapes, percent-encoding) and scans the decoded text, so hidden secrets are found too.
//! - [`engine`] scans one blob: chunks in parallel, seams, lines and columns.
//! - [`config`] reads `ferret.toml`; [`finding::allow`] and [`finding::baseline`] keep what a
//!   team accepted quiet.
//! - [`source::git`] reads blobs from git: staged changes, a commit range, or all history.
//! - [`scan`] drives a whole scan on a rayon pool ([`Scanner`]) into a [`report::Reporter`].
//! - [`state`] remembers what each item held, so that the next sweep reads only what changed.
//! - [`verify`] (opt-in, `--verify`) asks each secret's own service whether it still works,
//!   never a host named by scanned content unless the user allowed it.
//!
//! ```
//! use std::sync::Arc;
//! use ferret::{Matcher, RuleSet};
//! let matcher = Arc::new(Matcher::new(&RuleSet::builtin()?)?);
//! let mut scratch = matcher.scratch();
//! let mut candidates = Vec::new();
//! matcher.scan(b"AWS_ACCESS_KEY_ID=AKIA4QGJ7W2ZBXN5KD3M", &mut scratch, &mut candidates);
//! assert!(candidates.iter().any(|c| matcher.rule(c.rule).id() == "aws.access-key-id"));
//! # Ok::<(), ferret::Error>(())
//! ```

#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod blob;
pub mod config;
pub mod confirm;
pub mod engine;
pub mod error;
pub mod expand;
pub mod finding;
pub mod lint;
pub mod matcher;
pub mod outfile;
pub mod progress;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod state;
pub mod summary;
pub mod verify;
pub mod view;

pub use blob::{Blob, Data, Origin, Segment};
pub use error::{Error, Result};
pub use finding::Finding;
pub use matcher::Matcher;
pub use rules::{Rule, RuleSet, Severity};
pub use scan::{ScanOptions, Scanner};
pub use summary::Summary;

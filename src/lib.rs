//! ferret finds credentials leaked into the artifacts of AI and ML pipelines.
//!
//! Bytes flow one way, from where they live to a report; [`scan::Scanner::run`] is the one
//! driver that takes items from every source and runs the stages on a pool of workers:
//!
//! ```text
//! inputs ──► sources ──► expansion ──► engine ───────────────────────► findings ──► reports
//! paths      walk, stdin  archives,    matcher: keyword prefilter →    fingerprint,  text, json,
//! stdin      git blobs    images,      regex on a window → entropy,    baseline,     jsonl, sarif,
//! git        s3/gs/az     notebooks,   validator                       allowlist,    gitlab,
//! s3://…     oci://       checkpoints, confirm: candidate → finding,   blast radius  html, md
//! mlflow+…   registries   trackers,    masked context, dedup                │
//!                         datasets     views: JSON/base64/percent text      └──► verify (opt-in)
//!                                      where a trigger hit, scanned again
//! ```
//!
//! - [`source`] turns what the user named into items: a walk of paths, stdin, git blobs
//!   ([`source::git`]: staged changes, a commit range, or all history), objects in `s3://`,
//!   `gs://` or `az://` buckets, registries, MLflow servers and Hugging Face caches; optionally
//!   one shard of them.
//! - [`blob`] holds the bytes ([`Data`]) and their [`Origin`]; large files are mapped or
//!   range-read and cut into chunks ([`blob::chunk`]).
//! - [`expand`] opens containers into child items with longer origins: compressed streams, tar,
//!   zip, container images, notebooks, checkpoints and model files, experiment trackers and
//!   datasets, bounded by depth, bytes and ratio ([`expand::limits`]).
//! - [`rules`] are data ([`RuleSet`]), embedded from `rules/*.toml` or loaded from a user's file;
//!   [`lint`] checks them (`ferret rules check`).
//! - [`matcher`] runs one Aho-Corasick pass over every keyword and each rule's regex only near
//!   its hits ([`Matcher`]), then entropy, placeholder and validator checks.
//! - [`confirm`] turns a candidate into a [`Finding`] in one place: allow comments, the snippet,
//!   the context masked with everything found on its line, generic-rule suppression and
//!   de-duplication ([`confirm::finalize`]).
//! - [`view`] decodes the regions the matcher's view triggers found (base64, JSON string
//!   escapes, percent-encoding) and scans the decoded text, so hidden secrets are found too.
//! - [`engine`] scans one blob: chunks in parallel, seams, lines and columns.
//! - [`finding`] is what a finding carries (fingerprint, location, masking) and what a team
//!   keeps quiet: [`finding::allow`], [`finding::baseline`]; [`config`] reads `ferret.toml`.
//! - [`scan`] drives a whole scan ([`Scanner`]) into a [`report::Reporter`]; [`summary`] counts
//!   what it read, skipped and failed; [`state`] remembers what each item held, so that the next
//!   sweep reads only what changed.
//! - [`report`] writes text, JSON, JSONL, SARIF, GitLab, HTML and Markdown; [`redact`] writes a
//!   copy of the input with the secrets masked.
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

pub use blob::{Data, Origin, Segment};
pub use error::{Error, Result};
pub use finding::Finding;
pub use matcher::Matcher;
pub use rules::{Rule, RuleSet, Severity};
pub use scan::{ScanOptions, Scanner};
pub use summary::Summary;

//! The only test binary: each module tests one part of ferret the way a user runs it.
//! (One binary links once, which keeps `cargo test` fast on two cores.)

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

/// Shared helpers: temp dirs, the `ferret` command, synthetic secrets.
mod common;

/// Chunked and streamed scans equal whole scans, including secrets across seams.
mod chunks;
/// Exit codes, formats, output files, colour, stdin, broken pipes.
mod cli;
/// Archives, compressed streams, tensor files: nesting, budgets, damage.
mod expand;
/// Buckets on a real S3-compatible server (SeaweedFS): same findings as on disk, ranged reads,
/// incremental sweeps, shards, credentials.
mod objects;
/// Property tests: the prefiltered path equals the brute-force path.
mod properties;
/// The Ray fan-out (python/ferret_ray) on a local Ray cluster.
mod ray;
/// Report shapes: JSON, JSONL, SARIF (schema-validated), text; redaction; order.
mod report;
/// Every built-in rule's examples; user rule files.
mod rules;
/// What the walk scans and skips; bad inputs.
mod sources;
/// Incremental state, resuming a killed sweep, `--only-new`, shards of a local tree.
mod sweeps;

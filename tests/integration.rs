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
/// Container images from our own writer: docker-save, OCI layouts, whiteouts, config.
mod image;
/// Property tests: the prefiltered path equals the brute-force path.
mod properties;
/// The registry client against a fake registry: Bearer tokens, platforms, digests.
mod registry;
/// Report shapes: JSON, JSONL, SARIF (schema-validated), text; redaction; order.
mod report;
/// Every built-in rule's examples; user rule files.
mod rules;
/// What the walk scans and skips; bad inputs.
mod sources;
/// Images made by real tools (umoci, skopeo) and pulled from a real loopback registry.
mod tools;

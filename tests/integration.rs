//! The only test binary: each module tests one part of ferret the way a user runs it.
//! (One binary links once, which keeps `cargo test` fast on two cores.)

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

/// Shared helpers: temp dirs, the `ferret` command, synthetic secrets.
mod common;

/// Chunked and streamed scans equal whole scans, including secrets across seams.
mod chunks;
/// Exit codes, formats, output files, colour, stdin, broken pipes.
mod cli;
/// Recall and false positives on other scanners' rule examples (a yardstick).
mod eval;
/// Recall and precision on the generated labelled corpus of fixtures/gen_labelled.py.
mod labelled;
/// Property tests: the prefiltered path equals the brute-force path.
mod properties;
/// Report shapes: JSON, JSONL, SARIF (schema-validated), text; redaction; order.
mod report;
/// Every built-in rule's examples; user rule files.
mod rules;
/// What the walk scans and skips; bad inputs.
mod sources;
/// Secrets hidden by base64, JSON escapes and percent-encoding.
mod views;

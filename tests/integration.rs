//! The only test binary: each module tests one part of ferret the way a user runs it.
//! (One binary links once, which keeps `cargo test` fast on two cores.)

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

/// Shared helpers: temp dirs, the `ferret` command, synthetic secrets.
mod common;

/// The HTML report in headless Chromium: table, counts, sorting, filtering, escaping.
mod browser;
/// Chunked and streamed scans equal whole scans, including secrets across seams.
mod chunks;
/// Exit codes, formats, output files, colour, stdin, broken pipes.
mod cli;
/// Blast radius (`scan --group secret`) and `ferret report` (HTML, Markdown, merge).
mod incident;
/// Property tests: the prefiltered path equals the brute-force path.
mod properties;
/// Report shapes: JSON, JSONL, SARIF (schema-validated), text; redaction; order.
mod report;
/// Every built-in rule's examples; user rule files.
mod rules;
/// What the walk scans and skips; bad inputs.
mod sources;

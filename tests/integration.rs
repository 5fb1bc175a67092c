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
/// Prefix-less credentials: each syntax found, each non-secret class quiet, confidence.
mod detect;
/// Recall and false positives on other scanners' rule examples (a yardstick).
mod eval;
/// Archives, compressed streams, tensor files: nesting, budgets, damage.
mod expand;
/// Saved fuzz crashes replayed through the fuzz harness.
mod fuzz_regressions;
/// Baselines, ferret.toml, inline allows, --fail-on.
mod gate;
/// `ferret git`: staged changes, ranges, all history, in throw-away repositories.
mod git;
/// `--format gitlab`: GitLab's secret-detection report, against its documented fields.
mod gitlab;
/// Snapshots of every verb's `--help`.
mod help;
/// Hostile inputs: bombs, depth, huge lines, damage, worst cases.
mod hostile;
/// Hostile inputs, round 2: sizes, references and metadata that containers control.
mod hostile_expand;
/// Container images from our own writer: docker-save, OCI layouts, whiteouts, config.
mod image;
/// Blast radius (`scan --group secret`) and `ferret report` (HTML, Markdown, merge).
mod incident;
/// Recall and precision on the generated labelled corpus of fixtures/gen_labelled.py.
mod labelled;
/// Logs and live streams: CRLF, ANSI, JSON lines, `ferret scan -` latency.
mod logs;
/// ML artifacts: notebooks, pickles and checkpoints, safetensors, GGUF, ONNX.
mod ml;
/// A real MLflow tracking server swept: runs, artifacts, models, prompts, traces; state, shards.
mod mlflow;
/// Network sources against hostile servers: silent, dripping, endless, lying; SIGTERM.
mod network;
/// Real code nobody on this project wrote: every finding triaged (bench/noise).
mod noise;
/// Buckets on a real S3-compatible server (SeaweedFS): same findings as on disk, ranged reads,
/// incremental sweeps, shards, credentials.
mod objects;
/// The pre-commit hook, installed by pre-commit and refusing a commit.
mod precommit;
/// The progress line on a pseudo-terminal: drawn, forced, hidden, cleared.
mod progress;
/// Property tests: the prefiltered path equals the brute-force path.
mod properties;
/// The Ray fan-out (python/ferret_ray) on a local Ray cluster.
mod ray;
/// `ferret redact`: masking, byte-exact copies, latency, the report.
mod redact;
/// The registry client against a fake registry: Bearer tokens, platforms, digests.
mod registry;
/// Report shapes: JSON, JSONL, SARIF (schema-validated), text; redaction; order.
mod report;
/// Interrupts, memory bounds, honest failures.
mod robust;
/// Every built-in rule's examples; user rule files.
mod rules;
/// What the walk scans and skips; bad inputs.
mod sources;
/// The stores of ML work written by the real libraries: W&B runs, TensorBoard event files,
/// Parquet and Arrow datasets, Hugging Face caches.
mod stores;
/// Incremental state, resuming a killed sweep, `--only-new`, shards of a local tree.
mod sweeps;
/// Images made by real tools (umoci, skopeo) and pulled from a real loopback registry.
mod tools;
/// Completions, man pages, `ferret init`, `ferret rules show`, helpful errors, broken pipes.
mod ux;
/// `--verify`: verifiers against real servers on loopback, safety, limits, verdicts in reports.
mod verify;
/// Secrets hidden by base64, JSON escapes and percent-encoding.
mod views;

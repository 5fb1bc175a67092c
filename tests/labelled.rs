//! The labelled corpus of fixtures/gen_labelled.py: 330 planted secrets across 57 kinds and
//! about 400 hard-negative lines, in configs, source, plain / JSON-lines / ANSI logs, raw
//! notebooks and CI files, generated from a fixed seed. The script scans it with this build's
//! `ferret` and fails below recall 0.97 or precision 0.95; its per-kind table is printed (see
//! it with `cargo test labelled -- --nocapture`, or run the script as the README says).

use std::process::Command;

#[test]
fn labelled_corpus_recall_and_precision() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/gen_labelled.py");
    let program = std::env::var_os("FERRET_TEST_PROGRAM")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_ferret").into());
    let out = Command::new("python3")
        .arg(script)
        .arg("run")
        .arg("--ferret")
        .arg(&program)
        .args(["--min-recall", "0.97", "--min-precision", "0.95"])
        .output()
        .expect("python3 runs (CI installs Python 3)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("planted 330 secrets"), "{stdout}");
}

//! Test helpers: a temp dir with files, the real `ferret` binary, synthetic secrets.

#![allow(dead_code)]

pub mod git;
pub mod make;
pub mod s3;
pub mod secrets;
pub mod verify;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary directory that tests write files into.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Keeps the folder after the test (for artifacts such as screenshots); returns its path.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }

    /// Writes `contents` to `rel` (creating parent folders) and returns the full path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, contents).expect("write");
        p
    }

    /// Runs `ferret scan -f json ARGS` in this directory: the run and its JSON document.
    pub fn scan_json(&self, args: &[&str]) -> (Run, serde_json::Value) {
        let r = run(self.ferret().args(["scan", "-f", "json"]).args(args));
        let doc = r.json();
        (r, doc)
    }

    /// A `ferret` command running in this directory.
    pub fn ferret(&self) -> Command {
        let mut c = ferret();
        c.current_dir(self.path());
        c
    }
}

/// The binary under test (`FERRET_TEST_PROGRAM` overrides, e.g. to test a release build).
pub fn ferret() -> Command {
    let program = std::env::var_os("FERRET_TEST_PROGRAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ferret")));
    let mut c = Command::new(program);
    c.env_remove("NO_COLOR").stdin(Stdio::null());
    c
}

/// What a run gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// JSONL lines parsed.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs a command and captures its output.
pub fn run(cmd: &mut Command) -> Run {
    cmd.output().expect("ferret runs").into()
}

/// Runs a command with `input` on stdin.
pub fn run_stdin(cmd: &mut Command, input: &[u8]) -> Run {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferret starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("ferret ends");
    writer.join().expect("writer");
    out.into()
}

/// A file from the steering folder `../shared` (or `$FERRET_SHARED`): yardsticks and schemas
/// that come from other public projects and stay there, never copied into this repository.
/// Without it (a clone of the project alone) the calling test is skipped with a message saying
/// so; with `FERRET_REQUIRE_SHARED=1` (set by `.ci/run`) a missing file fails the test instead.
pub fn shared_file(rel: &str) -> Option<PathBuf> {
    let root = std::env::var_os("FERRET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let path = root.join(rel);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var_os("FERRET_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!(
            "{} is missing and FERRET_REQUIRE_SHARED=1: the steering folder ../shared (or \
             $FERRET_SHARED) must hold it",
            path.display()
        );
    }
    eprintln!(
        "SKIPPED: {} is not there (this test reads it from ../shared or $FERRET_SHARED; \
         set FERRET_REQUIRE_SHARED=1 to make that a failure)",
        path.display()
    );
    None
}

/// The official SARIF 2.1.0 schema from `../shared/schemas`, or `None` (test skipped).
pub fn sarif_schema() -> Option<serde_json::Value> {
    let path = shared_file("schemas/sarif-schema-2.1.0.json")?;
    let text = std::fs::read_to_string(&path).expect("read the SARIF schema");
    Some(serde_json::from_str(&text).expect("the SARIF schema is JSON"))
}

/// Checks `doc` against the official SARIF schema; skipped (returns) without `../shared`.
pub fn assert_valid_sarif(doc: &serde_json::Value) {
    let Some(schema) = sarif_schema() else { return };
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
}

/// The `rule_id`s of a JSON report's findings, in order.
pub fn rule_ids(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["rule_id"].as_str().expect("rule_id").to_string())
        .collect()
}

/// Every finding of a JSON report as (location, rule id), in report order.
pub fn located(doc: &serde_json::Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["location"].as_str().expect("location").to_string(),
                f["rule_id"].as_str().expect("rule_id").to_string(),
            )
        })
        .collect()
}

/// Every finding's location in a JSON report, in report order.
pub fn locations(doc: &serde_json::Value) -> Vec<String> {
    located(doc).into_iter().map(|(l, _)| l).collect()
}

/// Runs `python3 -c script` in `dir` (W&B offline, the Hugging Face hub offline); its stdout, or `None` (skip) when python3 or a
/// module is missing and FERRET_REQUIRE_TOOLS is not set.
pub fn python(dir: &Path, script: &str, what: &str) -> Option<String> {
    let out = Command::new("python3")
        .args(["-c", script])
        .current_dir(dir)
        .env("WANDB_MODE", "offline")
        .env("WANDB_SILENT", "true")
        .env("HF_HUB_OFFLINE", "1")
        .output();
    let required = std::env::var_os("FERRET_REQUIRE_TOOLS").is_some_and(|v| v == "1");
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!required, "FERRET_REQUIRE_TOOLS=1 but {what} failed: {err}");
            eprintln!("SKIPPED: {what} not available ({})", err.trim());
            None
        }
        Err(e) => {
            assert!(!required, "FERRET_REQUIRE_TOOLS=1 but python3 failed: {e}");
            eprintln!("SKIPPED: python3 not available ({e})");
            None
        }
    }
}

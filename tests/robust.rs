//! Interrupted scans, peak memory, and other ways a scan must fail honestly.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::TestDir;
use crate::common::secrets::Gen;

/// A sparse file of `len` zero bytes (no disk used, but every byte is scanned).
fn sparse(t: &TestDir, name: &str, len: u64) {
    let f = std::fs::File::create(t.path().join(name)).unwrap();
    f.set_len(len).unwrap();
}

/// Sends SIGINT to a child we started, as Ctrl-C would.
fn interrupt(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigint_writes_a_valid_partial_report() {
    let t = TestDir::new();
    let token = Gen::new(70).github_pat();
    t.write("a.env", format!("GITHUB_TOKEN={token}\n"));
    sparse(&t, "z.bin", 64 << 30);
    for format in ["json", "sarif"] {
        let child = t
            .ferret()
            .args(["scan", ".", "-f", format, "-j", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        let sent = Instant::now();
        interrupt(child.id());
        let out = child.wait_with_output().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(10), "stopped promptly");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: findings before the interrupt: {stderr}"
        );
        assert!(stderr.contains("interrupted"), "{stderr}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{format} output is not JSON: {e}"));
        if format == "json" {
            assert_eq!(doc["summary"]["partial"], true);
            assert_eq!(doc["findings"][0]["rule_id"], "github.pat.classic");
            assert!(doc["summary"]["bytes"].as_u64().unwrap() > 0);
        } else {
            let inv = &doc["runs"][0]["invocations"][0];
            assert_eq!(inv["executionSuccessful"], false);
            assert_eq!(doc["runs"][0]["results"][0]["ruleId"], "github.pat.classic");
        }
    }
}

#[test]
fn sigint_with_nothing_found_is_not_a_clean_exit() {
    let t = TestDir::new();
    sparse(&t, "z.bin", 64 << 30);
    let child = t
        .ferret()
        .args(["scan", ".", "-f", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    interrupt(child.id());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an interrupted clean scan cannot vouch for anything"
    );
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string();
    let summary: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["data"]["partial"], true);
}

#[test]
fn jsonl_streams_before_the_interrupt() {
    let t = TestDir::new();
    t.write("a.env", format!("T={}\n", Gen::new(71).github_pat()));
    sparse(&t, "z.bin", 64 << 30);
    let mut child = t
        .ferret()
        .args(["scan", ".", "-f", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        first["type"], "finding",
        "streamed while the big file is still being scanned"
    );
    interrupt(child.id());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(
        rest.last().unwrap().contains("\"partial\":true"),
        "{rest:?}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn the_summary_reports_peak_memory_and_it_stays_bounded() {
    // 256 MiB in one file, in 8 MiB chunks on 2 threads: memory is bounded by the chunks in
    // flight, not by the file.
    let t = TestDir::new();
    sparse(&t, "big.bin", 256 << 20);
    for mmap in ["auto", "never"] {
        let r = crate::common::run(
            t.ferret()
                .args(["scan", "big.bin", "-f", "json", "-j", "2", "--mmap", mmap]),
        );
        let doc = r.json();
        let peak = doc["summary"]["peak_rss_bytes"].as_u64().unwrap();
        assert!(peak < 100 << 20, "{mmap}: peak RSS {} MiB", peak >> 20);
        assert_eq!(doc["summary"]["bytes"], 256u64 << 20);
    }
}

#[test]
fn a_file_that_shrinks_while_mapped_is_reported_not_a_crash() {
    let t = TestDir::new();
    let token = Gen::new(72).github_pat();
    let path = t.path().join("live.log");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(format!("T={token}\n").as_bytes()).unwrap();
        f.set_len(1 << 30).unwrap();
    }
    let child = t
        .ferret()
        .args([
            "scan",
            "live.log",
            "-f",
            "json",
            "--chunk-size",
            "4M",
            "-j",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some(), "killed by a signal: {stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"][0]["rule_id"], "github.pat.classic");
    if doc["summary"]["errors"] == 1 {
        assert!(stderr.contains("live.log: the file shrank"), "{stderr}");
    } else {
        // The scan may win the race and finish before the truncation.
        assert!(
            doc["summary"]["elapsed_seconds"].as_f64().unwrap() < 0.4,
            "{stderr}"
        );
    }
}

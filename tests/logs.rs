//! Logs and live streams: rotated and CRLF logs, ANSI colours, JSON lines, and `ferret scan -`
//! on a stream that has not ended.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::locations;
use crate::common::make;
use crate::common::secrets::Gen;
use crate::common::{Run, TestDir, run, run_stdin};

#[test]
fn crlf_logs_count_lines_and_columns_and_keep_the_cr_out_of_context() {
    let t = TestDir::new();
    let token = Gen::new(80).github_pat();
    let log = format!("INFO start\r\nINFO token {token}\r\nINFO done\r\n");
    t.write("win.log", &log);
    t.write("win.log.gz", make::gzip(log.as_bytes()));
    t.write("win.log.zst", make::zstd(log.as_bytes()));
    let (r, doc) = t.scan_json(&["win.log", "win.log.gz", "win.log.zst"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations(&doc),
        [
            "win.log:2:12",
            "win.log.gz › (gzip):2:12",
            "win.log.zst › (zstd):2:12",
        ]
    );
    for f in doc["findings"].as_array().unwrap() {
        assert_eq!(f["context"], "INFO token ghp_****");
        assert_eq!(f["end_column"], 12 + 40);
    }
    // Text output: no replacement character where the CR was.
    let r = run(t.ferret().args(["scan", "win.log"]));
    assert!(
        r.stdout.contains("    INFO token ghp_****\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn ansi_colour_codes_do_not_hide_a_secret() {
    let t = TestDir::new();
    let hf = Gen::new(81).huggingface();
    // The token is glued to a bold code: `…=\x1b[1mhf_…` has no word boundary before `hf_`.
    let line = format!("\x1b[32mINFO\x1b[0m HF_TOKEN=\x1b[1m{hf}\x1b[0m loaded\n");
    let log = format!("\x1b[2Kstep 1\n{line}");
    t.write("color.log", &log);
    t.write("color.log.gz", make::gzip(log.as_bytes()));
    let (r, doc) = t.scan_json(&["color.log", "color.log.gz"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Columns count what a terminal shows (`INFO HF_TOKEN=` is 14 characters); offsets point
    // at the token's bytes in the file.
    assert_eq!(
        locations(&doc),
        ["color.log:2:15", "color.log.gz › (gzip):2:15"]
    );
    let f = &doc["findings"][0];
    assert_eq!(f["rule_id"], "huggingface.token");
    let at = log.find("hf_").unwrap();
    assert_eq!(f["offset"], at);
    assert_eq!(f["end_offset"], at + hf.len());
    assert_eq!(f["context"], "INFO HF_TOKEN=hf_**** loaded");
    // The same from stdin.
    let r = run_stdin(t.ferret().args(["scan", "-", "-f", "json"]), log.as_bytes());
    assert_eq!(locations(&r.json()), ["<stdin>:2:15"]);
}

#[test]
fn json_lines_logs_with_secrets_in_string_values() {
    let t = TestDir::new();
    let mut g = Gen::new(82);
    let (ant, gh) = (g.anthropic(), g.github_pat());
    let log = format!(
        "{{\"ts\":1,\"msg\":\"request\",\"headers\":{{\"x-api-key\":\"{ant}\"}}}}\n\
         {{\"ts\":2,\"msg\":\"cloning\\nhttps://x:{gh}@github.com/a/b\"}}\n"
    );
    t.write("requests.jsonl", &log);
    t.write("requests.jsonl.zst", make::zstd(log.as_bytes()));
    let (r, doc) = t.scan_json(&["requests.jsonl", "requests.jsonl.zst"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let col1 = log.lines().next().unwrap().find("sk-ant-").unwrap() + 1;
    let col2 = log.lines().nth(1).unwrap().find("ghp_").unwrap() + 1;
    assert_eq!(
        locations(&doc),
        [
            format!("requests.jsonl:1:{col1}"),
            format!("requests.jsonl:2:{col2}"),
            format!("requests.jsonl.zst › (zstd):1:{col1}"),
            format!("requests.jsonl.zst › (zstd):2:{col2}"),
        ]
    );
}

/// A secret split by a JSON escape is found through the JSON-string view, which undoes the
/// escapes before matching; the finding points at the escaped bytes.
#[test]
fn json_lines_logs_with_escaped_secrets() {
    let t = TestDir::new();
    let gh = Gen::new(83).github_pat();
    // `\u0041` for one letter of the token: the bytes as written never hold the token.
    let escaped = format!("{}\\u00{:02X}{}", &gh[..10], gh.as_bytes()[10], &gh[11..]);
    t.write("app.jsonl", format!("{{\"msg\":\"token {escaped}\"}}\n"));
    let (r, doc) = t.scan_json(&["app.jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(locations(&doc), ["app.jsonl:1:15"]);
}

/// Spawns `ferret` with piped stdin and stdout, and a thread that sends stdout lines.
pub fn spawn_piped(t: &TestDir, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = t
        .ferret()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits for a stdout line containing `needle`.
pub fn wait_for(rx: &mpsc::Receiver<String>, needle: &str, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Some(line),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

#[test]
fn a_live_stdin_stream_reports_each_finding_when_its_line_arrives() {
    let t = TestDir::new();
    let mut g = Gen::new(84);
    let (first, second) = (g.github_pat(), g.huggingface());
    for (format, needle) in [
        ("jsonl", "\"rule_id\":\"github.pat.classic\""),
        ("text", "github.pat.classic"),
    ] {
        let (mut child, rx) = spawn_piped(&t, &["scan", "-", "-f", format]);
        let mut stdin = child.stdin.take().unwrap();
        // Some lines, then the one with the secret; the pipe stays open.
        write!(stdin, "INFO pod started\nINFO pulling image\nINFO git clone https://x:{first}@github.com/a/b\n").unwrap();
        stdin.flush().unwrap();
        let line = wait_for(&rx, needle, Duration::from_secs(20));
        assert!(
            line.is_some(),
            "{format}: no finding while the stream is open"
        );
        let line = line.unwrap();
        if format == "jsonl" {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["data"]["location"], "<stdin>:3:26");
        } else {
            assert!(line.starts_with("<stdin>:3:26: "), "{line}");
        }
        // A second secret, a partial line that waits for its end, then the end of the stream.
        write!(stdin, "x hf={second}\npartial line ").unwrap();
        stdin.flush().unwrap();
        assert!(
            wait_for(&rx, "huggingface.token", Duration::from_secs(20)).is_some(),
            "{format}: the second finding did not come"
        );
        drop(stdin);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{format}");
        // Each finding was reported once.
        let rest: Vec<String> = rx.try_iter().collect();
        assert!(
            !rest
                .iter()
                .any(|l| l.contains("github.pat.classic") || l.contains("huggingface.token")),
            "{format}: reported twice: {rest:?}"
        );
    }
}

#[test]
fn a_live_stream_ends_quietly_when_the_reader_goes_away() {
    let t = TestDir::new();
    let token = Gen::new(85).github_pat();
    let (mut child, rx) = spawn_piped(&t, &["scan", "-", "-f", "jsonl"]);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "T={token}").unwrap();
    stdin.flush().unwrap();
    assert!(wait_for(&rx, "github.pat.classic", Duration::from_secs(20)).is_some());
    // Close our end of stdout (the reader thread ends when the pipe does) by dropping the
    // receiver; the next write fails with EPIPE and ferret exits without waiting for input.
    drop(rx);
    let started = Instant::now();
    let mut n = 0;
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(20) {
        n += 1;
        let _ = writeln!(stdin, "T{n}={token}");
        let _ = stdin.flush();
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(1), "{stderr}");
}

#[test]
fn an_endless_stream_is_scanned_in_bounded_memory() {
    let t = TestDir::new();
    let token = Gen::new(86).github_pat();
    // 384 MiB of log lines with a secret every 4 MiB, through a pipe.
    let mut chunk = Vec::new();
    while chunk.len() < 4 << 20 {
        chunk.extend_from_slice(b"2025-01-01T00:00:00Z INFO step=1234 loss=0.1234 it/s=5678 ok\n");
    }
    chunk.extend_from_slice(format!("INFO token={token}\n").as_bytes());
    let mut child = t
        .ferret()
        .args(["scan", "-", "-f", "jsonl", "--chunk-size", "4M"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..96 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let r: Run = out.into();
    let lines = r.lines();
    let findings = lines.iter().filter(|l| l["type"] == "finding").count();
    assert_eq!(findings, 96, "{}", r.stderr);
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    let rss = summary["data"]["peak_rss_bytes"].as_u64().unwrap();
    assert!(
        rss < 200 << 20,
        "peak RSS {} MiB for a 384 MiB stream",
        rss >> 20
    );
}

//! `ferret redact`: stdin to stdout with secrets masked, byte for byte otherwise, line by line.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::common::secrets::Gen;
use crate::common::{TestDir, run_stdin};
use crate::logs::{spawn_piped, wait_for};

#[test]
fn redact_masks_secrets_and_copies_everything_else_byte_for_byte() {
    let t = TestDir::new();
    let mut g = Gen::new(87);
    let (gh, hf, ant) = (g.github_pat(), g.huggingface(), g.anthropic());
    let mut input = Vec::new();
    input.extend_from_slice(b"plain line\r\n");
    input.extend_from_slice(format!("clone https://x:{gh}@github.com/a/b\r\n").as_bytes());
    input.extend_from_slice("ünïcode ✓ \x00\x01\x7f binary\n".as_bytes());
    input.extend_from_slice(&[0xff, 0xfe, b'\n']);
    input.extend_from_slice(
        format!("{{\"headers\":{{\"x-api-key\":\"{ant}\"}},\"hf\":\"{hf}\"}}\n").as_bytes(),
    );
    input.extend_from_slice(b"no newline at the end");
    let mut expected = input.clone();
    for (secret, mask) in [
        (&gh, "ghp_****"),
        (&hf, "hf_****"),
        (&ant, "sk-ant-api****"),
    ] {
        let at = memchr::memmem::find(&expected, secret.as_bytes()).unwrap();
        expected.splice(at..at + secret.len(), mask.bytes());
    }
    let r = run_stdin(
        t.ferret()
            .args(["redact", "--report", "found.json", "--show-secrets"]),
        &input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // stdout as bytes (the Run helper decodes it lossily): run again, raw.
    let mut child = t
        .ferret()
        .args(["redact", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input2 = input.clone();
    let w = std::thread::spawn(move || stdin.write_all(&input2));
    let out = child.wait_with_output().unwrap();
    w.join().unwrap().unwrap();
    assert_eq!(out.stdout, expected);
    assert!(out.stderr.is_empty());
    // The report says where each secret was.
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("found.json")).unwrap()).unwrap();
    let found: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["location"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let line5 = String::from_utf8_lossy(input.split(|&b| b == b'\n').nth(4).unwrap()).into_owned();
    let col = |s: &str| line5.find(s).unwrap() + 1;
    assert_eq!(
        found,
        [
            ("<stdin>:2:17".to_string(), gh.clone()),
            (format!("<stdin>:5:{}", col(&ant)), ant.clone()),
            (format!("<stdin>:5:{}", col(&hf)), hf.clone()),
        ]
    );
    assert!(r.stderr.contains("redacted 3 secrets"), "{}", r.stderr);
}

#[test]
fn redact_passes_each_line_on_as_soon_as_it_arrives() {
    let t = TestDir::new();
    let token = Gen::new(88).github_pat();
    let (mut child, rx) = spawn_piped(&t, &["redact"]);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "model said: use {token} to push").unwrap();
    stdin.flush().unwrap();
    let line = wait_for(&rx, "model said", Duration::from_secs(20));
    assert_eq!(line.as_deref(), Some("model said: use ghp_**** to push"));
    writeln!(stdin, "second").unwrap();
    stdin.flush().unwrap();
    assert_eq!(
        wait_for(&rx, "second", Duration::from_secs(20)).as_deref(),
        Some("second")
    );
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

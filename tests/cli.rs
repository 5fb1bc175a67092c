//! Exit codes, formats, output files, colour, stdin and broken pipes: the contract CI relies on.

use crate::common::secrets::Gen;
use crate::common::{TestDir, run, run_stdin};

#[test]
fn exit_0_when_nothing_is_found() {
    let t = TestDir::new();
    t.write(
        "clean.py",
        "print('hello')\npassword = os.environ['DB_PASSWORD']\n",
    );
    let r = run(t.ferret().args(["scan", "."]));
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("0 findings"), "{}", r.stderr);
}

#[test]
fn exit_1_when_a_secret_is_found() {
    let t = TestDir::new();
    let token = Gen::new(1).github_pat();
    t.write("app/.env", format!("DEBUG=1\nGITHUB_TOKEN={token}\n"));
    let r = run(t.ferret().args(["scan", "app"]));
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert!(r.stdout.contains("app/.env:2:14"), "{}", r.stdout);
    assert!(r.stdout.contains("github.pat.classic"));
    assert!(r.stdout.contains("github-crc32 passed"));
    assert!(r.stderr.contains("1 findings"), "{}", r.stderr);
}

#[test]
fn exit_2_on_bad_arguments_and_bad_rules() {
    let t = TestDir::new();
    assert_eq!(
        run(t.ferret().args(["scan", "--format", "xml", "."])).code,
        2
    );
    assert_eq!(run(t.ferret().args(["frobnicate"])).code, 2);
    t.write("bad.toml", "[[rule]]\nid = \"x\"\n");
    let r = run(t.ferret().args(["scan", "--rules", "bad.toml", "."]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.toml"), "{}", r.stderr);
}

#[test]
fn exit_2_when_an_item_fails_and_nothing_is_found() {
    let t = TestDir::new();
    t.write("ok.txt", "nothing here\n");
    std::os::unix::fs::symlink(t.path().join("missing"), t.path().join("dangling")).unwrap();
    // A named path that cannot be read is an error; the rest is still scanned.
    let r = run(t.ferret().args(["scan", "dangling", "ok.txt"]));
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("dangling"), "{}", r.stderr);
    assert!(r.stderr.contains("broken symbolic link"), "{}", r.stderr);
    assert!(r.stderr.contains("1 errors"), "{}", r.stderr);
}

#[test]
fn findings_win_over_item_errors() {
    let t = TestDir::new();
    t.write(
        "leak.env",
        format!("AWS_ACCESS_KEY_ID={}\n", Gen::new(2).aws_key_id()),
    );
    let r = run(t.ferret().args(["scan", "does-not-exist", "leak.env"]));
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("does-not-exist"), "{}", r.stderr);
}

#[test]
fn help_and_version() {
    let r = run(crate::common::ferret().arg("--help"));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("scan"));
    let r = run(crate::common::ferret().args(["scan", "--help"]));
    assert!(r.stdout.contains("--show-secrets"));
    assert!(r.stdout.contains("--max-file-size"));
    let r = run(crate::common::ferret().arg("--version"));
    assert!(r.stdout.starts_with("ferret "));
}

#[test]
fn output_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestDir::new();
    t.write("a.env", format!("HF_TOKEN={}\n", Gen::new(3).huggingface()));
    let r = run(t
        .ferret()
        .args(["scan", "a.env", "-f", "json", "-o", "out.json"]));
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "", "the report goes to the file, not stdout");
    let meta = std::fs::metadata(t.path().join("out.json")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("out.json")).unwrap()).unwrap();
    assert_eq!(doc["findings"][0]["rule_id"], "huggingface.token");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let t = TestDir::new();
    t.write("a.env", format!("HF_TOKEN={}\n", Gen::new(4).huggingface()));
    let r = run(t.ferret().args(["scan", "a.env", "--color", "always"]));
    assert!(r.stdout.contains("\x1b["), "--color always colours");
    let r = run(t.ferret().args(["scan", "a.env"]).env("NO_COLOR", "1"));
    assert!(!r.stdout.contains("\x1b["));
    // Not a terminal: auto means no colour.
    let r = run(t.ferret().args(["scan", "a.env"]));
    assert!(!r.stdout.contains("\x1b["));
}

#[test]
fn stdin_is_scanned_with_dash() {
    let t = TestDir::new();
    let key = Gen::new(5).anthropic();
    let input = format!("line one\nx-api-key: {key}\n");
    let r = run_stdin(
        t.ferret().args(["scan", "-", "-f", "json"]),
        input.as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let f = &doc["findings"][0];
    assert_eq!(f["rule_id"], "anthropic.api-key");
    assert_eq!(f["path"], "<stdin>");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 12);
}

#[test]
fn broken_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let t = TestDir::new();
    let mut g = Gen::new(6);
    let mut text = String::new();
    for _ in 0..2000 {
        text.push_str(&format!("GITHUB_TOKEN={}\n", g.github_pat()));
    }
    t.write("many.env", text);
    let mut child = t
        .ferret()
        .args(["scan", "many.env", "-f", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings were seen before the pipe closed"
    );
}

#[test]
fn the_report_being_written_is_not_scanned() {
    let t = TestDir::new();
    t.write("a.env", format!("T={}\n", Gen::new(7).github_pat()));
    // The report lands inside the scanned folder, with the secret in it (--show-secrets).
    for _ in 0..2 {
        let r = run(t.ferret().args([
            "scan",
            ".",
            "-f",
            "json",
            "--show-secrets",
            "-o",
            "out.json",
        ]));
        assert_eq!(r.code, 1);
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(t.path().join("out.json")).unwrap()).unwrap();
        assert_eq!(doc["summary"]["files"], 1, "out.json was scanned: {doc:#}");
        assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn stdin_bytes_are_counted() {
    let t = TestDir::new();
    let r = run_stdin(t.ferret().args(["scan", "-", "-f", "json"]), &[b'x'; 12345]);
    assert_eq!(r.json()["summary"]["bytes"], 12345);
}

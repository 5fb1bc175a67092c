//! What the walk scans and skips, and inputs that must not crash or stop the scan.

use crate::common::secrets::Gen;
use crate::common::{TestDir, rule_ids};

fn paths(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn excludes_prune_files_and_folders_but_not_named_files() {
    let t = TestDir::new();
    let mut g = Gen::new(10);
    t.write("keep/a.env", format!("TOKEN={}\n", g.github_pat()));
    t.write(
        "node_modules/pkg/b.env",
        format!("TOKEN={}\n", g.github_pat()),
    );
    t.write("keep/c.min.js", format!("var t=\"{}\";\n", g.github_pat()));
    let (_, doc) = t.scan_json(&[".", "--exclude", "node_modules", "--exclude", "*.min.js"]);
    assert_eq!(paths(&doc), ["keep/a.env"]);
    // A file named on the command line is scanned even if it matches an exclude.
    let (_, doc) = t.scan_json(&["keep/c.min.js", "--exclude", "*.min.js"]);
    assert_eq!(paths(&doc), ["keep/c.min.js"]);
}

#[test]
fn max_file_size_skips_with_a_warning() {
    let t = TestDir::new();
    let mut g = Gen::new(11);
    t.write("small.env", format!("T={}\n", g.github_pat()));
    t.write(
        "big.log",
        format!("{}\nT={}\n", "x".repeat(5000), g.github_pat()),
    );
    let (r, doc) = t.scan_json(&[".", "--max-file-size", "1K"]);
    assert_eq!(r.code, 1);
    assert_eq!(paths(&doc), ["small.env"]);
    assert!(r.stderr.contains("big.log"), "{}", r.stderr);
    assert!(r.stderr.contains("--max-file-size"), "{}", r.stderr);
    assert_eq!(doc["summary"]["skipped"], 1);
    assert_eq!(doc["summary"]["errors"], 0);
}

#[test]
fn symlinks_are_not_followed_unless_asked() {
    let t = TestDir::new();
    t.write(
        "outside/secret.env",
        format!("T={}\n", Gen::new(12).github_pat()),
    );
    std::fs::create_dir_all(t.path().join("tree")).unwrap();
    std::os::unix::fs::symlink(t.path().join("outside"), t.path().join("tree/link")).unwrap();
    let (r, doc) = t.scan_json(&["tree"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(paths(&doc).is_empty());
    assert_eq!(doc["summary"]["skipped"], 1);
    let (_, doc) = t.scan_json(&["tree", "--follow-symlinks"]);
    assert_eq!(paths(&doc), ["tree/link/secret.env"]);
}

#[test]
fn symlink_loops_are_reported_not_followed_forever() {
    let t = TestDir::new();
    std::fs::create_dir_all(t.path().join("a/b")).unwrap();
    std::os::unix::fs::symlink(t.path().join("a"), t.path().join("a/b/up")).unwrap();
    t.write("a/x.env", format!("T={}\n", Gen::new(13).github_pat()));
    let (r, doc) = t.scan_json(&["a", "--follow-symlinks"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link loop"), "{}", r.stderr);
    assert_eq!(paths(&doc), ["a/x.env"]);
}

#[test]
fn fifos_are_skipped_with_a_warning() {
    let t = TestDir::new();
    t.write("x.env", format!("T={}\n", Gen::new(14).github_pat()));
    let fifo = t.path().join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let (r, doc) = t.scan_json(&["."]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("pipe: a FIFO, not scanned"),
        "{}",
        r.stderr
    );
    assert_eq!(paths(&doc), ["x.env"]);
    // Named explicitly, it is what the user asked for: read as a stream (issue 21, item 4;
    // tests/hostile.rs has `<(…)` and `/dev/stdin`).
    let token = Gen::new(15).github_pat();
    let writer = {
        let (fifo, token) = (fifo.clone(), token.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(format!("T={token}\n").as_bytes()).unwrap();
        })
    };
    let (r, doc) = t.scan_json(&["pipe", "x.env"]);
    writer.join().unwrap();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(paths(&doc), ["pipe", "x.env"]);
}

#[test]
fn devices_are_skipped() {
    let t = TestDir::new();
    let (r, doc) = t.scan_json(&["/dev/zero"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("a character device"), "{}", r.stderr);
    assert_eq!(doc["summary"]["skipped"], 1);
}

#[test]
fn odd_bytes_do_not_stop_the_scan() {
    let t = TestDir::new();
    let mut g = Gen::new(15);
    let token = g.github_pat();
    t.write("empty.txt", "");
    let mut binary = vec![0u8, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0, 0, 0];
    binary.extend_from_slice(format!("\0\0TOKEN={token}\0").as_bytes());
    binary.push(0xff);
    binary.extend_from_slice(&[0xf0, 0x28, 0x8c, 0x28]);
    t.write("blob.bin", &binary);
    let utf16: Vec<u8> = "hello wörld\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    t.write("utf16.txt", utf16);
    let (r, doc) = t.scan_json(&["."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(paths(&doc), ["blob.bin"]);
    assert_eq!(doc["summary"]["files"], 3);
    assert_eq!(doc["summary"]["errors"], 0);
    assert_eq!(doc["findings"][0]["offset"], 17);
}

#[test]
fn a_gigabyte_without_newlines_is_scanned_to_its_end() {
    // Sparse: a 1 GiB file of zero bytes costs no disk, but every byte is read and scanned.
    let t = TestDir::new();
    let path = t.path().join("huge.bin");
    let token = Gen::new(16).github_pat();
    let tail = format!("TOKEN={token}");
    let len: u64 = 1 << 30;
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(&path).unwrap();
        f.set_len(len).unwrap();
        f.seek(SeekFrom::Start(len - tail.len() as u64)).unwrap();
        f.write_all(tail.as_bytes()).unwrap();
    }
    for mmap in ["auto", "never"] {
        let (r, doc) = t.scan_json(&["huge.bin", "--mmap", mmap]);
        assert_eq!(r.code, 1, "{mmap}: {}", r.stderr);
        assert_eq!(rule_ids(&doc), ["github.pat.classic"], "{mmap}");
        let f = &doc["findings"][0];
        assert_eq!(f["line"], 1);
        assert_eq!(f["offset"], len - token.len() as u64);
        // Columns count code points: zero bytes are one each.
        assert_eq!(f["column"], len - token.len() as u64 + 1);
        assert_eq!(doc["summary"]["bytes"], len);
    }
}

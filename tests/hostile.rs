//! Hostile inputs, made by code: each must end without a panic or a hang, stay under a stated
//! peak-memory bound (read by ferret itself from /proc/self/status and reported in the JSON
//! summary), warn with the item and the reason, and still report the findings elsewhere in the
//! same scan. Timeouts here are hang detectors, not speed assertions.

use std::io::Write;
use std::time::Duration;

use crate::common::make;
use crate::common::secrets::Gen;
use crate::common::{Run, TestDir};

/// Runs `ferret scan -f json ARGS` in `t`, killing it after `limit` (a hang). Output is read
/// while it runs, so a large report cannot block it on a full pipe.
fn scan(t: &TestDir, args: &[&str], limit: Duration) -> (Run, serde_json::Value) {
    let child = t
        .ferret()
        .args(["scan", "-f", "json"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            panic!("ferret hung on {args:?}");
        }
    };
    let r: Run = out.into();
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let doc = r.json();
    (r, doc)
}

/// A clean file with one known secret, scanned beside each hostile input.
fn witness(t: &TestDir) -> String {
    let token = Gen::new(90).github_pat();
    t.write("witness.env", format!("GITHUB_TOKEN={token}\n"));
    token
}

fn assert_witness(doc: &serde_json::Value) {
    let found = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "witness.env" && f["rule_id"] == "github.pat.classic");
    assert!(found, "the witness secret was lost: {doc:#}");
}

fn peak_mib(doc: &serde_json::Value) -> u64 {
    doc["summary"]["peak_rss_bytes"].as_u64().unwrap() >> 20
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn zip_bomb_of_a_gigabyte_of_zeros() {
    let t = TestDir::new();
    witness(&t);
    // 1 GiB of zeros deflates to about 1 MiB: ratio ~1000.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().large_file(true);
    w.start_file("zeros.bin", opts).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        w.write_all(&block).unwrap();
    }
    t.write("bomb.zip", w.finish().unwrap().into_inner());
    let (r, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    assert!(
        r.stderr
            .contains("bomb.zip › zeros.bin: compression ratio over --max-ratio"),
        "{}",
        r.stderr
    );
    assert!(peak_mib(&doc) < 200, "peak RSS {} MiB", peak_mib(&doc));
}

#[test]
fn ten_thousand_levels_of_gzip() {
    let t = TestDir::new();
    witness(&t);
    let mut blob = b"the innermost level".to_vec();
    for _ in 0..10_000 {
        blob = make::gzip_stored(&blob);
    }
    t.write("deep.gz", &blob);
    let (r, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    assert!(
        r.stderr
            .contains("deep.gz: nesting deeper than --max-depth 12"),
        "{}",
        r.stderr
    );
    // The largest depth allowed does not overflow the stack either.
    let (r, doc) = scan(&t, &[".", "--max-depth", "100"], MINUTE);
    assert_witness(&doc);
    assert!(r.stderr.contains("--max-depth 100"), "{}", r.stderr);
    assert!(peak_mib(&doc) < 300, "peak RSS {} MiB", peak_mib(&doc));
}

#[test]
fn self_nesting_archives_stop_at_the_depth_budget() {
    // The same zip nested in itself, level after level: a bounded stand-in for a quine.
    let t = TestDir::new();
    witness(&t);
    let mut blob = make::zip(&[("r.zip", b"PK")], false);
    for _ in 0..200 {
        blob = make::zip(&[("r.zip", &blob)], true);
    }
    t.write("r.zip", &blob);
    let (r, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    assert!(
        r.stderr.contains("nesting deeper than --max-depth"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_million_tiny_entries() {
    let t = TestDir::new();
    witness(&t);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let token = Gen::new(91).huggingface();
    for i in 0..1_000_000u32 {
        w.start_file(format!("{i:07}"), opts).unwrap();
        if i == 765_432 {
            w.write_all(format!("HF_TOKEN={token}\n").as_bytes())
                .unwrap();
        } else {
            w.write_all(b"x").unwrap();
        }
    }
    t.write("many.zip", w.finish().unwrap().into_inner());
    let (r, doc) = scan(&t, &["."], 5 * MINUTE);
    assert_witness(&doc);
    let inner = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["location"] == "many.zip › 0765432:1:10");
    assert!(inner, "{}", r.stdout);
    assert!(peak_mib(&doc) < 768, "peak RSS {} MiB", peak_mib(&doc));
    // The entry budget cuts it short, with a warning.
    let (r, doc) = scan(&t, &[".", "--max-entries", "1000"], 5 * MINUTE);
    assert_witness(&doc);
    assert!(
        r.stderr
            .contains("many.zip: more than --max-entries 1000 entries"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_four_gigabyte_line() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(92).anthropic();
    let tail = format!(" key={token}");
    let len: u64 = 4 << 30;
    {
        use std::io::{Seek, SeekFrom};
        let mut f = std::fs::File::create(t.path().join("line.txt")).unwrap();
        f.set_len(len).unwrap();
        f.seek(SeekFrom::Start(len - tail.len() as u64)).unwrap();
        f.write_all(tail.as_bytes()).unwrap();
    }
    let (r, doc) = scan(&t, &["."], 5 * MINUTE);
    assert_witness(&doc);
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "line.txt")
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(f["line"], 1);
    assert_eq!(f["column"], len - token.len() as u64 + 1);
    assert!(peak_mib(&doc) < 200, "peak RSS {} MiB", peak_mib(&doc));
}

#[test]
fn truncated_and_garbage_compressed_streams() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(93);
    let mut text = String::new();
    for _ in 0..4000 {
        text.push_str(&format!("{}\n", g.password()));
    }
    let gz = make::gzip(text.as_bytes());
    let zst = make::zstd(text.as_bytes());
    t.write("cut.gz", &gz[..gz.len() / 3]);
    t.write("cut.zst", &zst[..zst.len() / 3]);
    t.write(
        "garbage.gz",
        b"\x1f\x8b\x08\x00\xff\xff\xff\xffnot deflate at all",
    );
    t.write("garbage.zst", b"\x28\xb5\x2f\xfd\x00\x00 nonsense");
    t.write("header-only.tar.gz", make::gzip(&[0u8; 100]));
    let (r, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    for name in ["cut.gz", "cut.zst", "garbage.gz", "garbage.zst"] {
        assert!(
            r.stderr.contains(name),
            "no warning for {name}: {}",
            r.stderr
        );
    }
    assert!(doc["summary"]["errors"].as_u64().unwrap() >= 4);
    assert_eq!(r.code, 1);
}

#[test]
fn safetensors_with_an_absurd_header_length() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(94).github_pat();
    let mut bytes = (1u64 << 63).to_le_bytes().to_vec();
    bytes.extend_from_slice(format!("{{\"__metadata__\":{{\"t\":\"{token}\"}}}}").as_bytes());
    t.write("evil.safetensors", &bytes);
    let (_, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    // Not believed as a header length: the file is scanned as bytes, and the token found.
    let found = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "evil.safetensors");
    assert!(found);
}

#[test]
fn invalid_utf8_and_utf16_text() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(95).github_pat();
    let mut bad = vec![
        0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc,
    ];
    bad.extend_from_slice(format!(" T={token} \u{fffd}").as_bytes());
    bad.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    t.write("bad.txt", &bad);
    let utf16: Vec<u8> = format!("T={token}\n")
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    t.write("utf16.txt", utf16);
    let (_, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "bad.txt")
        .unwrap();
    // Columns count UTF-8 lead bytes: each broken sequence counts once, stray continuation
    // bytes not at all.
    assert_eq!(f["column"], 10);
}

#[test]
fn regex_worst_cases_for_every_rule() {
    // For each rule: its keywords packed densely with long runs of the characters its regexes
    // consume, so that every window merges and every regex runs over the whole input.
    let rules = ferret::RuleSet::builtin().unwrap();
    let t = TestDir::new();
    witness(&t);
    for (i, rule) in rules.iter().enumerate() {
        let mut text = String::new();
        while text.len() < 256 * 1024 {
            for k in &rule.spec.keywords {
                text.push_str(k);
                text.push_str(&"A1_-".repeat(24));
                text.push('=');
                text.push_str(k);
                text.push('"');
            }
        }
        t.write(&format!("worst/{i:03}.txt"), text);
    }
    let (_, doc) = scan(&t, &["."], 5 * MINUTE);
    assert_witness(&doc);
    assert!(peak_mib(&doc) < 300, "peak RSS {} MiB", peak_mib(&doc));
}

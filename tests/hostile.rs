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

/// Pickle building blocks (protocol 0 to 5 opcodes with their arguments).
mod pk {
    pub fn short_unicode(s: &str) -> Vec<u8> {
        let mut v = vec![0x8c, s.len() as u8];
        v.extend_from_slice(s.as_bytes());
        v
    }
    pub fn unicode4(s: &str) -> Vec<u8> {
        let mut v = vec![b'X'];
        v.extend_from_slice(&(s.len() as u32).to_le_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    }
    pub fn unicode8(s: &str) -> Vec<u8> {
        let mut v = vec![0x8d];
        v.extend_from_slice(&(s.len() as u64).to_le_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    }
    /// An opcode with a 1-, 4- or 8-byte little-endian length and a payload.
    pub fn sized(op: u8, width: usize, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![op];
        v.extend_from_slice(&(payload.len() as u64).to_le_bytes()[..width]);
        v.extend_from_slice(payload);
        v
    }
}

/// A pickle that uses every opcode of protocols 0 to 5, with secrets in the places each kind
/// of opcode puts a string: a dict value, a protocol-0 text line, bytes, an object's state
/// (BUILD), a memo reference and a persistent id.
fn pickle_of_every_opcode(s: &[String; 6]) -> Vec<u8> {
    use pk::*;
    let mut p: Vec<u8> = vec![0x80, 5]; // PROTO 5
    p.extend([0x95]); // FRAME (length: the rest, approximately; the walker must not trust it)
    p.extend(1000u64.to_le_bytes());
    p.extend(b"}\x94("); // EMPTY_DICT MEMOIZE MARK
    // hub_token: BINUNICODE8 secret 0
    p.extend(short_unicode("hub_token"));
    p.extend(unicode8(&s[0]));
    // consts: NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 INT LONG FLOAT LONG1 LONG4 BINFLOAT
    p.extend(short_unicode("consts"));
    p.extend(b"(NP\x88\x89J\x01\x00\x00\x00K\x02M\x03\x00I42\nL42L\nF1.5\n");
    p.extend([0x8a, 1, 5, 0x8b, 1, 0, 0, 0, 6, b'G']);
    p.extend(1.5f64.to_be_bytes());
    p.extend(b"t"); // TUPLE
    // text: protocol-0 STRING with secret 1, UNICODE, BINSTRING, SHORT_BINSTRING
    p.extend(short_unicode("text"));
    p.extend(format!("(S'token={}'\nVplain\n", s[1]).as_bytes());
    p.extend(sized(b'T', 4, b"binstring"));
    p.extend(sized(b'U', 1, b"short"));
    p.extend(b"t");
    // bytes: BINBYTES (secret 2), SHORT_BINBYTES, BINBYTES8, BYTEARRAY8, BINUNICODE
    p.extend(short_unicode("bytes"));
    p.extend(b"(");
    p.extend(sized(b'B', 4, format!("HF_TOKEN={}", s[2]).as_bytes()));
    p.extend(sized(b'C', 1, b"sb"));
    p.extend(sized(0x8e, 8, b"b8"));
    p.extend(sized(0x96, 8, b"ba8"));
    p.extend(unicode4("u4"));
    p.extend(b"t");
    // lists: EMPTY_LIST APPEND, MARK APPENDS, LIST, DUP POP, POP_MARK, TUPLE1..3, EMPTY_TUPLE
    p.extend(short_unicode("lists"));
    p.extend(b"]K\x01a(K\x02K\x03e(K\x04l"); // [1, 2, 3] and [4]
    p.extend(b"2aa"); // DUP [4], append it to itself (a cycle), append [4] to [1, 2, 3]
    p.extend(b"K\x050"); // push, POP
    p.extend(b"(K\x06K\x071"); // MARK, two items, POP_MARK
    p.extend([
        b'K', 8, 0x85, b'K', 9, b'K', 10, 0x86, b'K', 11, b'K', 12, b'K', 13, 0x87,
    ]);
    p.extend(b")0"); // EMPTY_TUPLE, POP
    p.extend([0x87, b'a']); // TUPLE3 of the three tuples, appended to the list
    // sets: EMPTY_SET MARK ADDITEMS, MARK FROZENSET
    p.extend(short_unicode("sets"));
    p.extend([0x8f, b'(', b'K', 1, 0x90, b'(', b'K', 2, 0x91, 0x86]);
    // objects: GLOBAL + NEWOBJ + BUILD with secret 3 in the state; STACK_GLOBAL + NEWOBJ_EX;
    // REDUCE; INST; OBJ
    p.extend(short_unicode("args"));
    p.extend(b"c__main__\nArgs\n)\x81}");
    p.extend(short_unicode("wandb_api_key"));
    p.extend(short_unicode(&s[3]));
    p.extend(b"sb"); // SETITEM, BUILD
    p.extend(short_unicode("ex"));
    p.extend(short_unicode("collections"));
    p.extend(short_unicode("OrderedDict"));
    p.extend([0x93, b')', b'}', 0x92]);
    p.extend(short_unicode("reduce"));
    p.extend(b"c__builtin__\nset\n(K\x01tR");
    p.extend(short_unicode("inst"));
    p.extend(b"(K\x01i__main__\nC\n");
    p.extend(short_unicode("obj"));
    p.extend(b"(c__main__\nC\nK\x02o");
    // memo: PUT/GET, BINPUT/BINGET, LONG_BINPUT/LONG_BINGET; secret 4 reached through GET
    p.extend(short_unicode("memo"));
    p.extend(short_unicode(&s[4]));
    p.extend(b"p5\n0g5\n");
    p.extend(short_unicode("memo2"));
    p.extend(b"K\x01q\x060h\x06");
    p.extend(short_unicode("memo3"));
    p.extend(b"K\x02r\x07\x00\x00\x000j\x07\x00\x00\x00");
    // persistent ids: PERSID (secret 5 in its text line), BINPERSID
    p.extend(short_unicode("persid"));
    p.extend(format!("Ptoken={}\n", s[5]).as_bytes());
    p.extend(short_unicode("binpersid"));
    p.extend(short_unicode("storage"));
    p.extend(b"Q");
    // extensions and out-of-band buffers: EXT1 EXT2 EXT4, NEXT_BUFFER READONLY_BUFFER
    p.extend(short_unicode("ext"));
    p.extend([0x82, 1, 0x83, 2, 0, 0x84, 3, 0, 0, 0, 0x87]);
    p.extend(short_unicode("buffers"));
    p.extend([0x97, 0x98]);
    // DICT: MARK k v DICT
    p.extend(short_unicode("dict"));
    p.extend(b"(");
    p.extend(short_unicode("k"));
    p.extend(b"K\x01d");
    p.extend(b"u."); // SETITEMS, STOP
    p
}

#[test]
fn pickles_with_every_opcode_garbage_arguments_and_deep_nesting() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(95);
    let s: [String; 6] = std::array::from_fn(|_| g.github_pat());
    t.write("every.pkl", pickle_of_every_opcode(&s));

    // Every opcode byte (all 256) followed by garbage arguments (all ones: huge lengths,
    // memo indexes, counts), then a secret: the walk stops, and the rest is scanned as bytes.
    let tail = Gen::new(96).github_pat();
    for op in 0..=255u8 {
        let mut p = vec![0x80, 4, op];
        p.extend([0xff; 16]);
        p.extend(b"\n");
        p.extend(pk::short_unicode(&tail));
        p.extend(b".");
        t.write(&format!("garbage/{op:03}.pkl"), p);
    }

    // A million nested lists with a secret at the bottom, and two million open marks.
    let deep_token = Gen::new(97).huggingface();
    let n = 1_000_000;
    let mut p = vec![0x80, 2];
    p.extend(std::iter::repeat_n(b']', n));
    p.extend(pk::short_unicode(&deep_token));
    p.extend(std::iter::repeat_n(b'a', n));
    p.extend(b".");
    t.write("deep-lists.pkl", p);
    let marks_token = Gen::new(98).huggingface();
    let mut p = vec![0x80, 2];
    p.extend(std::iter::repeat_n(b'(', 2 * n));
    p.extend(pk::short_unicode(&marks_token));
    p.extend(b".");
    t.write("marks.pkl", p);

    let (_, doc) = scan(&t, &["."], 5 * MINUTE);
    assert_witness(&doc);
    let findings = doc["findings"].as_array().unwrap();
    let at = |path: &str, secret_start: &str| {
        findings.iter().any(|f| {
            f["path"] == path
                && f["masked"]
                    .as_str()
                    .is_some_and(|m| secret_start.starts_with(m.trim_end_matches('*')))
        })
    };
    let locations: Vec<&str> = findings
        .iter()
        .filter(|f| f["path"] == "every.pkl")
        .map(|f| f["location"].as_str().unwrap())
        .collect();
    // Each of the six secrets of the every-opcode pickle, by its place.
    for want in [
        "every.pkl › pickle:hub_token:1:1",
        "every.pkl › pickle:text[0]:1:7",
        "every.pkl › pickle:bytes[0]:1:10",
        "every.pkl › pickle:args.wandb_api_key:1:1",
        "every.pkl › pickle:memo:1:1",
    ] {
        assert!(locations.contains(&want), "{want} not in {locations:#?}");
    }
    assert!(
        locations.iter().any(|l| l.contains("persid")),
        "{locations:#?}"
    );
    assert_eq!(locations.len(), 6, "{locations:#?}");
    // Every garbage pickle still gives up its secret.
    for op in 0..=255u8 {
        let path = format!("garbage/{op:03}.pkl");
        assert!(
            at(&path, &tail),
            "opcode {op:#04x}: the secret after it was lost"
        );
    }
    assert!(at("deep-lists.pkl", &deep_token));
    assert!(at("marks.pkl", &marks_token));
    // Bound: the million-deep stack is modelled, not recursed into.
    assert!(peak_mib(&doc) < 512, "peak RSS {} MiB", peak_mib(&doc));
}

#[test]
fn a_notebook_with_a_million_cells() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(99).huggingface();
    let n = 1_000_000;
    let mut nb = String::with_capacity(n * 60);
    nb.push_str("{\"nbformat\": 4, \"nbformat_minor\": 5, \"metadata\": {}, \"cells\": [");
    for i in 0..n {
        if i > 0 {
            nb.push(',');
        }
        if i == n - 1 {
            nb.push_str(&format!(
                "{{\"cell_type\":\"code\",\"metadata\":{{}},\"outputs\":[],\"source\":[\"login(token=\\\"{token}\\\")\\n\"]}}"
            ));
        } else {
            nb.push_str("{\"cell_type\":\"code\",\"metadata\":{},\"outputs\":[],\"source\":[\"x = 1\\n\"]}\n");
        }
    }
    nb.push_str("]}\n");
    t.write("huge.ipynb", &nb);
    let (_, doc) = scan(&t, &["."], 5 * MINUTE);
    assert_witness(&doc);
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "huge.ipynb")
        .expect("the secret in the last cell");
    assert_eq!(f["location"], "huge.ipynb › cells[999999].source:1:14");
    assert_eq!(f["file_line"], 1_000_000);
    // Bound: a 62 MB notebook; its cells are parsed and scanned in batches.
    assert!(peak_mib(&doc) < 512, "peak RSS {} MiB", peak_mib(&doc));
}

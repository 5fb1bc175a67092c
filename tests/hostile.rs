//! Hostile inputs, made by code: each must end without a panic or a hang, stay under a stated
//! peak-memory bound (read by ferret itself from /proc/self/status and reported in the JSON
//! summary), warn with the item and the reason, and still report the findings elsewhere in the
//! same scan. Timeouts here are hang detectors, not speed assertions.

use std::io::Write;
use std::time::Duration;

use crate::common::make;
use crate::common::secrets::Gen;
use crate::common::{Run, TestDir, run_stdin};

/// Runs `ferret scan -f json ARGS` in `t`, killing it after `limit` (a hang). Output is read
/// while it runs, so a large report cannot block it on a full pipe.
pub fn scan(t: &TestDir, args: &[&str], limit: Duration) -> (Run, serde_json::Value) {
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

// ---------------------------------------------------------------------------------------------
// Issue 21, secrets shown through a side door and the output side (items 1-4, 10, 14).

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Whether `text` shows any 12-byte piece of `secret` after its first `public` bytes (the
/// public prefix a mask keeps, `ghp_`).
fn shows(text: &str, secret: &str, public: usize) -> Option<String> {
    let s = &secret.as_bytes()[public..];
    s.windows(12)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .find(|w| text.contains(w.as_str()))
}

fn assert_hidden(what: &str, text: &str, secrets: &[(&str, usize)]) {
    for (secret, public) in secrets {
        if let Some(piece) = shows(text, secret, *public) {
            panic!("{what} shows {piece:?} of a secret in clear:\n{text}");
        }
    }
}

/// Runs ferret with `args` in `t` (stdin from `stdin` if given), with a hang detector.
fn ferret_run(t: &TestDir, args: &[&str], stdin: Option<std::fs::File>) -> Run {
    let mut cmd = t.ferret();
    cmd.args(args);
    if let Some(f) = stdin {
        cmd.stdin(f);
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(2 * MINUTE) {
        Ok(out) => {
            let r: Run = out.unwrap().into();
            assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
            r
        }
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            panic!("ferret hung on {args:?}");
        }
    }
}

/// Item 1: a line with a password and a token: the token's context must not show the
/// password; an escaped second token in a JSON line must not show in the first one's context.
/// Every format, the HTML report, `redact --report` and the `--state` file.
#[test]
fn a_context_never_shows_another_secret_in_clear() {
    let t = TestDir::new();
    let witness_token = witness(&t);
    let mut g = Gen::new(2101);
    let password = g.string(ALNUM, 60);
    let gh1 = g.github_pat();
    let gh2 = g.github_pat();
    let gh3 = g.github_pat();
    let escaped = gh3.replacen('_', "\\u005f", 1);
    let env = format!("password = \"{password}\" GITHUB_TOKEN={gh1}\n");
    let json = format!("{{\"A\":\"{gh2}\",\"note\":\"{escaped}\"}}\n");
    t.write("a.env", &env);
    t.write("b.json", &json);
    let secrets = [
        (password.as_str(), 0),
        (gh1.as_str(), 4),
        (gh2.as_str(), 4),
        (gh3.as_str(), 4),
        (witness_token.as_str(), 4),
    ];
    let (_, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    let found = |path: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] == path && f["rule_id"] == "github.pat.classic")
            .count()
    };
    assert_eq!((found("a.env"), found("b.json")), (1, 2), "{doc:#}");
    for args in [
        &["scan", "-f", "text", "."][..],
        &["scan", "-f", "json", "."],
        &["scan", "-f", "jsonl", "."],
        &["scan", "-f", "sarif", "."],
        &["scan", "-f", "gitlab", "."],
        &["scan", "-f", "json", "--group", "secret", "."],
        &["scan", "-f", "text", "--group", "secret", "."],
    ] {
        let r = ferret_run(&t, args, None);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert_hidden(&format!("{args:?}"), &r.stdout, &secrets);
        assert_hidden(&format!("{args:?} stderr"), &r.stderr, &secrets);
    }
    // The HTML and Markdown reports, from a saved result.
    let r = ferret_run(&t, &["scan", "-f", "json", "-o", "r.json", "."], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for format in ["html", "markdown"] {
        let out = format!("r.{format}");
        let r = ferret_run(&t, &["report", "-f", format, "-o", &out, "r.json"], None);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let page = std::fs::read_to_string(t.path().join(&out)).unwrap();
        assert_hidden(format, &page, &secrets);
    }
    // `redact --report`, both formats.
    for format in ["json", "jsonl"] {
        let input = std::fs::File::open(t.path().join("a.env")).unwrap();
        let out = format!("redact.{format}");
        let r = ferret_run(
            &t,
            &["redact", "--report", &out, "--report-format", format],
            Some(input),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_hidden("redact output", &r.stdout, &secrets);
        let report = std::fs::read_to_string(t.path().join(&out)).unwrap();
        assert!(report.contains("github.pat.classic"), "{report}");
        assert_hidden(&format!("redact --report {format}"), &report, &secrets);
    }
    // The state file, and the findings it replays.
    for _ in 0..2 {
        let r = ferret_run(&t, &["scan", "-f", "json", "--state", "st.db", "."], None);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_hidden("scan --state", &r.stdout, &secrets);
    }
    let state = std::fs::read(t.path().join("st.db")).unwrap();
    assert_hidden("the state file", &String::from_utf8_lossy(&state), &secrets);
}

/// Item 2: `ferret redact` reads a long line in batches; a token across the cut at 8 MiB must
/// be masked (and counted) like any other.
#[test]
fn redact_masks_a_token_across_the_batch_cut_of_a_long_line() {
    let t = TestDir::new();
    let token = Gen::new(2102).github_pat();
    let cut = 8 << 20;
    let start = cut - token.len() / 2;
    let len = 9 << 20;
    let mut input = vec![b' '; len];
    input[..7].copy_from_slice(b"prefix ");
    input[start..start + token.len()].copy_from_slice(token.as_bytes());
    let witness = Gen::new(2103).github_pat();
    input.extend_from_slice(format!("\nGITHUB_TOKEN={witness}\n").as_bytes());
    t.write("long.txt", &input);
    let stdin = std::fs::File::open(t.path().join("long.txt")).unwrap();
    let r = ferret_run(&t, &["redact", "--report", "found.json"], Some(stdin));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(&witness[4..]), "the witness leaked");
    assert!(
        !r.stdout.contains(&token[4..20]) && !r.stdout.contains(&token[20..]),
        "the token across the batch cut leaked"
    );
    assert!(r.stderr.contains("redacted 2 secrets"), "{}", r.stderr);
    let expected = String::from_utf8(input)
        .unwrap()
        .replace(&token, "ghp_****")
        .replace(&witness, "ghp_****");
    assert!(r.stdout == expected, "the other bytes changed");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("found.json")).unwrap())
            .unwrap();
    let columns: Vec<u64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["column"].as_u64().unwrap())
        .collect();
    assert_eq!(columns, [start as u64 + 1, 14], "{report:#}");
}

/// What a terminal must never receive from an input's names.
fn assert_no_control(what: &str, text: &str) {
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && c != '\n' || ('\u{202a}'..='\u{202e}').contains(&c))
    {
        panic!("{what} holds the control character {c:?}:\n{text:?}");
    }
}

/// Item 3: names with escape sequences, CR and newlines (a file, a zip member) are shown with
/// their control characters escaped: in text output, in stderr warnings, on the progress line.
#[test]
fn names_cannot_drive_the_terminal_or_forge_lines() {
    let t = TestDir::new();
    witness(&t);
    let evil = "\x1b]0;PWNED\x07\x1b[2J\r\u{202e}forged.env:1:1: critical x\n.env";
    let token = Gen::new(2104).github_pat();
    t.write(evil, format!("GITHUB_TOKEN={token}\n"));
    // A zip member with the same name, and one whose gzip stream is cut off (a warning).
    let mut gz = make::gzip(format!("GITHUB_TOKEN={token}\n").repeat(2000).as_bytes());
    gz.truncate(gz.len() / 2);
    let member_gz = format!("{evil}.gz");
    t.write(
        "names.zip",
        make::zip(
            &[
                (evil, format!("TOKEN={token}\n").as_bytes()),
                (&member_gz, &gz),
            ],
            false,
        ),
    );
    for format in ["text", "json"] {
        let r = ferret_run(&t, &["scan", "-f", format, "."], None);
        assert_eq!(r.code, 1, "{}", r.stderr);
        if format == "text" {
            assert_no_control("text output", &r.stdout);
            // One line per finding header: no name forges a line of its own.
            assert!(
                !r.stdout.lines().any(|l| l.starts_with("forged")),
                "{}",
                r.stdout
            );
            assert!(r.stdout.contains("\\x1b]0;PWNED\\x07"), "{}", r.stdout);
        }
        assert_no_control("stderr", &r.stderr);
        assert!(
            r.stderr.contains("PWNED"),
            "no warning names the member: {}",
            r.stderr
        );
        assert!(
            !r.stderr.lines().any(|l| l.starts_with("forged")),
            "{}",
            r.stderr
        );
    }
    // The progress line shows counts, never names: drawn, it adds only its own sequences.
    let r = ferret_run(&t, &["scan", "-f", "json", "--progress", "."], None);
    assert!(!r.stderr.contains("PWNED\x07") && !r.stderr.contains("\x1b[2J"));
}

/// Item 4: a FIFO named on the command line is read as a stream (`ferret scan <(echo …)`);
/// one met inside a folder stays skipped, with a warning.
#[test]
fn a_fifo_named_on_the_command_line_is_read() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(2105).github_pat();
    let fifo = t.path().join("pipe");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(ok.success());
    let line = format!("GITHUB_TOKEN={token}\n");
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(line.as_bytes()).unwrap();
        })
    };
    let (r, doc) = scan(&t, &["pipe", "witness.env"], MINUTE);
    // A scan that did not open the FIFO leaves the writer waiting for a reader: be it.
    if !writer.is_finished() {
        use std::os::unix::fs::OpenOptionsExt;
        let _reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        writer.join().unwrap();
    }
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_witness(&doc);
    let piped = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "pipe" && f["line"] == 1 && f["column"] == 14);
    assert!(
        piped,
        "the FIFO named on the command line was not read: {doc:#}"
    );
    // `… | ferret scan /dev/stdin`.
    let r = run_stdin(
        t.ferret().args(["scan", "-f", "json", "/dev/stdin"]),
        format!("GITHUB_TOKEN={token}\n").as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.json()["findings"].as_array().unwrap().len(),
        1,
        "{}",
        r.stdout
    );
    // Inside a folder, a FIFO is skipped (no writer would ever come): a warning, and the scan
    // ends.
    let (r, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    assert!(
        r.stderr.contains("pipe: a FIFO, not scanned"),
        "{}",
        r.stderr
    );
}

/// Item 4: an item skipped by a budget, and no failing finding: exit 2 (ferret cannot vouch for
/// what it did not read), as the README says.
#[test]
fn a_budget_skip_without_findings_exits_2() {
    let t = TestDir::new();
    let mut blob = b"nothing here".to_vec();
    for _ in 0..20 {
        blob = make::gzip_stored(&blob);
    }
    t.write("deep.gz", &blob);
    t.write("big.txt", "x".repeat(4096));
    let r = ferret_run(&t, &["scan", "deep.gz"], None);
    assert!(r.stderr.contains("--max-depth"), "{}", r.stderr);
    assert_eq!(r.code, 2, "a depth skip: {}", r.stderr);
    let r = ferret_run(&t, &["scan", "--max-file-size", "1K", "."], None);
    assert!(r.stderr.contains("--max-file-size"), "{}", r.stderr);
    assert_eq!(r.code, 2, "a size skip: {}", r.stderr);
    // Without a skip, a clean scan exits 0.
    let r = ferret_run(&t, &["scan", "big.txt"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Item 14: every file ferret writes is created 0600 (or tightened if it was there), and an
/// output path that is a symbolic link is refused unless `--allow-output-symlink`.
#[test]
fn files_ferret_writes_are_private_and_symlinks_refused() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestDir::new();
    witness(&t);
    let mode = |p: &str| {
        std::fs::metadata(t.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    let loose = |p: &str| {
        t.write(p, "old");
        std::fs::set_permissions(t.path().join(p), std::fs::Permissions::from_mode(0o644)).unwrap();
    };
    // New files, and files that were there with 0644.
    for existing in [false, true] {
        for p in ["base.json", "out.json", "st.db", "rep.json", "page.html"] {
            let _ = std::fs::remove_file(t.path().join(p));
            if existing && p != "st.db" {
                loose(p);
            }
        }
        let r = ferret_run(
            &t,
            &["baseline", "create", "-o", "base.json", "witness.env"],
            None,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = ferret_run(
            &t,
            &["scan", "-f", "json", "-o", "out.json", "witness.env"],
            None,
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        let r = ferret_run(&t, &["scan", "--state", "st.db", "witness.env"], None);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let input = std::fs::File::open(t.path().join("witness.env")).unwrap();
        let r = ferret_run(&t, &["redact", "--report", "rep.json"], Some(input));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = ferret_run(&t, &["report", "-o", "page.html", "out.json"], None);
        assert_eq!(r.code, 0, "{}", r.stderr);
        for p in ["base.json", "out.json", "st.db", "rep.json", "page.html"] {
            assert_eq!(mode(p), 0o600, "{p} (existing: {existing})");
        }
    }
    // A state file made loose by someone else is tightened.
    std::fs::set_permissions(
        t.path().join("st.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let r = ferret_run(&t, &["scan", "--state", "st.db", "witness.env"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(mode("st.db"), 0o600);
    // A symbolic link at the output: refused, and the target is untouched.
    t.write("target.txt", "keep me");
    std::os::unix::fs::symlink(t.path().join("target.txt"), t.path().join("link.json")).unwrap();
    for args in [
        &["baseline", "create", "-o", "link.json", "witness.env"][..],
        &["scan", "-f", "json", "-o", "link.json", "witness.env"],
        &["report", "-o", "link.json", "out.json"],
    ] {
        let r = ferret_run(&t, args, None);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
        let kept = std::fs::read_to_string(t.path().join("target.txt")).unwrap();
        assert_eq!(kept, "keep me", "{args:?}");
    }
    let input = std::fs::File::open(t.path().join("witness.env")).unwrap();
    let r = ferret_run(&t, &["redact", "--report", "link.json"], Some(input));
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Asked for: followed.
    let r = ferret_run(
        &t,
        &[
            "scan",
            "-f",
            "json",
            "-o",
            "link.json",
            "--allow-output-symlink",
            "witness.env",
        ],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let target = std::fs::read_to_string(t.path().join("target.txt")).unwrap();
    assert!(target.contains("github.pat.classic"));
}

/// Runs ferret with `args` in `t`, and returns what it gave with its peak RSS in MiB as the
/// kernel counts it (`VmHWM` of `/proc/PID/status`, read every 5 ms while it runs), not as
/// ferret reports it.
fn ferret_measured(t: &TestDir, args: &[&str]) -> (Run, u64) {
    let child = t
        .ferret()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let mut peak = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kb) = std::fs::read_to_string(&status).ok().and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmHWM:"))
                        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                }) {
                    peak = peak.max(kb);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            peak >> 10
        })
    };
    let out = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = watcher.join().unwrap();
    let run: Run = out.into();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    (run, peak)
}

/// Item 10: a file of distinct short passwords (each one stretched for its fingerprint) scans
/// in bounded time: the hang detector would fire at minutes per megabyte.
#[test]
fn distinct_short_passwords_do_not_cost_minutes() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(2110);
    let mut text = String::new();
    while text.len() < 2 << 20 {
        text.push_str(&format!("password = \"{}\"\n", g.string(ALNUM, 14)));
    }
    t.write("passwords.txt", &text);
    let (r, doc) = scan(&t, &["."], 3 * MINUTE);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_witness(&doc);
    let findings = doc["findings"].as_array().unwrap();
    assert!(findings.len() > 50_000, "{}", findings.len());
    // Every finding has a fingerprint; equal secrets have equal ones.
    assert!(
        findings
            .iter()
            .all(|f| f["fingerprint"].as_str().unwrap().len() == 32)
    );
}

/// Item 10: SIGTERM stops a scan of many short secrets: the confirming in flight stops, and
/// what was confirmed is written as a valid partial report (the time it takes is measured,
/// not asserted: the hang detector is a minute, where stretching every password of a 4 MiB
/// chunk took minutes).
#[test]
fn sigterm_stops_a_scan_of_many_short_secrets() {
    let t = TestDir::new();
    let mut g = Gen::new(2111);
    let mut text = String::new();
    while text.len() < 6 << 20 {
        text.push_str(&format!("password = \"{}\"\n", g.string(ALNUM, 14)));
    }
    t.write("passwords.txt", &text);
    drop(text);
    let r = sigterm_after(&t, &["-f", "json", "-j", "2", "--chunk-size", "4M", "."]);
    if let Some(doc) = partial_json(&r) {
        assert_eq!(doc["summary"]["partial"], true);
    }
}

/// Item 10: SIGTERM during a scan of 10 MB of distinct Slack tokens (~150,000 findings in
/// flight in one blob, whose confirming is cut short): the partial report, JSON or SARIF, is
/// valid, says it is partial, and holds findings confirmed before the signal, each with a
/// fingerprint and no token in clear.
#[test]
fn sigterm_stops_a_scan_of_many_slack_tokens_with_a_valid_partial_report() {
    let t = TestDir::new();
    let mut g = Gen::new(2113);
    let mut text = String::new();
    let mut tokens = Vec::new();
    while text.len() < 10_000_000 {
        let token = g.slack_bot();
        text.push_str(&format!("SLACK_TOKEN={token}\n"));
        tokens.push(token);
    }
    t.write("slack.env", &text);
    drop(text);
    let known: std::collections::HashSet<&str> = tokens.iter().map(String::as_str).collect();
    for format in ["json", "sarif"] {
        let out = format!("r.{format}");
        let r = sigterm_after(&t, &["-f", format, "-o", &out, "slack.env"]);
        let report = std::fs::read_to_string(t.path().join(&out)).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&report)
            .unwrap_or_else(|e| panic!("{format}: the report is not JSON ({e}): {}", r.stderr));
        if r.code == 0 || r.code == 1 && !r.stderr.contains("interrupted") {
            continue;
        }
        let findings = if format == "json" {
            assert_eq!(doc["summary"]["partial"], true);
            doc["findings"].as_array().unwrap().clone()
        } else {
            let run = &doc["runs"][0];
            assert_eq!(run["invocations"][0]["executionSuccessful"], false);
            let notes = run["invocations"][0]["toolExecutionNotifications"].to_string();
            assert!(notes.contains("interrupted"), "{notes}");
            run["results"].as_array().unwrap().clone()
        };
        eprintln!(
            "{format}: {} findings in the partial report",
            findings.len()
        );
        for f in &findings {
            let fingerprint = if format == "json" {
                &f["fingerprint"]
            } else {
                &f["partialFingerprints"]["ferret/v2"]
            };
            assert_eq!(fingerprint.as_str().map_or(0, str::len), 32, "{f}");
        }
        // No token in clear anywhere in the report (the findings' own and their
        // neighbours' in contexts).
        for token in report
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("xoxb-"))
        {
            assert!(!known.contains(token), "{format}: {token} in clear");
        }
    }
}

/// Runs `ferret scan ARGS` in `t`, sends it SIGTERM after 1.5 s and waits for it (a minute at
/// most: the hang guard; how fast it acts is measured, not asserted).
fn sigterm_after(t: &TestDir, args: &[&str]) -> Run {
    let child = t
        .ferret()
        .arg("scan")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let sent = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(MINUTE) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("SIGTERM did not stop the scan within a minute");
        }
    };
    eprintln!("SIGTERM acted in {:?}", sent.elapsed());
    let r: Run = out.into();
    assert!(r.code == 1 || r.code == 2 || r.code == 0, "{}", r.stderr);
    r
}

/// The JSON report on stdout of a run that `sigterm_after` interrupted; `None` when the scan
/// finished before the signal.
fn partial_json(r: &Run) -> Option<serde_json::Value> {
    let doc = r.json();
    if r.code == 0 || r.code == 1 && doc["summary"]["partial"] == false {
        return None;
    }
    assert!(r.code == 1 || r.code == 2, "{}", r.stderr);
    Some(doc)
}

/// Item 10: 10 MB of distinct Slack tokens: the JSON and SARIF reports stay compact (findings
/// turned into JSON one at a time), and the summary's `peak_rss_bytes` is measured after the
/// findings are written: it is close to what the kernel counted.
#[test]
fn many_findings_are_reported_in_bounded_memory() {
    let t = TestDir::new();
    let mut g = Gen::new(2112);
    let mut text = String::new();
    while text.len() < 10_000_000 {
        text.push_str(&format!("SLACK_TOKEN={}\n", g.slack_bot()));
    }
    t.write("slack.env", &text);
    drop(text);
    for format in ["json", "sarif"] {
        let out = format!("r.{format}");
        let (r, peak) = ferret_measured(&t, &["scan", "-f", format, "-o", &out, "slack.env"]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        eprintln!("{format}: peak RSS {peak} MiB");
        assert!(peak < 512, "{format}: peak RSS {peak} MiB");
        if format == "json" {
            let doc: serde_json::Value =
                serde_json::from_slice(&std::fs::read(t.path().join(&out)).unwrap()).unwrap();
            assert!(doc["findings"].as_array().unwrap().len() > 100_000);
            let reported = doc["summary"]["peak_rss_bytes"].as_u64().unwrap() >> 20;
            assert!(
                reported * 10 >= peak * 8,
                "the summary says {reported} MiB, the kernel {peak} MiB"
            );
        }
    }
}

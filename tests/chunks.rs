//! Chunked and streamed scans equal whole scans: the same findings at the same lines and
//! columns, including secrets cut by a chunk seam.

use ferret::blob::{Data, Origin};
use ferret::engine::{self, StreamScanner};
use ferret::{Matcher, RuleSet};

use crate::common::secrets::Gen;
use crate::common::{TestDir, rule_ids, run};

/// What identifies a finding for comparison.
pub type Key = (String, u64, u64, u64, u64, String);

pub fn keys(findings: &[ferret::Finding]) -> Vec<Key> {
    findings
        .iter()
        .map(|f| {
            (
                f.rule.id().to_string(),
                f.offset,
                f.end_offset,
                f.start.line,
                f.start.column,
                f.secret.clone(),
            )
        })
        .collect()
}

pub fn whole(matcher: &Matcher, bytes: &[u8]) -> Vec<Key> {
    chunked(matcher, bytes, u64::MAX)
}

pub fn chunked(matcher: &Matcher, bytes: &[u8], chunk: u64) -> Vec<Key> {
    let data = Data::Owned(bytes.to_vec());
    let mut scratch = matcher.scratch();
    let mut buf = Vec::new();
    let r = engine::scan_data(
        matcher,
        &data,
        &Origin::file("t"),
        chunk,
        &mut scratch,
        &mut buf,
    );
    assert!(r.error.is_none());
    keys(&r.findings)
}

pub fn streamed(matcher: &Matcher, bytes: &[u8], chunk: usize, pieces: &[usize]) -> Vec<Key> {
    let mut s = StreamScanner::new(matcher, Origin::stdin(), chunk);
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = pieces[i % pieces.len()].clamp(1, rest.len());
        out.extend(s.push(&rest[..n]));
        rest = &rest[n..];
        i += 1;
    }
    out.extend(s.finish());
    keys(&out)
}

/// A log-like text with secrets of several kinds, multi-line PEM-like blocks and UTF-8.
fn corpus(seed: u64, lines: usize) -> String {
    let mut g = Gen::new(seed);
    let mut s = String::new();
    for i in 0..lines {
        match g.below(9) {
            0 => s.push_str(&format!("2025-01-01 INFO token={} ok\n", g.github_pat())),
            1 => s.push_str(&format!(
                "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
                g.aws_key_id(),
                g.aws_secret()
            )),
            2 => s.push_str(&format!(
                "{{\"headers\":{{\"authorization\":\"Bearer {}\"}}}}\n",
                g.openai()
            )),
            3 => s.push_str(&format!(
                "step {i} ▕████▏ loss=0.{} password = \"{}\"\n",
                g.below(1000),
                g.password()
            )),
            4 => s.push_str(&format!(
                "url=postgresql://etl:{}@db:5432/x hf={}\n",
                g.password(),
                g.huggingface()
            )),
            5 => s.push_str(&format!("{}{}\n", g.slack_bot(), g.gitlab())),
            // Allowed inline: dropped the same way whether the line is whole or cut by a seam.
            6 => s.push_str(&format!("t = {} # ferret:allow\n", g.github_pat())),
            _ => s.push_str(
                "the quick brown fox jumps over the lazy dog, tokens/s=1234 secret sauce\n",
            ),
        }
    }
    s
}

#[test]
fn chunked_scans_equal_whole_scans() {
    let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
    let text = corpus(30, 3000);
    let expected = whole(&matcher, text.as_bytes());
    assert!(
        expected.len() > 2000,
        "the corpus has many findings: {}",
        expected.len()
    );
    for chunk in [1, 7, 64, 100, 999, 4096, 65_536] {
        assert_eq!(
            chunked(&matcher, text.as_bytes(), chunk),
            expected,
            "chunk size {chunk}"
        );
    }
}

#[test]
fn streamed_scans_equal_whole_scans() {
    let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
    let text = corpus(31, 1500);
    let expected = whole(&matcher, text.as_bytes());
    for (chunk, pieces) in [
        (64usize, vec![1usize, 3, 17]),
        (1000, vec![4096]),
        (4096, vec![100, 1, 10_000]),
        (1 << 20, vec![7]),
    ] {
        assert_eq!(
            streamed(&matcher, text.as_bytes(), chunk, &pieces),
            expected,
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_secret_across_a_seam_is_found_once_by_the_binary() {
    let t = TestDir::new();
    let mut g = Gen::new(32);
    let token = g.github_pat();
    let key = g.anthropic();
    // The GitHub token starts 10 bytes before the 4 KiB seam; the Anthropic key straddles the
    // 8 KiB seam; a long line crosses both.
    let mut text = "a".repeat(4096 - 10 - 6);
    text.push_str(&format!("TOKEN={token}\n"));
    while text.len() < 8192 - 50 {
        text.push('b');
    }
    text.push_str(&format!(" x-api-key: {key} and more\n"));
    t.write("seam.log", &text);
    for extra in [
        &["--chunk-size", "4096"][..],
        &[][..],
        &["--chunk-size", "4096", "--mmap", "never"][..],
    ] {
        let mut cmd = t.ferret();
        cmd.args(["scan", "seam.log", "-f", "json"]).args(extra);
        let r = run(&mut cmd);
        let doc = r.json();
        assert_eq!(
            rule_ids(&doc),
            ["github.pat.classic", "anthropic.api-key"],
            "{extra:?}"
        );
        let f = &doc["findings"];
        assert_eq!(f[0]["offset"], 4096 - 10);
        assert_eq!(f[0]["line"], 1);
        assert_eq!(f[1]["line"], 2);
        assert_eq!(
            f[1]["column"],
            8192 - 50 - (4096 - 10 + token.len() as u64 + 1) + 13
        );
    }
    // And through stdin, in a stream cut into 4 KiB chunks.
    let r = crate::common::run_stdin(
        t.ferret()
            .args(["scan", "-", "-f", "json", "--chunk-size", "4096"]),
        text.as_bytes(),
    );
    assert_eq!(
        rule_ids(&r.json()),
        ["github.pat.classic", "anthropic.api-key"]
    );
}

/// A dump of passwords: every line's keyword merges one window of several MiB, searched from
/// its hits in parallel runs, whether it is one chunk's or was put off at the seams (its hits
/// then found again): every password is found once, at the same place either way.
#[test]
fn a_window_of_megabytes_is_searched_from_its_hits_whole_and_chunked() {
    let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
    let mut g = Gen::new(34);
    let mut text = String::new();
    let mut planted = Vec::new();
    while text.len() < 3 << 20 {
        let p = g.password();
        text.push_str(&format!("password = \"{p}\"\n"));
        planted.push(p);
    }
    let expected = whole(&matcher, text.as_bytes());
    let found: Vec<&str> = expected
        .iter()
        .filter(|k| k.0 == "generic.password-assignment")
        .map(|k| k.5.as_str())
        .collect();
    // Each planted password at most once, in order; a generated one may look like a
    // placeholder now and then, nothing more.
    let mut rest = planted.iter();
    assert!(
        found.iter().all(|f| rest.any(|p| p == f)),
        "found out of order"
    );
    assert!(
        found.len() * 100 >= planted.len() * 99,
        "{} of {}",
        found.len(),
        planted.len()
    );
    for chunk in [1 << 20, 3 << 19, 65_536] {
        assert_eq!(
            chunked(&matcher, text.as_bytes(), chunk),
            expected,
            "chunk size {chunk}"
        );
    }
}

//! Property tests on generated inputs: the prefiltered matcher finds exactly what running every
//! regex over the whole input finds, and chunking or streaming changes nothing.

use std::sync::OnceLock;

use ferret::{Matcher, RuleSet};
use proptest::prelude::*;

use crate::chunks::{chunked, streamed, whole};
use crate::common::secrets::Gen;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(&RuleSet::builtin().unwrap()).unwrap())
}

/// Pieces that make secrets, near-secrets and noise when glued together.
fn fragments() -> &'static [String] {
    static F: OnceLock<Vec<String>> = OnceLock::new();
    F.get_or_init(|| {
        let mut g = Gen::new(40);
        let mut v: Vec<String> = [
            "ghp_", "AKIA", "password", "PASSWORD=", "secret", "token", "api_key", "Bearer ",
            "Authorization: ", "postgresql://", "mysql://u:", "@", ":", "=", "\"", "'", "\\\"",
            "\\n", "\n", "\r\n", " ", "\t", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
            "eyJ", ".", "sk-proj-", "T3BlbkFJ", "hf_", "xoxb-", "glpat-", "AIza", "wandb_api_key: ",
            "é", "▕██▏", "\u{0}", "AccountKey=", "sk_live_", "npm_", "changeme", "${TOKEN}",
            // View triggers: escapes, base64 contexts and prefixes, percent escapes.
            "\\/", "\\u002B", "Basic ", "\"auth\": \"", "key-data: ", "Z2hwX", "%3A%2F%2F", "%40", "%22",
            "dXNlcjpwYXNz", "token: ",
            // Anchor gates: a keyword in the case its regex wants or not.
            "TOKEN=", "Token", "tokens", "MY_SECRET_KEY=", "access-key: ", "Private-Key", "BEARER ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..4 {
            use base64::Engine as _;
            let gh = g.github_pat();
            v.push(base64::engine::general_purpose::STANDARD.encode(gh.as_bytes()));
            v.push(base64::engine::general_purpose::STANDARD.encode(format!("u:{gh}").as_bytes()));
            v.push(g.github_pat());
            v.push(g.aws_key_id());
            v.push(g.aws_secret());
            v.push(g.openai());
            v.push(g.anthropic());
            v.push(g.huggingface());
            v.push(g.slack_bot());
            v.push(g.gitlab());
            v.push(g.google());
            v.push(g.password());
        }
        v.push(
            "MIIEpAIBAAKCAQEA5+7nYV7zXzDkm0guFcrnUAcgHhJhew/tp+Fkd5b/AivqjtAqgqF1kw8jN803lMUiCABtaxrwwMvWJWWKrCyfqgfRPER".into(),
        );
        v
    })
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    let n = fragments().len();
    prop::collection::vec(
        prop_oneof![
            4 => (0..n).prop_map(|i| fragments()[i].as_bytes().to_vec()),
            1 => "[a-zA-Z0-9_/+=-]{1,40}".prop_map(|s| s.into_bytes()),
            1 => prop::collection::vec(any::<u8>(), 1..8),
        ],
        0..120,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn prefilter_equals_brute_force(bytes in input()) {
        let m = matcher();
        let mut scratch = m.scratch();
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        m.scan(&bytes, &mut scratch, &mut fast);
        m.scan_unfiltered(&bytes, &mut scratch, &mut slow);
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn chunking_and_streaming_change_nothing(bytes in input(), chunk in 1u64..300, piece in 1usize..200) {
        let m = matcher();
        let expected = whole(m, &bytes);
        prop_assert_eq!(chunked(m, &bytes, chunk), expected.clone());
        prop_assert_eq!(streamed(m, &bytes, chunk as usize, &[piece, 1, piece * 3]), expected);
    }
}

#[test]
fn prefilter_equals_brute_force_on_fixtures() {
    let m = matcher();
    let mut scratch = m.scratch();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut n = 0;
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        m.scan(&bytes, &mut scratch, &mut fast);
        m.scan_unfiltered(&bytes, &mut scratch, &mut slow);
        assert_eq!(fast, slow, "{}", entry.path().display());
        n += fast.len();
    }
    assert!(n > 10, "the fixtures hold secrets ({n} candidates)");
}

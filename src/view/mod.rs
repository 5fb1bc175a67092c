//! Views: the same bytes the way a human would read them, so that a secret hidden by an
//! encoding is still found.
//!
//! A secret can sit in a file in a form no rule matches as written: base64 in a Kubernetes
//! Secret's `data:`, in a Docker `config.json` `auth`, in an HTTP `Basic` header; escaped in a
//! JSON string (`\/`, `\u002B`); percent-encoded inside another URL's query string. A view
//! decodes such a region and scans the decoded text with every rule; a finding made there
//! names its decoding chain ([`Finding::decoded`], outermost first) and points at the encoded
//! bytes in the file (its offset, line and column are those of the encoded form of the secret).
//!
//! # Which regions are decoded
//!
//! Decoding every base64-looking run of a notebook (megabytes of PNG) or every escaped string
//! of a JSON-lines log would double the cost of a scan, so views decode only *candidates*, and
//! candidates are found by the matcher itself: each view has a [`Trigger`], a keyword-anchored,
//! bounded regex whose `secret` group is the encoded payload (`Basic <payload>`,
//! `"auth": "<payload>"`, a base64 run that starts like the base64 of `ghp_` or `-----BEGIN`, a
//! JSON string holding `\/` or `\u00XX`, a URL run holding `%3A%2F%2F`, `%40` or `%22`). The
//! triggers join the rules in the keyword automaton ([`crate::Matcher`]), so finding candidates
//! costs no extra pass over the bytes, and because triggers keep the keyword contract, the
//! candidates of a chunked scan are exactly those of a whole scan (the matcher's proof covers
//! them like any rule).
//!
//! [`scan_views`] is the one call the engine makes per scanned piece: it takes that piece's
//! candidates, decodes the trigger candidates ([`json_string`], [`base64`], [`percent`]),
//! scans each decoded text (with the trigger's own context around it, e.g. the JSON key),
//! confirms what is found there, and maps positions back. Views nest up to [`MAX_DEPTH`]
//! decodings (a base64 `auth` inside an escaped JSON string). Decoded text is bounded by the
//! trigger regexes' maximum lengths.
//!
//! A secret found both as written and through a view at the same place is reported once, as
//! written ([`dedupe`]).

pub mod ansi;
pub mod base64;
pub mod json_string;
pub mod percent;

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::blob::Origin;
use crate::finding::{self, Finding};
use crate::matcher::{Candidate, Matcher, Scratch};
use crate::rules::{Rule, RuleSpec, Severity};

/// How many decodings may be stacked (e.g. JSON string escapes, then base64).
pub const MAX_DEPTH: usize = 2;

/// An encoding a view undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// JSON string escapes (`\"`, `\/`, `\n`, `\uXXXX`).
    Json,
    /// Base64 (standard or URL-safe).
    Base64,
    /// Percent-encoding (`%2F`).
    Percent,
}

impl Encoding {
    /// `json`, `base64` or `percent`: the name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
        }
    }

    fn decode(self, raw: &[u8]) -> Option<Decoded> {
        match self {
            Encoding::Json => Some(json_string::decode(raw)),
            Encoding::Percent => Some(percent::decode(raw)),
            Encoding::Base64 => base64::decode(raw).filter(|d| base64::is_text(&d.bytes)),
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decoded bytes, each with the range of encoded bytes it came from.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    /// The decoded bytes.
    pub bytes: Vec<u8>,
    starts: Vec<u32>,
    ends: Vec<u32>,
}

const UNSET: u32 = u32::MAX;

impl Decoded {
    fn with_capacity(n: usize) -> Decoded {
        Decoded {
            bytes: Vec::with_capacity(n),
            starts: Vec::with_capacity(n),
            ends: Vec::with_capacity(n),
        }
    }

    /// Adds a byte decoded from the unit of encoded bytes starting at `start` (the unit ends
    /// where the next byte's unit starts).
    fn push(&mut self, byte: u8, start: usize) {
        self.bytes.push(byte);
        self.starts.push(start as u32);
        self.ends.push(UNSET);
    }

    /// Adds a byte decoded from encoded bytes `start..end`.
    fn push_span(&mut self, byte: u8, start: usize, end: usize) {
        self.bytes.push(byte);
        self.starts.push(start as u32);
        self.ends.push(end as u32);
    }

    /// Fills in the ends of units pushed with [`Decoded::push`]; `len` is the encoded length.
    fn finish(&mut self, len: usize) {
        let mut next = len as u32;
        for i in (0..self.bytes.len()).rev() {
            if self.ends[i] == UNSET {
                self.ends[i] = next;
            }
            if i > 0 && self.starts[i - 1] != self.starts[i] {
                next = self.starts[i];
            }
        }
    }

    /// The encoded bytes that decoded bytes `range` came from.
    pub fn encoded_range(&self, range: Range<usize>) -> Range<usize> {
        let n = self.bytes.len();
        if n == 0 {
            return 0..0;
        }
        let start = range.start.min(n - 1);
        let last = range.end.saturating_sub(1).clamp(start, n - 1);
        self.starts[start] as usize..self.ends[last] as usize
    }
}

/// A view's trigger: the matcher runs it like a rule; its `secret` group is the payload.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// A short name (`base64.basic-auth`), used as the trigger's rule id (`view.…`).
    pub id: &'static str,
    /// What the payload is encoded with.
    pub encoding: Encoding,
    /// Literals, one of which is in every match.
    pub keywords: Vec<String>,
    /// A bounded regex with a `secret` group around the payload.
    pub regex: String,
    /// Bytes on each side of a hit that the view may read beyond the regex match (the JSON
    /// view looks for the string around an escape); the matcher widens the trigger's search
    /// windows by this much, so those bytes are there in every kind of scan.
    pub reach: usize,
}

/// Plain-text prefixes of secrets that are often stored base64-encoded whole (a Kubernetes
/// Secret value, an environment variable holding a key file): the base64 of their first
/// bytes is a trigger.
const BASE64_PREFIXES: &[&str] = &[
    "-----BEGIN ",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "AKIA",
    "ASIA",
    "sk-",
    "sk_live_",
    "hf_",
    "xoxb-",
    "AIza",
    "eyJ",
    "npm_",
    "pypi-",
    "dckr_pat_",
    "hvs.",
    "postgres",
    "mysql://",
    "mongodb",
    "redis://",
    "amqp://",
    "https://",
    "http://",
    "machine ",
    "[default]",
    "aws_access_key_id",
    "AWS_ACCESS_KEY_ID",
    "{\"type\":",
    "{\"type\": ",
    "{\n  \"type\": ",
    "password",
    "PASSWORD",
];

/// The base64 characters that every encoding of `prefix` (at the start of the encoded text)
/// begins with: the whole groups of three bytes.
pub fn base64_of_prefix(prefix: &str) -> String {
    use ::base64::Engine as _;
    let whole = prefix.len() / 3 * 3;
    ::base64::engine::general_purpose::STANDARD.encode(&prefix.as_bytes()[..whole])
}

/// The view triggers, built once.
pub fn triggers() -> &'static [Trigger] {
    static T: OnceLock<Vec<Trigger>> = OnceLock::new();
    T.get_or_init(|| {
        let mut prefixes: Vec<String> = BASE64_PREFIXES
            .iter()
            .map(|p| base64_of_prefix(p))
            .filter(|k| k.len() >= 4)
            .collect();
        prefixes.sort();
        prefixes.dedup();
        let alternatives = prefixes
            .iter()
            .map(|p| regex_syntax::escape(p))
            .collect::<Vec<_>>()
            .join("|");
        vec![
            Trigger {
                id: "json.escaped-string",
                encoding: Encoding::Json,
                keywords: vec![r"\/".into(), r"\u00".into()],
                // Only the escape: the view finds the JSON string around it
                // ([`json_string::enclosing`]), within `reach` bytes.
                regex: r"(?P<secret>\\(?:/|u00[0-9A-Fa-f]{2}))".into(),
                reach: json_string::MAX_STRING + 16,
            },
            Trigger {
                id: "base64.basic-auth",
                encoding: Encoding::Base64,
                keywords: vec!["basic".into()],
                regex: r"(?:[Bb]asic|BASIC)[ \t]{1,4}(?P<secret>[A-Za-z0-9+/_-]{8,1024}={0,2})".into(),
                reach: 0,
            },
            Trigger {
                id: "base64.docker-auth",
                encoding: Encoding::Base64,
                keywords: vec![r#""auth""#.into(), r#"auth\""#.into()],
                regex: r#"\\?"auth\\?"[ \t]{0,4}:[ \t]{0,4}\\?"(?P<secret>[A-Za-z0-9+/]{8,1024}={0,2})\\?""#
                    .into(),
                reach: 0,
            },
            Trigger {
                id: "base64.key-data",
                encoding: Encoding::Base64,
                keywords: vec!["key-data".into()],
                regex: r#"(?i)key-data["']?[ \t]{0,4}:[ \t]{0,4}["']?(?P<secret>[A-Za-z0-9+/]{16,12000}={0,2})"#
                    .into(),
                reach: 0,
            },
            Trigger {
                id: "base64.known-prefix",
                encoding: Encoding::Base64,
                keywords: prefixes.clone(),
                regex: format!(
                    r"(?:^|[^A-Za-z0-9+/_-])(?P<secret>(?:{alternatives})[A-Za-z0-9+/_-]{{4,12000}}={{0,2}})"
                ),
                reach: 0,
            },
            Trigger {
                id: "percent.url-run",
                encoding: Encoding::Percent,
                keywords: vec!["%3a%2f%2f".into(), "%40".into(), "%22".into()],
                regex: concat!(
                    r"(?P<secret>[A-Za-z0-9%._~!$&'()*+,;=:@/?-]{0,512}",
                    r"(?i:%3a%2f%2f|%40|%22)[A-Za-z0-9%._~!$&'()*+,;=:@/?{}-]{0,1024})"
                )
                .into(),
                reach: 0,
            },
        ]
    })
}

/// The triggers as rules for the matcher (id `view.<trigger id>`), with their encoding and
/// extra reach, in [`triggers`] order.
pub fn trigger_rules() -> Vec<(Arc<Rule>, Encoding, usize)> {
    triggers()
        .iter()
        .map(|t| {
            let spec = RuleSpec {
                id: format!("view.{}", t.id),
                name: format!("{} view trigger", t.encoding),
                keywords: t.keywords.clone(),
                regex: t.regex.clone(),
                entropy: None,
                validator: None,
                require_valid: false,
                generic: false,
                severity: Severity::Low,
                remediation: "not a finding: a region decoded and scanned again".into(),
                references: Vec::new(),
                examples: Vec::new(),
                counterexamples: Vec::new(),
                allow: Vec::new(),
                stopwords: Vec::new(),
                verify: None,
            };
            (Arc::new(Rule::new(spec, "view")), t.encoding, t.reach)
        })
        .collect()
}

/// Decodes the view candidates among `candidates` (found in `hay`, whose byte 0 is byte `base`
/// of the blob), scans the decoded texts, and appends what is found there to `out`, with
/// offsets in the blob. Candidates of ordinary rules are left alone.
pub fn scan_views(
    matcher: &Matcher,
    hay: &[u8],
    base: u64,
    candidates: &[Candidate],
    origin: &Origin,
    scratch: &mut Scratch,
    out: &mut Vec<Finding>,
) {
    if !candidates.iter().any(|c| matcher.view(c.rule).is_some()) {
        return;
    }
    let mut found = Vec::new();
    views_in(matcher, hay, candidates, origin, scratch, 1, &mut found);
    for mut f in found {
        f.offset += base;
        f.end_offset += base;
        out.push(f);
    }
}

/// Scans `text` (a decoded view at nesting `depth`): ordinary findings and, below
/// [`MAX_DEPTH`], findings of nested views. Offsets are in `text`.
fn scan_text(
    matcher: &Matcher,
    text: &[u8],
    origin: &Origin,
    scratch: &mut Scratch,
    depth: usize,
) -> Vec<Finding> {
    let mut candidates = Vec::new();
    matcher.scan(text, scratch, &mut candidates);
    let mut out: Vec<Finding> = candidates
        .iter()
        .filter(|c| matcher.view(c.rule).is_none())
        .filter_map(|c| finding::confirm(matcher.rule(c.rule), text, 0, c, origin))
        .collect();
    if depth < MAX_DEPTH {
        views_in(
            matcher,
            text,
            &candidates,
            origin,
            scratch,
            depth + 1,
            &mut out,
        );
    }
    out
}

/// The findings revealed by decoding the view candidates among `candidates` in `hay`, with
/// offsets in `hay`.
fn views_in(
    matcher: &Matcher,
    hay: &[u8],
    candidates: &[Candidate],
    origin: &Origin,
    scratch: &mut Scratch,
    depth: usize,
    out: &mut Vec<Finding>,
) {
    // One JSON string holding several escapes is decoded once.
    let mut seen_json = std::collections::HashSet::new();
    for c in candidates {
        let Some(encoding) = matcher.view(c.rule) else {
            continue;
        };
        // The payload, and the context around it that the decoded text keeps (`"key": "…"`,
        // `Basic …`) so that rules that need that context see it.
        let (span, secret) = match encoding {
            Encoding::Json => {
                let Some((span, content)) = json_string::enclosing(hay, c.secret.start) else {
                    continue;
                };
                if !seen_json.insert(content.start) {
                    continue;
                }
                (span, content)
            }
            _ => (c.span.clone(), c.secret.clone()),
        };
        let payload = &hay[secret.clone()];
        let Some(decoded) = encoding.decode(payload) else {
            continue;
        };
        if decoded.bytes == payload {
            continue;
        }
        let before = &hay[span.start..secret.start];
        let after = &hay[secret.end..span.end];
        let mut text = Vec::with_capacity(before.len() + decoded.bytes.len() + after.len());
        text.extend_from_slice(before);
        text.extend_from_slice(&decoded.bytes);
        text.extend_from_slice(after);
        let inner = before.len()..before.len() + decoded.bytes.len();
        for mut f in scan_text(matcher, &text, origin, scratch, depth) {
            let (s, e) = (f.offset as usize, f.end_offset as usize);
            // Found in the copied context only: the scan as written finds it.
            if e <= inner.start || s >= inner.end {
                continue;
            }
            let d = s.max(inner.start) - inner.start..e.min(inner.end) - inner.start;
            let enc = decoded.encoded_range(d);
            let abs = secret.start + enc.start..secret.start + enc.end;
            f.offset = abs.start as u64;
            f.end_offset = abs.end as u64;
            f.decoded.insert(0, encoding);
            f.set_encoded_extent(&hay[abs]);
            out.push(f);
        }
    }
}

/// Drops findings that repeat another finding of the same rule at an overlapping place with a
/// longer decoding chain: a secret found as written is reported as written, and a secret found
/// through two views once. `findings` must be sorted by offset.
pub fn dedupe(findings: &mut Vec<Finding>) {
    if !findings.iter().any(|f| !f.decoded.is_empty()) {
        return;
    }
    let mut drop = vec![false; findings.len()];
    for i in 0..findings.len() {
        if findings[i].decoded.is_empty() {
            continue;
        }
        // Earlier-starting findings that may overlap are within the sorted neighbourhood.
        for j in 0..findings.len() {
            if i == j || drop[j] {
                continue;
            }
            let (a, b) = (&findings[i], &findings[j]);
            if b.offset >= a.end_offset {
                break;
            }
            let overlaps = b.end_offset > a.offset && b.offset < a.end_offset;
            let better =
                b.decoded.len() < a.decoded.len() || (b.decoded.len() == a.decoded.len() && j < i);
            if overlaps && better && a.rule.id() == b.rule.id() {
                drop[i] = true;
                break;
            }
        }
    }
    let mut k = 0;
    findings.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_prefixes_are_whole_groups() {
        assert_eq!(base64_of_prefix("ghp_"), "Z2hw");
        assert_eq!(base64_of_prefix("-----BEGIN "), "LS0tLS1CRUdJ");
        assert_eq!(base64_of_prefix("AKIA"), "QUtJ");
    }

    #[test]
    fn triggers_are_bounded_and_keep_the_keyword_contract() {
        for t in triggers() {
            let max = crate::matcher::regex::max_len(&t.regex).unwrap();
            assert!(max.is_some(), "{} is unbounded", t.id);
            crate::matcher::regex::RuleRegex::new(&t.regex).unwrap();
            assert!(!t.keywords.is_empty());
        }
    }

    #[test]
    fn decoded_map_of_units() {
        let mut d = Decoded::default();
        d.push(b'a', 0);
        d.push(0xE2, 1);
        d.push(0x82, 1);
        d.push(0xAC, 1);
        d.push(b'b', 7);
        d.finish(8);
        assert_eq!(d.encoded_range(1..4), 1..7);
        assert_eq!(d.encoded_range(4..5), 7..8);
        assert_eq!(d.encoded_range(0..5), 0..8);
    }
}

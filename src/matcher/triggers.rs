//! The views' triggers: keyword-anchored regexes whose matches are regions to decode.
//!
//! A view ([`crate::view`]) decodes a region and the confirm stage scans the decoded text
//! ([`crate::confirm`]); which regions are worth decoding is decided here, by the matcher itself.
//! Each [`Trigger`] is a bounded regex whose `secret` group is the encoded payload (`Basic
//! <payload>`, `"auth": "<payload>"`, a base64 run that starts like the base64 of `ghp_` or
//! `-----BEGIN`, a JSON string holding `\/` or `\u00XX`, a URL run holding `%3A%2F%2F`, `%40`
//! or `%22`). The triggers join the rules in the keyword prefilter ([`trigger_rules`]), after
//! them in index order, so finding candidates costs no extra pass over the bytes; and because
//! triggers keep the keyword contract, the candidates of a chunked scan are exactly those of a
//! whole scan (the matcher's proof covers them like any rule).

use std::sync::{Arc, OnceLock};

use crate::finding::Encoding;
use crate::rules::{Rule, RuleSpec, Severity};
use crate::view::json_string;

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
            let max = crate::rules::regex::max_len(&t.regex).unwrap();
            assert!(max.is_some(), "{} is unbounded", t.id);
            crate::rules::regex::RuleRegex::new(&t.regex).unwrap();
            assert!(!t.keywords.is_empty());
        }
    }
}

//! The serde model of a rule file: what a `rules/*.toml` file may contain, and nothing else.
//!
//! A rule file is a list of `[[rule]]` tables. Unknown keys are rejected so that a typo
//! (`keyword = …` for `keywords = …`) is an error instead of a rule that silently never fires.
//! The format is documented for rule authors in `rules/README.md`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One rule file: `[[rule]]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The rules, in file order.
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleSpec>,
}

/// One rule as written in TOML.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable identifier, lowercase and dotted (`github.pat.classic`); used in reports and baselines.
    pub id: String,
    /// Human name (`GitHub personal access token (classic)`).
    pub name: String,
    /// Literal strings, matched ASCII-case-insensitively, at least one of which occurs inside
    /// every match of `regex`. The prefilter looks for these and runs the regex only near them.
    pub keywords: Vec<String>,
    /// The pattern (Rust `regex` syntax, matched on bytes) with a named group `secret`.
    pub regex: String,
    /// Minimum Shannon entropy (bits per byte) of the secret, if any.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Name of an offline validator (`github-crc32`, `jwt`, …), if any.
    #[serde(default)]
    pub validator: Option<String>,
    /// Drop the finding when the validator fails (by default a failure only lowers confidence).
    #[serde(default)]
    pub require_valid: bool,
    /// A generic rule yields to a specific rule that reports an overlapping secret.
    #[serde(default)]
    pub generic: bool,
    /// How bad a leak is.
    pub severity: crate::rules::Severity,
    /// Where and how to revoke or rotate the secret.
    pub remediation: String,
    /// Documentation links (token formats, revocation pages).
    #[serde(default)]
    pub references: Vec<String>,
    /// Texts the rule must match (checked by `cargo test` and `ferret rules check`).
    #[serde(default)]
    pub examples: Vec<String>,
    /// Texts the rule must not match.
    #[serde(default)]
    pub counterexamples: Vec<String>,
    /// Patterns that excuse a match: when one matches its target, the match is not reported
    /// (gitleaks' allowlist `regexes`). Rarely needed in ferret's own rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<AllowPattern>,
    /// Words that excuse a match when the secret contains one, ASCII-case-insensitively
    /// (gitleaks' allowlist `stopwords`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopwords: Vec<String>,
    /// How `--verify` asks the secret's own service whether it works (`[rule.verify]`): one
    /// HTTP request described as data, or a protocol that ferret speaks in code. `None`: the
    /// rule's findings are reported as `unknown` (`unsupported`) when verifying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifySpec>,
}

/// `[rule.verify]`: how to check a secret of this rule against its service.
///
/// Either `protocol` names a verifier written in code (`aws-sts`, `postgres`, …), or `url`
/// (with `method`, `headers`, `basic`, `body`) describes one HTTP request. Templates in the
/// request take `{{secret}}` and `{{NAME}}` for a paired value (`[[rule.verify.pair]]`). The
/// host of `url` is literal: a secret goes only to the host its rule declares.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// A verifier in code: `aws-sts`, `gcp-jwt`, `azure-storage`, `postgres`, `mysql`,
    /// `redis`, `mongodb`, `ssh`, `basic-url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// HTTP method (default `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `https://` URL; its scheme and host are literal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Request headers (values are templates).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    /// HTTP Basic credentials `[user, password]` (templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<[String; 2]>,
    /// Request body (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// What a working credential's answer looks like.
    #[serde(default)]
    pub live: ResponseMatch,
    /// What the answer to a credential that does not work looks like.
    #[serde(default)]
    pub invalid: ResponseMatch,
    /// What the answer says about the credential: name → `/json/pointer` into the body, or
    /// `header:Name`. Values that contain the secret are never kept.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub identity: std::collections::BTreeMap<String, String>,
    /// Values found near the secret that the request needs (an AWS key id, a Twilio SID).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pair: Vec<PairSpec>,
    /// Why the request changes nothing (the endpoint is read-only), for reviewers and the
    /// README's list of verifiers.
    pub read_only: String,
}

/// A test on a verifier's answer: every given part must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseMatch {
    /// HTTP status codes, one of which the answer has (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<u16>,
    /// JSON pointers into the body and the value each must have.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub json: std::collections::BTreeMap<String, serde_json::Value>,
    /// Text the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
}

impl ResponseMatch {
    /// Whether nothing is asked (such a match never decides).
    pub fn is_empty(&self) -> bool {
        self.status.is_empty() && self.json.is_empty() && self.body_contains.is_none()
    }
}

/// A value the verifier needs besides the secret, found near it in the scanned text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    /// The template name (`{{NAME}}`).
    pub name: String,
    /// What it looks like (Rust regex syntax, on bytes); the group `value`, if any, is the
    /// value, else the whole match. The match nearest the secret wins.
    pub regex: String,
    /// How far from the secret to look, in bytes on each side (default 512).
    #[serde(default = "default_within")]
    pub within: usize,
    /// The secret is this rule's only with this value near it (a key is a GCP service
    /// account's when the account's `client_email` is beside it): a match without it is not
    /// this rule's finding, and is left to a less specific rule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The value is not secret material (an account name, a key id) and tells a responder
    /// what to rotate: reports show it as the finding's `metadata` even without
    /// `--show-secrets`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub metadata: bool,
}

fn default_within() -> usize {
    512
}

/// The protocols of `[rule.verify] protocol`.
pub const VERIFY_PROTOCOLS: &[&str] = &[
    "aws-sts",
    "gcp-jwt",
    "azure-storage",
    "postgres",
    "mysql",
    "redis",
    "mongodb",
    "ssh",
];

impl VerifySpec {
    /// Checks what loading can check without the network: a protocol or an `https` URL with a
    /// literal host, known template names, a `read_only` note, decidable answers.
    pub fn check(&self) -> Result<(), String> {
        if self.read_only.trim().is_empty() {
            return Err("verify.read_only is empty: say why the request changes nothing".into());
        }
        let names: Vec<&str> = self.pair.iter().map(|p| p.name.as_str()).collect();
        for p in &self.pair {
            if p.name.is_empty()
                || !p
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(format!(
                    "verify.pair name {:?} must be letters, digits or _",
                    p.name
                ));
            }
            if p.within == 0 || p.within > 16 * 1024 {
                return Err(format!(
                    "verify.pair {}: within must be 1..=16384 bytes",
                    p.name
                ));
            }
        }
        match (&self.protocol, &self.url) {
            (Some(p), None) => {
                if !VERIFY_PROTOCOLS.contains(&p.as_str()) {
                    return Err(format!(
                        "unknown verify.protocol {p:?} (known: {})",
                        VERIFY_PROTOCOLS.join(", ")
                    ));
                }
                return Ok(());
            }
            (None, Some(_)) => {}
            _ => return Err("verify needs exactly one of `protocol` and `url`".into()),
        }
        let url = self.url.as_deref().unwrap_or_default();
        let Some(rest) = url.strip_prefix("https://") else {
            return Err(format!("verify.url {url:?} must start with https://"));
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || host.contains("{{") || host.contains('@') {
            return Err(format!(
                "verify.url {url:?}: the host must be written out (a secret goes only to the host its rule declares)"
            ));
        }
        let method = self.method.as_deref().unwrap_or("GET");
        if !["GET", "POST", "HEAD"].contains(&method) {
            return Err(format!(
                "verify.method {method:?}: only GET, POST and HEAD are allowed"
            ));
        }
        if self.live.is_empty() {
            return Err(
                "verify.live is empty: say what a working credential's answer looks like".into(),
            );
        }
        let templates = std::iter::once(url)
            .chain(self.headers.values().map(String::as_str))
            .chain(self.basic.iter().flatten().map(String::as_str))
            .chain(self.body.as_deref());
        for t in templates {
            let mut rest = t;
            while let Some(i) = rest.find("{{") {
                let after = &rest[i + 2..];
                let Some(j) = after.find("}}") else {
                    return Err(format!("verify template {t:?}: unclosed {{{{"));
                };
                let name = after[..j].trim();
                if name != "secret" && !names.contains(&name) {
                    return Err(format!("verify template {t:?}: unknown name {name:?}"));
                }
                rest = &after[j + 2..];
            }
        }
        Ok(())
    }
}

impl RuleSpec {
    /// The checks done when a rule is loaded, which need no regex compilation: the id's
    /// alphabet, a name, keywords of at least 3 bytes, a `secret` group, a remediation and an
    /// entropy floor within 0..=8. (Validator names are checked when the matcher is built, and
    /// everything else by `ferret rules check`.)
    pub fn check(&self) -> Result<()> {
        let spec = self;
        let fail = |message: String| {
            Err(Error::Rule {
                rule: spec.id.clone(),
                message,
            })
        };
        let id_ok = !spec.id.is_empty()
            && spec
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !id_ok {
            return fail("id must be lowercase letters, digits, '.', '_' or '-'".into());
        }
        if spec.name.trim().is_empty() {
            return fail("name is empty".into());
        }
        if spec.keywords.is_empty() {
            return fail("no keywords: the prefilter needs at least one".into());
        }
        if let Some(k) = spec.keywords.iter().find(|k| k.len() < 3) {
            return fail(format!(
                "keyword {k:?} is shorter than 3 bytes and would hit everywhere"
            ));
        }
        if !(spec.regex.contains("(?P<secret>") || spec.regex.contains("(?<secret>")) {
            return fail("regex has no capture group named `secret`".into());
        }
        if spec.remediation.trim().is_empty() {
            return fail("remediation is empty: say where to revoke or rotate".into());
        }
        if let Some(e) = spec.entropy
            && !(0.0..=8.0).contains(&e)
        {
            return fail(format!("entropy {e} is outside 0..=8 bits per byte"));
        }
        if let Some(v) = &spec.verify {
            if let Err(message) = v.check() {
                return fail(message);
            }
            for p in &v.pair {
                if let Err(e) = super::regex::compile_plain(&p.regex) {
                    return fail(format!(
                        "verify.pair {}: regex does not compile: {e}",
                        p.name
                    ));
                }
            }
        }
        Ok(())
    }
}

impl RuleSpec {
    /// What the rule lacks of the bar every shipped rule meets, one line each (empty when it
    /// meets it): at least two examples and one counterexample (so that `rules check` shows it
    /// finds what it should and skips what it should not), a documentation link (`https://…`,
    /// where the provider describes the token's format; a `generic` rule describes a shape, not
    /// a provider's format, and needs none) and a remediation line. `ferret rules check` fails
    /// a rule with a gap; loading does not, so a rule file being written still scans.
    pub fn gaps(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        if self.examples.len() < 2 {
            gaps.push(format!(
                "{} example(s): at least two show what the rule finds",
                self.examples.len()
            ));
        }
        if self.counterexamples.is_empty() {
            gaps.push("no counterexample: at least one shows what the rule must not find".into());
        }
        let documented = self
            .references
            .iter()
            .any(|r| r.starts_with("https://") || r.starts_with("http://"));
        if !documented && !self.generic {
            gaps.push(
                "no documentation link in `references`: link the provider's description of the \
                 token's format"
                    .into(),
            );
        }
        if self.remediation.trim().is_empty() {
            gaps.push("no remediation: say where to revoke or rotate".into());
        }
        gaps
    }
}

/// An allowlist pattern of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowPattern {
    /// The regex (Rust syntax, on bytes).
    pub regex: String,
    /// What it is matched against (default: the secret).
    #[serde(default)]
    pub target: AllowTarget,
}

/// What an allowlist pattern is matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllowTarget {
    /// The secret.
    #[default]
    Secret,
    /// The whole regex match.
    Match,
    /// The line (or lines) around the match.
    Line,
}

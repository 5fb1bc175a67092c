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
        Ok(())
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

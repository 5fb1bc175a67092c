//! Findings: what a user acts on, and what is done with them once found.
//!
//! A [`Finding`] is made by the confirm stage ([`crate::confirm`]) from a candidate match that
//! passed its rule's checks; its position is filled in by the engine with the
//! [`location::Locator`], because lines are only counted up to findings. The modules here work
//! on findings and know nothing of how they were found: how a secret is shown masked
//! ([`mask`]), its [`fingerprint`], what a team accepted ([`allow`], [`baseline`]), and the blast
//! radius ([`radius`]: one secret, every place it reached, with the kind of [`artifact`] each
//! place is and when it was [`seen`]); the echoes of one secret across a git history collapse
//! into one finding ([`history`]).

pub mod allow;
pub mod artifact;
pub mod baseline;
pub mod confidence;
pub mod fingerprint;
pub mod history;
pub mod location;
pub mod mask;
pub mod radius;
pub mod seen;
pub mod verification;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::blob::Origin;
use crate::rules::Rule;
pub use confidence::{Confidence, ReportPolicy};
pub use location::LineColumn;

/// One reason given for a finding's confidence: most are fixed phrases, not copied per finding.
pub type Reason = std::borrow::Cow<'static, str>;

/// A finding's reasons: most have one or two, kept in place (a dump of passwords holds a few
/// hundred thousand findings, and an allocation each for their reasons was a fifth of their
/// memory).
pub type Reasons = smallvec::SmallVec<[Reason; 2]>;

/// The outcome of a rule's validator on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    /// The checksum or structure is right.
    Passed,
    /// The checksum or structure is wrong: probably a look-alike or a mangled copy.
    Failed,
    /// The rule has no validator.
    None,
}

impl Validation {
    /// `passed`, `failed` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Validation::Passed => "passed",
            Validation::Failed => "failed",
            Validation::None => "none",
        }
    }
}

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
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret found somewhere.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule that found it.
    pub rule: Arc<Rule>,
    /// The secret (lossy UTF-8). Shown only when the user asks.
    pub secret: String,
    /// Hash of rule id and secret: equal for every copy of the secret.
    pub fingerprint: fingerprint::Fingerprint,
    /// Where the blob came from.
    pub origin: Origin,
    /// Byte offset of the secret in the blob.
    pub offset: u64,
    /// Byte offset just past the secret.
    pub end_offset: u64,
    /// Line and column of the secret's first byte.
    pub start: LineColumn,
    /// Line and column just past the secret.
    pub end: LineColumn,
    /// Up to [`crate::confirm::CONTEXT_BYTES`] of the secret's line before it.
    pub before: String,
    /// Up to [`crate::confirm::CONTEXT_BYTES`] of the secret's line after it.
    pub after: String,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// The rule's validator's verdict.
    pub validation: Validation,
    /// The decodings that revealed the secret, outermost first (`[Json, Base64]`: a base64
    /// value inside an escaped JSON string); empty when it was found as written. Offsets,
    /// lines and columns then point at the encoded form of the secret in the blob.
    pub decoded: Vec<Encoding>,
    /// For a decoded secret, the newlines in its encoded form and the code points after the
    /// last one: where its end line and column are.
    pub(crate) encoded_extent: Option<Box<(u64, u64)>>,
    /// For a finding inside a file that ferret parses rather than scans as bytes (a notebook's
    /// cell), where the secret sits in the file's own bytes, start and end: SARIF regions point
    /// there so that code scanning annotates the right line. `None` when not known.
    pub file_region: Option<Box<(LineColumn, LineColumn)>>,
    /// What `--verify` learned about the secret; `None` when it was not verified.
    pub verification: Option<Box<verification::Verification>>,
    /// Values found near the secret that its rule's verifier needs (`[rule.verify] pair`), by
    /// name. They are secret material: kept for verification, written only with
    /// `--show-secrets`.
    pub paired: Vec<(String, String)>,
    /// For a finding in git history: the other commits the same secret is in at the same
    /// path (`ferret git` collapses them into this one finding); `None` otherwise.
    pub history: Option<Box<history::History>>,
    /// How sure the finding is ([`crate::confirm::evidence`]).
    pub confidence: Confidence,
    /// The evidence weighed for [`Finding::confidence`].
    pub reasons: Reasons,
}

impl Finding {
    /// The paired values that are not secret material (`[[rule.verify.pair]] metadata`: a
    /// service account's email, a key id), by name: what reports show beside the masked
    /// secret so that a responder knows what to rotate.
    pub fn metadata(&self) -> serde_json::Map<String, serde_json::Value> {
        let Some(verify) = &self.rule.spec.verify else {
            return serde_json::Map::new();
        };
        self.paired
            .iter()
            .filter(|(name, _)| verify.pair.iter().any(|p| p.metadata && p.name == *name))
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect()
    }

    /// Records the encoded bytes a decoded secret was found in (for its end position).
    pub fn set_encoded_extent(&mut self, encoded: &[u8]) {
        let newlines = memchr::memchr_iter(b'\n', encoded).count() as u64;
        let tail = memchr::memrchr(b'\n', encoded).map_or(encoded, |i| &encoded[i + 1..]);
        self.encoded_extent = Some(Box::new((newlines, location::count_chars(tail))));
    }

    /// The line and column just past the secret (or past its encoded form), given where it
    /// starts.
    pub fn end_from(&self, start: LineColumn) -> LineColumn {
        match self.encoded_extent.as_deref().copied() {
            None => location::end_of(start, self.secret.as_bytes()),
            Some((0, chars)) => LineColumn {
                line: start.line,
                column: start.column + chars,
            },
            Some((newlines, chars)) => LineColumn {
                line: start.line + newlines,
                column: 1 + chars,
            },
        }
    }
}

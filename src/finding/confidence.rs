//! How sure a finding is ([`Confidence`]) and which findings a report shows ([`ReportPolicy`]).
//! The confirm stage weighs the evidence (`crate::confirm::evidence`); these are the values it
//! gives findings.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Validation;

/// How sure a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Probably not a credential (a test value, an expression, a word): reported only with
    /// `--confidence low`.
    Low,
    /// Looks like a credential; the evidence is not conclusive.
    #[default]
    Medium,
    /// A provider's format (checksum-valid where it has one), or a strong literal under a
    /// secret's name.
    High,
}

impl Confidence {
    /// `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Confidence {
    type Err = String;

    fn from_str(s: &str) -> Result<Confidence, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            other => Err(format!(
                "unknown confidence {other:?} (low, medium or high)"
            )),
        }
    }
}

/// Which findings are reported: those at or above a confidence, and those whose validator
/// failed only when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPolicy {
    /// The lowest confidence reported (default `medium`).
    pub min_confidence: Confidence,
    /// Report tokens whose checksum or structure check fails (default: no, no such token can
    /// be live).
    pub show_invalid: bool,
}

impl Default for ReportPolicy {
    fn default() -> ReportPolicy {
        ReportPolicy {
            min_confidence: Confidence::Medium,
            show_invalid: false,
        }
    }
}

impl ReportPolicy {
    /// Whether a finding of this confidence and validation is reported.
    /// A token that fails its checksum is `low`, but `--show-invalid` shows it whatever the
    /// confidence asked for.
    pub fn admits(&self, confidence: Confidence, validation: Validation) -> bool {
        if is_invalid(confidence, validation) {
            return self.show_invalid;
        }
        confidence >= self.min_confidence
    }
}

/// Whether a finding is a token its validator proved not live (a failed checksum: `low`).
pub fn is_invalid(confidence: Confidence, validation: Validation) -> bool {
    validation == Validation::Failed && confidence == Confidence::Low
}

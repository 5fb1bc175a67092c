//! What verification learned about a secret: the data a finding carries out of `--verify`.
//!
//! The plain data lives here, next to [`super::Finding`], so that reports read it without
//! depending on the network code of [`crate::verify`], which fills it in. A [`Verification`]
//! says whether the secret's own service accepted it (`live`), refused it (`invalid`), or
//! could not tell (`unknown`, with a [`Reason`]); when it was asked, which host was asked, and
//! what the answer said about the credential (account, scopes, expiry) — never the secret.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The service accepted the credential: rotate it first.
    Live,
    /// The service says the credential does not work.
    Invalid,
    /// Not known (see the reason).
    Unknown,
}

impl Status {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Invalid => "invalid",
            Status::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a verdict is `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The rule has no verifier (or not for this form of the secret).
    Unsupported,
    /// The service did not answer in time, or the run's deadline passed first.
    Timeout,
    /// The connection failed (DNS, refused, TLS).
    Network,
    /// The service kept answering 429/503 after backing off.
    RateLimited,
    /// Not sent on purpose: a host not allowed by `--verify-host`, a dry run, a masked secret,
    /// a paired value not found nearby.
    Skipped,
    /// The answer matched neither a live nor an invalid credential.
    Unexpected,
}

impl Reason {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unsupported => "unsupported",
            Reason::Timeout => "timeout",
            Reason::Network => "network",
            Reason::RateLimited => "rate-limited",
            Reason::Skipped => "skipped",
            Reason::Unexpected => "unexpected",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What verification learned about one secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Live, invalid or unknown.
    pub status: Status,
    /// Why it is unknown (`None` for live and invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// What happened, for people (`HTTP 401`, `host not allowed by --verify-host`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// When the service was asked (RFC 3339, UTC); empty when nothing was sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub checked_at: String,
    /// The host asked (`api.github.com`, `db.internal:5432`); empty when nothing was sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// What the answer said about the credential (`account`, `scopes`, `expires`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<String, String>,
}

impl Verification {
    /// An `unknown` verdict with a reason and a detail, nothing sent.
    pub fn unknown(reason: Reason, detail: impl Into<String>) -> Verification {
        Verification {
            status: Status::Unknown,
            reason: Some(reason),
            detail: detail.into(),
            checked_at: String::new(),
            host: String::new(),
            identity: BTreeMap::new(),
        }
    }

    /// Whether the credential works.
    pub fn is_live(&self) -> bool {
        self.status == Status::Live
    }

    /// `live`, `invalid`, or `unknown (timeout)`: the verdict in a few words.
    pub fn label(&self) -> String {
        match self.reason {
            Some(r) if self.status == Status::Unknown => format!("unknown ({r})"),
            _ => self.status.to_string(),
        }
    }

    /// `account=acme, scopes=repo`: the identity on one line.
    pub fn identity_text(&self) -> String {
        self.identity
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What verification did in one run: the `verification` object of a report's summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerificationSummary {
    /// Distinct secrets found live.
    pub live: u64,
    /// Distinct secrets the services refused.
    pub invalid: u64,
    /// Distinct secrets not known either way.
    pub unknown: u64,
    /// Verdicts answered from the cache file.
    pub cached: u64,
    /// Requests sent, by host.
    pub hosts: BTreeMap<String, HostRequests>,
    /// Seconds from the first secret queued to the last verdict.
    pub elapsed_seconds: f64,
    /// Whether this was a dry run (nothing sent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// Requests sent to one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostRequests {
    /// Requests (retries included).
    pub requests: u64,
    /// Seconds from the first request's start to the last one's end.
    pub seconds: f64,
}

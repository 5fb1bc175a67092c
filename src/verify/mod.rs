//! Verification: asking each secret's own service whether it still works (`--verify`, off by
//! default).
//!
//! An incident responder with 200 leaked secrets rotates the live ones first. This module
//! takes findings as the scan makes them, asks the service each secret belongs to, and hands
//! the findings on with a [`Verification`] (`live`, `invalid`, or `unknown` with a reason).
//! Verifying must never become the leak, so the design starts from what may be sent where:
//!
//! - **Only to the host its rule declares.** An HTTP verifier is data in the rule
//!   (`[rule.verify]`: method, URL, headers, body, what a live and an invalid answer look like;
//!   [`http`]); its URL's host is written out in the rule and checked when rules load, never
//!   taken from scanned content. Verifiers in code ([`aws`], [`gcp`], [`azure`]) talk to fixed
//!   provider hosts. Rules from a configuration file found in the scanned folder are not
//!   trusted to verify: only built-in rules and files named with `--rules` are.
//! - **Credentials that carry their own host** (database URIs, SSH keys) go only to hosts the
//!   user names with `--verify-host` ([`policy`]); private, loopback and link-local addresses
//!   only when an address pattern names them. Names are resolved once and the checked address
//!   is the one connected to, so DNS cannot swap it afterwards.
//! - **TLS with certificate checks** for every HTTP verifier (rustls with the web PKI roots;
//!   no proxies, no redirects followed). Database protocols use TLS when the URI asks for it
//!   and never send a password in clear over plain TCP except where the protocol always does
//!   (Redis `AUTH`, as the application itself would).
//! - **Read-only requests**: every verifier says why its request changes nothing
//!   (`read_only` in the rule; the protocols authenticate and run nothing).
//! - **One request per distinct secret**: findings are verified by fingerprint ([`engine`]),
//!   optionally remembered across runs in a cache file ([`cache`]); a concurrency cap, a
//!   request rate per host with backoff on 429/503, a timeout per request and a deadline for
//!   the whole run bound what it costs the services and the responder.
//! - **`--verify-dry-run`** says what would be sent where, with the secret left out.
//!
//! The scan is not slowed: [`VerifyingReporter`] sits between the scan and the report, queues
//! each new secret for the verifier threads and returns at once; each finding goes on to the
//! report as soon as its secret's verdict is known (so JSONL still streams), and the report is
//! finished once every verdict is in or the deadline has passed.
//!
//! Tests point provider hosts at loopback servers with a test CA. That redirect exists only in
//! debug builds (`cfg(debug_assertions)`, what `cargo test` builds) and is read from the
//! environment there ([`net`]); no rule, configuration file or scanned content can set it, and a
//! release build has no code for it.

pub mod aws;
pub mod azure;
pub mod cache;
pub mod ctx;
pub mod engine;
pub mod gcp;
pub mod http;
pub mod mongodb;
pub mod mysql;
pub mod net;
pub mod policy;
pub mod postgres;
pub mod redis;
pub mod reporter;
pub mod results;
pub mod scram;
pub mod ssh;
pub mod target;

use std::path::PathBuf;
use std::time::Duration;

pub use crate::finding::verification::{Reason, Status, Verification};
pub use engine::{Engine, Job};
pub use policy::{HostPattern, HostPolicy};
pub use reporter::{VerifyHandle, VerifyingReporter};

/// How verification runs. Every default is stated on its field.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Hosts and networks that credentials carrying their own host may be sent to
    /// (`--verify-host`). Default: none (such credentials are not verified).
    pub hosts: HostPolicy,
    /// `user@host[:port]` targets to offer SSH private keys to (`--verify-ssh`); each host
    /// must also be allowed by [`VerifyOptions::hosts`]. Default: none.
    pub ssh_targets: Vec<String>,
    /// Requests in flight at once, over all hosts. Default 8.
    pub concurrency: usize,
    /// Requests per second to one host. Default 4.
    pub per_host_rate: f64,
    /// Time allowed for one request (connect, send, answer). Default 10 s.
    pub timeout: Duration,
    /// Time allowed for all verification together, from the first request; what is not
    /// verified by then is `unknown` (`timeout`). Default 5 minutes.
    pub deadline: Duration,
    /// Retries after 429/503 (with backoff, honouring `Retry-After` up to 60 s). Default 3.
    pub retries: u32,
    /// Say what would be sent where; send nothing. Default off.
    pub dry_run: bool,
    /// A cache file of verdicts by fingerprint, read at start and written at the end (mode
    /// 0600; no secret in it). Default: none.
    pub cache: Option<PathBuf>,
    /// How long a cached verdict stays good. Default 24 hours.
    pub cache_ttl: Duration,
    /// Rule sources whose verifiers are trusted: `builtin:` rules always are; these are the
    /// files or folders named with `--rules`. Rules from elsewhere (a `ferret.toml` found in
    /// the scanned folder) are not verified. Default: none.
    pub trusted_rule_paths: Vec<PathBuf>,
}

impl Default for VerifyOptions {
    fn default() -> VerifyOptions {
        VerifyOptions {
            hosts: HostPolicy::default(),
            ssh_targets: Vec::new(),
            concurrency: 8,
            per_host_rate: 4.0,
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(300),
            retries: 3,
            dry_run: false,
            cache: None,
            cache_ttl: Duration::from_secs(24 * 3600),
            trusted_rule_paths: Vec::new(),
        }
    }
}

/// What one attempt at a request gave.
#[derive(Debug)]
pub enum Attempt {
    /// A verdict.
    Done(Verification),
    /// The service asked to slow down (429, 503): try again after this long (or a backoff).
    Retry(Option<Duration>),
}

/// The current time in RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// `secs` since the epoch in RFC 3339 (UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A verdict that keeps only identity values that do not give the secret (or a paired value)
/// away: an answer that echoes the credential must not put it in a report. `secrets[0]` is the
/// secret itself; a value that is a long enough piece of it is dropped too.
pub fn scrub(mut v: Verification, secrets: &[&str]) -> Verification {
    v.identity.retain(|_, value| {
        let echoes = secrets.iter().any(|s| s.len() >= 4 && value.contains(s));
        let piece = secrets
            .first()
            .is_some_and(|s| value.len() >= 8 && s.contains(value.as_str()));
        !echoes && !piece
    });
    for value in v.identity.values_mut() {
        if value.chars().count() > 200 {
            *value = value.chars().take(200).collect::<String>() + "…";
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_714_564_803), "2024-05-01T12:00:03Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn identity_never_holds_the_secret() {
        let mut v = Verification::unknown(Reason::Skipped, "");
        v.identity.insert("user".into(), "octocat".into());
        v.identity.insert("echo".into(), "token ghp_abcdef".into());
        let v = scrub(v, &["ghp_abcdef"]);
        assert_eq!(v.identity.len(), 1);
        assert!(v.identity.contains_key("user"));
    }
}

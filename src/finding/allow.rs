//! What a team has accepted: inline allow comments, the allowlist, and the baseline.
//!
//! Three ways to keep a known finding quiet, checked at two places:
//!
//! - **Inline comments** on the secret's line: `ferret:allow`, and for teams migrating from other
//!   scanners `gitleaks:allow` and detect-secrets' `pragma: allowlist secret`. They are checked
//!   by [`crate::confirm::confirm`], which sees the bytes around the secret: the marker must be on
//!   the same line, within [`crate::confirm::CONTEXT_BYTES`] of the secret (the same bytes a
//!   report shows as context). Bounding the search that way keeps a chunked scan equal to a
//!   whole one: every chunk's buffer holds at least that much around each of its secrets.
//! - **The allowlist** ([`Allowlist`], from `ferret.toml`): fingerprints, SHA-256 hashes of
//!   secrets (so a team can allow a value without writing it down: `printf %s "$VALUE" |
//!   sha256sum`), and regexes matched against the secret.
//! - **The baseline** (a set of fingerprints, [`crate::finding::baseline`]): yesterday's findings,
//!   so that CI fails only on new ones.
//!
//! [`Allowlist::verdict`] says which of the last two, if any, suppresses a finding. Suppressed
//! findings are counted in the summary, never reported.

use std::collections::HashSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Finding;
use super::fingerprint::hex;
use crate::error::{Error, Result};

/// The inline markers that allow a finding on their line.
pub const INLINE_MARKERS: [&str; 5] = [
    "ferret:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
    "pragma:allowlist secret",
    "pragma: allowlist-secret",
];

/// Whether the bytes of the secret's line around it (`before` and `after`, each bounded to the
/// context a report shows) carry an inline allow marker.
pub fn is_inline_allowed(before: &[u8], after: &[u8]) -> bool {
    [before, after].into_iter().any(|side| {
        INLINE_MARKERS
            .iter()
            .any(|m| memchr::memmem::find(side, m.as_bytes()).is_some())
    })
}

/// Why a finding is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Suppression {
    /// Its fingerprint is in the baseline.
    Baseline,
    /// The allowlist covers it (fingerprint, secret hash or regex).
    Allowlist,
}

/// Fingerprints, secret hashes and regexes that suppress findings, plus the baseline.
#[derive(Debug, Default)]
pub struct Allowlist {
    fingerprints: HashSet<String>,
    secret_hashes: HashSet<String>,
    regexes: Vec<regex_automata::meta::Regex>,
    baseline: HashSet<String>,
}

/// The SHA-256 of a secret, as lowercase hex: what `[allowlist] secrets` lists.
pub fn secret_sha256(secret: &[u8]) -> String {
    hex(&Sha256::digest(secret))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Allowlist {
    /// An allowlist that suppresses nothing.
    pub fn new() -> Allowlist {
        Allowlist::default()
    }

    /// Whether nothing is suppressed.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
            && self.secret_hashes.is_empty()
            && self.regexes.is_empty()
            && self.baseline.is_empty()
    }

    /// Allows a finding fingerprint (32 hex digits, as reports print it).
    pub fn add_fingerprint(&mut self, fingerprint: &str) -> Result<&mut Self> {
        if !is_hex(fingerprint, 32) {
            return Err(Error::Config {
                path: "allowlist".into(),
                message: format!("fingerprint {fingerprint:?} is not 32 hex digits"),
            });
        }
        self.fingerprints.insert(fingerprint.to_ascii_lowercase());
        Ok(self)
    }

    /// Allows a secret by its SHA-256 (64 hex digits), whatever rule finds it.
    pub fn add_secret_sha256(&mut self, hash: &str) -> Result<&mut Self> {
        if !is_hex(hash, 64) {
            return Err(Error::Config {
                path: "allowlist".into(),
                message: format!("secret hash {hash:?} is not a SHA-256 (64 hex digits)"),
            });
        }
        self.secret_hashes.insert(hash.to_ascii_lowercase());
        Ok(self)
    }

    /// Allows secrets that `pattern` matches (anywhere in the secret; anchor it with `^…$`).
    pub fn add_regex(&mut self, pattern: &str) -> Result<&mut Self> {
        let re = regex_automata::meta::Regex::new(pattern).map_err(|e| Error::Config {
            path: "allowlist".into(),
            message: format!("invalid regex {pattern:?}: {e}"),
        })?;
        self.regexes.push(re);
        Ok(self)
    }

    /// Adds the fingerprints of a baseline.
    pub fn add_baseline(&mut self, fingerprints: impl IntoIterator<Item = String>) -> &mut Self {
        self.baseline.extend(fingerprints);
        self
    }

    /// Why `finding` is suppressed, or `None` if it is to be reported.
    pub fn verdict(&self, finding: &Finding) -> Option<Suppression> {
        if self.is_empty() {
            return None;
        }
        if self.baseline.contains(finding.fingerprint.as_str()) {
            return Some(Suppression::Baseline);
        }
        let secret = finding.secret.as_bytes();
        if self.fingerprints.contains(finding.fingerprint.as_str())
            || (!self.secret_hashes.is_empty()
                && self.secret_hashes.contains(&secret_sha256(secret)))
            || self.regexes.iter().any(|re| re.is_match(secret))
        {
            return Some(Suppression::Allowlist);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_on_either_side() {
        assert!(is_inline_allowed(b"token = ", b" # ferret:allow test key"));
        assert!(is_inline_allowed(b"// gitleaks:allow\tT=", b""));
        assert!(is_inline_allowed(b"", b"  # pragma: allowlist secret"));
        assert!(!is_inline_allowed(b"token = ", b" # ferret: allow"));
        assert!(!is_inline_allowed(b"", b""));
    }

    #[test]
    fn bad_entries_are_errors() {
        let mut a = Allowlist::new();
        assert!(a.add_fingerprint("xyz").is_err());
        assert!(a.add_secret_sha256(&"a".repeat(63)).is_err());
        assert!(a.add_regex("(").is_err());
        assert!(a.add_fingerprint(&"AB".repeat(16)).is_ok());
        assert!(a.add_secret_sha256(&secret_sha256(b"x")).is_ok());
    }

    #[test]
    fn sha256_of_a_secret() {
        assert_eq!(
            secret_sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

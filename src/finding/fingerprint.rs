//! Fingerprints: the same secret has the same id wherever it spread.
//!
//! A fingerprint is the first 128 bits of SHA-256 over a domain tag, the rule id and the secret,
//! printed as 32 hex digits. It contains no offset or path, so line moves and renames keep it,
//! and a baseline or a blast-radius group can be keyed on it.

use sha2::{Digest, Sha256};

/// The fingerprint of `secret` found by rule `rule_id`.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"ferret-fingerprint-v1\0");
    h.update(rule_id.as_bytes());
    h.update(b"\0");
    h.update(secret);
    let digest = h.finalize();
    hex(&digest[..16])
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        let a = fingerprint("github.pat.classic", b"ghp_abc");
        assert_eq!(a.len(), 32);
        assert_eq!(a, fingerprint("github.pat.classic", b"ghp_abc"));
        assert_ne!(a, fingerprint("github.pat.classic", b"ghp_abd"));
        assert_ne!(a, fingerprint("github.pat.fine", b"ghp_abc"));
        // The separator keeps (rule, secret) pairs from colliding by concatenation.
        assert_ne!(fingerprint("ab", b"c"), fingerprint("a", b"bc"));
    }
}

//! Fingerprints: the same secret has the same id wherever it spread, and the id does not give
//! the secret away.
//!
//! A fingerprint is the first 128 bits of HMAC-SHA-256 over a domain tag, the rule id and the
//! secret, printed as 32 hex digits. It holds no offset or path, so line moves and renames keep
//! it, and baselines, state files and blast-radius groups are keyed on it.
//!
//! Fingerprints end up in reports, baselines committed to repositories and CI logs, so they must
//! not let anyone recover the secret by trying candidates:
//!
//! - **Keyed.** The HMAC key is the team's `FERRET_FINGERPRINT_KEY` environment variable when
//!   set (a CI secret, never a file in the repository): without it, a fingerprint cannot be
//!   checked against a guess at all.
//!   Use the same key everywhere fingerprints are compared (CI, laptops, baselines). Without a
//!   key, a built-in public key is used, and what protects a secret is its length and the
//!   stretching below.
//! - **Stretched for short secrets.** A secret shorter than [`STRETCH_BELOW`] bytes (a password)
//!   is first hashed [`STRETCH_ROUNDS`] times (SHA-256 chained with the secret), so each guess
//!   costs that many hashes: a brute force over 8-character passwords becomes 4,096 times
//!   dearer. Long random tokens (API keys are 20 to 200 random characters) are out of reach of
//!   guessing anyway.
//!
//! **The cost, bounded.** Stretching costs about 0.3 ms per distinct short secret, which a
//! file of a million distinct passwords (a dump, a word list, generated test data) turns into
//! minutes. So it is done once the findings of a blob are in ([`crate::confirm::finalize`]),
//! in parallel, and only for the first [`STRETCH_PER_BLOB`] distinct short secrets of a blob in
//! the order of their offsets (a stream: of each batch); the others of that blob get the keyed
//! HMAC alone ([`fingerprint_with`] without stretching). The trade-off: a short secret of a
//! blob with more distinct short secrets than that has a fingerprint that is cheaper to test a
//! guess against (a plain keyed HMAC: still nothing without a team key), and that differs from
//! the fingerprint the same secret has in a blob where it was stretched, so the blast radius
//! counts those places apart. Both are deterministic: the same bytes give the same
//! fingerprints on every run, so baselines and state files keep matching.
//!
//! The scheme is versioned by its domain tag (`ferret-fingerprint-v2`).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Secrets shorter than this many bytes are stretched before hashing.
pub const STRETCH_BELOW: usize = 24;

/// Rounds of SHA-256 for short secrets (about 0.3 ms with SHA extensions).
pub const STRETCH_ROUNDS: u32 = 4_096;

/// Distinct short secrets stretched per blob (in order of offset), at most: see the module
/// docs for the trade-off.
pub const STRETCH_PER_BLOB: usize = 256;

/// Stretched secrets remembered per process, at most: a file that repeats one password a
/// million times pays for it once.
const MEMO_MAX: usize = 1 << 16;

/// The key used when the user sets none (public: see the module docs).
const DEFAULT_KEY: &[u8] = b"ferret-public-fingerprint-key-v2";

static KEY: OnceLock<Vec<u8>> = OnceLock::new();

fn key() -> &'static [u8] {
    KEY.get_or_init(|| {
        std::env::var_os("FERRET_FINGERPRINT_KEY")
            .filter(|k| !k.is_empty())
            .map(|k| k.into_encoded_bytes())
            .unwrap_or_else(|| DEFAULT_KEY.to_vec())
    })
}

/// The HMAC keyed with [`key`] that has taken in the domain tag: made once, cloned for each
/// fingerprint (keying costs two SHA-256 blocks, as much as a short fingerprint itself).
fn keyed() -> Hmac<Sha256> {
    static KEYED: OnceLock<Hmac<Sha256>> = OnceLock::new();
    KEYED
        .get_or_init(|| {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key())
                .expect("HMAC takes any key length");
            mac.update(b"ferret-fingerprint-v2\0");
            mac
        })
        .clone()
}

/// The fingerprint of `secret` found by rule `rule_id` (stretched if it is short).
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> Fingerprint {
    fingerprint_with(rule_id, secret, true)
}

/// Whether [`fingerprint`] stretches `secret` (it is shorter than [`STRETCH_BELOW`]).
pub fn is_short(secret: &[u8]) -> bool {
    secret.len() < STRETCH_BELOW
}

/// The fingerprint of `secret`, stretched if it is short and `stretch` says so (see the
/// module docs: a blob's short secrets past [`STRETCH_PER_BLOB`] are not).
pub fn fingerprint_with(rule_id: &str, secret: &[u8], stretch: bool) -> Fingerprint {
    let mut mac = keyed();
    mac.update(rule_id.as_bytes());
    mac.update(b"\0");
    if is_short(secret) && stretch {
        mac.update(&stretched(secret));
    } else {
        mac.update(secret);
    }
    Fingerprint::of(&mac.finalize().into_bytes())
}

/// Fills in the fingerprints left empty by the confirm stage (short secrets: see the module
/// docs) of one blob's `findings`, sorted by offset: the first [`STRETCH_PER_BLOB`] distinct
/// short secrets stretched, in parallel on the current rayon pool; the others not.
pub fn fill_short(findings: &mut [crate::finding::Finding]) {
    use rayon::prelude::*;
    use std::collections::HashSet;
    if findings.iter().all(|f| !f.fingerprint.is_empty()) {
        return;
    }
    let mut chosen: HashSet<&str> = HashSet::new();
    for f in findings.iter().filter(|f| f.fingerprint.is_empty()) {
        if chosen.len() >= STRETCH_PER_BLOB {
            break;
        }
        chosen.insert(f.secret.as_str());
    }
    let chosen: Vec<&str> = chosen.into_iter().collect();
    let stretched: HashMap<String, [u8; 32], Quick> = chosen
        .into_par_iter()
        .with_max_len(1)
        .map(|s| (s.to_string(), self::stretched(s.as_bytes())))
        .collect();
    // A keyed HMAC each (a fraction of a microsecond), in parallel: a blob may hold a few
    // hundred thousand short secrets.
    let each = |f: &mut crate::finding::Finding| {
        let secret = f.secret.as_bytes();
        let mut mac = keyed();
        mac.update(f.rule.id().as_bytes());
        mac.update(b"\0");
        match stretched.get(f.secret.as_str()) {
            Some(h) => mac.update(h),
            None => mac.update(secret),
        }
        f.fingerprint = Fingerprint::of(&mac.finalize().into_bytes());
    };
    findings
        .par_iter_mut()
        .with_min_len(4096)
        .filter(|f| f.fingerprint.is_empty())
        .for_each(each);
}

/// A quick hash for the few hundred secrets [`fill_short`] looks every short secret of a blob
/// up in (SipHash, the default, cost more than the lookups' other work): FNV-1a over what the
/// key writes (a string's bytes and its end marker). Not for maps an input could flood: this one holds at most
/// [`STRETCH_PER_BLOB`] keys, chosen before any lookup.
#[derive(Default, Clone, Copy)]
struct Quick;

struct QuickHasher(u64);

impl std::hash::BuildHasher for Quick {
    type Hasher = QuickHasher;
    fn build_hasher(&self) -> QuickHasher {
        QuickHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for QuickHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// [`stretch`], remembered.
fn stretched(secret: &[u8]) -> [u8; 32] {
    static MEMO: OnceLock<Mutex<HashMap<Vec<u8>, [u8; 32]>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    if let Some(h) = memo.lock().ok().and_then(|m| m.get(secret).copied()) {
        return h;
    }
    let h = stretch(secret);
    if let Ok(mut m) = memo.lock() {
        if m.len() >= MEMO_MAX {
            m.clear();
        }
        m.insert(secret.to_vec(), h);
    }
    h
}

/// SHA-256 chained `STRETCH_ROUNDS` times over the secret: `h = SHA-256(h ‖ secret)`.
///
/// Every round after the first hashes fewer than 56 bytes (32 of the last hash and a short
/// secret), one padded block: the block is laid out once and only its first 32 bytes change,
/// compressed from the initial state each round (as [`stretch_by_digest`] does through the
/// hashing API, at twice the cost).
fn stretch(secret: &[u8]) -> [u8; 32] {
    /// SHA-256's initial state (FIPS 180-4, 5.3.3).
    const IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let mut h: [u8; 32] = Sha256::digest(secret).into();
    let len = 32 + secret.len();
    if len > 55 {
        return stretch_by_digest(secret, h);
    }
    let mut block = [0u8; 64];
    block[32..len].copy_from_slice(secret);
    block[len] = 0x80;
    block[56..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
    for _ in 1..STRETCH_ROUNDS {
        block[..32].copy_from_slice(&h);
        let mut state = IV;
        sha2::block_api::compress256(&mut state, std::slice::from_ref(&block));
        for (out, word) in h.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
    }
    h
}

/// The rounds of [`stretch`] after the first (`h`) through the hashing API: for secrets too
/// long for one block, and the reference the one-block rounds are tested against.
fn stretch_by_digest(secret: &[u8], mut h: [u8; 32]) -> [u8; 32] {
    for _ in 1..STRETCH_ROUNDS {
        let mut d = Sha256::new();
        d.update(h);
        d.update(secret);
        h = d.finalize().into();
    }
    h
}

/// A fingerprint as people and files see it: 32 lowercase hex digits, kept in place (a
/// dump's few hundred thousand findings would otherwise hold an allocation each for it).
/// Empty until it is made ([`fill_short`] fills the short secrets' in after the confirm stage).
/// It reads as a `&str` wherever text is wanted.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    hex: [u8; 32],
    len: u8,
}

impl Fingerprint {
    /// The fingerprint whose first 16 bytes of HMAC are `digest`.
    fn of(digest: &[u8]) -> Fingerprint {
        let mut out = Fingerprint {
            hex: [0; 32],
            len: 32,
        };
        hex_into(&digest[..16], &mut out.hex);
        out
    }

    /// The text: 32 hex digits, or nothing before it is made.
    pub fn as_str(&self) -> &str {
        // Only hex digits are ever written (`of`, and `From<&str>` checks): never fails.
        std::str::from_utf8(&self.hex[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl From<&str> for Fingerprint {
    /// A fingerprint read back (a state file): kept when it is 32 hex digits or fewer (a
    /// malformed one reads as empty rather than cut).
    fn from(text: &str) -> Fingerprint {
        let mut out = Fingerprint::default();
        if text.len() <= 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.hex[..text.len()].copy_from_slice(text.as_bytes());
            out.len = text.len() as u8;
        }
        out
    }
}

impl std::ops::Deref for Fingerprint {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<String> for Fingerprint {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    hex_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the lowercase hex of `bytes` into `out` (two digits a byte, as far as it holds).
fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[(b >> 4) as usize];
        pair[1] = DIGITS[(b & 15) as usize];
    }
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
        let long = [b'x'; 40];
        assert_ne!(fingerprint("r", &long), fingerprint("r", &long[..39]));
    }

    #[test]
    fn one_block_rounds_equal_the_hashing_api() {
        // Every length a stretched secret can have, and past it (the API's path).
        for len in 0..40 {
            let secret: Vec<u8> = (0..len).map(|i| b'a' + (i * 7 % 26) as u8).collect();
            let first: [u8; 32] = Sha256::digest(&secret).into();
            assert_eq!(
                stretch(&secret),
                stretch_by_digest(&secret, first),
                "length {len}"
            );
        }
    }

    #[test]
    fn a_fingerprint_is_not_a_plain_hash_of_the_secret() {
        // Guessing a short secret takes the key and STRETCH_ROUNDS hashes per guess: the
        // fingerprint differs from any single unkeyed hash of the inputs.
        let f = fingerprint("generic.password-assignment", b"hunter2");
        let plain = hex(&Sha256::digest(
            b"ferret-fingerprint-v2\0generic.password-assignment\0hunter2",
        )[..16]);
        assert_ne!(f, plain);
        let stretched = stretch(b"hunter2");
        assert_ne!(stretched, <[u8; 32]>::from(Sha256::digest(b"hunter2")));
    }
}

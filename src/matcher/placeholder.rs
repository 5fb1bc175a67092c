//! Rejects values that only look like secrets: documentation examples, template variables,
//! environment lookups, masked values and filler ([`reason`], for every rule), and, for generic
//! rules, the high-entropy values that are not credentials: UUIDs, digests, git SHAs, lockfile
//! integrity hashes, public keys, paths ([`lookalike`]).
//!
//! Every check here is on the candidate secret alone. The markers are chosen so that a random
//! token of the lengths real providers issue contains one with negligible probability: for
//! example five `x` in a row occur in a random 40-character base62 string with probability
//! about 40 × (2/62)^5 ≈ 1.4 × 10⁻⁶.
//!
//! Known example values are the keys that providers print in their own documentation (AWS's
//! `…EXAMPLE` keys are caught by the `example` marker; others are listed in [`KNOWN_EXAMPLES`]):
//! they are in thousands of tutorials and never grant anything.

/// Text that marks a value as an example or a fill-in, matched ASCII-case-insensitively.
const MARKERS: &[&str] = &[
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "yourpassword",
    "insert_",
    "insert-",
    "replace_me",
    "replaceme",
    "dummy",
    "sample",
    "xxxxx",
    "***",
    "...",
    "\u{2026}",
    "\u{2022}\u{2022}",
    "\u{25cf}\u{25cf}",
    "${",
    "{{",
    "$(",
    "%(",
    "#{",
    "<%",
    "12345678",
    "abcdefgh",
    "_here",
    "-here",
    "[masked]",
    "[hidden]",
    "filtered]",
    "os.environ",
    "os.getenv",
    "process.env",
    "getenv(",
    "env::var",
    "fake_",
    "fake-",
    "-fake",
    "_fake",
    "not_a_real",
    "not-a-real",
    "notarealkey",
    "unique phrase",
    "&lt;",
    "&gt;",
    "####",
];

/// Markers matched with their case: four `x` in a row in any case would hit one random
/// 40-character token in about 25,000, four lowercase ones in about 400,000.
const EXACT_MARKERS: &[&str] = &["xxxx", "XXXX", "0000000000"];

/// Four dashes in a row are filler (`RANDOMCHARS-----lGyj…`, a value cut short with `----`)
/// outside armour (`-----BEGIN …`): in a random base64url token of 40 characters they occur
/// about once in 450,000.
const DASHES: &[u8] = b"----";

/// Keys and tokens published in providers' documentation and tutorials.
pub const KNOWN_EXAMPLES: &[&str] = &[
    // Azurite / Azure Storage Emulator's well-known account key.
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    // Stripe's documentation test keys.
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    // jwt.io's sample token.
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    // Slack's API documentation.
    "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    // GitHub's documentation.
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    // Mailgun's documentation.
    "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
    // RFC 6749 (OAuth 2.0) examples: access token, refresh token, code, client secret, and
    // the Basic credentials of client s6BhdRkqt3; RFC 7617's Aladdin:open sesame.
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "SplxlOBeZQQYbYS6WxSbIA",
    "7Fjfp0ZBr1KtDRbnfVdmIw",
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    "gX1fBat3bV",
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    // Google's API-key documentation.
    "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
];

/// Values that are defaults or documentation, rejected when they are the whole secret
/// (compared ASCII-case-insensitively).
const COMMON_VALUES: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "secret",
    "root",
    "admin",
    "administrator",
    "guest",
    "user",
    "username",
    "test",
    "testing",
    "default",
    "postgres",
    "mysql",
    "redis",
    "mongo",
    "rabbitmq",
    "letmein",
    "qwerty",
    "token",
    "apikey",
    "api_key",
    "null",
    "none",
    "undefined",
    "true",
    "false",
    "secret123",
    "password123",
    "password1",
];

/// Why `secret` is a placeholder, or `None` when it may be real.
pub fn reason(secret: &[u8]) -> Option<&'static str> {
    if let Some(v) = COMMON_VALUES
        .iter()
        .find(|v| secret.eq_ignore_ascii_case(v.as_bytes()))
    {
        return Some(v);
    }
    if KNOWN_EXAMPLES.iter().any(|k| k.as_bytes() == secret) {
        return Some("a documentation example");
    }
    // In a long secret (an armoured key, a certificate-sized blob) a short run of letters like
    // `xxxx` or `dummy` turns up by chance, so only the markers no random text holds count.
    let long = secret.len() > 256;
    // One pass of an automaton over the secret says whether any marker is in it (nearly never
    // in a real secret); only then is the marker named, the first of the list that is in it.
    if markers(long).is_match(secret) {
        for marker in MARKERS {
            if long && weak(marker) {
                continue;
            }
            if contains_ignore_case(secret, marker.as_bytes()) {
                return Some(marker);
            }
        }
    }
    if !long {
        for marker in EXACT_MARKERS {
            if memchr::memmem::find(secret, marker.as_bytes()).is_some() {
                return Some(marker);
            }
        }
        if memchr::memmem::find(secret, DASHES).is_some() && !secret.starts_with(b"-----BEGIN") {
            return Some("----");
        }
    }
    // `$API_KEY`, `%API_KEY%`: a variable, not a value.
    if secret.first() == Some(&b'$')
        || (secret.len() > 2 && secret.first() == Some(&b'%') && secret.last() == Some(&b'%'))
    {
        return Some("a variable");
    }
    // `<token>`, `<YOUR KEY>`: a value wrapped in angle brackets.
    if secret.len() >= 3 && secret.first() == Some(&b'<') && secret.last() == Some(&b'>') {
        return Some("<…>");
    }
    // `aaaaaaaaaa`, `abababab`: too few distinct bytes for the length.
    if secret.len() >= 8 {
        let mut seen = [false; 256];
        let mut distinct = 0;
        for &b in secret {
            if !seen[b as usize] {
                seen[b as usize] = true;
                distinct += 1;
            }
        }
        if distinct <= 2 {
            return Some("repeated characters");
        }
    }
    // `ghp_000000000000…`: a long run of one character in a token-sized value. (Long values
    // such as OpenSSH keys legitimately contain runs of `A`.)
    if secret.len() <= 256 && longest_run(secret) >= 8 {
        return Some("a run of one character");
    }
    // `…1234567890abcdef…`, `abcdefgh…`: a typed sequence. Six ascending characters turn up in
    // a random 40-character hex token about once in 40,000, in base62 far less often.
    if secret.len() <= 256 && (longest_ascending(secret, 1) >= 6 || typed_pattern(secret)) {
        return Some("a sequence");
    }
    None
}

/// `abcd1234efgh5678…` (three ascending runs of four) or `a1b2c3d4e5f6…` (every other
/// character ascending six times): keyboard filler, not a random token.
fn typed_pattern(secret: &[u8]) -> bool {
    let mut runs = 0;
    let mut run = 1;
    for w in secret.windows(2) {
        if w[0].is_ascii_alphanumeric() && w[1] == w[0].wrapping_add(1) {
            run += 1;
        } else {
            if run >= 4 {
                runs += 1;
            }
            run = 1;
        }
    }
    if run >= 4 {
        runs += 1;
    }
    runs >= 3 || longest_ascending(secret, 2) >= 6
}

/// The longest run of alphanumerics each one more than the one `stride` places before.
fn longest_ascending(bytes: &[u8], stride: usize) -> usize {
    let mut best = 0;
    for phase in 0..stride {
        let mut run = 0;
        let mut prev: Option<u8> = None;
        for &b in bytes.iter().skip(phase).step_by(stride) {
            run = match prev {
                Some(p) if b.is_ascii_alphanumeric() && b == p.wrapping_add(1) => run + 1,
                _ => 1,
            };
            prev = Some(b);
            best = best.max(run);
        }
    }
    best
}

/// Why a generic rule's value is not a credential although it has the entropy of one, or
/// `None`: a UUID, a digest (`sha256:…`, `sha512-…` lockfile integrity, or bare hex of a digest's
/// length), a public key, a number, or a path.
pub fn lookalike(secret: &[u8]) -> Option<&'static str> {
    let s = secret
        .strip_prefix(b"{")
        .and_then(|s| s.strip_suffix(b"}"))
        .unwrap_or(secret);
    if is_uuid(s) {
        return Some("a UUID");
    }
    const DIGEST_PREFIXES: &[&str] = &[
        "sha1-", "sha256-", "sha384-", "sha512-", "sha1:", "sha256:", "sha384:", "sha512:", "md5:",
        "md5-", "sha256=", "sha1=",
    ];
    if DIGEST_PREFIXES
        .iter()
        .any(|p| secret.len() > p.len() && secret[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
    {
        return Some("a digest");
    }
    if secret.iter().all(u8::is_ascii_hexdigit) && matches!(secret.len(), 40 | 64 | 96 | 128) {
        return Some("a hex digest or git SHA");
    }
    const PUBLIC_KEYS: &[&str] = &[
        "ssh-rsa",
        "ssh-ed25519",
        "ecdsa-sha2-",
        "AAAAB3NzaC1",
        "AAAAC3NzaC1",
        "AAAAE2VjZHNh",
        "pk_live_",
        "pk_test_",
        "age1",
        "npub1",
        "-----BEGIN PUBLIC",
        "-----BEGIN CERTIFICATE",
    ];
    if PUBLIC_KEYS.iter().any(|p| secret.starts_with(p.as_bytes())) {
        return Some("a public key");
    }
    if secret
        .iter()
        .all(|b| b.is_ascii_digit() || b".-_:".contains(b))
    {
        return Some("a number");
    }
    let slashes = secret.iter().filter(|&&b| b == b'/').count();
    let lower_no_digits = !secret
        .iter()
        .any(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if slashes >= 2
        && (secret.starts_with(b"/")
            || secret.starts_with(b"./")
            || secret.starts_with(b"~/")
            || lower_no_digits
            || secret.split(|&b| b == b'/').all(|seg| {
                seg.iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b))
            }))
    {
        return Some("a path");
    }
    if secret.starts_with(b"arn:") {
        return Some("a resource name");
    }
    // Code, not a value: `,rememberMe…`, `#add-password` (a selector), `cms_user_password`.
    if secret.first().is_some_and(|b| b",;)]}>".contains(b)) {
        return Some("code");
    }
    if secret.first() == Some(&b'#')
        && secret[1..]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(b))
    {
        return Some("a selector");
    }
    let identifier = secret
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_#.-".contains(b));
    if identifier
        && secret.iter().any(|b| b"_#.-".contains(b))
        && ["password", "passwd", "secret", "token"]
            .iter()
            .any(|w| contains_ignore_case(secret, w.as_bytes()))
    {
        return Some("an identifier");
    }
    None
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn longest_run(bytes: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in bytes {
        run = if Some(b) == prev { run + 1 } else { 1 };
        prev = Some(b);
        best = best.max(run);
    }
    best
}

/// A marker short and plain enough to turn up by chance in a long random secret.
fn weak(marker: &str) -> bool {
    marker.len() < 6 && marker.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An automaton of [`MARKERS`] (ASCII case folded), or of those that count in a long secret.
fn markers(long: bool) -> &'static aho_corasick::AhoCorasick {
    static ALL: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| marker_automaton(MARKERS.iter().copied()));
    static STRONG: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            marker_automaton(
                MARKERS
                    .iter()
                    .copied()
                    .filter(|m| !(m.len() < 6 && m.bytes().all(|b| b.is_ascii_alphanumeric()))),
            )
        });
    if long { &STRONG } else { &ALL }
}

fn marker_automaton<'m>(markers: impl Iterator<Item = &'m str>) -> aho_corasick::AhoCorasick {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(markers)
        // A fixed list of a few dozen short strings: building it cannot fail.
        .unwrap_or_else(|e| unreachable!("marker automaton: {e}"))
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::reason;

    #[test]
    fn placeholders_are_rejected() {
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "${GITHUB_TOKEN}",
            "{{ vault_token }}",
            "<token>",
            "sk-proj-xxxxxxxxxxxxxxxxxxxx",
            "ghp_************************************",
            "your-token-here",
            "changeme",
            "sk-...abcd",
            "aaaaaaaaaaaa",
            "shpat_00000000000000000000000000000000",
            "password",
            "Root",
            "sk-***abcd",
            "${{ secrets.HF_TOKEN }}",
            "$HF_TOKEN",
            "%API_KEY%",
            "os.environ['OPENAI_API_KEY']",
            "api-key-here",
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "ghp_XXXXabcdefghijklmnopqrstuvwxyz012345",
            "dapi1234567890abcdef1234567890abcdef",
            "&lt;YOURPASSWORD&gt;",
            "sbp_abcd1234efgh5678ijkl9012mnop3456qrst7890",
            "a1b2c3d4-e5f6-g7h8-i9j0-k1l2m3n4o5p6",
            "password=######",
            "RANDOMCHARS-----lGyjPcRtvQ",
            "Xq7vR2mK----",
        ] {
            assert!(
                reason(p.as_bytes()).is_some(),
                "{p} should be a placeholder"
            );
        }
    }

    #[test]
    fn random_tokens_pass() {
        for s in [
            "ghp_R8vQ2mXk7LpZ3nT9wY4sB6dF1hJ0cA5eGqWx",
            "AKIA4QGJ7W2ZBXN5KD3M",
            "hf_kPzRtYvWmQnXbLcJdHsFgAeUiOpTrEwQyZxC",
            "p4ssW0rd-Kz9!q",
            "Kz9-q7vR--2mX_bLcJ-dHsF",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIH7qZ3vR9pLm2Xk8Tw4Nb6Jc1Fd5Gs0Hy3Ua7Qe2Vz9K\n-----END PRIVATE KEY-----",
        ] {
            assert_eq!(reason(s.as_bytes()), None, "{s} should pass");
        }
    }

    #[test]
    fn lookalikes_of_generic_values() {
        use super::lookalike;
        for l in [
            "3f2a9c1e-7b4d-4e8a-9f0c-2d6b8a1e5c3f",
            "{3F2A9C1E-7B4D-4E8A-9F0C-2D6B8A1E5C3F}",
            "sha512-Zp3dW1xB0c8oQ0F2zTy3l5bZ9w8d4nW3n5QmZ0xVqk0=",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "AAAAC3NzaC1lZDI1NTE5AAAAIGq3iSvIQyV5lYk1ljb",
            "pk_live_51HqLyjWDarjtT1zdp7dc",
            "20240101123456789",
            "projects/acme-ml/secrets/db-password/versions/latest",
            "/etc/ssl/private/server-2024.key",
            "cms/sites/passwords#edit",
            "arn:aws:iam::aws:policy/IAMUserChangePassword",
            ",rememberMeLabel:",
            "#add-password",
            "cms_user_password",
        ] {
            assert!(
                lookalike(l.as_bytes()).is_some(),
                "{l} should be a look-alike"
            );
        }
        for s in [
            "lacxtqjkKvOupRqOrU1CuczAUZ5uzhdW6VvHDwcp",
            "CY8f5N3/ynbdrZRzsGQBJg3UHKwkflF6XUi5Ahuq",
            "9f86d081884c7d659a2feaa0c55ad015",
        ] {
            assert_eq!(lookalike(s.as_bytes()), None, "{s} may be a secret");
        }
    }
}

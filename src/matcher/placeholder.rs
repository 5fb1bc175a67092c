//! Rejects values that only look like secrets: documentation examples, template variables,
//! masked values and filler.
//!
//! Every check here is on the candidate secret alone. The markers are chosen so that a random
//! token of the lengths real providers issue contains one with negligible probability: for
//! example five `x` in a row occur in a random 40-character base62 string with probability
//! about 40 × (2/62)^5 ≈ 1.4 × 10⁻⁶.

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
    "*****",
    "...",
    "\u{2026}",
    "${",
    "{{",
    "$(",
    "%(",
    "#{",
    "12345678",
    "abcdefgh",
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
    for marker in MARKERS {
        if contains_ignore_case(secret, marker.as_bytes()) {
            return Some(marker);
        }
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
    None
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
        ] {
            assert_eq!(reason(s.as_bytes()), None, "{s} should pass");
        }
    }
}

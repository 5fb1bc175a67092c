//! Named offline validators: checks a rule can ask for that tell a real token from a look-alike
//! without contacting anyone.
//!
//! A validator never sends a secret anywhere. It checks structure only: a checksum the issuer
//! embedded in the token, or a shape that a random string would not have. A failure lowers the
//! finding's confidence; a rule drops failures only if it sets `require_valid`.

use base64::Engine as _;
use serde::Serialize;

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

/// The validators a rule may name.
pub const NAMES: &[&str] = &["github-crc32", "npm-crc32", "jwt"];

/// Whether `name` is a known validator.
pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Runs validator `name` on `secret`. An unknown name (prevented by the rule checker) passes
/// nothing: [`Validation::Failed`].
pub fn validate(name: &str, secret: &[u8]) -> Validation {
    let ok = match name {
        "github-crc32" | "npm-crc32" => crc32_token(secret),
        "jwt" => jwt(secret),
        _ => false,
    };
    if ok {
        Validation::Passed
    } else {
        Validation::Failed
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base 62, left-padded with `0` to `width` digits.
pub fn base62(mut n: u32, width: usize) -> String {
    let mut digits = Vec::with_capacity(width);
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens: after the prefix,
/// 30 random base62 characters and 6 characters of base62 CRC32 of those 30.
fn crc32_token(secret: &[u8]) -> bool {
    let Some(us) = secret.iter().position(|&b| b == b'_') else {
        return false;
    };
    let rest = &secret[us + 1..];
    if rest.len() != 36 || !rest.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (body, check) = rest.split_at(30);
    base62(crc32fast::hash(body), 6).as_bytes() == check
}

/// A JWT: three base64url parts; the header decodes to a JSON object with an `alg`, the payload
/// to a JSON object.
fn jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let decode = |part: &[u8]| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.strip_suffix(b"=").unwrap_or(part))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    };
    let header_ok = decode(header).is_some_and(|h| h.get("alg").is_some_and(|a| a.is_string()));
    header_ok && decode(payload).is_some_and(|p| p.is_object())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum() {
        let body = "R8vQ2mXk7LpZ3nT9wY4sB6dF1hJ0cA";
        let token = format!("ghp_{body}{}", base62(crc32fast::hash(body.as_bytes()), 6));
        assert_eq!(
            validate("github-crc32", token.as_bytes()),
            Validation::Passed
        );
        let mut bad = token.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert_eq!(validate("github-crc32", &bad), Validation::Failed);
        assert_eq!(validate("github-crc32", b"ghp_short"), Validation::Failed);
    }

    #[test]
    fn base62_pads() {
        assert_eq!(base62(0, 6), "000000");
        assert_eq!(base62(61, 2), "0z");
        assert_eq!(base62(62, 2), "10");
        assert_eq!(base62(u32::MAX, 6), "4gfFC3");
    }

    #[test]
    fn jwt_structure() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"1234567890"} . signature
        let good = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl";
        assert_eq!(validate("jwt", good), Validation::Passed);
        let no_alg = b"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl";
        assert_eq!(validate("jwt", no_alg), Validation::Failed);
        assert_eq!(validate("jwt", b"eyJhbGciOi.x"), Validation::Failed);
    }
}

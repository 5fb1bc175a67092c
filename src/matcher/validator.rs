//! Named offline validators: checks a rule can ask for that tell a real token from a look-alike
//! without contacting anyone.
//!
//! A validator never sends a secret anywhere. It checks structure only: a checksum the issuer
//! embedded in the token, or a shape that a random string would not have. A failure lowers the
//! finding's confidence; a rule drops failures only if it sets `require_valid`.
//!
//! | name | what passes |
//! | --- | --- |
//! | `github-crc32`, `npm-crc32` | 30 random base62 characters and their base62 CRC32 |
//! | `grafana-crc32` | `glsa_` + 32 characters + `_` + the hex CRC32 (little-endian) of the rest |
//! | `jwt` | three base64url parts; the header is JSON with an `alg`, the payload a JSON object |
//! | `jwt-kubernetes` | a `jwt` whose issuer or claims are Kubernetes' (a service-account token) |
//! | `pem` | matching `BEGIN`/`END` labels around a base64 body that decodes to DER (or an OpenSSH key, or encrypted bytes after `Proc-Type`) |
//! | `pgp-crc24` | an armoured block whose base64 body matches its `=XXXX` CRC-24 line |
//! | `pypi-macaroon` | `pypi-` + base64url of a version-2 macaroon: location `pypi.org`, identifier, caveats, 32-byte signature |
//! | `aws-key-id` | a known 4-letter prefix, 16 base32 characters, and an account number of at most 12 digits encoded in them |
//! | `age-bech32` | an `AGE-SECRET-KEY-1…` whose bech32 checksum is right |
//! | `basic-auth` | base64 of printable `user:password` text |
//! | `azure-storage-key` | base64 of exactly 64 bytes |
//! | `discord-bot` | a bot token whose first part is the base64 of a numeric user id |
//! | `base64-json` | base64 (either alphabet) of a JSON object |

use crate::finding::Validation;
use base64::Engine as _;

/// The validators a rule may name.
pub const NAMES: &[&str] = &[
    "github-crc32",
    "npm-crc32",
    "grafana-crc32",
    "jwt",
    "jwt-kubernetes",
    "pem",
    "pgp-crc24",
    "pypi-macaroon",
    "aws-key-id",
    "age-bech32",
    "basic-auth",
    "azure-storage-key",
    "discord-bot",
    "base64-json",
];

/// Whether `name` is a known validator.
pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Runs validator `name` on `secret`. An unknown name (prevented by the rule checker) passes
/// nothing: [`Validation::Failed`].
pub fn validate(name: &str, secret: &[u8]) -> Validation {
    let ok = match name {
        "github-crc32" | "npm-crc32" => crc32_token(secret),
        "grafana-crc32" => grafana(secret),
        "jwt" => jwt(secret).is_some(),
        "jwt-kubernetes" => jwt(secret).is_some_and(|payload| is_kubernetes(&payload)),
        "pem" => pem(secret),
        "pgp-crc24" => pgp(secret),
        "pypi-macaroon" => pypi(secret),
        "aws-key-id" => aws_key_id(secret),
        "age-bech32" => age(secret),
        "basic-auth" => basic_auth(secret),
        "azure-storage-key" => b64(secret).is_some_and(|b| b.len() == 64),
        "discord-bot" => discord(secret),
        "base64-json" => b64(secret).is_some_and(|b| {
            serde_json::from_slice::<serde_json::Value>(&b).is_ok_and(|v| v.is_object())
        }),
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
/// to a JSON object, which is returned.
fn jwt(secret: &[u8]) -> Option<serde_json::Value> {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let decode = |part: &[u8]| {
        let trimmed = trim_padding(part);
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(trimmed)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    };
    let header_ok = decode(header).is_some_and(|h| h.get("alg").is_some_and(|a| a.is_string()));
    let payload = decode(payload).filter(|p| p.is_object())?;
    header_ok.then_some(payload)
}

/// A Kubernetes service-account token's claims: issued by the API server, or carrying
/// `kubernetes.io` claims.
fn is_kubernetes(payload: &serde_json::Value) -> bool {
    let iss = payload.get("iss").and_then(|i| i.as_str()).unwrap_or("");
    iss.contains("kubernetes")
        || payload
            .as_object()
            .is_some_and(|o| o.keys().any(|k| k.starts_with("kubernetes.io")))
}

fn trim_padding(part: &[u8]) -> &[u8] {
    let mut end = part.len();
    while end > 0 && part[end - 1] == b'=' {
        end -= 1;
    }
    &part[..end]
}

/// Decodes base64 in either alphabet, padded or not.
fn b64(text: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let body = trim_padding(text);
    STANDARD_NO_PAD
        .decode(body)
        .or_else(|_| URL_SAFE_NO_PAD.decode(body))
        .ok()
}

/// Grafana service-account tokens: `glsa_<32 random>_<8 hex>`, the hex being the CRC32 of
/// `glsa_<32 random>` in little-endian byte order.
fn grafana(secret: &[u8]) -> bool {
    let Some(us) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let (key, check) = (&secret[..us], &secret[us + 1..]);
    if check.len() != 8 {
        return false;
    }
    let crc = crc32fast::hash(key).to_le_bytes();
    let hex: String = crc.iter().map(|b| format!("{b:02x}")).collect();
    hex.as_bytes().eq_ignore_ascii_case(check)
}

/// The base64 body of an armoured block, with escaped newlines (`\n` in JSON strings),
/// quotes, indentation and header lines (`Proc-Type: …`) taken out. Returns the body and
/// whether there were headers.
fn armour_body(inner: &[u8]) -> (Vec<u8>, bool) {
    let text = String::from_utf8_lossy(inner)
        .replace("\\r", "\n")
        .replace("\\n", "\n")
        .replace("\\t", " ");
    let mut body = Vec::new();
    let mut headers = false;
    for line in text.lines() {
        // Also a key written as a string concatenation: `"MIIE…" +`.
        let mut line = line.trim();
        for joiner in ['+', ','] {
            if let Some(rest) = line.strip_suffix(joiner)
                && rest.trim_end().ends_with(['"', '\''])
            {
                line = rest.trim_end();
            }
        }
        let line = line.trim_matches(|c| c == '"' || c == '\'');
        if line.contains(':') {
            headers = true;
            continue;
        }
        body.extend(line.bytes().filter(|b| !b.is_ascii_whitespace()));
    }
    (body, headers)
}

/// Splits `-----BEGIN <label>-----<inner>-----END <label>-----`; `None` unless both labels are
/// equal.
fn armour(secret: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = secret.strip_prefix(b"-----BEGIN ")?;
    let label_end = memchr::memmem::find(s, b"-----")?;
    let label = &s[..label_end];
    let rest = &s[label_end + 5..];
    let end = memchr::memmem::rfind(rest, b"-----END ")?;
    let tail = rest[end + 9..].strip_suffix(b"-----")?;
    (tail == label).then_some((label, &rest[..end]))
}

/// A PEM or OpenSSH private key: matching labels; a base64 body that decodes to DER (a
/// SEQUENCE), to an OpenSSH key (`openssh-key-v1`), or, after `Proc-Type`/`DEK-Info` headers,
/// to encrypted bytes.
fn pem(secret: &[u8]) -> bool {
    let Some((label, inner)) = armour(secret) else {
        return false;
    };
    let (body, headers) = armour_body(inner);
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&body) else {
        return false;
    };
    if der.len() < 32 {
        return false;
    }
    if label == b"OPENSSH PRIVATE KEY" {
        der.starts_with(b"openssh-key-v1\0")
    } else {
        headers || der[0] == 0x30
    }
}

/// OpenPGP's CRC-24 (RFC 4880, 6.1).
fn crc24(bytes: &[u8]) -> u32 {
    let mut crc: u32 = 0xB7_04CE;
    for &b in bytes {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= 0x186_4CFB;
            }
        }
    }
    crc & 0xFF_FFFF
}

/// An armoured PGP block: the base64 body's CRC-24 equals the `=XXXX` line before the end.
fn pgp(secret: &[u8]) -> bool {
    let Some((_, inner)) = armour(secret) else {
        return false;
    };
    let (body, _) = armour_body(inner);
    // The checksum is the last `=` followed by four base64 characters (and nothing after).
    let Some(eq) = body.iter().rposition(|&b| b == b'=') else {
        return false;
    };
    let (data, check) = (&body[..eq], &body[eq + 1..]);
    if check.len() != 4 {
        return false;
    }
    let data = trim_padding(data);
    let (Ok(bytes), Ok(sum)) = (
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(data),
        base64::engine::general_purpose::STANDARD.decode(check),
    ) else {
        return false;
    };
    sum.len() == 3 && crc24(&bytes) == u32::from_be_bytes([0, sum[0], sum[1], sum[2]])
}

/// Reads the fields of a version-2 macaroon (libmacaroons' binary format).
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// One field: `(type, data)`; type 0 (end of section) has no data.
    fn field(&mut self) -> Option<(u64, &'a [u8])> {
        let kind = self.varint()?;
        if kind == 0 {
            return Some((0, &[]));
        }
        let len = usize::try_from(self.varint()?).ok()?;
        let data = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some((kind, data))
    }

    /// A section (the header or one caveat): location?, identifier, verification id?, end.
    /// Returns the location.
    fn section(&mut self) -> Option<&'a [u8]> {
        let mut location: &[u8] = &[];
        let mut identifier = false;
        loop {
            match self.field()? {
                (0, _) => return identifier.then_some(location),
                (1, data) => location = data,
                (2, _) => identifier = true,
                (4, _) => {}
                _ => return None,
            }
        }
    }
}

/// A PyPI API token: `pypi-` and the base64url of a version-2 macaroon issued by `pypi.org`
/// (or `test.pypi.org`) with an identifier, caveats and a 32-byte signature.
fn pypi(secret: &[u8]) -> bool {
    let Some(b) = secret.strip_prefix(b"pypi-").and_then(b64) else {
        return false;
    };
    let mut f = Fields { bytes: &b, at: 0 };
    if b.first() != Some(&2) {
        return false;
    }
    f.at = 1;
    let Some(location) = f.section() else {
        return false;
    };
    if location != b"pypi.org" && location != b"test.pypi.org" {
        return false;
    }
    loop {
        if b.get(f.at) == Some(&0) {
            f.at += 1;
            break;
        }
        if f.section().is_none() {
            return false;
        }
    }
    matches!(f.field(), Some((6, sig)) if sig.len() == 32) && f.at == b.len()
}

const AWS_PREFIXES: &[&[u8]] = &[
    b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"AGPA", b"AIDA", b"AROA", b"AIPA", b"ANPA", b"ANVA",
    b"APKA",
];

/// An AWS access key id: a known prefix (or `A3T` + one character), 16 base32 characters
/// (`A`–`Z`, `2`–`7`), and an account number that fits in 12 decimal digits (bits 7 to 46 of
/// the decoded characters).
fn aws_key_id(secret: &[u8]) -> bool {
    if secret.len() != 20 {
        return false;
    }
    let (prefix, rest) = secret.split_at(4);
    if !AWS_PREFIXES.contains(&prefix) && !prefix.starts_with(b"A3T") {
        return false;
    }
    let mut bits: u128 = 0;
    for &c in rest {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return false,
        };
        bits = bits << 5 | u128::from(v);
    }
    // 80 bits; the account is in the first 48, under the mask 0x7fffffffff80.
    let first48 = (bits >> 32) as u64;
    let account = (first48 & 0x7fff_ffff_ff80) >> 7;
    account <= 999_999_999_999
}

const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = (chk & 0x1ff_ffff) << 5 ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// An age identity: bech32 with the human-readable part `age-secret-key-` and a valid
/// checksum.
fn age(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    let Some(sep) = lower.iter().rposition(|&b| b == b'1') else {
        return false;
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp != b"age-secret-key-" || data.len() < 6 {
        return false;
    }
    let Some(values) = data
        .iter()
        .map(|c| BECH32.iter().position(|x| x == c).map(|p| p as u8))
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let expanded = hrp
        .iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 31))
        .chain(values);
    bech32_polymod(expanded) == 1
}

/// The base64 of `user:password` text (an HTTP Basic credential, a Docker `auth`).
fn basic_auth(secret: &[u8]) -> bool {
    let Some(b) = b64(secret) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&b) else {
        return false;
    };
    match text.split_once(':') {
        Some((_, password)) => !password.is_empty() && text.chars().all(|c| !c.is_control()),
        None => false,
    }
}

/// A Discord bot token: its first part is the base64 of the bot's numeric user id.
fn discord(secret: &[u8]) -> bool {
    let first = secret.split(|&b| b == b'.').next().unwrap_or_default();
    b64(first).is_some_and(|id| (17..=20).contains(&id.len()) && id.iter().all(u8::is_ascii_digit))
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
    fn grafana_checksum() {
        let key = "glsa_R8vQ2mXk7LpZ3nT9wY4sB6dF1hJ0cA5e";
        let crc = crc32fast::hash(key.as_bytes()).to_le_bytes();
        let hex: String = crc.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("{key}_{hex}");
        assert_eq!(
            validate("grafana-crc32", token.as_bytes()),
            Validation::Passed
        );
        let bad = format!("{key}_00000000");
        assert_eq!(
            validate("grafana-crc32", bad.as_bytes()),
            Validation::Failed
        );
    }

    #[test]
    fn pem_framing_and_body() {
        use base64::Engine as _;
        let der: Vec<u8> = [0x30, 0x82, 0x01, 0x0a]
            .iter()
            .copied()
            .chain(1..=60)
            .collect();
        let body = base64::engine::general_purpose::STANDARD.encode(&der);
        let good =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----");
        assert_eq!(validate("pem", good.as_bytes()), Validation::Passed);
        // Inside a JSON string, with escaped newlines.
        let json = good.replace('\n', "\\n");
        assert_eq!(validate("pem", json.as_bytes()), Validation::Passed);
        let mismatched = good.replace("END RSA", "END EC");
        assert_eq!(validate("pem", mismatched.as_bytes()), Validation::Failed);
        let not_base64 = good.replace(&body[..8], "!!!!!!!!");
        assert_eq!(validate("pem", not_base64.as_bytes()), Validation::Failed);
        let not_der = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
            base64::engine::general_purpose::STANDARD.encode([7u8; 48])
        );
        assert_eq!(validate("pem", not_der.as_bytes()), Validation::Failed);
    }

    #[test]
    fn pgp_checksum() {
        use base64::Engine as _;
        let data: Vec<u8> = (0..90).collect();
        let crc = crc24(&data).to_be_bytes();
        let block = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{}\n={}\n-----END PGP PRIVATE KEY BLOCK-----",
            base64::engine::general_purpose::STANDARD.encode(&data),
            base64::engine::general_purpose::STANDARD.encode(&crc[1..])
        );
        assert_eq!(validate("pgp-crc24", block.as_bytes()), Validation::Passed);
        let bad = block.replace("AAECAwQF", "AAECAwQG");
        assert_eq!(validate("pgp-crc24", bad.as_bytes()), Validation::Failed);
        // The RFC's check value: CRC-24 of "123456789".
        assert_eq!(crc24(b"123456789"), 0x21CF02);
    }

    fn macaroon(location: &[u8], sig_len: u8) -> String {
        use base64::Engine as _;
        let mut m = vec![2u8, 1, location.len() as u8];
        m.extend_from_slice(location);
        m.extend_from_slice(&[2, 4, b'a', b'b', b'c', b'd', 0]);
        m.extend_from_slice(&[2, 7]);
        m.extend_from_slice(b"{\"v\":1}");
        m.extend_from_slice(&[0, 0, 6, sig_len]);
        m.extend((0..sig_len).map(|i| i.wrapping_mul(37)));
        format!(
            "pypi-{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m)
        )
    }

    #[test]
    fn pypi_macaroon_structure() {
        let good = macaroon(b"pypi.org", 32);
        assert!(good.starts_with("pypi-AgEIcHlwaS5vcmc"));
        assert_eq!(
            validate("pypi-macaroon", good.as_bytes()),
            Validation::Passed
        );
        let short_sig = macaroon(b"pypi.org", 31);
        assert_eq!(
            validate("pypi-macaroon", short_sig.as_bytes()),
            Validation::Failed
        );
        let elsewhere = macaroon(b"evil.org", 32);
        assert_eq!(
            validate("pypi-macaroon", elsewhere.as_bytes()),
            Validation::Failed
        );
        let truncated = &good[..good.len() - 4];
        assert_eq!(
            validate("pypi-macaroon", truncated.as_bytes()),
            Validation::Failed
        );
    }

    #[test]
    fn aws_key_id_alphabet_and_account() {
        assert_eq!(
            validate("aws-key-id", b"AKIAQM4I2HZ4UEP3ENTH"),
            Validation::Passed
        );
        assert_eq!(
            validate("aws-key-id", b"AKIAQM4I2HZ4UEP3ENT1"),
            Validation::Failed
        );
        assert_eq!(
            validate("aws-key-id", b"AKIA7777777777777777"),
            Validation::Failed
        );
        assert_eq!(
            validate("aws-key-id", b"XKIAQM4I2HZ4UEP3ENTH"),
            Validation::Failed
        );
    }

    #[test]
    fn age_bech32_checksum() {
        // Made with the reference bech32 encoder from 32 bytes 0..32.
        let key = "AGE-SECRET-KEY-1QQQSYQCYQ5RQWZQFPG9SCRGWPUGPZYSNZS23V9CCRYDPK8QARC0SWRYDWG";
        assert_eq!(validate("age-bech32", key.as_bytes()), Validation::Passed);
        let bad = key.replace("QQQS", "QQQT");
        assert_eq!(validate("age-bech32", bad.as_bytes()), Validation::Failed);
    }

    #[test]
    fn basic_auth_and_discord_and_base64_json() {
        assert_eq!(
            validate("basic-auth", b"dXNlcjpwYXNzMQ=="),
            Validation::Passed
        );
        assert_eq!(validate("basic-auth", b"dXNlcnBhc3Mx"), Validation::Failed);
        // "123456789012345678" base64 = MTIzNDU2Nzg5MDEyMzQ1Njc4
        assert_eq!(
            validate("discord-bot", b"MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.x"),
            Validation::Passed
        );
        assert_eq!(
            validate("discord-bot", b"bm90IGRpZ2l0cw.GaBcDe.x"),
            Validation::Failed
        );
        assert_eq!(validate("base64-json", b"eyJhIjoxfQ"), Validation::Passed);
        assert_eq!(validate("base64-json", b"WzEsMl0="), Validation::Failed);
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

//! Google Cloud service-account keys: a JWT signed with the key, exchanged for an access token.
//!
//! This is the OAuth 2.0 JWT-bearer flow every Google client library runs: the assertion names
//! the account (`iss`, the paired `client_email`), a read-only scope, and the token endpoint;
//! it is signed with the paired `private_key` (RS256); the key itself is never sent. Google
//! answers 200 with a short-lived access token when the key is live (ferret drops the token at
//! once: only its lifetime is reported), and 400 `invalid_grant` or 401 `invalid_client` when the
//! key was deleted or the account disabled. Minting a token changes no resource (it appears in
//! the project's audit log as a token request, which a responder wants to know anyway). The
//! endpoint is fixed: a key file's own `token_uri` is scanned content and is never used.

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use super::ctx::{Ctx, verdict};
use super::http::{self, Request};
use super::{Attempt, Reason, Status, Verification};

/// Where the JWT is exchanged.
pub const TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform.read-only";

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A PEM block as found in a key file's JSON string, escaped once (`\n`) or more (`\\n`, a
/// key file logged inside another JSON document; `\/` as PHP writes it), with its newlines
/// back.
pub fn unescape_pem(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let run = rest[i..].bytes().take_while(|&b| b == b'\\').count();
        match rest.as_bytes().get(i + run) {
            Some(b'n') => {
                out.push('\n');
                rest = &rest[i + run + 1..];
            }
            Some(b'r') => rest = &rest[i + run + 1..],
            Some(b'/') => {
                out.push('/');
                rest = &rest[i + run + 1..];
            }
            _ => {
                out.push_str(&rest[i..i + run]);
                rest = &rest[i + run..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The DER inside a PEM block (`-----BEGIN …-----`), whatever its label.
pub fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN")?;
    let body_start = pem[start..].find('\n').map(|i| start + i + 1)?;
    let end = pem[body_start..].find("-----END")? + body_start;
    let b64: String = pem[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// The signed assertion.
pub fn assertion(email: &str, key_pem: &str, now: u64) -> Result<String, String> {
    let der = pem_der(key_pem).ok_or("the private key is not PEM")?;
    let key = RsaKeyPair::from_pkcs8(&der)
        .or_else(|_| RsaKeyPair::from_der(&der))
        .map_err(|e| format!("the private key is not an RSA key ring can use: {e}"))?;
    let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": email, "scope": SCOPE, "aud": TOKEN_URI, "iat": now, "exp": now + 300,
    });
    let claims = b64url(claims.to_string().as_bytes());
    let signing = format!("{header}.{claims}");
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "signing failed".to_string())?;
    Ok(format!("{signing}.{}", b64url(&sig)))
}

/// Verifies a service-account key.
pub fn verify(ctx: &Ctx, email: &str, key_pem: &str, token_uri: &str) -> Attempt {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let jwt = match assertion(email, key_pem, now) {
        Ok(j) => j,
        Err(e) => return Attempt::Done(Verification::unknown(Reason::Unsupported, e)),
    };
    let r = Request {
        method: "POST".into(),
        url: token_uri.to_string(),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(
            format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={jwt}"
            )
            .into_bytes(),
        ),
    };
    let host = r.host();
    let resp = match http::send(&ctx.agent, &r) {
        Ok(resp) => resp,
        Err(v) => return Attempt::Done(v),
    };
    let doc = resp.json();
    let field = |k: &str| {
        doc.as_ref()
            .and_then(|d| d.get(k))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
    };
    match resp.status {
        200 if field("access_token").is_some() => {
            let mut v = verdict(Status::Live, &host, "token issued (and discarded)");
            v.identity.insert("account".into(), email.to_string());
            if let Some(e) = field("expires_in") {
                v.identity
                    .insert("token_expires_in".into(), format!("{e} s"));
            }
            Attempt::Done(v)
        }
        429 | 503 => Attempt::Retry(resp.retry_after()),
        400 | 401 => {
            let err = field("error").unwrap_or_default();
            if err == "invalid_grant" || err == "invalid_client" || err == "unauthorized_client" {
                let desc = field("error_description").unwrap_or_default();
                Attempt::Done(verdict(
                    Status::Invalid,
                    &host,
                    format!("HTTP {}: {err} {desc}", resp.status),
                ))
            } else {
                Attempt::Done(verdict(
                    Status::Unknown,
                    &host,
                    format!("HTTP {}: {err}", resp.status),
                ))
            }
        }
        s => Attempt::Done(verdict(Status::Unknown, &host, format!("HTTP {s}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pem_escapes_are_undone_at_any_depth() {
        let want = "-----BEGIN PRIVATE KEY-----\nMIIB/x+A\n-----END PRIVATE KEY-----\n";
        for escaped in [
            r"-----BEGIN PRIVATE KEY-----\nMIIB/x+A\n-----END PRIVATE KEY-----\n",
            r"-----BEGIN PRIVATE KEY-----\\nMIIB\\/x+A\\n-----END PRIVATE KEY-----\\n",
            r"-----BEGIN PRIVATE KEY-----\r\nMIIB/x+A\r\n-----END PRIVATE KEY-----\r\n",
            want,
        ] {
            assert_eq!(super::unescape_pem(escaped), want, "{escaped}");
        }
    }
}

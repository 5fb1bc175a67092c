//! AWS access keys: a SigV4-signed `sts:GetCallerIdentity`.
//!
//! `GetCallerIdentity` needs no permission (an explicit deny cannot block it) and changes
//! nothing: it returns the account, the ARN and the user id of the caller. The request is
//! signed with the secret access key (HMAC-SHA-256, AWS Signature Version 4); the key itself is
//! never sent. The answer is live on 200, invalid on 403 with `InvalidClientTokenId` or
//! `SignatureDoesNotMatch` (the key id does not exist, or the secret is not its secret), a retry
//! on `Throttling`, 429 or 503. The paired key id is the `AKIA…`/`ASIA…` value found near the
//! secret; an `ASIA…` key also needs its session token.

use std::collections::BTreeMap;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::ctx::{Ctx, verdict};
use super::http::{self, Request};
use super::{Attempt, Status};

/// The STS endpoint asked (the global endpoint, region `us-east-1`).
pub const HOST: &str = "sts.amazonaws.com";
const REGION: &str = "us-east-1";
const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `20240501T120003Z` for `secs` since the epoch.
pub fn amz_date(secs: u64) -> String {
    super::rfc3339(secs).replace(['-', ':'], "")
}

/// Who signs, when and for what: the scope of a SigV4 signature.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// The access key id.
    pub key_id: &'a str,
    /// The secret access key.
    pub secret: &'a str,
    /// `20240501T120003Z`.
    pub amz_date: &'a str,
    /// `us-east-1`.
    pub region: &'a str,
    /// `sts`, `s3`.
    pub service: &'a str,
}

/// The SigV4 `Authorization` header for a request. `headers` are the headers to sign
/// (lowercase names, sorted).
pub fn authorization(
    signer: &Signer<'_>,
    method: &str,
    path: &str,
    query: &str,
    headers: &BTreeMap<String, String>,
    payload: &[u8],
) -> String {
    let Signer {
        key_id,
        secret,
        amz_date,
        region,
        service,
    } = *signer;
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed: Vec<&str> = headers.keys().map(String::as_str).collect();
    let signed = signed.join(";");
    let canonical = format!(
        "{method}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{}",
        hex(&Sha256::digest(payload))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    let k = hmac(&k, b"aws4_request");
    let signature = hex(&hmac(&k, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
}

/// The signed request.
pub fn request(key_id: &str, secret: &str, session_token: Option<&str>, now: u64) -> Request {
    let date = amz_date(now);
    let mut headers = BTreeMap::new();
    headers.insert(
        "content-type".to_string(),
        "application/x-www-form-urlencoded; charset=utf-8".to_string(),
    );
    headers.insert("host".to_string(), HOST.to_string());
    headers.insert("x-amz-date".to_string(), date.clone());
    if let Some(t) = session_token {
        headers.insert("x-amz-security-token".to_string(), t.to_string());
    }
    let signer = Signer {
        key_id,
        secret,
        amz_date: &date,
        region: REGION,
        service: "sts",
    };
    let auth = authorization(&signer, "POST", "/", "", &headers, BODY.as_bytes());
    let mut out: Vec<(String, String)> = headers.into_iter().filter(|(k, _)| k != "host").collect();
    out.push(("authorization".into(), auth));
    Request {
        method: "POST".into(),
        url: format!("https://{HOST}/"),
        headers: out,
        body: Some(BODY.as_bytes().to_vec()),
    }
}

/// The text of the first `<tag>…</tag>` in `xml`.
pub fn xml_field(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

/// Verifies an access key pair.
pub fn verify(ctx: &Ctx, key_id: &str, secret: &str, session_token: Option<&str>) -> Attempt {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let r = request(key_id, secret, session_token, now);
    let resp = match http::send(&ctx.agent, &r) {
        Ok(resp) => resp,
        Err(v) => return Attempt::Done(v),
    };
    let body = String::from_utf8_lossy(&resp.body);
    let code = xml_field(&body, "Code").unwrap_or_default();
    match resp.status {
        200 => {
            let mut v = verdict(Status::Live, HOST, "GetCallerIdentity: 200");
            for (name, tag) in [
                ("account", "Account"),
                ("arn", "Arn"),
                ("user_id", "UserId"),
            ] {
                if let Some(x) = xml_field(&body, tag) {
                    v.identity.insert(name.into(), x);
                }
            }
            Attempt::Done(v)
        }
        429 | 503 => Attempt::Retry(resp.retry_after()),
        400 if code == "Throttling" => Attempt::Retry(resp.retry_after()),
        400 | 403
            if matches!(
                code.as_str(),
                "InvalidClientTokenId"
                    | "SignatureDoesNotMatch"
                    | "InvalidAccessKeyId"
                    | "ExpiredToken"
                    | "AccessDenied"
            ) =>
        {
            Attempt::Done(verdict(
                Status::Invalid,
                HOST,
                format!("HTTP {}: {code}", resp.status),
            ))
        }
        s => Attempt::Done(verdict(Status::Unknown, HOST, format!("HTTP {s}: {code}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of AWS's SigV4 documentation ("Signature Version 4 test suite",
    /// get-vanilla): a GET of / on example.amazonaws.com, service `service`, 2015-08-30.
    #[test]
    fn signature_matches_the_published_example() {
        let mut h = BTreeMap::new();
        h.insert("host".to_string(), "example.amazonaws.com".to_string());
        h.insert("x-amz-date".to_string(), "20150830T123600Z".to_string());
        let signer = Signer {
            key_id: "AKIDEXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            amz_date: "20150830T123600Z",
            region: "us-east-1",
            service: "service",
        };
        let auth = authorization(&signer, "GET", "/", "", &h, b"");
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
    }
}

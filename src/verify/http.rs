//! HTTP verifiers from rule data: one request, described in `[rule.verify]`, and a verdict read
//! from the answer's status, JSON fields or text.
//!
//! ```toml
//! [rule.verify]
//! url = "https://api.github.com/user"
//! headers = { Authorization = "token {{secret}}", Accept = "application/vnd.github+json" }
//! live = { status = [200] }
//! invalid = { status = [401] }
//! identity = { account = "/login", scopes = "header:x-oauth-scopes" }
//! read_only = "GET /user reads the token's own user"
//! ```
//!
//! Templates take `{{secret}}` and the paired values (`{{id}}`). The answer is live when
//! `live` holds, invalid when `invalid` holds, a retry after backoff on 429 and 503, and
//! unknown (`unexpected`) otherwise. `identity` picks what the answer says about the
//! credential, by JSON pointer or `header:NAME`; a value that contains the secret is dropped.
//! At most 1 MiB of an answer is read.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::{Attempt, Reason, Status, Verification};
use crate::rules::file::{ResponseMatch, VerifySpec};

/// The largest answer read.
const MAX_BODY: u64 = 1 << 20;

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, `HEAD`.
    pub method: String,
    /// The `https://` URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// The host of the URL.
    pub fn host(&self) -> String {
        host_of(&self.url)
    }
}

/// The host (and port, if any) of an `https://` URL.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |x| x.1);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_ascii_lowercase()
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Up to 1 MiB of the body.
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `Retry-After` in seconds (capped at 60 s).
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(60)))
    }
}

/// Fills `{{secret}}` and `{{NAME}}` in a template.
pub fn render(template: &str, secret: &str, paired: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len() + secret.len());
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = after[..j].trim();
        if name == "secret" {
            out.push_str(secret);
        } else if let Some((_, v)) = paired.iter().find(|(n, _)| n == name) {
            out.push_str(v);
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// The names a template needs that `paired` does not have.
pub fn missing_pairs(spec: &VerifySpec, paired: &[(String, String)]) -> Vec<String> {
    spec.pair
        .iter()
        .filter(|p| !paired.iter().any(|(n, _)| *n == p.name))
        .map(|p| p.name.clone())
        .collect()
}

/// Builds the request a spec describes for one secret.
pub fn request(spec: &VerifySpec, secret: &str, paired: &[(String, String)]) -> Request {
    let url = render(spec.url.as_deref().unwrap_or_default(), secret, paired);
    let mut headers: Vec<(String, String)> = spec
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), render(v, secret, paired)))
        .collect();
    if let Some([user, password]) = &spec.basic {
        let pair = format!(
            "{}:{}",
            render(user, secret, paired),
            render(password, secret, paired)
        );
        headers.push((
            "Authorization".into(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ),
        ));
    }
    Request {
        method: spec.method.clone().unwrap_or_else(|| "GET".into()),
        url,
        headers,
        body: spec
            .body
            .as_ref()
            .map(|b| render(b, secret, paired).into_bytes()),
    }
}

/// What a request would send, with every secret value replaced by `<secret>` or `<NAME>`:
/// for `--verify-dry-run`.
pub fn describe(spec: &VerifySpec) -> String {
    let shown: Vec<(String, String)> = spec
        .pair
        .iter()
        .map(|p| (p.name.clone(), format!("<{}>", p.name)))
        .collect();
    let r = request(spec, "<secret>", &shown);
    let mut text = format!("{} {}", r.method, r.url);
    let names: Vec<String> = spec
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {}", render(v, "<secret>", &shown)))
        .chain(spec.basic.as_ref().map(|[u, p]| {
            format!(
                "Authorization: Basic base64({}:{})",
                render(u, "<secret>", &shown),
                render(p, "<secret>", &shown)
            )
        }))
        .collect();
    if !names.is_empty() {
        text.push_str(&format!(" [{}]", names.join("; ")));
    }
    if let Some(b) = &spec.body {
        text.push_str(&format!(" body {}", render(b, "<secret>", &shown)));
    }
    text
}

/// Sends a request. `Err` is a verdict already (a network failure, a refused host).
pub fn send(agent: &ureq::Agent, r: &Request) -> Result<Response, Verification> {
    let host = r.host();
    let result = match r.method.as_str() {
        "POST" => {
            let mut b = agent.post(&r.url);
            for (k, v) in &r.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            b.send(r.body.as_deref().unwrap_or_default())
        }
        "HEAD" => {
            let mut b = agent.head(&r.url);
            for (k, v) in &r.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            b.call()
        }
        _ => {
            let mut b = agent.get(&r.url);
            for (k, v) in &r.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            b.call()
        }
    };
    match result {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            let _ = resp
                .body_mut()
                .as_reader()
                .take(MAX_BODY)
                .read_to_end(&mut body);
            Ok(Response {
                status,
                headers,
                body,
            })
        }
        Err(e) => Err(failure(&host, &e)),
    }
}

/// The verdict for a request that got no answer.
pub fn failure(host: &str, e: &ureq::Error) -> Verification {
    let (reason, detail) = match e {
        ureq::Error::Timeout(_) => (Reason::Timeout, format!("{host} did not answer in time")),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            (Reason::Skipped, io.to_string())
        }
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            (Reason::Timeout, format!("{host} did not answer in time"))
        }
        other => (Reason::Network, format!("{host}: {other}")),
    };
    let mut v = Verification::unknown(reason, detail);
    if reason != Reason::Skipped {
        v.host = host.to_string();
        v.checked_at = super::now_rfc3339();
    }
    v
}

/// Whether an answer fits a match.
pub fn matches(m: &ResponseMatch, r: &Response) -> bool {
    if m.is_empty() {
        return false;
    }
    if !m.status.is_empty() && !m.status.contains(&r.status) {
        return false;
    }
    if let Some(text) = &m.body_contains
        && !String::from_utf8_lossy(&r.body).contains(text.as_str())
    {
        return false;
    }
    if !m.json.is_empty() {
        let Some(doc) = r.json() else {
            return false;
        };
        for (pointer, want) in &m.json {
            if doc.pointer(pointer) != Some(want) {
                return false;
            }
        }
    }
    true
}

/// What the answer says about the credential, by the spec's `identity` map.
pub fn identity(spec: &BTreeMap<String, String>, r: &Response) -> BTreeMap<String, String> {
    let doc = r.json();
    let mut out = BTreeMap::new();
    for (name, source) in spec {
        let value = if let Some(h) = source.strip_prefix("header:") {
            r.header(h).map(str::to_string)
        } else {
            doc.as_ref()
                .and_then(|d| d.pointer(source))
                .and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    Value::Array(a) => Some(
                        a.iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    other => Some(other.to_string()),
                })
        };
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            out.insert(name.clone(), v.trim().to_string());
        }
    }
    out
}

/// The verdict of a data verifier for one answer.
pub fn judge(spec: &VerifySpec, host: &str, r: &Response) -> Attempt {
    let verdict = |status, reason, detail: String| Verification {
        status,
        reason,
        detail,
        checked_at: super::now_rfc3339(),
        host: host.to_string(),
        identity: BTreeMap::new(),
    };
    if matches(&spec.live, r) {
        let mut v = verdict(Status::Live, None, format!("HTTP {}", r.status));
        v.identity = identity(&spec.identity, r);
        return Attempt::Done(v);
    }
    if matches(&spec.invalid, r) {
        return Attempt::Done(verdict(Status::Invalid, None, format!("HTTP {}", r.status)));
    }
    if r.status == 429 || r.status == 503 {
        return Attempt::Retry(r.retry_after());
    }
    Attempt::Done(verdict(
        Status::Unknown,
        Some(Reason::Unexpected),
        format!("HTTP {}: neither a live nor an invalid answer", r.status),
    ))
}

/// Runs a data verifier: builds, sends and judges the request.
pub fn run(agent: &ureq::Agent, spec: &VerifySpec, r: &Request) -> Attempt {
    match send(agent, r) {
        Ok(resp) => judge(spec, &r.host(), &resp),
        Err(v) => Attempt::Done(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VerifySpec {
        toml::from_str(
            r#"
            url = "https://api.example.com/v1/me?sid={{sid}}"
            headers = { Authorization = "Bearer {{secret}}" }
            basic = ["{{sid}}", "{{secret}}"]
            live = { status = [200], json = { "/ok" = true } }
            invalid = { status = [401, 403] }
            identity = { account = "/user/name", scopes = "header:x-scopes" }
            read_only = "reads the caller"
            [[pair]]
            name = "sid"
            regex = 'AC[a-f0-9]{32}'
            "#,
        )
        .unwrap()
    }

    #[test]
    fn requests_fill_templates_and_dry_runs_hide_the_secret() {
        let s = spec();
        s.check().unwrap();
        let paired = vec![("sid".to_string(), "AC01".to_string())];
        let r = request(&s, "tok", &paired);
        assert_eq!(r.url, "https://api.example.com/v1/me?sid=AC01");
        assert_eq!(r.host(), "api.example.com");
        assert!(
            r.headers
                .contains(&("Authorization".into(), "Bearer tok".into()))
        );
        assert!(r.headers.iter().any(|(_, v)| v == "Basic QUMwMTp0b2s="));
        let d = describe(&s);
        assert!(!d.contains("tok"), "{d}");
        assert!(d.contains("<secret>") && d.contains("<sid>"), "{d}");
        assert_eq!(missing_pairs(&s, &[]), ["sid"]);
    }

    #[test]
    fn answers_are_judged_by_status_and_fields() {
        let s = spec();
        let resp = |status, body: &str| Response {
            status,
            headers: vec![("x-scopes".into(), "repo, gist".into())],
            body: body.as_bytes().to_vec(),
        };
        let Attempt::Done(v) = judge(&s, "h", &resp(200, r#"{"ok":true,"user":{"name":"acme"}}"#))
        else {
            panic!()
        };
        assert_eq!(v.status, Status::Live);
        assert_eq!(v.identity["account"], "acme");
        assert_eq!(v.identity["scopes"], "repo, gist");
        let Attempt::Done(v) = judge(&s, "h", &resp(200, r#"{"ok":false}"#)) else {
            panic!()
        };
        assert_eq!(v.reason, Some(Reason::Unexpected));
        let Attempt::Done(v) = judge(&s, "h", &resp(401, "")) else {
            panic!()
        };
        assert_eq!(v.status, Status::Invalid);
        assert!(matches!(judge(&s, "h", &resp(429, "")), Attempt::Retry(_)));
    }

    #[test]
    fn hosts_must_be_literal() {
        let mut s = spec();
        s.url = Some("https://{{sid}}.example.com/".into());
        assert!(s.check().is_err());
        s.url = Some("http://api.example.com/".into());
        assert!(s.check().is_err());
        s.url = Some("https://api.example.com/{{nope}}".into());
        assert!(s.check().is_err());
    }
}

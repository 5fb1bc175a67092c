//! Images from a registry: `ferret scan oci://HOST[:PORT]/REPO[:TAG|@DIGEST]`.
//!
//! The OCI distribution API, read-only: `GET /v2/REPO/manifests/REF` (an index is narrowed to
//! one platform, `linux/amd64` unless asked otherwise, or kept whole with `--platform all`),
//! then the config and every layer from `GET /v2/REPO/blobs/DIGEST`. Layers are never written
//! to disk: each HTTP body flows through the decompressor into the tar reader and the scanner
//! ([`crate::expand::image`]), and several layers are fetched at once (one per worker thread).
//! Every blob is checked against its digest as it streams by; a mismatch is reported.
//!
//! Authentication follows what `docker pull` does: anonymous first; on `401` with a
//! `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge, a token is fetched from the
//! realm (with the user's credentials when there are some) and sent as `Authorization: Bearer`;
//! on a `Basic` challenge, the credentials are sent as they are. Credentials come from the
//! standard docker credentials file, `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`
//! (`auths.HOST.auth` = base64 of `user:password`, or `username` and `password`). Credential
//! helpers (`credsStore`) are not run.
//!
//! HTTPS (rustls, with the Mozilla roots of `webpki-roots`) is used for every host except
//! loopback ones (`localhost`, `127.0.0.0/8`, `[::1]`) and those named with
//! `--insecure-registry`, which are reached over plain HTTP, as docker treats them.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::blob::{Origin, Segment};
use crate::expand::Expander;
use crate::expand::image::{self, Blobs, ImageSpec, LayerBytes};
use crate::expand::limits::Tracker;
use crate::source::net::{self, NetLimits};

/// The media types asked for when fetching a manifest.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// The largest manifest or index read from a registry: 4 MiB, the limit the OCI distribution
/// spec asks registries to accept at least (and what they commonly refuse above).
pub const MAX_MANIFEST: u64 = 4 << 20;

/// How images are pulled.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Hosts (`host` or `host:port`) reached over plain HTTP. Loopback hosts always are.
    /// Default: none.
    pub insecure: Vec<String>,
    /// The platform taken from a multi-platform index: `os/arch[/variant]`, or `all`.
    /// Default `linux/amd64`.
    pub platform: String,
    /// The docker credentials file. Default: `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
}

impl Default for RegistryOptions {
    fn default() -> RegistryOptions {
        RegistryOptions {
            insecure: Vec::new(),
            platform: "linux/amd64".into(),
            docker_config: None,
        }
    }
}

/// A parsed `oci://HOST[:PORT]/REPO[:TAG|@DIGEST]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host` or `host:port`.
    pub host: String,
    /// The repository path (`library/alpine`).
    pub repo: String,
    /// The tag, when the reference names one (default `latest` when it names neither).
    pub tag: Option<String>,
    /// The manifest digest, when the reference pins one.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `oci://HOST[:PORT]/REPO[:TAG|@DIGEST]` (the `oci://` prefix is optional).
    pub fn parse(s: &str) -> Result<Reference, String> {
        let rest = s.strip_prefix("oci://").unwrap_or(s);
        let (host, path) = rest
            .split_once('/')
            .ok_or_else(|| format!("{s}: expected oci://HOST/REPO[:TAG|@DIGEST]"))?;
        if host.is_empty() || path.is_empty() {
            return Err(format!("{s}: expected oci://HOST/REPO[:TAG|@DIGEST]"));
        }
        let (path, digest) = match path.split_once('@') {
            Some((p, d)) => (p, Some(d.to_string())),
            None => (path, None),
        };
        let (repo, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
            _ => (path, None),
        };
        let repo_ok = !repo.is_empty()
            && repo.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            });
        if !repo_ok {
            return Err(format!(
                "{s}: repository {repo:?} is not a valid name (lowercase letters, digits, . _ - /)"
            ));
        }
        if let Some(t) = &tag
            && (t.is_empty()
                || t.len() > 128
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
        {
            return Err(format!("{s}: tag {t:?} is not valid"));
        }
        if let Some(d) = &digest
            && image::blob_path(d).is_none()
        {
            return Err(format!("{s}: digest {d:?} is not valid"));
        }
        Ok(Reference {
            host: host.to_string(),
            repo: repo.to_string(),
            tag,
            digest,
        })
    }

    /// The tag or digest to ask the registry for.
    fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// `host/repo:tag` (or `@digest`), as images are named.
    pub fn name(&self) -> String {
        match (&self.tag, &self.digest) {
            (_, Some(d)) => format!("{}/{}@{d}", self.host, self.repo),
            (Some(t), None) => format!("{}/{}:{t}", self.host, self.repo),
            (None, None) => format!("{}/{}:latest", self.host, self.repo),
        }
    }
}

/// Whether `host` (with or without a port) is a loopback address or `localhost`.
fn is_loopback(host: &str) -> bool {
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    };
    bare == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// User and password for `host` from a docker config file's `auths`.
pub fn credentials(config: &Value, host: &str) -> Option<(String, String)> {
    let auths = config.get("auths")?.as_object()?;
    let candidates = [
        host.to_string(),
        format!("https://{host}"),
        format!("http://{host}"),
        format!("https://{host}/v1/"),
        format!("https://{host}/v2/"),
    ];
    let entry = candidates.iter().find_map(|k| auths.get(k))?;
    if let Some(auth) = entry.get("auth").and_then(Value::as_str)
        && !auth.is_empty()
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, pass) = text.split_once(':')?;
        return Some((user.to_string(), pass.to_string()));
    }
    let user = entry.get("username")?.as_str()?;
    let pass = entry.get("password")?.as_str()?;
    Some((user.to_string(), pass.to_string()))
}

fn load_credentials(opts: &RegistryOptions, host: &str) -> Option<(String, String)> {
    let path = opts.docker_config.clone().or_else(|| {
        std::env::var_os("DOCKER_CONFIG")
            .map(|d| PathBuf::from(d).join("config.json"))
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
            })
    })?;
    let bytes = std::fs::read(path).ok()?;
    let config: Value = serde_json::from_slice(&bytes).ok()?;
    credentials(&config, host)
}

/// The parameters of a `WWW-Authenticate` challenge: its scheme (lowercase) and `key="value"`
/// pairs (commas inside quotes kept).
pub fn parse_challenge(header: &str) -> (String, HashMap<String, String>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    (scheme.to_ascii_lowercase(), params)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A client for one repository.
struct Client {
    agent: ureq::Agent,
    base: String,
    repo: String,
    creds: Option<(String, String)>,
    /// The `Authorization` header that worked last (a bearer token or basic credentials).
    auth: Mutex<Option<String>>,
    /// Bytes of blobs and manifests received.
    received: Arc<AtomicU64>,
}

impl Client {
    fn new(r: &Reference, opts: &RegistryOptions, limits: &NetLimits) -> Client {
        let plain = is_loopback(&r.host) || opts.insecure.contains(&r.host);
        let scheme = if plain { "http" } else { "https" };
        Client {
            agent: limits.agent(),
            base: format!("{scheme}://{}", r.host),
            repo: r.repo.clone(),
            creds: load_credentials(opts, &r.host),
            auth: Mutex::new(None),
            received: Arc::new(AtomicU64::new(0)),
        }
    }

    fn basic(&self) -> Option<String> {
        self.creds.as_ref().map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        })
    }

    fn send(
        &self,
        url: &str,
        accept: Option<&str>,
        auth: Option<&str>,
    ) -> io::Result<ureq::http::Response<ureq::Body>> {
        let mut req = self.agent.get(url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        req.call()
            .map_err(|e| io::Error::other(format!("{url}: {e}")))
    }

    /// GETs `path` under `/v2/REPO/`, answering an authentication challenge once.
    fn get(&self, path: &str, accept: Option<&str>) -> io::Result<ureq::Body> {
        let url = format!("{}/v2/{}/{path}", self.base, self.repo);
        let auth = self.auth.lock().ok().and_then(|a| a.clone());
        let mut resp = self.send(&url, accept, auth.as_deref())?;
        if resp.status().as_u16() == 401 {
            let challenge = resp
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let header = self.authenticate(&challenge)?;
            resp = self.send(&url, accept, Some(&header))?;
            if resp.status().is_success()
                && let Ok(mut a) = self.auth.lock()
            {
                *a = Some(header);
            }
        }
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let what = match status {
                401 => "unauthorized (check the credentials in the docker config)",
                403 => "forbidden",
                404 => "not found",
                _ => "failed",
            };
            return Err(io::Error::other(format!(
                "GET {url}: HTTP {status}, {what}"
            )));
        }
        Ok(resp.into_body())
    }

    /// The `Authorization` header answering `challenge`.
    fn authenticate(&self, challenge: &str) -> io::Result<String> {
        let (scheme, params) = parse_challenge(challenge);
        match scheme.as_str() {
            "basic" => self.basic().ok_or_else(|| {
                io::Error::other(
                    "the registry asks for a password and the docker config has none for it",
                )
            }),
            "bearer" => {
                let realm = params
                    .get("realm")
                    .ok_or_else(|| io::Error::other("a Bearer challenge without a realm"))?;
                if !(realm.starts_with("https://") || realm.starts_with("http://")) {
                    return Err(io::Error::other(format!(
                        "token realm {realm:?} is not an HTTP URL"
                    )));
                }
                let scope = params
                    .get("scope")
                    .cloned()
                    .unwrap_or_else(|| format!("repository:{}:pull", self.repo));
                let mut url = format!("{realm}?scope={}", query_encode(&scope));
                if let Some(service) = params.get("service") {
                    url.push_str(&format!("&service={}", query_encode(service)));
                }
                let basic = self.basic();
                let resp = self.send(&url, Some("application/json"), basic.as_deref())?;
                let status = resp.status().as_u16();
                if status != 200 {
                    return Err(io::Error::other(format!(
                        "token request to {realm}: HTTP {status}"
                    )));
                }
                let body = resp
                    .into_body()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_vec()
                    .map_err(io::Error::other)?;
                let v: Value = serde_json::from_slice(&body)
                    .map_err(|e| io::Error::other(format!("token response: {e}")))?;
                let token = v
                    .get("token")
                    .or_else(|| v.get("access_token"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| io::Error::other("token response without a token"))?;
                Ok(format!("Bearer {token}"))
            }
            "" => Err(io::Error::other(
                "HTTP 401 without a WWW-Authenticate challenge",
            )),
            other => Err(io::Error::other(format!(
                "unsupported authentication scheme {other:?}"
            ))),
        }
    }

    /// A manifest or blob body, checked against `digest` and `limit` as it is read.
    fn reader(
        &self,
        path: &str,
        accept: Option<&str>,
        digest: Option<&str>,
        limit: Limit,
    ) -> io::Result<Verified> {
        let body = self.get(path, accept)?;
        Ok(Verified {
            inner: Box::new(body.into_reader()),
            hasher: digest
                .filter(|d| d.starts_with("sha256:"))
                .map(|d| (Sha256::new(), d.to_string())),
            limit,
            read: 0,
            ended: false,
        })
    }
}

/// How many bytes a body may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// Exactly this many: the size its descriptor declares (a manifest's `size` of a layer).
    Declared(u64),
    /// At most this many (a manifest, whose size is not declared to us).
    AtMost(u64),
    /// No limit known (the digest is still checked).
    None,
}

/// A body checked as it streams: it stops with an error at the first byte past its declared
/// size (or past the cap on a document), and checks its digest when it ends. Every byte it
/// returned before an error was already handed on (and scanned); after an error it reads as
/// ended, so the error is reported once.
struct Verified {
    inner: Box<dyn Read + Send>,
    hasher: Option<(Sha256, String)>,
    limit: Limit,
    /// Bytes returned so far.
    read: u64,
    /// The body ended or failed: nothing more is read from the connection.
    ended: bool,
}

impl Verified {
    /// A read of the body; an error ends it.
    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| self.ended = true)
    }

    fn fail(&mut self, message: String) -> io::Error {
        self.ended = true;
        io::Error::new(io::ErrorKind::InvalidData, message)
    }

    /// The body ended after `self.read` bytes: checks its size and digest.
    fn end(&mut self) -> io::Result<usize> {
        if let Limit::Declared(size) = self.limit
            && self.read < size
        {
            return Err(self.fail(format!(
                "the download ended after {} of the {size} bytes its manifest declares",
                self.read
            )));
        }
        if let Some((h, expected)) = self.hasher.take() {
            let got = format!("sha256:{}", hex(&h.finalize()));
            if got != expected {
                return Err(self.fail(format!(
                    "content does not match its digest {expected} (got {got})"
                )));
            }
        }
        self.ended = true;
        Ok(0)
    }
}

impl Read for Verified {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        let cap = match self.limit {
            Limit::Declared(n) | Limit::AtMost(n) => Some(n),
            Limit::None => None,
        };
        let want = match cap {
            Some(cap) if self.read >= cap => {
                // At the limit: the body must end here.
                let mut probe = [0u8; 1];
                if self.read_inner(&mut probe)? == 0 {
                    return self.end();
                }
                return Err(self.fail(match self.limit {
                    Limit::Declared(_) => format!(
                        "the download runs past the {cap} bytes its manifest declares: \
                         stopped there (the bytes before were scanned)"
                    ),
                    _ => format!("more than {cap} bytes: a manifest may not be that large"),
                }));
            }
            Some(cap) => buf
                .len()
                .min(usize::try_from(cap - self.read).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let n = self.read_inner(&mut buf[..want])?;
        if n == 0 {
            return self.end();
        }
        if let Some((h, _)) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.read += n as u64;
        Ok(n)
    }
}

/// The registry as a store of blobs: keys are `manifests/DIGEST` and `blobs/DIGEST`.
struct RegistryBlobs<'c> {
    client: &'c Client,
}

impl Blobs for RegistryBlobs<'_> {
    fn open(&self, key: &str) -> io::Result<LayerBytes> {
        self.open_declared(key, None)
    }

    fn open_declared(&self, key: &str, size: Option<u64>) -> io::Result<LayerBytes> {
        let (accept, digest, limit) = match key.split_once('/') {
            Some(("manifests", d)) => (Some(MANIFEST_TYPES), d, Limit::AtMost(MAX_MANIFEST)),
            Some(("blobs", d)) => (None, d, size.map_or(Limit::None, Limit::Declared)),
            _ => return Err(io::Error::other(format!("bad key {key}"))),
        };
        let reader = self.client.reader(key, accept, Some(digest), limit)?;
        Ok(LayerBytes::Stream(Box::new(Counted {
            inner: reader,
            received: Arc::clone(&self.client.received),
        })))
    }

    fn manifest_key(&self, digest: &str) -> Option<String> {
        image::blob_path(digest).map(|_| format!("manifests/{digest}"))
    }

    fn blob_key(&self, digest: &str) -> Option<String> {
        image::blob_path(digest).map(|_| format!("blobs/{digest}"))
    }
}

struct Counted {
    inner: Verified,
    received: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.received.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Pulls and scans the image `url` names. Returns the bytes received. Failures are warnings on
/// the `oci://` origin; what was found before them is kept.
pub fn scan(ex: &Expander<'_>, url: &str, opts: &RegistryOptions, limits: &NetLimits) -> u64 {
    let origin = Origin::new(Segment::Registry {
        url: url.to_string(),
    });
    let reference = match Reference::parse(url) {
        Ok(r) => r,
        Err(e) => {
            ex.sink.error(&origin, e);
            return 0;
        }
    };
    let client = Client::new(&reference, opts, limits);
    // A signal (or a report that cannot be written) shuts the client's connections down: a
    // read blocked on a silent server returns at once.
    net::cancellable(&[&client.agent], &|| ex.sink.stopped(), || {
        pull(ex, &origin, &client, &reference, opts)
    })
}

/// Pulls and scans the image of `reference` with `client`.
fn pull(
    ex: &Expander<'_>,
    origin: &Origin,
    client: &Client,
    reference: &Reference,
    opts: &RegistryOptions,
) -> u64 {
    let origin = origin.clone();
    let blobs = RegistryBlobs { client };
    let top = format!("manifests/{}", reference.manifest_ref());
    let mut body = Vec::new();
    let read = client
        .reader(
            &top,
            Some(MANIFEST_TYPES),
            reference.digest.as_deref(),
            Limit::AtMost(MAX_MANIFEST),
        )
        .and_then(|mut r| r.read_to_end(&mut body).map(|_| ()));
    if let Err(e) = read {
        // A stopped scan shut the connection down: the report says it is partial, and the
        // error (a closed connection) says nothing about the registry.
        if !ex.sink.stopped() {
            ex.sink.error(&origin, e.to_string());
        }
        return client.received.load(Ordering::Relaxed);
    }
    client
        .received
        .fetch_add(body.len() as u64, Ordering::Relaxed);
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            ex.sink
                .error(&origin, format!("the manifest is not JSON: {e}"));
            return body.len() as u64;
        }
    };
    let spec = ImageSpec {
        reference: Some(reference.name()),
        digest: Some(
            reference
                .digest
                .clone()
                .unwrap_or_else(|| format!("sha256:{}", hex(&Sha256::digest(&body)))),
        ),
        ..ImageSpec::default()
    };
    let wanted = (opts.platform != "all").then_some(opts.platform.as_str());
    let mut warnings = Vec::new();
    let images = image::images_of(
        &blobs,
        &doc,
        spec,
        wanted,
        &mut |w| warnings.push(w),
        &|| ex.sink.stopped(),
    );
    for w in warnings {
        ex.sink.error(&origin, w);
    }
    if images.is_empty() {
        let platforms: Vec<String> = doc
            .get("manifests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| d.get("platform"))
            .filter_map(|p| {
                Some(format!(
                    "{}/{}",
                    p.get("os")?.as_str()?,
                    p.get("architecture")?.as_str()?
                ))
            })
            .collect();
        ex.sink.error(
            &origin,
            format!(
                "no image for platform {} (the index has: {}); use --platform",
                opts.platform,
                platforms.join(", ")
            ),
        );
    }
    let tracker = Tracker::new();
    for spec in &images {
        image::scan_image(ex, &origin, spec, &blobs, &tracker, 0);
    }
    client.received.load(Ordering::Relaxed)
}

/// Whether a command-line input names a registry image.
pub fn is_registry_url(s: &str) -> bool {
    s.starts_with("oci://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        let r = Reference::parse("oci://127.0.0.1:5000/team/app:1.0").unwrap();
        assert_eq!(r.host, "127.0.0.1:5000");
        assert_eq!(r.repo, "team/app");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.name(), "127.0.0.1:5000/team/app:1.0");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("oci://reg.example/app@{d}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.manifest_ref(), d);
        let r = Reference::parse("oci://localhost:5000/app").unwrap();
        assert_eq!(r.manifest_ref(), "latest");
        assert!(Reference::parse("oci://host").is_err());
        assert!(Reference::parse("oci://host/../x:1").is_err());
        assert!(Reference::parse("oci://host/App:1").is_err());
        assert!(Reference::parse("oci://host/app@sha256:../../x").is_err());
    }

    #[test]
    fn loopback_hosts_are_plain_http() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("127.1.2.3"));
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("registry.example:5000"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }

    #[test]
    fn challenges_parse_with_commas_in_quotes() {
        let (scheme, p) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "bearer");
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
        let (scheme, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(scheme, "basic");
        assert_eq!(p["realm"], "Registry Realm");
    }

    #[test]
    fn docker_config_credentials() {
        let auth = base64::engine::general_purpose::STANDARD.encode("ci:s3cret:with:colons");
        let cfg = serde_json::json!({"auths": {
            "127.0.0.1:5000": {"auth": auth},
            "https://other.example": {"username": "u", "password": "p"},
        }});
        assert_eq!(
            credentials(&cfg, "127.0.0.1:5000"),
            Some(("ci".into(), "s3cret:with:colons".into()))
        );
        assert_eq!(
            credentials(&cfg, "other.example"),
            Some(("u".into(), "p".into()))
        );
        assert_eq!(credentials(&cfg, "nowhere.example"), None);
    }
}

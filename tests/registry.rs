//! The registry client against a small fake registry in this process: the Bearer token flow
//! (401 challenge, token from the realm with the docker config's credentials), platform
//! selection in a multi-platform index, and blobs that do not match their digests. (A real
//! registry, anonymous and with Basic auth, is in tests/tools.rs.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::make::{self, Image, LayerCompression};
use crate::common::secrets::Gen;
use crate::common::{Run, TestDir, run};
use crate::image::{demo, located};

const TOKEN: &str = "fake-registry-token-1";
const BASIC: &str = "Basic Y2k6ZmVycmV0LXRlc3QtcGFzc3dvcmQ="; // ci:ferret-test-password

/// A registry serving one repository, `demo/app`, from an OCI layout's files, asking for a
/// Bearer token that its `/token` realm gives to `ci:ferret-test-password`.
struct Fake {
    port: u16,
    /// Requests seen, as `METHOD PATH`.
    seen: Arc<Mutex<Vec<String>>>,
}

fn respond(stream: &mut impl Write, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

impl Fake {
    fn start(files: Vec<(String, Vec<u8>)>, tag_digest: String) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let blobs: HashMap<String, Vec<u8>> = files
            .into_iter()
            .filter_map(|(p, b)| {
                p.strip_prefix("blobs/sha256/")
                    .map(|h| (format!("sha256:{h}"), b))
            })
            .collect();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let served = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                served.fetch_add(1, Ordering::Relaxed);
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut auth = String::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("authorization")
                    {
                        auth = v.trim().to_string();
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(path.clone());
                if path.starts_with("/token?") {
                    if auth == BASIC && path.contains("scope=repository%3Ademo%2Fapp%3Apull") {
                        respond(
                            &mut stream,
                            "200 OK",
                            &[],
                            format!(r#"{{"token":"{TOKEN}"}}"#).as_bytes(),
                        );
                    } else {
                        respond(&mut stream, "401 Unauthorized", &[], b"{}");
                    }
                    continue;
                }
                if auth != format!("Bearer {TOKEN}") {
                    let challenge = format!(
                        r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake",scope="repository:demo/app:pull""#
                    );
                    respond(
                        &mut stream,
                        "401 Unauthorized",
                        &[("WWW-Authenticate", challenge)],
                        b"{}",
                    );
                    continue;
                }
                let rest = path.strip_prefix("/v2/demo/app/").unwrap_or("");
                let digest = match rest.split_once('/') {
                    Some(("manifests", "1.0")) => tag_digest.clone(),
                    Some((_, d)) => d.to_string(),
                    None => String::new(),
                };
                match blobs.get(&digest) {
                    Some(b) => {
                        let media = serde_json::from_slice::<serde_json::Value>(b)
                            .ok()
                            .and_then(|v| {
                                v.get("mediaType")
                                    .and_then(|m| m.as_str())
                                    .map(str::to_string)
                            })
                            .unwrap_or_else(|| "application/octet-stream".into());
                        respond(
                            &mut stream,
                            "200 OK",
                            &[
                                ("Content-Type", media),
                                ("Docker-Content-Digest", digest.clone()),
                            ],
                            b,
                        );
                    }
                    None => respond(&mut stream, "404 Not Found", &[], b"{}"),
                }
                // Read nothing more: the client sends no body.
                let _ = reader.read(&mut [0u8; 0]);
            }
        });
        Fake { port, seen }
    }
}

/// A docker config with the fake registry's credentials.
fn docker_config(t: &TestDir, port: u16) -> std::path::PathBuf {
    let dir = t.path().join("docker");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        format!(r#"{{"auths": {{"127.0.0.1:{port}": {{"username": "ci", "password": "ferret-test-password"}}}}}}"#),
    )
    .unwrap();
    dir
}

fn scan(t: &TestDir, cfg: &std::path::Path, args: &[&str]) -> (Run, serde_json::Value) {
    let r = run(t
        .ferret()
        .env("DOCKER_CONFIG", cfg)
        .args(["scan", "-f", "json"])
        .args(args));
    let doc = r.json();
    (r, doc)
}

/// The digest of the top index of a layout (what the tag points at).
fn top_digest(files: &[(String, Vec<u8>)]) -> String {
    let index = &files.iter().find(|(p, _)| p == "index.json").unwrap().1;
    let v: serde_json::Value = serde_json::from_slice(index).unwrap();
    v["manifests"][0]["digest"].as_str().unwrap().to_string()
}

#[test]
fn bearer_tokens_and_platforms() {
    let (amd, _) = demo(80);
    let arm_token = Gen::new(81).huggingface();
    let arm = Image {
        reference: amd.reference.clone(),
        layers: vec![(
            make::tar(&[("opt/arm.env", format!("HF={arm_token}\n").as_bytes())]),
            "COPY arm.env /opt/".into(),
        )],
        env: vec![],
        labels: vec![],
        cmd: vec![],
        empty_history: vec![],
    };
    let files = amd.oci_layout(LayerCompression::Gzip, Some(&arm));
    let fake = Fake::start(files.clone(), top_digest(&files));
    let t = TestDir::new();
    let cfg = docker_config(&t, fake.port);
    let url = format!("oci://127.0.0.1:{}/demo/app:1.0", fake.port);

    // Default platform: linux/amd64 only.
    let (r, doc) = scan(&t, &cfg, &[&url]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    let locs: Vec<String> = located(&doc).into_iter().map(|(l, _)| l).collect();
    assert_eq!(locs.len(), 6, "{locs:#?}");
    assert!(
        locs.iter().all(|l| l.starts_with(&format!(
            "{url} › image 127.0.0.1:{}/demo/app:1.0 (linux/amd64) › ",
            fake.port
        ))),
        "{locs:#?}"
    );
    assert!(
        locs.iter()
            .any(|l| l.contains("› [deleted in layer 2] › app/.env:2:14")),
        "{locs:#?}"
    );
    // SARIF: the registry URL is the artifact; the document is valid.
    let r = run(t
        .ferret()
        .env("DOCKER_CONFIG", &cfg)
        .args(["scan", &url, "-f", "sarif"]));
    let sarif = r.json();
    crate::common::assert_valid_sarif(&sarif);
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        url.as_str()
    );
    let seen = fake.seen.lock().unwrap().clone();
    assert!(seen.iter().any(|p| p.starts_with("/token?")), "{seen:?}");

    // Every platform.
    let (r, doc) = scan(&t, &cfg, &[&url, "--platform", "all"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 7);
    assert!(
        located(&doc)
            .iter()
            .any(|(l, _)| l.contains("(linux/arm64/v8) › layer 1 ")
                && l.ends_with("opt/arm.env:1:4"))
    );

    // A platform the index does not have: said, with what it has; exit 2.
    let (r, _) = scan(&t, &cfg, &[&url, "--platform", "linux/s390x"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "no image for platform linux/s390x (the index has: linux/amd64, linux/arm64)"
        ),
        "{}",
        r.stderr
    );

    // Without credentials the token realm refuses: an error naming it.
    let nobody = t.path().join("nobody");
    std::fs::create_dir_all(&nobody).unwrap();
    let (r, _) = scan(&t, &nobody, &[&url]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("token request"), "{}", r.stderr);
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_reported() {
    let (img, _) = demo(82);
    let mut files = img.oci_layout(LayerCompression::Plain, None);
    // Tamper with layer 2 (plain tar): its secret is still found, and the mismatch reported.
    let l2 = make::sha256(&img.layers[1].0);
    for (p, b) in &mut files {
        if p.ends_with(&l2[7..]) {
            let n = b.len() - 1;
            b[n] ^= 1;
        }
    }
    let fake = Fake::start(files.clone(), top_digest(&files));
    let t = TestDir::new();
    let cfg = docker_config(&t, fake.port);
    let url = format!("oci://127.0.0.1:{}/demo/app:1.0", fake.port);
    let (r, doc) = scan(&t, &cfg, &[&url]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 6, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("does not match its digest {l2}")),
        "{}",
        r.stderr
    );
    assert_eq!(doc["summary"]["errors"], 1);
}

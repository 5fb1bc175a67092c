//! Images made by real tools, not by our writer: umoci builds an OCI layout (three layers, one
//! deleting a file, config Env and Labels), skopeo converts it into a `docker save` tarball
//! and pushes it to a real registry (Debian's `docker-registry`, started here on a free
//! loopback port and stopped by its PID), and ferret must give the same findings with the same
//! layer origins for all of them.
//!
//! The tools are Debian packages that `.ci/run` installs. Where one is missing these tests say
//! so on stderr and pass, unless `FERRET_REQUIRE_TOOLS=1` (set by `.ci/run`) makes that a
//! failure.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::make;
use crate::common::secrets::Gen;
use crate::common::{Run, TestDir, run};
use crate::image::{from_image, located};

/// Whether every tool is on PATH; if not, skip loudly (or fail when tools are required).
fn have(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            !std::env::var_os("PATH")
                .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(t).is_file()))
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "SKIPPED: {} not installed (apt-get install -y skopeo umoci docker-registry)",
        missing.join(", ")
    );
    if std::env::var("FERRET_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
        panic!("{msg}, and FERRET_REQUIRE_TOOLS=1");
    }
    eprintln!("{msg}");
    false
}

fn sh(cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn umoci(args: &[&str]) {
    sh(Command::new("umoci").args(args));
}

fn skopeo(args: &[&str]) {
    sh(Command::new("skopeo").arg("--insecure-policy").args(args));
}

/// A `docker-registry` on a free loopback port, killed (by its PID) when dropped.
struct Registry {
    child: Child,
    port: u16,
}

impl Registry {
    /// Starts a registry storing into `dir`; with `htpasswd`, it asks for Basic auth.
    fn start(dir: &Path, htpasswd: Option<&str>) -> Registry {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let store = dir.join("store");
        std::fs::create_dir_all(&store).unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            store.display()
        );
        if let Some(line) = htpasswd {
            let file = dir.join("htpasswd");
            std::fs::write(&file, format!("{line}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: ferret-test\n    path: {}\n",
                file.display()
            ));
        }
        let config_path = dir.join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let r = Registry { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the registry did not listen on {port}: {}",
                std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The secrets [`build_with_umoci`] plants.
struct Planted {
    deleted: String,
    kept: String,
    env: String,
    label: String,
    history: String,
}

/// Builds `layout:app` with umoci: layer 1 adds `app/.env` and `app/main.py`; layer 2 deletes
/// `app/.env` and adds `app/settings.json`; layer 3 adds `opt/notes.txt`; the config gets an
/// Env variable and a label with secrets, and a history line with one.
fn build_with_umoci(t: &TestDir) -> (PathBuf, Planted) {
    let mut g = Gen::new(90);
    let p = Planted {
        deleted: g.github_pat(),
        kept: g.huggingface(),
        env: g.openai(),
        label: g.slack_bot(),
        history: g.gitlab(),
    };
    let layout = t.path().join("layout");
    let bundle = t.path().join("bundle");
    let image = format!("{}:app", layout.display());
    let b = bundle.to_str().unwrap();
    umoci(&["init", "--layout", layout.to_str().unwrap()]);
    umoci(&["new", "--image", &image]);
    let step = |created_by: &str, change: &dyn Fn(&Path)| {
        let _ = std::fs::remove_dir_all(&bundle);
        umoci(&["unpack", "--rootless", "--image", &image, b]);
        change(&bundle.join("rootfs"));
        umoci(&[
            "repack",
            "--image",
            &image,
            "--history.created_by",
            created_by,
            b,
        ]);
    };
    step("COPY . /app", &|root| {
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::write(
            root.join("app/.env"),
            format!("DEBUG=1\nGITHUB_TOKEN={}\n", p.deleted),
        )
        .unwrap();
        std::fs::write(root.join("app/main.py"), "print('hi')\n").unwrap();
    });
    step("RUN rm /app/.env && write settings", &|root| {
        std::fs::remove_file(root.join("app/.env")).unwrap();
        std::fs::write(
            root.join("app/settings.json"),
            format!("{{\"hf_token\": \"{}\"}}\n", p.kept),
        )
        .unwrap();
    });
    step(
        &format!(
            "RUN git clone https://oauth2:{}@gitlab.example/x.git",
            p.history
        ),
        &|root| {
            std::fs::create_dir_all(root.join("opt")).unwrap();
            std::fs::write(root.join("opt/notes.txt"), "nothing here\n").unwrap();
        },
    );
    umoci(&[
        "config",
        "--image",
        &image,
        "--config.env",
        &format!("OPENAI_API_KEY={}", p.env),
        "--config.label",
        &format!("ci.token={}", p.label),
        "--history.created_by",
        "ENV OPENAI_API_KEY=…",
    ]);
    // Earlier states' manifests and configs stay in the layout until collected; ferret would
    // scan them as loose files (it drops nothing), which is not what this test compares.
    umoci(&["gc", "--layout", layout.to_str().unwrap()]);
    (layout, p)
}

fn scan(t: &TestDir, args: &[&str], env: &[(&str, &Path)]) -> (Run, serde_json::Value) {
    let mut cmd = t.ferret();
    cmd.args(["scan", "-f", "json"]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let r = run(&mut cmd);
    let doc = r.json();
    (r, doc)
}

#[test]
fn umoci_layout_docker_archive_and_registry_give_the_same_findings() {
    if !have(&["umoci", "skopeo", "docker-registry"]) {
        return;
    }
    let t = TestDir::new();
    let (layout, p) = build_with_umoci(&t);
    let oci = format!("oci:{}:app", layout.display());

    // The layout folder, as umoci wrote it.
    let (r, from_layout) = scan(&t, &["layout"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(from_layout["summary"]["errors"], 0, "{}", r.stderr);
    let expected = from_image(&from_layout);
    let locs: Vec<(String, String)> = located(&from_layout);
    let has = |needle: &str, rule: &str| locs.iter().any(|(l, r)| l.contains(needle) && r == rule);
    assert!(
        has("› layer 1 sha256:", "github.pat.classic")
            && has(
                "› [deleted in layer 2] › app/.env:2:14",
                "github.pat.classic"
            ),
        "{locs:#?}"
    );
    assert!(has("› layer 2 sha256:", "huggingface.token"), "{locs:#?}");
    assert!(
        has("› config Env:1:16", "openai.api-key.project"),
        "{locs:#?}"
    );
    assert!(has("› config Labels:1:10", "slack.bot-token"), "{locs:#?}");
    assert!(has("› config history:3:", "gitlab.pat"), "{locs:#?}");
    // The layer that made the history finding's layer is named in full in JSON.
    let deleted = from_layout["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["deleted"] == true)
        .expect("the deleted .env");
    assert_eq!(deleted["origin"][2]["created_by"], "COPY . /app");
    assert!(
        deleted["secret"].is_null(),
        "no secret without --show-secrets"
    );
    let _ = (&p.deleted, &p.kept, &p.env, &p.label, &p.history);

    // The same layout in a tar.
    let mut files = Vec::new();
    for e in walkdir(&layout) {
        let rel = e
            .strip_prefix(&layout)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        files.push((rel, std::fs::read(&e).unwrap()));
    }
    t.write("layout.tar", make::tar_of(&files));
    let (r, doc) = scan(&t, &["layout.tar"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(from_image(&doc), expected, "layout.tar");

    // skopeo's docker-archive: uncompressed layers, symlinked layer.tar, RepoTags.
    let archive = t.path().join("app.tar");
    skopeo(&[
        "copy",
        &oci,
        &format!("docker-archive:{}:demo/app:1.0", archive.display()),
    ]);
    let (r, doc) = scan(&t, &["app.tar"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    assert_eq!(from_image(&doc), expected, "docker-archive");
    assert!(
        located(&doc)[0]
            .0
            .starts_with("app.tar › image docker.io/demo/app:1.0 › "),
        "{:?}",
        located(&doc)
    );

    // The same tarball gzip-compressed (`docker save | gzip`), read as a stream.
    t.write("app.tar.gz", make::gzip(&std::fs::read(&archive).unwrap()));
    let (r, doc) = scan(&t, &["app.tar.gz"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(from_image(&doc), expected, "docker-archive | gzip");

    // A registry on loopback, anonymous.
    let reg_dir = t.path().join("registry");
    let registry = Registry::start(&reg_dir, None);
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &oci,
        &format!("docker://{}/demo/app:1.0", registry.host()),
    ]);
    let url = format!("oci://{}/demo/app:1.0", registry.host());
    let empty_home = t.path().join("home");
    std::fs::create_dir_all(&empty_home).unwrap();
    let (r, doc) = scan(&t, &[&url], &[("HOME", &empty_home)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    assert_eq!(from_image(&doc), expected, "registry");
    assert_eq!(doc["findings"][0]["path"], url);
    assert!(doc["summary"]["bytes"].as_u64().unwrap() > 0);
    // SARIF names the registry URL as the artifact.
    let r = run(t
        .ferret()
        .env("HOME", &empty_home)
        .args(["scan", &url, "-f", "sarif"]));
    let sarif: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        url.as_str()
    );
    // A missing tag is an error, exit 2.
    let r = run(t
        .ferret()
        .env("HOME", &empty_home)
        .args(["scan", &format!("oci://{}/demo/app:nope", registry.host())]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 404"), "{}", r.stderr);
    drop(registry);
}

/// `ferret-test-registry-password` hashed with bcrypt (the only hash docker-registry's
/// htpasswd accepts), so that no tool is needed to make it.
const HTPASSWD: &str = "ci:$2b$10$abcdefghijklmnopqrstuukIAGbCGclAmYJYwC0GPlvIGAASs2VuK";

#[test]
fn a_registry_with_basic_auth_uses_the_docker_config() {
    if !have(&["umoci", "skopeo", "docker-registry"]) {
        return;
    }
    let t = TestDir::new();
    let (layout, _) = build_with_umoci(&t);
    let registry = Registry::start(&t.path().join("registry"), Some(HTPASSWD));
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        "ci:ferret-test-registry-password",
        &format!("oci:{}:app", layout.display()),
        &format!("docker://{}/demo/app:1.0", registry.host()),
    ]);
    let url = format!("oci://{}/demo/app:1.0", registry.host());
    // No credentials: unauthorized, said clearly, exit 2.
    let nobody = t.path().join("nobody");
    std::fs::create_dir_all(&nobody).unwrap();
    let (r, _) = scan(&t, &[&url], &[("DOCKER_CONFIG", &nobody)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("password"), "{}", r.stderr);
    // The standard docker config file with `auths`.
    let cfg = t.path().join("docker");
    std::fs::create_dir_all(&cfg).unwrap();
    let auth = base64_encode(b"ci:ferret-test-registry-password");
    std::fs::write(
        cfg.join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let (r, doc) = scan(&t, &[&url], &[("DOCKER_CONFIG", &cfg)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 5, "{:#?}", located(&doc));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

//! Object storage against a real S3-compatible server (SeaweedFS, see common/s3.rs): a bucket
//! scans like the same files on disk, checkpoints cost their header, sweeps are incremental and
//! shardable, credentials come from the environment or a profile file.

use std::collections::BTreeSet;

use crate::common::make;
use crate::common::s3::{self, S3Server};
use crate::common::secrets::Gen;
use crate::common::{Run, TestDir, run};

fn server() -> Option<&'static S3Server> {
    s3::server()
}

/// Pseudo-random bytes (incompressible filler that holds no keyword).
fn noise(g: &mut Gen, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        out.extend_from_slice(&g.next().to_le_bytes());
    }
    out.truncate(n);
    out
}

/// A small artifact store: an image tarball, a tar.gz, a zip checkpoint, a notebook, logs, and
/// large objects that take each of the remote paths (ranged chunks, a streamed tar.gz, a zip
/// read by ranges, a safetensors header). Returns how many secrets were planted.
fn artifact_store(t: &TestDir, g: &mut Gen) -> usize {
    let layer = make::tar(&[(
        "app/.env",
        format!("OPENAI_API_KEY={}\n", g.openai()).as_bytes(),
    )]);
    t.write(
        "images/app-image.tar",
        make::tar(&[
            ("manifest.json", br#"[{"Layers":["l1/layer.tar"]}]"#),
            ("l1/layer.tar", &layer),
        ]),
    );
    t.write(
        "bundles/src.tar.gz",
        make::gzip(&make::tar(&[(
            "cfg/settings.py",
            format!("GITHUB_TOKEN = '{}'\n", g.github_pat()).as_bytes(),
        )])),
    );
    // A pickle's bytes, as torch.save writes them into the zip: the token is a plain string.
    let mut pickle = b"\x80\x02}q\x00X\x08\x00\x00\x00hf_tokenq\x01X%\x00\x00\x00".to_vec();
    pickle.extend_from_slice(g.huggingface().as_bytes());
    pickle.extend_from_slice(b"q\x02s.");
    t.write(
        "ckpt/model.pt",
        make::zip(
            &[
                ("archive/data.pkl", pickle.as_slice()),
                ("archive/version", b"3\n"),
            ],
            false,
        ),
    );
    let nb = serde_json::json!({
        "cells": [{"cell_type": "code", "source": [
            "import os\n",
            format!("os.environ[\"ANTHROPIC_API_KEY\"] = \"{}\"\n", g.anthropic()),
        ], "outputs": [], "metadata": {}, "execution_count": 1}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5
    });
    t.write("notebooks/eda.ipynb", nb.to_string());
    t.write(
        "logs/train.log",
        format!(
            "step 1 loss 2.3\nexport AWS_ACCESS_KEY_ID={}\nstep 2 loss 2.1\n",
            g.aws_key_id()
        ),
    );
    // 12 MiB of log with secrets at the start, across the first chunk seam and at the end.
    let mut log = format!("GITHUB_TOKEN={}\n", g.github_pat()).into_bytes();
    let line = b"epoch 3 step 100 loss 0.1234 lr 3e-4 grad_norm 1.0 throughput 312.5\n";
    while log.len() < (8 << 20) - 30 {
        log.extend_from_slice(line);
    }
    log.extend_from_slice(format!("HF_TOKEN={}\n", g.huggingface()).as_bytes());
    while log.len() < 12 << 20 {
        log.extend_from_slice(line);
    }
    log.extend_from_slice(format!("token={}\n", g.gitlab()).as_bytes());
    t.write("logs/big.log", log);
    // A tar.gz over the whole-object threshold: read with one streaming GET.
    let weights = noise(g, 10 << 20);
    t.write(
        "bundles/big-layers.tar.gz",
        make::gzip(&make::tar(&[
            ("weights.bin", &weights),
            (
                "deploy/.env",
                format!("SLACK_BOT_TOKEN={}\n", g.slack_bot()).as_bytes(),
            ),
        ])),
    );
    // A zip over the threshold: its directory and members read by ranges.
    t.write(
        "ckpt/big.zip",
        make::zip(
            &[
                ("blob.bin", &noise(g, 10 << 20)),
                (
                    "config.json",
                    format!("{{\"api_key\": \"{}\"}}", g.openai()).as_bytes(),
                ),
            ],
            true,
        ),
    );
    t.write(
        "ckpt/model.safetensors",
        make::safetensors(&[("hub_token", &g.huggingface())], 12 << 20),
    );
    10
}

/// `(location without the root, rule, fingerprint)` of every finding.
pub fn findings(doc: &serde_json::Value, root: &str) -> BTreeSet<(String, String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let loc = f["location"].as_str().expect("location");
            (
                loc.strip_prefix(root).unwrap_or(loc).to_string(),
                f["rule_id"].as_str().expect("rule").to_string(),
                f["fingerprint"].as_str().expect("fingerprint").to_string(),
            )
        })
        .collect()
}

fn scan_json(cmd: &mut std::process::Command) -> (Run, serde_json::Value) {
    let r = run(cmd);
    let doc = r.json();
    (r, doc)
}

#[test]
fn a_bucket_scans_like_the_same_files_on_disk() {
    let Some(s3) = server() else { return };
    let t = TestDir::new();
    let planted = artifact_store(&t, &mut Gen::new(90));
    s3.put_dir(t.path(), "same");

    let (disk_run, disk) = scan_json(t.ferret().args(["scan", "-f", "json", "."]));
    assert_eq!(disk_run.code, 1, "{}", disk_run.stderr);
    let url = s3.url("same/");
    let (s3_run, remote) = scan_json(s3.ferret().args(["scan", "-f", "json", &url]));
    assert_eq!(s3_run.code, 1, "{}", s3_run.stderr);
    assert_eq!(remote["summary"]["errors"], 0, "{}", s3_run.stderr);

    let on_disk = findings(&disk, "");
    let in_bucket = findings(&remote, &url);
    assert!(on_disk.len() >= planted, "{on_disk:#?}");
    assert_eq!(in_bucket, on_disk);
    assert_eq!(remote["summary"]["files"], disk["summary"]["files"]);
    assert_eq!(remote["summary"]["bytes"], disk["summary"]["bytes"]);

    // Findings name the object, then what is inside it.
    let f = remote["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"].as_str().unwrap().contains("app-image.tar"))
        .expect("a finding in the image");
    assert_eq!(
        f["origin"][0],
        serde_json::json!({"kind": "object", "url": format!("{url}images/app-image.tar")})
    );
    assert_eq!(f["path"], format!("{url}images/app-image.tar"));
    assert!(
        f["location"].as_str().unwrap().starts_with(&format!(
            "{url}images/app-image.tar › l1/layer.tar › app/.env:1:"
        )),
        "{}",
        f["location"]
    );

    // The text report shows the object URL too.
    let text = run(s3.ferret().args(["scan", "--color", "never", &url]));
    assert!(
        text.stdout.contains(&format!("{url}logs/train.log:2:")),
        "{}",
        text.stdout
    );
    // The summary says how much was downloaded: less than the store (tensors are skipped).
    let fetched = remote["summary"]["fetched_bytes"].as_u64().unwrap();
    let total = remote["summary"]["bytes"].as_u64().unwrap();
    assert!(
        fetched > 0 && fetched + (8 << 20) < total,
        "{fetched} of {total}"
    );
}

#[test]
fn a_checkpoint_header_is_read_without_its_tensors() {
    let Some(s3) = server() else { return };
    let mut g = Gen::new(91);
    let token = g.huggingface();
    let size = 64 << 20;
    s3.put(
        "ckpt-only/model.safetensors",
        make::safetensors(&[("hub_token", &token), ("lr", "3e-4")], size),
    );
    let (r, doc) =
        scan_json(
            s3.ferret()
                .args(["scan", "-f", "json", &s3.url("ckpt-only/model.safetensors")]),
        );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["findings"][0]["rule_id"], "huggingface.token");
    let fetched = doc["summary"]["fetched_bytes"].as_u64().unwrap();
    assert!(
        doc["summary"]["bytes"].as_u64().unwrap() > size as u64,
        "the object's size is counted"
    );
    assert!(
        fetched <= 256 << 10,
        "a 64 MiB checkpoint cost {fetched} bytes: its header, not its tensors"
    );
    assert!(r.stderr.contains("downloaded"), "{}", r.stderr);
}

#[test]
fn incremental_sweeps_of_a_bucket_rescan_only_what_changed() {
    let Some(s3) = server() else { return };
    let mut g = Gen::new(92);
    let t = TestDir::new();
    for i in 0..6 {
        s3.put(
            &format!("incr/run-{i}/train.log"),
            format!("step {i}\nGITHUB_TOKEN={}\n", g.github_pat()).into_bytes(),
        );
    }
    s3.put(
        "incr/run-0/bundle.tar.gz",
        make::gzip(&make::tar(&[(
            "x/.env",
            format!("HF_TOKEN={}\n", g.huggingface()).as_bytes(),
        )])),
    );
    let url = s3.url("incr/");
    let state = t.path().join("sweep.redb");
    let state = state.to_str().unwrap();
    let sweep = |extra: &[&str]| {
        let mut c = s3.ferret();
        c.args(["scan", "-f", "json", "--state", state, &url])
            .args(extra);
        scan_json(&mut c)
    };
    let (r1, first) = sweep(&[]);
    assert_eq!(r1.code, 1, "{}", r1.stderr);
    assert_eq!(first["summary"]["files"], 7);
    assert_eq!(first["summary"]["unchanged"], 0);
    assert_eq!(first["findings"].as_array().unwrap().len(), 7);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(state).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // Nothing changed: nothing is read, every finding is reported as still there.
    let (r2, second) = sweep(&[]);
    assert_eq!(r2.code, 1, "{}", r2.stderr);
    assert_eq!(second["summary"]["files"], 0);
    assert_eq!(second["summary"]["unchanged"], 7);
    assert_eq!(second["summary"]["fetched_bytes"], 0);
    assert_eq!(findings(&second, ""), findings(&first, ""));
    // Replayed findings look exactly like scanned ones (masked context, origin, position).
    let strip = |d: &serde_json::Value| {
        let mut v = d["findings"].clone();
        for f in v.as_array_mut().unwrap() {
            f.as_object_mut().unwrap().remove("entropy");
        }
        v
    };
    assert_eq!(strip(&second), strip(&first));

    // One object changes: it alone is rescanned.
    let new_token = g.openai();
    s3.put(
        "incr/run-3/train.log",
        format!("step 3\nOPENAI_API_KEY={new_token}\n").into_bytes(),
    );
    let (r3, third) = sweep(&["--only-new"]);
    assert_eq!(r3.code, 1, "{}", r3.stderr);
    assert_eq!(third["summary"]["files"], 1);
    assert_eq!(third["summary"]["unchanged"], 6);
    let only: Vec<_> = third["findings"].as_array().unwrap().iter().collect();
    assert_eq!(only.len(), 1, "only the new secret: {only:#?}");
    assert!(
        only[0]["location"]
            .as_str()
            .unwrap()
            .contains("run-3/train.log:2:"),
        "{only:#?}"
    );

    // With nothing new, --only-new reports nothing and exits 0.
    let (r4, fourth) = sweep(&["--only-new"]);
    assert_eq!(r4.code, 0, "{}", r4.stderr);
    assert_eq!(fourth["summary"]["unchanged"], 7);
    assert_eq!(fourth["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn shards_of_a_bucket_cover_it_exactly_once() {
    let Some(s3) = server() else { return };
    let mut g = Gen::new(93);
    for i in 0..40 {
        s3.put(
            &format!("shards/d{}/f{i}.env", i % 5),
            format!("GITHUB_TOKEN={}\n", g.github_pat()).into_bytes(),
        );
    }
    let url = s3.url("shards/");
    let (_, whole) = scan_json(s3.ferret().args(["scan", "-f", "json", &url]));
    let whole = findings(&whole, "");
    assert_eq!(whole.len(), 40);
    let mut union = BTreeSet::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let (r, doc) = scan_json(
            s3.ferret()
                .args(["scan", "-f", "json", "--shard", &shard, &url]),
        );
        assert!(r.code <= 1, "{}", r.stderr);
        let part = findings(&doc, "");
        assert!(
            !part.is_empty() && part.len() < 40,
            "shard {shard}: {}",
            part.len()
        );
        assert!(union.is_disjoint(&part), "shard {shard} overlaps");
        union.extend(part);
    }
    assert_eq!(union, whole);
}

#[test]
fn credentials_come_from_a_profile_file() {
    let Some(s3) = server() else { return };
    let t = TestDir::new();
    s3.put(
        "profile/app.env",
        format!("GITHUB_TOKEN={}\n", Gen::new(94).github_pat()).into_bytes(),
    );
    let creds = t.write(
        "aws/credentials",
        format!(
            "[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n\
             [nightly]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            s3::ACCESS_KEY,
            s3::SECRET_KEY
        ),
    );
    let mut cmd = s3::clean_ferret();
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_CONFIG_FILE", t.path().join("aws/none"))
        .env("AWS_PROFILE", "nightly")
        .args(["scan", "-f", "json", "--s3-endpoint", &s3.endpoint])
        .arg(s3.url("profile/"));
    let (r, doc) = scan_json(&mut cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);

    // The default profile's keys are refused by the server: an error, exit 2, no panic.
    let mut cmd = s3::clean_ferret();
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_CONFIG_FILE", t.path().join("aws/none"))
        .args(["scan", "-f", "json", "--s3-endpoint", &s3.endpoint])
        .arg(s3.url("profile/"));
    let (r, doc) = scan_json(&mut cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 1);
}

#[test]
fn missing_objects_and_bad_urls_are_reported_not_fatal_panics() {
    let Some(s3) = server() else { return };
    let (r, doc) = scan_json(
        s3.ferret()
            .args(["scan", "-f", "json", &s3.url("no-such-prefix/")]),
    );
    assert_eq!(r.code, 0, "an empty prefix is a clean scan: {}", r.stderr);
    assert_eq!(doc["summary"]["files"], 0);
    let r = run(s3.ferret().args(["scan", "s3:///nobucket"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("names no bucket"), "{}", r.stderr);
}

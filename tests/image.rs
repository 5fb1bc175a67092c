//! Container images built by our own writer (tests/common/make.rs): docker-save tarballs, OCI
//! layouts in a tar and in a folder, plain, gzip and zstd layers, whiteouts, config fields,
//! multi-platform indexes, damage. Images made by real tools (umoci, skopeo, a registry) are in
//! tests/tools.rs.

pub use crate::common::located;
use crate::common::make::{self, Image, LayerCompression};
use crate::common::secrets::Gen;
use crate::common::{TestDir, run};

/// Each finding's origin from the image segment on (so that images in different containers
/// compare equal), with line, column and rule.
pub fn from_image(doc: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let segs = f["origin"].as_array().unwrap();
            let start = segs
                .iter()
                .position(|s| s["kind"] == "image")
                .unwrap_or_else(|| panic!("no image segment in {}", f["location"]));
            let mut inner: Vec<serde_json::Value> = segs[start + 1..].to_vec();
            for s in &mut inner {
                // The stored (compressed) digest depends on the compression; diff_ids do not.
                if let Some(o) = s.as_object_mut() {
                    o.remove("blob");
                }
            }
            format!(
                "{} {}:{} {}",
                serde_json::Value::Array(inner),
                f["line"],
                f["column"],
                f["rule_id"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

/// The secrets planted in [`demo`].
pub struct Planted {
    pub deleted_pat: String,
    pub opaque_key: String,
    pub kept_hf: String,
    pub env_openai: String,
    pub history_pat: String,
    pub label_slack: String,
}

/// Three layers: the first adds `app/.env` (a GitHub token) and `etc/secrets/aws` (a key);
/// the second deletes `app/.env` (a `.wh.` whiteout) and adds `app/config.json` (an HF
/// token); the third makes `etc/secrets` opaque (deleting its old contents). The config has an
/// OpenAI key in `Env`, a Slack token in `Labels`, and a GitHub token in a `RUN` line of the
/// history that made no layer.
pub fn demo(seed: u64) -> (Image, Planted) {
    let mut g = Gen::new(seed);
    let p = Planted {
        deleted_pat: g.github_pat(),
        opaque_key: g.aws_key_id(),
        kept_hf: g.huggingface(),
        env_openai: g.openai(),
        history_pat: g.github_pat(),
        label_slack: g.slack_bot(),
    };
    let l1 = make::tar(&[
        ("app/main.py", b"print('hello')\n"),
        (
            "app/.env",
            format!("DEBUG=1\nGITHUB_TOKEN={}\n", p.deleted_pat).as_bytes(),
        ),
        (
            "etc/secrets/aws",
            format!("aws_access_key_id = {}\n", p.opaque_key).as_bytes(),
        ),
    ]);
    let l2 = make::tar(&[
        ("app/.wh..env", b""),
        (
            "app/config.json",
            format!("{{\"hf_token\": \"{}\"}}\n", p.kept_hf).as_bytes(),
        ),
    ]);
    let l3 = make::tar(&[
        ("etc/secrets/.wh..wh..opq", b""),
        ("etc/secrets/README", b"mounted at run time\n"),
    ]);
    let img = Image {
        reference: "demo/app:1.0".into(),
        layers: vec![
            (l1, "COPY . /app # buildkit".into()),
            (l2, "RUN rm /app/.env && cp cfg /app/config.json".into()),
            (l3, "RUN rm -rf /etc/secrets/*".into()),
        ],
        env: vec![
            "PATH=/usr/local/bin:/usr/bin".into(),
            format!("OPENAI_API_KEY={}", p.env_openai),
        ],
        labels: vec![("slack".into(), p.label_slack.clone())],
        cmd: vec!["python".into(), "/app/main.py".into()],
        empty_history: vec![(
            1,
            format!(
                "RUN /bin/sh -c curl -H 'Authorization: token {}' https://example.invalid",
                p.history_pat
            ),
        )],
    };
    (img, p)
}

#[test]
fn a_docker_save_tarball_names_image_layers_and_whiteouts() {
    let t = TestDir::new();
    let (img, _) = demo(70);
    t.write("app.tar", img.docker_save(LayerCompression::Plain));
    let (r, doc) = t.scan_json(&["app.tar"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    let ids = img.diff_ids();
    let short = |i: usize| ids[i][..19].to_string();
    assert_eq!(
        located(&doc),
        [
            (
                "app.tar › image demo/app:1.0 › config Env:2:16".to_string(),
                "openai.api-key.project".to_string()
            ),
            (
                "app.tar › image demo/app:1.0 › config Labels:1:7".into(),
                "slack.bot-token".into()
            ),
            (
                "app.tar › image demo/app:1.0 › config history:2:46".into(),
                "github.pat.classic".into()
            ),
            (
                format!(
                    "app.tar › image demo/app:1.0 › layer 1 {} › [deleted in layer 2] › app/.env:2:14",
                    short(0)
                ),
                "github.pat.classic".into()
            ),
            (
                format!(
                    "app.tar › image demo/app:1.0 › layer 1 {} › [deleted in layer 3] › etc/secrets/aws:1:21",
                    short(0)
                ),
                "aws.access-key-id".into()
            ),
            (
                format!(
                    "app.tar › image demo/app:1.0 › layer 2 {} › app/config.json:1:15",
                    short(1)
                ),
                "huggingface.token".into()
            ),
        ]
    );
    // JSON: the full digest, the history command, the deletion.
    let deleted = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"].as_str().unwrap().contains("app/.env"))
        .unwrap();
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["deleted_in_layer"], 2);
    assert_eq!(
        deleted["origin"],
        serde_json::json!([
            {"kind": "file", "path": "app.tar"},
            {"kind": "image", "reference": "demo/app:1.0"},
            {"kind": "layer", "index": 1, "digest": ids[0], "created_by": "COPY . /app # buildkit"},
            {"kind": "deleted", "by_layer": 2},
            {"kind": "entry", "path": "app/.env"},
        ])
    );
    let kept = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "huggingface.token")
        .unwrap();
    assert!(kept.get("deleted").is_none());
    // Text shows the layer's digest and history, and the deletion.
    let out = run(t.ferret().args(["scan", "app.tar"]));
    assert!(
        out.stdout.contains(&format!(
            "layer 1 {}, made by: COPY . /app # buildkit",
            ids[0]
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("deleted in layer 2, but still in the image"),
        "{}",
        out.stdout
    );
}

#[test]
fn docker_save_oci_tar_and_oci_folder_agree_whatever_the_compression() {
    let t = TestDir::new();
    let (img, _) = demo(71);
    t.write("plain.tar", img.docker_save(LayerCompression::Plain));
    t.write("gz.tar", img.docker_save(LayerCompression::Gzip));
    t.write(
        "oci-zstd.tar",
        make::tar_of(&img.oci_layout(LayerCompression::Zstd, None)),
    );
    for (path, bytes) in img.oci_layout(LayerCompression::Gzip, None) {
        t.write(&format!("layout/{path}"), bytes);
    }
    let (r, plain) = t.scan_json(&["plain.tar"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let expected = from_image(&plain);
    assert_eq!(expected.len(), 6);
    for input in ["gz.tar", "oci-zstd.tar", "layout"] {
        let (r, doc) = t.scan_json(&[input]);
        assert_eq!(r.code, 1, "{input}: {}", r.stderr);
        assert_eq!(doc["summary"]["errors"], 0, "{input}: {}", r.stderr);
        assert_eq!(from_image(&doc), expected, "{input}");
    }
    // OCI layouts name the image by its ref-name annotation and the manifest digest; their
    // layers carry the stored (compressed) digest as `blob`.
    let (_, doc) = t.scan_json(&["layout"]);
    let f = &doc["findings"][0];
    assert_eq!(f["path"], "layout");
    assert_eq!(f["origin"][1]["kind"], "image");
    assert_eq!(f["origin"][1]["reference"], "1.0");
    assert!(
        f["origin"][1]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let layer = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "huggingface.token")
        .unwrap()["origin"][2]
        .clone();
    assert_eq!(layer["digest"], img.diff_ids()[1]);
    assert_eq!(layer["blob"], make::sha256(&make::gzip(&img.layers[1].0)));
}

#[test]
fn a_multi_platform_index_scans_every_platform() {
    let t = TestDir::new();
    let (amd, _) = demo(72);
    let arm_token = Gen::new(73).huggingface();
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
    t.write(
        "multi.tar",
        make::tar_of(&amd.oci_layout(LayerCompression::Gzip, Some(&arm))),
    );
    let (r, doc) = t.scan_json(&["multi.tar"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let locs: Vec<String> = located(&doc).into_iter().map(|(l, _)| l).collect();
    assert_eq!(locs.len(), 7, "{locs:#?}");
    assert!(
        locs.iter().any(
            |l| l.starts_with("multi.tar › image 1.0 (linux/arm64/v8) › layer 1 ")
                && l.ends_with("opt/arm.env:1:4")
        ),
        "{locs:#?}"
    );
    assert_eq!(
        locs.iter().filter(|l| l.contains("(linux/amd64)")).count(),
        6
    );
}

#[test]
fn a_damaged_image_warns_and_keeps_its_findings() {
    let t = TestDir::new();
    let (img, _) = demo(74);
    // The last layer's gzip is cut in half: layers 1 and 2 and the config still give findings.
    let mut files = img.oci_layout(LayerCompression::Gzip, None);
    let last = make::sha256(&make::gzip(&img.layers[2].0));
    for (path, bytes) in &mut files {
        if path.ends_with(&last[7..]) {
            let n = bytes.len() / 2;
            bytes.truncate(n);
        }
    }
    t.write("cut.tar", make::tar_of(&files));
    let (r, doc) = t.scan_json(&["cut.tar"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 6, "{}", r.stderr);
    assert!(doc["summary"]["errors"].as_u64().unwrap() >= 1);
    assert!(r.stderr.contains("layer 3"), "{}", r.stderr);
    // A layer missing from the archive: a warning naming it, the rest scanned.
    let missing = make::sha256(&make::gzip(&img.layers[1].0));
    let files: Vec<(String, Vec<u8>)> = img
        .oci_layout(LayerCompression::Gzip, None)
        .into_iter()
        .filter(|(p, _)| !p.ends_with(&missing[7..]))
        .collect();
    t.write("missing.tar", make::tar_of(&files));
    let (r, doc) = t.scan_json(&["missing.tar"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 5, "{}", r.stderr);
    assert!(r.stderr.contains("not in the archive"), "{}", r.stderr);
}

#[test]
fn a_tar_with_a_manifest_json_that_is_not_docker_is_a_plain_tar() {
    let t = TestDir::new();
    let token = Gen::new(75).github_pat();
    t.write(
        "ext.tar",
        make::tar(&[
            ("manifest.json", br#"{"name": "browser extension"}"#),
            ("bg.js", format!("const T = '{token}';\n").as_bytes()),
        ]),
    );
    let (r, doc) = t.scan_json(&["ext.tar"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [(
            "ext.tar › bg.js:1:12".to_string(),
            "github.pat.classic".to_string()
        )]
    );
}

#[test]
fn sarif_carries_the_layer_chain_and_the_deletion() {
    let t = TestDir::new();
    let (img, _) = demo(76);
    t.write("app.tar", img.docker_save(LayerCompression::Gzip));
    let r = run(t.ferret().args(["scan", "app.tar", "-f", "sarif"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    crate::common::assert_valid_sarif(&doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let deleted = results
        .iter()
        .find(|x| x["properties"]["deleted"] == true)
        .expect("a deleted finding");
    let loc = &deleted["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "app.tar"
    );
    let fqn = loc["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap();
    assert!(
        fqn.starts_with("app.tar › image demo/app:1.0 › layer 1 sha256:"),
        "{fqn}"
    );
    assert!(
        deleted["message"]["text"]
            .as_str()
            .unwrap()
            .contains("deleted in image layer"),
    );
    assert_eq!(deleted["properties"]["origin"][2]["kind"], "layer");
    assert!(deleted["properties"]["line"].as_u64().is_some());
}

#[test]
fn a_compressed_image_tarball_streams_with_the_same_origins() {
    let t = TestDir::new();
    let (mut img, _) = demo(77);
    // Layer 1 gets 3 MB of filler, so that it is scanned while the stream goes by (before the
    // manifest, at the end, names it); the other layers are small and kept until the end.
    let mut g = Gen::new(78);
    let filler: String = (0..120_000).map(|_| g.password() + "\n").collect();
    let mut l1 = vec![("filler.txt".to_string(), filler.into_bytes())];
    let mut a = tar::Archive::new(&img.layers[0].0[..]);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut b).unwrap();
        l1.push((p, b));
    }
    img.layers[0].0 = make::tar_of(&l1);
    let plain = img.docker_save(LayerCompression::Plain);
    t.write("app.tar", &plain);
    t.write("app.tar.gz", make::gzip(&plain));
    t.write(
        "oci.tar.zst",
        make::zstd(&make::tar_of(&img.oci_layout(LayerCompression::Gzip, None))),
    );
    let (r, expected) = t.scan_json(&["app.tar"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for input in ["app.tar.gz", "oci.tar.zst"] {
        let (r, doc) = t.scan_json(&[input]);
        assert_eq!(r.code, 1, "{input}: {}", r.stderr);
        assert_eq!(doc["summary"]["errors"], 0, "{input}: {}", r.stderr);
        assert_eq!(from_image(&doc), from_image(&expected), "{input}");
    }
    let (_, doc) = t.scan_json(&["app.tar.gz"]);
    let want: Vec<(String, String)> = located(&expected)
        .into_iter()
        .map(|(l, r)| (l.replacen("app.tar", "app.tar.gz", 1), r))
        .collect();
    assert_eq!(located(&doc), want);
    // And from stdin.
    let r = crate::common::run_stdin(
        t.ferret().args(["scan", "-", "-f", "json"]),
        &make::gzip(&plain),
    );
    assert_eq!(from_image(&r.json()), from_image(&expected));
}

#[test]
fn an_oci_layout_inside_a_walked_folder_is_scanned_as_an_image() {
    let t = TestDir::new();
    let (img, _) = demo(72);
    for (path, bytes) in img.oci_layout(LayerCompression::Gzip, None) {
        t.write(&format!("named/{path}"), &bytes);
        t.write(&format!("store/builds/app/{path}"), bytes);
    }
    let token = Gen::new(172).github_pat();
    t.write("store/notes.env", format!("GITHUB_TOKEN={token}\n"));
    // Named on the command line: the reference.
    let (_, named) = t.scan_json(&["named"]);
    let expected = from_image(&named);
    assert_eq!(expected.len(), 6);
    // Met during a walk: the same findings, under the layout's path, plus the loose file.
    let (r, doc) = t.scan_json(&["store"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    let in_layout: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "store/builds/app")
        .collect();
    assert_eq!(in_layout.len(), 6, "{:#}", doc["findings"]);
    assert!(in_layout.iter().all(|f| f["origin"][1]["kind"] == "image"));
    let doc_in_layout = serde_json::json!({"findings": in_layout});
    assert_eq!(from_image(&doc_in_layout), expected);
    // No blob of the layout was scanned again as a loose file named by its digest.
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["location"].as_str().unwrap().contains("blobs/sha256")),
        "{:#}",
        doc["findings"]
    );
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "store/notes.env")
    );
}

//! Archives and compressed streams: nesting, origins, budgets, damage. Fixtures are built in
//! memory by tests/common/make.rs and written to a temp dir.

use crate::common::TestDir;
use crate::common::located;
use crate::common::make;
use crate::common::secrets::Gen;

#[test]
fn a_zip_inside_a_tar_gz_is_found_and_named() {
    let t = TestDir::new();
    let mut g = Gen::new(50);
    let (gh, hf, akia) = (g.github_pat(), g.huggingface(), g.aws_key_id());
    let inner = make::zip(
        &[
            (
                "app/.env",
                format!("DEBUG=1\nGITHUB_TOKEN={gh}\n").as_bytes(),
            ),
            ("app/notes.md", format!("token: {hf}\n").as_bytes()),
        ],
        false,
    );
    let tar = make::tar(&[
        (
            "pkg/config.env",
            format!("AWS_ACCESS_KEY_ID={akia}\n").as_bytes(),
        ),
        ("pkg/app.whl", &inner),
    ]);
    t.write("bundle.tar.gz", make::gzip(&tar));
    let (r, doc) = t.scan_json(&["bundle.tar.gz"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [
            (
                "bundle.tar.gz › pkg/app.whl › app/.env:2:14".to_string(),
                "github.pat.classic".to_string()
            ),
            (
                "bundle.tar.gz › pkg/app.whl › app/notes.md:1:8".into(),
                "huggingface.token".into()
            ),
            (
                "bundle.tar.gz › pkg/config.env:1:19".into(),
                "aws.access-key-id".into()
            ),
        ]
    );
    let f = &doc["findings"][0];
    assert_eq!(f["path"], "bundle.tar.gz");
    assert_eq!(
        f["origin"],
        serde_json::json!([
            {"kind": "file", "path": "bundle.tar.gz"},
            {"kind": "entry", "path": "pkg/app.whl"},
            {"kind": "entry", "path": "app/.env"},
        ])
    );
    // The same bytes as a plain tar (mapped, members as slices) and a stored zip give the same.
    t.write("bundle.tar", &tar);
    let (_, plain) = t.scan_json(&["bundle.tar"]);
    let names: Vec<String> = located(&plain)
        .into_iter()
        .map(|(l, _)| l.replace("bundle.tar", "bundle.tar.gz"))
        .collect();
    let expected: Vec<String> = located(&doc).into_iter().map(|(l, _)| l).collect();
    assert_eq!(names, expected);
}

#[test]
fn stored_and_deflated_zips_agree() {
    let t = TestDir::new();
    let token = Gen::new(51).anthropic();
    let body = format!("{}\nkey: {token}\n", "x".repeat(3000));
    t.write("a.zip", make::zip(&[("k.txt", body.as_bytes())], true));
    t.write("b.zip", make::zip(&[("k.txt", body.as_bytes())], false));
    let (_, doc) = t.scan_json(&["a.zip", "b.zip"]);
    assert_eq!(
        located(&doc),
        [
            (
                "a.zip › k.txt:2:6".to_string(),
                "anthropic.api-key".to_string()
            ),
            ("b.zip › k.txt:2:6".into(), "anthropic.api-key".into()),
        ]
    );
}

#[test]
fn a_gzip_log_is_scanned_as_text_with_decompressed_lines() {
    let t = TestDir::new();
    let token = Gen::new(52).github_pat();
    let log = format!(
        "{}INFO clone https://x:{token}@github.com/a/b\n",
        "INFO step\n".repeat(100)
    );
    t.write("logs/train.log.1.gz", make::gzip(log.as_bytes()));
    let (_, doc) = t.scan_json(&["logs"]);
    assert_eq!(
        located(&doc),
        [(
            "logs/train.log.1.gz › (gzip):101:22".to_string(),
            "github.pat.classic".to_string()
        )]
    );
    // zstd-rotated logs too.
    t.write("logs/train.log.2.zst", make::zstd(log.as_bytes()));
    let (_, doc) = t.scan_json(&["logs/train.log.2.zst"]);
    assert_eq!(
        located(&doc),
        [(
            "logs/train.log.2.zst › (zstd):101:22".to_string(),
            "github.pat.classic".to_string()
        )]
    );
    // The same through stdin.
    let r = crate::common::run_stdin(
        t.ferret().args(["scan", "-", "-f", "json"]),
        &make::gzip(log.as_bytes()),
    );
    assert_eq!(
        located(&r.json()),
        [(
            "<stdin> › (gzip):101:22".to_string(),
            "github.pat.classic".to_string()
        )]
    );
}

#[test]
fn truncated_gzip_keeps_what_was_found_and_warns() {
    let t = TestDir::new();
    let mut g = Gen::new(53);
    let first = g.github_pat();
    let mut text = format!("T={first}\n");
    // Incompressible filler, so that the cut lands well after the first token.
    for _ in 0..2000 {
        text.push_str(&format!("{}\n", g.password()));
    }
    let gz = make::gzip(text.as_bytes());
    t.write("cut.log.gz", &gz[..gz.len() / 2]);
    let (r, doc) = t.scan_json(&["cut.log.gz"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 1);
    assert_eq!(doc["summary"]["errors"], 1);
    assert!(r.stderr.contains("cut.log.gz"), "{}", r.stderr);
}

#[test]
fn a_zip_bomb_is_stopped_by_the_ratio_budget() {
    let t = TestDir::new();
    let token = Gen::new(54).huggingface();
    let zeros = vec![0u8; 64 << 20];
    t.write(
        "bomb.zip",
        make::zip(
            &[
                ("zeros.bin", &zeros),
                ("note.env", format!("HF_TOKEN={token}\n").as_bytes()),
            ],
            false,
        ),
    );
    let (r, doc) = t.scan_json(&["bomb.zip"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [(
            "bomb.zip › note.env:1:10".to_string(),
            "huggingface.token".to_string()
        )]
    );
    assert!(
        r.stderr
            .contains("bomb.zip › zeros.bin: compression ratio over --max-ratio 100"),
        "{}",
        r.stderr
    );
    assert_eq!(doc["summary"]["skipped"], 1);
    // A looser budget lets it through.
    let (r, _) = t.scan_json(&["bomb.zip", "--max-ratio", "100000"]);
    assert!(!r.stderr.contains("ratio"), "{}", r.stderr);
}

#[test]
fn nesting_stops_at_the_depth_budget() {
    let t = TestDir::new();
    let token = Gen::new(55).github_pat();
    let mut blob = format!("T={token}\n").into_bytes();
    let mut name = "secret.env".to_string();
    for i in 0..20 {
        blob = make::zip(&[(&name, &blob)], false);
        name = format!("level{i}.zip");
    }
    t.write("deep.zip", &blob);
    let (r, doc) = t.scan_json(&["deep.zip"]);
    assert!(
        r.stderr.contains("nesting deeper than --max-depth 12"),
        "{}",
        r.stderr
    );
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    let (r, doc) = t.scan_json(&["deep.zip", "--max-depth", "25"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let loc = &located(&doc)[0].0;
    assert!(
        loc.starts_with("deep.zip › level18.zip › level17.zip"),
        "{loc}"
    );
    assert!(loc.ends_with("level0.zip › secret.env:1:3"), "{loc}");
}

#[test]
fn hostile_member_paths_are_reported_as_written() {
    let t = TestDir::new();
    let mut g = Gen::new(56);
    let (a, b) = (g.github_pat(), g.github_pat());
    t.write(
        "evil.tar",
        make::tar(&[
            ("../../etc/cron.d/x", format!("T={a}\n").as_bytes()),
            ("/abs/path.env", format!("T={b}\n").as_bytes()),
        ]),
    );
    t.write(
        "links.tar",
        make::tar_with_symlink("escape", "/etc/passwd", &[]),
    );
    let (r, doc) = t.scan_json(&["evil.tar", "links.tar"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let locs: Vec<String> = located(&doc).into_iter().map(|(l, _)| l).collect();
    assert_eq!(
        locs,
        [
            "evil.tar › ../../etc/cron.d/x:1:3",
            "evil.tar › /abs/path.env:1:3"
        ]
    );
    // Nothing was written outside (or inside) the scan folder.
    let mut names: Vec<String> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["evil.tar", "links.tar"]);
    assert_eq!(doc["summary"]["errors"], 0);
}

#[test]
fn tensor_payloads_are_skipped_but_headers_scanned() {
    let t = TestDir::new();
    let token = Gen::new(57).huggingface();
    let mut st = make::safetensors(&[("hub_token", &token)], 4 << 20);
    // A token-shaped string in the tensor bytes is numbers, not a secret: not scanned.
    let decoy = Gen::new(58).github_pat();
    let n = st.len();
    st[n - 100..n - 100 + decoy.len()].copy_from_slice(decoy.as_bytes());
    t.write("model.safetensors", &st);
    let (r, doc) = t.scan_json(&["model.safetensors"]);
    assert_eq!(r.code, 1);
    assert_eq!(located(&doc).len(), 1);
    assert_eq!(located(&doc)[0].1, "huggingface.token");
    assert!(doc["summary"]["scanned_bytes"].as_u64().unwrap() < 1000);
    assert_eq!(doc["summary"]["bytes"].as_u64().unwrap(), n as u64);
}

#[test]
fn bzip2_and_xz_streams_are_opened_like_gzip() {
    let t = TestDir::new();
    let mut g = Gen::new(60);
    let (gh, hf) = (g.github_pat(), g.huggingface());
    let log = format!("{}export GH={gh}\n", "step ok\n".repeat(50));
    t.write("logs/run.log.bz2", make::bzip2(log.as_bytes()));
    t.write("logs/run.log.xz", make::xz(log.as_bytes()));
    // Archives inside them keep the archive's names, no `(xz)` segment.
    let tar = make::tar(&[("cfg/.env", format!("HF_TOKEN={hf}\n").as_bytes())]);
    t.write("bundle.tar.xz", make::xz(&tar));
    t.write("bundle.tbz2", make::bzip2(&tar));
    let (r, doc) = t.scan_json(&["logs", "bundle.tar.xz", "bundle.tbz2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [
            (
                "bundle.tar.xz › cfg/.env:1:10".to_string(),
                "huggingface.token".to_string()
            ),
            (
                "bundle.tbz2 › cfg/.env:1:10".into(),
                "huggingface.token".into()
            ),
            (
                "logs/run.log.bz2 › (bzip2):51:11".into(),
                "github.pat.classic".into()
            ),
            (
                "logs/run.log.xz › (xz):51:11".into(),
                "github.pat.classic".into()
            ),
        ]
    );
    // Through stdin as well, and nested in a zip.
    let r = crate::common::run_stdin(
        t.ferret().args(["scan", "-", "-f", "json"]),
        &make::xz(log.as_bytes()),
    );
    assert_eq!(
        located(&r.json()),
        [(
            "<stdin> › (xz):51:11".to_string(),
            "github.pat.classic".to_string()
        )]
    );
    t.write(
        "nested.zip",
        make::zip(&[("run.log.bz2", &make::bzip2(log.as_bytes()))], true),
    );
    let (_, doc) = t.scan_json(&["nested.zip"]);
    assert_eq!(
        located(&doc),
        [(
            "nested.zip › run.log.bz2 › (bzip2):51:11".to_string(),
            "github.pat.classic".to_string()
        )]
    );
}

#[test]
fn truncated_bzip2_and_xz_keep_findings_and_warn() {
    let t = TestDir::new();
    let mut g = Gen::new(61);
    let first = g.github_pat();
    let mut text = format!("T={first}\n");
    for _ in 0..40_000 {
        text.push_str(&format!("{}\n", g.password()));
    }
    let bz = make::bzip2(text.as_bytes());
    let xz = make::xz(text.as_bytes());
    t.write("cut.log.bz2", &bz[..bz.len() * 3 / 4]);
    t.write("cut.log.xz", &xz[..xz.len() * 3 / 4]);
    let (r, doc) = t.scan_json(&["cut.log.bz2", "cut.log.xz"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 2, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 2, "{}", r.stderr);
    assert!(r.stderr.contains("cut.log.bz2"), "{}", r.stderr);
    assert!(r.stderr.contains("cut.log.xz"), "{}", r.stderr);
}

#[test]
fn an_xz_bomb_is_stopped_by_the_ratio_budget() {
    let t = TestDir::new();
    t.write("zeros.log.xz", make::xz(&vec![0u8; 32 << 20]));
    t.write("zeros.log.bz2", make::bzip2(&vec![0u8; 32 << 20]));
    let (r, doc) = t.scan_json(&["zeros.log.xz", "zeros.log.bz2"]);
    // A budget cut them short and nothing failing was found: ferret cannot vouch for the rest.
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("zeros.log.xz › (xz): compression ratio over --max-ratio 100"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("zeros.log.bz2 › (bzip2): compression ratio over --max-ratio 100"),
        "{}",
        r.stderr
    );
    assert_eq!(doc["summary"]["skipped"], 2);
}

#[test]
fn wheels_jars_and_nupkgs_are_zips() {
    let t = TestDir::new();
    let mut g = Gen::new(62);
    let (a, b, c) = (g.github_pat(), g.aws_key_id(), g.huggingface());
    // A wheel ships its package and metadata; a jar its classes and properties; a nupkg its
    // content files. Each is a zip with its own layout and a name that does not say "zip".
    t.write(
        "dist/ferret_demo-0.1-py3-none-any.whl",
        make::zip(
            &[
                ("ferret_demo/__init__.py", b"VERSION = '0.1'\n"),
                (
                    "ferret_demo/settings.py",
                    format!("TOKEN = '{a}'\n").as_bytes(),
                ),
                ("ferret_demo-0.1.dist-info/METADATA", b"Name: ferret-demo\n"),
            ],
            false,
        ),
    );
    t.write(
        "dist/app.jar",
        make::zip(
            &[
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                (
                    "application.properties",
                    format!("aws.accessKeyId={b}\n").as_bytes(),
                ),
            ],
            false,
        ),
    );
    t.write(
        "dist/Demo.1.0.0.nupkg",
        make::zip(
            &[
                ("Demo.nuspec", b"<package/>\n"),
                (
                    "content/appsettings.json",
                    format!("{{\"HfToken\": \"{c}\"}}\n").as_bytes(),
                ),
            ],
            true,
        ),
    );
    let (r, doc) = t.scan_json(&["dist"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [
            (
                "dist/Demo.1.0.0.nupkg › content/appsettings.json:1:14".to_string(),
                "huggingface.token".to_string()
            ),
            (
                "dist/app.jar › application.properties:1:17".into(),
                "aws.access-key-id".into()
            ),
            (
                "dist/ferret_demo-0.1-py3-none-any.whl › ferret_demo/settings.py:1:10".into(),
                "github.pat.classic".into()
            ),
        ]
    );
}

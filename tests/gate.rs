//! The CI gate: baselines, ferret.toml, inline allows and --fail-on.

use crate::common::git::GitRepo;
use crate::common::secrets::Gen;
use crate::common::{TestDir, run};

fn secrets(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().expect("--show-secrets").to_string())
        .collect()
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A rule file with one low-severity rule (`acme.build-id`), to test --fail-on.
const LOW_RULE: &str = r#"
[[rule]]
id = "acme.build-id"
name = "ACME build id"
keywords = ["acmebuild_"]
regex = '(?P<secret>acmebuild_[a-z0-9]{16})'
severity = "low"
remediation = "Nothing to rotate; it is only an id."
examples = ["acmebuild_k3j9x2m7q8w4z1p5"]
"#;

#[test]
fn a_baseline_keeps_old_findings_quiet_and_new_ones_fail() {
    let t = TestDir::new();
    let mut g = Gen::new(200);
    let old = g.github_pat();
    t.write("app/config.env", format!("A=1\nTOKEN={old}\n"));
    let r = run(t
        .ferret()
        .args(["baseline", "create", "-o", "ferret.baseline.json", "app"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("1 secrets"), "{}", r.stderr);
    let text = std::fs::read_to_string(t.path().join("ferret.baseline.json")).unwrap();
    assert!(
        !text.contains(&old),
        "the baseline holds no secret in clear"
    );
    assert!(!text.contains(&old[4..20]));
    let b: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(b["findings"][0]["rule_id"], "github.pat.classic");
    assert_eq!(b["findings"][0]["locations"][0], "app/config.env:2");

    // The old secret is quiet; the summary says so.
    let (r, doc) = t.scan_json(&["app", "--baseline", "ferret.baseline.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(doc["summary"]["baselined"], 1);
    assert!(r.stderr.contains("1 baselined"), "{}", r.stderr);

    // Line moves and renames keep it quiet; a new secret fails.
    let new = g.github_pat();
    std::fs::remove_file(t.path().join("app/config.env")).unwrap();
    t.write(
        "app/renamed/settings.env",
        format!("# moved\n\n\nTOKEN={old}\nOTHER={new}\n"),
    );
    let (r, doc) = t.scan_json(&[
        "app",
        "--baseline",
        "ferret.baseline.json",
        "--show-secrets",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(secrets(&doc), [new]);
    assert_eq!(doc["summary"]["baselined"], 1);

    // A baseline that is not one is an error, not an empty baseline.
    t.write("bad.json", "{\"findings\": 3}");
    let r = run(t.ferret().args(["scan", "app", "--baseline", "bad.json"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.json"), "{}", r.stderr);
}

#[test]
fn a_baseline_applies_to_git_scans() {
    let repo = GitRepo::new();
    let mut g = Gen::new(201);
    let old = g.github_pat();
    repo.write("a.env", format!("TOKEN={old}\n"));
    repo.commit_all("init");
    let r = run(repo.ferret().args(["baseline", "create"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The old secret moves to another file and a new one is staged.
    let new = g.github_pat();
    repo.write("a.env", "nothing\n");
    repo.write("b.env", format!("X=1\nTOKEN={old}\nNEW={new}\n"));
    repo.git(&["add", "-A"]);
    let r = run(repo.ferret().args([
        "git",
        "--staged",
        "-f",
        "json",
        "--show-secrets",
        "--baseline",
        "ferret.baseline.json",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(secrets(&r.json()), [new]);
    assert_eq!(r.json()["summary"]["baselined"], 1);
}

#[test]
fn inline_allow_comments_silence_their_line_only() {
    let t = TestDir::new();
    let mut g = Gen::new(202);
    let keep = g.github_pat();
    let text = format!(
        "a = \"{}\"  # ferret:allow test fixture\n\
         b = \"{}\"  // gitleaks:allow\n\
         c = \"{}\"  # pragma: allowlist secret\n\
         # ferret:allow (on its own line: allows nothing below)\n\
         d = \"{keep}\"\n",
        g.github_pat(),
        g.github_pat(),
        g.github_pat(),
    );
    t.write("f.py", &text);
    let (r, doc) = t.scan_json(&["f.py", "--show-secrets"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(secrets(&doc), std::slice::from_ref(&keep));

    // A large file scanned in chunks allows exactly the same lines.
    let big = text.repeat(2000);
    t.write("big.py", &big);
    let (_, whole) = t.scan_json(&["big.py", "--show-secrets"]);
    let (_, chunked) = t.scan_json(&["big.py", "--show-secrets", "--chunk-size", "4096"]);
    assert_eq!(secrets(&whole).len(), 2000);
    assert!(secrets(&whole).iter().all(|s| *s == keep));
    assert_eq!(whole["findings"], chunked["findings"]);
}

#[test]
fn fail_on_reports_lower_findings_but_exits_0() {
    let t = TestDir::new();
    t.write("rules.toml", LOW_RULE);
    t.write("build.txt", "id acmebuild_k3j9x2m7q8w4z1p5\n");
    let r = run(t.ferret().args([
        "scan",
        "build.txt",
        "--rules",
        "rules.toml",
        "--fail-on",
        "high",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("acme.build-id"), "{}", r.stdout);
    let summary: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(summary.len(), 1, "one summary line: {}", r.stderr);
    assert!(
        summary[0].contains("1 findings (1 below --fail-on high)"),
        "{}",
        r.stderr
    );
    let r = run(t.ferret().args([
        "scan",
        "build.txt",
        "--rules",
        "rules.toml",
        "--fail-on",
        "low",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = run(t.ferret().args(["scan", ".", "--fail-on", "severe"]));
    assert_eq!(r.code, 2);
}

#[test]
fn a_config_with_every_key() {
    let t = TestDir::new();
    let mut g = Gen::new(203);
    let (by_fp, by_hash, by_regex, reported, excluded, big, baselined) = (
        g.github_pat(),
        g.github_pat(),
        g.github_pat(),
        g.github_pat(),
        g.github_pat(),
        g.github_pat(),
        g.github_pat(),
    );
    t.write("src/baselined.env", format!("T={baselined}\n"));
    let r = run(t
        .ferret()
        .args(["baseline", "create", "-o", "ci/base.json", "src"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The fingerprint as a report prints it.
    t.write("probe.env", format!("T={by_fp}\n"));
    let (_, doc) = t.scan_json(&["probe.env"]);
    let fingerprint = doc["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::remove_file(t.path().join("probe.env")).unwrap();

    t.write("ci/rules/low.toml", LOW_RULE);
    t.write(
        "ferret.toml",
        format!(
            r#"
format = "json"
fail_on = "critical"
baseline = "ci/base.json"
exclude = ["vendor", "ci", "ferret.toml"]

[allowlist]
fingerprints = ["{fingerprint}"]
secrets = ["{hash}"]
regexes = ['^ghp_{prefix}']

[rules]
disable = ["aws.access-key-id", "generic.env-assignment"]
paths = ["ci/rules"]

[[rule]]
id = "acme.internal"
name = "ACME internal token"
keywords = ["acme_int_"]
regex = '(?P<secret>acme_int_[A-Za-z0-9]{{20}})'
severity = "critical"
remediation = "Rotate it in the ACME console."
examples = ["acme_int_Q7xK2mP9vR4tL8wZ3nB6"]

[budgets]
max_file_size = "1K"
"#,
            hash = sha256_hex(&by_hash),
            prefix = &by_regex[4..16],
        ),
    );
    t.write(
        "src/app.env",
        format!(
            "A={by_fp}\nB={by_hash}\nC={by_regex}\nD={reported}\n\
             AWS_ACCESS_KEY_ID={}\nINTERNAL=acme_int_Q7xK2mP9vR4tL8wZ3nB6\n\
             BUILD=acmebuild_k3j9x2m7q8w4z1p5\n",
            g.aws_key_id()
        ),
    );
    t.write("vendor/x.env", format!("T={excluded}\n"));
    t.write("src/big.log", format!("{}\nT={big}\n", "x".repeat(2000)));

    // No -f: the config says json. Findings are critical, so the gate (critical) fails.
    let r = run(t.ferret().args(["scan", "--show-secrets"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let mut got: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("acme.build-id".into(), "acmebuild_k3j9x2m7q8w4z1p5".into()),
            (
                "acme.internal".into(),
                "acme_int_Q7xK2mP9vR4tL8wZ3nB6".into()
            ),
            ("github.pat.classic".into(), reported.clone()),
        ]
    );
    assert_eq!(doc["summary"]["allowed"], 3);
    assert_eq!(doc["summary"]["baselined"], 1);
    let skipped: Vec<&str> = doc["summary"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["src/big.log"]);
    assert!(
        r.stderr.contains("1 below --fail-on critical"),
        "{}",
        r.stderr
    );

    // Command-line flags win over the file.
    let r = run(t.ferret().args(["scan", "-f", "text", "--fail-on", "low"]));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("acme.internal"), "{}", r.stdout);
    // --no-config ignores it; --config reads another one.
    let (_, doc) = t.scan_json(&["src", "--no-config", "--show-secrets"]);
    assert!(secrets(&doc).contains(&by_fp));
    t.write(
        "other.toml",
        "[rules]\ndisable = [\"github.pat.classic\"]\n",
    );
    let (_, doc) = t.scan_json(&["src/app.env", "--config", "other.toml"]);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule_id"] != "github.pat.classic"),
        "{doc}"
    );
}

#[test]
fn config_mistakes_are_clear_errors() {
    let t = TestDir::new();
    t.write("a.txt", "nothing\n");
    for (text, expect) in [
        ("exlude = [\"x\"]\n", "unknown field `exlude`"),
        ("[allowlist]\nsecret = []\n", "unknown field `secret`"),
        ("[budgets]\nmax_file_size = \"ten\"\n", "invalid size"),
        ("format = \"xml\"\n", "unknown format"),
        ("[rules]\ndisable = [\"no.such.rule\"]\n", "no.such.rule"),
        ("[allowlist]\nfingerprints = [\"abc\"]\n", "32 hex digits"),
        ("[allowlist]\nregexes = [\"(\"]\n", "invalid regex"),
    ] {
        t.write("ferret.toml", text);
        let r = run(t.ferret().args(["scan", "."]));
        assert_eq!(r.code, 2, "{text}");
        assert!(r.stderr.contains("ferret.toml"), "{text}: {}", r.stderr);
        assert!(r.stderr.contains(expect), "{text}: {}", r.stderr);
    }
}

#[test]
fn git_scans_read_the_work_trees_config() {
    let repo = GitRepo::new();
    let mut g = Gen::new(204);
    repo.write(
        "ferret.toml",
        "exclude = [\"fixtures\"]\nformat = \"jsonl\"\n",
    );
    repo.write("fixtures/fake.env", format!("T={}\n", g.github_pat()));
    repo.write("src/real.env", format!("T={}\n", g.github_pat()));
    repo.git(&["add", "-A"]);
    let r = run(repo
        .ferret()
        .current_dir(repo.path().join("src"))
        .args(["git", "--staged"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = r.lines();
    let paths: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "finding")
        .map(|l| l["data"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["src/real.env"]);
}

#[test]
fn the_readme_config_example_is_valid() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("### `ferret.toml`").nth(1).unwrap();
    let example = section
        .split("```toml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let t = TestDir::new();
    t.write("ferret.toml", example);
    std::fs::create_dir_all(t.path().join("ci/ferret-rules")).unwrap();
    t.write(
        "ferret.baseline.json",
        "{\"version\": 1, \"tool\": \"ferret\", \"findings\": []}\n",
    );
    t.write("app.txt", "INTERNAL=acme_int_Q7xK2mP9vR4tL8wZ3nB6\n");
    let r = run(t.ferret().args(["scan", "app.txt"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("format = sarif");
    assert_eq!(
        doc["runs"][0]["results"][0]["ruleId"],
        "acme.internal-token"
    );
}

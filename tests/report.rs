//! Report shapes, redaction and order. The SARIF test validates against the official
//! SARIF 2.1.0 schema in ../shared/schemas (skipped with a message where ../shared is absent).

use crate::common::secrets::Gen;
use crate::common::{TestDir, run};

/// A small tree with several kinds of secret in several files.
fn tree() -> (TestDir, Vec<String>) {
    let t = TestDir::new();
    let mut g = Gen::new(20);
    let (gh, akia, aws, hf, pw) = (
        g.github_pat(),
        g.aws_key_id(),
        g.aws_secret(),
        g.huggingface(),
        g.password(),
    );
    t.write(
        "deploy/app.env",
        format!("GITHUB_TOKEN={gh}\nAWS_ACCESS_KEY_ID={akia}\nAWS_SECRET_ACCESS_KEY={aws}\n"),
    );
    t.write("notebooks/eda.py", format!("login(token=\"{hf}\")\n"));
    t.write(
        "services/db.yaml",
        format!("db:\n  url: postgresql://etl:{pw}@db-1.internal:5432/features\n"),
    );
    t.write("dir with space/ü.txt", format!("copy: {gh}\n"));
    (t, vec![gh, akia, aws, hf, pw])
}

#[test]
fn json_report_has_version_findings_and_summary() {
    let (t, secrets) = tree();
    let r = run(t.ferret().args(["scan", ".", "-f", "json"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["tool"]["name"], "ferret");
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 6);
    let f = findings
        .iter()
        .find(|f| f["rule_id"] == "github.pat.classic" && f["path"] == "deploy/app.env")
        .unwrap();
    assert_eq!(f["rule_name"], "GitHub personal access token (classic)");
    assert_eq!(f["severity"], "critical");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(14))
    );
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(1), Some(54))
    );
    assert_eq!(f["offset"], 13);
    assert_eq!(f["validation"], "passed");
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    assert_eq!(
        f["origin"],
        serde_json::json!([{"kind": "file", "path": "deploy/app.env"}])
    );
    assert_eq!(f["context"], "GITHUB_TOKEN=ghp_****");
    assert!(
        f.get("secret").is_none(),
        "no secret without --show-secrets"
    );
    assert!(f["entropy"].as_f64().unwrap() > 4.0);
    // The same secret in two files has one fingerprint.
    let copies: Vec<_> = findings
        .iter()
        .filter(|x| x["fingerprint"] == f["fingerprint"])
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(copies, ["deploy/app.env", "dir with space/ü.txt"]);
    let s = &doc["summary"];
    assert_eq!(s["files"], 4);
    assert_eq!(s["findings"], 6);
    assert_eq!(s["errors"], 0);
    assert!(s["bytes"].as_u64().unwrap() > 100);
    for secret in &secrets {
        assert!(!r.stdout.contains(secret.as_str()), "JSON leaked a secret");
    }
}

#[test]
fn show_secrets_puts_them_in_json() {
    let (t, secrets) = tree();
    let r = run(t
        .ferret()
        .args(["scan", ".", "-f", "json", "--show-secrets"]));
    let doc = r.json();
    let shown: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    for s in &secrets {
        assert!(shown.contains(&s.as_str()), "{s} missing");
    }
}

#[test]
fn text_and_sarif_mask_secrets() {
    let (t, secrets) = tree();
    for format in ["text", "sarif", "jsonl"] {
        let r = run(t.ferret().args(["scan", ".", "-f", format]));
        assert_eq!(r.code, 1);
        for s in &secrets {
            assert!(!r.stdout.contains(s.as_str()), "{format} leaked {s}");
            assert!(!r.stderr.contains(s.as_str()), "{format} stderr leaked {s}");
        }
    }
    let r = run(t.ferret().args(["scan", ".", "-f", "text"]));
    assert!(
        r.stdout
            .contains("deploy/app.env:1:14: critical github.pat.classic"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("GITHUB_TOKEN=ghp_****"), "{}", r.stdout);
    let r = run(t
        .ferret()
        .args(["scan", ".", "-f", "text", "--show-secrets"]));
    assert!(r.stdout.contains(secrets[0].as_str()));
}

#[test]
fn jsonl_streams_findings_then_a_summary() {
    let (t, _) = tree();
    let r = run(t.ferret().args(["scan", ".", "-f", "jsonl"]));
    let lines = r.lines();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "finding").count(), 6);
    assert_eq!(kinds.last(), Some(&"summary"));
    assert_eq!(lines.last().unwrap()["data"]["findings"], 6);
    assert!(lines[0]["data"]["rule_id"].is_string());
}

#[test]
fn sarif_is_valid_and_complete() {
    let (t, _) = tree();
    let r = run(t.ferret().args(["scan", ".", "-f", "sarif"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    crate::common::assert_valid_sarif(&doc);

    let run0 = &doc["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), ferret::RuleSet::builtin().unwrap().len());
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    let gh = results
        .iter()
        .find(|x| {
            x["ruleId"] == "github.pat.classic"
                && x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == "deploy/app.env"
        })
        .unwrap();
    let rule = &rules[gh["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "github.pat.classic");
    assert!(
        rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("github.com/settings/tokens")
    );
    assert_eq!(rule["properties"]["security-severity"], "9.5");
    let loc = &gh["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 1);
    assert_eq!(loc["region"]["startColumn"], 14);
    assert_eq!(loc["region"]["snippet"]["text"], "GITHUB_TOKEN=ghp_****");
    assert_eq!(
        gh["partialFingerprints"]["ferret/v2"]
            .as_str()
            .unwrap()
            .len(),
        32
    );
    assert_eq!(gh["level"], "error");
    // Paths with spaces and non-ASCII are percent-encoded URIs.
    assert!(results.iter().any(
        |x| x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "dir%20with%20space/%C3%BC.txt"
    ));
    assert!(
        run0["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("file:///")
    );
}

#[test]
fn sarif_with_errors_is_still_valid() {
    let (t, _) = tree();
    let r = run(t
        .ferret()
        .args(["scan", ".", "missing-file", "-f", "sarif"]));
    let doc = r.json();
    crate::common::assert_valid_sarif(&doc);
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert!(
        inv["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("missing-file")
    );
}

#[test]
fn output_is_deterministic_across_thread_counts() {
    let t = TestDir::new();
    let mut g = Gen::new(21);
    for i in 0..40 {
        t.write(
            &format!("d{}/f{i}.env", i % 7),
            format!(
                "A={}\nB={}\nC={}\n",
                g.github_pat(),
                g.slack_bot(),
                g.google()
            ),
        );
    }
    let strip = |s: String| -> String {
        let mut v: serde_json::Value = serde_json::from_str(&s).unwrap();
        v["summary"]["elapsed_seconds"] = serde_json::json!(0);
        // Peak memory differs from run to run.
        v["summary"]["peak_rss_bytes"] = serde_json::json!(0);
        v.to_string()
    };
    let one = strip(run(t.ferret().args(["scan", ".", "-f", "json", "-j", "1"])).stdout);
    for _ in 0..3 {
        let many = strip(run(t.ferret().args(["scan", ".", "-f", "json", "-j", "4"])).stdout);
        assert_eq!(one, many);
    }
    for format in ["sarif", "text"] {
        let a = run(t.ferret().args(["scan", ".", "-f", format, "-j", "1"])).stdout;
        let b = run(t.ferret().args(["scan", ".", "-f", format, "-j", "3"])).stdout;
        assert_eq!(a, b, "{format}");
    }
}

#[test]
fn a_context_never_shows_another_secret_in_clear() {
    let t = TestDir::new();
    let mut g = Gen::new(22);
    let (gh, hf) = (g.github_pat(), g.huggingface());
    // Two secrets on one line, the first one again further on, and a long line where the
    // context is cut in the middle of a third copy.
    t.write(
        "both.env",
        format!(
            "GH={gh} HF={hf} again={gh}\nX={gh} {} {gh}\n",
            "pad".repeat(20)
        ),
    );
    for format in ["text", "json", "jsonl", "sarif"] {
        let r = run(t.ferret().args(["scan", "both.env", "-f", format]));
        assert_eq!(r.code, 1);
        assert!(
            !r.stdout.contains(gh.as_str()),
            "{format} leaked the GitHub token:\n{}",
            r.stdout
        );
        assert!(
            !r.stdout.contains(hf.as_str()),
            "{format} leaked the HF token:\n{}",
            r.stdout
        );
    }
    let doc = run(t.ferret().args(["scan", "both.env", "-f", "json"])).json();
    // The third copy was cut by the 80-byte limit: the cut word is dropped, not shown in part.
    assert_eq!(doc["findings"][0]["context"], "GH=ghp_**** HF=hf_**** ");
}

#[test]
fn fingerprints_are_keyed_by_the_team_key() {
    let t = TestDir::new();
    t.write(
        "a.env",
        format!(
            "T={}\nDB_PASSWORD=\"Xk29fLq8vNz3\"\n",
            Gen::new(23).github_pat()
        ),
    );
    let prints = |key: Option<&str>| -> Vec<String> {
        let mut cmd = t.ferret();
        cmd.args(["scan", "a.env", "-f", "json"]);
        match key {
            Some(k) => cmd.env("FERRET_FINGERPRINT_KEY", k),
            None => cmd.env_remove("FERRET_FINGERPRINT_KEY"),
        };
        run(&mut cmd).json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    let public = prints(None);
    let team = prints(Some("our-team-key"));
    assert_eq!(public.len(), 2);
    assert_eq!(public, prints(None), "stable without a key");
    assert_eq!(
        team,
        prints(Some("our-team-key")),
        "stable with the same key"
    );
    assert_ne!(public[0], team[0]);
    assert_ne!(public[1], team[1]);
}

#[test]
fn no_output_of_any_kind_shows_a_planted_secret() {
    // Secrets planted where each path of ferret meets them: plain files, a notebook, a gzip
    // log cut short (an error beside a finding), a malformed notebook (a warning), a zip, a
    // JSON-lines log with escapes. Every format, every report, every file ferret writes and
    // every stderr must hold none of them, in whole or a long part, without --show-secrets.
    let (t, mut secrets) = tree();
    let mut g = Gen::new(21);
    let (nb_tok, gz_tok, bad_tok, zip_tok, jl_tok) = (
        g.huggingface(),
        g.github_pat(),
        g.slack_bot(),
        g.anthropic(),
        g.openai(),
    );
    t.write(
        "nb/eda.ipynb",
        format!(
            r#"{{"cells":[{{"cell_type":"code","metadata":{{}},"outputs":[],"source":["login(token=\"{nb_tok}\")"]}}],"metadata":{{}},"nbformat":4,"nbformat_minor":5}}"#
        ),
    );
    let mut log = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(&mut log, flate2::Compression::default());
        e.write_all(format!("GITHUB_TOKEN={gz_tok}\n").as_bytes())
            .unwrap();
        e.write_all(&vec![b'x'; 200_000]).unwrap();
        e.finish().unwrap();
    }
    log.truncate(log.len() - 40);
    t.write("logs/cut.log.gz", &log);
    t.write(
        "nb/broken.ipynb",
        format!("{{\"cells\": [{{\"source\": \"SLACK_TOKEN={bad_tok}\"\n"),
    );
    t.write(
        "bundle.zip",
        crate::common::make::zip(
            &[(
                "app/.env",
                format!("ANTHROPIC_API_KEY={zip_tok}\n").as_bytes(),
            )],
            false,
        ),
    );
    t.write(
        "logs/req.jsonl",
        format!("{{\"msg\":\"headers {{\\\"Authorization\\\": \\\"Bearer {jl_tok}\\\"}}\"}}\n"),
    );
    secrets.extend([nb_tok, gz_tok, bad_tok, zip_tok, jl_tok]);

    let leaks = |what: &str, text: &str| {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} shows {s}");
            // A long middle piece is a leak too (a mask that shows too much).
            if s.len() >= 20 {
                let mid = &s[s.len() / 2 - 6..s.len() / 2 + 6];
                assert!(!text.contains(mid), "{what} shows {mid} of {s}");
            }
        }
    };
    let checked = std::cell::Cell::new(0);
    let scan = |args: &[&str]| {
        let r = run(t.ferret().arg("scan").args(args));
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        leaks(&format!("scan {args:?} stdout"), &r.stdout);
        leaks(&format!("scan {args:?} stderr"), &r.stderr);
        checked.set(checked.get() + 1);
        r
    };
    for format in ["text", "json", "jsonl", "sarif"] {
        scan(&[".", "-f", format]);
        scan(&[".", "-f", format, "--group", "secret"]);
    }
    let r = scan(&[".", "-f", "text", "--threads", "1"]);
    // The warnings that name the damaged items were printed (and checked above).
    assert!(r.stderr.contains("cut.log.gz"), "{}", r.stderr);
    assert!(r.stderr.contains("broken.ipynb"), "{}", r.stderr);
    // The findings were all reported: masking is not losing.
    let doc = scan(&[".", "-f", "json"]).json();
    assert!(doc["findings"].as_array().unwrap().len() >= secrets.len());
    assert_eq!(checked.get(), 10);

    // Files ferret writes: JSON results, the state database, a baseline, HTML and Markdown.
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (json, state, base) = (out("scan.json"), out("state.db"), out("base.json"));
    scan(&[".", "-f", "json", "-o", &json, "--state", &state]);
    scan(&[".", "-f", "json", "-o", &json, "--state", &state]); // from the state
    let r = run(t.ferret().args(["baseline", "create", "-o", &base, "."]));
    assert_eq!(r.code, 2, "two damaged items: {}", r.stderr);
    leaks("baseline create stderr", &r.stderr);
    for fmt in ["html", "markdown"] {
        let r = run(t
            .ferret()
            .args(["report", "-f", fmt, "-o", &out(fmt), &json]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        // Asking for secrets a result does not carry shows none.
        let r = run(t
            .ferret()
            .args(["report", "-f", fmt, "--show-secrets", &json]));
        leaks(
            &format!("report {fmt} --show-secrets of a masked result"),
            &r.stdout,
        );
    }
    for name in ["scan.json", "state.db", "base.json", "html", "markdown"] {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        assert!(bytes.len() > 100, "{name} is nearly empty");
        leaks(name, &String::from_utf8_lossy(&bytes));
    }

    // A redacted stream, and a panic (its message may hold anything: hidden unless asked).
    // (The secrets in the lines they were planted in: a bare 40-character AWS secret key is
    // not recognisable without its name, by design.)
    let mut all = String::new();
    for f in [
        "deploy/app.env",
        "notebooks/eda.py",
        "services/db.yaml",
        "logs/req.jsonl",
    ] {
        all.push_str(&std::fs::read_to_string(t.path().join(f)).unwrap());
    }
    all.push_str(&format!(
        "HF_TOKEN={}\nGITHUB_TOKEN={}\nSLACK_TOKEN={}\nANTHROPIC_API_KEY={}\n",
        secrets[5], secrets[6], secrets[7], secrets[8]
    ));
    let r = crate::common::run_stdin(t.ferret().arg("redact"), all.as_bytes());
    leaks("redact", &r.stdout);
    let r = run(t
        .ferret()
        .env("FERRET_TEST_PANIC", &secrets[0])
        .args(["scan", "."]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("internal error"), "{}", r.stderr);
    leaks("a panic", &r.stderr);
}

//! Incident response: `scan --group secret` (text, JSON, JSONL, SARIF) and `ferret report`
//! (HTML, Markdown, merging several results), run the way a responder runs them.

use crate::common::secrets::Gen;
use crate::common::{TestDir, run, run_stdin};

/// What was planted where, so that tests can check the report against it.
pub struct Spread {
    /// A GitHub token that reached five places: a config, two logs (with timestamps), a
    /// notebook and source code.
    pub github: String,
    /// An AWS key id in a config and a log.
    pub aws: String,
    /// A Slack bot token in three lines of one log.
    pub slack: String,
    /// A Hugging Face token in one notebook.
    pub hf: String,
    /// An OpenAI key in a file whose name carries markup, on a line that carries markup.
    pub openai: String,
    /// The file name with markup.
    pub evil_name: String,
}

impl Spread {
    pub fn secrets(&self) -> [&str; 5] {
        [&self.github, &self.aws, &self.slack, &self.hf, &self.openai]
    }
}

/// A small leaked bundle: one secret spread far, others less. Markup planted in a file name
/// and in a line's context checks that reports escape what they read. A file name cannot
/// hold `/`, so it carries an `<img onerror>` canary and an unclosed `<script>` (which would
/// swallow the page if written raw); the line carries a full `<script>…</script>`.
pub fn spread_tree() -> (TestDir, Spread) {
    let t = TestDir::new();
    let mut g = Gen::new(80);
    let s = Spread {
        github: g.github_pat(),
        aws: g.aws_key_id(),
        slack: g.slack_bot(),
        hf: g.huggingface(),
        openai: g.openai(),
        evil_name: "<img src=x onerror=window.pwned=1><script>window.pwned=2.env".into(),
    };
    t.write(
        "deploy/app.env",
        format!("GITHUB_TOKEN={}\nAWS_ACCESS_KEY_ID={}\n", s.github, s.aws),
    );
    t.write(
        "logs/train.log",
        format!(
            "2024-05-01T12:00:03Z INFO clone https://x:{}@github.com/acme/r.git\n\
             2024-05-01T12:00:04Z INFO env AWS_ACCESS_KEY_ID={}\n",
            s.github, s.aws
        ),
    );
    t.write(
        "logs/worker.log",
        format!(
            "2024-05-03 08:15:00,120 INFO token={}\n\
             2024-05-02 09:00:00 INFO slack bot_token={}\n\
             2024-05-04 10:00:00 INFO slack bot_token={}\n\
             2024-05-06 11:00:00 INFO slack bot_token={}\n",
            s.github, s.slack, s.slack, s.slack
        ),
    );
    t.write(
        "notebooks/eda.ipynb",
        format!(
            "{{\"cells\": [{{\"cell_type\": \"code\", \"source\": [\"!pip install git+https://{}@github.com/acme/eval.git\\n\"]}},\n\
             {{\"cell_type\": \"code\", \"source\": [\"login(token=\\\"{}\\\")\"]}}]}}\n",
            s.github, s.hf
        ),
    );
    t.write("src/train.py", format!("TOKEN = \"{}\"\n", s.github));
    t.write(
        &format!("evil/{}", s.evil_name),
        format!(
            "<script>window.pwned=3</script> OPENAI_API_KEY={} <img src=x onerror=\"window.pwned=4\">\n",
            s.openai
        ),
    );
    (t, s)
}

/// Scans the tree to `scan.json` (optionally with secrets) and returns the document.
pub fn scan_json(t: &TestDir, extra: &[&str]) -> serde_json::Value {
    let mut cmd = t.ferret();
    cmd.args(["scan", ".", "-f", "json", "-o", "scan.json"])
        .args(extra);
    let r = run(&mut cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(t.path().join("scan.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn secret<'a>(doc: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    doc["secrets"]
        .as_array()
        .expect("secrets array")
        .iter()
        .find(|s| s["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} secret"))
}

#[test]
fn group_secret_in_json_gives_the_blast_radius() {
    let (t, s) = spread_tree();
    let r = run(t
        .ferret()
        .args(["scan", ".", "-f", "json", "--group", "secret"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["version"], 1);
    // Findings stay as they were; secrets are added.
    assert_eq!(doc["findings"].as_array().unwrap().len(), 12);
    let secrets = doc["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 5);
    // Most urgent first: critical before high, then by spread.
    let order: Vec<(&str, u64)> = secrets
        .iter()
        .map(|x| (x["rule_id"].as_str().unwrap(), x["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            ("github.pat.classic", 5),
            ("openai.api-key.project", 1),
            ("slack.bot-token", 3),
            ("aws.access-key-id", 2),
            ("huggingface.token", 1),
        ]
    );
    let gh = secret(&doc, "github.pat.classic");
    assert_eq!(
        gh["artifacts"],
        serde_json::json!({"log": 2, "notebook": 1, "config": 1, "code": 1})
    );
    assert_eq!(gh["provider"], "github");
    assert_eq!(gh["validation"], "passed");
    assert_eq!(gh["masked"], "ghp_****");
    assert_eq!(gh["earliest"]["location"], "logs/train.log:1:43");
    assert_eq!(gh["earliest"]["seen"]["at"], "2024-05-01T12:00:03Z");
    assert_eq!(gh["latest"]["location"], "logs/worker.log:1:36");
    assert_eq!(gh["latest"]["seen"]["at"], "2024-05-03T08:15:00Z");
    let places: Vec<&str> = gh["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["location"].as_str().unwrap())
        .collect();
    assert_eq!(
        places,
        [
            "deploy/app.env:1:14",
            "logs/train.log:1:43",
            "logs/worker.log:1:36",
            "notebooks/eda.ipynb:1:71",
            "src/train.py:1:10",
        ]
    );
    let slack = secret(&doc, "slack.bot-token");
    assert_eq!(slack["earliest"]["seen"]["at"], "2024-05-02T09:00:00Z");
    assert_eq!(slack["latest"]["seen"]["at"], "2024-05-06T11:00:00Z");
    // Code and configs carry no time.
    assert!(secret(&doc, "huggingface.token")["earliest"].is_null());
    // Findings carry the new fields too.
    let f = &doc["findings"][0];
    assert!(
        f["artifact"].is_string() && f["references"].is_array(),
        "{f}"
    );
    for secret in s.secrets() {
        assert!(!r.stdout.contains(secret), "JSON leaked {secret}");
    }
}

#[test]
fn group_secret_in_text_jsonl_and_sarif() {
    let (t, s) = spread_tree();
    let r = run(t.ferret().args(["scan", ".", "--group", "secret"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(
            "critical github.pat.classic (GitHub personal access token (classic)) ghp_**** \
             [validator passed]\n    5 places: 2 log lines, 1 notebook cell, 1 config file, 1 source file\n    \
             first seen 2024-05-01T12:00:03Z (log) at logs/train.log:1:43\n    \
             last seen  2024-05-03T08:15:00Z (log) at logs/worker.log:1:36\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("      deploy/app.env:1:14  config file\n        GITHUB_TOKEN=ghp_****\n")
    );
    for secret in s.secrets() {
        assert!(!r.stdout.contains(secret), "text leaked {secret}");
    }

    let r = run(t
        .ferret()
        .args(["scan", ".", "-f", "jsonl", "--group", "secret"]));
    let lines = r.lines();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "finding").count(), 12);
    assert_eq!(kinds.iter().filter(|k| **k == "secret").count(), 5);
    assert_eq!(kinds.last(), Some(&"summary"));
    assert_eq!(lines[lines.len() - 6]["data"]["count"], 5);

    let r = run(t
        .ferret()
        .args(["scan", ".", "-f", "sarif", "--group", "secret"]));
    let doc = r.json();
    crate::common::assert_valid_sarif(&doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 5, "one result per secret");
    let gh = &results[0];
    assert_eq!(gh["ruleId"], "github.pat.classic");
    let related = gh["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 5);
    assert_eq!(related[0]["id"], 1);
    assert_eq!(
        related[1]["physicalLocation"]["artifactLocation"]["uri"],
        "logs/train.log"
    );
    assert_eq!(related[1]["physicalLocation"]["region"]["startLine"], 1);
    assert_eq!(
        related[1]["message"]["text"],
        "log line: logs/train.log:1:43"
    );
    assert_eq!(
        gh["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/app.env"
    );
    assert_eq!(gh["properties"]["count"], 5);
    assert_eq!(gh["properties"]["artifacts"]["log"], 2);
    assert!(
        gh["message"]["text"]
            .as_str()
            .unwrap()
            .contains("reached 5 places")
    );
    for secret in s.secrets() {
        assert!(!r.stdout.contains(secret), "SARIF leaked {secret}");
    }
}

/// Every `<script` of the page is ours: there is exactly one, at the end.
fn assert_inert(html: &str, s: &Spread) {
    assert_eq!(
        html.matches("<script").count(),
        1,
        "a planted script survived"
    );
    assert!(!html.contains("<img"), "a planted tag survived");
    // Every `<` left starts one of our tags; none has an event handler.
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        assert!(
            !tag.contains("onerror"),
            "a planted handler survived: <{tag}>"
        );
    }
    assert!(
        html.contains("&lt;img src=x onerror=window.pwned=1&gt;&lt;script&gt;window.pwned=2.env")
    );
    assert!(html.contains("&lt;script&gt;window.pwned=3&lt;/script&gt;"));
    assert!(!html.contains(&s.evil_name));
}

#[test]
fn html_report_is_self_contained_escaped_and_masked() {
    let (t, s) = spread_tree();
    scan_json(&t, &["--show-secrets"]);
    let r = run(t
        .ferret()
        .args(["report", "scan.json", "-o", "report.html"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("5 secrets in 12 places"), "{}", r.stderr);
    let html = std::fs::read_to_string(t.path().join("report.html")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(t.path().join("report.html"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Self-contained: no tag loads anything (every `<` from the input is escaped, so every
    // `<` left starts one of our tags), and the style sheet imports nothing.
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        let name = tag.split_whitespace().next().unwrap_or("");
        assert!(
            !tag.contains(" src=")
                && !["link", "iframe", "object", "embed", "img", "base"].contains(&name),
            "page loads something: <{tag}>"
        );
    }
    assert!(!html.contains("@import") && !html.contains("url("));
    assert!(html.contains("Content-Security-Policy"));
    assert_inert(&html, &s);
    // The scan carried secrets, but the report was not asked to show them.
    for secret in s.secrets() {
        assert!(!html.contains(secret), "HTML leaked {secret}");
    }
    assert!(html.contains("<code class=\"shown\">ghp_****</code>"));
    assert_eq!(html.matches("<tbody class=\"secret\"").count(), 5);
    assert_eq!(html.matches("<li class=\"leaf\">").count(), 12);
    assert!(html.contains("href=\"https://github.com/settings/tokens\""));
    assert!(html.contains("id=\"artifact-chart\""));
    assert!(html.contains("data-kind=\"log\" data-places=\"6\" data-secrets=\"3\""));

    // Asked twice (scan and report), secrets are shown, with a warning on the page.
    let r = run(t
        .ferret()
        .args(["report", "scan.json", "--show-secrets", "-o", "clear.html"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let clear = std::fs::read_to_string(t.path().join("clear.html")).unwrap();
    for secret in s.secrets() {
        assert!(clear.contains(secret), "{secret} not shown");
    }
    assert!(clear.contains("id=\"clear-secrets\""));
    assert_inert(&clear, &s);
}

#[test]
fn report_shows_no_secret_the_scan_did_not_keep() {
    let (t, s) = spread_tree();
    scan_json(&t, &[]);
    let r = run(t
        .ferret()
        .args(["report", "scan.json", "--show-secrets", "-f", "markdown"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("carry no secrets"), "{}", r.stderr);
    for secret in s.secrets() {
        assert!(!r.stdout.contains(secret), "markdown leaked {secret}");
    }
}

#[test]
fn markdown_summary_for_ci() {
    let (t, s) = spread_tree();
    scan_json(&t, &["--show-secrets"]);
    let r = run(t.ferret().args(["report", "scan.json", "-f", "markdown"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let md = &r.stdout;
    assert!(
        md.contains("**5 secrets** in **12 places** (2 critical, 3 high) from <code>scan.json</code>; 6 files scanned"),
        "{md}"
    );
    assert!(md.contains(
        "| 1 | critical | <code>ghp\\_\\*\\*\\*\\*</code> \u{2713} | GitHub personal access token \\(classic\\) | 5 | 2 log lines, 1 notebook cell, 1 config file, 1 source file | 2024-05-01 12:00:03 UTC | 2024-05-03 08:15:00 UTC | [github.com](https://github.com/settings/tokens) |"
    ), "{md}");
    assert!(md.contains("| log line | 6 | 3 |"), "{md}");
    assert!(
        md.contains("- <code>logs/train.log:1:43</code> (log line, seen 2024-05-01 12:00:03 UTC)")
    );
    // Markup from the input is inert in Markdown too.
    assert!(!md.contains("<script") && !md.contains("<img"), "{md}");
    for secret in s.secrets() {
        assert!(!md.contains(secret), "markdown leaked {secret}");
    }
}

#[test]
fn report_merges_a_sweep_and_dedups_places() {
    // Two machines: both have the same deploy/app.env; each has its own log.
    let t = TestDir::new();
    let mut g = Gen::new(81);
    let (gh, slack) = (g.github_pat(), g.slack_bot());
    for host in ["host-a", "host-b"] {
        t.write(
            &format!("{host}/deploy/app.env"),
            format!("GITHUB_TOKEN={gh}\n"),
        );
        t.write(
            &format!("{host}/logs/{host}.log"),
            format!(
                "2024-06-0{}T00:00:00Z slack={slack}\n",
                if host == "host-a" { 1 } else { 2 }
            ),
        );
        let mut cmd = crate::common::ferret();
        cmd.current_dir(t.path().join(host))
            .args(["scan", ".", "-f", "json", "-o"])
            .arg(t.path().join(format!("{host}.json")));
        assert_eq!(run(&mut cmd).code, 1);
    }
    // The second result comes in as JSONL on stdin.
    let mut cmd = crate::common::ferret();
    cmd.current_dir(t.path().join("host-b"))
        .args(["scan", ".", "-f", "jsonl"]);
    let jsonl = run(&mut cmd).stdout;
    let r = run_stdin(
        t.ferret()
            .args(["report", "host-a.json", "-", "-f", "markdown"]),
        jsonl.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("**2 secrets** in **3 places**"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "- <code>deploy/app.env:1:14</code> (config file, in host-a.json, &lt;stdin&gt;)"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(
        "| 2 | high | <code>xoxb-\\*\\*\\*\\*</code> | Slack bot token | 2 | 2 log lines | 2024-06-01 00:00:00 UTC | 2024-06-02 00:00:00 UTC |"
    ), "{}", r.stdout);

    let r = run(t
        .ferret()
        .args(["report", "host-a.json", "host-b.json", "-o", "sweep.html"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(t.path().join("sweep.html")).unwrap();
    assert!(html.contains("2 secrets in 3 places · from host-a.json, host-b.json"));
    assert!(
        html.contains("4 findings read; 1 were the same place reported by more than one result.")
    );
    assert!(html.contains("<span class=\"src\">in host-a.json, host-b.json</span>"));
}

#[test]
fn report_names_unreadable_results_and_exits_2() {
    let (t, _) = spread_tree();
    scan_json(&t, &[]);
    t.write("broken.json", "{\"findings\": [");
    t.write("newer.json", "{\"version\": 7, \"findings\": []}");
    let r = run(t.ferret().args([
        "report",
        "scan.json",
        "broken.json",
        "newer.json",
        "missing.json",
        "-o",
        "r.html",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    for name in ["broken.json", "newer.json", "missing.json"] {
        assert!(r.stderr.contains(name), "{name}: {}", r.stderr);
    }
    // What could be read is still reported, and the page says it is incomplete.
    let html = std::fs::read_to_string(t.path().join("r.html")).unwrap();
    assert!(html.contains("id=\"problems\""));
    assert!(html.contains("3 problems reading the results"));
    assert_eq!(html.matches("<tbody class=\"secret\"").count(), 5);
    // No input at all is a usage error.
    assert_eq!(run(t.ferret().args(["report"])).code, 2);
}

/// Segments this ferret does not produce yet (image layers, archive entries, commits) come
/// through a result as they will: the report reads them generically. One key is in two layers
/// of an image and in a commit of a repository.
#[test]
fn report_reads_layers_entries_and_commits_it_does_not_know_yet() {
    let t = TestDir::new();
    let finding = |origin: serde_json::Value, line: u64| {
        serde_json::json!({
            "rule_id": "aws.access-key-id", "rule_name": "AWS access key ID",
            "severity": "high", "fingerprint": "0123456789abcdef0123456789abcdef",
            "path": origin[0]["path"], "origin": origin, "line": line, "column": 19,
            "masked": "AKIA****", "context": "AWS_ACCESS_KEY_ID=AKIA****", "validation": "none",
            "remediation": "Deactivate and delete the key in IAM."
        })
    };
    let layer = |index: u64, digest: &str| {
        serde_json::json!([
            {"kind": "file", "path": "dist/app.tar"},
            {"kind": "layer", "index": index, "digest": digest, "created_by": "COPY . /app"},
            {"kind": "entry", "path": "app/.env"}
        ])
    };
    let doc = serde_json::json!({"version": 1, "findings": [
        finding(layer(1, "sha256:1111111111111111111111111111111111111111"), 3),
        finding(layer(3, "sha256:3333333333333333333333333333333333333333"), 3),
        finding(serde_json::json!([
            {"kind": "file", "path": "repo"},
            {"kind": "git_commit", "id": "9fceb02d0ae598e95dc970b74767f19372d61af8",
             "date": "2024-04-30T09:00:00+02:00"},
            {"kind": "file", "path": "deploy/app.env"}
        ]), 2),
    ]});
    t.write("image.json", doc.to_string());

    let r = run(t.ferret().args(["report", "image.json", "-f", "markdown"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Times win over layer positions: the commit date is both earliest and latest.
    assert!(
        r.stdout.contains(
            "| 1 | high | <code>AKIA\\*\\*\\*\\*</code> | AWS access key ID | 3 | 2 image layers, 1 git commit | 2024-04-30 07:00:00 UTC | 2024-04-30 07:00:00 UTC |"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("- <code>dist/app.tar \u{203a} layer 1 sha256:1111111111111111… \u{203a} entry app/.env:3:19</code> (image layer, seen layer 1)"),
        "{}",
        r.stdout
    );

    let r = run(t
        .ferret()
        .args(["report", "image.json", "-o", "image.html"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(t.path().join("image.html")).unwrap();
    // bundle › layer › file › line: one node for the tarball, one per layer, the entry in each.
    assert_eq!(
        html.matches("<span class=\"seg seg-file\">dist/app.tar</span>")
            .count(),
        1
    );
    assert!(html.contains(
        "<li class=\"node\"><span class=\"seg-kind\">layer</span><span class=\"seg seg-layer\">1 sha256:1111111111111111…</span><ul>\
         <li class=\"node\"><span class=\"seg-kind\">entry</span><span class=\"seg seg-entry\">app/.env</span><ul>\
         <li class=\"leaf\"><span class=\"pos\">line 3, column 19</span>"
    ), "{html}");
    assert!(html.contains("<span class=\"seg-kind\">git_commit</span>"));
    assert!(html.contains("data-kind=\"image_layer\" data-places=\"2\""));
}

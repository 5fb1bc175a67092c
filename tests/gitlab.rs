//! `--format gitlab`: GitLab's secret-detection report.
//!
//! GitLab's published JSON schema is not available from a package registry (npm, PyPI), so
//! the report is checked against the fields GitLab documents for a secret-detection report
//! (version 15): the schema below is written from that documentation (required fields, the
//! severity names, the time format, the commit of a location), not copied from GitLab.

use crate::common::git::GitRepo;
use crate::common::secrets::Gen;
use crate::common::{TestDir, run};

/// The documented shape, as a JSON schema.
fn documented() -> serde_json::Value {
    let tool = serde_json::json!({
        "type": "object",
        "required": ["id", "name", "version", "vendor"],
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
            "version": {"type": "string", "minLength": 1},
            "vendor": {"type": "object", "required": ["name"]},
        },
    });
    serde_json::json!({
        "type": "object",
        "required": ["version", "scan", "vulnerabilities"],
        "properties": {
            "version": {"type": "string", "pattern": "^15\\.[0-9]+\\.[0-9]+$"},
            "scan": {
                "type": "object",
                "required": ["analyzer", "scanner", "type", "start_time", "end_time", "status"],
                "properties": {
                    "analyzer": tool,
                    "scanner": tool,
                    "type": {"const": "secret_detection"},
                    "start_time": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$"},
                    "end_time": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$"},
                    "status": {"enum": ["success", "failure"]},
                    "messages": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["level", "value"],
                            "properties": {"level": {"enum": ["info", "warn", "fatal"]}},
                        },
                    },
                },
            },
            "vulnerabilities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "identifiers", "location"],
                    "properties": {
                        "id": {"type": "string", "minLength": 1},
                        "name": {"type": "string", "maxLength": 255},
                        "description": {"type": "string"},
                        "severity": {"enum": ["Info", "Unknown", "Low", "Medium", "High", "Critical"]},
                        "solution": {"type": "string"},
                        "raw_source_code_extract": {"type": "string"},
                        "identifiers": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["type", "name", "value"],
                                "properties": {
                                    "type": {"type": "string", "minLength": 1},
                                    "name": {"type": "string", "minLength": 1},
                                    "value": {"type": "string", "minLength": 1},
                                },
                            },
                        },
                        "links": {
                            "type": "array",
                            "items": {"type": "object", "required": ["url"]},
                        },
                        "location": {
                            "type": "object",
                            "required": ["commit"],
                            "properties": {
                                "file": {"type": "string"},
                                "start_line": {"type": "integer", "minimum": 1},
                                "end_line": {"type": "integer", "minimum": 1},
                                "commit": {
                                    "type": "object",
                                    "required": ["sha"],
                                    "properties": {"sha": {"type": "string", "minLength": 1}},
                                },
                            },
                        },
                    },
                },
            },
        },
    })
}

fn assert_documented(doc: &serde_json::Value) {
    let schema = documented();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[test]
fn a_scan_writes_the_documented_report() {
    let t = TestDir::new();
    let token = Gen::new(2001).github_pat();
    t.write("deploy/app.env", format!("DEBUG=1\nGITHUB_TOKEN={token}\n"));
    t.write("bad.gz", b"\x1f\x8b\x08\x00garbage");
    let r = run(t.ferret().args(["scan", ".", "--format", "gitlab"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_documented(&doc);
    assert!(!r.stdout.contains(&token), "the secret is masked");
    assert_eq!(doc["scan"]["status"], "success");
    assert_eq!(doc["scan"]["scanner"]["id"], "ferret");
    let messages = doc["scan"]["messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m["value"].as_str().unwrap().contains("bad.gz")),
        "the damaged file is a message: {messages:?}"
    );
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1, "{doc:#}");
    let v = &vulns[0];
    assert_eq!(v["severity"], "Critical");
    assert_eq!(v["identifiers"][0]["type"], "ferret_rule_id");
    assert_eq!(v["identifiers"][0]["value"], "github.pat.classic");
    assert_eq!(v["location"]["file"], "deploy/app.env");
    assert_eq!(v["location"]["start_line"], 2);
    assert_eq!(v["location"]["commit"]["sha"], "0000000");
    assert!(
        v["raw_source_code_extract"]
            .as_str()
            .unwrap()
            .starts_with("GITHUB_TOKEN=ghp_")
    );
    // The id is stable: the same scan gives the same ids.
    let again = run(t.ferret().args(["scan", ".", "--format", "gitlab"])).json();
    assert_eq!(again["vulnerabilities"][0]["id"], v["id"]);
    // --show-secrets shows it.
    let shown = run(t
        .ferret()
        .args(["scan", ".", "-f", "gitlab", "--show-secrets"]));
    assert!(shown.stdout.contains(&token));
}

#[test]
fn git_findings_carry_their_commit() {
    let repo = GitRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("first");
    let key = Gen::new(2002).aws_key_id();
    repo.write("config/app.env", format!("A=1\nAWS_ACCESS_KEY_ID={key}\n"));
    let sha = repo.commit_all("add config");
    let r = run(repo.ferret().args(["git", "--all", "-f", "gitlab"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_documented(&doc);
    let v = &doc["vulnerabilities"][0];
    assert_eq!(v["location"]["file"], "config/app.env");
    assert_eq!(v["location"]["start_line"], 2);
    assert_eq!(v["location"]["commit"]["sha"], sha.as_str());
    assert!(
        v["location"]["commit"]["author"]
            .as_str()
            .unwrap()
            .contains("Jane Doe")
    );
}

#[test]
fn gitlab_from_the_configuration() {
    let t = TestDir::new();
    t.write("ferret.toml", "format = \"gitlab\"\n");
    t.write(
        "a.env",
        format!("HF_TOKEN={}\n", Gen::new(2003).huggingface()),
    );
    let r = run(t.ferret().args(["scan", "."]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_documented(&r.json());
}

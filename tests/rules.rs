//! Every built-in rule's examples are found and its counterexamples are not, through the real
//! matcher and confirmation; user rule files load, fail clearly, and are checked by
//! `ferret rules check`.

use ferret::RuleSet;
use ferret::lint;

use crate::common::{TestDir, ferret, run};

#[test]
fn every_builtin_rule_passes_its_examples() {
    let rules = RuleSet::builtin().unwrap();
    let results = lint::check_rules(&rules).unwrap();
    let mut failures = Vec::new();
    for r in &results {
        for e in &r.errors {
            failures.push(format!("{}: {e}", r.id));
        }
        if !r.warnings.is_empty() {
            failures.push(format!("{}: warnings {:?}", r.id, r.warnings));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn builtin_rules_are_complete() {
    let rules = RuleSet::builtin().unwrap();
    assert!(rules.len() >= 450, "only {} rules", rules.len());
    for r in rules.iter() {
        let s = &r.spec;
        assert!(
            s.examples.len() >= 2,
            "{} has fewer than two examples",
            s.id
        );
        assert!(
            !s.counterexamples.is_empty(),
            "{} has no counterexamples",
            s.id
        );
        assert!(!s.remediation.is_empty(), "{} has no remediation", s.id);
        // Bounded matches keep the prefiltered search exact (see matcher docs).
        let max = ferret::rules::regex::max_len(&s.regex).unwrap();
        assert!(max.is_some(), "{} has an unbounded regex", s.id);
    }
    for id in [
        "aws.access-key-id",
        "aws.secret-access-key",
        "aws.session-token",
        "gcp.service-account-key",
        "azure.sas-token",
        "azure.client-secret",
        "kubernetes.service-account-token",
        "kubernetes.kubeconfig-credential",
        "docker.config-auth",
        "http.basic-auth",
        "generic.url-credentials",
        "netrc.credentials",
        "cohere.api-key",
        "mistral.api-key",
        "pinecone.api-key",
        "kaggle.json",
        "mlflow.tracking-credentials",
        "bitbucket.app-password",
        "artifactory.api-key",
        "discord.bot-token",
        "twilio.auth-token",
        "datadog.api-key",
        "pagerduty.api-key",
        "github.pat.classic",
        "github.pat.fine-grained",
        "gitlab.pat",
        "slack.bot-token",
        "openai.api-key.project",
        "anthropic.api-key",
        "huggingface.token",
        "google.api-key",
        "stripe.secret-key",
        "private-key.pem",
        "jwt",
        "database.postgres-uri",
        "generic.password-assignment",
        // Variants of issue 17, item 1.
        "azure.cosmos-key",
        "azure.function-key",
        "azure.messaging-key",
        "aws.credentials-csv",
        "aws.bedrock-api-key.short-term",
        "cloudflare.api-token.scannable",
        "cloudflare.global-api-key.scannable",
        "consul.acl-token",
        "mongodb.atlas-service-account-secret",
        "mongodb.atlas-private-key",
        "github.oauth-client-secret",
        "gitlab.session-cookie",
        "google.fcm-server-key",
    ] {
        assert!(rules.get(id).is_some(), "missing rule {id}");
    }
}

/// Synthetic examples are well-formed: where a rule has a validator, every example passes it
/// (a checksum, a structure), so the examples show what a real token looks like.
#[test]
fn builtin_examples_pass_their_validators() {
    use ferret::finding::Validation;
    use ferret::matcher::validator;
    let rules = RuleSet::builtin().unwrap();
    let matcher = ferret::Matcher::new(&rules).unwrap();
    let mut scratch = matcher.scratch();
    let mut failures = Vec::new();
    for (index, r) in rules.iter().enumerate() {
        let Some(name) = &r.spec.validator else {
            continue;
        };
        for ex in &r.spec.examples {
            let mut found = Vec::new();
            matcher.scan(ex.as_bytes(), &mut scratch, &mut found);
            for c in found.iter().filter(|c| c.rule.get() == index) {
                let secret = &ex.as_bytes()[c.secret.clone()];
                if validator::validate(name, secret) != Validation::Passed {
                    failures.push(format!("{}: {name} fails on {ex:?}", r.id()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every keyword of a rule is hit by one of its own examples: a keyword no example shows is
/// either dead weight for the prefilter (every hit costs a regex run) or an untested variant.
#[test]
fn every_keyword_is_hit_by_an_example() {
    let rules = RuleSet::builtin().unwrap();
    let mut failures = Vec::new();
    for r in rules.iter() {
        let examples: Vec<String> = r
            .spec
            .examples
            .iter()
            .map(|e| e.to_ascii_lowercase())
            .collect();
        for k in &r.spec.keywords {
            let k = k.to_ascii_lowercase();
            if !examples.iter().any(|e| e.contains(&k)) {
                failures.push(format!("{}: no example contains keyword {k:?}", r.id()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// No two rules report the same secret: on every rule's examples, scanned with every rule
/// through the engine (which already drops a generic finding that a specific one explains),
/// no two findings of different rules overlap. Where two specific rules could both match,
/// the less specific one's regex must leave the secret to the other, or the engine resolves it
/// (a rule whose keyword is in the secret beats one that knows it from context). Where two
/// generic rules read one value (`SECRET=…` as an environment line and as an unquoted
/// assignment), the engine keeps the more confident finding.
#[test]
fn no_two_rules_report_the_same_secret() {
    use ferret::blob::{Data, Origin};
    let rules = RuleSet::builtin().unwrap();
    let matcher = ferret::Matcher::new(&rules).unwrap();
    let mut scratch = matcher.scratch();
    let mut buf = Vec::new();
    let mut failures = std::collections::BTreeSet::new();
    for r in rules.iter() {
        for ex in &r.spec.examples {
            let data = Data::Owned(ex.as_bytes().to_vec());
            let scan = ferret::engine::scan_data(
                &matcher,
                &data,
                &Origin::file("example"),
                1 << 20,
                &mut scratch,
                &mut buf,
            );
            let f = &scan.findings;
            for (i, a) in f.iter().enumerate() {
                for b in &f[i + 1..] {
                    let overlap = a.offset < b.end_offset && b.offset < a.end_offset;
                    if overlap && a.rule.id() != b.rule.id() {
                        let (x, y) = if a.rule.id() < b.rule.id() {
                            (a.rule.id(), b.rule.id())
                        } else {
                            (b.rule.id(), a.rule.id())
                        };
                        failures.insert(format!(
                            "{x} and {y} both report a secret of {}'s example {ex:?}",
                            r.id()
                        ));
                    }
                }
            }
        }
    }
    let failures: Vec<String> = failures.into_iter().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A token that names its provider wins over a rule that knows the value only from the
/// context: a PlanetScale password in a `mysql://` URL is reported once, as PlanetScale's.
#[test]
fn a_self_identifying_token_beats_a_context_rule() {
    let t = TestDir::new();
    t.write(
        "app.env",
        "DATABASE_URL=mysql://ml:pscale_pw_Qm7vX2kP9sT4wL8yN3cR6hJ1dF5gB0aZ@aws.connect.psdb.cloud/features\n\
         NETLIFY_AUTH_TOKEN=nfp_T8kQ2mV7xR4pL9wZ3nB6cJ1hD5fG0sYaE2uK\n",
    );
    let r = run(t.ferret().args(["scan", "app.env", "-f", "json"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut ids = crate::common::rule_ids(&r.json());
    ids.sort();
    assert_eq!(ids, ["netlify.token", "planetscale.token"]);
}

/// A GCP service-account key file is one finding: the private key (the PEM in the JSON string,
/// with its `\n` escapes), as the service account's, with the account's email and the key id
/// as metadata; the private-key rule, which finds the same PEM, does not report it again. So
/// in the file, printed in a notebook's output, and escaped again inside a JSON log line.
/// Without a `client_email` beside it the PEM is only a private key.
#[test]
fn a_service_account_key_file_is_one_finding_the_private_key() {
    let t = TestDir::new();
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl genpkey");
    let pem = String::from_utf8(out.stdout).unwrap();
    let email = "batch-scorer@vision-prod-3917.iam.gserviceaccount.com";
    let key_id = "7c41e0d9a3b5f2c8e6a1d4b7f0c3e9a2d5b8f1c4";
    let key_file = serde_json::to_string_pretty(&serde_json::json!({
        "type": "service_account", "project_id": "vision-prod-3917",
        "private_key_id": key_id, "private_key": pem, "client_email": email,
        "client_id": "110293847561029384756",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }))
    .unwrap();
    t.write("keys/vision-prod.json", &key_file);
    let lines: Vec<String> = key_file.lines().map(|l| format!("{l}\n")).collect();
    t.write(
        "explore.ipynb",
        serde_json::json!({
            "cells": [{"cell_type": "code", "execution_count": 3, "metadata": {},
                "source": ["print(open('keys/vision-prod.json').read())"],
                "outputs": [{"name": "stdout", "output_type": "stream", "text": lines}]}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
        })
        .to_string(),
    );
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&key_file).unwrap())
            .unwrap();
    t.write(
        "worker.log",
        format!(
            "2026-03-02T10:11:12Z INFO credentials loaded {{\"event\":\"auth\",\"payload\":{}}}\n",
            serde_json::Value::String(compact)
        ),
    );
    let want = pem.trim_end().replace('\n', "\\n");
    for file in ["keys/vision-prod.json", "explore.ipynb", "worker.log"] {
        let (r, doc) = t.scan_json(&[file, "--show-secrets"]);
        assert_eq!(r.code, 1, "{file}: {}", r.stderr);
        let findings = doc["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{file}: {findings:#?}");
        let f = &findings[0];
        assert_eq!(f["rule_id"], "gcp.service-account-key", "{file}");
        assert_eq!(f["validation"], "passed", "{file}");
        assert_eq!(f["metadata"]["email"], email, "{file}");
        assert_eq!(f["metadata"]["key_id"], key_id, "{file}");
        // The span is the key: in the log it is escaped twice (`\\n`).
        let secret = f["secret"].as_str().unwrap();
        assert_eq!(secret.replace("\\\\n", "\\n"), want, "{file}");
        // Without --show-secrets the key is masked and the metadata still shown.
        let (_, masked) = t.scan_json(&[file]);
        let m = &masked["findings"][0];
        assert!(
            !masked.to_string().contains("MII"),
            "{file}: the key is masked"
        );
        assert_eq!(m["metadata"]["email"], email, "{file}");
    }
    // The same PEM with no service account beside it is a private key.
    t.write(
        "other.json",
        serde_json::json!({"name": "signer", "private_key": pem}).to_string(),
    );
    let (r, doc) = t.scan_json(&["other.json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(crate::common::rule_ids(&doc), ["private-key.pem"]);
}

/// `ferret rules check` fails a rule below the bar: fewer than two examples, no
/// counterexample, no documentation link.
#[test]
fn rules_check_fails_an_incomplete_rule() {
    let t = TestDir::new();
    let bare = r#"
[[rule]]
id = "acme.bare-token"
name = "ACME bare token"
keywords = ["acme_bare_"]
regex = '''(?P<secret>acme_bare_[a-z0-9]{24})\b'''
severity = "high"
remediation = "Revoke at https://auth.acme.internal/tokens"
examples = ["ACME=acme_bare_q8m2vz7kx4tr9wb3nd6hj1cf"]
"#;
    t.write("bare.toml", bare);
    let r = run(t.ferret().args(["rules", "check", "bare.toml"]));
    assert_eq!(r.code, 2, "{}", r.stdout);
    for gap in [
        "acme.bare-token: 1 example(s)",
        "acme.bare-token: no counterexample",
        "acme.bare-token: no documentation link",
        "1 rules checked, 1 failed",
    ] {
        assert!(r.stdout.contains(gap), "{gap}: {}", r.stdout);
    }
}

#[test]
fn rules_list_shows_every_rule() {
    let r = run(ferret().args(["rules", "list", "--json"]));
    assert_eq!(r.code, 0);
    let list = r.json();
    let n = RuleSet::builtin().unwrap().len();
    assert_eq!(list.as_array().unwrap().len(), n);
    let text = run(ferret().args(["rules", "list"]));
    assert!(text.stdout.contains(&format!("{n} rules")));
}

const USER_RULE: &str = r#"
[[rule]]
id = "acme.internal-token"
name = "ACME internal token"
keywords = ["acme_tok_"]
regex = '''(?P<secret>acme_tok_[a-z0-9]{24})\b'''
severity = "high"
remediation = "Revoke at https://auth.acme.internal/tokens"
references = ["https://auth.acme.internal/docs/token-format"]
examples = ["ACME=acme_tok_q8m2vz7kx4tr9wb3nd6hj1cf", "token: acme_tok_0h7vj3wq9zx2km5rt8pb4nc6"]
counterexamples = ["acme_tok_short"]
"#;

#[test]
fn user_rules_add_to_the_builtins() {
    let t = TestDir::new();
    t.write("rules/acme.toml", USER_RULE);
    t.write(
        "src/config.txt",
        "token: acme_tok_z9y8x7w6v5u4t3s2r1q0p9o8\n",
    );
    let r = run(t
        .ferret()
        .args(["scan", "src", "--rules", "rules", "-f", "json"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(crate::common::rule_ids(&r.json()), ["acme.internal-token"]);
    let check = run(t.ferret().args(["rules", "check", "rules/acme.toml"]));
    assert_eq!(check.code, 0, "{}", check.stdout);
    assert!(
        check.stdout.contains("1 rules checked, 0 failed"),
        "{}",
        check.stdout
    );
}

#[test]
fn rules_check_reports_a_failing_example() {
    let t = TestDir::new();
    t.write(
        "bad.toml",
        USER_RULE.replace("acme_tok_q8m2vz7kx4tr9wb3nd6hj1cf", "acme_tok_TOO_SHORT"),
    );
    let r = run(t.ferret().args(["rules", "check", "bad.toml"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stdout
            .contains("acme.internal-token: example 1 is not found"),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_rule_files_fail_with_a_clear_message() {
    let t = TestDir::new();
    let cases = [
        (
            USER_RULE.replace("keywords", "keyword"),
            "unknown field `keyword`",
        ),
        (
            USER_RULE.replace("(?P<secret>", "("),
            "no capture group named `secret`",
        ),
        (USER_RULE.replace(r#"["acme_tok_"]"#, "[]"), "no keywords"),
        (
            USER_RULE.replace("[a-z0-9]{24}", "[a-z0-9{24}"),
            "invalid regex",
        ),
        (format!("{USER_RULE}{USER_RULE}"), "defined twice"),
    ];
    for (i, (text, message)) in cases.iter().enumerate() {
        let name = format!("bad{i}.toml");
        t.write(&name, text);
        let r = run(t.ferret().args(["scan", "--rules", &name, "bad0.toml"]));
        assert_eq!(r.code, 2, "case {i}: {}", r.stderr);
        assert!(r.stderr.contains(message), "case {i}: {}", r.stderr);
    }
}

/// A team's gitleaks rule file: the shape gitleaks's own generator writes, with a secret
/// group, an allowlist and a path-only rule ferret cannot run.
const GITLEAKS_RULES: &str = r#"
title = "team rules"

[[rules]]
id = "acme-service-token"
description = "ACME service token"
regex = '''(?i)[\w.-]{0,50}?(?:acme)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([a-z0-9]{32})(?:[\x60'"\s;]|\\[nr]|$)'''
secretGroup = 1
entropy = 3.0
keywords = ["acme"]
[[rules.allowlists]]
stopwords = ["deadbeef"]
paths = ['''fixtures/.*''']

[[rules]]
id = "acme-key-file"
description = "ACME key file"
path = '''\.acmekey$'''
"#;

#[test]
fn gitleaks_rule_files_are_translated_with_warnings() {
    let t = TestDir::new();
    t.write("team.toml", GITLEAKS_RULES);
    t.write(
        "src/settings.py",
        "ACME_TOKEN = \"q8m2vz7kx4tr9wb3nd6hj1cfp5ys0gel\"\nACME_OTHER = \"deadbeefq8m2vz7kx4tr9wb3nd6hj1cf\"\n",
    );
    let r = run(t.ferret().args([
        "scan",
        "src",
        "--rules",
        "team.toml",
        "--no-builtin-rules",
        "-f",
        "json",
        "--show-secrets",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(crate::common::rule_ids(&doc), ["acme-service-token"]);
    assert_eq!(
        doc["findings"][0]["secret"],
        "q8m2vz7kx4tr9wb3nd6hj1cfp5ys0gel"
    );
    assert_eq!(doc["findings"][0]["rule_name"], "ACME service token");
    for warning in ["path allowlist", "acme-key-file: matches file paths only"] {
        assert!(r.stderr.contains(warning), "{warning}: {}", r.stderr);
    }
    // `-q` silences them; `rules check` lists them.
    let quiet = run(t.ferret().args([
        "scan",
        "src",
        "--rules",
        "team.toml",
        "--no-builtin-rules",
        "-q",
    ]));
    assert_eq!(quiet.stderr, "");
    let check = run(t.ferret().args(["rules", "check", "team.toml"]));
    assert!(
        check
            .stdout
            .contains("warning: team.toml: rule acme-key-file"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("1 rules checked, 0 failed"),
        "{}",
        check.stdout
    );
}

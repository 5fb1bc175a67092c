//! The detector of prefix-less credentials (issue 16): every syntax of the miss list is found
//! with synthetic values, and every class of non-secret is not reported by default (it may be
//! found at `low` confidence). Findings go through the whole engine; what is "reported" is what
//! the default policy admits (`--confidence medium`, no checksum-failed tokens).

use base64::Engine as _;
use ferret::blob::{Data, Origin};
use ferret::finding::{Confidence, ReportPolicy, Validation};
use ferret::{Matcher, RuleSet, engine};
use std::sync::OnceLock;

use crate::common::secrets::Gen;
use crate::common::{TestDir, run};

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(&RuleSet::builtin().unwrap()).unwrap())
}

/// Every finding in `text` as if read from `path`: (rule, secret, confidence, validation).
fn all(path: &str, text: &str) -> Vec<(String, String, Confidence, Validation)> {
    let m = matcher();
    let mut scratch = m.scratch();
    let mut buf = Vec::new();
    let data = Data::Owned(text.as_bytes().to_vec());
    let r = engine::scan_data(
        m,
        &data,
        &Origin::file(path),
        u64::MAX,
        &mut scratch,
        &mut buf,
    );
    r.findings
        .iter()
        .map(|f| {
            (
                f.rule.id().to_string(),
                f.secret.clone(),
                f.confidence,
                f.validation,
            )
        })
        .collect()
}

/// The secrets reported by default.
fn reported(path: &str, text: &str) -> Vec<String> {
    all(path, text)
        .into_iter()
        .filter(|(_, _, c, v)| ReportPolicy::default().admits(*c, *v))
        .map(|(_, s, _, _)| s)
        .collect()
}

fn assert_found(path: &str, text: &str, secret: &str) {
    let got = reported(path, text);
    assert!(
        got.iter()
            .any(|s| s.contains(secret) || secret.contains(s.as_str())),
        "{path}: {secret:?} not reported in {text:?}; all findings: {:?}",
        all(path, text)
    );
}

fn assert_quiet(path: &str, text: &str) {
    let got = reported(path, text);
    assert!(
        got.is_empty(),
        "{path}: reported {got:?} in {text:?}; all: {:?}",
        all(path, text)
    );
}

const PW: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

fn pw(g: &mut Gen) -> String {
    // Random letters and digits with one symbol: a generated password.
    format!("{}#{}", g.string(PW, 9), g.string(PW, 6))
}

#[test]
fn command_lines() {
    let mut g = Gen::new(16);
    let p = pw(&mut g);
    assert_found(
        "deploy.sh",
        &format!("curl -sf -u deploy:{p} https://artifacts.acme-ml.net/api/upload\n"),
        &p,
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("svc:{p}"));
    assert_found(
        "notes.txt",
        &format!("curl -H 'Authorization: Basic {basic}' https://registry.acme-ml.net/v2/\n"),
        &basic,
    );
    let p = pw(&mut g);
    assert_found(
        "run.sh",
        &format!("mysql -h db.acme-ml.net -u etl -p{p} mlmeta\n"),
        &p,
    );
    let p = pw(&mut g);
    assert_found(
        "run.sh",
        &format!("PGPASSWORD={p} psql -h pg.acme-ml.net -U etl\n"),
        &p,
    );
    let p = pw(&mut g);
    assert_found(
        "trace.log",
        &format!("12:00:01 exec /opt/sync --user svc --password={p} --host db\n"),
        &p,
    );
    let p = pw(&mut g);
    assert_found(
        "ci.sh",
        &format!("sshpass -p '{p}' ssh deploy@10.0.4.12\n"),
        &p,
    );
    let p = pw(&mut g);
    assert_found(
        ".gitlab-ci.yml",
        &format!("  - docker login -u ci -p {p} registry.acme-ml.net\n"),
        &p,
    );
    let key = g.string(b"0123456789abcdef", 40);
    assert_found("train.ipynb", &format!("!wandb login {key}\n"), &key);
}

#[test]
fn assignments_in_config_and_code() {
    let mut g = Gen::new(17);
    let p = pw(&mut g);
    assert_found(
        "wp-config.php",
        &format!("define( 'DB_PASSWORD', '{p}' );\n"),
        &p,
    );
    let salt = format!(
        "{}|%{}~{}@",
        g.string(PW, 20),
        g.string(PW, 20),
        g.string(PW, 18)
    );
    assert_found(
        "wp-config.php",
        &format!("define('AUTH_KEY',         '{salt}');\n"),
        &salt,
    );
    let s = g.string(PW, 40);
    assert_found("prod.tfvars", &format!("client_secret = \"{s}\"\n"), &s);
    let s = g.string(PW, 40);
    assert_found("main.tf", &format!("  secret_key = \"{s}\"\n"), &s);
    let hex = g.string(b"0123456789abcdef", 128);
    assert_found(
        "config/secrets.yml",
        &format!("production:\n  secret_key_base: {hex}\n"),
        &hex,
    );
    let hex = g.string(b"0123456789abcdef", 64);
    assert_found(".env", &format!("SESSION_SECRET={hex}\n"), &hex);
    let b64 = format!("{}=", g.string(PW, 43));
    assert_found(".env", &format!("JWT_SECRET={b64}\n"), &b64);
    let p = pw(&mut g);
    assert_found(
        "settings.py",
        &format!("DATABASES = {{'default': {{'PASSWORD': '{p}'}}}}\n"),
        &p,
    );
}

#[test]
fn dot_files_and_tool_configs() {
    let mut g = Gen::new(18);
    let s = format!("{}/{}", g.string(PW, 20), g.string(PW, 19));
    assert_found(
        ".s3cfg",
        &format!("[default]\nhost_base = s3.acme-ml.net\nsecret_key = {s}\n"),
        &s,
    );
    let p = pw(&mut g);
    assert_found(
        ".pgpass",
        &format!("pg-1.acme-ml.net:5432:mlmeta:etl:{p}\n"),
        &p,
    );
    let p = g.string(PW, 18);
    assert_found(
        ".git-credentials",
        &format!("https://deploy:{p}@git.acme-ml.net\n"),
        &p,
    );
    let t = g.string(b"0123456789abcdef", 40);
    assert_found(
        "hub",
        &format!("github.com:\n- user: deploy\n  oauth_token: {t}\n  protocol: https\n"),
        &t,
    );
    let b = base64::engine::general_purpose::STANDARD.encode(pw(&mut g));
    assert_found(
        "sitemanager.xml",
        &format!(
            "<Server><Host>ftp.acme-ml.net</Host><User>deploy</User><Pass encoding=\"base64\">{b}</Pass></Server>\n"
        ),
        &b,
    );
    let p = pw(&mut g);
    assert_found(
        "data-sources.json",
        &format!("{{\"configuration\": {{\"user\": \"etl\", \"password\": \"{p}\"}}}}\n"),
        &p,
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("gw:{}", pw(&mut g)));
    assert_found(
        "nginx.conf",
        &format!("    proxy_set_header Authorization \"Basic {basic}\";\n"),
        &basic,
    );
    let b = base64::engine::general_purpose::STANDARD.encode(pw(&mut g));
    assert_found(
        "secret.yaml",
        &format!("apiVersion: v1\nkind: Secret\ntype: Opaque\ndata:\n  password: {b}\n"),
        &b,
    );
}

#[test]
fn names_that_are_not_secret_names() {
    for (path, text) in [
        (
            "src/parse.rs",
            "            brace_token: node.brace_token,\n",
        ),
        ("src/lex.rs", "use crate::token::take_while;\n"),
        ("src/box.c", "  secret_len = crypto_box_SECRET_KEY_BYTES;\n"),
        (
            "app.py",
            "tokenizer = AutoTokenizer.from_pretrained(model_name_or_path)\n",
        ),
        ("gen.yaml", "max_tokens: 4096\n"),
        (
            "lexer.py",
            "        _token_start = self._position_of_next\n",
        ),
        ("settings.yaml", "password_file: /run/secrets/db-password\n"),
        ("src/client.py", "        password=password,\n"),
        (
            "src/auth.py",
            "    smtp.user, smtp.password = credentials\n",
        ),
        (
            "key_schedule.rs",
            "ClientHandshakeTrafficSecret => \"CLIENT_HANDSHAKE_TRAFFIC_SECRET\",\n",
        ),
        ("config.py", "DB_PASSWORD = os.environ[\"DB_PASSWORD\"]\n"),
        ("tpl.yaml", "password: \"{password}\"\n"),
        (
            "tpl.ini",
            "url = postgresql://%(user)s:%(password)s@db/app\n",
        ),
        ("app.py", "    print(f\"password={password!r}\")\n"),
        ("README.md", "Use `--password options` to pass it.\n"),
    ] {
        assert_quiet(path, text);
    }
}

#[test]
fn test_values_words_and_examples_are_not_reported() {
    let mut g = Gen::new(19);
    for (path, text) in [
        (
            "tests/test_smtplib.py",
            "        smtp.password = 'doesnotexist'\n".to_string(),
        ),
        (
            "Lib/test/test_config.py",
            "password:yh^%#rest-of-my-password\n".to_string(),
        ),
        (
            "urllib/request.py",
            "                      passwd='geheim$parole')\n".to_string(),
        ),
        (
            "src/proxy.rs",
            "    /// * `socks5://john:smith@socks.google.com`\n".to_string(),
        ),
        (
            "docs/usage.md",
            "curl -u user:pass https://api.acme-ml.net\n".to_string(),
        ),
        (
            "app.py",
            "requests.get('https://user:pass@example.com/')\n".to_string(),
        ),
        (
            "deploy.sh",
            format!(
                "git clone http://deploy:{}@git.example.com/x.git\n",
                g.string(PW, 16)
            ),
        ),
        (
            "tests/test_url.py",
            "r = get('http://a:pass%20pass@h.acme-ml.net/')\n".to_string(),
        ),
        (
            "client.py",
            "headers = {'Authorization': 'Bearer 2YotnFZFEjr1zCsicMWpAA'}\n".to_string(),
        ),
        (
            "tests/test_auth.py",
            "    assert h == 'Authorization: Basic dXNlcjpwYXNz'\n".to_string(),
        ),
        (
            "static/app.min.js",
            "var a={password:\"Secretive\"};\n".to_string(),
        ),
        (
            "wp-config.php",
            "define('AUTH_KEY', 'put your unique phrase here');\n".to_string(),
        ),
    ] {
        assert_quiet(path, &text);
    }
}

#[test]
fn confidence_and_reasons() {
    let mut g = Gen::new(20);
    let s = g.string(PW, 40);
    let found = all(".env", &format!("API_TOKEN={s}\n"));
    assert!(found.iter().any(|f| f.2 == Confidence::High), "{found:?}");
    // The same value in a test folder is still reported, less sure.
    let found = all("tests/fixtures/app.env", &format!("API_TOKEN={s}\n"));
    assert!(found.iter().any(|f| f.2 == Confidence::Medium), "{found:?}");
    // An expression is found only at low confidence.
    let found = all(
        "src/parse.rs",
        "            brace_token: node.brace_token,\n",
    );
    assert!(found.iter().all(|f| f.2 == Confidence::Low), "{found:?}");
}

#[test]
fn checksum_failed_tokens_are_hidden_unless_asked() {
    let mut g = Gen::new(21);
    let good = g.github_pat();
    let bad = format!("ghp_{}", g.string(PW, 36));
    let text = format!("A={good}\nB={bad}\n");
    let d = TestDir::new();
    d.write("tokens.txt", &text);
    let r = run(d.ferret().args(["scan", "-f", "json", "--no-config", "."]));
    let doc = r.json();
    let secrets: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(secrets.len(), 1, "{doc}");
    assert_eq!(doc["findings"][0]["validation"], "passed");
    assert_eq!(doc["findings"][0]["confidence"], "high");
    assert!(
        doc["findings"][0]["reasons"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    let r = run(d
        .ferret()
        .args(["scan", "-f", "json", "--no-config", "--show-invalid", "."]));
    let doc = r.json();
    let failed: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["validation"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{doc}");
    // SARIF carries confidence and reasons too.
    let r = run(d.ferret().args(["scan", "-f", "sarif", "--no-config", "."]));
    let doc = r.json();
    let props = &doc["runs"][0]["results"][0]["properties"];
    assert_eq!(props["confidence"], "high", "{doc}");
    assert!(props["reasons"].is_array());
}

#[test]
fn confidence_flag_and_fail_on() {
    let d = TestDir::new();
    d.write(
        "src/parse.rs",
        "            brace_token: node.brace_token,\n",
    );
    let mut g = Gen::new(22);
    d.write(
        "tests/fixtures/app.env",
        format!("API_TOKEN={}\n", g.string(PW, 40)),
    );
    let r = run(d.ferret().args([
        "scan",
        "-f",
        "json",
        "--no-config",
        "--confidence",
        "low",
        ".",
    ]));
    let doc = r.json();
    let conf: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["confidence"].as_str().unwrap())
        .collect();
    assert!(conf.contains(&"low") && conf.contains(&"medium"), "{doc}");
    // Only a medium finding by default: it fails the run, unless the gate wants high.
    let r = run(d.ferret().args(["scan", "-q", "--no-config", "."]));
    assert_eq!(r.code, 1);
    let r = run(d.ferret().args([
        "scan",
        "-q",
        "--no-config",
        "--fail-on",
        "low,confidence=high",
        ".",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

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
        // Anti-forgery tokens are made per form or session: not credentials.
        (
            "src/test/resources/edit.html",
            "<form data-wiki-form-token=\"Zq81bV0xTq2mWd7kLpR4sA\" data-user=\"Admin\">\n",
        ),
        (
            "app/views/edit.html",
            "<input type=\"hidden\" name=\"csrf_token\" value=\"Zq81bV0xTq2mWd7kLpR4sA9e\">\n",
        ),
        (
            "saved.json",
            "{\"authenticity_token\": \"Zq81bV0xTq2mWd7kLpR4sA9eF3hJ\"}\n",
        ),
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
        // Filler where the real value goes.
        (
            "examples/oauth_mail.php",
            "$mail->oauthClientSecret = \"RANDOMCHARS-----Hq2vL9sKxTq\";\n".to_string(),
        ),
        (
            "get_token.php",
            "    'clientSecret' => 'Hq2vL9sKxTqW----',\n".to_string(),
        ),
        // The word of the name in the value: a stand-in, here in a test project's assertion
        // and in a docstring's example call.
        (
            "Client.Tests/OAuthHeaderTests.cs",
            "    Assert.IsTrue(v.Contains(\"x_auth_password=\\\"ClientPassword\\\"\"));\n"
                .to_string(),
        ),
        (
            "lib/contrib/chat.py",
            "    ...     token='TH1SISMYT0KENFR0MTHEPORTAL2024',\n".to_string(),
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

/// `text` in UTF-16, little- or big-endian, with or without a byte-order mark.
fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |u: u16| {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        })
    };
    if bom {
        put(0xFEFF);
    }
    for u in text.encode_utf16() {
        put(u);
    }
    out
}

/// Every reported secret in `files` (scanned with the CLI, which reads UTF-16 as text), each
/// with the bytes of the file its offsets point at.
fn reported_in_files(files: &[(&str, Vec<u8>)]) -> Vec<(String, String, Vec<u8>)> {
    let d = TestDir::new();
    for (name, bytes) in files {
        d.write(name, bytes);
    }
    let r = run(d
        .ferret()
        .args(["scan", "-f", "json", "--show-secrets", "--no-config", "."]));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let doc = r.json();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap().to_string();
            let (s, e) = (
                f["offset"].as_u64().unwrap() as usize,
                f["end_offset"].as_u64().unwrap() as usize,
            );
            let bytes = files
                .iter()
                .find(|(n, _)| path.ends_with(n))
                .map(|(_, b)| b[s..e].to_vec())
                .unwrap_or_default();
            (path, f["secret"].as_str().unwrap().to_string(), bytes)
        })
        .collect()
}

#[test]
fn secrets_in_utf16_text() {
    let mut g = Gen::new(23);
    let (p1, p2, p3, p4) = (pw(&mut g), pw(&mut g), pw(&mut g), pw(&mut g));
    let pat = g.github_pat();
    let reg = format!(
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Acme\\Sync]\r\n\
         \"Server\"=\"sync.acme-ml.net\"\r\n\"Password\"=\"{p1}\"\r\n"
    );
    let transcript = format!(
        "**********************\r\nWindows PowerShell transcript start\r\nStart time: 20250301101500\r\n\
         Username: ACME\\deploy\r\n**********************\r\nPS C:\\deploy> $env:GITHUB_TOKEN = \"{pat}\"\r\n\
         PS C:\\deploy> mysql -h db.acme-ml.net -u etl -p{p2} mlmeta\r\n"
    );
    let config = format!(
        "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<configuration>\r\n  <connectionStrings>\r\n\
         <add name=\"Main\" connectionString=\"Server=sql.acme-ml.net;Database=app;User Id=app;Password={p3};\" />\r\n\
         </connectionStrings>\r\n</configuration>\r\n"
    );
    let log = format!("2025-03-01 10:15:00 INFO connecting\r\nDB_PASSWORD={p4}\r\n");
    let files = [
        ("sync.reg", utf16(&reg, false, true)),
        ("transcript.txt", utf16(&transcript, false, true)),
        ("web.config", utf16(&config, false, false)),
        (
            "app-be.config",
            utf16(&config.replace(&p3, &p1), true, true),
        ),
        ("service.log", utf16(&log, true, false)),
    ];
    let found = reported_in_files(&files);
    for (file, secret) in [
        ("sync.reg", &p1),
        ("transcript.txt", &pat),
        ("transcript.txt", &p2),
        ("web.config", &p3),
        ("app-be.config", &p1),
        ("service.log", &p4),
    ] {
        let hit = found
            .iter()
            .find(|(path, s, _)| path.ends_with(file) && s.contains(secret.as_str()));
        let Some((_, s, bytes)) = hit else {
            panic!("{file}: {secret:?} not reported; found {found:?}");
        };
        // The offsets point at the secret's UTF-16 bytes in the file.
        let big_endian = file == "app-be.config" || file == "service.log";
        assert_eq!(
            bytes,
            &utf16(s, big_endian, false),
            "{file}: offsets of {s:?}"
        );
    }
}

#[test]
fn esmtprc_passwords() {
    let mut g = Gen::new(24);
    let p = pw(&mut g);
    assert_found(
        ".esmtprc",
        &format!(
            "identity = deploy@acme-ml.net\n\thostname = smtp.acme-ml.net:587\n\tusername = \"deploy@acme-ml.net\"\n\tpassword = \"{p}\"\n\tstarttls = required\n"
        ),
        &p,
    );
    let p = pw(&mut g);
    assert_found(
        "home/etl/.esmtprc",
        &format!("hostname = mail.acme-ml.net:25\nusername = etl\npassword = {p}\n"),
        &p,
    );
}

/// A DER-shaped private key (a SEQUENCE of random bytes) as base64 lines of 64 characters.
fn pem_lines(g: &mut Gen) -> Vec<String> {
    let mut der = vec![
        0x30, 0x82, 0x02, 0x5c, 0x02, 0x01, 0x00, 0x02, 0x81, 0x81, 0x00,
    ];
    der.extend((0..600).map(|_| g.next() as u8));
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    b64.as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

#[test]
fn pem_keys_indented_inside_string_literals() {
    let mut g = Gen::new(25);
    let lines = pem_lines(&mut g);
    let indented = |indent: &str| {
        let mut s = format!("{indent}-----BEGIN RSA PRIVATE KEY-----\n");
        for l in &lines {
            s.push_str(&format!("{indent}{l}\n"));
        }
        s.push_str(&format!("{indent}-----END RSA PRIVATE KEY-----\n"));
        s
    };
    // A test key in a Python triple-quoted string, dedented at run time.
    let py = format!(
        "import textwrap\n\nclass KeyTests(TestCase):\n    TEST_KEY = textwrap.dedent(\"\"\"\\\n{}        \"\"\")\n",
        indented("        ")
    );
    assert_found("tests/test_keys.py", &py, &lines[3]);
    // Tabs, and a string that starts on the key's first line.
    let body = indented("\t\t");
    let py = format!("KEY = \"\"\"{}\"\"\"\n", body.trim_start());
    assert_found("fixtures.py", &py, &lines[5]);
    // A JavaScript template literal.
    let js = format!("const key = `\n{}`;\n", indented("  "));
    assert_found("test/sign.test.js", &js, &lines[2]);
}

#[test]
fn kubernetes_secret_manifests() {
    let mut g = Gen::new(26);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (p, t) = (pw(&mut g), g.string(PW, 40));
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: etl-credentials\n  namespace: ml\ntype: Opaque\ndata:\n  DB_USER: {}\n  DB_PASSWORD: {}\n  api-token: {}\n",
        b64("etl"),
        b64(&p),
        b64(&t)
    );
    assert_found("k8s/etl-secret.yaml", &manifest, &b64(&p));
    assert_found("k8s/etl-secret.yaml", &manifest, &b64(&t));
    // The user name is not a secret.
    assert!(
        !reported("k8s/etl-secret.yaml", &manifest).contains(&b64("etl")),
        "{:?}",
        all("k8s/etl-secret.yaml", &manifest)
    );
    // In a List, more deeply indented, in JSON.
    let json = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"type\": \"Opaque\", \"data\": {{\"client-secret\": \"{}\"}}}}\n",
        b64(&t)
    );
    assert_found("secret.json", &json, &b64(&t));
}

const HEX: &[u8] = b"0123456789abcdef";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A documentation page shows a value to show how it is set: the output of the generator it
/// tells the reader to run, in a code sample. A prefix-less value there is an example (found
/// at low confidence, not reported by default); the same value in a configuration file is a
/// secret; a provider's token in a documentation page is still reported.
#[test]
fn generic_values_in_documentation_are_examples() {
    let mut g = Gen::new(161);
    let key = g.string(HEX, 64);
    let page = format!(
        "Configure the Secret Key\n------------------------\n\n\
         Use the following command to output a random secret key::\n\n    \
         $ python -c 'import secrets; print(secrets.token_hex())'\n    '{key}'\n\n\
         Copy it into ``config.py``::\n\n    SECRET_KEY = '{key}'\n"
    );
    for path in ["docs/config.rst", "docs/tutorial/deploy.rst", "README.md"] {
        assert_quiet(path, &page);
        assert!(
            all(path, &page)
                .iter()
                .any(|(_, s, c, _)| *s == key && *c == Confidence::Low),
            "{path}: found at low confidence: {:?}",
            all(path, &page)
        );
    }
    // A Python bytes literal (an `os.urandom` repr) in a sample is not a finding either.
    assert_quiet(
        "docs/quickstart.rst",
        "    # Set the secret key to some random bytes.\n    app.secret_key = b'\\x9c\\xf1Lq\\x03@\\xe2\\x8b]\\x1f'\n",
    );
    // The same value in configuration is a secret.
    assert_found("config.py", &format!("SECRET_KEY = '{key}'\n"), &key);
    assert_found(
        "instance/config.py",
        &format!("SECRET_KEY = '{key}'\n"),
        &key,
    );
    assert_found(".env", &format!("SECRET_KEY={key}\n"), &key);
    let pw = format!("{}{}", g.string(ALNUM, 20), "#2x");
    assert_found(
        "deploy/settings.yaml",
        &format!("database:\n  password: \"{pw}\"\n"),
        &pw,
    );
    assert_quiet(
        "docs/deploy.md",
        &format!("```yaml\ndatabase:\n  password: \"{pw}\"\n```\n"),
    );
    // A provider's token format is reported wherever it is.
    let token = g.github_pat();
    assert_found(
        "docs/ci.md",
        &format!("```sh\nexport GITHUB_TOKEN={token}\n```\n"),
        &token,
    );
}

/// A signature test reproduces a published walkthrough: it fixes the nonce and the timestamp
/// and signs with the walkthrough's credentials, so its credentials are not reported (they
/// are found at low confidence). A credential in a test that signs with a real clock and a
/// fresh nonce (an integration test against the live API) is, and so is the same value in
/// configuration.
#[test]
fn signature_test_vectors_are_not_reported() {
    let mut g = Gen::new(162);
    let secret = g.string(ALNUM, 43);
    let token_secret = g.string(ALNUM, 41);
    let vector = format!(
        "public class OAuth1SignatureTests {{\n\
         \x20   readonly OAuthWorkflow _workflow = new() {{\n\
         \x20       TokenSecret    = \"{token_secret}\",\n\
         \x20       ConsumerSecret = \"{secret}\",\n\
         \x20       GetNonce       = () => \"{}\",\n\
         \x20       GetTimestamp   = () => \"1318622958\"\n\
         \x20   }};\n}}\n",
        g.string(ALNUM, 42)
    );
    assert_quiet("test/Client.Tests/Auth/OAuth1SignatureTests.cs", &vector);
    assert!(
        all("test/Client.Tests/Auth/OAuth1SignatureTests.cs", &vector)
            .iter()
            .any(|(_, s, c, _)| *s == secret && *c == Confidence::Low),
        "found at low confidence"
    );
    let python = format!(
        "def test_signature():\n    consumer_secret = \"{secret}\"\n    \
         oauth_nonce = \"{}\"\n    oauth_timestamp = \"137131201\"\n    \
         assert sign(consumer_secret, oauth_nonce, oauth_timestamp) == EXPECTED\n",
        g.string(ALNUM, 11)
    );
    assert_quiet("tests/test_oauth1.py", &python);
    // Live: the clock and the nonce are the library's.
    let live = format!(
        "public class OAuth1Tests {{\n\
         \x20   const string consumerSecret = \"{secret}\";\n\
         \x20   var workflow = new OAuthWorkflow {{ ConsumerSecret = consumerSecret, \
         GetNonce = () => OAuthTools.GetNonce(), GetTimestamp = () => OAuthTools.GetTimestamp() }};\n}}\n"
    );
    assert_found("Client.IntegrationTests/OAuth1Tests.cs", &live, &secret);
    // Outside a test the same lines are configuration, whatever is beside them.
    assert_found("src/TwitterClient.cs", &vector, &secret);
    assert_found(
        "config.py",
        &format!("CONSUMER_SECRET = \"{secret}\"\n"),
        &secret,
    );
}

/// Noise classes met in installed Python packages and `/usr/share/doc` (site-packages of the CI
/// environment, Debian's documentation tree), rebuilt with synthetic values: none is reported,
/// and the same names with generated literals still are.
#[test]
fn package_and_documentation_noise_is_not_reported() {
    let mut g = Gen::new(1607);
    let jwt = format!(
        "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
        g.string(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            48
        ),
        g.string(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            43
        )
    );
    let cursor = base64::engine::general_purpose::STANDARD.encode(br#"{"index": 27}"#);
    for (path, text) in [
        // A tracking password set from a helper or a variable: code.
        (
            "mlflow/environment_variables.py",
            "MLFLOW_TRACKING_PASSWORD = _EnvironmentVariable(\"MLFLOW_TRACKING_PASSWORD\", str, None)\n"
                .to_string(),
        ),
        (
            "mlflow/genai/job.py",
            "            os.environ[\"MLFLOW_TRACKING_TOKEN\"] = internal_token\n".to_string(),
        ),
        // A syntax highlighter's token types in a bundle.
        (
            "server/js/build/static/js/6291.1a2b3c4d.chunk.js",
            "[/'/,{token:\"string.$S2.delim\",next:\"@pop\"}],[/./,{cases:{\"$#==$S3\":{token:\"keyword.$0\"}}}]\n"
                .to_string(),
        ),
        // A listing's cursor.
        (
            "gateway/app.py",
            format!("                \"next_page_token\": \"{cursor}\",\n"),
        ),
        // A password read out of a compiled string table.
        (
            "wandb/sdk/lib/__pycache__/netrc.cpython-311.pyc",
            "machine api.example.org\n  login user\n  password \u{1}z\u{12}Appending\n".to_string(),
        ),
        // Documentation: compressed pages, their spec/ folders, a JWT as the page's example.
        (
            "usr/share/doc/registry/spec/auth/oauth.md.gz",
            format!("{{\"refresh_token\":\"{}\",\"access_token\":\"{}\"}}\n", g.string(PW, 12), &jwt[..24]),
        ),
        (
            "usr/share/doc/registry/spec/auth/token.md.gz",
            format!("    Authorization: Bearer {jwt}\n{{\"token\": \"{jwt}\"}}\n"),
        ),
        // Docstring examples in compiled and source Python: words for passwords.
        (
            "mlflow/cli/__pycache__/crypto.cpython-311.pyc",
            "        $ export MLFLOW_CRYPTO_KEK_PASSPHRASE=\"current-passphrase\"\n".to_string(),
        ),
        (
            "pydantic/types.py",
            "    model = Model(password='IAmSensitive', password_bytes=b'IAmSensitiveBytes')\n"
                .to_string(),
        ),
        (
            "fsspec/implementations/__pycache__/smb.cpython-311.pyc",
            "        ...     'smb://myuser:mypassword@myserver.com/' 'share/folder/file.csv'\n"
                .to_string(),
        ),
        // Oracle's demo pair with a suffix, leetspeak in a Basic header with its newline.
        (
            "sqlalchemy/dialects/mssql/base.py",
            "        \"mssql+pyodbc://scott:tiger^5HHH@mssql2017:1433/test?driver=ODBC\",\n"
                .to_string(),
        ),
        (
            "socat/test.sh",
            format!(
                "elif ! grep -q '^Proxy-authorization: Basic {}$' ${{tf}}0; then\n",
                base64::engine::general_purpose::STANDARD.encode(b"user:s3cr3t\n")
            ),
        ),
    ] {
        assert_quiet(path, &text);
    }
    // The same names with generated literals are still reported.
    let p = pw(&mut g);
    assert_found(
        "deploy/env.sh",
        &format!("export MLFLOW_TRACKING_PASSWORD='{p}'\n"),
        &p,
    );
    let token = g.string(PW, 32);
    assert_found(
        "gateway/settings.py",
        &format!("api_token = \"{token}\"\n"),
        &token,
    );
    let p = pw(&mut g);
    assert_found(
        "config/database.yml",
        &format!("url: mssql+pyodbc://scott:{p}@db.internal.corp:1433/app\n"),
        &p,
    );
}

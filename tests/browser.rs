//! The HTML report in a real browser: headless Chromium, driven over the DevTools protocol,
//! loads the page from a `file://` URL and checks what a responder sees and does: the table
//! shows the expected secrets and counts, sorting and filtering work, a row opens onto its
//! location tree, and the markup planted in a file name and a line stays text.
//!
//! Chromium is Debian's (`apt-get install chromium`; `.ci/run` installs it). Without it the
//! test is skipped with a loud message, unless `FERRET_REQUIRE_BROWSER=1` (set by CI), which
//! turns the skip into a failure. `FERRET_CHROMIUM` names another binary.
//!
//! The driver is a few lines of CDP over a WebSocket (tungstenite): Chromium is started with
//! `--remote-debugging-port=0`, writes the port it chose to `DevToolsActivePort` in its
//! profile folder, and the test attaches to a new tab with `Target.attachToTarget`
//! (flattened sessions). Every wait has a deadline, so a broken browser fails, never hangs.
//!
//! The screenshot (`report.png`, taken with two rows open) is kept in the test's temp folder,
//! whose path is printed, and copied with the page to `$FERRET_ARTIFACTS` when that is set.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use crate::common::run;
use crate::incident::{scan_json, spread_tree};

const DEADLINE: Duration = Duration::from_secs(60);

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FERRET_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A headless Chromium and one CDP session on one tab. Killed on drop.
struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
}

impl Browser {
    fn launch(binary: &Path, profile: &Path) -> Browser {
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let port_file = profile.join("DevToolsActivePort");
        let started = Instant::now();
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break (port.trim().to_string(), path.trim().to_string());
                }
            }
            assert!(
                started.elapsed() < DEADLINE,
                "Chromium did not open its DevTools port"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).expect("DevTools port");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let (ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream)
            .expect("DevTools WebSocket");
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
        };
        let target = b.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = b.browser_call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        b
    }

    fn send(&mut self, method: &str, params: Value, session: bool) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if session {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to Chromium");
        loop {
            let reply = self.ws.read().expect("read from Chromium");
            let Message::Text(text) = reply else { continue };
            let v: Value = serde_json::from_str(text.as_str()).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method} failed: {v}");
                return v["result"].clone();
            }
        }
    }

    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, false)
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, true)
    }

    /// Evaluates `expr` in the page and returns its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expr} threw: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    fn open(&mut self, url: &str) {
        self.call("Page.enable", json!({}));
        self.call("Page.navigate", json!({"url": url}));
        let started = Instant::now();
        while self.eval("document.readyState") != "complete" || self.eval("location.href") != url {
            assert!(started.elapsed() < DEADLINE, "page did not load");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn click(&mut self, selector: &str) {
        let clicked = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.click(); return true; }})()",
            json!(selector)
        ));
        assert_eq!(clicked, true, "nothing to click at {selector}");
    }

    /// Types into the focused filter box as a user would (real input events).
    fn type_filter(&mut self, text: &str) {
        self.eval(
            "(() => { const f = document.getElementById('filter'); f.focus(); f.select(); })()",
        );
        self.call("Input.insertText", json!({"text": text}));
    }

    fn screenshot(&mut self, path: &Path) {
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The visible rows: rule id, severity, places, as the page shows them.
const ROWS: &str = "JSON.stringify(Array.from(document.querySelectorAll('#secrets tbody.secret'))
    .filter(tb => !tb.hidden)
    .map(tb => [tb.querySelector('.rule .id').textContent,
                tb.querySelector('.sev').textContent,
                Number(tb.querySelector('td.places').textContent)]))";

fn rows(b: &mut Browser) -> Vec<(String, String, u64)> {
    serde_json::from_str(b.eval(ROWS).as_str().unwrap()).unwrap()
}

fn ids(rows: &[(String, String, u64)]) -> Vec<&str> {
    rows.iter().map(|r| r.0.as_str()).collect()
}

#[test]
fn html_report_in_a_real_browser() {
    let Some(binary) = chromium() else {
        let msg = "chromium not found: the HTML report was NOT tested in a browser \
                   (apt-get install chromium, or set FERRET_CHROMIUM)";
        if std::env::var_os("FERRET_REQUIRE_BROWSER").is_some_and(|v| v == "1") {
            panic!("{msg}; FERRET_REQUIRE_BROWSER=1 makes this a failure");
        }
        // Straight to the process's stderr: the test harness does not capture this.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
        return;
    };
    let (t, s) = spread_tree();
    let doc = scan_json(&t, &[]);
    let r = run(t
        .ferret()
        .args(["report", "scan.json", "-o", "report.html"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = t.path().join("report.html");
    let url = format!("file://{}", page.display());

    // A fresh profile, deleted after the test (the test's folder is kept for the screenshot).
    let profile = tempfile::tempdir().unwrap();
    let mut b = Browser::launch(&binary, profile.path());
    b.open(&url);

    // The table, most urgent first: severity, then spread.
    let initial = rows(&mut b);
    let expected = [
        ("github.pat.classic", "critical", 5),
        ("openai.api-key.project", "critical", 1),
        ("slack.bot-token", "high", 3),
        ("aws.access-key-id", "high", 2),
        ("huggingface.token", "high", 1),
    ];
    let want: Vec<(String, String, u64)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
    assert_eq!(initial, want);
    // The counts agree with the scan it was made from.
    let findings = doc["findings"].as_array().unwrap().len() as u64;
    assert_eq!(initial.iter().map(|r| r.2).sum::<u64>(), findings);
    assert_eq!(
        b.eval("document.querySelector('#count-secrets .n').textContent"),
        "5"
    );
    assert_eq!(
        b.eval("document.querySelector('#count-places .n').textContent"),
        findings.to_string()
    );
    assert_eq!(
        b.eval("document.getElementById('shown-count').textContent"),
        "5 of 5 secrets"
    );
    assert_eq!(
        b.eval("document.querySelector('#artifact-chart g[data-kind=log]').dataset.places"),
        "6"
    );

    // Sorting: by places (most first), again (fewest first), then by secret name.
    b.click("th[data-key=places] button");
    let by_places = rows(&mut b);
    assert_eq!(
        by_places.iter().map(|r| r.2).collect::<Vec<_>>(),
        [5, 3, 2, 1, 1]
    );
    assert_eq!(
        b.eval("document.querySelector('th[data-key=places]').getAttribute('aria-sort')"),
        "descending"
    );
    b.click("th[data-key=places] button");
    let fewest = rows(&mut b);
    assert_eq!(
        fewest.iter().map(|r| r.2).collect::<Vec<_>>(),
        [1, 1, 2, 3, 5]
    );
    // Ties keep the default order (openai before huggingface).
    assert_eq!(
        ids(&fewest)[..2],
        ["openai.api-key.project", "huggingface.token"]
    );
    b.click("th[data-key=secret] button");
    let by_name = rows(&mut b);
    assert_eq!(
        ids(&by_name),
        [
            "aws.access-key-id",
            "github.pat.classic",
            "huggingface.token",
            "openai.api-key.project",
            "slack.bot-token"
        ]
    );
    b.click("th[data-key=severity] button");
    assert_eq!(
        rows(&mut b)[..2]
            .iter()
            .map(|r| r.1.as_str())
            .collect::<Vec<_>>(),
        ["critical", "critical"]
    );

    // Filtering: free text (matches places inside collapsed rows too), severity, artifact kind.
    b.type_filter("worker.log");
    let filtered = rows(&mut b);
    assert_eq!(
        ids(&filtered)
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        ["github.pat.classic", "slack.bot-token"].into()
    );
    assert_eq!(
        b.eval("document.getElementById('shown-count').textContent"),
        "2 of 5 secrets"
    );
    b.type_filter("no such thing");
    assert!(rows(&mut b).is_empty());
    assert_eq!(b.eval("document.getElementById('no-match').hidden"), false);
    b.eval("(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); })()");
    assert_eq!(rows(&mut b).len(), 5);
    b.eval("(() => { const s = document.getElementById('severity-filter'); s.value = 'critical'; s.dispatchEvent(new Event('change')); })()");
    assert_eq!(rows(&mut b).len(), 2);
    b.eval("(() => { const s = document.getElementById('severity-filter'); s.value = ''; s.dispatchEvent(new Event('change')); })()");
    b.eval("(() => { const s = document.getElementById('kind-filter'); s.value = 'notebook'; s.dispatchEvent(new Event('change')); })()");
    let nb = rows(&mut b);
    assert_eq!(
        ids(&nb)
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        ["github.pat.classic", "huggingface.token"].into()
    );
    b.eval("(() => { const s = document.getElementById('kind-filter'); s.value = ''; s.dispatchEvent(new Event('change')); })()");
    assert_eq!(
        b.eval("document.getElementById('shown-count').textContent"),
        "5 of 5 secrets"
    );

    // A row opens onto its places as a tree, with the remediation link.
    b.click("th[data-key=places] button");
    b.click("#secrets tbody.secret button.toggle");
    assert_eq!(
        b.eval("document.querySelector('#secrets tbody.secret tr.detail').hidden"),
        false
    );
    assert_eq!(
        b.eval("document.querySelector('#secrets tbody.secret tr.detail').querySelectorAll('li.leaf').length"),
        5
    );
    assert_eq!(
        b.eval("document.querySelector('#secrets tbody.secret a.remediation').href"),
        "https://github.com/settings/tokens"
    );

    // Planted markup is text, never code: no canary fired, and the name reads as written.
    assert_eq!(b.eval("typeof window.pwned"), "undefined");
    assert_eq!(b.eval("document.querySelectorAll('img').length"), 0);
    assert_eq!(b.eval("document.scripts.length"), 1);
    let text = b
        .eval("document.body.textContent")
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&s.evil_name),
        "the file name is not shown as text"
    );
    assert!(text.contains("<script>window.pwned=3</script>"));
    for secret in s.secrets() {
        assert!(!text.contains(secret), "page shows {secret}");
    }

    // Open the openai row too (the one with the planted markup) for the screenshot.
    b.eval(
        "document.querySelector('#secrets tbody[data-secret*=\"openai\"] button.toggle').click()",
    );
    let shot = t.path().join("report.png");
    b.screenshot(&shot);
    drop(b);
    // CI collects the page and its screenshot from FERRET_ARTIFACTS (set by .ci/run).
    if let Some(dir) = std::env::var_os("FERRET_ARTIFACTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&shot, dir.join("report.png")).unwrap();
        std::fs::copy(&page, dir.join("report.html")).unwrap();
    }
    // Keep the folder so the screenshot outlives the test.
    let kept = t.keep();
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "browser test screenshot: {}",
        kept.join("report.png").display()
    );
}

//! `ferret scan mlflow+http://…` against a real MLflow tracking server (PyPI's `mlflow`, on
//! loopback, SQLite backend, local artifact root), populated by the real MLflow client: runs
//! with params, tags, descriptions and artifacts (a zip among them), a registered model and a
//! version, a prompt, a trace. One server for the whole test: it takes tens of seconds to
//! start. Skipped, loudly, without mlflow unless FERRET_REQUIRE_TOOLS=1.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::TestDir;
use crate::common::secrets::Gen;
use crate::stores::{located, python, scan_json, secrets};

/// The server, stopped when dropped. It runs in its own process group: `mlflow server` starts
/// uvicorn and job-queue consumers that outlive their parent, so the whole group is killed.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn stop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn start(dir: &Path) -> Option<Server> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let log = std::fs::File::create(dir.join("server.log")).ok()?;
    let child = Command::new("python3")
        .args([
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--workers",
            "1",
        ])
        .arg("--port")
        .arg(port.to_string())
        .arg("--backend-store-uri")
        .arg(format!("sqlite:///{}/mlflow.db", dir.display()))
        .arg("--default-artifact-root")
        .arg(dir.join("artifacts"))
        .current_dir(dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(log.try_clone().ok()?)
        .stderr(log)
        .spawn()
        .ok()?;
    let mut server = Server { child, port };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(300) {
        if let Ok(Some(_)) = server.child.try_wait() {
            return None;
        }
        if health(port) {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    server.stop();
    None
}

fn health(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!("GET /health HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200") || out.starts_with("HTTP/1.0 200")
}

fn scan(dir: &Path, url: &str, extra: &[&str]) -> (crate::common::Run, serde_json::Value) {
    let mut args = vec![url];
    args.extend_from_slice(extra);
    scan_json(dir, &args)
}

#[test]
fn mlflow_servers_are_swept_run_by_run_with_state_and_shards() {
    let t = TestDir::new();
    let required = std::env::var_os("FERRET_REQUIRE_TOOLS").is_some_and(|v| v == "1");
    if python(t.path(), "import mlflow", "python3 with mlflow").is_none() {
        return;
    }
    let Some(server) = start(t.path()) else {
        let log = std::fs::read_to_string(t.path().join("server.log")).unwrap_or_default();
        assert!(
            !required,
            "FERRET_REQUIRE_TOOLS=1 but mlflow server did not start:\n{log}"
        );
        eprintln!("SKIPPED: mlflow server did not start:\n{log}");
        return;
    };
    let url = format!("mlflow+http://127.0.0.1:{}", server.port);
    let mut g = Gen::new(194);
    let (gh, hf, slack, ant, gl, akia) = (
        g.github_pat(),
        g.huggingface(),
        g.slack_bot(),
        g.anthropic(),
        g.gitlab(),
        g.aws_key_id(),
    );
    let script = format!(
        r#"
import os, zipfile, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("http://127.0.0.1:{port}")
mlflow.set_experiment("fine-tune")
with mlflow.start_run(run_name="bright-fox", description="pushed with " + {hf:?}) as run:
    mlflow.log_param("git_token", {gh:?})
    mlflow.log_param("lr", "0.1")
    mlflow.set_tag("team", "nlp")
    mlflow.log_metric("loss", 0.5)
    os.makedirs("out/cfg", exist_ok=True)
    with open("out/cfg/train.yaml", "w") as f:
        f.write("epochs: 3\nslack_webhook_token: " + {slack:?} + "\n")
    with zipfile.ZipFile("out/bundle.zip", "w") as z:
        z.writestr("app/.env", "GITLAB_TOKEN=" + {gl:?} + "\n")
    mlflow.log_artifacts("out")
    first = run.info.run_id
with mlflow.start_run(run_name="quiet-owl") as run:
    mlflow.log_param("lr", "0.2")
    second = run.info.run_id
c = MlflowClient()
c.create_registered_model("tiny-llm", description="internal model")
c.create_model_version("tiny-llm", source="runs:/%s/cfg" % first, run_id=first,
                       description="rotated: " + {gl:?})
mlflow.genai.register_prompt(name="support-qa", template="Use key " + {ant:?} + " to answer {{{{question}}}}")
@mlflow.trace
def agent(q):
    return "done"
agent("call with " + {akia:?})
print(first, second)
"#,
        port = server.port
    );
    let Some(out) = python(t.path(), &script, "the mlflow client") else {
        return;
    };
    let ids: Vec<&str> = out.split_whitespace().collect();
    let (first, _second) = (ids[ids.len() - 2], ids[ids.len() - 1]);

    let (r, doc) = scan(t.path(), &url, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let run = format!("{url}/experiments/1/runs/{first} › experiment fine-tune › run bright-fox");
    let trace: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["origin"][0]["url"].as_str())
        .filter(|u| u.contains("/traces/"))
        .map(str::to_string)
        .collect();
    assert!(!trace.is_empty(), "no trace finding: {}", r.stdout);
    let trace_url = &trace[0];
    let trace_id = trace_url.rsplit('/').next().unwrap();
    let trace = format!("{trace_url} › experiment fine-tune › trace {trace_id}");
    let expected: BTreeSet<(String, String)> = [
        (
            format!("{run} › params › git_token:1:1"),
            "github.pat.classic",
        ),
        (
            format!("{run} › tags › mlflow.note.content:1:13"),
            "huggingface.token",
        ),
        (
            format!("{run} › artifacts/cfg/train.yaml:2:22"),
            "slack.bot-token",
        ),
        (
            format!("{run} › artifacts/bundle.zip › app/.env:1:14"),
            "gitlab.pat",
        ),
        (
            format!("{url}/models/tiny-llm/versions/1 › model tiny-llm v1 › description:1:10"),
            "gitlab.pat",
        ),
        (
            format!("{url}/prompts/support-qa/versions/1 › prompt support-qa v1 › template:1:9"),
            "anthropic.api-key",
        ),
        (
            format!("{trace} › metadata.mlflow.traceInputs:1:18"),
            "aws.access-key-id",
        ),
        (
            format!("{trace} › span agent › inputs:1:18"),
            "aws.access-key-id",
        ),
    ]
    .into_iter()
    .map(|(l, rule)| (l, rule.to_string()))
    .collect();
    assert_eq!(located(&doc), expected, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    let planted: BTreeSet<String> = [&gh, &hf, &slack, &ant, &gl, &akia]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(secrets(&doc), planted);
    // Items: 2 experiments, 2 runs, 1 model, 1 model version, 1 prompt version, 1 trace.
    assert_eq!(doc["summary"]["files"], 8, "{}", r.stderr);

    // Shards split the items: together they find everything, each item once.
    let mut union = BTreeSet::new();
    let mut items = 0;
    for k in 0..2 {
        let shard = format!("{k}/2");
        let (r, doc) = scan(t.path(), &url, &["--shard", &shard]);
        assert!(r.code <= 1, "{}", r.stderr);
        items += doc["summary"]["files"].as_u64().unwrap();
        for l in located(&doc) {
            assert!(union.insert(l), "found by both shards");
        }
    }
    assert_eq!(union, expected);
    assert_eq!(items, 8);

    // --state: the second sweep fetches nothing and reports the same findings; a new run is
    // the only item scanned by the third.
    let state = t.path().join("sweep.redb");
    let state = state.to_str().unwrap();
    let (r, doc) = scan(t.path(), &url, &["--state", state]);
    assert_eq!(located(&doc), expected, "{}", r.stderr);
    let (r, doc) = scan(t.path(), &url, &["--state", state]);
    assert_eq!(located(&doc), expected, "{}", r.stderr);
    assert_eq!(doc["summary"]["unchanged"], 8, "{}", r.stderr);
    assert_eq!(doc["summary"]["files"], 0);
    assert_eq!(doc["summary"]["bytes"], 0);
    let more = format!(
        r#"
import mlflow
mlflow.set_tracking_uri("http://127.0.0.1:{port}")
mlflow.set_experiment("fine-tune")
with mlflow.start_run(run_name="late-bat"):
    mlflow.log_param("note", "nothing to see")
"#,
        port = server.port
    );
    python(t.path(), &more, "the mlflow client").unwrap();
    let (r, doc) = scan(t.path(), &url, &["--state", state, "--only-new"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The experiment changed too (its last update time).
    assert!(
        doc["summary"]["files"].as_u64().unwrap() <= 2,
        "{}",
        r.stderr
    );
    assert!(doc["summary"]["unchanged"].as_u64().unwrap() >= 7);
    assert!(located(&doc).is_empty());

    // Credentials from MLflow's variables are sent (the server ignores them; a wrong URL is an
    // error, not a crash).
    let mut cmd = crate::common::ferret();
    cmd.current_dir(t.path())
        .env("MLFLOW_TRACKING_TOKEN", "not-a-secret")
        .args(["scan", "-f", "json", "mlflow+http://127.0.0.1:1"]);
    let r = crate::common::run(&mut cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("experiments"), "{}", r.stderr);
}

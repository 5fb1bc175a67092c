//! MLflow tracking servers as a source: `ferret scan mlflow+http://HOST:PORT` (or `mlflow+https`).
//!
//! A tracking server holds what teams log while they train and serve: run parameters and tags
//! (where `hf_token=…` and `--api-key …` land), run names and descriptions, artifacts (configs,
//! notebooks, checkpoints, datasets), registered models and their versions, the prompt
//! registry (templates people paste keys into) and traces of LLM applications and agents (span
//! inputs, outputs and attributes: the API keys agents pass around and the tokens users paste).
//! ferret reads them through the server's REST API, read-only:
//!
//! | item | listed with | scanned |
//! | --- | --- | --- |
//! | experiment | `experiments/search` | name, tags |
//! | run | `runs/search` per experiment | name, params, tags (the description is `mlflow.note.content`), dataset inputs, then every artifact (`artifacts/list`, downloaded through the server's `get-artifact` proxy and streamed into the expander, so an artifact is read as a file of its name would be: archives, notebooks, checkpoints, Parquet…) |
//! | registered model, model version | `registered-models/search`, `model-versions/search` | descriptions, tags, sources |
//! | prompt version | the same, filtered on `mlflow.prompt.is_prompt` | the template, tags, commit message |
//! | trace | `traces` per experiment | request metadata and tags (previews of inputs and outputs), then every span (`get-trace-artifact`): name, inputs, outputs, attributes, events |
//!
//! Each item is one unit of work for the driver: listing runs on the thread that feeds the
//! pool, items are scanned in parallel, and `--shard K/N` keeps the items whose path
//! (`experiments/1/runs/ID`) hashes to this shard. With `--state`, an item's version is a hash
//! of what the listing said about it (a run's info, params, tags and metrics; a version's
//! fields): an unchanged run is not fetched again (neither its artifacts), its findings are
//! replayed.
//!
//! Findings are rooted at the item (`mlflow+http://host:5000/experiments/1/runs/6511… ›
//! experiment fine-tune › run bright-fox › params › hf_token:1:1`, `… › artifacts/cfg/a.yaml:2:8`).
//!
//! Credentials come from the environment variables MLflow's own client reads:
//! `MLFLOW_TRACKING_TOKEN` (a bearer token), else `MLFLOW_TRACKING_USERNAME` and
//! `MLFLOW_TRACKING_PASSWORD` (basic authentication). `mlflow+http://` is plain HTTP as asked;
//! `mlflow+https://` uses rustls with the Mozilla roots.

use std::collections::VecDeque;
use std::io::Read;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::blob::{Origin, Segment};
use crate::expand::Expander;
use crate::expand::texts::Texts;
use crate::source::net::{self, NetLimits};

/// Items asked for per page of a listing.
const PAGE: usize = 1000;
/// The largest JSON answer read (64 MiB).
const MAX_JSON: u64 = 64 << 20;

/// Whether `s` names a tracking server (`mlflow+http://…`, `mlflow+https://…`).
pub fn is_mlflow_url(s: &str) -> bool {
    s.starts_with("mlflow+http://") || s.starts_with("mlflow+https://")
}

/// One thing of the server to scan.
#[derive(Debug, Clone)]
pub struct Item {
    /// The item's path on the server (`experiments/1/runs/ID`): what `--shard` hashes.
    pub path: String,
    kind: Kind,
    /// What the listing said about it.
    doc: Value,
}

#[derive(Debug, Clone)]
enum Kind {
    Experiment,
    Run { experiment: String },
    Model,
    Version { prompt: bool },
    Trace { experiment: String },
}

impl Item {
    /// This version of the item: a hash of what the listing said about it.
    pub fn version(&self) -> String {
        let bytes = serde_json::to_vec(&self.doc).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// What listing a server yields.
#[derive(Debug)]
pub enum Listed {
    /// An item to scan.
    Item(Item),
    /// A listing request failed: `what` could not be listed.
    Error {
        /// What could not be listed.
        what: String,
        /// Why.
        message: String,
    },
}

/// A tracking server for one scan.
#[derive(Debug)]
pub struct MlflowSource {
    /// The URL as given (`mlflow+http://host:5000`), without a trailing `/`.
    pub url: String,
    base: String,
    agent: ureq::Agent,
    auth: Option<String>,
    /// A server that never answered and timed out once is not asked again.
    silence: net::Silence,
}

impl MlflowSource {
    /// A client for `url` with the credentials of the environment and the deadlines of
    /// `limits`.
    pub fn new(url: &str, limits: &NetLimits) -> MlflowSource {
        let url = url.trim_end_matches('/').to_string();
        let base = url.strip_prefix("mlflow+").unwrap_or(&url).to_string();
        let auth = match std::env::var("MLFLOW_TRACKING_TOKEN") {
            Ok(t) if !t.is_empty() => Some(format!("Bearer {t}")),
            _ => match (
                std::env::var("MLFLOW_TRACKING_USERNAME"),
                std::env::var("MLFLOW_TRACKING_PASSWORD"),
            ) {
                (Ok(u), Ok(p)) => Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                )),
                _ => None,
            },
        };
        MlflowSource {
            url,
            base,
            agent: limits.agent(),
            auth,
            silence: net::Silence::default(),
        }
    }

    /// The HTTP agent: [`net::cancellable`] shuts it down when the scan stops.
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// The item's origin root (see [`Segment::Tracker`]).
    pub fn root(&self, item: &Item) -> Origin {
        Origin::new(Segment::Tracker {
            url: format!("{}/{}", self.url, item.path),
        })
    }

    /// The server's own origin, for problems that name no item.
    pub fn server(&self) -> Origin {
        Origin::new(Segment::Tracker {
            url: self.url.clone(),
        })
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let url = format!("{}/{path}", self.base);
        self.silence
            .check(&self.url)
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let resp = match body {
            Some(b) => {
                let mut req = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/json");
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.send(b.to_string().as_bytes())
            }
            None => {
                let mut req = self.agent.get(&url);
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
        };
        self.silence.note(&resp);
        let resp = resp.map_err(|e| format!("{method} {url}: {e}"))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .with_config()
            .limit(MAX_JSON)
            .read_to_vec()
            .map_err(|e| format!("{method} {url}: {e}"))?;
        if !(200..300).contains(&status) {
            let what = match status {
                401 => {
                    "unauthorized (set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD)"
                }
                403 => "forbidden",
                404 => "not found (is this an MLflow server, and of a version that has this API?)",
                _ => "failed",
            };
            return Err(format!("{method} {url}: HTTP {status}, {what}"));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{method} {url}: not JSON ({e})"))
    }

    fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, String> {
        let mut p = path.to_string();
        for (i, (k, v)) in query.iter().enumerate() {
            p.push(if i == 0 { '?' } else { '&' });
            p.push_str(k);
            p.push('=');
            p.push_str(&encode(v));
        }
        self.request("GET", &p, None)
    }

    /// Every item of the server, listed lazily, page by page.
    pub fn list(&self) -> impl Iterator<Item = Listed> + Send + '_ {
        let mut listing = Listing {
            src: self,
            tasks: VecDeque::from([
                Task::Experiments(None),
                Task::Models(None),
                Task::Prompts(None),
            ]),
            ready: VecDeque::new(),
        };
        std::iter::from_fn(move || listing.next())
    }

    /// Scans one item; returns the bytes of artifacts and spans downloaded.
    pub fn scan(&self, ex: &Expander<'_>, item: &Item) -> u64 {
        let root = self.root(item);
        let d = &item.doc;
        let mut texts = Texts::new(ex);
        let mut fetched = 0u64;
        match &item.kind {
            Kind::Experiment => {
                let o = root.child(experiment_segment(d));
                push_field(&mut texts, &o, "name", d.get("name"));
                push_pairs(&mut texts, &o, "tags", d.get("tags"));
                texts.finish();
            }
            Kind::Run { experiment } => {
                let info = &d["info"];
                let run_id = str_of(info.get("run_id").or_else(|| info.get("run_uuid")));
                let name = info
                    .get("run_name")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                let o = root
                    .child(Segment::Experiment {
                        id: str_of(info.get("experiment_id")),
                        name: experiment.clone(),
                    })
                    .child(Segment::Run {
                        id: run_id.clone(),
                        name: name.map(str::to_string),
                    });
                push_field(&mut texts, &o, "run_name", info.get("run_name"));
                let data = &d["data"];
                let params = o.child(record("params"));
                push_pairs_under(&mut texts, &params, data.get("params"));
                let tags = o.child(record("tags"));
                push_pairs_under(&mut texts, &tags, data.get("tags"));
                if let Some(inputs) = d.get("inputs").filter(|v| !is_empty(v)) {
                    let text = inputs.to_string();
                    texts.push(o.child(record("inputs")), b"", text.as_bytes(), b"");
                }
                texts.finish();
                fetched += self.artifacts(ex, &o, &run_id);
            }
            Kind::Model => {
                let name = str_of(d.get("name"));
                let o = root.child(Segment::Model {
                    name,
                    version: None,
                });
                push_field(&mut texts, &o, "description", d.get("description"));
                push_pairs(&mut texts, &o, "tags", d.get("tags"));
                texts.finish();
            }
            Kind::Version { prompt } => {
                let name = str_of(d.get("name"));
                let version = Some(str_of(d.get("version")));
                let o = root.child(if *prompt {
                    Segment::Prompt { name, version }
                } else {
                    Segment::Model { name, version }
                });
                push_field(&mut texts, &o, "description", d.get("description"));
                push_field(&mut texts, &o, "source", d.get("source"));
                if let Some(tags) = d.get("tags").and_then(Value::as_array) {
                    for t in tags {
                        let key = str_of(t.get("key"));
                        let path = match key.as_str() {
                            "mlflow.prompt.text" => "template".to_string(),
                            _ => format!("tags.{key}"),
                        };
                        push_field(&mut texts, &o, &path, t.get("value"));
                    }
                }
                texts.finish();
            }
            Kind::Trace { experiment } => {
                let id = str_of(d.get("request_id"));
                let o = root
                    .child(Segment::Experiment {
                        id: str_of(d.get("experiment_id")),
                        name: experiment.clone(),
                    })
                    .child(Segment::Trace { id: id.clone() });
                push_pairs(&mut texts, &o, "metadata", d.get("request_metadata"));
                push_pairs(&mut texts, &o, "tags", d.get("tags"));
                match self.get(
                    "ajax-api/2.0/mlflow/get-trace-artifact",
                    &[("request_id", &id)],
                ) {
                    Ok(spans) => {
                        fetched += spans.to_string().len() as u64;
                        push_spans(&mut texts, &o, &spans);
                    }
                    Err(e) => ex.sink.error(&o, format!("spans not read: {e}")),
                }
                texts.finish();
            }
        }
        fetched
    }

    /// Every artifact of a run, listed folder by folder and streamed into the expander.
    fn artifacts(&self, ex: &Expander<'_>, run: &Origin, run_id: &str) -> u64 {
        let mut fetched = 0;
        let mut folders = vec![String::new()];
        let mut listed = 0usize;
        while let Some(folder) = folders.pop() {
            let mut query = vec![("run_id", run_id)];
            if !folder.is_empty() {
                query.push(("path", folder.as_str()));
            }
            let page = match self.get("api/2.0/mlflow/artifacts/list", &query) {
                Ok(p) => p,
                Err(e) => {
                    ex.sink.error(run, format!("artifacts not listed: {e}"));
                    continue;
                }
            };
            for f in page
                .get("files")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let path = str_of(f.get("path"));
                if path.is_empty() {
                    continue;
                }
                listed += 1;
                if listed > ex.budget.max_entries as usize {
                    ex.sink.over_budget(
                        run,
                        format!(
                            "more than {} artifacts: the rest not read",
                            ex.budget.max_entries
                        ),
                    );
                    return fetched;
                }
                if f.get("is_dir").and_then(Value::as_bool) == Some(true) {
                    folders.push(path);
                    continue;
                }
                if ex.sink.stopped() {
                    return fetched;
                }
                let o = run.child(Segment::Artifact { path: path.clone() });
                let size = f.get("file_size").and_then(Value::as_u64);
                fetched += self.artifact(ex, &o, run_id, &path, size);
            }
        }
        fetched
    }

    /// Streams one artifact through the server's proxy into the expander: at most the `size`
    /// its listing declares, when it declares one.
    fn artifact(
        &self,
        ex: &Expander<'_>,
        origin: &Origin,
        run_id: &str,
        path: &str,
        size: Option<u64>,
    ) -> u64 {
        let url = format!(
            "{}/get-artifact?path={}&run_uuid={}",
            self.base,
            encode(path),
            encode(run_id)
        );
        let mut req = self.agent.get(&url);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        if let Err(e) = self.silence.check(&self.url) {
            ex.sink.error(origin, format!("GET {url}: {e}"));
            return 0;
        }
        let resp = req.call();
        self.silence.note(&resp);
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                ex.sink.error(origin, format!("GET {url}: {e}"));
                return 0;
            }
        };
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            ex.sink.error(origin, format!("GET {url}: HTTP {status}"));
            return 0;
        }
        let body: Box<dyn Read> = match size {
            Some(n) => Box::new(net::Declared::new(
                resp.into_body().into_reader(),
                n,
                "its listing",
            )),
            None => Box::new(resp.into_body().into_reader()),
        };
        let mut reader = Counted { inner: body, n: 0 };
        ex.input_stream(&mut reader, origin.clone());
        // Drain what the expander did not need (within the declared size), so the count is the
        // whole artifact and a body longer than declared is reported.
        if !ex.sink.stopped()
            && let Err(e) = std::io::copy(&mut reader, &mut std::io::sink())
        {
            ex.sink.error(origin, e.to_string());
        }
        reader.n
    }
}

struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// A listing still to do.
#[derive(Debug)]
enum Task {
    Experiments(Option<String>),
    Runs {
        id: String,
        name: String,
        token: Option<String>,
    },
    Traces {
        id: String,
        name: String,
        token: Option<String>,
    },
    Models(Option<String>),
    Prompts(Option<String>),
    Versions {
        name: String,
        prompt: bool,
        token: Option<String>,
    },
}

struct Listing<'s> {
    src: &'s MlflowSource,
    tasks: VecDeque<Task>,
    ready: VecDeque<Listed>,
}

impl Listing<'_> {
    fn next(&mut self) -> Option<Listed> {
        loop {
            if let Some(l) = self.ready.pop_front() {
                return Some(l);
            }
            let task = self.tasks.pop_front()?;
            if let Err((what, message)) = self.run(task) {
                self.ready.push_back(Listed::Error { what, message });
            }
        }
    }

    fn item(&mut self, path: String, kind: Kind, doc: Value) {
        self.ready.push_back(Listed::Item(Item { path, kind, doc }));
    }

    fn run(&mut self, task: Task) -> Result<(), (String, String)> {
        let src = self.src;
        let page = PAGE.to_string();
        match task {
            Task::Experiments(token) => {
                let mut body = json!({"max_results": PAGE, "view_type": "ALL"});
                if let Some(t) = &token {
                    body["page_token"] = json!(t);
                }
                let v = src
                    .request("POST", "api/2.0/mlflow/experiments/search", Some(&body))
                    .map_err(|e| ("experiments".to_string(), e))?;
                let mut later = Vec::new();
                for e in array(&v, "experiments") {
                    let id = str_of(e.get("experiment_id"));
                    let name = str_of(e.get("name"));
                    self.item(format!("experiments/{id}"), Kind::Experiment, e.clone());
                    later.push(Task::Runs {
                        id: id.clone(),
                        name: name.clone(),
                        token: None,
                    });
                    later.push(Task::Traces {
                        id,
                        name,
                        token: None,
                    });
                }
                if let Some(t) = next_token(&v) {
                    later.push(Task::Experiments(Some(t)));
                }
                // Runs and traces of these experiments before the registry.
                for t in later.into_iter().rev() {
                    self.tasks.push_front(t);
                }
            }
            Task::Runs { id, name, token } => {
                let mut body = json!({
                    "experiment_ids": [id],
                    "max_results": PAGE,
                    "run_view_type": "ALL",
                });
                if let Some(t) = &token {
                    body["page_token"] = json!(t);
                }
                let v = src
                    .request("POST", "api/2.0/mlflow/runs/search", Some(&body))
                    .map_err(|e| (format!("runs of experiment {id}"), e))?;
                for r in array(&v, "runs") {
                    let info = &r["info"];
                    let run_id = str_of(info.get("run_id").or_else(|| info.get("run_uuid")));
                    self.item(
                        format!("experiments/{id}/runs/{run_id}"),
                        Kind::Run {
                            experiment: name.clone(),
                        },
                        r.clone(),
                    );
                }
                if let Some(t) = next_token(&v) {
                    self.tasks.push_front(Task::Runs {
                        id,
                        name,
                        token: Some(t),
                    });
                }
            }
            Task::Traces { id, name, token } => {
                // The traces API pages by at most 500.
                let mut query = vec![("experiment_ids", id.as_str()), ("max_results", "100")];
                if let Some(t) = &token {
                    query.push(("page_token", t));
                }
                let v = match src.get("api/2.0/mlflow/traces", &query) {
                    Ok(v) => v,
                    // Servers before tracing (MLflow < 2.14) have no traces to list.
                    Err(e) if e.contains("HTTP 404") => return Ok(()),
                    Err(e) => return Err((format!("traces of experiment {id}"), e)),
                };
                for t in array(&v, "traces") {
                    let trace_id = str_of(t.get("request_id"));
                    self.item(
                        format!("experiments/{id}/traces/{trace_id}"),
                        Kind::Trace {
                            experiment: name.clone(),
                        },
                        t.clone(),
                    );
                }
                if let Some(t) = next_token(&v) {
                    self.tasks.push_front(Task::Traces {
                        id,
                        name,
                        token: Some(t),
                    });
                }
            }
            Task::Models(token) => {
                let mut query = vec![("max_results", page.as_str())];
                if let Some(t) = &token {
                    query.push(("page_token", t));
                }
                let v = src
                    .get("api/2.0/mlflow/registered-models/search", &query)
                    .map_err(|e| ("registered models".to_string(), e))?;
                for m in array(&v, "registered_models") {
                    let name = str_of(m.get("name"));
                    let mut doc = m.clone();
                    // Versions are items of their own.
                    if let Some(o) = doc.as_object_mut() {
                        o.remove("latest_versions");
                    }
                    self.item(format!("models/{name}"), Kind::Model, doc);
                    self.tasks.push_front(Task::Versions {
                        name,
                        prompt: false,
                        token: None,
                    });
                }
                if let Some(t) = next_token(&v) {
                    self.tasks.push_back(Task::Models(Some(t)));
                }
            }
            Task::Prompts(token) => {
                let filter = "tags.`mlflow.prompt.is_prompt` = 'true'";
                let mut query = vec![("max_results", page.as_str()), ("filter", filter)];
                if let Some(t) = &token {
                    query.push(("page_token", t));
                }
                let v = src
                    .get("api/2.0/mlflow/registered-models/search", &query)
                    .map_err(|e| ("prompts".to_string(), e))?;
                for m in array(&v, "registered_models") {
                    self.tasks.push_front(Task::Versions {
                        name: str_of(m.get("name")),
                        prompt: true,
                        token: None,
                    });
                }
                if let Some(t) = next_token(&v) {
                    self.tasks.push_back(Task::Prompts(Some(t)));
                }
            }
            Task::Versions {
                name,
                prompt,
                token,
            } => {
                let quoted = name.replace('\'', "\\'");
                let filter = if prompt {
                    format!("name='{quoted}' AND tags.`mlflow.prompt.is_prompt` = 'true'")
                } else {
                    format!("name='{quoted}'")
                };
                let mut query = vec![("filter", filter.as_str()), ("max_results", page.as_str())];
                if let Some(t) = &token {
                    query.push(("page_token", t));
                }
                let v = src
                    .get("api/2.0/mlflow/model-versions/search", &query)
                    .map_err(|e| (format!("versions of {name}"), e))?;
                let kind = if prompt { "prompts" } else { "models" };
                for m in array(&v, "model_versions") {
                    let version = str_of(m.get("version"));
                    self.item(
                        format!("{kind}/{name}/versions/{version}"),
                        Kind::Version { prompt },
                        m.clone(),
                    );
                }
                if let Some(t) = next_token(&v) {
                    self.tasks.push_front(Task::Versions {
                        name,
                        prompt,
                        token: Some(t),
                    });
                }
            }
        }
        Ok(())
    }
}

fn array<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn next_token(v: &Value) -> Option<String> {
    v.get("next_page_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn str_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.values().all(is_empty),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn record(name: &str) -> Segment {
    Segment::Record {
        name: name.into(),
        step: None,
    }
}

fn experiment_segment(d: &Value) -> Segment {
    Segment::Experiment {
        id: str_of(d.get("experiment_id")),
        name: str_of(d.get("name")),
    }
}

/// A text field as `path = value`, named `› path`.
fn push_field(texts: &mut Texts<'_, '_>, origin: &Origin, path: &str, v: Option<&Value>) {
    let text = str_of(v);
    if text.is_empty() {
        return;
    }
    let o = origin.child(Segment::Key {
        path: path.to_string(),
    });
    texts.push(o, format!("{path} = ").as_bytes(), text.as_bytes(), b"");
}

/// `[{key, value}]` (or `{key: value}`) pairs as `prefix.key = value`.
fn push_pairs(texts: &mut Texts<'_, '_>, origin: &Origin, prefix: &str, v: Option<&Value>) {
    for (k, val) in pairs(v) {
        push_field(texts, origin, &format!("{prefix}.{k}"), Some(&val));
    }
}

/// Pairs under a record segment (`params › hf_token`).
fn push_pairs_under(texts: &mut Texts<'_, '_>, record: &Origin, v: Option<&Value>) {
    for (k, val) in pairs(v) {
        push_field(texts, record, &k, Some(&val));
        // A key can hold text too (a param named after a token).
        if !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
        {
            let o = record.child(Segment::Key { path: k.clone() });
            texts.push(o, b"", k.as_bytes(), b"");
        }
    }
}

fn pairs(v: Option<&Value>) -> Vec<(String, Value)> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .map(|p| {
                (
                    str_of(p.get("key")),
                    p.get("value").cloned().unwrap_or(Value::Null),
                )
            })
            .collect(),
        Some(Value::Object(o)) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => Vec::new(),
    }
}

/// The spans of a trace (`{"spans": [...]}`): name, inputs, outputs, other attributes,
/// events, status message.
fn push_spans(texts: &mut Texts<'_, '_>, trace: &Origin, doc: &Value) {
    for span in array(doc, "spans") {
        let o = trace.child(Segment::Span {
            name: str_of(span.get("name")),
            id: str_of(span.get("span_id")),
        });
        for (k, v) in pairs(span.get("attributes")) {
            let path = match k.as_str() {
                "mlflow.spanInputs" => "inputs".to_string(),
                "mlflow.spanOutputs" => "outputs".to_string(),
                _ => format!("attributes.{k}"),
            };
            push_field(texts, &o, &path, Some(&v));
        }
        for (i, e) in array(span, "events").enumerate() {
            let text = e.to_string();
            let k = o.child(Segment::Key {
                path: format!("events[{i}]"),
            });
            texts.push(k, b"", text.as_bytes(), b"");
        }
        if let Some(m) = span.get("status").and_then(|s| s.get("message")) {
            push_field(texts, &o, "status", Some(m));
        }
    }
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_encoding() {
        assert!(is_mlflow_url("mlflow+http://127.0.0.1:5000"));
        assert!(is_mlflow_url("mlflow+https://mlflow.example"));
        assert!(!is_mlflow_url("http://127.0.0.1:5000"));
        let s = MlflowSource::new("mlflow+http://127.0.0.1:5000/", &NetLimits::default());
        assert_eq!(s.url, "mlflow+http://127.0.0.1:5000");
        assert_eq!(s.base, "http://127.0.0.1:5000");
        assert_eq!(encode("name='a b'"), "name%3D%27a%20b%27");
        assert_eq!(encode("cfg/sub/a.yaml"), "cfg/sub/a.yaml");
    }
}

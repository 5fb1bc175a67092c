//! What kind of artifact a finding sits in: a git commit, an image layer, a checkpoint, a
//! notebook cell, a log line, an archive entry, a config or source file.
//!
//! A responder rotates the secret once but cleans up every kind of place it reached
//! differently: history is rewritten, images rebuilt and purged from registries, checkpoints
//! re-exported, notebook outputs cleared, logs purged. The blast radius ([`super::radius`])
//! counts places by this kind.
//!
//! The kind is derived from the finding's [`Origin`] chain, read in its serialized form (an
//! array of `{"kind": …, …}` objects). That form is the same whether the finding comes straight
//! from a scan or from a JSON result read back by `ferret report`, and it lets segment kinds
//! that this module has never heard of fall through to the file-extension rules instead of
//! breaking anything: a segment is recognized by words in its `kind` tag (`commit`, `layer`,
//! `cell`, `pickle`…) and by the extension of the innermost name it carries (`path`, `name`,
//! `entry`, `file`). Decoded views (base64, JSON escapes) carry no name and change nothing.
//!
//! The order of the checks is the order of what a responder must clean up first: a secret in a
//! log file committed to git is a *commit* (history must be rewritten); a `.env` inside an image
//! layer is an *image layer*; a log inside a tarball is a *log*.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::blob::{Origin, Segment};

/// The kind of place a secret reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// A git commit (history).
    Commit,
    /// A container image: a layer's file, or the image config (`Env`, history).
    ImageLayer,
    /// A model checkpoint: pickle strings, safetensors or GGUF metadata.
    Checkpoint,
    /// A notebook cell (source or output).
    Notebook,
    /// A log line (training logs, JSON-lines request logs).
    Log,
    /// An entry of an archive (tar, zip, wheel) that is none of the above.
    Archive,
    /// A configuration file (`.env`, YAML, TOML, JSON, INI).
    Config,
    /// Source code.
    Code,
    /// Standard input.
    Stdin,
    /// Any other file.
    File,
}

impl ArtifactKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ArtifactKind; 10] = [
        ArtifactKind::Commit,
        ArtifactKind::ImageLayer,
        ArtifactKind::Checkpoint,
        ArtifactKind::Notebook,
        ArtifactKind::Log,
        ArtifactKind::Archive,
        ArtifactKind::Config,
        ArtifactKind::Code,
        ArtifactKind::Stdin,
        ArtifactKind::File,
    ];

    /// The snake_case name used in JSON and on the command line (`image_layer`).
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Commit => "commit",
            ArtifactKind::ImageLayer => "image_layer",
            ArtifactKind::Checkpoint => "checkpoint",
            ArtifactKind::Notebook => "notebook",
            ArtifactKind::Log => "log",
            ArtifactKind::Archive => "archive",
            ArtifactKind::Config => "config",
            ArtifactKind::Code => "code",
            ArtifactKind::Stdin => "stdin",
            ArtifactKind::File => "file",
        }
    }

    /// A label for people (`image layer`).
    pub fn label(self) -> &'static str {
        match self {
            ArtifactKind::Commit => "git commit",
            ArtifactKind::ImageLayer => "image layer",
            ArtifactKind::Checkpoint => "checkpoint",
            ArtifactKind::Notebook => "notebook cell",
            ArtifactKind::Log => "log line",
            ArtifactKind::Archive => "archive entry",
            ArtifactKind::Config => "config file",
            ArtifactKind::Code => "source file",
            ArtifactKind::Stdin => "stdin line",
            ArtifactKind::File => "other file",
        }
    }

    /// The kind named `s` (as [`ArtifactKind::as_str`] writes it).
    pub fn parse(s: &str) -> Option<ArtifactKind> {
        ArtifactKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind of place an origin chain points at.
    pub fn of_origin(origin: &Origin) -> ArtifactKind {
        match plain_segments(origin) {
            Some(segs) => classify(&segs),
            None => ArtifactKind::of_segments(&segments_json(origin)),
        }
    }

    /// The kind of place a serialized origin chain (outermost first) points at.
    pub fn of_segments(segments: &[Value]) -> ArtifactKind {
        classify(&read_segments(segments))
    }
}

/// What classification reads of one segment: its kind tag and the name it carries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seg<'a> {
    kind: &'a str,
    name: Option<&'a str>,
}

fn read_segments(segments: &[Value]) -> Vec<Seg<'_>> {
    segments
        .iter()
        .map(|v| Seg {
            kind: v.get("kind").and_then(Value::as_str).unwrap_or(""),
            name: segment_name(v),
        })
        .collect()
}

/// The segments of a chain of files and stdin, read without serializing; `None` when the chain
/// has other segments (their fields are read from the serialized form).
pub(crate) fn plain_segments(origin: &Origin) -> Option<Vec<Seg<'_>>> {
    origin
        .segments()
        .into_iter()
        .map(|s| match s {
            Segment::File { path } => Some(Seg {
                kind: "file",
                name: Some(path.as_str()),
            }),
            Segment::Stdin => Some(Seg {
                kind: "stdin",
                name: None,
            }),
            #[allow(unreachable_patterns)]
            _ => None,
        })
        .collect()
}

/// Whether `haystack` contains `word`, ignoring ASCII case.
fn contains_word(haystack: &str, word: &str) -> bool {
    haystack
        .as_bytes()
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

pub(crate) fn classify(segments: &[Seg<'_>]) -> ArtifactKind {
    let has = |words: &[&str]| {
        segments
            .iter()
            .any(|s| words.iter().any(|w| contains_word(s.kind, w)))
    };
    if has(&["commit", "git"]) {
        return ArtifactKind::Commit;
    }
    if has(&["layer", "image", "oci", "docker"]) {
        return ArtifactKind::ImageLayer;
    }
    let mut names = segments.iter().filter_map(|s| s.name);
    if has(&["pickle", "safetensors", "gguf", "checkpoint", "tensor"])
        || names.clone().any(is_checkpoint_name)
    {
        return ArtifactKind::Checkpoint;
    }
    if has(&["cell", "notebook"])
        || names
            .clone()
            .any(|n| extension(n).eq_ignore_ascii_case("ipynb"))
    {
        return ArtifactKind::Notebook;
    }
    let count = names.clone().count();
    let innermost = names.next_back();
    if innermost.is_some_and(is_log_name) {
        return ArtifactKind::Log;
    }
    if count > 1 || has(&["entry", "archive", "tar", "zip", "member"]) {
        return ArtifactKind::Archive;
    }
    match innermost {
        Some(n) if is_config_name(n) => ArtifactKind::Config,
        Some(n) if is_code_name(n) => ArtifactKind::Code,
        Some(_) => ArtifactKind::File,
        None if has(&["stdin"]) => ArtifactKind::Stdin,
        None => ArtifactKind::File,
    }
}

/// Whether a place is a log line, whose timestamp may be read from its line: the innermost
/// named file is a log (wherever it sits: inside a layer or a commit too), or it is stdin.
pub(crate) fn is_log_line(segments: &[Seg<'_>]) -> bool {
    match segments.iter().filter_map(|s| s.name).next_back() {
        Some(name) => is_log_name(name),
        None => segments.iter().any(|s| contains_word(s.kind, "stdin")),
    }
}

/// `is_log_line` for a serialized origin chain.
pub fn is_log_segments(segments: &[Value]) -> bool {
    is_log_line(&read_segments(segments))
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The segments of an origin in their JSON form, outermost first.
pub fn segments_json(origin: &Origin) -> Vec<Value> {
    origin
        .segments()
        .into_iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect()
}

/// A segment's `kind` tag, lowercase (`""` when it has none).
pub fn segment_kind(segment: &Value) -> String {
    segment
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Fields that hold the name of a file, entry or member, in order of preference.
const NAME_FIELDS: [&str; 5] = ["path", "name", "entry", "file", "filename"];

/// The file name a segment carries, if any.
pub fn segment_name(segment: &Value) -> Option<&str> {
    NAME_FIELDS
        .iter()
        .find_map(|f| segment.get(f).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// Fields that identify a segment that is not a file, in the order a label shows them.
const ID_FIELDS: [&str; 8] = [
    "index", "digest", "id", "commit", "sha", "part", "key", "encoding",
];

/// A short label for a serialized segment: a file's path, `<stdin>`, or the segment's kind
/// and what identifies it (`layer 2 sha256:ab12cd34ef56…`, `cell 3 source`). Segment kinds
/// this module does not know are labelled from their fields, so nothing is ever unlabelled.
pub fn segment_label(segment: &Value) -> String {
    let kind = segment_kind(segment);
    let name = segment_name(segment);
    match (kind.as_str(), name) {
        ("file", Some(path)) => return path.to_string(),
        ("stdin", _) => return "<stdin>".to_string(),
        _ => {}
    }
    let mut parts: Vec<String> = vec![if kind.is_empty() {
        "segment".into()
    } else {
        kind
    }];
    let scalar = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(shorten(s, 24)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let fields: Vec<String> = ID_FIELDS
        .iter()
        .filter_map(|f| segment.get(f).and_then(scalar))
        .collect();
    if fields.is_empty() {
        // Unknown shape: every scalar field but the tag, in key order.
        if let Some(obj) = segment.as_object() {
            parts.extend(
                obj.iter()
                    .filter(|(k, _)| k.as_str() != "kind" && !NAME_FIELDS.contains(&k.as_str()))
                    .filter_map(|(_, v)| scalar(v)),
            );
        }
    } else {
        parts.extend(fields);
    }
    if let Some(name) = name {
        parts.push(name.to_string());
    }
    parts.join(" ")
}

/// `s` cut to `max` characters with an ellipsis.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('\u{2026}');
        out
    }
}

/// An origin chain's label, as reports print origins: segment labels joined by ` › `.
pub fn origin_label(segments: &[Value]) -> String {
    segments
        .iter()
        .map(segment_label)
        .collect::<Vec<_>>()
        .join(" \u{203a} ")
}

/// The extension of the last component of `name` (`""` when none), as written.
fn extension(name: &str) -> &str {
    let base = base_name(name);
    match base.rfind('.') {
        Some(i) if i > 0 => &base[i + 1..],
        _ => "",
    }
}

/// Whether the extension of `name` is one of `list` (lowercase), ignoring case.
fn has_extension(name: &str, list: &[&str]) -> bool {
    let ext = extension(name);
    list.iter().any(|e| ext.eq_ignore_ascii_case(e))
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

fn is_checkpoint_name(name: &str) -> bool {
    has_extension(
        name,
        &[
            "pt",
            "pth",
            "ckpt",
            "safetensors",
            "gguf",
            "ggml",
            "pkl",
            "pickle",
            "joblib",
            "h5",
            "hdf5",
            "keras",
            "onnx",
            "npz",
            "msgpack",
        ],
    )
}

fn is_log_name(name: &str) -> bool {
    let base = base_name(name);
    has_extension(name, &["log", "jsonl", "ndjson", "out", "err"])
        || contains_word(base, ".log.")
        || ["stdout", "stderr", "output"]
            .iter()
            .any(|b| base.eq_ignore_ascii_case(b))
        || name
            .split(['/', '\\'])
            .rev()
            .skip(1)
            .any(|dir| dir.eq_ignore_ascii_case("logs") || dir.eq_ignore_ascii_case("log"))
}

fn is_config_name(name: &str) -> bool {
    let base = base_name(name);
    let starts = |p: &str| {
        base.len() >= p.len() && base.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    };
    starts(".env")
        || has_extension(name, &["env"])
        || [
            ".npmrc",
            ".pypirc",
            ".netrc",
            ".dockercfg",
            ".git-credentials",
            ".htpasswd",
            "credentials",
            "config",
            "dockerfile",
            "docker-compose.yml",
        ]
        .iter()
        .any(|b| base.eq_ignore_ascii_case(b))
        || has_extension(
            name,
            &[
                "yaml",
                "yml",
                "toml",
                "json",
                "ini",
                "cfg",
                "conf",
                "config",
                "properties",
                "tfvars",
                "xml",
                "plist",
            ],
        )
}

fn is_code_name(name: &str) -> bool {
    has_extension(
        name,
        &[
            "py", "ipy", "pyi", "r", "jl", "scala", "java", "kt", "go", "rs", "js", "mjs", "cjs",
            "ts", "tsx", "jsx", "rb", "php", "sh", "bash", "zsh", "ps1", "c", "cc", "cpp", "h",
            "hpp", "cs", "swift", "lua", "pl", "sql", "tf", "hcl", "gradle", "groovy", "mk",
        ],
    ) || ["Makefile", "Justfile", "Jenkinsfile"].contains(&base_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(segments: Value) -> ArtifactKind {
        ArtifactKind::of_segments(segments.as_array().expect("array"))
    }

    #[test]
    fn plain_files_by_extension() {
        let file = |p: &str| kind(json!([{"kind": "file", "path": p}]));
        assert_eq!(file("deploy/app.env"), ArtifactKind::Config);
        assert_eq!(file(".env.production"), ArtifactKind::Config);
        assert_eq!(file("conf/settings.YAML"), ArtifactKind::Config);
        assert_eq!(file("train.py"), ArtifactKind::Code);
        assert_eq!(file("logs/train.log"), ArtifactKind::Log);
        assert_eq!(file("requests.jsonl"), ArtifactKind::Log);
        assert_eq!(file("runs/logs/worker-3"), ArtifactKind::Log);
        assert_eq!(file("eda.ipynb"), ArtifactKind::Notebook);
        assert_eq!(file("model.safetensors"), ArtifactKind::Checkpoint);
        assert_eq!(file("notes.txt"), ArtifactKind::File);
        assert_eq!(file("README"), ArtifactKind::File);
        assert_eq!(kind(json!([{"kind": "stdin"}])), ArtifactKind::Stdin);
        let o = Origin::file("a/b.toml");
        assert_eq!(ArtifactKind::of_origin(&o), ArtifactKind::Config);
        assert_eq!(
            ArtifactKind::of_origin(&Origin::stdin()),
            ArtifactKind::Stdin
        );
    }

    #[test]
    fn containers_outrank_the_file_inside() {
        // Segment kinds this crate does not define yet are read by their words.
        let layer = json!([
            {"kind": "file", "path": "dist/app.tar"},
            {"kind": "layer", "digest": "sha256:ab12", "index": 2},
            {"kind": "entry", "path": "app/.env"}
        ]);
        assert_eq!(kind(layer), ArtifactKind::ImageLayer);
        let commit = json!([
            {"kind": "git_commit", "id": "0123abcd", "date": "2024-05-01T12:00:00Z"},
            {"kind": "file", "path": "logs/train.log"}
        ]);
        assert_eq!(kind(commit), ArtifactKind::Commit);
        let pickle = json!([
            {"kind": "file", "path": "model.pt"},
            {"kind": "entry", "path": "archive/data.pkl"},
            {"kind": "pickle", "key": "config.token"}
        ]);
        assert_eq!(kind(pickle), ArtifactKind::Checkpoint);
        let cell = json!([
            {"kind": "file", "path": "eda.ipynb"},
            {"kind": "cell", "index": 3, "part": "source"},
            {"kind": "decoded", "encoding": "json"}
        ]);
        assert_eq!(kind(cell), ArtifactKind::Notebook);
        let log_in_tar = json!([
            {"kind": "file", "path": "bundle.tar.gz"},
            {"kind": "gzip"},
            {"kind": "entry", "path": "var/log/app.log"}
        ]);
        assert_eq!(kind(log_in_tar), ArtifactKind::Log);
        let conf_in_zip = json!([
            {"kind": "file", "path": "dist.zip"},
            {"kind": "entry", "path": "pkg/settings.yaml"}
        ]);
        assert_eq!(kind(conf_in_zip), ArtifactKind::Archive);
        // Something entirely new still gets a kind.
        let odd = json!([{"kind": "s3_object", "bucket": "b", "key": "k"}]);
        assert_eq!(kind(odd), ArtifactKind::File);
    }

    #[test]
    fn labels_for_known_and_unknown_segments() {
        let o = Origin::file("dist/app.tar");
        assert_eq!(origin_label(&segments_json(&o)), o.to_string());
        let chain = json!([
            {"kind": "file", "path": "dist/app.tar"},
            {"kind": "layer", "index": 2, "digest": "sha256:0123456789abcdef0123456789abcdef"},
            {"kind": "entry", "path": "app/.env"},
            {"kind": "s3_object", "bucket": "b", "region": "eu"}
        ]);
        assert_eq!(
            origin_label(chain.as_array().unwrap()),
            "dist/app.tar \u{203a} layer 2 sha256:0123456789abcdef… \u{203a} entry app/.env \u{203a} s3_object b eu"
        );
        assert_eq!(segment_label(&json!({"kind": "stdin"})), "<stdin>");
    }

    #[test]
    fn names_round_trip() {
        for k in ArtifactKind::ALL {
            assert_eq!(ArtifactKind::parse(k.as_str()), Some(k));
            assert_eq!(json!(k), json!(k.as_str()));
        }
    }
}

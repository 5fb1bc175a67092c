//! Where a blob came from: a chain of segments, outermost first.
//!
//! `dist/app.tar › image app:1.0 › layer 2 sha256:ab12cd34ef56 › app/.env` is four segments: the
//! file on disk, an image in it, a layer of the image, an entry inside the layer. Text shows
//! digests short; JSON carries every segment in full (`{"kind": "layer", "index": 2, "digest":
//! "sha256:…", "created_by": "…"}`). Chains share their prefixes (`Arc`), so the thousand
//! entries of one archive cost one copy of the archive's path. Every finding carries its
//! origin; reports print it with [`std::fmt::Display`] and serialize it as an array of segments.
//!
//! Blobs read from git start with a git segment: [`Segment::Commit`] (with the author and date a
//! responder needs) or [`Segment::Staged`] (the index, before a commit exists), followed by the
//! file's path in the repository: `0a1b2c3d4e5f (Jane Doe, 2024-05-01) › config/app.env:3:17`.
//! [`Origin::file_location`] gives reports the path that line and column refer to either way.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One step of an origin chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Segment {
    /// A file on disk, as the user named it or as the walk found it.
    File {
        /// The path, relative when the user gave a relative root.
        path: String,
    },
    /// Standard input.
    Stdin,
    /// An object in a bucket, named by its URL (`s3://bucket/key`, `gs://…`, `az://…`).
    Object {
        /// The object's URL.
        url: String,
    },
    /// A member of an archive (tar, zip), by its path inside the archive, as written there
    /// (`../x` and absolute paths are reported as they are; nothing is ever extracted).
    Entry {
        /// The member's path.
        path: String,
    },
    /// The decompressed content of a compressed stream (`app.log.gz`), when it is scanned as
    /// text; lines and columns after it count in the decompressed bytes.
    Decompressed {
        /// `gzip`, `zstd`, `bzip2`, `xz`.
        format: String,
    },
    /// A part of a Jupyter notebook cell: its source or one of its text outputs, scanned as the
    /// text a person sees (JSON escapes undone, ANSI codes removed). Lines and columns after it
    /// count in that text. `index` and `output` are 0-based positions in the notebook's
    /// `cells` and the cell's `outputs` arrays, as in the file.
    Cell {
        /// Position of the cell in `cells`.
        index: usize,
        /// Which part of the cell.
        #[serde(flatten)]
        part: CellPart,
    },
    /// A string or bytes constant inside a Python pickle (a PyTorch checkpoint's `data.pkl`,
    /// a `.pkl`, a `.joblib`), by the dictionary keys, attributes and list positions that lead
    /// to it from the pickled object (`hyper_parameters.wandb_api_key`). Lines and columns
    /// after it count in the string.
    Pickle {
        /// The key path (empty for the pickled object itself or a string with no known place).
        path: String,
    },
    /// A metadata value of a model file (safetensors `__metadata__`, GGUF key/values, ONNX
    /// `metadata_props`, doc strings and names), by its key. Lines and columns after it count
    /// in the value.
    Metadata {
        /// `safetensors`, `gguf`, `onnx`.
        format: String,
        /// The key path (`__metadata__.hub_token`, `general.url`, `graph.node[3].name`).
        key: String,
    },
    /// A git commit; the next segment is the file's path in it.
    Commit {
        /// The full commit id (hex).
        id: String,
        /// The author's name.
        author: String,
        /// The author's email address.
        email: String,
        /// When the commit was authored, RFC 3339 with the author's UTC offset.
        date: String,
    },
    /// The git index (staged changes, not yet committed); the next segment is the file's path.
    Staged,
    /// An image pulled from a registry, as the user named it (`oci://host:5000/app:1.0`): the
    /// root of the chain, as a file would be.
    Registry {
        /// The URL as given.
        url: String,
    },
    /// A container image: a `docker save` tarball or an OCI layout holds one or more, a
    /// registry reference names one per platform.
    Image {
        /// `repo:tag` where the image says it (docker-save `RepoTags`, OCI ref-name annotations,
        /// the registry reference).
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// The manifest's digest, where known (OCI layouts, registries).
        #[serde(skip_serializing_if = "Option::is_none")]
        digest: Option<String>,
        /// `os/arch[/variant]` of a multi-platform image's member.
        #[serde(skip_serializing_if = "Option::is_none")]
        platform: Option<String>,
    },
    /// One layer of an image. Entries below it are paths inside the layer's tar.
    Layer {
        /// 1-based position, base layer first (the order in which layers are applied).
        index: usize,
        /// The digest of the uncompressed layer tar (the config's `rootfs.diff_ids`): the same
        /// whether the layer is stored gzip, zstd or plain. The blob digest where the config
        /// does not say.
        digest: String,
        /// The digest of the layer as stored (compressed), when it differs from `digest`.
        #[serde(skip_serializing_if = "Option::is_none")]
        blob: Option<String>,
        /// The history command that made the layer (`RUN …`, `COPY …`), from the config.
        #[serde(skip_serializing_if = "Option::is_none")]
        created_by: Option<String>,
    },
    /// A field of an image's config, scanned as text: `Env` (one `KEY=value` a line),
    /// `Labels` (`key=value` a line), `Cmd`, `Entrypoint`, `history` (one `created_by` a line)
    /// and `other` (the rest of the config JSON).
    Config {
        /// The field.
        field: String,
    },
    /// A record of an experiment tracker's log or run: in a W&B run file `config`, `summary`,
    /// `history` (with its step), `output` (the console, all its records as one text), `run`,
    /// `environment`…; in a TensorBoard event file `summary` (with its step), `graph`,
    /// `session_log`…; in an MLflow run `params`, `tags`. Lines and columns after it (or after
    /// the [`Segment::Key`] that follows it) count in the record's text.
    Record {
        /// What the record is.
        name: String,
        /// The training step it was logged at, when the log says.
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<i64>,
    },
    /// A key (dotted path) inside a record, a document or a message: `hf_token`,
    /// `optimizer.lr`, a summary's tag `notes/text_summary`, `#26.3` for a protobuf field
    /// known only by its numbers.
    Key {
        /// The key path.
        path: String,
    },
    /// A row group of a Parquet file (0-based, in file order).
    RowGroup {
        /// Position in the file.
        index: usize,
    },
    /// A record batch of an Arrow IPC file or stream (0-based, in file order).
    Batch {
        /// Position in the file.
        index: usize,
    },
    /// A column of a dataset by its dotted path (`messages.content` for the `content` field of
    /// a list of structs).
    Column {
        /// The column's path.
        path: String,
    },
    /// A row of a dataset: the 0-based position of the row in the whole file (what
    /// `pyarrow.parquet.read_table(f).slice(row, 1)` returns), not in its row group.
    Row {
        /// The row's position in the file.
        index: u64,
    },
    /// One item of an MLflow tracking server: the server's URL as the user named it, and the
    /// item's path on it (`mlflow+http://host:5000/experiments/1/runs/6511…`,
    /// `…/models/NAME/versions/2`, `…/prompts/NAME/versions/1`, `…/experiments/1/traces/ID`).
    /// The root of the chain, as a file would be: each item is scanned (and remembered by
    /// `--state`) on its own.
    Tracker {
        /// The server URL and the item's path.
        url: String,
    },
    /// An MLflow experiment.
    Experiment {
        /// The experiment id.
        id: String,
        /// Its name.
        name: String,
    },
    /// A tracked run (an MLflow run).
    Run {
        /// The run id.
        id: String,
        /// The run's name, when it has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A logged artifact of a run or model version, by its path in the artifact store; it is
    /// expanded like a file of that name.
    Artifact {
        /// The artifact's path.
        path: String,
    },
    /// A registered model, or one version of it.
    Model {
        /// The model's name.
        name: String,
        /// The version, for a model version.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
    /// A prompt of a prompt registry, or one version of it.
    Prompt {
        /// The prompt's name.
        name: String,
        /// The version, for a prompt version.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
    /// A trace (a request through an LLM application or agent).
    Trace {
        /// The trace id.
        id: String,
    },
    /// A span of a trace.
    Span {
        /// The span's name.
        name: String,
        /// The span id.
        id: String,
    },
    /// A file of a Hugging Face cache (`hub/models--ORG--NAME/snapshots/REV/PATH`), named by
    /// its place on the Hub: `hf://ORG/NAME@REV/PATH` (`hf://datasets/…`, `hf://spaces/…` for
    /// the other kinds of repository). The root of the chain, as a file would be.
    Hub {
        /// `model`, `dataset` or `space`.
        repo_type: String,
        /// `ORG/NAME`.
        repo: String,
        /// The revision (the commit hash of the snapshot folder).
        revision: String,
        /// The file's path in the repository.
        path: String,
        /// The file on disk that was read (the blob the snapshot links to).
        file: String,
        /// Other `REV/PATH` places of the cache that link the same blob (scanned once).
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        also: Vec<String>,
    },
    /// The entries below were deleted by a later layer (a whiteout: `.wh.NAME` or an opaque
    /// directory). They are not in a container's filesystem but still in the image, where
    /// anyone who pulls it can read them.
    Deleted {
        /// The 1-based index of the layer that deleted them.
        by_layer: usize,
    },
}

/// Which part of a notebook cell (see [`Segment::Cell`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CellPart {
    /// The cell's source.
    Source,
    /// The output at this position in the cell's `outputs`.
    Output {
        /// Position in `outputs`.
        output: usize,
        /// The MIME type, when the output holds several text forms (`text/plain` and
        /// `text/html` of one table).
        #[serde(skip_serializing_if = "Option::is_none")]
        mime: Option<String>,
    },
    /// The cell's metadata (as JSON text).
    Metadata,
}

/// `sha256:0123456789ab`: an algorithm and the first 12 digits of a digest, as `docker` shows.
pub fn short_digest(digest: &str) -> &str {
    match digest.split_once(':') {
        Some((alg, hex)) => {
            let end = hex.char_indices().nth(12).map_or(hex.len(), |(i, _)| i);
            &digest[..alg.len() + 1 + end]
        }
        None => digest,
    }
}

/// Shows a segment to a person: names come from the input (a zip member, a file named
/// `\x1b]0;…\x07`), so control characters are escaped ([`printable`]) and can neither drive
/// a terminal nor start a line of their own.
impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_raw(&mut Printable(f))
    }
}

/// Escapes what passes through it with [`printable`].
struct Printable<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Printable<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_str(&printable(s))
    }
}

/// `text` with the characters that could act on a terminal escaped: C0 and C1 controls
/// (`\n`, `\r`, `\t`, `\x1b`, `\u{9b}`) and the bidirectional overrides and isolates
/// (`\u{202e}`), which reorder what a person reads. Every other character is kept.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && unsafe_char(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Segment {
    fn write_raw(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            Segment::File { path } => f.write_str(path),
            Segment::Stdin => f.write_str("<stdin>"),
            Segment::Object { url } => f.write_str(url),
            Segment::Entry { path } => f.write_str(path),
            Segment::Decompressed { format } => write!(f, "({format})"),
            Segment::Cell { index, part } => match part {
                CellPart::Source => write!(f, "cells[{index}].source"),
                CellPart::Output { output, mime } => {
                    write!(f, "cells[{index}].outputs[{output}]")?;
                    match mime {
                        Some(m) => write!(f, "[{m}]"),
                        None => Ok(()),
                    }
                }
                CellPart::Metadata => write!(f, "cells[{index}].metadata"),
            },
            Segment::Pickle { path } if path.is_empty() => f.write_str("pickle"),
            Segment::Pickle { path } => write!(f, "pickle:{path}"),
            Segment::Metadata { format, key } => write!(f, "{format}:{key}"),
            Segment::Commit {
                id, author, date, ..
            } => {
                let short = id.get(..12).unwrap_or(id);
                let day = date.get(..10).unwrap_or(date);
                write!(f, "{short} ({author}, {day})")
            }
            Segment::Staged => f.write_str("staged"),
            Segment::Registry { url } => f.write_str(url),
            Segment::Image {
                reference,
                digest,
                platform,
            } => {
                f.write_str("image")?;
                match (reference, digest) {
                    (Some(r), _) => write!(f, " {r}")?,
                    (None, Some(d)) => write!(f, " {}", short_digest(d))?,
                    (None, None) => {}
                }
                match platform {
                    Some(p) => write!(f, " ({p})"),
                    None => Ok(()),
                }
            }
            Segment::Layer { index, digest, .. } => {
                write!(f, "layer {index} {}", short_digest(digest))
            }
            Segment::Config { field } => write!(f, "config {field}"),
            Segment::Deleted { by_layer } => write!(f, "[deleted in layer {by_layer}]"),
            Segment::Record { name, step } => match step {
                Some(step) => write!(f, "{name} step {step}"),
                None => f.write_str(name),
            },
            Segment::Key { path } => f.write_str(path),
            Segment::RowGroup { index } => write!(f, "row group {index}"),
            Segment::Batch { index } => write!(f, "record batch {index}"),
            Segment::Column { path } => f.write_str(path),
            Segment::Row { index } => write!(f, "row {index}"),
            Segment::Tracker { url } => f.write_str(url),
            Segment::Experiment { name, .. } => write!(f, "experiment {name}"),
            Segment::Run { id, name } => match name {
                Some(n) => write!(f, "run {n}"),
                None => write!(f, "run {id}"),
            },
            Segment::Artifact { path } => write!(f, "artifacts/{path}"),
            Segment::Model { name, version } => match version {
                Some(v) => write!(f, "model {name} v{v}"),
                None => write!(f, "model {name}"),
            },
            Segment::Prompt { name, version } => match version {
                Some(v) => write!(f, "prompt {name} v{v}"),
                None => write!(f, "prompt {name}"),
            },
            Segment::Trace { id } => write!(f, "trace {id}"),
            Segment::Span { name, .. } => write!(f, "span {name}"),
            Segment::Hub {
                repo_type,
                repo,
                revision,
                path,
                ..
            } => {
                let kind = match repo_type.as_str() {
                    "dataset" => "datasets/",
                    "space" => "spaces/",
                    _ => "",
                };
                write!(f, "hf://{kind}{repo}@{revision}/{path}")
            }
        }
    }
}

#[derive(Debug)]
struct Node {
    parent: Option<Origin>,
    segment: Segment,
}

/// A chain of segments, cheap to clone and to extend.
#[derive(Debug, Clone)]
pub struct Origin(Arc<Node>);

impl Origin {
    /// Whether `other` is this very chain (not an equal one built apart).
    pub fn is(&self, other: &Origin) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A chain of one segment.
    pub fn new(segment: Segment) -> Origin {
        Origin(Arc::new(Node {
            parent: None,
            segment,
        }))
    }

    /// A file on disk.
    pub fn file(path: impl Into<String>) -> Origin {
        Origin::new(Segment::File { path: path.into() })
    }

    /// An object in a bucket.
    pub fn object(url: impl Into<String>) -> Origin {
        Origin::new(Segment::Object { url: url.into() })
    }

    /// A chain of `segments`, outermost first (`None` when there are none): the inverse of the
    /// JSON form.
    pub fn from_segments(segments: impl IntoIterator<Item = Segment>) -> Option<Origin> {
        let mut it = segments.into_iter();
        let mut origin = Origin::new(it.next()?);
        for s in it {
            origin = origin.child(s);
        }
        Some(origin)
    }

    /// Standard input.
    pub fn stdin() -> Origin {
        Origin::new(Segment::Stdin)
    }

    /// This chain extended by one segment.
    pub fn child(&self, segment: Segment) -> Origin {
        Origin(Arc::new(Node {
            parent: Some(self.clone()),
            segment,
        }))
    }

    /// The innermost segment.
    pub fn segment(&self) -> &Segment {
        &self.0.segment
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> Vec<&Segment> {
        let mut out = Vec::new();
        let mut node = Some(self);
        while let Some(o) = node {
            out.push(&o.0.segment);
            node = o.0.parent.as_ref();
        }
        out.reverse();
        out
    }

    /// The innermost name a format can be guessed from: an entry's or file's path.
    pub fn name(&self) -> &str {
        let mut o = self;
        loop {
            match &o.0.segment {
                Segment::File { path }
                | Segment::Entry { path }
                | Segment::Artifact { path }
                | Segment::Hub { path, .. } => return path,
                Segment::Object { url } => return url,
                Segment::Stdin
                | Segment::Registry { .. }
                | Segment::Cell { .. }
                | Segment::Pickle { .. }
                | Segment::Metadata { .. }
                | Segment::Record { .. }
                | Segment::Key { .. }
                | Segment::Column { .. }
                | Segment::Row { .. }
                | Segment::Tracker { .. }
                | Segment::Trace { .. }
                | Segment::Span { .. }
                | Segment::Prompt { .. } => return "",
                _ => {}
            }
            match &o.0.parent {
                Some(p) => o = p,
                None => return "",
            }
        }
    }

    /// How many segments deep this is.
    pub fn depth(&self) -> usize {
        let mut n = 1;
        let mut o = self;
        while let Some(parent) = &o.0.parent {
            n += 1;
            o = parent;
        }
        n
    }

    /// The file that a finding's line and column can be looked up in, and whether they refer to
    /// it directly (`true`) or to something inside it (an archive entry, a notebook cell).
    /// A git origin's file is its path in the repository.
    pub fn file_location(&self) -> Option<(&str, bool)> {
        let segments = self.segments();
        match segments.as_slice() {
            [Segment::File { path }, rest @ ..] => Some((path, rest.is_empty())),
            [
                Segment::Commit { .. } | Segment::Staged,
                Segment::File { path },
                rest @ ..,
            ] => Some((path, rest.is_empty())),
            _ => None,
        }
    }

    /// The segment that says a later image layer deleted this blob, if one does.
    pub fn deleted(&self) -> Option<&Segment> {
        self.inward()
            .filter(|s| matches!(s, Segment::Deleted { .. }))
            .last()
    }

    /// The innermost image layer this blob is in, if any.
    pub fn layer(&self) -> Option<&Segment> {
        self.inward().find(|s| matches!(s, Segment::Layer { .. }))
    }

    /// The segments from the innermost out to the root, without collecting them (a report
    /// asks each finding for its layer).
    fn inward(&self) -> impl Iterator<Item = &Segment> {
        std::iter::successors(Some(self), |o| o.0.parent.as_ref()).map(|o| &o.0.segment)
    }

    /// The outermost segment: the file or stream the user pointed at.
    pub fn root(&self) -> &Segment {
        let mut o = self;
        while let Some(parent) = &o.0.parent {
            o = parent;
        }
        &o.0.segment
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments().into_iter().enumerate() {
            if i > 0 {
                f.write_str(" \u{203a} ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.segments())
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Origin) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.segments() == other.segments()
    }
}

impl Eq for Origin {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_json_list_segments_outermost_first() {
        let o = Origin::file("dist/app.tar").child(Segment::File {
            path: "inner.txt".into(),
        });
        assert_eq!(o.to_string(), "dist/app.tar \u{203a} inner.txt");
        assert_eq!(
            o.root(),
            &Segment::File {
                path: "dist/app.tar".into()
            }
        );
        let json = serde_json::to_value(&o).expect("serializes");
        let image = Origin::file("app.tar")
            .child(Segment::Image {
                reference: Some("app:1.0".into()),
                digest: None,
                platform: Some("linux/arm64".into()),
            })
            .child(Segment::Layer {
                index: 2,
                digest: format!("sha256:{}", "ab12cd34ef56".repeat(5)),
                blob: None,
                created_by: Some("RUN make".into()),
            })
            .child(Segment::Deleted { by_layer: 3 })
            .child(Segment::Entry {
                path: "app/.env".into(),
            });
        assert_eq!(
            image.to_string(),
            "app.tar › image app:1.0 (linux/arm64) › layer 2 sha256:ab12cd34ef56 › \
             [deleted in layer 3] › app/.env"
        );
        assert_eq!(image.name(), "app/.env");
        assert!(image.deleted().is_some() && image.layer().is_some());
        let rebuilt = Origin::from_segments(image.segments().into_iter().cloned());
        assert_eq!(rebuilt.as_ref(), Some(&image));
        assert_eq!(
            json,
            serde_json::json!([
                {"kind": "file", "path": "dist/app.tar"},
                {"kind": "file", "path": "inner.txt"}
            ])
        );
        assert_eq!(o.file_location(), Some(("dist/app.tar", false)));
    }

    #[test]
    fn git_origins_show_commit_author_date_and_path() {
        let o = Origin::new(Segment::Commit {
            id: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567".into(),
            author: "Jane Doe".into(),
            email: "jane@example.com".into(),
            date: "2024-05-01T10:00:00+02:00".into(),
        })
        .child(Segment::File {
            path: "config/app.env".into(),
        });
        assert_eq!(
            o.to_string(),
            "0a1b2c3d4e5f (Jane Doe, 2024-05-01) \u{203a} config/app.env"
        );
        assert_eq!(o.file_location(), Some(("config/app.env", true)));
        let json = serde_json::to_value(&o).expect("serializes");
        assert_eq!(json[0]["kind"], "commit");
        assert_eq!(json[0]["email"], "jane@example.com");
        let staged = Origin::new(Segment::Staged).child(Segment::File {
            path: "a.env".into(),
        });
        assert_eq!(staged.to_string(), "staged \u{203a} a.env");
        assert_eq!(staged.file_location(), Some(("a.env", true)));
        assert_eq!(Origin::stdin().file_location(), None);
    }
}

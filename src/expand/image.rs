//! Container images: `docker save` tarballs, OCI image layouts (a folder or a tar) and, through
//! [`super::registry`], images pulled from a registry.
//!
//! An image is a config (JSON: `Env`, `Labels`, `Cmd`, `Entrypoint`, the build `history`) and
//! layers (tars, usually gzip or zstd compressed), applied in order. Secrets leak into both:
//! `ENV TOKEN=…` and `RUN curl -H "Authorization: …"` lines end up in the config, and a file
//! copied in one layer and deleted in the next is still in the image for anyone who pulls it.
//!
//! Every format is read into the same [`ImageSpec`] (a reference, a config, layer keys) and
//! scanned by [`scan_image`]:
//!
//! - The config's fields are scanned as text blobs named `config Env`, `config Labels`,
//!   `config Cmd`, `config Entrypoint`, `config history` (one `created_by` a line) and
//!   `config other` (the rest of the JSON), so a finding's line says which variable or which
//!   build step leaked.
//! - Layers are scanned in parallel, each under a `layer N DIGEST` segment that carries the
//!   uncompressed digest (the config's `diff_ids`, the same whether the layer is stored plain,
//!   gzip or zstd) and the history command that made it. A layer on disk is a slice of the mapped
//!   file, so several layers decompress at once; a registry layer streams from the HTTP body
//!   through the decompressor into the tar reader.
//! - Whiteouts (`.wh.NAME`, and `.wh..wh..opq` for a whole folder) are not scanned but noted;
//!   findings of the image are held until every layer is read, then those in files a later layer
//!   deleted get a `[deleted in layer N]` segment. They are still findings: the bytes are in
//!   the image.
//!
//! An image tarball read as a stream (`docker save | gzip`, stdin) is recognised by its first
//! member's name and read in one pass ([`tar_stream_image`]): the manifest comes last, so small
//! members are kept and large ones (layers) scanned with their findings held until it is read.
//!
//! Members of an image tarball that are neither a manifest, a config nor a layer (a stray file,
//! an unreferenced blob) are scanned like any archive member: nothing is dropped. (Only the
//! legacy `ID/json` beside a docker-save `ID/layer.tar` is skipped: it repeats the config.) A tar that
//! only looks like an image (a `manifest.json` that is not a docker manifest) is expanded as a
//! plain tar. A damaged image warns and keeps what it found.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde_json::Value;

use super::archive::{self, Member};
use super::limits::Tracker;
use super::{Expander, Format, Sink, compress, sniff};
use crate::blob::load::{self, LoadOptions};
use crate::blob::{Data, Origin, Segment};
use crate::finding::Finding;
use crate::summary::WarningKind;

/// The largest manifest, index or config read (JSON documents): 16 MiB.
pub const MAX_JSON: u64 = 16 << 20;

/// How deep nested indexes are followed (an index of indexes of manifests is depth 2).
const MAX_INDEX_DEPTH: usize = 4;

const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// One image to scan: where its config and layers are, and what it is called.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageSpec {
    /// `repo:tag`, where known.
    pub reference: Option<String>,
    /// The manifest's digest, where known.
    pub digest: Option<String>,
    /// `os/arch[/variant]` for a member of a multi-platform index.
    pub platform: Option<String>,
    /// The key of the config blob (a path in a tar or folder, a digest in a registry).
    pub config: Option<String>,
    /// The layers, base first.
    pub layers: Vec<LayerSpec>,
}

/// One layer as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSpec {
    /// Where its bytes are (a path in a tar or folder, a digest in a registry).
    pub key: String,
    /// Its digest as stored (compressed), where known.
    pub digest: Option<String>,
}

/// A layer's bytes: random-access data (a slice of a mapped tarball, a file) or a stream (an
/// HTTP body).
pub enum LayerBytes {
    /// Random-access bytes.
    Data(Arc<Data>),
    /// A stream, read once.
    Stream(Box<dyn Read + 'static>),
}

/// Where an image's blobs are.
pub trait Blobs: Sync {
    /// The bytes stored under `key`.
    fn open(&self, key: &str) -> io::Result<LayerBytes>;

    /// The key of the manifest or index with `digest`; `None` for an unusable digest.
    fn manifest_key(&self, digest: &str) -> Option<String> {
        blob_path(digest)
    }

    /// The key of the blob (config, layer) with `digest`; `None` for an unusable digest.
    fn blob_key(&self, digest: &str) -> Option<String> {
        blob_path(digest)
    }

    /// A small document (a manifest, an index, a config), at most [`MAX_JSON`] bytes.
    fn read_json(&self, key: &str) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        match self.open(key)? {
            LayerBytes::Data(d) => {
                if d.len() > MAX_JSON {
                    return Err(too_large(key, d.len()));
                }
                let mut buf = Vec::new();
                out.extend_from_slice(d.range(0..d.len(), &mut buf)?);
            }
            LayerBytes::Stream(mut s) => {
                s.by_ref().take(MAX_JSON + 1).read_to_end(&mut out)?;
                if out.len() as u64 > MAX_JSON {
                    return Err(too_large(key, out.len() as u64));
                }
            }
        }
        Ok(out)
    }
}

fn too_large(key: &str, len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{key}: {len} bytes is more than the {MAX_JSON} bytes a manifest or config may have"
        ),
    )
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// The path of a blob in an OCI layout, from its digest; `None` for a digest that is not
/// `algorithm:encoded` with safe characters (so that no digest can name a path outside
/// `blobs/`).
pub fn blob_path(digest: &str) -> Option<String> {
    let (alg, enc) = digest.split_once(':')?;
    let alg_ok = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        && !alg.starts_with('.');
    let enc_ok = !enc.is_empty()
        && enc
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    (alg_ok && enc_ok).then(|| format!("blobs/{alg}/{enc}"))
}

/// A path inside an archive without `./` or `/` in front and without a trailing `/`.
fn normalize(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    p.trim_end_matches('/')
}

// ---------------------------------------------------------------------------------------------
// Reading manifests.

/// `os/arch[/variant]` of an OCI platform object.
fn platform(v: &Value) -> Option<String> {
    let os = v.get("os")?.as_str()?;
    let arch = v.get("architecture")?.as_str()?;
    Some(match v.get("variant").and_then(Value::as_str) {
        Some(var) if !var.is_empty() => format!("{os}/{arch}/{var}"),
        _ => format!("{os}/{arch}"),
    })
}

fn reference_of(desc: &Value) -> Option<String> {
    let ann = desc.get("annotations")?;
    ann.get(CONTAINERD_NAME)
        .or_else(|| ann.get(OCI_REF_NAME))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Whether a manifest document (or its descriptor's media type) is an index.
fn is_index(media_type: Option<&str>, doc: &Value) -> bool {
    match media_type {
        Some(t) if t.contains("index") || t.contains("manifest.list") => true,
        _ => doc.get("manifests").is_some_and(Value::is_array) && doc.get("layers").is_none(),
    }
}

/// The images a manifest document names: itself if it is an image manifest, the images of its
/// members (nested indexes followed) if it is an index. `spec` carries what is known from
/// outside (the reference, the digest); `wanted` keeps only one platform of an index's members
/// (`None`: all). Problems go to `warn`; the images that could be read are returned.
pub fn images_of(
    blobs: &dyn Blobs,
    doc: &Value,
    spec: ImageSpec,
    wanted: Option<&str>,
    warn: &mut dyn FnMut(String),
) -> Vec<ImageSpec> {
    let mut out = Vec::new();
    let media = doc.get("mediaType").and_then(Value::as_str);
    walk_doc(blobs, doc, media, spec, wanted, warn, 0, &mut out);
    out
}

#[allow(clippy::too_many_arguments)]
fn walk_doc(
    blobs: &dyn Blobs,
    doc: &Value,
    media: Option<&str>,
    mut spec: ImageSpec,
    wanted: Option<&str>,
    warn: &mut dyn FnMut(String),
    depth: usize,
    out: &mut Vec<ImageSpec>,
) {
    let name = spec.digest.clone().unwrap_or_else(|| "index".into());
    if is_index(media, doc) {
        if depth >= MAX_INDEX_DEPTH {
            warn(format!(
                "index {name} nested more than {MAX_INDEX_DEPTH} deep: not followed"
            ));
            return;
        }
        let Some(manifests) = doc.get("manifests").and_then(Value::as_array) else {
            warn(format!("index {name} without a manifests list"));
            return;
        };
        for desc in manifests {
            let Some(digest) = desc.get("digest").and_then(Value::as_str) else {
                warn(format!("index {name}: an entry without a digest"));
                continue;
            };
            let plat = desc.get("platform").and_then(platform);
            if let (Some(w), Some(p)) = (wanted, &plat)
                && w != p
            {
                continue;
            }
            let child = ImageSpec {
                reference: reference_of(desc).or_else(|| spec.reference.clone()),
                digest: Some(digest.to_string()),
                platform: plat.or_else(|| spec.platform.clone()),
                ..ImageSpec::default()
            };
            let Some(key) = blobs.manifest_key(digest) else {
                warn(format!("index {name}: unusable digest {digest:?}"));
                continue;
            };
            let child_doc = match blobs.read_json(&key).and_then(|b| {
                serde_json::from_slice::<Value>(&b).map_err(|e| invalid(e.to_string()))
            }) {
                Ok(v) => v,
                Err(e) => {
                    warn(format!("manifest {digest}: {e}"));
                    continue;
                }
            };
            let media = desc
                .get("mediaType")
                .and_then(Value::as_str)
                .or_else(|| child_doc.get("mediaType").and_then(Value::as_str));
            walk_doc(
                blobs,
                &child_doc,
                media,
                child,
                wanted,
                warn,
                depth + 1,
                out,
            );
        }
        return;
    }
    if doc.get("schemaVersion").and_then(Value::as_u64) == Some(1) {
        warn(format!(
            "manifest {name}: docker schema 1 manifests are not supported"
        ));
        return;
    }
    spec.config = doc
        .get("config")
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .and_then(|d| blobs.blob_key(d));
    for layer in doc
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(d) = layer.get("digest").and_then(Value::as_str) else {
            warn(format!("manifest {name}: a layer without a digest"));
            continue;
        };
        match blobs.blob_key(d) {
            Some(key) => spec.layers.push(LayerSpec {
                key,
                digest: Some(d.to_string()),
            }),
            None => warn(format!("manifest {name}: unusable layer digest {d:?}")),
        }
    }
    out.push(spec);
}

/// The images of a `docker save` manifest (`manifest.json`). `Err` when it is not one.
pub fn docker_images(manifest: &[u8]) -> Result<Vec<ImageSpec>, String> {
    let v: Value = serde_json::from_slice(manifest).map_err(|e| e.to_string())?;
    let list = v.as_array().ok_or("not a list")?;
    let mut out = Vec::new();
    for item in list {
        let config = item
            .get("Config")
            .and_then(Value::as_str)
            .ok_or("an image without Config")?;
        let layers = item
            .get("Layers")
            .and_then(Value::as_array)
            .ok_or("an image without Layers")?;
        let reference = item
            .get("RepoTags")
            .and_then(Value::as_array)
            .and_then(|tags| tags.first())
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut spec = ImageSpec {
            reference,
            config: Some(normalize(config).to_string()),
            ..ImageSpec::default()
        };
        for l in layers {
            let path = normalize(l.as_str().ok_or("a layer that is not a path")?);
            spec.layers.push(LayerSpec {
                key: path.to_string(),
                digest: digest_from_path(path),
            });
        }
        out.push(spec);
    }
    if out.is_empty() {
        return Err("no images".into());
    }
    Ok(out)
}

/// `sha256:HEX` for `blobs/sha256/HEX` (docker 25+) and `HEX.tar` (skopeo); `None` for the
/// legacy `ID/layer.tar`, whose ID is not a content digest.
fn digest_from_path(path: &str) -> Option<String> {
    let is_hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rest) = path.strip_prefix("blobs/")
        && let Some((alg, enc)) = rest.split_once('/')
    {
        return Some(format!("{alg}:{enc}"));
    }
    let stem = path.strip_suffix(".tar").unwrap_or(path);
    is_hex(stem).then(|| format!("sha256:{stem}"))
}

// ---------------------------------------------------------------------------------------------
// The config.

/// What the config says about the layers and what it holds as text.
#[derive(Debug, Default)]
struct Config {
    diff_ids: Vec<String>,
    /// `created_by` of the history entries that made a layer, in order.
    layer_history: Vec<Option<String>>,
    /// `(field, text)` to scan.
    fields: Vec<(&'static str, String)>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn parse_config(bytes: &[u8]) -> Result<Config, String> {
    let mut v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let mut cfg = Config::default();
    if let Some(c) = v.get_mut("config").and_then(Value::as_object_mut) {
        let env = strings(c.remove("Env").as_ref());
        if !env.is_empty() {
            cfg.fields.push(("Env", env.join("\n") + "\n"));
        }
        if let Some(Value::Object(labels)) = c.remove("Labels") {
            let text: String = labels
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s}\n"),
                    other => format!("{k}={other}\n"),
                })
                .collect();
            cfg.fields.push(("Labels", text));
        }
        for field in ["Cmd", "Entrypoint"] {
            let args = strings(c.remove(field).as_ref());
            if !args.is_empty() {
                cfg.fields.push((field, args.join(" ") + "\n"));
            }
        }
    }
    if let Some(history) = v.get_mut("history").and_then(Value::as_array_mut) {
        let mut text = String::new();
        for h in history.iter_mut() {
            let created_by = h
                .as_object_mut()
                .and_then(|o| o.remove("created_by"))
                .and_then(|c| c.as_str().map(str::to_string));
            let empty = h.get("empty_layer").and_then(Value::as_bool) == Some(true);
            // One line per entry, so that a line number is a history index (+1).
            text.push_str(&created_by.clone().unwrap_or_default().replace('\n', " "));
            text.push('\n');
            if !empty {
                cfg.layer_history.push(created_by);
            }
        }
        cfg.fields.push(("history", text));
    }
    if let Some(rootfs) = v.as_object_mut().and_then(|o| o.remove("rootfs")) {
        cfg.diff_ids = strings(rootfs.get("diff_ids"));
    }
    // What is left (container_config, author, comments, unknown fields) is scanned as JSON.
    let rest = serde_json::to_string_pretty(&v).unwrap_or_default();
    cfg.fields.push(("other", rest + "\n"));
    Ok(cfg)
}

// ---------------------------------------------------------------------------------------------
// Whiteouts and the findings held until they are known.

/// What a whiteout marker deletes from the layers below it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Whiteout {
    /// `dir/.wh.name`: the path `dir/name` and everything under it.
    Path(String),
    /// `dir/.wh..wh..opq`: everything under `dir` (the root when empty).
    Opaque(String),
}

/// The whiteout a member path is, if it is one; `Some(None)` for other `.wh.` markers (aufs
/// hard-link bookkeeping), which delete nothing and are not scanned either.
fn whiteout(path: &[u8]) -> Option<Option<Whiteout>> {
    let path = String::from_utf8_lossy(path);
    let path = normalize(&path);
    let (dir, base) = match path.rsplit_once('/') {
        Some((d, b)) => (d, b),
        None => ("", path),
    };
    let name = base.strip_prefix(".wh.")?;
    if name == ".wh..opq" {
        return Some(Some(Whiteout::Opaque(dir.to_string())));
    }
    if name.starts_with(".wh.") {
        return Some(None);
    }
    let target = if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    };
    Some(Some(Whiteout::Path(target)))
}

impl Whiteout {
    fn deletes(&self, path: &str) -> bool {
        match self {
            Whiteout::Path(t) => {
                path == t || (path.starts_with(t.as_str()) && path[t.len()..].starts_with('/'))
            }
            Whiteout::Opaque(d) => {
                d.is_empty() || (path.starts_with(d.as_str()) && path[d.len()..].starts_with('/'))
            }
        }
    }
}

/// The first layer after `layer` that deletes `path`.
fn deleted_by(whiteouts: &[(usize, Whiteout)], layer: usize, path: &str) -> Option<usize> {
    let path = normalize(path);
    whiteouts
        .iter()
        .filter(|(l, w)| *l > layer && w.deletes(path))
        .map(|(l, _)| *l)
        .min()
}

/// Holds an image's findings until all its layers are read, then marks the deleted ones.
struct Holding<'s> {
    inner: &'s dyn Sink,
    held: Mutex<Vec<Finding>>,
}

impl Sink for Holding<'_> {
    fn finding(&self, finding: Finding) -> bool {
        if let Ok(mut held) = self.held.lock() {
            held.push(finding);
        }
        !self.inner.stopped()
    }

    fn warn(&self, origin: &Origin, kind: WarningKind, message: String) {
        self.inner.warn(origin, kind, message);
    }

    fn scanned(&self, bytes: u64) {
        self.inner.scanned(bytes);
    }

    fn stopped(&self) -> bool {
        self.inner.stopped()
    }
}

impl<'s> Holding<'s> {
    fn new(inner: &'s dyn Sink) -> Holding<'s> {
        Holding {
            inner,
            held: Mutex::new(Vec::new()),
        }
    }

    /// The held findings, as they are.
    fn take(self) -> Vec<Finding> {
        self.held.into_inner().unwrap_or_default()
    }

    /// Sends the held findings on; `layer_at` is the position of the layer segment in their
    /// origins.
    fn release(self, layer_at: usize, whiteouts: &[(usize, Whiteout)]) {
        let held = self.held.into_inner().unwrap_or_default();
        for mut f in held {
            let segments = f.origin.segments();
            let by = match (segments.get(layer_at), segments.get(layer_at + 1)) {
                (Some(Segment::Layer { index, .. }), Some(Segment::Entry { path })) => {
                    deleted_by(whiteouts, *index, path)
                }
                _ => None,
            };
            if let Some(by_layer) = by {
                let mut rebuilt: Vec<Segment> = segments.into_iter().cloned().collect();
                rebuilt.insert(layer_at + 1, Segment::Deleted { by_layer });
                if let Some(o) = Origin::from_segments(rebuilt) {
                    f.origin = o;
                }
            }
            if !self.inner.finding(f) {
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning.

/// Scans one image: its config fields, then its layers in parallel. `parent` is the origin the
/// image is in (a tarball, a folder, a registry URL). Returns the keys it read.
pub fn scan_image(
    ex: &Expander<'_>,
    parent: &Origin,
    spec: &ImageSpec,
    blobs: &dyn Blobs,
    tracker: &Arc<Tracker>,
    depth: usize,
) -> BTreeSet<String> {
    scan_image_with(
        ex,
        parent,
        spec,
        blobs,
        tracker,
        depth,
        &Streamed::default(),
    )
}

/// Layers of an image tarball read as a stream, scanned before the manifest (at the end of the
/// tarball) said which image and layer they are: their findings, held with origins
/// `parent › KEY › …`, and their whiteouts, by key.
#[derive(Default)]
struct Streamed {
    /// Segments in the tarball's own origin.
    parent_depth: usize,
    layers: HashMap<String, StreamedLayer>,
}

struct StreamedLayer {
    findings: Vec<Finding>,
    whiteouts: Vec<Whiteout>,
}

fn scan_image_with(
    ex: &Expander<'_>,
    parent: &Origin,
    spec: &ImageSpec,
    blobs: &dyn Blobs,
    tracker: &Arc<Tracker>,
    depth: usize,
    streamed: &Streamed,
) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let image = parent.child(Segment::Image {
        reference: spec.reference.clone(),
        digest: spec.digest.clone(),
        platform: spec.platform.clone(),
    });
    let mut cfg = Config::default();
    match &spec.config {
        Some(key) => {
            used.insert(key.clone());
            match blobs
                .read_json(key)
                .map_err(|e| e.to_string())
                .and_then(|b| parse_config(&b))
            {
                Ok(c) => cfg = c,
                Err(e) => ex.sink.error(
                    &image,
                    format!("config {key} unreadable ({e}): layers scanned without history"),
                ),
            }
        }
        None => ex.sink.error(&image, "the manifest names no config".into()),
    }
    for (field, text) in std::mem::take(&mut cfg.fields) {
        let origin = image.child(Segment::Config {
            field: field.to_string(),
        });
        ex.leaf(&Data::Owned(text.into_bytes()), &origin);
    }
    let diff_ids_fit = cfg.diff_ids.len() == spec.layers.len();
    let history_fits = cfg.layer_history.len() == spec.layers.len();

    let holding = Holding::new(ex.sink);
    let inner = ex.with_sink(&holding);
    let whiteouts: Mutex<Vec<(usize, Whiteout)>> = Mutex::new(Vec::new());
    for l in &spec.layers {
        used.insert(l.key.clone());
    }
    spec.layers.par_iter().enumerate().for_each(|(i, l)| {
        if inner.sink.stopped() {
            return;
        }
        let index = i + 1;
        let stored = l.digest.clone();
        let digest = if diff_ids_fit {
            cfg.diff_ids[i].clone()
        } else {
            stored.clone().unwrap_or_else(|| l.key.clone())
        };
        let blob = stored.filter(|s| *s != digest);
        let created_by = if history_fits {
            cfg.layer_history[i].clone()
        } else {
            None
        };
        let origin = image.child(Segment::Layer {
            index,
            digest,
            blob,
            created_by,
        });
        if let Some(done) = streamed.layers.get(&l.key) {
            // Scanned already: name its findings, note its whiteouts.
            if let Ok(mut all) = whiteouts.lock() {
                all.extend(done.whiteouts.iter().map(|w| (index, w.clone())));
            }
            for f in &done.findings {
                let inner_segments = f.origin.segments();
                let rest = inner_segments
                    .get(streamed.parent_depth + 1..)
                    .unwrap_or_default();
                let named = origin
                    .segments()
                    .into_iter()
                    .chain(rest.iter().copied())
                    .cloned();
                let mut f = f.clone();
                if let Some(o) = Origin::from_segments(named) {
                    f.origin = o;
                }
                if !holding.finding(f) {
                    return;
                }
            }
            return;
        }
        let keep = |path: &[u8]| match whiteout(path) {
            None => true,
            Some(w) => {
                if let (Some(w), Ok(mut all)) = (w, whiteouts.lock()) {
                    all.push((index, w));
                }
                false
            }
        };
        match blobs.open(&l.key) {
            Ok(bytes) => scan_layer(&inner, bytes, origin, &keep, tracker, depth),
            Err(e) => inner.sink.error(&origin, format!("layer {}: {e}", l.key)),
        }
    });
    let whiteouts = whiteouts.into_inner().unwrap_or_default();
    holding.release(image.depth(), &whiteouts);
    used
}

/// Scans one layer: decompressed if it is, walked as a tar with whiteouts taken out, or (an
/// artifact that is not a tar: a model file, a JSON document) scanned like any blob.
pub fn scan_layer(
    ex: &Expander<'_>,
    bytes: LayerBytes,
    origin: Origin,
    keep: archive::Keep<'_>,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    match bytes {
        LayerBytes::Data(data) => {
            let mut buf = Vec::new();
            let head = match data.range(0..512, &mut buf) {
                Ok(h) => h.to_vec(),
                Err(e) => return ex.read_error(&origin, &e),
            };
            match sniff(&head, "") {
                Format::Tar => archive::tar_blob_with(ex, data, origin, tracker, depth + 1, keep),
                Format::Gzip | Format::Zstd | Format::Bzip2 | Format::Xz => {
                    let mut reader = crate::blob::reader::DataReader::new(Arc::clone(&data));
                    layer_stream(ex, &mut reader, origin, keep, tracker, depth);
                    // The compressed bytes are read: let their pages leave this process's
                    // resident memory (a mapped tarball's pages stay in the page cache).
                    data.release(0..data.len());
                }
                _ => ex.blob(data, origin, tracker, depth),
            }
        }
        LayerBytes::Stream(mut reader) => {
            layer_stream(ex, &mut reader, origin.clone(), keep, tracker, depth);
            // Read what the tar reader left (the end-of-archive padding), so that a stream
            // that checks its digest at its end (a registry blob) gets to check it.
            if !ex.sink.stopped()
                && let Err(e) = io::copy(&mut reader, &mut io::sink())
            {
                ex.read_error(&origin, &e);
            }
        }
    }
}

fn layer_stream(
    ex: &Expander<'_>,
    reader: &mut dyn Read,
    origin: Origin,
    keep: archive::Keep<'_>,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut head = Vec::with_capacity(512);
    if let Err(e) = reader.take(512).read_to_end(&mut head) {
        return ex.read_error(&origin, &e);
    }
    let mut chained = io::Cursor::new(head.clone()).chain(reader);
    let format = sniff(&head, "");
    match format {
        Format::Tar => archive::tar_stream_with(ex, &mut chained, origin, tracker, depth + 1, keep),
        Format::Gzip | Format::Zstd | Format::Bzip2 | Format::Xz => {
            match compress::decoder(format, Box::new(&mut chained), &ex.budget, tracker) {
                Ok(Some((mut decoded, _))) => {
                    let mut inner_head = Vec::with_capacity(512);
                    if let Err(e) = (&mut decoded).take(512).read_to_end(&mut inner_head) {
                        return ex.read_error(&origin, &e);
                    }
                    let mut inner = io::Cursor::new(inner_head.clone()).chain(decoded);
                    if sniff(&inner_head, "") == Format::Tar
                        || (inner_head.len() >= 512 && archive::is_tar_header(&inner_head))
                    {
                        archive::tar_stream_with(ex, &mut inner, origin, tracker, depth + 2, keep);
                    } else {
                        ex.stream(&mut inner, origin, tracker, depth + 1);
                    }
                }
                Ok(None) => {}
                Err(e) => ex.read_error(&origin, &e),
            }
        }
        _ => {
            if head.len() >= 512 && archive::is_tar_header(&head) {
                archive::tar_stream_with(ex, &mut chained, origin, tracker, depth + 1, keep);
            } else {
                ex.stream(&mut chained, origin, tracker, depth);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Images in a tar (docker save, OCI layout in a tar).

/// The members of a tar by normalized path, links resolved.
struct TarBlobs<'a> {
    data: &'a Arc<Data>,
    by_path: HashMap<String, &'a Member>,
}

impl TarBlobs<'_> {
    fn resolve(&self, key: &str) -> Option<&Member> {
        let mut path = normalize(key).to_string();
        for _ in 0..8 {
            let m = self.by_path.get(&path)?;
            let Some(target) = &m.link else {
                return Some(m);
            };
            let target = String::from_utf8_lossy(target);
            // A symlink is relative to its folder; a hard link names an archive path.
            path = if target.starts_with("../") || target.starts_with("./") {
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                join_relative(dir, &target)?
            } else {
                normalize(&target).to_string()
            };
        }
        None
    }
}

/// `dir` + a relative `target` with `.` and `..` resolved; `None` if it climbs above the root.
fn join_relative(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

impl Blobs for TarBlobs<'_> {
    fn open(&self, key: &str) -> io::Result<LayerBytes> {
        let m = self
            .resolve(key)
            .ok_or_else(|| invalid(format!("{key} is not in the archive")))?;
        if m.offset.saturating_add(m.size) > self.data.len() {
            return Err(invalid(format!(
                "{key} is truncated: the tar header says {} bytes, {} are there",
                m.size,
                self.data.len().saturating_sub(m.offset)
            )));
        }
        Ok(LayerBytes::Data(Arc::new(
            self.data.slice(m.offset..m.offset + m.size),
        )))
    }
}

/// Opens a tar held in random-access data as an image, if it is one (`manifest.json`, or
/// `oci-layout` and `index.json`, at its root). Returns false, having done nothing, when it is
/// not; the caller then expands it as a plain tar.
pub fn tar_image(
    ex: &Expander<'_>,
    data: &Arc<Data>,
    origin: &Origin,
    members: &[Member],
    tracker: &Arc<Tracker>,
    depth: usize,
) -> bool {
    let mut by_path = HashMap::new();
    for m in members {
        by_path.insert(normalize(&String::from_utf8_lossy(&m.path)).to_string(), m);
    }
    let blobs = TarBlobs { data, by_path };
    let has = |p: &str| blobs.by_path.contains_key(p);
    let mut warnings = Vec::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let images = if has("oci-layout") && has("index.json") {
        let index = blobs
            .read_json("index.json")
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let Some(index) = index else {
            return false;
        };
        used.insert("index.json".into());
        used.insert("oci-layout".into());
        let images = images_of(&blobs, &index, ImageSpec::default(), None, &mut |w| {
            warnings.push(w)
        });
        for i in &images {
            if let Some(d) = i.digest.as_deref().and_then(blob_path) {
                used.insert(d);
            }
        }
        images
    } else if has("manifest.json") {
        let Ok(bytes) = blobs.read_json("manifest.json") else {
            return false;
        };
        match docker_images(&bytes) {
            Ok(images) => {
                used.insert("manifest.json".into());
                // Legacy `ID/json` and `ID/VERSION` beside `ID/layer.tar` repeat the config in
                // docker's v1 form: the config itself is scanned.
                for path in blobs.by_path.keys() {
                    if let Some(dir) = path.strip_suffix("/layer.tar") {
                        used.insert(format!("{dir}/json"));
                        used.insert(format!("{dir}/VERSION"));
                    }
                }
                images
            }
            Err(_) => return false,
        }
    } else {
        return false;
    };
    for w in warnings {
        ex.sink.error(origin, w);
    }
    if images.is_empty() {
        ex.sink
            .error(origin, "an image index that lists no image".into());
    }
    let used_by_images: Vec<BTreeSet<String>> = images
        .par_iter()
        .map(|spec| scan_image(ex, origin, spec, &blobs, tracker, depth))
        .collect();
    for u in used_by_images {
        used.extend(u);
    }
    // A used key may be a link: the member it points at is used too.
    let used_paths: BTreeSet<String> = used
        .iter()
        .filter_map(|k| blobs.resolve(k))
        .map(|m| normalize(&String::from_utf8_lossy(&m.path)).to_string())
        .chain(used.iter().cloned())
        .collect();
    let rest: Vec<Member> = members
        .iter()
        .filter(|m| {
            m.link.is_none() && !used_paths.contains(normalize(&String::from_utf8_lossy(&m.path)))
        })
        .cloned()
        .collect();
    archive::scan_members(ex, data, origin, &rest, tracker, depth, &|_| true);
    true
}

// ---------------------------------------------------------------------------------------------
// Image tarballs read as a stream (`docker save | gzip`, stdin).

/// Members up to this size are kept in memory until the end of a streamed image tarball
/// (manifests, configs, small layers): 1 MiB.
const SMALL_MEMBER: u64 = 1 << 20;

/// Kept members of one streamed image tarball, at most: 64 MiB. Past it, small members are
/// scanned as they come, as plain members.
const SMALL_TOTAL: u64 = 64 << 20;

/// Whether the first member of a tar looks like the start of an image tarball: `oci-layout`,
/// `index.json`, `manifest.json`, `repositories`, `blobs/…`, or a 64-digit hex name (docker's
/// `ID/`, `ID.json`, skopeo's `DIGEST.tar`).
pub fn looks_like_image_start(path: &[u8]) -> bool {
    let path = String::from_utf8_lossy(path);
    let p = normalize(&path);
    if matches!(
        p,
        "oci-layout" | "index.json" | "manifest.json" | "repositories"
    ) || p.starts_with("blobs/")
    {
        return true;
    }
    let first = p.split(['/', '.']).next().unwrap_or("");
    first.len() == 64 && first.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Small members of a streamed tarball, by path, with its links.
struct MemBlobs {
    small: HashMap<String, Vec<u8>>,
    links: HashMap<String, String>,
}

impl MemBlobs {
    fn resolve(&self, key: &str) -> String {
        let mut path = normalize(key).to_string();
        for _ in 0..8 {
            match self.links.get(&path) {
                Some(target) => path = target.clone(),
                None => break,
            }
        }
        path
    }
}

impl Blobs for MemBlobs {
    fn open(&self, key: &str) -> io::Result<LayerBytes> {
        let path = self.resolve(key);
        match self.small.get(&path) {
            Some(b) => Ok(LayerBytes::Data(Arc::new(Data::Owned(b.clone())))),
            None => Err(invalid(format!("{key} is not in the archive"))),
        }
    }
}

/// Expands a tar stream that starts like an image tarball, in one pass: small members are kept
/// until the end, large ones (layers) are scanned as they stream by with their findings held;
/// at the end the manifest names the images, and the held findings get their image and layer
/// segments (and deletions). If no image manifest turns up, everything is reported as the
/// plain members it is.
pub fn tar_stream_image(
    ex: &Expander<'_>,
    reader: &mut dyn Read,
    origin: Origin,
    tracker: &Arc<Tracker>,
    depth: usize,
) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return ex.read_error(&origin, &e),
    };
    let mut mem = MemBlobs {
        small: HashMap::new(),
        links: HashMap::new(),
    };
    let mut small_order = Vec::new();
    let mut small_total = 0;
    let mut streamed = Streamed {
        parent_depth: origin.depth(),
        layers: HashMap::new(),
    };
    for entry in entries {
        if ex.sink.stopped() {
            return;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                archive::report_stream_error(ex, &origin, &e);
                break;
            }
        };
        if let Err(limit) = tracker.entry(&ex.budget) {
            ex.sink.skipped(&origin, limit.to_string());
            break;
        }
        let path = normalize(&String::from_utf8_lossy(&entry.path_bytes())).to_string();
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name_bytes() {
                let target = String::from_utf8_lossy(&target).into_owned();
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                let resolved = if kind.is_symlink() {
                    join_relative(dir, &target)
                } else {
                    Some(normalize(&target).to_string())
                };
                if let Some(r) = resolved {
                    mem.links.insert(path, r);
                }
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let size = entry.size();
        if size <= SMALL_MEMBER && small_total + size <= SMALL_TOTAL {
            let mut buf = Vec::with_capacity(size as usize);
            let result = entry.read_to_end(&mut buf);
            small_total += buf.len() as u64;
            small_order.push(path.clone());
            mem.small.insert(path, buf);
            if let Err(e) = result {
                archive::report_stream_error(ex, &origin, &e);
                break;
            }
            continue;
        }
        // Most likely a layer: scan it now, holding its findings until the manifest (at the
        // end) says which image and layer it is.
        let holding = Holding::new(ex.sink);
        let inner = ex.with_sink(&holding);
        let found: Mutex<Vec<Whiteout>> = Mutex::new(Vec::new());
        let keep = |p: &[u8]| match whiteout(p) {
            None => true,
            Some(w) => {
                if let (Some(w), Ok(mut all)) = (w, found.lock()) {
                    all.push(w);
                }
                false
            }
        };
        let child = origin.child(Segment::Entry { path: path.clone() });
        layer_stream(&inner, &mut entry, child, &keep, tracker, depth);
        drop(inner);
        streamed.layers.insert(
            path,
            StreamedLayer {
                findings: holding.take(),
                whiteouts: found.into_inner().unwrap_or_default(),
            },
        );
    }

    // The manifests are in: which images are there?
    let has = |p: &str| mem.small.contains_key(p);
    let mut warnings = Vec::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut images = if has("oci-layout") && has("index.json") {
        match mem
            .read_json("index.json")
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            Some(index) => {
                used.extend(["index.json".to_string(), "oci-layout".to_string()]);
                let images = images_of(&mem, &index, ImageSpec::default(), None, &mut |w| {
                    warnings.push(w)
                });
                used.extend(
                    images
                        .iter()
                        .filter_map(|i| i.digest.as_deref().and_then(blob_path)),
                );
                images
            }
            None => Vec::new(),
        }
    } else if has("manifest.json") {
        match mem.small.get("manifest.json").map(|b| docker_images(b)) {
            Some(Ok(images)) => {
                used.insert("manifest.json".into());
                used.extend(
                    mem.small
                        .keys()
                        .filter_map(|k| k.strip_suffix("/json").or(k.strip_suffix("/VERSION")))
                        .filter(|dir| {
                            mem.links.contains_key(&format!("{dir}/layer.tar"))
                                || streamed.layers.contains_key(&format!("{dir}/layer.tar"))
                                || mem.small.contains_key(&format!("{dir}/layer.tar"))
                        })
                        .flat_map(|dir| [format!("{dir}/json"), format!("{dir}/VERSION")])
                        .collect::<Vec<_>>(),
                );
                images
            }
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    for w in warnings {
        ex.sink.error(&origin, w);
    }
    for spec in &mut images {
        for l in &mut spec.layers {
            l.key = mem.resolve(&l.key);
        }
        if let Some(c) = &spec.config {
            spec.config = Some(mem.resolve(c));
        }
    }
    for spec in &images {
        used.extend(scan_image_with(
            ex, &origin, spec, &mem, tracker, depth, &streamed,
        ));
    }
    // What no image claimed is a plain member.
    for (path, layer) in streamed.layers {
        if !used.contains(&path) {
            for f in layer.findings {
                if !ex.sink.finding(f) {
                    return;
                }
            }
        }
    }
    let rest: Vec<(String, Vec<u8>)> = small_order
        .into_iter()
        .filter(|p| !used.contains(p))
        .filter_map(|p| mem.small.remove(&p).map(|b| (p, b)))
        .collect();
    rest.into_par_iter().for_each(|(path, bytes)| {
        let child = origin.child(Segment::Entry { path });
        ex.blob(Arc::new(Data::Owned(bytes)), child, tracker, depth);
    });
}

// ---------------------------------------------------------------------------------------------
// OCI layouts in a folder.

/// Whether `path` is a folder holding an OCI image layout (`oci-layout` and `index.json`).
pub fn is_layout_dir(path: &Path) -> bool {
    path.is_dir() && path.join("oci-layout").is_file() && path.join("index.json").is_file()
}

struct DirBlobs<'a> {
    root: &'a Path,
    load: LoadOptions,
}

impl Blobs for DirBlobs<'_> {
    fn open(&self, key: &str) -> io::Result<LayerBytes> {
        // Keys are `index.json` or come from `blob_path`, which admits no `..` or `/`.
        let path = self.root.join(key);
        let meta = std::fs::metadata(&path)?;
        if !meta.is_file() {
            return Err(invalid(format!("{key} is not a regular file")));
        }
        let mut buf = Vec::new();
        Ok(LayerBytes::Data(Arc::new(load::open(
            &path,
            meta.len(),
            &self.load,
            &mut buf,
        )?)))
    }
}

/// Scans an OCI image layout folder: every image its index names, then every other file in it.
/// Returns the bytes of the files read.
pub fn layout_dir(ex: &Expander<'_>, root: &Path, display: &str, load: LoadOptions) -> u64 {
    let origin = Origin::file(display);
    let tracker = Tracker::new();
    let blobs = DirBlobs { root, load };
    let index = match blobs
        .read_json("index.json")
        .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| invalid(e.to_string())))
    {
        Ok(v) => v,
        Err(e) => {
            ex.sink
                .error(&origin, format!("index.json unreadable: {e}"));
            Value::Null
        }
    };
    let mut used: BTreeSet<String> = ["index.json".to_string(), "oci-layout".to_string()].into();
    let mut warnings = Vec::new();
    let images = if index.is_null() {
        Vec::new()
    } else {
        images_of(&blobs, &index, ImageSpec::default(), None, &mut |w| {
            warnings.push(w)
        })
    };
    for w in warnings {
        ex.sink.error(&origin, w);
    }
    for i in &images {
        if let Some(d) = i.digest.as_deref().and_then(blob_path) {
            used.insert(d);
        }
    }
    let used_by_images: Vec<BTreeSet<String>> = images
        .par_iter()
        .map(|spec| scan_image(ex, &origin, spec, &blobs, &tracker, 0))
        .collect();
    for u in used_by_images {
        used.extend(u);
    }
    // Everything else in the folder is scanned as files: nothing is left out.
    let files: Vec<(std::path::PathBuf, String, u64)> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e
                .path()
                .strip_prefix(root)
                .ok()?
                .to_string_lossy()
                .into_owned();
            let size = e.metadata().ok()?.len();
            Some((e.path().to_path_buf(), rel, size))
        })
        .collect();
    files
        .par_iter()
        .filter(|(_, rel, _)| !used.contains(rel))
        .for_each(|(path, rel, size)| {
            let o = Origin::file(format!("{}/{rel}", display.trim_end_matches('/')));
            let mut buf = Vec::new();
            match load::open(path, *size, &load, &mut buf) {
                Ok(d) => ex.blob(Arc::new(d), o, &tracker, 0),
                Err(e) => ex.sink.error(&o, e.to_string()),
            }
        });
    files.iter().map(|f| f.2).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteouts_delete_paths_and_folders() {
        let w = whiteout(b"./app/.wh..env").unwrap().unwrap();
        assert_eq!(w, Whiteout::Path("app/.env".into()));
        assert!(w.deletes("app/.env"));
        assert!(w.deletes("app/.env/inner"));
        assert!(!w.deletes("app/.envrc"));
        let o = whiteout(b"etc/secrets/.wh..wh..opq").unwrap().unwrap();
        assert!(o.deletes("etc/secrets/a"));
        assert!(!o.deletes("etc/secretsx/a"));
        assert!(!o.deletes("etc/secrets"));
        assert_eq!(whiteout(b".wh..wh.plnk/1.2"), None, "not a marker itself");
        assert_eq!(whiteout(b".wh..wh..plnk"), Some(None));
        assert_eq!(whiteout(b"app/main.py"), None);
        let all = vec![(3, w), (2, o)];
        assert_eq!(deleted_by(&all, 1, "/app/.env"), Some(3));
        assert_eq!(deleted_by(&all, 1, "etc/secrets/k"), Some(2));
        assert_eq!(deleted_by(&all, 2, "etc/secrets/k"), None, "same layer");
        assert_eq!(deleted_by(&all, 3, "app/.env"), None, "re-added later");
    }

    #[test]
    fn blob_paths_admit_no_escape() {
        assert_eq!(
            blob_path("sha256:abc123").as_deref(),
            Some("blobs/sha256/abc123")
        );
        assert_eq!(blob_path("sha256:../../etc/passwd"), None);
        assert_eq!(blob_path("../x:abc"), None);
        assert_eq!(blob_path("sha256:"), None);
        assert_eq!(blob_path("nocolon"), None);
    }

    #[test]
    fn config_fields_become_text() {
        let cfg = parse_config(
            br#"{"architecture":"amd64","config":{"Env":["PATH=/bin","TOKEN=x"],
            "Labels":{"a":"b"},"Cmd":["/bin/sh","-c","run"]},
            "history":[{"created_by":"ADD file"},{"created_by":"ENV TOKEN=x","empty_layer":true},
            {"created_by":"RUN rm x"}],"rootfs":{"type":"layers","diff_ids":["sha256:1","sha256:2"]}}"#,
        )
        .unwrap();
        assert_eq!(cfg.diff_ids, ["sha256:1", "sha256:2"]);
        assert_eq!(
            cfg.layer_history,
            [Some("ADD file".to_string()), Some("RUN rm x".to_string())]
        );
        let fields: HashMap<_, _> = cfg.fields.into_iter().collect();
        assert_eq!(fields["Env"], "PATH=/bin\nTOKEN=x\n");
        assert_eq!(fields["Labels"], "a=b\n");
        assert_eq!(fields["Cmd"], "/bin/sh -c run\n");
        assert_eq!(fields["history"], "ADD file\nENV TOKEN=x\nRUN rm x\n");
        assert!(fields["other"].contains("amd64"));
        assert!(!fields["other"].contains("TOKEN"));
        assert!(parse_config(b"[1]").is_err());
    }

    #[test]
    fn docker_manifests_name_layers() {
        let images = docker_images(
            br#"[{"Config":"c.json","RepoTags":["app:1"],"Layers":["abc/layer.tar",
            "blobs/sha256/00ff","0000000000000000000000000000000000000000000000000000000000000000.tar"]}]"#,
        )
        .unwrap();
        assert_eq!(images[0].reference.as_deref(), Some("app:1"));
        let digests: Vec<_> = images[0].layers.iter().map(|l| l.digest.clone()).collect();
        assert_eq!(
            digests,
            [
                None,
                Some("sha256:00ff".into()),
                Some(format!("sha256:{}", "0".repeat(64)))
            ]
        );
        assert!(docker_images(br#"{"name":"not docker"}"#).is_err());
        assert!(docker_images(br#"[{"x":1}]"#).is_err());
    }

    #[test]
    fn links_resolve_inside_the_archive() {
        assert_eq!(
            join_relative("a/b", "../c/layer.tar").as_deref(),
            Some("a/c/layer.tar")
        );
        assert_eq!(join_relative("a", "../../x"), None);
    }
}

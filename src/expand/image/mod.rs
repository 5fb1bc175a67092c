//! Container images: `docker save` tarballs, OCI image layouts (a folder or a tar) and, through
//! [`crate::source::registry`], images pulled from a registry.
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

//! The work is split by job: the documents that name images and layers (`manifest`), where
//! their blobs are (`store`), deleted files (`whiteout`), one layer (`layer`) and a
//! tarball read as a stream (`stream`); this module scans an image (config, then layers in
//! parallel) and opens the three ways an image arrives on disk (a tar, a tar stream, a layout
//! folder). Whether a tar is an image is decided by the expansion dispatcher, which asks
//! [`tar_image`] or [`looks_like_image_start`] before expanding a tar as a plain archive.

mod layer;
mod manifest;
mod store;
mod stream;
mod whiteout;
pub use layer::scan_layer;
pub use manifest::{ImageSpec, LayerSpec, docker_images, images_of};
pub use store::{Blobs, LayerBytes, MAX_JSON, blob_path};
pub use stream::{looks_like_image_start, tar_stream_image};

use std::collections::{BTreeSet, HashMap};

use std::path::Path;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde_json::Value;

use crate::blob::load::{self, LoadOptions};
use crate::blob::{Data, Origin, Segment};
use crate::expand::archive::{self, Member};
use crate::expand::limits::Tracker;
use crate::expand::{Expander, Sink};
use crate::finding::Finding;
use manifest::{Config, parse_config};
use store::{DirBlobs, TarBlobs, invalid, normalize};
use whiteout::{Holding, Whiteout, whiteout};

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
    // A layer listed several times is scanned once, at its first place; one scanned by an
    // earlier image of the same input is not read again. Both are reported as places.
    let mut first: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, l) in spec.layers.iter().enumerate() {
        first.entry(l.key.as_str()).or_insert((i, 0)).1 += 1;
    }
    let mut repeated: Vec<(&str, (usize, usize))> = first
        .iter()
        .filter(|(_, (_, n))| *n > 1)
        .map(|(k, v)| (*k, *v))
        .collect();
    repeated.sort_by_key(|(_, (i, _))| *i);
    for (key, (i, n)) in repeated {
        ex.sink.skipped(
            &image,
            format!(
                "layer {key} listed {n} times: its bytes were scanned once, as layer {}",
                i + 1
            ),
        );
    }
    let scan_here: Vec<bool> = spec
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            first.get(l.key.as_str()).is_some_and(|(f, _)| *f == i)
                && (streamed.layers.contains_key(&l.key) || tracker.first_time(&l.key))
        })
        .collect();
    for (i, l) in spec.layers.iter().enumerate() {
        if !scan_here[i] && first.get(l.key.as_str()).is_some_and(|(f, _)| *f == i) {
            ex.sink.skipped(
                &image,
                format!(
                    "layer {} ({}) was scanned as part of an earlier image of this input: \
                     its findings are reported there",
                    i + 1,
                    l.key
                ),
            );
        }
    }
    spec.layers.par_iter().enumerate().for_each(|(i, l)| {
        if inner.sink.stopped() || !scan_here[i] {
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
        match blobs.open_declared(&l.key, l.size) {
            Ok(bytes) => scan_layer(&inner, bytes, origin, &keep, tracker, depth),
            Err(e) => inner.sink.error(&origin, format!("layer {}: {e}", l.key)),
        }
    });
    let whiteouts = whiteouts.into_inner().unwrap_or_default();
    holding.release(image.depth(), &whiteouts);
    used
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
        let images = images_of(
            &blobs,
            &index,
            ImageSpec::default(),
            None,
            &mut |w| warnings.push(w),
            &|| ex.sink.stopped(),
        );
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
    // One image after another (each one's layers in parallel), so that a layer shared by
    // several images is scanned, and its findings reported, at the same place on every run.
    let used_by_images: Vec<BTreeSet<String>> = images
        .iter()
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

/// Whether `path` is a folder holding an OCI image layout (`oci-layout` and `index.json`).
pub fn is_layout_dir(path: &Path) -> bool {
    path.is_dir() && path.join("oci-layout").is_file() && path.join("index.json").is_file()
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
        images_of(
            &blobs,
            &index,
            ImageSpec::default(),
            None,
            &mut |w| warnings.push(w),
            &|| ex.sink.stopped(),
        )
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
        .iter()
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

//! An image tarball read as a stream (`docker save | gzip`, stdin), in one pass.
//!
//! The manifest of a `docker save` tarball comes last, so a stream cannot be opened as an image
//! up front: small members (manifests, configs) are kept until the end, large ones (layers) are
//! scanned as they stream by with their findings held, and at the end the manifest names the
//! images and the held findings get their image and layer segments (and deletions). If no image
//! manifest turns up, everything is reported as the plain members it is.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde_json::Value;

use super::layer::layer_stream;
use super::manifest::{ImageSpec, docker_images, images_of};
use super::store::{Blobs, MemBlobs, normalize};
use super::store::{blob_path, join_relative};
use super::whiteout::{Holding, Whiteout, whiteout};
use super::{Streamed, StreamedLayer, scan_image_with};
use crate::blob::{Data, Origin, Segment};
use crate::expand::Expander;
use crate::expand::archive::{self};
use crate::expand::limits::Tracker;

/// Members up to this size are kept in memory until the end of a streamed image tarball
/// (manifests, configs, small layers): 1 MiB.
pub(super) const SMALL_MEMBER: u64 = 1 << 20;

/// Kept members of one streamed image tarball, at most: 64 MiB. Past it, small members are
/// scanned as they come, as plain members.
pub(super) const SMALL_TOTAL: u64 = 64 << 20;

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
                let images = images_of(
                    &mem,
                    &index,
                    ImageSpec::default(),
                    None,
                    &mut |w| warnings.push(w),
                    &|| ex.sink.stopped(),
                );
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

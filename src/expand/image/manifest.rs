//! An image's documents: manifests, indexes (nested, multi-platform) and the config.
//!
//! Every way an image is stored (a `docker save` tarball, an OCI layout, a registry) names its
//! images with JSON documents. [`images_of`] follows an OCI/Docker manifest or index (nested
//! indexes up to a depth, one platform or all) to [`ImageSpec`]s, [`docker_images`] reads a
//! `docker save` `manifest.json`, and [`parse_config`] turns a config into the text ferret scans
//! (`Env`, `Labels`, `Cmd`, `Entrypoint`, the build `history`, the rest of the JSON) and the
//! per-layer facts it names (uncompressed digests, the command that made each layer).

use std::collections::HashSet;

use serde_json::Value;

use super::store::{Blobs, invalid, normalize};

/// How deep nested indexes are followed (an index of indexes of manifests is depth 2).
pub(super) const MAX_INDEX_DEPTH: usize = 4;

pub(super) const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";
pub(super) const CONTAINERD_NAME: &str = "io.containerd.image.name";

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
    /// Its size as the manifest declares it (`size`), where known.
    pub size: Option<u64>,
}

/// `os/arch[/variant]` of an OCI platform object.
pub(super) fn platform(v: &Value) -> Option<String> {
    let os = v.get("os")?.as_str()?;
    let arch = v.get("architecture")?.as_str()?;
    Some(match v.get("variant").and_then(Value::as_str) {
        Some(var) if !var.is_empty() => format!("{os}/{arch}/{var}"),
        _ => format!("{os}/{arch}"),
    })
}

pub(super) fn reference_of(desc: &Value) -> Option<String> {
    let ann = desc.get("annotations")?;
    ann.get(CONTAINERD_NAME)
        .or_else(|| ann.get(OCI_REF_NAME))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Whether a manifest document (or its descriptor's media type) is an index.
pub(super) fn is_index(media_type: Option<&str>, doc: &Value) -> bool {
    match media_type {
        Some(t) if t.contains("index") || t.contains("manifest.list") => true,
        _ => doc.get("manifests").is_some_and(Value::is_array) && doc.get("layers").is_none(),
    }
}

/// Images one input may name, at most: past it, the rest are not scanned (with a warning).
pub const MAX_IMAGES: usize = 1000;

/// The images a manifest document names: itself if it is an image manifest, the images of its
/// members (nested indexes followed) if it is an index. `spec` carries what is known from
/// outside (the reference, the digest); `wanted` keeps only one platform of an index's members
/// (`None`: all). Problems go to `warn`; the images that could be read are returned.
///
/// Each document is walked once: a digest listed again (anywhere in the walk) is not followed
/// again, a document that lists itself or one of the indexes above it is a cycle, and at most
/// `MAX_IMAGES` images are named. `stopped` is asked at every entry (an interrupt).
pub fn images_of(
    blobs: &dyn Blobs,
    doc: &Value,
    spec: ImageSpec,
    wanted: Option<&str>,
    warn: &mut dyn FnMut(String),
    stopped: &dyn Fn() -> bool,
) -> Vec<ImageSpec> {
    let mut walk = Walk {
        blobs,
        wanted,
        warn,
        stopped,
        seen: HashSet::new(),
        path: Vec::new(),
        out: Vec::new(),
        capped: false,
    };
    if let Some(d) = &spec.digest {
        walk.seen.insert(d.clone());
        walk.path.push(d.clone());
    }
    let media = doc.get("mediaType").and_then(Value::as_str);
    walk.doc(doc, media, spec, 0);
    walk.out
}

/// One walk of manifests and indexes.
struct Walk<'w> {
    blobs: &'w dyn Blobs,
    wanted: Option<&'w str>,
    warn: &'w mut dyn FnMut(String),
    stopped: &'w dyn Fn() -> bool,
    /// Digests walked already.
    seen: HashSet<String>,
    /// Digests of the indexes above the current one (a cycle comes back to one).
    path: Vec<String>,
    out: Vec<ImageSpec>,
    capped: bool,
}

impl Walk<'_> {
    fn doc(&mut self, doc: &Value, media: Option<&str>, mut spec: ImageSpec, depth: usize) {
        let name = spec.digest.clone().unwrap_or_else(|| "index".into());
        if is_index(media, doc) {
            if depth >= MAX_INDEX_DEPTH {
                (self.warn)(format!(
                    "index {name} nested more than {MAX_INDEX_DEPTH} deep: not followed"
                ));
                return;
            }
            let Some(manifests) = doc.get("manifests").and_then(Value::as_array) else {
                (self.warn)(format!("index {name} without a manifests list"));
                return;
            };
            let (mut again, mut cycles) = (0usize, 0usize);
            for desc in manifests {
                if (self.stopped)() || self.capped {
                    break;
                }
                let Some(digest) = desc.get("digest").and_then(Value::as_str) else {
                    (self.warn)(format!("index {name}: an entry without a digest"));
                    continue;
                };
                let plat = desc.get("platform").and_then(platform);
                if let (Some(w), Some(p)) = (self.wanted, &plat)
                    && w != p
                {
                    continue;
                }
                if self.path.iter().any(|p| p == digest) {
                    cycles += 1;
                    continue;
                }
                if !self.seen.insert(digest.to_string()) {
                    again += 1;
                    continue;
                }
                if self.out.len() >= MAX_IMAGES {
                    self.capped = true;
                    (self.warn)(format!(
                        "more than {MAX_IMAGES} images in one input: the rest are not scanned"
                    ));
                    break;
                }
                let child = ImageSpec {
                    reference: reference_of(desc).or_else(|| spec.reference.clone()),
                    digest: Some(digest.to_string()),
                    platform: plat.or_else(|| spec.platform.clone()),
                    ..ImageSpec::default()
                };
                let Some(key) = self.blobs.manifest_key(digest) else {
                    (self.warn)(format!("index {name}: unusable digest {digest:?}"));
                    continue;
                };
                let child_doc = match self.blobs.read_json(&key).and_then(|b| {
                    serde_json::from_slice::<Value>(&b).map_err(|e| invalid(e.to_string()))
                }) {
                    Ok(v) => v,
                    Err(e) => {
                        (self.warn)(format!("manifest {digest}: {e}"));
                        continue;
                    }
                };
                let media = desc
                    .get("mediaType")
                    .and_then(Value::as_str)
                    .or_else(|| child_doc.get("mediaType").and_then(Value::as_str));
                self.path.push(digest.to_string());
                self.doc(&child_doc, media, child, depth + 1);
                self.path.pop();
            }
            if cycles > 0 {
                (self.warn)(format!(
                    "index {name} lists itself or an index above it ({cycles} times, a cycle): \
                     not followed"
                ));
            }
            if again > 0 {
                (self.warn)(format!(
                    "index {name}: {again} entries listed again (documents already walked): \
                     each followed once"
                ));
            }
            return;
        }
        if doc.get("schemaVersion").and_then(Value::as_u64) == Some(1) {
            (self.warn)(format!(
                "manifest {name}: docker schema 1 manifests are not supported"
            ));
            return;
        }
        spec.config = doc
            .get("config")
            .and_then(|c| c.get("digest"))
            .and_then(Value::as_str)
            .and_then(|d| self.blobs.blob_key(d));
        for layer in doc
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(d) = layer.get("digest").and_then(Value::as_str) else {
                (self.warn)(format!("manifest {name}: a layer without a digest"));
                continue;
            };
            match self.blobs.blob_key(d) {
                Some(key) => spec.layers.push(LayerSpec {
                    key,
                    digest: Some(d.to_string()),
                    size: layer.get("size").and_then(Value::as_u64),
                }),
                None => (self.warn)(format!("manifest {name}: unusable layer digest {d:?}")),
            }
        }
        if self.out.len() >= MAX_IMAGES {
            if !self.capped {
                self.capped = true;
                (self.warn)(format!(
                    "more than {MAX_IMAGES} images in one input: the rest are not scanned"
                ));
            }
            return;
        }
        self.out.push(spec);
    }
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
                size: None,
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
pub(super) fn digest_from_path(path: &str) -> Option<String> {
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
pub(super) struct Config {
    pub(super) diff_ids: Vec<String>,
    /// `created_by` of the history entries that made a layer, in order.
    pub(super) layer_history: Vec<Option<String>>,
    /// `(field, text)` to scan.
    pub(super) fields: Vec<(&'static str, String)>,
}

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
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

pub(super) fn parse_config(bytes: &[u8]) -> Result<Config, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
}

//! Builders for binary fixtures, made in memory by code (never checked in): tar, tar.gz, zip,
//! gzip, bzip2, xz, zstd, safetensors, npy.

#![allow(dead_code)]

use std::io::Write;

/// A tar archive of `(path, bytes)` members. Paths are written as given (raw header bytes), so
/// `../x` and `/etc/x` can be made.
pub fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        {
            let name = &mut h.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
        }
        h.set_cksum();
        b.append(&h, *bytes).expect("tar append");
    }
    b.into_inner().expect("tar finish")
}

/// A tar with one symlink member pointing `to`, plus the given files.
pub fn tar_with_symlink(link: &str, to: &str, members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, link, to).expect("link");
    for (path, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, *bytes).expect("append");
    }
    b.into_inner().expect("tar finish")
}

/// gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip finish")
}

/// A zip of `(path, bytes)` members, deflated or stored.
pub fn zip(members: &[(&str, &[u8])], stored: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    for (path, bytes) in members {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(bytes.len() > u32::MAX as usize / 2);
        w.start_file(*path, opts).expect("zip entry");
        w.write_all(bytes).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A safetensors file with `metadata` in `__metadata__` and `payload` bytes of tensor data.
pub fn safetensors(metadata: &[(&str, &str)], payload: usize) -> Vec<u8> {
    let meta: serde_json::Map<String, serde_json::Value> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    let header = serde_json::json!({
        "__metadata__": meta,
        "weight": {"dtype": "F32", "shape": [payload / 4], "data_offsets": [0, payload]},
    })
    .to_string();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + payload, 0x41);
    out
}

/// zstd of `bytes`.
pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("zstd")
}

/// bzip2 of `bytes`.
pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(bytes).expect("bzip2");
    e.finish().expect("bzip2 finish")
}

/// xz of `bytes`.
pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))
        .expect("xz writer");
    w.write_all(bytes).expect("xz");
    w.finish().expect("xz finish")
}

/// `sha256:HEX` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// How an image's layers are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerCompression {
    Plain,
    Gzip,
    Zstd,
}

/// A test image: layer tars (uncompressed) with the history line that made each, plus config
/// `Env`, `Labels`, `Cmd` and extra history lines that made no layer (`ENV`, `LABEL`).
pub struct Image {
    pub reference: String,
    pub layers: Vec<(Vec<u8>, String)>,
    pub env: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub cmd: Vec<String>,
    /// `(position in history, created_by)` of entries with `empty_layer: true`.
    pub empty_history: Vec<(usize, String)>,
}

impl Image {
    /// The diff_ids (digests of the uncompressed layers).
    pub fn diff_ids(&self) -> Vec<String> {
        self.layers.iter().map(|(l, _)| sha256(l)).collect()
    }

    /// The config JSON, as `docker build` writes it.
    pub fn config(&self) -> Vec<u8> {
        let mut history: Vec<serde_json::Value> = self
            .layers
            .iter()
            .map(|(_, by)| serde_json::json!({"created": "2024-01-01T00:00:00Z", "created_by": by}))
            .collect();
        for (pos, by) in &self.empty_history {
            history.insert(
                (*pos).min(history.len()),
                serde_json::json!({"created_by": by, "empty_layer": true}),
            );
        }
        let labels: serde_json::Map<String, serde_json::Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": self.env, "Labels": labels, "Cmd": self.cmd},
            "history": history,
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids()},
        }))
        .expect("config json")
    }

    fn compressed(&self, c: LayerCompression) -> Vec<Vec<u8>> {
        self.layers
            .iter()
            .map(|(l, _)| match c {
                LayerCompression::Plain => l.clone(),
                LayerCompression::Gzip => gzip(l),
                LayerCompression::Zstd => zstd(l),
            })
            .collect()
    }

    /// A `docker save` tarball in the legacy layout (`ID/layer.tar`, `HEX.json`,
    /// `manifest.json`, `repositories`), layers compressed as asked.
    pub fn docker_save(&self, c: LayerCompression) -> Vec<u8> {
        let config = self.config();
        let config_name = format!("{}.json", &sha256(&config)[7..]);
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        let mut layer_paths = Vec::new();
        for (i, bytes) in self.compressed(c).into_iter().enumerate() {
            // Legacy layer IDs are not content digests.
            let id = format!("{:064x}", i + 1);
            members.push((format!("{id}/VERSION"), b"1.0".to_vec()));
            members.push((format!("{id}/layer.tar"), bytes));
            layer_paths.push(format!("{id}/layer.tar"));
        }
        members.push((config_name.clone(), config));
        let manifest = serde_json::json!([{
            "Config": config_name,
            "RepoTags": [self.reference],
            "Layers": layer_paths,
        }]);
        members.push((
            "manifest.json".into(),
            serde_json::to_vec(&manifest).expect("manifest"),
        ));
        members.push(("repositories".into(), b"{}".to_vec()));
        let refs: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_slice()))
            .collect();
        tar(&refs)
    }

    /// The files of an OCI image layout holding this image (and, if given, a second platform
    /// variant of it behind a nested index), layers compressed as asked.
    pub fn oci_layout(&self, c: LayerCompression, arm: Option<&Image>) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![(
            "oci-layout".to_string(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        )];
        let media = match c {
            LayerCompression::Plain => "application/vnd.oci.image.layer.v1.tar",
            LayerCompression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            LayerCompression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        };
        let manifest_of = |img: &Image, files: &mut Vec<(String, Vec<u8>)>| {
            let config = img.config();
            let cd = sha256(&config);
            files.push((format!("blobs/sha256/{}", &cd[7..]), config.clone()));
            let layers: Vec<serde_json::Value> = img
                .compressed(c)
                .into_iter()
                .map(|b| {
                    let d = sha256(&b);
                    let desc =
                        serde_json::json!({"mediaType": media, "digest": d, "size": b.len()});
                    files.push((format!("blobs/sha256/{}", &d[7..]), b));
                    desc
                })
                .collect();
            let m = serde_json::to_vec(&serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
                "layers": layers,
            }))
            .expect("manifest");
            let md = sha256(&m);
            files.push((format!("blobs/sha256/{}", &md[7..]), m.clone()));
            (md, m.len())
        };
        let tag = self
            .reference
            .rsplit_once(':')
            .map_or("latest", |(_, t)| t)
            .to_string();
        let (md, len) = manifest_of(self, &mut files);
        let index = match arm {
            None => serde_json::json!({
                "schemaVersion": 2,
                "manifests": [{
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": md, "size": len,
                    "annotations": {"org.opencontainers.image.ref.name": tag},
                }],
            }),
            Some(other) => {
                let (ad, alen) = manifest_of(other, &mut files);
                let nested = serde_json::to_vec(&serde_json::json!({
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [
                        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len,
                         "platform": {"os": "linux", "architecture": "amd64"}},
                        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ad, "size": alen,
                         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                    ],
                }))
                .expect("index");
                let nd = sha256(&nested);
                files.push((format!("blobs/sha256/{}", &nd[7..]), nested.clone()));
                serde_json::json!({
                    "schemaVersion": 2,
                    "manifests": [{
                        "mediaType": "application/vnd.oci.image.index.v1+json",
                        "digest": nd, "size": nested.len(),
                        "annotations": {"org.opencontainers.image.ref.name": tag},
                    }],
                })
            }
        };
        files.push((
            "index.json".into(),
            serde_json::to_vec(&index).expect("index"),
        ));
        files
    }
}

/// A tar of `(path, bytes)` files (an OCI layout in a tar).
pub fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    tar(&refs)
}

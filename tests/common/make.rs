//! Builders for binary fixtures, made in memory by code (never checked in): tar, tar.gz, zip,
//! gzip, bzip2, xz, zstd, safetensors, npy, container images, notebooks, pickles and PyTorch
//! checkpoints (zip and legacy), GGUF and ONNX. The model formats are written from their
//! published specs (pickle opcodes as in CPython's `pickletools`, `torch.save`'s zip layout, the
//! GGUF spec in ggml's `docs/gguf.md`, `onnx.proto`), so the tests do not need Python, PyTorch
//! or ONNX to run.

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

/// gzip of `bytes` in stored (uncompressed) deflate blocks: cheap to nest thousands deep.
pub fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
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

/// A notebook (nbformat 4) with `cells`, each `(cell_type, source, outputs)` (outputs are
/// nbformat output objects), and notebook-level `metadata`.
pub fn notebook(
    cells: &[(&str, &str, Vec<serde_json::Value>)],
    metadata: serde_json::Value,
) -> Vec<u8> {
    let cells: Vec<serde_json::Value> = cells
        .iter()
        .map(|(kind, source, outputs)| {
            // Jupyter writes sources as lists of lines, each keeping its newline.
            let lines: Vec<&str> = source.split_inclusive('\n').collect();
            let mut cell = serde_json::json!({
                "cell_type": kind,
                "metadata": {},
                "source": lines,
            });
            if *kind == "code" {
                cell["outputs"] = serde_json::Value::Array(outputs.clone());
                cell["execution_count"] = serde_json::json!(1);
            }
            cell
        })
        .collect();
    let nb = serde_json::json!({
        "cells": cells,
        "metadata": metadata,
        "nbformat": 4,
        "nbformat_minor": 5,
    });
    // Jupyter's own layout: one-space indent, keys sorted.
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&nb, &mut ser).expect("notebook json");
    out.push(b'\n');
    out
}

/// A base64 string of `n` bytes of PNG-looking data (a large image output).
pub fn png_base64(n: usize) -> String {
    use base64::Engine as _;
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut g = crate::common::secrets::Gen::new(99);
    while bytes.len() < n {
        bytes.extend_from_slice(&g.next().to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(&bytes)
}

/// A value for the small pickler below.
pub enum Py {
    Str(String),
    Int(i32),
    Float(f64),
    Dict(Vec<(String, Py)>),
    List(Vec<Py>),
    /// `module.name(*args)` through `GLOBAL` + `REDUCE`.
    Call(&'static str, &'static str, Vec<Py>),
    /// A PyTorch tensor: `torch._utils._rebuild_tensor_v2` over a persistent storage id.
    Tensor(&'static str),
    /// `collections.OrderedDict` with these items (pickled as REDUCE then SETITEMS).
    Ordered(Vec<(String, Py)>),
}

/// Pickles `v` in protocol 2, the way `torch.save` does (memoized with BINPUT).
pub fn pickle(v: &Py) -> Vec<u8> {
    let mut out = b"\x80\x02".to_vec();
    let mut memo = 0u8;
    pickle_value(v, &mut out, &mut memo);
    out.push(b'.');
    out
}

fn put(out: &mut Vec<u8>, memo: &mut u8) {
    out.extend_from_slice(&[b'q', *memo]);
    *memo = memo.wrapping_add(1);
}

fn pickle_str(s: &str, out: &mut Vec<u8>, memo: &mut u8) {
    out.push(b'X');
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    put(out, memo);
}

fn pickle_items(items: &[(String, Py)], out: &mut Vec<u8>, memo: &mut u8) {
    out.push(b'(');
    for (k, v) in items {
        pickle_str(k, out, memo);
        pickle_value(v, out, memo);
    }
    out.push(b'u');
}

fn pickle_value(v: &Py, out: &mut Vec<u8>, memo: &mut u8) {
    match v {
        Py::Str(s) => pickle_str(s, out, memo),
        Py::Int(i) => {
            out.push(b'J');
            out.extend_from_slice(&i.to_le_bytes());
        }
        Py::Float(f) => {
            out.push(b'G');
            out.extend_from_slice(&f.to_be_bytes());
        }
        Py::Dict(items) => {
            out.push(b'}');
            put(out, memo);
            pickle_items(items, out, memo);
        }
        Py::List(items) => {
            out.push(b']');
            put(out, memo);
            out.push(b'(');
            for i in items {
                pickle_value(i, out, memo);
            }
            out.push(b'e');
        }
        Py::Call(module, name, args) => {
            out.extend_from_slice(format!("c{module}\n{name}\n").as_bytes());
            put(out, memo);
            out.push(b'(');
            for a in args {
                pickle_value(a, out, memo);
            }
            out.push(b't');
            out.push(b'R');
            put(out, memo);
        }
        Py::Tensor(key) => {
            out.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n");
            put(out, memo);
            out.push(b'(');
            // Persistent id: ('storage', torch.FloatStorage, key, 'cpu', 4).
            out.push(b'(');
            pickle_str("storage", out, memo);
            out.extend_from_slice(b"ctorch\nFloatStorage\n");
            put(out, memo);
            pickle_str(key, out, memo);
            pickle_str("cpu", out, memo);
            out.extend_from_slice(b"K\x04t");
            put(out, memo);
            out.push(b'Q');
            out.extend_from_slice(b"K\x00K\x04\x85K\x01\x85\x89");
            out.extend_from_slice(b"ccollections\nOrderedDict\n)R");
            put(out, memo);
            out.extend_from_slice(b"tR");
            put(out, memo);
        }
        Py::Ordered(items) => {
            out.extend_from_slice(b"ccollections\nOrderedDict\n");
            put(out, memo);
            out.extend_from_slice(b")R");
            put(out, memo);
            pickle_items(items, out, memo);
        }
    }
}

/// A PyTorch zip checkpoint (`torch.save` layout): `archive/data.pkl`, one stored
/// `archive/data/<key>` member per storage, `archive/version`, `archive/byteorder`.
pub fn torch_zip(object: &Py, storages: &[(&str, &[u8])]) -> Vec<u8> {
    let data_pkl = pickle(object);
    let mut members: Vec<(String, Vec<u8>)> = vec![
        ("archive/data.pkl".into(), data_pkl),
        ("archive/byteorder".into(), b"little".to_vec()),
    ];
    for (key, bytes) in storages {
        members.push((format!("archive/data/{key}"), bytes.to_vec()));
    }
    members.push(("archive/version".into(), b"3\n".to_vec()));
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    zip(&refs, true)
}

/// A legacy (pre-1.6, non-zip) PyTorch file: magic, protocol, system info and the object as
/// four pickles, the storage keys as a fifth, then raw storages (8-byte count + bytes).
pub fn torch_legacy(object: &Py, storages: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    out.extend_from_slice(b"\x80\x02M\xe9\x03.");
    out.extend(pickle(&Py::Dict(vec![
        ("protocol_version".into(), Py::Int(1001)),
        ("little_endian".into(), Py::Int(1)),
    ])));
    out.extend(pickle(object));
    let keys = Py::List(
        storages
            .iter()
            .map(|(k, _)| Py::Str(k.to_string()))
            .collect(),
    );
    out.extend(pickle(&keys));
    for (_, bytes) in storages {
        out.extend_from_slice(&((bytes.len() / 4) as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// A GGUF (version 3) file with string metadata `strings`, a string array, a float array,
/// one tensor description and `payload` bytes of tensor data (aligned to 32).
pub fn gguf(strings: &[(&str, &str)], tokens: &[&str], payload: &[u8]) -> Vec<u8> {
    fn s(out: &mut Vec<u8>, v: &str) {
        out.extend_from_slice(&(v.len() as u64).to_le_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    let mut out = b"GGUF".to_vec();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&1u64.to_le_bytes()); // tensors
    out.extend_from_slice(&((strings.len() + 3) as u64).to_le_bytes());
    s(&mut out, "general.alignment");
    out.extend_from_slice(&4u32.to_le_bytes()); // UINT32
    out.extend_from_slice(&32u32.to_le_bytes());
    for (k, v) in strings {
        s(&mut out, k);
        out.extend_from_slice(&8u32.to_le_bytes()); // STRING
        s(&mut out, v);
    }
    s(&mut out, "tokenizer.ggml.scores");
    out.extend_from_slice(&9u32.to_le_bytes()); // ARRAY
    out.extend_from_slice(&6u32.to_le_bytes()); // of FLOAT32
    out.extend_from_slice(&3u64.to_le_bytes());
    out.extend_from_slice(&[0u8; 12]);
    s(&mut out, "tokenizer.ggml.tokens");
    out.extend_from_slice(&9u32.to_le_bytes()); // ARRAY
    out.extend_from_slice(&8u32.to_le_bytes()); // of STRING
    out.extend_from_slice(&(tokens.len() as u64).to_le_bytes());
    for t in tokens {
        s(&mut out, t);
    }
    // Tensor description: name, 1 dimension, F32, offset 0.
    s(&mut out, "token_embd.weight");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&((payload.len() / 4) as u64).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    while !out.len().is_multiple_of(32) {
        out.push(0);
    }
    out.extend_from_slice(payload);
    out
}

/// Protobuf wire helpers for the ONNX builder.
fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn field_bytes(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    varint(out, number << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn field_varint(out: &mut Vec<u8>, number: u64, v: u64) {
    varint(out, number << 3);
    varint(out, v);
}

/// An ONNX `ModelProto` (by onnx.proto): one `Add` node with a doc string, an initializer with
/// `raw_data`, inputs and outputs, and `metadata_props`.
pub fn onnx(metadata: &[(&str, &str)], node_doc: &str, raw_data: &[u8]) -> Vec<u8> {
    let mut node = Vec::new();
    field_bytes(&mut node, 1, b"x");
    field_bytes(&mut node, 1, b"w");
    field_bytes(&mut node, 2, b"y");
    field_bytes(&mut node, 3, b"add0");
    field_bytes(&mut node, 4, b"Add");
    field_bytes(&mut node, 6, node_doc.as_bytes());
    let mut init = Vec::new();
    field_varint(&mut init, 1, (raw_data.len() / 4) as u64); // dims
    field_varint(&mut init, 2, 1); // FLOAT
    field_bytes(&mut init, 8, b"w");
    field_bytes(&mut init, 9, raw_data);
    let value_info = |name: &[u8]| {
        let mut v = Vec::new();
        field_bytes(&mut v, 1, name);
        v
    };
    let mut graph = Vec::new();
    field_bytes(&mut graph, 1, &node);
    field_bytes(&mut graph, 2, b"main");
    field_bytes(&mut graph, 5, &init);
    field_bytes(&mut graph, 11, &value_info(b"x"));
    field_bytes(&mut graph, 12, &value_info(b"y"));
    let mut model = Vec::new();
    field_varint(&mut model, 1, 9); // ir_version
    field_bytes(&mut model, 2, b"ferret-tests");
    field_bytes(&mut model, 3, b"1.0");
    field_bytes(&mut model, 7, &graph);
    let mut opset = Vec::new();
    field_varint(&mut opset, 2, 19);
    field_bytes(&mut model, 8, &opset);
    for (k, v) in metadata {
        let mut e = Vec::new();
        field_bytes(&mut e, 1, k.as_bytes());
        field_bytes(&mut e, 2, v.as_bytes());
        field_bytes(&mut model, 14, &e);
    }
    model
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

//! Where an image's blobs are: a tar (mapped or in memory), an OCI layout folder, or (in
//! [`crate::source::registry`]) a registry.
//!
//! [`Blobs`] opens a blob by key (a path in a tar or folder, a digest in a registry) as
//! random-access data or a stream; every key that comes from a document is checked first
//! ([`blob_path`]: no digest names a path outside `blobs/`; links inside a tar are resolved
//! without climbing above its root), and documents are read within [`MAX_JSON`] bytes.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use crate::blob::Data;
use crate::blob::load::{self, LoadOptions};
use crate::expand::archive::Member;

/// The largest manifest, index or config read (JSON documents): 16 MiB.
pub const MAX_JSON: u64 = 16 << 20;

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

    /// The bytes stored under `key`, which its descriptor says are `size` bytes long: a store
    /// that streams (a registry) stops with an error past that size instead of reading on.
    /// Default: [`Blobs::open`].
    fn open_declared(&self, key: &str, size: Option<u64>) -> io::Result<LayerBytes> {
        let _ = size;
        self.open(key)
    }

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

pub(super) fn too_large(key: &str, len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{key}: {len} bytes is more than the {MAX_JSON} bytes a manifest or config may have"
        ),
    )
}

pub(super) fn invalid(message: impl Into<String>) -> io::Error {
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
pub(super) fn normalize(path: &str) -> &str {
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

/// The members of a tar by normalized path, links resolved.
pub(super) struct TarBlobs<'a> {
    pub(super) data: &'a Arc<Data>,
    pub(super) by_path: HashMap<String, &'a Member>,
}

impl TarBlobs<'_> {
    pub(super) fn resolve(&self, key: &str) -> Option<&Member> {
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
pub(super) fn join_relative(dir: &str, target: &str) -> Option<String> {
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

/// Small members of a streamed tarball, by path, with its links.
pub(super) struct MemBlobs {
    pub(super) small: HashMap<String, Vec<u8>>,
    pub(super) links: HashMap<String, String>,
}

impl MemBlobs {
    pub(super) fn resolve(&self, key: &str) -> String {
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

pub(super) struct DirBlobs<'a> {
    pub(super) root: &'a Path,
    pub(super) load: LoadOptions,
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn links_resolve_inside_the_archive() {
        assert_eq!(
            join_relative("a/b", "../c/layer.tar").as_deref(),
            Some("a/c/layer.tar")
        );
        assert_eq!(join_relative("a", "../../x"), None);
    }
}

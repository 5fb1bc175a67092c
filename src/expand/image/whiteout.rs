//! Deleted files: whiteout markers and the findings they mark.
//!
//! A layer deletes a file of a lower layer with a marker (`.wh.NAME`, or `.wh..wh..opq` for a
//! whole folder). Markers are not scanned but noted; the image's findings are held until every
//! layer is read ([`Holding`]), then those in files a later layer deleted get a `[deleted in
//! layer N]` segment. They are still findings: the bytes are in the image for anyone who pulls
//! it.

use std::sync::Mutex;

use super::store::normalize;
use crate::blob::{Origin, Segment};
use crate::expand::Sink;
use crate::finding::Finding;
use crate::summary::WarningKind;

/// What a whiteout marker deletes from the layers below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Whiteout {
    /// `dir/.wh.name`: the path `dir/name` and everything under it.
    Path(String),
    /// `dir/.wh..wh..opq`: everything under `dir` (the root when empty).
    Opaque(String),
}

/// The whiteout a member path is, if it is one; `Some(None)` for other `.wh.` markers (aufs
/// hard-link bookkeeping), which delete nothing and are not scanned either.
pub(super) fn whiteout(path: &[u8]) -> Option<Option<Whiteout>> {
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
    pub(super) fn deletes(&self, path: &str) -> bool {
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
pub(super) fn deleted_by(
    whiteouts: &[(usize, Whiteout)],
    layer: usize,
    path: &str,
) -> Option<usize> {
    let path = normalize(path);
    whiteouts
        .iter()
        .filter(|(l, w)| *l > layer && w.deletes(path))
        .map(|(l, _)| *l)
        .min()
}

/// Holds an image's findings until all its layers are read, then marks the deleted ones.
pub(super) struct Holding<'s> {
    pub(super) inner: &'s dyn Sink,
    pub(super) held: Mutex<Vec<Finding>>,
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
    pub(super) fn new(inner: &'s dyn Sink) -> Holding<'s> {
        Holding {
            inner,
            held: Mutex::new(Vec::new()),
        }
    }

    /// The held findings, as they are.
    pub(super) fn take(self) -> Vec<Finding> {
        self.held.into_inner().unwrap_or_default()
    }

    /// Sends the held findings on; `layer_at` is the position of the layer segment in their
    /// origins.
    pub(super) fn release(self, layer_at: usize, whiteouts: &[(usize, Whiteout)]) {
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
}

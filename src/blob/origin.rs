//! Where a blob came from: a chain of segments, outermost first.
//!
//! `dist/app.tar › layer sha256:ab12… › app/.env` is three segments: the file on disk, a layer
//! inside it, an entry inside the layer. Chains share their prefixes (`Arc`), so the thousand
//! entries of one archive cost one copy of the archive's path. Every finding carries its
//! origin; reports print it with [`std::fmt::Display`] and serialize it as an array of segments.

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
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::File { path } => f.write_str(path),
            Segment::Stdin => f.write_str("<stdin>"),
            Segment::Object { url } => f.write_str(url),
            Segment::Entry { path } => f.write_str(path),
            Segment::Decompressed { format } => write!(f, "({format})"),
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
                Segment::File { path } | Segment::Entry { path } => return path,
                Segment::Object { url } => return url,
                Segment::Stdin => return "",
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
        assert_eq!(
            json,
            serde_json::json!([
                {"kind": "file", "path": "dist/app.tar"},
                {"kind": "file", "path": "inner.txt"}
            ])
        );
    }
}

//! Hugging Face caches: files named by their place on the Hub, each blob scanned once.
//!
//! `huggingface_hub` keeps what it downloads in `HF_HOME/hub` (`~/.cache/huggingface/hub`):
//!
//! ```text
//! models--ORG--NAME/            (also datasets--ORG--NAME, spaces--ORG--NAME)
//!   blobs/<etag>                the files' bytes, one blob per content
//!   refs/main                   the commit a branch or tag points to
//!   snapshots/<commit>/PATH     symbolic links into ../../blobs (copies where links fail)
//! ```
//!
//! A walk does not follow the links, so it meets the blobs, named by hashes that tell a
//! responder nothing. [`Hub::place`] names a blob by the place that links it:
//! `hf://ORG/NAME@COMMIT/PATH` (`hf://datasets/…`, `hf://spaces/…`), as a [`Segment::Hub`] that
//! also keeps the blob's path on disk and the other revisions that link the same bytes. The
//! revision a ref points to (`main` first) names it when there is one. A blob is scanned once
//! per scan however many revisions link it, and however the walk reaches it (through its blob
//! path, or through a snapshot link with `--follow-symlinks`); a snapshot file that is a copy
//! (no links) is scanned under its own name.
//!
//! The token the Hub's login stores (`HF_HOME/token`, and the named tokens of
//! `HF_HOME/stored_tokens`) is recognised: its origin says what it is (`huggingface/token ›
//! Hub token file`).
//!
//! The index of a repository's snapshots is built the first time one of its files is met,
//! with one `read_dir` per folder of `snapshots/`, and kept for the scan.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::blob::{Origin, Segment};

/// How the walk should treat one file.
#[derive(Debug)]
pub enum Place {
    /// Not in a Hugging Face cache (or nothing to add): named as a file.
    Plain,
    /// In a cache: scan it under this origin.
    Named(Origin),
    /// These bytes were already scanned in this scan (another path to the same blob).
    Seen,
}

/// One repository of the cache: where each blob is linked from.
#[derive(Debug, Default)]
struct Index {
    /// Blob file name → `(revision, path in the repository)`, preferred first.
    links: HashMap<String, Vec<(String, String)>>,
}

/// What one scan knows about the caches it meets.
#[derive(Debug, Default)]
pub struct Hub {
    repos: Mutex<HashMap<PathBuf, Arc<Index>>>,
    seen: Mutex<HashSet<(u64, u64)>>,
}

/// `(type, "ORG/NAME")` from a cache folder name (`models--ORG--NAME`).
pub fn repo_of(folder: &str) -> Option<(&'static str, String)> {
    let (kind, rest) = if let Some(r) = folder.strip_prefix("models--") {
        ("model", r)
    } else if let Some(r) = folder.strip_prefix("datasets--") {
        ("dataset", r)
    } else if let Some(r) = folder.strip_prefix("spaces--") {
        ("space", r)
    } else {
        return None;
    };
    if rest.is_empty() {
        return None;
    }
    Some((kind, rest.replacen("--", "/", 1)))
}

impl Hub {
    /// An empty memory, for one scan.
    pub fn new() -> Hub {
        Hub::default()
    }

    /// How to name (or whether to skip) the file at `path`, shown as `display`.
    pub fn place(&self, path: &Path, display: &str) -> Place {
        if let Some(token) = token_file(path) {
            return Place::Named(Origin::file(display).child(Segment::Key { path: token.into() }));
        }
        let Some((repo_dir, rest)) = split_repo(path) else {
            return Place::Plain;
        };
        let Some(folder) = repo_dir.file_name().and_then(|n| n.to_str()) else {
            return Place::Plain;
        };
        let Some((kind, repo)) = repo_of(folder) else {
            return Place::Plain;
        };
        let mut parts = rest.iter();
        let (revision, in_repo, blob) = match parts.next().map(String::as_str) {
            Some("blobs") if rest.len() == 2 => {
                let blob = rest[1].clone();
                let index = self.index(&repo_dir);
                let Some(first) = index.links.get(&blob).and_then(|l| l.first()) else {
                    // A blob no snapshot links (a revision since removed): its file name.
                    return Place::Plain;
                };
                (first.0.clone(), first.1.clone(), Some(blob))
            }
            Some("snapshots") if rest.len() >= 3 => {
                let revision = rest[1].clone();
                let in_repo = rest[2..].join("/");
                // A link into blobs/: named by the blob, so that it is scanned once.
                let blob = std::fs::symlink_metadata(path)
                    .ok()
                    .filter(|m| m.file_type().is_symlink())
                    .and_then(|_| std::fs::read_link(path).ok())
                    .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()));
                // Named as when the walk meets the blob itself, whichever link led here.
                let preferred = blob.as_ref().and_then(|b| {
                    self.index(&repo_dir)
                        .links
                        .get(b)
                        .and_then(|l| l.first().cloned())
                });
                match preferred {
                    Some((r, p)) => (r, p, blob),
                    None => (revision, in_repo, blob),
                }
            }
            _ => return Place::Plain,
        };
        if !self.first_time(path) {
            return Place::Seen;
        }
        let also = match &blob {
            Some(b) => self
                .index(&repo_dir)
                .links
                .get(b)
                .map(|l| {
                    l.iter()
                        .filter(|(r, p)| !(*r == revision && *p == in_repo))
                        .map(|(r, p)| format!("{r}/{p}"))
                        .collect()
                })
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let file = match &blob {
            Some(b) => repo_dir
                .join("blobs")
                .join(b)
                .to_string_lossy()
                .into_owned(),
            None => display.to_string(),
        };
        Place::Named(Origin::new(Segment::Hub {
            repo_type: kind.into(),
            repo,
            revision,
            path: in_repo,
            file,
            also,
        }))
    }

    /// Whether the bytes at `path` (by device and inode, links followed) are met for the
    /// first time in this scan.
    fn first_time(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return true;
        };
        match self.seen.lock() {
            Ok(mut seen) => seen.insert((meta.dev(), meta.ino())),
            Err(_) => true,
        }
    }

    fn index(&self, repo_dir: &Path) -> Arc<Index> {
        if let Ok(repos) = self.repos.lock()
            && let Some(i) = repos.get(repo_dir)
        {
            return Arc::clone(i);
        }
        let index = Arc::new(build_index(repo_dir));
        if let Ok(mut repos) = self.repos.lock() {
            repos.insert(repo_dir.to_path_buf(), Arc::clone(&index));
        }
        index
    }
}

/// The repository folder (`…/models--ORG--NAME`) holding `path`, and the components after it.
fn split_repo(path: &Path) -> Option<(PathBuf, Vec<String>)> {
    let parts: Vec<&std::ffi::OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    let at = parts
        .iter()
        .rposition(|p| p.to_str().is_some_and(|s| repo_of(s).is_some()))?;
    // The repository folder is the last `models--…` component whose next one is `blobs` or
    // `snapshots`.
    let next = parts.get(at + 1)?.to_str()?;
    if next != "blobs" && next != "snapshots" {
        return None;
    }
    let mut repo_dir = PathBuf::new();
    let mut seen = 0;
    for c in path.components() {
        repo_dir.push(c.as_os_str());
        if matches!(c, Component::Normal(_)) {
            seen += 1;
            if seen == at + 1 {
                break;
            }
        }
    }
    let rest = parts[at + 1..]
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    Some((repo_dir, rest))
}

/// Every link of `snapshots/REV/…` into `blobs/`, revisions that refs point to first.
fn build_index(repo_dir: &Path) -> Index {
    let mut preferred: Vec<String> = Vec::new();
    let refs = repo_dir.join("refs");
    let mut ref_names: Vec<(String, String)> = Vec::new();
    let mut stack = vec![refs.clone()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(commit) = std::fs::read_to_string(&p) {
                let name = p
                    .strip_prefix(&refs)
                    .map(|r| r.to_string_lossy().into_owned())
                    .unwrap_or_default();
                ref_names.push((name, commit.trim().to_string()));
            }
        }
    }
    ref_names.sort_by_key(|(n, _)| (n != "main", n.clone()));
    for (_, commit) in ref_names {
        if !preferred.contains(&commit) {
            preferred.push(commit);
        }
    }
    let mut links: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let snapshots = repo_dir.join("snapshots");
    let Ok(revisions) = std::fs::read_dir(&snapshots) else {
        return Index { links };
    };
    for rev in revisions.flatten() {
        let revision = rev.file_name().to_string_lossy().into_owned();
        let mut stack = vec![rev.path()];
        // Bounded: a cache folder a user made into a loop is not followed (links are read,
        // never entered).
        let mut folders = 0;
        while let Some(d) = stack.pop() {
            folders += 1;
            if folders > 100_000 {
                break;
            }
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    stack.push(p);
                } else if ft.is_symlink()
                    && let Ok(target) = std::fs::read_link(&p)
                    && target.parent().and_then(Path::file_name) == Some("blobs".as_ref())
                    && let Some(blob) = target.file_name()
                {
                    let in_repo = p
                        .strip_prefix(rev.path())
                        .map(|r| r.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    links
                        .entry(blob.to_string_lossy().into_owned())
                        .or_default()
                        .push((revision.clone(), in_repo));
                }
            }
        }
    }
    for places in links.values_mut() {
        places.sort_by_key(|(rev, path)| {
            let rank = preferred
                .iter()
                .position(|p| p == rev)
                .unwrap_or(usize::MAX);
            (rank, rev.clone(), path.clone())
        });
    }
    Index { links }
}

/// What a Hugging Face token file is, if `path` is one: `HF_HOME/token` or
/// `HF_HOME/stored_tokens` (a folder named `huggingface`, or one that holds `hub/`).
fn token_file(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    let what = match name {
        "token" => "Hub token file",
        "stored_tokens" => "Hub stored tokens",
        _ => return None,
    };
    let home = path.parent()?;
    let is_home = home.file_name().is_some_and(|n| n == "huggingface") || home.join("hub").is_dir();
    is_home.then_some(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_folder_names_give_the_repository() {
        assert_eq!(
            repo_of("models--acme--tiny-llm"),
            Some(("model", "acme/tiny-llm".into()))
        );
        assert_eq!(repo_of("models--gpt2"), Some(("model", "gpt2".into())));
        assert_eq!(
            repo_of("datasets--acme--chats"),
            Some(("dataset", "acme/chats".into()))
        );
        assert_eq!(repo_of("spaces--a--b"), Some(("space", "a/b".into())));
        assert_eq!(repo_of("models--"), None);
        assert_eq!(repo_of("notes"), None);
    }

    #[test]
    fn paths_split_at_the_repository_folder() {
        let (dir, rest) = split_repo(Path::new(
            "/home/u/.cache/huggingface/hub/models--a--b/snapshots/abc/sub/config.json",
        ))
        .unwrap();
        assert_eq!(
            dir,
            Path::new("/home/u/.cache/huggingface/hub/models--a--b")
        );
        assert_eq!(rest, ["snapshots", "abc", "sub", "config.json"]);
        assert!(split_repo(Path::new("models--a--b/refs/main")).is_none());
        assert!(split_repo(Path::new("src/main.rs")).is_none());
    }
}

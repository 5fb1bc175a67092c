//! Walking the paths the user named: which files to scan, which to skip, and why.
//!
//! Paths named on the command line are always scanned (a named symlink is followed, an
//! excluded pattern does not hide it). Inside folders, symbolic links are not followed unless
//! asked, `--exclude` globs prune files and folders, and files over `--max-file-size` are
//! skipped with a warning. Anything that is not a regular file (FIFO, socket, device) met inside
//! a folder is skipped with a warning: reading a FIFO could block forever and a device could be
//! endless. A FIFO named on the command line (`ferret scan <(cmd)`, `cmd | ferret scan
//! /dev/stdin`) is what the user asked for: it is read as a stream ([`WalkEvent::Stream`]).

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

/// What the walk yields.
#[derive(Debug)]
pub enum WalkEvent {
    /// A regular file to scan.
    File(FileItem),
    /// A FIFO named on the command line, to read as a stream (its size is 0).
    Stream(FileItem),
    /// Something not scanned on purpose.
    Skipped {
        /// The path as displayed.
        path: String,
        /// Why.
        reason: String,
        /// Whether the user should see a warning (a skipped symlink is routine; a skipped
        /// large file is not).
        warn: bool,
    },
    /// A folder holding an OCI image layout (`oci-layout` and `index.json`), met inside a
    /// walked folder: scanned as an image, not as loose files named by digest. `size` is 0.
    Layout(FileItem),
    /// Something that could not be read.
    Error {
        /// The path as displayed.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// A file to scan.
#[derive(Debug, Clone)]
pub struct FileItem {
    /// Path to open.
    pub path: PathBuf,
    /// Path as shown in reports (the user's spelling, without a leading `./`).
    pub display: String,
    /// Size from the walk's metadata.
    pub size: u64,
}

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Globs of paths not to scan (matched on the path relative to the named folder, and on the
    /// file name).
    pub excludes: Vec<String>,
    /// Follow symbolic links inside folders. Default: no.
    pub follow_symlinks: bool,
    /// Skip files larger than this. Default: no limit.
    pub max_file_size: Option<u64>,
    /// Files never to scan, by (device, inode): the report being written. Default: none.
    pub skip_files: Vec<(u64, u64)>,
}

/// Compiles exclude globs.
pub fn build_globs(globs: &[String]) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| Error::Glob {
            glob: g.clone(),
            message: e.kind().to_string(),
        })?;
        b.add(glob);
    }
    b.build().map_err(|e| Error::Glob {
        glob: globs.join(", "),
        message: e.to_string(),
    })
}

/// Shows a path the way the user wrote it, without a leading `./`.
pub fn display(path: &Path) -> String {
    let s = path.to_string_lossy();
    let mut t: &str = &s;
    while let Some(rest) = t.strip_prefix("./") {
        t = rest;
    }
    if t.is_empty() { ".".into() } else { t.into() }
}

/// Walks `roots` and yields what to scan. The iterator is `Send` so workers can pull from it.
pub fn walk(
    roots: Vec<PathBuf>,
    opts: WalkOptions,
) -> Result<impl Iterator<Item = WalkEvent> + Send> {
    let excludes = build_globs(&opts.excludes)?;
    Ok(roots
        .into_iter()
        .flat_map(move |root| walk_root(root, opts.clone(), excludes.clone())))
}

fn walk_root(
    root: PathBuf,
    opts: WalkOptions,
    excludes: GlobSet,
) -> Box<dyn Iterator<Item = WalkEvent> + Send> {
    let meta = match std::fs::metadata(&root) {
        Ok(m) => m,
        Err(e) => {
            let message = match std::fs::symlink_metadata(&root) {
                Ok(_) => format!("broken symbolic link: {e}"),
                Err(_) => e.to_string(),
            };
            return Box::new(std::iter::once(WalkEvent::Error {
                path: display(&root),
                message,
            }));
        }
    };
    if !meta.is_dir() {
        // Named explicitly: scanned whatever the excludes say, a pipe as a stream.
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_fifo() {
            return Box::new(std::iter::once(WalkEvent::Stream(FileItem {
                path: root.clone(),
                display: display(&root),
                size: 0,
            })));
        }
        return Box::new(std::iter::once(classify(&root, &meta, &opts)));
    }
    let root_for_filter = root.clone();
    // OCI layouts met on the way: their own files are the image's, not the walk's (walkdir is
    // depth-first and yields a folder before what is in it).
    let mut layouts: Vec<PathBuf> = Vec::new();
    let it = walkdir::WalkDir::new(&root)
        .follow_links(opts.follow_symlinks)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            let rel = e.path().strip_prefix(&root_for_filter).unwrap_or(e.path());
            !(excludes.is_match(rel) || excludes.is_match(e.file_name()))
        })
        .filter_map(move |entry| match entry {
            Ok(e) if layouts.iter().any(|l| e.path().starts_with(l)) => None,
            Ok(e) if e.file_type().is_dir() && e.depth() > 0 && is_oci_layout(e.path()) => {
                layouts.push(e.path().to_path_buf());
                Some(WalkEvent::Layout(FileItem {
                    path: e.path().to_path_buf(),
                    display: display(e.path()),
                    size: 0,
                }))
            }
            Ok(e) if e.file_type().is_dir() => None,
            Ok(e) if e.path_is_symlink() && !e.file_type().is_symlink() => {
                // A followed link: the walk already resolved it.
                Some(match e.metadata() {
                    Ok(m) => classify(e.path(), &m, &opts),
                    Err(err) => WalkEvent::Error {
                        path: display(e.path()),
                        message: err.to_string(),
                    },
                })
            }
            Ok(e) if e.file_type().is_symlink() => Some(WalkEvent::Skipped {
                path: display(e.path()),
                reason: "symbolic link (not followed; use --follow-symlinks)".into(),
                warn: false,
            }),
            Ok(e) => Some(match e.metadata() {
                Ok(m) => classify(e.path(), &m, &opts),
                Err(err) => WalkEvent::Error {
                    path: display(e.path()),
                    message: err.to_string(),
                },
            }),
            Err(err) => {
                let path = err.path().map(display).unwrap_or_default();
                let message = if err.loop_ancestor().is_some() {
                    "symbolic link loop".to_string()
                } else if let Some(io) = err.io_error() {
                    io.to_string()
                } else {
                    err.to_string()
                };
                Some(WalkEvent::Error { path, message })
            }
        });
    Box::new(it)
}

/// Whether `path` is a folder holding an OCI image layout (`oci-layout` and `index.json`).
pub fn is_oci_layout(path: &Path) -> bool {
    path.is_dir() && path.join("oci-layout").is_file() && path.join("index.json").is_file()
}

fn classify(path: &Path, meta: &std::fs::Metadata, opts: &WalkOptions) -> WalkEvent {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    if opts.skip_files.contains(&(meta.dev(), meta.ino())) {
        return WalkEvent::Skipped {
            path: display(path),
            reason: "the report ferret is writing".into(),
            warn: false,
        };
    }
    let ft = meta.file_type();
    if !ft.is_file() {
        let kind = if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_block_device() {
            "a block device"
        } else if ft.is_char_device() {
            "a character device"
        } else {
            "not a regular file"
        };
        return WalkEvent::Skipped {
            path: display(path),
            reason: format!("{kind}, not scanned"),
            warn: true,
        };
    }
    if let Some(max) = opts.max_file_size
        && meta.len() > max
    {
        return WalkEvent::Skipped {
            path: display(path),
            reason: format!(
                "{} bytes is over the --max-file-size limit of {max} bytes",
                meta.len()
            ),
            warn: true,
        };
    }
    WalkEvent::File(FileItem {
        path: path.to_path_buf(),
        display: display(path),
        size: meta.len(),
    })
}

//! Files ferret writes: every one goes through [`create`].
//!
//! Reports (`-o`), baselines, `redact --report`, the `--state` database, the verification
//! cache and `ferret init`'s `ferret.toml` may hold secrets (`--show-secrets`) and always hold
//! where secrets are, so each is created with mode 0600, and a file that was already there with
//! a looser mode is tightened to 0600 before anything is written into it. A symbolic link at the
//! path is refused (`O_NOFOLLOW`, checked again on open, so a link planted between the check and
//! the open is refused too) unless the caller allows it ([`Options::follow_symlink`]: the
//! `--allow-output-symlink` flag). Only regular files are tightened: `-o /dev/stdout` with the
//! flag writes to the terminal or pipe as it is.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// How [`create`] opens a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Write through a symbolic link at the path. Default: refuse it.
    pub follow_symlink: bool,
    /// Fail if the file exists (instead of truncating it). Default: truncate.
    pub create_new: bool,
    /// Keep what the file holds (no truncation: a database opened by its own library).
    /// Default: truncate.
    pub keep: bool,
}

/// Opens `path` for writing as a private file: created 0600, an existing one truncated (unless
/// [`Options::keep`]) and tightened to 0600, a symbolic link refused unless allowed.
pub fn create(path: &Path, opts: Options) -> io::Result<File> {
    if !opts.follow_symlink
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(symlink_refused(path));
    }
    let mut o = OpenOptions::new();
    o.write(true).mode(0o600);
    if opts.create_new {
        o.create_new(true);
    } else {
        o.create(true).truncate(!opts.keep);
    }
    if !opts.follow_symlink {
        o.custom_flags(libc::O_NOFOLLOW);
    }
    let file = o.open(path).map_err(|e| {
        // ELOOP: a link appeared after the check above.
        if e.raw_os_error() == Some(libc::ELOOP) {
            symlink_refused(path)
        } else {
            e
        }
    })?;
    tighten(&file)?;
    Ok(file)
}

/// Sets an open regular file's mode to 0600 if group or others may read or write it.
pub fn tighten(file: &File) -> io::Result<()> {
    let meta = file.metadata()?;
    if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn symlink_refused(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is a symbolic link: not written through (use --allow-output-symlink to allow it)",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_and_existing_files_end_up_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        create(&p, Options::default())
            .unwrap()
            .write_all(b"a")
            .unwrap();
        assert_eq!(mode(&p), 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        create(&p, Options::default())
            .unwrap()
            .write_all(b"b")
            .unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"b");
        assert!(
            create(
                &p,
                Options {
                    create_new: true,
                    ..Options::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn a_symlink_is_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = create(&link, Options::default()).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        let follow = Options {
            follow_symlink: true,
            ..Options::default()
        };
        create(&link, follow).unwrap().write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }
}

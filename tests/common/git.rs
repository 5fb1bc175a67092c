//! Throw-away git repositories for tests: a fixed identity and clock, no user or system config.

use std::path::Path;
use std::process::Command;

use super::TestDir;

/// A git repository in a temp dir, driven by the real `git`.
pub struct GitRepo {
    pub dir: TestDir,
    /// Seconds since the epoch of the next commit (each commit moves it one day on).
    clock: std::cell::Cell<i64>,
}

impl GitRepo {
    pub fn new() -> GitRepo {
        let repo = GitRepo {
            dir: TestDir::new(),
            clock: std::cell::Cell::new(1_714_550_400),
        };
        repo.git(&["init", "-q", "-b", "main", "."]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `git` command in the repository, isolated from the machine's configuration.
    pub fn command(&self) -> Command {
        let mut c = Command::new("git");
        c.current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Jane Doe")
            .env("GIT_AUTHOR_EMAIL", "jane@example.com")
            .env("GIT_COMMITTER_NAME", "Jane Doe")
            .env("GIT_COMMITTER_EMAIL", "jane@example.com");
        c
    }

    /// Runs git and returns its stdout; panics with its stderr if it fails.
    pub fn git(&self, args: &[&str]) -> String {
        let date = format!("@{} +0200", self.clock.get());
        let out = self
            .command()
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        self.dir.write(rel, contents);
    }

    /// Stages everything and commits; returns the commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.clock.set(self.clock.get() + 86_400);
        self.git(&["rev-parse", "HEAD"])
    }

    /// A `ferret` command running in the repository.
    pub fn ferret(&self) -> Command {
        self.dir.ferret()
    }
}

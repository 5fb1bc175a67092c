//! The pre-commit hook, run for real: pre-commit (from PyPI) installs this checkout's
//! `.pre-commit-hooks.yaml` into a throw-away repository, and a commit that adds a secret is
//! refused. No network: the hooks repository is a local clone (`file://`).
//!
//! Skipped with a message when pre-commit is not installed, except under CI (`CI` set), where
//! `.ci/run` installs it and its absence is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::git::GitRepo;
use crate::common::secrets::Gen;

/// How to run pre-commit here, if it is installed.
fn pre_commit() -> Option<Vec<String>> {
    let candidates = [
        vec!["pre-commit".to_string()],
        vec!["python3".into(), "-m".into(), "pre_commit".into()],
    ];
    candidates.into_iter().find(|c| {
        Command::new(&c[0])
            .args(&c[1..])
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The folder that holds the `ferret` binary under test, to put first on PATH.
fn ferret_dir() -> PathBuf {
    let program = std::env::var_os("FERRET_TEST_PROGRAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ferret")));
    assert_eq!(program.file_name().unwrap(), "ferret");
    program.parent().unwrap().to_path_buf()
}

#[test]
fn the_pre_commit_hook_refuses_a_commit_that_adds_a_secret() {
    let Some(pc) = pre_commit() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "pre-commit is not installed, and CI must test the hook (.ci/run installs it)"
        );
        eprintln!("SKIPPED: pre-commit is not installed (pip install pre-commit)");
        return;
    };

    // The hooks repository: this checkout's hook definitions, committed.
    let hooks = GitRepo::new();
    let yaml = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    hooks.write(".pre-commit-hooks.yaml", std::fs::read(yaml).unwrap());
    let rev = hooks.commit_all("hooks");

    let repo = GitRepo::new();
    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: file://{}\n    rev: {rev}\n    hooks:\n      - id: ferret-system\n",
            hooks.path().display()
        ),
    );
    repo.write("README.md", "# app\n");
    repo.commit_all("init");

    let home = crate::common::TestDir::new();
    let path = format!(
        "{}:{}",
        ferret_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let pre_commit = |args: &[&str]| {
        let mut c = Command::new(&pc[0]);
        c.args(&pc[1..])
            .args(args)
            .current_dir(repo.path())
            .env("PRE_COMMIT_HOME", home.path())
            .env("PATH", &path)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        c.output().expect("pre-commit runs")
    };
    let out = pre_commit(&["install"]);
    assert!(
        out.status.success(),
        "pre-commit install: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let commit = |message: &str| {
        repo.git(&["add", "-A"]);
        repo.command()
            .args(["commit", "-q", "-m", message])
            .env("PRE_COMMIT_HOME", home.path())
            .env("PATH", &path)
            .output()
            .expect("git commit runs")
    };
    let before = repo.git(&["rev-parse", "HEAD"]);
    let token = Gen::new(300).github_pat();
    repo.write("deploy/.env", format!("REGION=eu\nGITHUB_TOKEN={token}\n"));
    let out = commit("add deploy config");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the commit must be refused: {shown}");
    assert!(shown.contains("github.pat.classic"), "{shown}");
    assert!(shown.contains("deploy/.env:2:14"), "{shown}");
    assert!(
        !shown.contains(&token),
        "the hook masks the secret: {shown}"
    );
    assert_eq!(
        repo.git(&["rev-parse", "HEAD"]),
        before,
        "no commit was made"
    );

    // Once the secret is gone (read from the environment instead), the commit goes through.
    repo.write("deploy/.env", "REGION=eu\nGITHUB_TOKEN=${GITHUB_TOKEN}\n");
    let out = commit("add deploy config");
    assert!(
        out.status.success(),
        "a clean commit passes: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(repo.git(&["rev-parse", "HEAD"]), before);
}

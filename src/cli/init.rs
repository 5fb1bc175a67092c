//! `ferret init`: a starter for a repository. It writes a commented `ferret.toml` (excludes,
//! gate, baseline, allowlist, rules: every setting a team usually reaches for, with what it
//! does) and prints the pre-commit and CI snippets that fit what the folder already uses
//! (`.pre-commit-config.yaml`, `.github/`, `.gitlab-ci.yml`). It never overwrites a
//! `ferret.toml`: a team's settings are not replaced by a template.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use super::ExitStatus;

/// `ferret init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository's top folder (where ferret.toml goes).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// The `ferret.toml` that `ferret init` writes. Every line that is not a comment is a valid
/// setting with its default value (a test reads the file back with the real parser).
pub const TEMPLATE: &str = r#"# ferret.toml: settings for `ferret scan` and `ferret git` in this repository.
# Flags on the command line win over this file; lists add up with theirs. Paths here are
# relative to this file. An unknown key is an error, so a typo cannot switch a setting off.

# Paths not to scan: globs matched against the path, its folders and its file name.
exclude = []
# exclude = ["vendor", "node_modules", "*.min.js", "tests/fixtures"]

# Exit with 1 only for findings at or above this severity: low, medium, high or critical.
# Lower ones are still reported.
fail_on = "low"

# The report format when --format is not given: text, json, jsonl, sarif or gitlab.
# format = "text"

# Accept today's secrets and fail only on new ones: create the file with
#   ferret baseline create -o ferret.baseline.json
# then uncomment this line.
# baseline = "ferret.baseline.json"

# Secrets that are known and accepted (test fixtures, revoked keys).
[allowlist]
# Fingerprints as reports print them.
fingerprints = []
# SHA-256 of the secret itself: printf %s "$SECRET" | sha256sum
secrets = []
# Regexes matched against the secret.
regexes = []

[rules]
# Rule ids to switch off (`ferret rules list` shows them, `ferret rules show ID` explains one).
disable = []
# Rule files or folders of your own (the format: `ferret rules show github.pat.classic`).
paths = []

[budgets]
# Skip files larger than this (`10M`, `1G`); no limit when unset.
# max_file_size = "100M"
"#;

/// The pre-commit snippet.
const PRE_COMMIT: &str = "  - repo: https://github.com/ferret-scanner/ferret
    rev: v0.1.0
    hooks:
      - id: ferret           # builds ferret with cargo on first use
    # - id: ferret-system    # or: the ferret already on PATH
";

/// The GitHub Actions steps.
const GITHUB: &str = r#"      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - run: pip install ferret-secrets
      - if: github.event_name == 'pull_request'
        run: >
          ferret git "${{ github.event.pull_request.base.sha }}..${{ github.event.pull_request.head.sha }}"
          --format sarif --output ferret.sarif
      - if: github.event_name != 'pull_request'
        run: ferret scan . --format sarif --output ferret.sarif
      - if: always()
        uses: github/codeql-action/upload-sarif@v3
        with:
          sarif_file: ferret.sarif
"#;

/// The GitLab CI job.
const GITLAB: &str = r#"ferret:
  image: python:3.12-slim
  before_script:
    - apt-get update -qq && apt-get install -y -qq git >/dev/null
    - pip install ferret-secrets
  script:
    - |
      if [ -n "$CI_MERGE_REQUEST_DIFF_BASE_SHA" ]; then
        ferret git "$CI_MERGE_REQUEST_DIFF_BASE_SHA..$CI_COMMIT_SHA" -f gitlab -o gl-secret-detection-report.json
      else
        ferret scan . -f gitlab -o gl-secret-detection-report.json
      fi
  artifacts:
    when: always
    reports:
      secret_detection: gl-secret-detection-report.json
"#;

/// What the folder already uses.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Detected {
    /// `.pre-commit-config.yaml`.
    pub pre_commit: bool,
    /// `.github/`.
    pub github: bool,
    /// `.gitlab-ci.yml`.
    pub gitlab: bool,
}

impl Detected {
    /// Looks at `dir`.
    pub fn in_dir(dir: &Path) -> Detected {
        Detected {
            pre_commit: dir.join(".pre-commit-config.yaml").is_file(),
            github: dir.join(".github").is_dir(),
            gitlab: dir.join(".gitlab-ci.yml").is_file(),
        }
    }
}

/// The text printed after writing the file.
pub fn next_steps(path: &Path, d: &Detected) -> String {
    let mut s = format!(
        "ferret: wrote {}: edit it, then `ferret scan .` reads it\n",
        path.display()
    );
    if d.pre_commit {
        s.push_str(
            "\nYou use pre-commit: add this to .pre-commit-config.yaml under `repos:`, then run \
             `pre-commit install`:\n\n",
        );
    } else {
        s.push_str(
            "\nTo refuse commits that add a secret, with pre-commit (https://pre-commit.com), put \
             this in .pre-commit-config.yaml under `repos:` and run `pre-commit install`:\n\n",
        );
    }
    s.push_str(PRE_COMMIT);
    if d.github {
        s.push_str(
            "\nGitHub Actions: these steps scan what a pull request adds and upload the findings \
             to code scanning (a whole workflow: docs/github-actions/ferret.yml in ferret's \
             repository):\n\n",
        );
        s.push_str(GITHUB);
    }
    if d.gitlab {
        s.push_str(
            "\nGitLab CI: this job in .gitlab-ci.yml shows the findings in the merge request's \
             security widget (a whole example: docs/gitlab-ci/ferret.gitlab-ci.yml in ferret's \
             repository):\n\n",
        );
        s.push_str(GITLAB);
    }
    if !d.github && !d.gitlab {
        s.push_str(
            "\nIn CI: `ferret git BASE..HEAD` scans what a change adds, `ferret scan .` the \
             whole tree; `--format sarif` suits GitHub code scanning and `--format gitlab` \
             GitLab's security widget (examples in ferret's docs/ folder).\n",
        );
    }
    s
}

pub fn run(args: InitArgs) -> anyhow::Result<ExitStatus> {
    let path = args.dir.join("ferret.toml");
    if path.exists() {
        anyhow::bail!(
            "{} already exists; ferret init does not overwrite it: edit it, or move it away \
             and run ferret init again",
            path.display()
        );
    }
    let opts = ferret::outfile::Options {
        create_new: true,
        ..Default::default()
    };
    let mut file = ferret::outfile::create(&path, opts)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(TEMPLATE.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let text = next_steps(&path, &Detected::in_dir(&args.dir));
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitStatus::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_a_valid_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ferret.toml");
        std::fs::write(&path, TEMPLATE).unwrap();
        let config = ferret::config::Config::read(&path).unwrap();
        assert_eq!(config.fail_on, Some(ferret::Severity::Low));
        assert!(config.exclude.is_empty());
    }
}

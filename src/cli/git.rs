//! `ferret git`: staged changes, a commit range, or all history, through the same gate as
//! `ferret scan`.
//!
//! The configuration is the work tree's `ferret.toml` (or `--config`), and SARIF paths are
//! relative to the work tree's top folder, so code scanning places them in the repository.

use std::path::Path;

use ferret::source::git::{self, Repo, Scope};

use super::ExitStatus;
use super::args::GitArgs;
use super::gate::{self, Common};

impl From<&GitArgs> for Common {
    fn from(a: &GitArgs) -> Common {
        Common {
            format: a.format,
            output: a.output.clone(),
            show_secrets: a.show_secrets,
            threads: a.threads,
            exclude: a.exclude.clone(),
            max_file_size: a.max_file_size,
            chunk_size: ferret::blob::chunk::DEFAULT_CHUNK_SIZE,
            color: a.color,
            quiet: a.quiet,
            rules: a.rules.clone(),
            gate: a.gate.clone(),
            verify: a.verify.clone(),
            ..Common::default()
        }
    }
}

fn scope(args: &GitArgs) -> anyhow::Result<Scope> {
    Ok(if args.staged {
        Scope::Staged
    } else if args.all {
        Scope::All
    } else if let Some(rev) = &args.since {
        Scope::Range {
            base: Some(rev.clone()),
            tip: "HEAD".into(),
        }
    } else {
        let spec = args.range.as_deref().unwrap_or_default();
        Scope::parse_range(spec).ok_or_else(|| {
            anyhow::anyhow!("{spec:?} is not a range: give BASE..TIP, or --since REV for REV..HEAD")
        })?
    })
}

pub fn run(args: GitArgs) -> anyhow::Result<ExitStatus> {
    let scope = scope(&args)?;
    let repo = Repo::discover(&args.repo)?;
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| args.repo.clone());
    let common = Common::from(&args);
    let setup = gate::setup(&common, &root, true)?;
    gate::execute(&common, setup, Some(root), |scanner, reporter| {
        git::scan(scanner, &repo, &scope, reporter)
    })
}

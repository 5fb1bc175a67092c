//! `ferret git`: staged changes, a commit range, or all history, through the same gate as
//! `ferret scan`.
//!
//! The configuration is the work tree's `ferret.toml` (or `--config`), and SARIF paths are
//! relative to the work tree's top folder, so code scanning places them in the repository.

use std::path::Path;

use ferret::report;
use ferret::source::Input;
use ferret::source::git::{Repo, Scope};

use super::ExitStatus;
use super::args::GitArgs;
use super::drive;
use super::setup::{self, Flags};

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
    let flags = Flags {
        output: args.output,
        walk: args.walk,
        rules: args.rules,
        config: args.config,
        gate: args.gate,
        verify: args.verify,
        ..Flags::default()
    };
    drive::stop_on_signals()?;
    let setup = setup::scanner(&flags, &root, true)?;
    let inputs = [Input::Git { repo, scope }];
    // The echoes of one secret across commits are one finding, unless the report is by secret
    // (`--group secret`): the blast radius lists every commit as a place.
    let collapse = flags.output.group.is_none();
    drive::execute(&flags, setup, Some(root), None, |scanner, reporter| {
        if !collapse {
            return scanner.run(&inputs, reporter);
        }
        let mut collapsing = report::Collapsing::new(reporter);
        let mut summary = scanner.run(&inputs, &mut collapsing)?;
        summary.findings = summary.findings.saturating_sub(collapsing.echoes());
        summary.echoes = collapsing.echoes();
        Ok(summary)
    })
}

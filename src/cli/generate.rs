//! `ferret completions SHELL` and `ferret man [VERB…]`: shell completions and manual pages,
//! generated from the same clap definitions as `--help` (clap_complete, clap_mangen), so they
//! can never disagree with the binary they come from.
//!
//! `ferret man` prints one page (roff) to stdout, `ferret man scan` the page of a verb, and
//! `ferret man --dir DIR` writes every page (`ferret.1`, `ferret-scan.1`,
//! `ferret-baseline-create.1`, …) into DIR, for packagers (`man -l DIR/ferret-scan.1` reads
//! one).

use std::io::Write;

use anyhow::Context as _;
use clap::CommandFactory;

use super::ExitStatus;
use super::args::{Cli, CompletionsArgs, ManArgs};

/// The command tree as the generators see it.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Prints the completion script of `args.shell`.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitStatus> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ferret", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitStatus::Clean)
}

/// Prints a manual page, or writes them all.
pub fn man(args: ManArgs) -> anyhow::Result<ExitStatus> {
    let cmd = command();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
        clap_mangen::generate_to(cmd, dir)
            .with_context(|| format!("cannot write manual pages into {}", dir.display()))?;
        return Ok(ExitStatus::Clean);
    }
    let mut page = &cmd;
    for name in &args.verb {
        page = page.find_subcommand(name).ok_or_else(|| {
            let verbs: Vec<&str> = page
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.get_name())
                .collect();
            anyhow::anyhow!(
                "no page for {:?}: the verbs are {}",
                args.verb.join(" "),
                verbs.join(", ")
            )
        })?;
    }
    let mut roff = Vec::new();
    clap_mangen::Man::new(page.clone()).render(&mut roff)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&roff)?;
    out.flush()?;
    Ok(ExitStatus::Clean)
}

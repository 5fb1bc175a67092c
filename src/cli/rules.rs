//! `ferret rules list` and `ferret rules check`.

use std::io::Write;

use anyhow::Context as _;
use ferret::RuleSet;
use ferret::rules::check;

use super::ExitStatus;
use super::args::RulesCommand;
use super::setup;

pub fn run(cmd: RulesCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        RulesCommand::List { json, rules } => {
            let set = setup::rules(&rules)?;
            let mut out = std::io::stdout().lock();
            if json {
                let list: Vec<_> = set
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id(), "name": r.name(), "severity": r.severity(),
                            "keywords": r.spec.keywords, "validator": r.spec.validator,
                            "source": r.source,
                        })
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut out, &list)?;
                writeln!(out)?;
            } else {
                let width = set.iter().map(|r| r.id().len()).max().unwrap_or(0);
                for r in set.iter() {
                    writeln!(
                        out,
                        "{:width$}  {:8}  {}",
                        r.id(),
                        r.severity().as_str(),
                        r.name()
                    )?;
                }
                writeln!(out, "{} rules", set.len())?;
            }
            Ok(ExitStatus::Clean)
        }
        RulesCommand::Check { path } => {
            let mut set = RuleSet::builtin().context("built-in rules")?;
            let user = path.is_some();
            if let Some(p) = &path {
                set.load_path(p)?;
            }
            let results = check::check_rules(&set)?;
            let mut failed = 0;
            let mut checked = 0;
            let mut out = std::io::stdout().lock();
            for w in set.warnings() {
                writeln!(out, "warning: {w}")?;
            }
            for (r, rule) in results.iter().zip(set.iter()) {
                // With a path, report only the user's rules (the built-ins are context).
                if user && rule.source.starts_with("builtin:") {
                    continue;
                }
                checked += 1;
                for w in &r.warnings {
                    writeln!(out, "warning: {}: {w}", r.id)?;
                }
                for e in &r.errors {
                    writeln!(out, "error: {}: {e}", r.id)?;
                }
                if !r.errors.is_empty() {
                    failed += 1;
                }
            }
            writeln!(out, "{checked} rules checked, {failed} failed")?;
            Ok(if failed > 0 {
                ExitStatus::Error
            } else {
                ExitStatus::Clean
            })
        }
    }
}

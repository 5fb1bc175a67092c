//! `ferret rules list`, `ferret rules show ID` and `ferret rules check`.

use std::io::Write;

use anyhow::Context as _;
use ferret::RuleSet;
use ferret::lint;

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
        RulesCommand::Show { id, rules } => {
            let set = setup::rules(&rules)?;
            let Some(rule) = set.get(&id) else {
                anyhow::bail!("{}", unknown_rule(&set, &id));
            };
            let mut out = std::io::stdout().lock();
            out.write_all(show(rule).as_bytes())?;
            out.flush()?;
            Ok(ExitStatus::Clean)
        }
        RulesCommand::Check { path } => {
            let mut set = RuleSet::builtin().context("built-in rules")?;
            let user = path.is_some();
            if let Some(p) = &path {
                set.load_path(p)?;
            }
            let results = lint::check_rules(&set)?;
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

/// A rule as `ferret rules show` prints it: what it finds, how, what to do about it, and its
/// examples (synthetic secrets that `cargo test` checks).
pub fn show(rule: &ferret::Rule) -> String {
    let spec = &rule.spec;
    let mut s = format!("{}: {}\n", rule.id(), rule.name());
    let mut field = |name: &str, value: String| {
        if !value.is_empty() {
            s.push_str(&format!("  {name:<12} {value}\n"));
        }
    };
    field("severity", rule.severity().as_str().to_string());
    field("keywords", spec.keywords.join(", "));
    field("regex", spec.regex.clone());
    field(
        "entropy",
        spec.entropy
            .map(|e| format!("at least {e} bits per byte"))
            .unwrap_or_default(),
    );
    field("validator", spec.validator.clone().unwrap_or_default());
    field("source", rule.source.clone());
    let mut list = |name: &str, items: &[String]| {
        if !items.is_empty() {
            s.push_str(&format!("{name}:\n"));
            for i in items {
                s.push_str(&format!("  {i}\n"));
            }
        }
    };
    list("remediation", std::slice::from_ref(&spec.remediation));
    list("references", &spec.references);
    list("examples", &spec.examples);
    list("counterexamples", &spec.counterexamples);
    s
}

/// The error for an id that is not a rule: the ids that look like it, and where to find them.
fn unknown_rule(set: &RuleSet, id: &str) -> String {
    let needle = id.to_ascii_lowercase();
    let first = needle.split(['.', '-', '_']).next().unwrap_or_default();
    let close: Vec<&str> = set
        .iter()
        .map(|r| r.id())
        .filter(|r| {
            let r = r.to_ascii_lowercase();
            r.contains(&needle) || (!first.is_empty() && r.starts_with(first))
        })
        .take(8)
        .collect();
    if close.is_empty() {
        format!("no rule {id:?}: `ferret rules list` shows every rule's id")
    } else {
        format!(
            "no rule {id:?}; did you mean {}? (`ferret rules list` shows every rule's id)",
            close.join(", ")
        )
    }
}

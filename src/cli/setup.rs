//! What a scanning verb is built from, in one place: configuration, rules, the matcher and
//! the scanner.
//!
//! `scan`, `git`, `baseline create` and `redact` all start the same way: read the
//! configuration (`--config`, else the scanned root's `ferret.toml`), load the rules (built-in
//! and `--rules`, then the configuration's), build the matcher and compile the user's rules at
//! once, so that a bad regex fails before the scan instead of during it. Settings come from
//! the command line first, then `ferret.toml`, then defaults; lists (excludes, rule files) add
//! up. `redact` reads no configuration and needs only the matcher ([`matcher`]).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use ferret::config::Config;
use ferret::finding::baseline::Baseline;
use ferret::rules::RuleSet;
use ferret::source::walk::WalkOptions;
use ferret::{Matcher, ScanOptions, Scanner};

use super::flags::{
    BudgetArgs, ConfigArgs, FileArgs, GateArgs, OutputArgs, RegistryArgs, RuleArgs, WalkArgs,
};
use super::sweep::SweepArgs;

/// The flag groups of a scanning verb; a group the verb does not take is its default.
#[derive(Debug, Default)]
pub struct Flags {
    /// Report format, file, secrets shown, grouping, colour, quiet.
    pub output: OutputArgs,
    /// Threads, excludes, file size limit.
    pub walk: WalkArgs,
    /// Symbolic links, memory maps, chunks.
    pub files: FileArgs,
    /// Archive budgets.
    pub budgets: BudgetArgs,
    /// How `oci://` images are pulled.
    pub registry: RegistryArgs,
    /// Deadlines of network sources (`scan` only).
    pub net: super::flags::NetArgs,
    /// Rule selection.
    pub rules: RuleArgs,
    /// Configuration file.
    pub config: ConfigArgs,
    /// Baseline and gate (`baseline create` has neither: it records every finding).
    pub gate: GateArgs,
    /// Object stores, incremental state, sharding (`scan` only).
    pub sweep: Option<Box<SweepArgs>>,
    /// `--verify` and its settings (`scan`, `git`).
    pub verify: super::flags::VerifyArgs,
    /// The only input is a live stream (stdin): text is printed as found, not sorted at the end.
    pub live: bool,
}

/// What a scan is set up with.
pub struct Setup {
    /// The configuration read (or the default one).
    pub config: Config,
    /// The rules, for reports that list them.
    pub rules: RuleSet,
    /// The scanner, with its matcher and options.
    pub scanner: Scanner,
}

/// Reads the configuration: none with `--no-config`, `--config FILE`, else `root/ferret.toml`
/// if there is one.
pub fn config(args: &ConfigArgs, root: &Path) -> anyhow::Result<Config> {
    Ok(if args.no_config {
        Config::default()
    } else if let Some(p) = &args.config {
        Config::read(p)?
    } else {
        Config::discover(root)?
    })
}

/// Loads the built-in rules (unless `--no-builtin-rules`) plus the user's `--rules`.
pub fn rules(args: &RuleArgs) -> anyhow::Result<RuleSet> {
    let mut set = if args.no_builtin_rules {
        RuleSet::new()
    } else {
        RuleSet::builtin().context("built-in rules")?
    };
    for p in &args.rules {
        set.load_path(p).with_context(|| {
            format!(
                "cannot use the rules of {} (`ferret rules show github.pat.classic` prints a \
                 complete rule to start from)",
                p.display()
            )
        })?;
    }
    Ok(set)
}

/// Builds the matcher for `rules` and compiles the user's rules now, so that a bad regex fails
/// here rather than on its first keyword hit in the middle of a scan.
pub fn matcher(rules: &RuleSet) -> anyhow::Result<Matcher> {
    let matcher = Matcher::new(rules).context("building the matcher")?;
    matcher
        .compile_now(|r| !r.source.starts_with("builtin:"))
        .with_context(|| {
            let mut files: Vec<&str> = rules
                .iter()
                .filter(|r| !r.source.starts_with("builtin:"))
                .map(|r| r.source.as_str())
                .collect();
            files.dedup();
            format!(
                "a rule of {} does not compile: fix its regex (`ferret rules check FILE` runs \
                 every rule's examples too)",
                files.join(", ")
            )
        })?;
    Ok(matcher)
}

/// Reads the configuration of `root`, loads rules, builds the matcher and the allowlist (with
/// the baseline when `with_baseline`) and the scanner.
pub fn scanner(flags: &Flags, root: &Path, with_baseline: bool) -> anyhow::Result<Setup> {
    let config = config(&flags.config, root)?;
    let mut rules = rules(&flags.rules)?;
    config.apply_rules(&mut rules)?;
    if !flags.output.quiet {
        // What a gitleaks rule file could not carry over.
        for w in rules.warnings() {
            eprintln!("ferret: warning: {w}");
        }
    }
    let matcher = matcher(&rules)?;
    let mut allow = config.allowlist()?;
    if with_baseline {
        let path = match &flags.gate.baseline {
            Some(p) => Some(p.clone()),
            None => config.baseline.as_deref().map(|p| config.resolve(p)),
        };
        if let Some(p) = path {
            allow.add_baseline(Baseline::read(&p)?.fingerprints());
        }
    }
    let mut excludes = flags.walk.exclude.clone();
    excludes.extend(config.exclude.iter().cloned());
    let mut opts = ScanOptions {
        threads: flags.walk.threads,
        chunk_size: flags.files.chunk_size.max(4096),
        load: flags.files.load(),
        walk: WalkOptions {
            excludes,
            follow_symlinks: flags.files.follow_symlinks,
            max_file_size: flags.walk.max_file_size.or(config.budgets.max_file_size),
            ..WalkOptions::default()
        },
        budget: flags.budgets.budget(),
        cancel: None,
        allow: Arc::new(allow),
        policy: flags.gate.policy(),
        registry: flags.registry.options(),
        net: flags.net.limits(),
        ..ScanOptions::default()
    };
    if let Some(sweep) = &flags.sweep {
        opts.sweep = sweep.options(&matcher, &opts.budget, flags.output.show_secrets)?;
    }
    Ok(Setup {
        config,
        scanner: Scanner::new(Arc::new(matcher), opts),
        rules,
    })
}

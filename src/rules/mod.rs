//! Rules are data: what a secret looks like, where to find it fast, and how to rotate it.
//!
//! Rules live in `rules/*.toml` at the top of the repository; those files are embedded in the
//! binary at build time ([`RuleSet::builtin`]) and users add their own with `--rules PATH`
//! ([`RuleSet::load_path`]). A [`RuleSet`] is plain data: loading one parses TOML and checks the
//! cheap invariants (ids, keywords, the `secret` group's presence), but does not compile any
//! regex. Compilation is the matcher's job and happens lazily, on a rule's first keyword hit,
//! so that `ferret` starts in milliseconds whatever the size of the rule pack.
//!
//! The rules' regex dialect lives here too ([`regex`]): how a pattern is compiled (bytes, ASCII
//! classes), and what its shape proves (a bounded length, the keyword that anchors it), which
//! both the loaders (a gitleaks import, an allow pattern) and the matcher rely on.
//!
//! A file given with `--rules` may also be a gitleaks (or Betterleaks) rule file: it is
//! translated ([`gitleaks`]), and what could not be translated becomes one of the set's
//! [`RuleSet::warnings`], which the command line prints.

mod builtin;
pub mod file;
pub mod gitleaks;
pub mod regex;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use file::{AllowPattern, AllowTarget, RuleFile, RuleSpec};

/// How bad a leak of this kind of secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Low value or needs other secrets to be useful.
    Low,
    /// Limited access.
    Medium,
    /// Broad access to a service or its data.
    High,
    /// Access to infrastructure, money, or everything.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used in rule files, reports and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity {s:?} (expected low, medium, high or critical)")
            })
    }
}

/// One loaded rule: its spec plus where it came from.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written.
    pub spec: RuleSpec,
    /// `builtin:github.toml` or the user's file path.
    pub source: String,
    /// Translated from a gitleaks-format file, which has no place for examples or links:
    /// `ferret rules check` warns of the gaps ([`RuleSpec::gaps`]) instead of failing.
    pub from_gitleaks: bool,
    /// The allowlist patterns, compiled on first use (a pattern that does not compile is left
    /// out; `ferret rules check` reports it).
    allow: OnceLock<Vec<(AllowTarget, regex_automata::meta::Regex)>>,
    /// The verifier's paired-value patterns, compiled on first use.
    pairs: OnceLock<Vec<(String, regex_automata::meta::Regex, usize)>>,
}

impl Rule {
    /// A rule from its spec and where it came from.
    pub fn new(spec: RuleSpec, source: impl Into<String>) -> Rule {
        Rule {
            spec,
            source: source.into(),
            from_gitleaks: false,
            allow: OnceLock::new(),
            pairs: OnceLock::new(),
        }
    }

    /// The values its verifier pairs with the secret (`[[rule.verify.pair]]`), found in `hay`
    /// within each pattern's reach of the secret at `secret`: the match nearest the secret
    /// (one that contains it first). Empty when the rule has no verifier or nothing is near.
    pub fn paired_values(
        &self,
        hay: &[u8],
        secret: std::ops::Range<usize>,
    ) -> Vec<(String, String)> {
        let Some(verify) = &self.spec.verify else {
            return Vec::new();
        };
        if verify.pair.is_empty() {
            return Vec::new();
        }
        let pairs = self.pairs.get_or_init(|| {
            verify
                .pair
                .iter()
                .filter_map(|p| {
                    regex::compile_plain(&p.regex)
                        .ok()
                        .map(|re| (p.name.clone(), re, p.within))
                })
                .collect()
        });
        let mut out = Vec::new();
        for (name, re, within) in pairs {
            let start = secret.start.saturating_sub(*within);
            let end = secret.end.saturating_add(*within).min(hay.len());
            let mut best: Option<(usize, String)> = None;
            let mut caps = re.create_captures();
            let mut at = start;
            while at < end {
                let input = regex_automata::Input::new(&hay[..end]).span(at..end);
                re.search_captures(&input, &mut caps);
                let Some(m) = caps.get_match() else { break };
                let span = caps.get_group_by_name("value").unwrap_or(m.span());
                let distance = if span.end <= secret.start {
                    secret.start - span.end
                } else {
                    span.start.saturating_sub(secret.end)
                };
                let value = String::from_utf8_lossy(&hay[span.start..span.end]).into_owned();
                if !value.is_empty() && best.as_ref().is_none_or(|(d, _)| distance < *d) {
                    best = Some((distance, value));
                }
                at = if m.end() > m.start() {
                    m.end()
                } else {
                    m.start() + 1
                };
            }
            if let Some((_, v)) = best {
                out.push((name.clone(), v));
            }
        }
        out
    }

    /// The compiled allowlist patterns.
    pub fn allow_patterns(&self) -> &[(AllowTarget, regex_automata::meta::Regex)] {
        self.allow.get_or_init(|| {
            self.spec
                .allow
                .iter()
                .filter_map(|a| regex::compile_plain(&a.regex).ok().map(|re| (a.target, re)))
                .collect()
        })
    }
    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The rule's human name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.spec.severity
    }
}

/// An ordered set of rules with unique ids.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Arc<Rule>>,
    warnings: Vec<String>,
}

impl RuleSet {
    /// An empty set.
    pub fn new() -> RuleSet {
        RuleSet::default()
    }

    /// The rules embedded in the binary from the repository's `rules/` folder.
    pub fn builtin() -> Result<RuleSet> {
        let mut set = RuleSet::new();
        for (name, text) in builtin::FILES {
            set.add_toml(text, &format!("builtin:{name}"))?;
        }
        Ok(set)
    }

    /// Adds the rules of one TOML text: a ferret rule file, or a gitleaks one (translated, with
    /// warnings for what could not be). `origin` names it in errors and `rules list`.
    pub fn add_toml(&mut self, text: &str, origin: &str) -> Result<()> {
        if gitleaks::looks_like(text) {
            let t = gitleaks::translate(text, origin)?;
            self.warnings.extend(t.warnings);
            for spec in t.rules {
                let id = spec.id.clone();
                let rule = Rule {
                    from_gitleaks: true,
                    ..Rule::new(spec, origin)
                };
                if let Err(e) = self.add(rule) {
                    self.warnings
                        .push(format!("{origin}: rule {id}: {e}; skipped"));
                }
            }
            return Ok(());
        }
        let file: RuleFile = toml::from_str(text).map_err(|e| Error::RulesParse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        for spec in file.rules {
            self.add(Rule::new(spec, origin))?;
        }
        Ok(())
    }

    /// Adds one rule after checking the invariants that need no regex compilation.
    pub fn add(&mut self, rule: Rule) -> Result<()> {
        rule.spec.check()?;
        if self.get(rule.id()).is_some() {
            return Err(Error::DuplicateRule(rule.spec.id));
        }
        self.rules.push(Arc::new(rule));
        Ok(())
    }

    /// Loads a rule file, or every `*.toml` file of a folder (sorted by name).
    pub fn load_path(&mut self, path: &Path) -> Result<()> {
        let io = |source| Error::RulesIo {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        let mut files = Vec::new();
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).map_err(io)? {
                let p = entry.map_err(io)?.path();
                if p.extension().is_some_and(|e| e == "toml") {
                    files.push(p);
                }
            }
            files.sort();
        } else {
            files.push(path.to_path_buf());
        }
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| Error::RulesIo {
                path: file.clone(),
                source,
            })?;
            self.add_toml(&text, &file.display().to_string())?;
        }
        Ok(())
    }

    /// What loading gitleaks files could not translate, one line each (empty for ferret files).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Keeps only the rules for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Rule) -> bool) {
        self.rules.retain(|r| keep(r));
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Rule>> {
        self.rules.iter().find(|r| r.id() == id)
    }

    /// The rules in load order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Arc<Rule>> {
        self.rules.iter()
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

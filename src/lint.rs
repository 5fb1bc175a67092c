//! The rule linter behind `ferret rules check` and the rule tests.
//!
//! Loading a rule already checks what costs no regex compilation ([`RuleSpec::check`]: ids,
//! keywords, the `secret` group, severity and remediation), and building the matcher checks
//! validator names. [`check_rules`] is the deep check: it compiles
//! every regex, requires a bounded match length (so the prefiltered search is exact), runs
//! every example and counterexample through the real matcher and confirmation, and checks the
//! keyword contract: every match of the regex on the examples contains one of the keywords.
//! A rule must also meet the bar of [`RuleSpec::gaps`]: two examples, a counterexample, a
//! documentation link and a remediation line (rules translated from gitleaks files, which
//! cannot carry them, are warned instead).

use crate::confirm;
use crate::error::Result;
use crate::matcher::Matcher;
use crate::rules::RuleSet;
#[cfg(doc)]
use crate::rules::RuleSpec;
use crate::rules::regex;

/// The outcome of checking one rule.
#[derive(Debug, Clone, Default)]
pub struct RuleCheck {
    /// The rule id.
    pub id: String,
    /// Failures: the rule is broken.
    pub errors: Vec<String>,
    /// Things that work but cost precision or speed.
    pub warnings: Vec<String>,
    /// Examples checked.
    pub examples: usize,
    /// Counterexamples checked.
    pub counterexamples: usize,
}

/// Deep-checks every rule of `rules` with the whole set loaded (so that specific rules hide
/// nothing they should not).
pub fn check_rules(rules: &RuleSet) -> Result<Vec<RuleCheck>> {
    let matcher = Matcher::new(rules)?;
    let mut scratch = matcher.scratch();
    let mut out = Vec::new();
    for (index, rule) in matcher.indexes().zip(rules.iter()) {
        let spec = &rule.spec;
        let mut check = RuleCheck {
            id: spec.id.clone(),
            examples: spec.examples.len(),
            counterexamples: spec.counterexamples.len(),
            ..RuleCheck::default()
        };
        match regex::RuleRegex::new(&spec.regex) {
            Err(e) => {
                check.errors.push(format!("regex does not compile: {e}"));
                out.push(check);
                continue;
            }
            Ok(re) if re.max_len.is_none() => check.warnings.push(format!(
                "regex matches are unbounded (use bounded repetition like {{1,200}}): \
                 searched within {} bytes of a keyword, so a longer match is cut",
                regex::UNBOUNDED_RADIUS
            )),
            Ok(_) => {}
        }
        for gap in spec.gaps() {
            if rule.from_gitleaks {
                check.warnings.push(gap);
            } else {
                check.errors.push(gap);
            }
        }
        let found_by_rule = |text: &str, scratch: &mut _| {
            let mut candidates = Vec::new();
            matcher.scan(text.as_bytes(), scratch, &mut candidates);
            let origin = crate::blob::Origin::file("example");
            candidates
                .iter()
                .filter(|c| c.rule == index)
                .filter_map(|c| confirm::confirm(rule, text.as_bytes(), 0, c, &origin))
                .count()
        };
        for (i, ex) in spec.examples.iter().enumerate() {
            if found_by_rule(ex, &mut scratch) == 0 {
                check
                    .errors
                    .push(format!("example {} is not found: {ex:?}", i + 1));
            }
            let mut all = Vec::new();
            matcher.scan_unfiltered(ex.as_bytes(), &mut scratch, &mut all);
            for c in all.iter().filter(|c| c.rule == index) {
                let text = ex.as_bytes()[c.span.clone()].to_ascii_lowercase();
                let has_keyword = spec.keywords.iter().any(|k| {
                    let k = k.to_ascii_lowercase();
                    text.windows(k.len()).any(|w| w == k.as_bytes())
                });
                if !has_keyword {
                    check.errors.push(format!(
                        "example {}: a match contains none of the keywords {:?}, so the \
                         prefilter would miss it",
                        i + 1,
                        spec.keywords
                    ));
                }
            }
        }
        for (i, ex) in spec.counterexamples.iter().enumerate() {
            if found_by_rule(ex, &mut scratch) > 0 {
                check
                    .errors
                    .push(format!("counterexample {} is found: {ex:?}", i + 1));
            }
        }
        out.push(check);
    }
    Ok(out)
}

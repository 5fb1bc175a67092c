//! The rule linter behind `ferret rules check` and the rule tests.
//!
//! [`check_spec`] runs when a rule is loaded and costs no regex compilation: ids, keywords,
//! the `secret` group, severity and remediation. [`check_rules`] is the deep check: it compiles
//! every regex, requires a bounded match length (so the prefiltered search is exact), runs
//! every example and counterexample through the real matcher and confirmation, and checks the
//! keyword contract: every match of the regex on the examples contains one of the keywords.

use crate::error::{Error, Result};
use crate::finding;
use crate::matcher::{Matcher, regex, validator};
use crate::rules::{RuleSet, RuleSpec};

/// Cheap checks done at load time.
pub fn check_spec(spec: &RuleSpec) -> Result<()> {
    let fail = |message: String| {
        Err(Error::Rule {
            rule: spec.id.clone(),
            message,
        })
    };
    let id_ok = !spec.id.is_empty()
        && spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !id_ok {
        return fail("id must be lowercase letters, digits, '.', '_' or '-'".into());
    }
    if spec.name.trim().is_empty() {
        return fail("name is empty".into());
    }
    if spec.keywords.is_empty() {
        return fail("no keywords: the prefilter needs at least one".into());
    }
    if let Some(k) = spec.keywords.iter().find(|k| k.len() < 3) {
        return fail(format!(
            "keyword {k:?} is shorter than 3 bytes and would hit everywhere"
        ));
    }
    if !(spec.regex.contains("(?P<secret>") || spec.regex.contains("(?<secret>")) {
        return fail("regex has no capture group named `secret`".into());
    }
    if spec.remediation.trim().is_empty() {
        return fail("remediation is empty: say where to revoke or rotate".into());
    }
    if let Some(e) = spec.entropy
        && !(0.0..=8.0).contains(&e)
    {
        return fail(format!("entropy {e} is outside 0..=8 bits per byte"));
    }
    if let Some(v) = &spec.validator
        && !validator::exists(v)
    {
        return fail(format!(
            "unknown validator {v:?} (known: {})",
            validator::NAMES.join(", ")
        ));
    }
    if let Some(v) = &spec.verify {
        if let Err(message) = v.check() {
            return fail(message);
        }
        for p in &v.pair {
            if let Err(e) = crate::matcher::regex::compile_plain(&p.regex) {
                return fail(format!(
                    "verify.pair {}: regex does not compile: {e}",
                    p.name
                ));
            }
        }
    }
    Ok(())
}

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
    for (index, rule) in rules.iter().enumerate() {
        let index = index as u32;
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
        if spec.examples.is_empty() {
            check
                .warnings
                .push("no examples: nothing shows the rule works".into());
        }
        let found_by_rule = |text: &str, scratch: &mut _| {
            let mut candidates = Vec::new();
            matcher.scan(text.as_bytes(), scratch, &mut candidates);
            let origin = crate::blob::Origin::file("example");
            candidates
                .iter()
                .filter(|c| c.rule == index)
                .filter_map(|c| finding::confirm(rule, text.as_bytes(), 0, c, &origin))
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

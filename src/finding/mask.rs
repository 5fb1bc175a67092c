//! How a secret is shown when it must not be shown: a public prefix, then `****`.
//!
//! The prefix is the longest of the rule's keywords that the secret starts with (`ghp_`,
//! `AKIA`), or else a lowercase type tag ending in `-` or `_` (`sk-proj-`, `glpat-`): it tells a
//! reader what kind of secret it is and reveals nothing a rule file does not already say. Other
//! secrets, and every secret of a generic rule (a password), show only `****`. The prefix is never more than a quarter of the secret.

use crate::rules::Rule;

/// The masked form of `secret` for `rule`.
pub fn secret(rule: &Rule, secret: &str) -> String {
    let prefix = public_prefix(rule, secret);
    format!("{}****", &secret[..prefix])
}

/// Length in bytes of the part of `secret` that may be shown.
pub fn public_prefix(rule: &Rule, secret: &str) -> usize {
    rule.spec
        .keywords
        .iter()
        .filter(|k| k.len() < secret.len() && secret.is_char_boundary(k.len()))
        .filter(|k| secret.as_bytes()[..k.len()].eq_ignore_ascii_case(k.as_bytes()))
        .map(|k| k.len())
        .max()
        .unwrap_or_else(|| {
            if rule.spec.generic {
                0
            } else {
                type_tag(secret)
            }
        })
        .min(secret.len() / 4)
}

/// `sk-proj-` in `sk-proj-…`: lowercase letters and digits in `-`/`_`-separated parts, at most
/// 16 bytes, with at least two letters.
fn type_tag(secret: &str) -> usize {
    let b = secret.as_bytes();
    let mut end = 0;
    for (i, &c) in b.iter().enumerate().take(16) {
        match c {
            b'-' | b'_' => end = i + 1,
            b'a'..=b'z' | b'0'..=b'9' => {}
            _ => break,
        }
    }
    let letters = b[..end].iter().filter(|c| c.is_ascii_lowercase()).count();
    if letters >= 2 { end } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn masks_keep_only_a_type_prefix() {
        let rules = RuleSet::builtin().expect("rules");
        let rule = |id| rules.get(id).expect("rule");
        let gh = "ghp_R8vQ2mXk7LpZ3nT9wY4sB6dF1hJ0cA5eGqWx";
        assert_eq!(secret(rule("github.pat.classic"), gh), "ghp_****");
        let oa = format!("sk-proj-{}T3BlbkFJ{}", "a".repeat(40), "b".repeat(40));
        assert_eq!(secret(rule("openai.api-key.project"), &oa), "sk-proj-****");
        let aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYz8kL2mN4pQ";
        assert_eq!(secret(rule("aws.secret-access-key"), aws), "****");
        // Generic secrets (passwords) show nothing.
        assert_eq!(
            secret(rule("generic.password-assignment"), "ab-cdefgh"),
            "****"
        );
        assert_eq!(secret(rule("generic.password-assignment"), "x"), "****");
    }
}

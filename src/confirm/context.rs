//! Contexts shown to people never show another secret in clear.
//!
//! A finding carries up to [`super::CONTEXT_BYTES`] of its line on each side of the secret.
//! That line may hold other secrets (`GH=ghp_… HF=hf_…`), and printing the first token's context
//! must not print the second in clear: the context is scanned with the same rules, and what they
//! find is replaced by its mask, as is the finding's own secret where it repeats.

use crate::blob::Origin;
use crate::finding::{Finding, mask};
use crate::matcher::{Matcher, Scratch};

/// Masks other secrets in the context of each of `findings` ([`mask_context`]).
pub fn mask_all(matcher: &Matcher, findings: &mut [Finding]) {
    if findings.is_empty() {
        return;
    }
    let mut scratch = matcher.scratch();
    for f in findings {
        mask_context(matcher, &mut scratch, f);
    }
}

/// Masks any other secret that shows in a finding's context (`GH=ghp_… HF=hf_…` on one line
/// must not print the second token in clear in the first one's context). The context is
/// scanned with the same rules; what they find is replaced by its mask. The finding's own
/// secret repeated in its context is masked too.
pub fn mask_context(matcher: &Matcher, scratch: &mut Scratch, f: &mut Finding) {
    let own = f.secret.clone();
    for part in [&mut f.before, &mut f.after] {
        if part.is_empty() {
            continue;
        }
        let mut candidates = Vec::new();
        matcher.scan(part.as_bytes(), scratch, &mut candidates);
        let origin = Origin::file("");
        let mut spans: Vec<(std::ops::Range<usize>, String)> = candidates
            .iter()
            .filter_map(|c| {
                let rule = matcher.rule(c.rule);
                let found = super::confirm(rule, part.as_bytes(), 0, c, &origin)?;
                Some((c.secret.clone(), mask::secret(rule, &found.secret)))
            })
            .collect();
        if own.len() >= 4 {
            let mut from = 0;
            while let Some(i) = part[from..].find(own.as_str()) {
                let start = from + i;
                spans.push((start..start + own.len(), mask::secret(&f.rule, &own)));
                from = start + own.len();
            }
        }
        if spans.is_empty() {
            continue;
        }
        spans.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(part.len());
        let mut at = 0;
        for (range, mask) in spans {
            if range.start < at
                || !part.is_char_boundary(range.start)
                || !part.is_char_boundary(range.end)
            {
                continue;
            }
            out.push_str(&part[at..range.start]);
            out.push_str(&mask);
            at = range.end;
        }
        out.push_str(&part[at..]);
        *part = out;
    }
}

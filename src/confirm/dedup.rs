//! Findings that other findings explain are dropped.
//!
//! Two rules can find the same secret: a generic rule (`password = …`) and a specific one (a
//! GitHub token assigned to `password`); a view can find again what the scan found as written.
//! The specific finding, and the finding as written, are the ones a person acts on. Two
//! specific rules can also find the same value: a PlanetScale password in a `mysql://` URL, a
//! Netlify `nfp_` token assigned to `NETLIFY_AUTH_TOKEN`. The rule whose keyword is part of the
//! secret itself (the token names its provider) explains it better than a rule that knows it
//! only from the context around it ([`prefer_self_identifying`]).

use crate::finding::Finding;

/// Drops findings that others explain: a decoded finding where the same rule found the secret
/// as written ([`dedupe`]), and a generic rule's finding whose secret overlaps a
/// specific rule's finding. `findings` must be sorted by offset.
pub fn suppress_generic(findings: &mut Vec<Finding>) {
    dedupe(findings);
    prefer_self_identifying(findings);
    if !findings.iter().any(|f| f.rule.spec.generic) {
        return;
    }
    // Specific findings sorted by start, with the running maximum of their ends: a generic
    // finding overlaps one iff some specific one starting before its end ends after its start.
    let mut max_end = 0;
    let specific: Vec<(u64, u64)> = findings
        .iter()
        .filter(|f| !f.rule.spec.generic)
        .map(|f| {
            max_end = max_end.max(f.end_offset);
            (f.offset, max_end)
        })
        .collect();
    findings.retain(|f| {
        if !f.rule.spec.generic {
            return true;
        }
        let upto = specific.partition_point(|&(s, _)| s < f.end_offset);
        upto == 0 || specific[upto - 1].1 <= f.offset
    });
    one_generic_per_secret(findings);
}

/// Where several generic rules report overlapping secrets (`password: "…"` read both as an
/// assignment and as an unquoted value, `SECRET=…` both as an environment line and as a
/// secret assignment), keeps one finding: the most confident, then the earliest.
/// `findings` must be sorted by offset.
pub fn one_generic_per_secret(findings: &mut Vec<Finding>) {
    let generic: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].rule.spec.generic)
        .collect();
    if generic.len() < 2 {
        return;
    }
    let mut drop = vec![false; findings.len()];
    for (n, &i) in generic.iter().enumerate() {
        for &j in &generic[n + 1..] {
            let (a, b) = (&findings[i], &findings[j]);
            if b.offset >= a.end_offset {
                break;
            }
            if drop[i] || drop[j] || a.decoded != b.decoded {
                continue;
            }
            // `b` starts inside `a`: the same secret. The less confident goes; on a tie the
            // one that starts later.
            let keep_a = a.confidence >= b.confidence;
            drop[if keep_a { j } else { i }] = true;
        }
    }
    remove_marked(findings, &drop);
}

/// Where specific rules report the very same secret (same span, same decoding), keeps the
/// findings that explain it best and drops the others. A rule that found the values it
/// requires beside the secret (`[[rule.verify.pair]] required`: a PEM key is a GCP service
/// account's when the account's `client_email` is beside it) explains it best; then a rule
/// with one of its keywords inside the secret (`pscale_pw_…`, `nfp_…`, `-----BEGIN … PRIVATE
/// KEY-----`) explains it better than one that matched only the context (`mysql://user:…@`,
/// `NETLIFY_AUTH_TOKEN=…`). Findings that explain it equally well are all kept. Generic
/// findings are left to [`suppress_generic`]. `findings` must be sorted by offset.
pub fn prefer_self_identifying(findings: &mut Vec<Finding>) {
    let same = |a: &Finding, b: &Finding| {
        a.offset == b.offset && a.end_offset == b.end_offset && a.decoded == b.decoded
    };
    let rank = |f: &Finding| {
        let secret = f.secret.to_ascii_lowercase();
        let keyword = f
            .rule
            .spec
            .keywords
            .iter()
            .any(|k| secret.contains(&k.to_ascii_lowercase()));
        // A finding exists only where its required values were found (see
        // `confirm::confirm`), so a rule that requires one always had its context.
        let context = f
            .rule
            .spec
            .verify
            .as_ref()
            .is_some_and(|v| v.pair.iter().any(|p| p.required));
        u8::from(context) * 2 + u8::from(keyword)
    };
    let mut drop = vec![false; findings.len()];
    let mut i = 0;
    while i < findings.len() {
        // Findings with one offset are adjacent; those with the same span among them.
        let mut j = i + 1;
        while j < findings.len() && findings[j].offset == findings[i].offset {
            j += 1;
        }
        // A finding alone at its offset (nearly all of them) has nothing to be preferred to.
        for a in (i..j).filter(|_| j - i > 1) {
            if findings[a].rule.spec.generic {
                continue;
            }
            let best = rank(&findings[a]);
            if best == 0 {
                continue;
            }
            for b in i..j {
                let other = &findings[b];
                if b != a
                    && !other.rule.spec.generic
                    && other.rule.id() != findings[a].rule.id()
                    && same(&findings[a], other)
                    && rank(other) < best
                {
                    drop[b] = true;
                }
            }
        }
        i = j;
    }
    remove_marked(findings, &drop);
}

/// Drops findings that repeat another finding of the same rule at an overlapping place with a
/// longer decoding chain: a secret found as written is reported as written, and a secret found
/// through two views once. `findings` must be sorted by offset.
pub fn dedupe(findings: &mut Vec<Finding>) {
    if !findings.iter().any(|f| !f.decoded.is_empty()) {
        return;
    }
    // A finding overlaps one that starts at most the longest span before it.
    let longest = findings
        .iter()
        .map(|f| f.end_offset.saturating_sub(f.offset))
        .max()
        .unwrap_or(0);
    let mut drop = vec![false; findings.len()];
    for i in 0..findings.len() {
        if findings[i].decoded.is_empty() {
            continue;
        }
        // Earlier-starting findings that may overlap are within the sorted neighbourhood.
        let reach = findings[i].offset.saturating_sub(longest);
        let first = findings.partition_point(|f| f.offset < reach);
        for j in first..findings.len() {
            if i == j || drop[j] {
                continue;
            }
            let (a, b) = (&findings[i], &findings[j]);
            if b.offset >= a.end_offset {
                break;
            }
            let overlaps = b.end_offset > a.offset && b.offset < a.end_offset;
            let better =
                b.decoded.len() < a.decoded.len() || (b.decoded.len() == a.decoded.len() && j < i);
            if overlaps && better && a.rule.id() == b.rule.id() {
                drop[i] = true;
                break;
            }
        }
    }
    remove_marked(findings, &drop);
}

/// Removes the findings whose `drop` flag is set (`drop` is indexed like `findings`).
fn remove_marked(findings: &mut Vec<Finding>, drop: &[bool]) {
    if !drop.contains(&true) {
        return;
    }
    let mut k = 0;
    findings.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
}

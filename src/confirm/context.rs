//! Contexts shown to people never show another secret in clear.
//!
//! A finding carries up to [`super::CONTEXT_BYTES`] of its line on each side of the secret.
//! That line may hold other secrets (`GH=ghp_… HF=hf_…`), and printing the first token's context
//! must not print the second in clear. Three layers, from the most exact:
//!
//! 1. [`mask_by_position`]: in each scanned piece, what the whole scan found there (with its
//!    views: `ghp\u005f…` in a JSON string) is masked by position in the contexts of the
//!    others. It sees what no scan of the context alone could: a password whose keyword lies
//!    outside the context window, an escaped token.
//! 2. [`mask_all`], once a blob's findings are all in: each finding's neighbours (found by other
//!    chunks or windows) are masked where their text shows in its context, whole or cut at the
//!    context's edge.
//! 3. The context itself is scanned with the same rules, and what they find is masked, as is
//!    the finding's own secret where it repeats.

use rayon::prelude::*;

use crate::blob::Origin;
use crate::finding::{Finding, mask};
use crate::matcher::{Matcher, Scratch};

/// Masks other secrets in the context of each of `findings` (a blob's, sorted by offset): its
/// neighbours' text ([`mask_neighbours`]), then what a scan of the context finds
/// ([`mask_context`]). Findings are masked in parallel on the current rayon pool: a blob of
/// a few hundred thousand findings (a dump of passwords) would otherwise keep one core busy
/// for a second after the rest of the scan, an interrupted one included.
pub fn mask_all(matcher: &Matcher, findings: &mut [Finding]) {
    if findings.is_empty() {
        return;
    }
    mask_neighbours(findings);
    findings.par_iter_mut().with_min_len(PAR_MIN).for_each_init(
        || ContextScan {
            scratch: matcher.scratch(),
            clean: Default::default(),
        },
        |scan, f| mask_context(matcher, scan, f),
    );
}

/// What [`mask_context`] keeps from one finding to the next of a parallel job: the matcher's
/// scratch, and the last text before and after a secret in which the rules found nothing. A
/// dump's contexts repeat (`password = "` on every line): a text the rules found nothing in
/// is not scanned again (the same bytes, the same rules: the same nothing).
struct ContextScan {
    scratch: Scratch,
    clean: [String; 2],
}

/// Findings per parallel job in [`mask_all`] and [`mask_neighbours`].
const PAR_MIN: usize = 512;

/// The span `range` of `hay` as context text, with the parts covered by `spans` (sorted by
/// start; each with its mask) replaced: a span that starts inside the range by its mask, one
/// cut by the range's start by `****`.
fn masked_snippet(
    hay: &[u8],
    range: std::ops::Range<usize>,
    spans: &[(std::ops::Range<usize>, String)],
) -> String {
    let mut out = String::new();
    let mut at = range.start;
    for (span, mask) in spans {
        if span.end <= at || span.start >= range.end {
            continue;
        }
        if span.start > at {
            out.push_str(&super::snippet(&hay[at..span.start]));
            out.push_str(mask);
        } else {
            out.push_str("****");
        }
        at = span.end.min(range.end);
    }
    out.push_str(&super::snippet(&hay[at..range.end]));
    out
}

/// Re-cuts the contexts of the findings made as written in `hay` (whose byte 0 is byte `base`
/// of the blob) with every other finding of the same piece masked by position: decoded ones
/// (their encoded bytes), and those a scan of the context alone would not find.
pub fn mask_by_position(hay: &[u8], base: u64, findings: &mut [Finding]) {
    if findings.len() < 2 {
        return;
    }
    let local = |f: &Finding| -> Option<std::ops::Range<usize>> {
        let s = usize::try_from(f.offset.checked_sub(base)?).ok()?;
        let e = usize::try_from(f.end_offset.checked_sub(base)?).ok()?;
        (s <= e && e <= hay.len()).then_some(s..e)
    };
    // Spans by position, each with its finding (masked only where it shows in another's
    // context); the contexts are re-cut from the others' spans (read only), in parallel, then
    // set: a window of a dump of passwords holds a few hundred thousand findings.
    let mut spans: Vec<(std::ops::Range<usize>, usize)> = Vec::with_capacity(findings.len());
    spans.extend(
        findings
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((local(f)?, i))),
    );
    spans.sort_by_key(|(r, _)| (r.start, r.end));
    // A neighbour reaches a context only if it starts at most the longest span before it.
    let reach = spans.iter().map(|(r, _)| r.len()).max().unwrap_or(0);
    let shared: &[Finding] = findings;
    let recut = |f: &Finding| -> Option<(String, String)> {
        if !f.decoded.is_empty() {
            return None;
        }
        let own = local(f)?;
        let cut = super::Context::of(hay, own.clone());
        let (lo, hi) = (cut.before.start, cut.after.end);
        let first = spans.partition_point(|(r, _)| r.start + reach < lo);
        let near: Vec<(std::ops::Range<usize>, String)> = spans[first..]
            .iter()
            .take_while(|(r, _)| r.start < hi)
            .filter(|(r, _)| *r != own && r.end > lo && r.start < hi)
            .filter(|(r, _)| r.start < cut.before.end || r.end > cut.after.start)
            .map(|(r, j)| {
                (
                    r.clone(),
                    mask::secret(&shared[*j].rule, &shared[*j].secret),
                )
            })
            .collect();
        if near.is_empty() {
            return None;
        }
        Some((
            masked_snippet(hay, cut.before, &near),
            masked_snippet(hay, cut.after, &near),
        ))
    };
    // Only the contexts that change are kept (most often none: a vector of a blank per
    // finding is memory the system must clear first, more than the work itself).
    let recut: Vec<(usize, (String, String))> = shared
        .par_iter()
        .enumerate()
        .with_min_len(PAR_MIN)
        .filter_map(|(i, f)| Some((i, recut(f)?)))
        .collect();
    set_contexts(findings, recut);
}

/// Sets the contexts worked out for the findings at the given indices.
fn set_contexts(findings: &mut [Finding], contexts: Vec<(usize, (String, String))>) {
    for (i, (before, after)) in contexts {
        findings[i].before = before;
        findings[i].after = after;
    }
}

/// Masks, in each finding's context, the text of the findings near it (`findings` sorted by
/// offset): where a neighbour's secret shows whole, and where the context starts inside one
/// found before it or ends inside one found after it. Neighbours found by another chunk or
/// window of the blob are masked here; [`mask_by_position`] saw only its own piece.
pub fn mask_neighbours(findings: &mut [Finding]) {
    let longest = findings
        .iter()
        .map(|f| f.end_offset.saturating_sub(f.offset))
        .max()
        .unwrap_or(0);
    // Each finding's new context is worked out from the others' secrets (read only), in
    // parallel, then set.
    let shared: &[Finding] = findings;
    let masked: Vec<(usize, (String, String))> = (0..shared.len())
        .into_par_iter()
        .with_min_len(PAR_MIN)
        .filter_map(|i| Some((i, neighbours_masked(shared, i, longest)?)))
        .collect();
    set_contexts(findings, masked);
}

/// The context of `findings[i]` with its neighbours masked ([`mask_neighbours`]), `None` when
/// none of them shows in it.
fn neighbours_masked(findings: &[Finding], i: usize, longest: u64) -> Option<(String, String)> {
    let reach = super::CONTEXT_BYTES as u64;
    let f = &findings[i];
    let (lo, hi) = (
        f.offset.saturating_sub(reach),
        f.end_offset.saturating_add(reach),
    );
    let first = findings.partition_point(|g| g.offset.saturating_add(longest) < lo);
    let mut before = std::borrow::Cow::Borrowed(f.before.as_str());
    let mut after = std::borrow::Cow::Borrowed(f.after.as_str());
    for (j, g) in findings.iter().enumerate().skip(first) {
        if g.offset >= hi {
            break;
        }
        let same = (g.offset, g.end_offset) == (f.offset, f.end_offset);
        if j == i || same || g.end_offset <= lo || g.secret.len() < 4 {
            continue;
        }
        let secret = g.secret.as_str();
        // Made only for a neighbour that shows (most do not: a context is a line's 80 bytes).
        let mut masked: Option<String> = None;
        for part in [&mut before, &mut after] {
            // (A context shorter than the secret cannot show it whole: no searcher built.)
            if part.len() >= secret.len()
                && memchr::memmem::find(part.as_bytes(), secret.as_bytes()).is_some()
            {
                let masked = masked.get_or_insert_with(|| mask::secret(&g.rule, secret));
                *part = std::borrow::Cow::Owned(part.replace(secret, masked));
            }
        }
        // Cut by the context's edge: a suffix at the start of `before`, a prefix at the end
        // of `after` (four bytes or more: less says nothing).
        if g.offset < f.offset {
            if let Some(n) = edge_overlap(secret, &before, true) {
                before = std::borrow::Cow::Owned(format!("****{}", &before[n..]));
            }
        } else if let Some(n) = edge_overlap(secret, &after, false) {
            let keep = after.len() - n;
            after = std::borrow::Cow::Owned(format!("{}****", &after[..keep]));
        }
    }
    match (before, after) {
        (std::borrow::Cow::Borrowed(_), std::borrow::Cow::Borrowed(_)) => None,
        (b, a) => Some((b.into_owned(), a.into_owned())),
    }
}

/// The length of the longest piece of `secret` (4 bytes or more) that `text` starts with as the
/// secret's suffix (`start`), or ends with as its prefix.
fn edge_overlap(secret: &str, text: &str, start: bool) -> Option<usize> {
    let (s, t) = (secret.as_bytes(), text.as_bytes());
    let max = s.len().min(t.len());
    // (The first byte of the overlap is compared alone first: most lengths fail there.)
    (4..=max).rev().find(|&n| {
        if start {
            t[0] == s[s.len() - n]
                && secret.is_char_boundary(s.len() - n)
                && text.is_char_boundary(n)
                && t[..n] == s[s.len() - n..]
        } else {
            t[t.len() - n] == s[0]
                && secret.is_char_boundary(n)
                && text.is_char_boundary(t.len() - n)
                && t[t.len() - n..] == s[..n]
        }
    })
}

/// Masks any other secret that shows in a finding's context (`GH=ghp_… HF=hf_…` on one line
/// must not print the second token in clear in the first one's context). The context is
/// scanned with the same rules; what they find is replaced by its mask. The finding's own
/// secret repeated in its context is masked too.
fn mask_context(matcher: &Matcher, scan: &mut ContextScan, f: &mut Finding) {
    // A context is nowhere: no path to weigh.
    static NOWHERE: std::sync::LazyLock<Origin> = std::sync::LazyLock::new(|| Origin::file(""));
    let Finding {
        secret: own,
        rule: own_rule,
        before,
        after,
        ..
    } = f;
    for (part, clean) in [before, after].into_iter().zip(&mut scan.clean) {
        if part.is_empty() {
            continue;
        }
        let mut spans: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        if *part != *clean {
            let mut candidates = Vec::new();
            matcher.scan(part.as_bytes(), &mut scan.scratch, &mut candidates);
            spans = candidates
                .iter()
                .filter_map(|c| {
                    let rule = matcher.rule(c.rule);
                    let found = super::confirm(rule, part.as_bytes(), 0, c, &NOWHERE)?;
                    Some((c.secret.clone(), mask::secret(rule, &found.secret)))
                })
                .collect();
            if spans.is_empty() {
                clean.clone_from(part);
            }
        }
        if own.len() >= 4 && part.len() >= own.len() {
            let mut from = 0;
            while let Some(i) = memchr::memmem::find(&part.as_bytes()[from..], own.as_bytes()) {
                let start = from + i;
                spans.push((start..start + own.len(), mask::secret(own_rule, own)));
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

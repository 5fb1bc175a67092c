//! Confirm: a candidate match becomes a finding, or is dropped, in one place.
//!
//! The matcher ([`crate::matcher`]) hands over [`Candidate`]s: where a rule's regex matched and
//! where its `secret` group is. This stage decides what a person sees:
//!
//! - [`confirm`] checks one candidate against its rule and the bytes around it: placeholder
//!   values, values below the rule's entropy floor, values that fail the rule's validator when
//!   the rule requires it to pass, look-alikes of secrets for generic rules (digests, UUIDs,
//!   lockfile hashes: [`placeholder::lookalike`]), the rule's own allowlist and stopwords (rules
//!   imported from gitleaks carry those) and inline `ferret:allow` markers; then it cuts the
//!   context snippet out of the secret's line. Position (line, column) is left for the engine's
//!   locator, because lines are only counted up to findings.
//! - [`candidates`] does that for every rule candidate of a scanned piece and hands the view
//!   triggers' candidates to [`views`], which decodes them and scans the decoded text, so a
//!   secret hidden by base64, JSON escapes or percent-encoding is confirmed the same way.
//! - [`finalize`] is what the engine calls on a blob's findings once they are all in: it sorts
//!   them, drops those that others explain ([`dedup`]: a generic rule's finding where a
//!   specific rule found the same secret, a decoded finding where the same rule found it as
//!   written) and masks any other secret that shows in a finding's context ([`context`]).
//!
//! The stage imports the matcher (its candidates, and its rules for context masking) and the
//! views' decoders; nothing below it imports it.

pub mod context;
pub mod dedup;
pub mod evidence;
pub mod views;

use std::sync::Arc;

use crate::blob::Origin;
use crate::finding::{Finding, LineColumn, Validation, allow, fingerprint};
use crate::matcher::{Candidate, Matcher, Scratch, entropy, placeholder, validator};
use crate::rules::{AllowTarget, Rule};

/// Bytes of context kept on each side of a secret (within its line).
pub const CONTEXT_BYTES: usize = 80;

/// Confirms the rules' candidates found in `hay` (whose byte 0 is byte `base` of the blob), and
/// decodes and scans the view triggers' ([`views`]): the findings of one scanned piece, with
/// their positions left for the locator.
pub fn candidates(
    matcher: &Matcher,
    hay: &[u8],
    base: u64,
    candidates: &[Candidate],
    origin: &Origin,
    scratch: &mut Scratch,
) -> Vec<Finding> {
    candidates_until(matcher, hay, base, candidates, origin, scratch, &|| false)
}

/// Candidates confirmed between two looks at the stop flag in [`candidates_until`]: a few
/// milliseconds of work at the worst (a candidate costs up to ~30 µs).
const STOP_EVERY: usize = 256;

/// Candidates from which [`candidates_until`] confirms in parallel.
const PAR_MIN: usize = 4 * STOP_EVERY;

/// Confirms one rule candidate (view triggers are [`views`]' to decode).
fn confirm_rule(
    matcher: &Matcher,
    hay: &[u8],
    base: u64,
    candidate: &Candidate,
    origin: &Origin,
) -> Option<Finding> {
    if matcher.view(candidate.rule).is_some() {
        return None;
    }
    confirm(matcher.rule(candidate.rule), hay, base, candidate, origin)
}

/// [`candidates`], giving up once `stop` returns true (a signal: the scan is being
/// interrupted): it is asked at every [`STOP_EVERY`]th candidate, and once it says stop the
/// candidates not begun and the view triggers are dropped. What was confirmed is kept
/// (and masked by position like any piece's findings), so an interrupted scan reports it.
pub fn candidates_until(
    matcher: &Matcher,
    hay: &[u8],
    base: u64,
    candidates: &[Candidate],
    origin: &Origin,
    scratch: &mut Scratch,
    stop: &(dyn Fn() -> bool + Sync),
) -> Vec<Finding> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stopped = AtomicBool::new(false);
    let each = |(i, c): (usize, &Candidate)| -> Option<Finding> {
        if i % STOP_EVERY == STOP_EVERY - 1 && stop() {
            stopped.store(true, Ordering::Relaxed);
        }
        if stopped.load(Ordering::Relaxed) {
            return None;
        }
        confirm_rule(matcher, hay, base, c, origin)
    };
    // Candidates are confirmed in parallel when there are many (a dump of passwords: hundreds
    // of thousands in one window), each into its own slot of one vector, in order. A rejected
    // candidate leaves a blank finding in its slot (no text, no allocation), and the blanks
    // are removed in place: `retain` moves nothing before the first blank, and most often
    // there is none. So the findings are neither gathered from batches nor moved again.
    let mut out: Vec<Finding> = if candidates.len() >= PAR_MIN {
        use rayon::prelude::*;
        let mut slots: Vec<Finding> = Vec::new();
        candidates
            .par_iter()
            .enumerate()
            .with_min_len(STOP_EVERY)
            .map(|(i, c)| each((i, c)).unwrap_or_else(|| blank(matcher.rule(c.rule), origin)))
            .collect_into_vec(&mut slots);
        slots.retain(|f| f.offset != BLANK);
        slots
    } else {
        candidates.iter().enumerate().filter_map(each).collect()
    };
    if !stopped.load(Ordering::Relaxed) {
        views::scan(matcher, hay, base, candidates, origin, scratch, &mut out);
    }
    context::mask_by_position(hay, base, &mut out);
    out
}

/// The offset of a [`blank`] finding: no finding begins there.
const BLANK: u64 = u64::MAX;

/// A finding that stands for a rejected candidate in [`candidates_until`]'s slots, removed
/// before anything else sees it.
fn blank(rule: &Arc<Rule>, origin: &Origin) -> Finding {
    Finding {
        rule: Arc::clone(rule),
        secret: String::new(),
        fingerprint: Default::default(),
        origin: origin.clone(),
        offset: BLANK,
        end_offset: BLANK,
        start: LineColumn::default(),
        end: LineColumn::default(),
        before: String::new(),
        after: String::new(),
        entropy: 0.0,
        validation: Validation::None,
        decoded: Vec::new(),
        encoded_extent: None,
        file_region: None,
        verification: None,
        paired: Vec::new(),
        history: None,
        confidence: Default::default(),
        reasons: Default::default(),
    }
}

/// Finishes a blob's findings (or a streamed batch's): sorted by position and rule, findings
/// that others explain dropped ([`dedup::suppress_generic`]), and other secrets masked in each
/// context ([`context::mask_all`]). Lines and columns are the caller's to fill in.
pub fn finalize(matcher: &Matcher, findings: &mut Vec<Finding>) {
    let order = |a: &Finding, b: &Finding| {
        (a.offset, a.end_offset, a.rule.id()).cmp(&(b.offset, b.end_offset, b.rule.id()))
    };
    // Pieces are confirmed in order, so the findings most often come sorted already: checking
    // costs a comparison each, sorting moves a few hundred bytes per finding.
    if !findings.is_sorted_by(|a, b| order(a, b).is_le()) {
        findings.sort_by(order);
    }
    dedup::suppress_generic(findings);
    context::mask_all(matcher, findings);
    fingerprint::fill_short(findings);
}

/// Checks a candidate found in `hay` (where `hay[0]` is byte `base` of the blob) and builds the
/// finding, with its position left for the locator. `None` when a check rejects it.
pub fn confirm(
    rule: &Arc<Rule>,
    hay: &[u8],
    base: u64,
    candidate: &Candidate,
    origin: &Origin,
) -> Option<Finding> {
    let secret = &hay[candidate.secret.clone()];
    if secret.is_empty() || placeholder::reason(secret).is_some() {
        return None;
    }
    if rule.spec.generic
        && placeholder::lookalike(secret).is_some()
        && !evidence::hex_under_secret_name(rule, hay, candidate)
    {
        return None;
    }
    let entropy = entropy::shannon(secret);
    if rule.spec.entropy.is_some_and(|min| entropy < min) {
        return None;
    }
    if is_allowed(rule, hay, candidate) {
        return None;
    }
    let validation = match &rule.spec.validator {
        Some(name) if name == "pem" => validator::validate(name, &single_escapes(secret)),
        Some(name) => validator::validate(name, secret),
        None => Validation::None,
    };
    if rule.spec.require_valid && validation == Validation::Failed {
        return None;
    }
    let paired = rule.paired_values(hay, candidate.secret.clone());
    if lacks_required_pair(rule, &paired) {
        return None;
    }
    let assessment = evidence::assess(rule, hay, candidate, origin, validation);
    let cut = Context::of(hay, candidate.secret.clone());
    if allow::is_inline_allowed(
        &hay[cut.line_before..candidate.secret.start],
        &hay[candidate.secret.end..cut.line_after],
    ) {
        return None;
    }
    Some(Finding {
        rule: Arc::clone(rule),
        secret: String::from_utf8_lossy(secret).into_owned(),
        // A short secret's fingerprint is stretched, at a cost bounded per blob: it is made
        // once the blob's findings are in ([`finalize`], [`fingerprint::fill_short`]).
        fingerprint: if fingerprint::is_short(secret) && std::str::from_utf8(secret).is_ok() {
            Default::default()
        } else {
            fingerprint::fingerprint(rule.id(), secret)
        },
        origin: origin.clone(),
        offset: base + candidate.secret.start as u64,
        end_offset: base + candidate.secret.end as u64,
        start: LineColumn::default(),
        end: LineColumn::default(),
        before: snippet(&hay[cut.before.clone()]),
        after: snippet(&hay[cut.after.clone()]),
        entropy,
        validation,
        decoded: Vec::new(),
        encoded_extent: None,
        file_region: None,
        verification: None,
        paired,
        history: None,
        confidence: assessment.confidence,
        reasons: assessment.reasons,
    })
}

/// `bytes` with every run of backslashes shortened to one: a PEM block from a JSON document
/// logged inside another (`\\n` for a newline) as the validator reads a JSON string (`\n`).
fn single_escapes(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !bytes.windows(2).any(|w| w == b"\\\\") {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\\' && i > 0 && bytes[i - 1] == b'\\') {
            out.push(b);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether a value the rule requires beside its secret (`[[rule.verify.pair]] required`) was
/// not found near it: the match is then not this rule's (a PEM key in JSON is a GCP
/// service account's only with the account's `client_email` beside it).
fn lacks_required_pair(rule: &Rule, paired: &[(String, String)]) -> bool {
    rule.spec.verify.as_ref().is_some_and(|v| {
        v.pair
            .iter()
            .any(|p| p.required && !paired.iter().any(|(n, _)| *n == p.name))
    })
}

/// Where a secret's context lies in the bytes it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Context {
    /// Start of the window on the secret's line before it (up to [`CONTEXT_BYTES`]).
    line_before: usize,
    /// End of the window on the secret's line after it.
    line_after: usize,
    /// The bytes shown before the secret: the window without a word it cut in two.
    pub(crate) before: std::ops::Range<usize>,
    /// The bytes shown after the secret.
    pub(crate) after: std::ops::Range<usize>,
}

impl Context {
    /// The context of the secret at `secret` in `hay`.
    pub(crate) fn of(hay: &[u8], secret: std::ops::Range<usize>) -> Context {
        // The context is the secret's line as a terminal shows it: a CR (CRLF logs, progress
        // bars redrawn with `\r`) ends it like a newline.
        let line_start = memchr::memrchr2(b'\n', b'\r', &hay[..secret.start]).map_or(0, |i| i + 1);
        let before_start = line_start.max(secret.start.saturating_sub(CONTEXT_BYTES));
        let after_end = memchr::memchr2(b'\n', b'\r', &hay[secret.end..])
            .map_or(hay.len(), |i| secret.end + i)
            .min(secret.end + CONTEXT_BYTES);
        // Where the context was cut inside the line, drop the cut word: half a token is still
        // a leak of the other half's neighbour.
        let token = |b: &u8| b.is_ascii_alphanumeric() || b"_-+/=.~%".contains(b);
        let mut shown_start = before_start;
        if before_start > line_start {
            while shown_start < secret.start && token(&hay[shown_start]) {
                shown_start += 1;
            }
        }
        let mut shown_end = after_end;
        if after_end < hay.len() && hay[after_end] != b'\n' && hay[after_end] != b'\r' {
            while shown_end > secret.end && token(&hay[shown_end - 1]) {
                shown_end -= 1;
            }
        }
        Context {
            line_before: before_start,
            line_after: after_end,
            before: shown_start..secret.start,
            after: secret.end..shown_end,
        }
    }
}

/// Whether the rule's stopwords or allowlist patterns excuse the candidate.
fn is_allowed(rule: &Rule, hay: &[u8], candidate: &Candidate) -> bool {
    let spec = &rule.spec;
    if spec.stopwords.is_empty() && spec.allow.is_empty() {
        return false;
    }
    let secret = &hay[candidate.secret.clone()];
    if spec.stopwords.iter().any(|w| {
        !w.is_empty()
            && secret
                .windows(w.len())
                .any(|s| s.eq_ignore_ascii_case(w.as_bytes()))
    }) {
        return true;
    }
    rule.allow_patterns().iter().any(|(target, re)| {
        let text = match target {
            AllowTarget::Secret => secret,
            AllowTarget::Match => &hay[candidate.span.clone()],
            AllowTarget::Line => {
                let start =
                    memchr::memrchr(b'\n', &hay[..candidate.span.start]).map_or(0, |i| i + 1);
                let end = memchr::memchr(b'\n', &hay[candidate.span.end..])
                    .map_or(hay.len(), |i| candidate.span.end + i);
                &hay[start..end]
            }
        };
        re.is_match(text)
    })
}

/// Context text: lossy UTF-8 with control characters (other than tab) and bidirectional
/// overrides replaced, so that a snippet cannot move the terminal's cursor or hide text.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    // Printable ASCII (most contexts) is kept as it is, copied once.
    if bytes
        .iter()
        .all(|&b| (b' '..=b'~').contains(&b) || b == b'\t')
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        return text.to_owned();
    }
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if (c.is_control() && c != '\t') || bidi {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

//! Findings: candidate matches that passed the rule's checks, with everything a user acts on.
//!
//! [`confirm`] turns a matcher [`Candidate`] into a [`Finding`] or rejects it: placeholder
//! values, values below the rule's entropy floor, and (when the rule requires it) values that
//! fail the rule's validator; for generic rules, also values that only look like secrets
//! (digests, UUIDs, lockfile hashes: [`placeholder::lookalike`]); and values the rule's own
//! allowlist or stopwords excuse (rules imported from gitleaks carry those). Position is
//! filled in afterwards by the [`location::Locator`], because lines are only counted up to
//! findings. [`suppress_generic`] drops findings that others explain: a generic rule's finding
//! where a specific rule found the same secret, and a decoded finding where the same rule found
//! the secret as written. [`mask_context`] masks any other secret that shows in a finding's
//! context.

pub mod allow;
pub mod artifact;
pub mod baseline;
pub mod fingerprint;
pub mod location;
pub mod radius;
pub mod redact;
pub mod seen;
pub mod verification;

use std::sync::Arc;

use crate::blob::Origin;
use crate::matcher::validator::{self, Validation};
use crate::matcher::{Candidate, Matcher, Scratch, entropy, placeholder};
use crate::rules::{AllowTarget, Rule};
use crate::view::Encoding;
pub use location::LineColumn;

/// Bytes of context kept on each side of a secret (within its line).
pub const CONTEXT_BYTES: usize = 80;

/// A secret found somewhere.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule that found it.
    pub rule: Arc<Rule>,
    /// The secret (lossy UTF-8). Shown only when the user asks.
    pub secret: String,
    /// Hash of rule id and secret: equal for every copy of the secret.
    pub fingerprint: String,
    /// Where the blob came from.
    pub origin: Origin,
    /// Byte offset of the secret in the blob.
    pub offset: u64,
    /// Byte offset just past the secret.
    pub end_offset: u64,
    /// Line and column of the secret's first byte.
    pub start: LineColumn,
    /// Line and column just past the secret.
    pub end: LineColumn,
    /// Up to [`CONTEXT_BYTES`] of the secret's line before it.
    pub before: String,
    /// Up to [`CONTEXT_BYTES`] of the secret's line after it.
    pub after: String,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// The rule's validator's verdict.
    pub validation: Validation,
    /// The decodings that revealed the secret, outermost first (`[Json, Base64]`: a base64
    /// value inside an escaped JSON string); empty when it was found as written. Offsets,
    /// lines and columns then point at the encoded form of the secret in the blob.
    pub decoded: Vec<Encoding>,
    /// For a decoded secret, the newlines in its encoded form and the code points after the
    /// last one: where its end line and column are.
    pub(crate) encoded_extent: Option<(u64, u64)>,
    /// For a finding inside a file that ferret parses rather than scans as bytes (a notebook's
    /// cell), where the secret sits in the file's own bytes, start and end: SARIF regions point
    /// there so that code scanning annotates the right line. `None` when not known.
    pub file_region: Option<(LineColumn, LineColumn)>,
    /// What `--verify` learned about the secret; `None` when it was not verified.
    pub verification: Option<verification::Verification>,
    /// Values found near the secret that its rule's verifier needs (`[rule.verify] pair`), by
    /// name. They are secret material: kept for verification, written only with
    /// `--show-secrets`.
    pub paired: Vec<(String, String)>,
}

impl Finding {
    /// The order of findings in reports: by origin, position, then rule.
    pub fn sort_key(&self) -> (String, u64, String) {
        (
            self.origin.to_string(),
            self.offset,
            self.rule.id().to_string(),
        )
    }

    /// Records the encoded bytes a decoded secret was found in (for its end position).
    pub fn set_encoded_extent(&mut self, encoded: &[u8]) {
        let newlines = memchr::memchr_iter(b'\n', encoded).count() as u64;
        let tail = memchr::memrchr(b'\n', encoded).map_or(encoded, |i| &encoded[i + 1..]);
        self.encoded_extent = Some((newlines, location::count_chars(tail)));
    }

    /// The line and column just past the secret (or past its encoded form), given where it
    /// starts.
    pub fn end_from(&self, start: LineColumn) -> LineColumn {
        match self.encoded_extent {
            None => location::end_of(start, self.secret.as_bytes()),
            Some((0, chars)) => LineColumn {
                line: start.line,
                column: start.column + chars,
            },
            Some((newlines, chars)) => LineColumn {
                line: start.line + newlines,
                column: 1 + chars,
            },
        }
    }
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
    if rule.spec.generic && placeholder::lookalike(secret).is_some() {
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
        Some(name) => validator::validate(name, secret),
        None => Validation::None,
    };
    if rule.spec.require_valid && validation == Validation::Failed {
        return None;
    }
    // The context is the secret's line as a terminal shows it: a CR (CRLF logs, progress bars
    // redrawn with `\r`) ends it like a newline.
    let line_start =
        memchr::memrchr2(b'\n', b'\r', &hay[..candidate.secret.start]).map_or(0, |i| i + 1);
    let before_start = line_start.max(candidate.secret.start.saturating_sub(CONTEXT_BYTES));
    let after_end = memchr::memchr2(b'\n', b'\r', &hay[candidate.secret.end..])
        .map_or(hay.len(), |i| candidate.secret.end + i)
        .min(candidate.secret.end + CONTEXT_BYTES);
    if allow::is_inline_allowed(
        &hay[before_start..candidate.secret.start],
        &hay[candidate.secret.end..after_end],
    ) {
        return None;
    }
    // Where the context was cut inside the line, drop the cut word: half a token is still a
    // leak of the other half's neighbour.
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"_-+/=.~%".contains(b);
    let mut shown_start = before_start;
    if before_start > line_start {
        while shown_start < candidate.secret.start && token(&hay[shown_start]) {
            shown_start += 1;
        }
    }
    let mut shown_end = after_end;
    if after_end < hay.len() && hay[after_end] != b'\n' && hay[after_end] != b'\r' {
        while shown_end > candidate.secret.end && token(&hay[shown_end - 1]) {
            shown_end -= 1;
        }
    }
    Some(Finding {
        rule: Arc::clone(rule),
        secret: String::from_utf8_lossy(secret).into_owned(),
        fingerprint: fingerprint::fingerprint(rule.id(), secret),
        origin: origin.clone(),
        offset: base + candidate.secret.start as u64,
        end_offset: base + candidate.secret.end as u64,
        start: LineColumn::default(),
        end: LineColumn::default(),
        before: snippet(&hay[shown_start..candidate.secret.start]),
        after: snippet(&hay[candidate.secret.end..shown_end]),
        entropy,
        validation,
        decoded: Vec::new(),
        encoded_extent: None,
        file_region: None,
        verification: None,
        paired: rule.paired_values(hay, candidate.secret.clone()),
    })
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

/// Context text: lossy UTF-8 with control characters (other than tab) replaced, so that a
/// snippet cannot move the terminal's cursor or hide text.
fn snippet(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
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
                let found = confirm(rule, part.as_bytes(), 0, c, &origin)?;
                Some((c.secret.clone(), redact::mask(rule, &found.secret)))
            })
            .collect();
        if own.len() >= 4 {
            let mut from = 0;
            while let Some(i) = part[from..].find(own.as_str()) {
                let start = from + i;
                spans.push((start..start + own.len(), redact::mask(&f.rule, &own)));
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

/// Drops findings that others explain: a decoded finding where the same rule found the secret
/// as written ([`crate::view::dedupe`]), and a generic rule's finding whose secret overlaps a
/// specific rule's finding. `findings` must be sorted by offset.
pub fn suppress_generic(findings: &mut Vec<Finding>) {
    crate::view::dedupe(findings);
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
}

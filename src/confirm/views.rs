//! Secrets hidden by an encoding: the view triggers' candidates are decoded, scanned again and
//! confirmed, and what is found is mapped back to the encoded bytes.
//!
//! The matcher finds the regions worth decoding with the view triggers
//! ([`crate::matcher::triggers`]); [`scan`] is the one call per scanned piece: it takes that
//! piece's candidates, decodes the trigger candidates ([`crate::view`]), scans each decoded text
//! (with the trigger's own context around it, e.g. the JSON key), confirms what is found there,
//! and maps positions back. A finding made there names its decoding chain
//! ([`Finding::decoded`], outermost first) and points at the encoded bytes in the blob (its
//! offset, line and column are those of the encoded form of the secret). Views nest up to
//! [`MAX_DEPTH`] decodings (a base64 `auth` inside an escaped JSON string); decoded text is
//! bounded by the trigger regexes' maximum lengths. A secret found both as written and through
//! a view at the same place is reported once, as written ([`super::dedup::dedupe`]).

use crate::blob::Origin;
use crate::finding::{Encoding, Finding};
use crate::matcher::{Candidate, Matcher, Scratch};
use crate::view::{self, json_string};

/// How many decodings may be stacked (e.g. JSON string escapes, then base64).
pub const MAX_DEPTH: usize = 2;

/// Decodes the view candidates among `candidates` (found in `hay`, whose byte 0 is byte `base`
/// of the blob), scans the decoded texts, and appends what is found there to `out`, with
/// offsets in the blob. Candidates of ordinary rules are left alone.
pub fn scan(
    matcher: &Matcher,
    hay: &[u8],
    base: u64,
    candidates: &[Candidate],
    origin: &Origin,
    scratch: &mut Scratch,
    out: &mut Vec<Finding>,
) {
    if !candidates.iter().any(|c| matcher.view(c.rule).is_some()) {
        return;
    }
    let mut found = Vec::new();
    views_in(matcher, hay, candidates, origin, scratch, 1, &mut found);
    for mut f in found {
        f.offset += base;
        f.end_offset += base;
        out.push(f);
    }
}

/// Scans `text` (a decoded view at nesting `depth`): ordinary findings and, below
/// [`MAX_DEPTH`], findings of nested views. Offsets are in `text`.
fn scan_text(
    matcher: &Matcher,
    text: &[u8],
    origin: &Origin,
    scratch: &mut Scratch,
    depth: usize,
) -> Vec<Finding> {
    let mut candidates = Vec::new();
    matcher.scan(text, scratch, &mut candidates);
    let mut out: Vec<Finding> = candidates
        .iter()
        .filter(|c| matcher.view(c.rule).is_none())
        .filter_map(|c| super::confirm(matcher.rule(c.rule), text, 0, c, origin))
        .collect();
    if depth < MAX_DEPTH {
        views_in(
            matcher,
            text,
            &candidates,
            origin,
            scratch,
            depth + 1,
            &mut out,
        );
    }
    out
}

/// The findings revealed by decoding the view candidates among `candidates` in `hay`, with
/// offsets in `hay`.
fn views_in(
    matcher: &Matcher,
    hay: &[u8],
    candidates: &[Candidate],
    origin: &Origin,
    scratch: &mut Scratch,
    depth: usize,
    out: &mut Vec<Finding>,
) {
    // One JSON string holding several escapes is decoded once.
    let mut seen_json = std::collections::HashSet::new();
    for c in candidates {
        let Some(encoding) = matcher.view(c.rule) else {
            continue;
        };
        // The payload, and the context around it that the decoded text keeps (`"key": "…"`,
        // `Basic …`) so that rules that need that context see it.
        let (span, secret) = match encoding {
            Encoding::Json => {
                let Some((span, content)) = json_string::enclosing(hay, c.secret.start) else {
                    continue;
                };
                if !seen_json.insert(content.start) {
                    continue;
                }
                (span, content)
            }
            _ => (c.span.clone(), c.secret.clone()),
        };
        let payload = &hay[secret.clone()];
        let Some(decoded) = view::decode(encoding, payload) else {
            continue;
        };
        if decoded.bytes == payload {
            continue;
        }
        let before = &hay[span.start..secret.start];
        let after = &hay[secret.end..span.end];
        let mut text = Vec::with_capacity(before.len() + decoded.bytes.len() + after.len());
        text.extend_from_slice(before);
        text.extend_from_slice(&decoded.bytes);
        text.extend_from_slice(after);
        let inner = before.len()..before.len() + decoded.bytes.len();
        for mut f in scan_text(matcher, &text, origin, scratch, depth) {
            let (s, e) = (f.offset as usize, f.end_offset as usize);
            // Found in the copied context only: the scan as written finds it.
            if e <= inner.start || s >= inner.end {
                continue;
            }
            let d = s.max(inner.start) - inner.start..e.min(inner.end) - inner.start;
            let enc = decoded.encoded_range(d);
            let abs = secret.start + enc.start..secret.start + enc.end;
            f.offset = abs.start as u64;
            f.end_offset = abs.end as u64;
            f.decoded.insert(0, encoding);
            f.set_encoded_extent(&hay[abs]);
            out.push(f);
        }
    }
}

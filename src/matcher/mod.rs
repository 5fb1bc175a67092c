//! The matcher: bytes and rules in, candidate matches out.
//!
//! One pass of the keyword prefilter over the bytes finds every keyword of every rule
//! ([`prefilter`]). Only around those hits does a rule's regex run, on a bounded window
//! ([`window`]); the regex is compiled on the rule's first hit ([`regex`]). What the regexes
//! match are [`Candidate`]s; the entropy floor, placeholder filter and validators that turn a
//! candidate into a finding live in [`crate::finding`], which uses [`entropy`], [`placeholder`]
//! and [`validator`] from here.
//!
//! A [`Matcher`] is built once and shared by every worker (`Arc`); each worker owns a
//! [`Scratch`] with its regex caches and buffers, so a scan of bytes with no keyword allocates
//! nothing.
//!
//! Besides the rules, the matcher runs the views' triggers ([`crate::view`]): keyword-anchored
//! regexes whose matches are regions to decode (a `Basic` header's payload, an escaped JSON
//! string). They share the keyword prefilter with the rules, follow the same keyword contract,
//! and come after the rules in index order; [`Matcher::view`] tells them apart.
//!
//! # Why the prefiltered search equals a search of the whole input
//!
//! Every match of a rule contains one of its keywords (the *keyword contract*, checked on every
//! rule's examples), and its regex matches at most `m` bytes. Take any match `x` of a
//! leftmost-first search over the whole input, and the keyword hit `h` that anchors it (the
//! keyword where [`regex::reach`] proved every match has one, or any hit inside `x`): the window
//! `[h.end - before, h.end + after]` contains `x`. Every match that overlaps a merged window lies
//! inside it (its anchor's window overlaps, so was merged in), so the whole-input search enters
//! each merged window with no match in flight and finds in it what the windowed search finds;
//! look-around at window edges sees the real neighbouring bytes. The same holds for any region
//! that is a union of windows and the gaps between them: a match inside a gap contains a hit,
//! whose window was merged in. So windows of one rule closer than [`window::JOIN_GAP`] are
//! searched as one region, which trades a few bytes of regex work for fewer searches where a
//! keyword is dense (`://` in an access log). Where a rule has an anchor, a hit opens its
//! window only if one of the texts the regex can match from the anchor on begins there, in the
//! exact case ([`regex::Anchor`]): every match's anchor still does, so its window stays, while
//! a lower-case `token` no longer opens windows for a rule that wants `TOKEN`. Where every match
//! begins at its anchor keyword (`ghp_…`, `[Tt]oken…=`, `://…@`), or at most a few bytes before
//! it (`(?:aws_)?secret…`), a window is searched only from those positions, each an anchored
//! search that stops where the regex can no longer match ([`RuleRegex::for_each_match_at`]):
//! the leftmost match in the window begins at one of them, so the same matches are found
//! without scanning the bytes between. The test
//! `properties::prefilter_equals_brute_force` checks this on generated inputs, comparing with
//! [`Matcher::scan_unfiltered`].
//!
//! ```
//! use ferret::{Matcher, RuleSet};
//! let rules = RuleSet::builtin().unwrap();
//! let matcher = Matcher::new(&rules).unwrap();
//! let mut scratch = matcher.scratch();
//! let mut found = Vec::new();
//! matcher.scan(b"token: ghp_R8vQ2mXk7LpZ3nT9wY4sB6dF1hJ0cA3hUQ5z", &mut scratch, &mut found);
//! assert!(found.iter().any(|c| matcher.rule(c.rule).id() == "github.pat.classic"));
//! ```

pub mod entropy;
pub mod placeholder;
pub mod prefilter;
pub mod triggers;
pub mod validator;
pub mod window;

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::finding::Encoding;
use crate::rules::regex::{self, LazyRegex, RuleRegex};
use crate::rules::{Rule, RuleSet};
use prefilter::Prefilter;
pub use regex::Reach;

type RegexCache = (
    regex_automata::meta::Cache,
    regex_automata::util::captures::Captures,
);
pub use window::{RuleWindow, Seams};

/// The index of a rule (or a view trigger, after the rules) in a [`Matcher`]: what a
/// [`Candidate`] and a [`RuleWindow`] name, and what [`Matcher::rule`] looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleIndex(pub(crate) u32);

impl RuleIndex {
    /// The index as a position in the matcher's rule list.
    pub fn get(self) -> usize {
        self.0 as usize
    }

    /// The index of the rule at position `i` of a rule list that fits in `u32` (checked when
    /// the matcher is built).
    fn at(i: usize) -> RuleIndex {
        RuleIndex(i as u32)
    }
}

/// A regex match of one rule, before the entropy, placeholder and validator checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The rule ([`Matcher::rule`]).
    pub rule: RuleIndex,
    /// The whole regex match.
    pub span: Range<usize>,
    /// The `secret` group.
    pub secret: Range<usize>,
}

#[derive(Debug)]
struct MatcherRule {
    rule: Arc<Rule>,
    /// For a view trigger, the encoding of the regions it finds.
    view: Option<Encoding>,
    /// Bytes the window must reach on each side of a hit whatever the regex (a view's).
    min_reach: usize,
    regex: LazyRegex,
    /// The window around hits and the anchor gate, known without compiling the regex (a parse
    /// is enough).
    shape: OnceLock<Shape>,
}

/// Where a rule's matches can be, given a keyword hit.
#[derive(Debug)]
struct Shape {
    reach: Reach,
    /// For a rule with an anchor keyword ([`regex::anchor`]): how its matches begin at the
    /// anchor, exactly. A hit where none of them does anchors no match.
    gate: Option<Gate>,
    /// For an anchored rule: the bytes that may follow each of its keywords at the anchor
    /// ([`regex::Follow`]). A hit followed by any other byte anchors no match. Worked out on
    /// the rule's first hit that passes the gate ([`regex::follows_of`]).
    follows: OnceLock<Vec<regex::Follow>>,
    /// Every match begins at most this many bytes before its anchor keyword's hit
    /// ([`regex::Anchor::lead`], when at most [`MAX_LEAD`]): a window is searched only from
    /// those positions before its hits ([`RuleRegex::for_each_match_at`]).
    at_hits: Option<usize>,
    /// The shortest match of the rule, in bytes: an input shorter than that holds none (the
    /// context of a finding, scanned again to mask its neighbours, mostly is).
    min_len: usize,
}

impl Shape {
    /// Whether a hit of `keyword` (lowercased) followed by `next` (the rest of the input) may
    /// anchor a match.
    fn admits_next(&self, rule: &Rule, keyword: &[u8], next: &[u8]) -> bool {
        self.follows
            .get_or_init(|| regex::follows_of(&rule.spec.regex, &rule.spec.keywords))
            .iter()
            .find(|f| f.keyword == keyword)
            .is_none_or(|f| f.admits(next))
    }
}

/// The longest part before the anchor keyword for which a rule is searched from its hits
/// ([`Shape::at_hits`]): each hit costs one anchored search per byte of it, most of them ending
/// at their first byte (`aws_` before `secret`, a `\b` or `(?:^|\W)` before a prefix).
const MAX_LEAD: usize = 8;

/// The first four bytes of each of a rule's anchor texts, exactly (case included).
#[derive(Debug)]
struct Gate {
    /// Sorted.
    heads: Vec<[u8; 4]>,
}

impl Gate {
    /// A gate for the anchor texts `literals`; none when one is shorter than four bytes.
    fn new(literals: &[Vec<u8>]) -> Option<Gate> {
        let mut heads: Vec<[u8; 4]> = literals
            .iter()
            .map(|l| l.first_chunk::<4>().copied())
            .collect::<Option<_>>()?;
        heads.sort_unstable();
        heads.dedup();
        (!heads.is_empty()).then_some(Gate { heads })
    }

    /// Whether a match may be anchored at `at`: the first four bytes of one of the texts are
    /// there (or `hay` ends too soon to tell).
    fn admits(&self, hay: &[u8], at: usize) -> bool {
        match hay.get(at..).and_then(|h| h.first_chunk::<4>()) {
            Some(head) => self.heads.binary_search(head).is_ok(),
            None => true,
        }
    }
}

impl MatcherRule {
    fn regex(&self) -> Option<&RuleRegex> {
        self.regex.get(&self.rule.spec.regex).ok()
    }

    fn shape(&self) -> &Shape {
        self.shape.get_or_init(|| {
            let a = regex::anchor(&self.rule.spec.regex, &self.rule.spec.keywords)
                .unwrap_or(regex::Anchor::UNBOUNDED);
            Shape {
                reach: Reach {
                    before: a.reach.before.max(self.min_reach),
                    after: a.reach.after.max(self.min_reach),
                },
                gate: a.literals.as_deref().and_then(Gate::new),
                follows: OnceLock::new(),
                at_hits: a.lead.filter(|&l| l <= MAX_LEAD),
                min_len: regex::min_len(&self.rule.spec.regex),
            }
        })
    }

    fn reach(&self) -> Reach {
        self.shape().reach
    }
}

/// Rules compiled for scanning: the keyword prefilter plus each rule's lazily compiled regex.
#[derive(Debug)]
pub struct Matcher {
    /// The rules, then the view triggers.
    rules: Vec<MatcherRule>,
    /// How many of `rules` are rules (the rest are view triggers).
    real: usize,
    prefilter: Prefilter,
    max_radius: OnceLock<usize>,
}

/// Per-worker mutable state: regex caches and the windows being built. Reused across blobs.
#[derive(Debug)]
pub struct Scratch {
    caches: Vec<Option<RegexCache>>,
    open: Vec<Option<(usize, usize)>>,
    open_rules: Vec<RuleIndex>,
    /// For each rule searched at its hits ([`Shape::at_hits`]), the starts of the hits in its
    /// open window.
    starts: Vec<Vec<usize>>,
    /// For each rule, whether its open window's starts were let go ([`KEEP_STARTS`]).
    dropped: Vec<bool>,
}

/// Starts kept for one open window at most (512 KiB). A window with more (a keyword on every
/// line: a dump of passwords), or one that a seam will put off anyway, lets them go and its
/// hits are found again if it is searched: keeping them all cost more (memory grown and
/// copied, then most often thrown away with the window put off at a seam) than finding them
/// again.
const KEEP_STARTS: usize = 1 << 16;

impl Matcher {
    /// Builds the keyword prefilter over the rules and the view triggers. Regexes are compiled
    /// later, on each rule's first hit.
    pub fn new(rules: &RuleSet) -> Result<Matcher> {
        let real = rules.len();
        if let Some(rule) = rules.iter().find(|r| {
            r.spec
                .validator
                .as_deref()
                .is_some_and(|v| !validator::exists(v))
        }) {
            return Err(Error::Rule {
                rule: rule.id().to_string(),
                message: format!(
                    "unknown validator {:?} (known: {})",
                    rule.spec.validator.as_deref().unwrap_or_default(),
                    validator::NAMES.join(", ")
                ),
            });
        }
        let rules: Vec<MatcherRule> = rules
            .iter()
            .map(|rule| (Arc::clone(rule), None, 0))
            .chain(
                triggers::trigger_rules()
                    .into_iter()
                    .map(|(rule, encoding, reach)| (rule, Some(encoding), reach)),
            )
            .map(|(rule, view, min_reach)| MatcherRule {
                rule,
                view,
                min_reach,
                regex: LazyRegex::default(),
                shape: OnceLock::new(),
            })
            .collect();
        let prefilter = Prefilter::new(rules.iter().map(|r| r.rule.spec.keywords.as_slice()))?;
        Ok(Matcher {
            rules,
            real,
            prefilter,
            max_radius: OnceLock::new(),
        })
    }

    /// For a view trigger's index, the encoding of the regions it finds; `None` for a rule.
    pub fn view(&self, index: RuleIndex) -> Option<Encoding> {
        self.rules[index.get()].view
    }

    /// Compiles the regexes of the rules for which `which` is true now, reporting the first
    /// failure. Used for user rules, so that a typo fails at start-up and not mid-scan.
    pub fn compile_now(&self, mut which: impl FnMut(&Rule) -> bool) -> Result<()> {
        for r in &self.rules {
            if which(&r.rule) {
                r.regex
                    .get(&r.rule.spec.regex)
                    .map_err(|message| Error::Rule {
                        rule: r.rule.id().to_string(),
                        message: format!("invalid regex: {message}"),
                    })?;
            }
        }
        Ok(())
    }

    /// The rule (or view trigger) at `index` (from [`Candidate::rule`]).
    pub fn rule(&self, index: RuleIndex) -> &Arc<Rule> {
        &self.rules[index.get()].rule
    }

    /// The indexes of the rules (view triggers not included), in rule-set order.
    pub fn indexes(&self) -> impl Iterator<Item = RuleIndex> + use<> {
        (0..self.real).map(RuleIndex::at)
    }

    /// How many rules there are (view triggers not counted).
    pub fn len(&self) -> usize {
        self.real
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.real == 0
    }

    /// How many regexes have been compiled so far (start-up cost is proportional to this).
    pub fn compiled_count(&self) -> usize {
        self.rules.iter().filter(|r| r.regex.is_compiled()).count()
    }

    /// The widest window of any rule ([`Reach::span`]): how far past a chunk's edges its
    /// buffer must reach, and how close to a seam a window may join a neighbour's. Parses every
    /// regex on first call (no compilation).
    pub fn max_radius(&self) -> usize {
        *self.max_radius.get_or_init(|| {
            self.rules
                .iter()
                .map(|r| r.reach().span())
                .max()
                .unwrap_or(0)
        })
    }

    /// The longest keyword in bytes.
    pub fn max_keyword_len(&self) -> usize {
        self.prefilter.max_keyword_len
    }

    /// Fresh per-worker state.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            caches: (0..self.rules.len()).map(|_| None).collect(),
            open: vec![None; self.rules.len()],
            open_rules: Vec::new(),
            starts: vec![Vec::new(); self.rules.len()],
            dropped: vec![false; self.rules.len()],
        }
    }

    /// Appends every candidate in `hay` to `out`, sorted by position.
    pub fn scan(&self, hay: &[u8], scratch: &mut Scratch, out: &mut Vec<Candidate>) {
        let mut deferred = Vec::new();
        let first = out.len();
        let never = || false;
        self.scan_region(
            hay,
            0..hay.len(),
            Seams::NONE,
            scratch,
            out,
            &mut deferred,
            &never,
        );
        debug_assert!(deferred.is_empty());
        out[first..].sort_unstable_by(candidate_order);
    }

    /// Scans the keyword hits that start inside `starts` of `hay` (one chunk of a larger input;
    /// `hay` also holds the bytes around the chunk that its windows reach). Windows that may
    /// merge with a neighbouring chunk's (see [`Seams`]) are appended to `deferred` instead of
    /// searched; the caller searches them with [`Matcher::scan_windows`] once every chunk is
    /// done. Candidates are appended to `out` unsorted. A long window's search gives up once
    /// `stop` returns true (an interrupted scan), with part of its candidates.
    #[allow(clippy::too_many_arguments)]
    pub fn scan_region(
        &self,
        hay: &[u8],
        starts: Range<usize>,
        seams: Seams,
        scratch: &mut Scratch,
        out: &mut Vec<Candidate>,
        deferred: &mut Vec<RuleWindow>,
        stop: &(dyn Fn() -> bool + Sync),
    ) {
        let Scratch {
            caches,
            open,
            open_rules,
            starts: hit_starts,
            dropped,
        } = scratch;
        self.prefilter.for_each_hit(hay, starts, |hit| {
            for &rule in self.prefilter.rules_of(hit.pattern) {
                if !self.may_anchor(hay, rule, &hit) {
                    continue;
                }
                let shape = self.rules[rule.get()].shape();
                let reach = shape.reach;
                let w = (
                    hit.end.saturating_sub(reach.before),
                    hit.end.saturating_add(reach.after).min(hay.len()),
                );
                // Hits arrive in order of end offset, so window starts never decrease. Windows
                // closer than `JOIN_GAP` are searched as one (see the module docs).
                match &mut open[rule.get()] {
                    Some(o) if w.0 <= o.1.saturating_add(window::JOIN_GAP) => o.1 = o.1.max(w.1),
                    slot @ Some(_) => {
                        let done = slot.replace(w).unwrap_or(w);
                        self.close(
                            hay, rule, done, seams, caches, hit_starts, dropped, out, deferred,
                            stop,
                        );
                    }
                    slot @ None => {
                        *slot = Some(w);
                        open_rules.push(rule);
                    }
                }
                if let Some(lead) = shape.at_hits
                    && !dropped[rule.get()]
                {
                    let starts = &mut hit_starts[rule.get()];
                    // A window whose start a seam puts off is put off whatever its end.
                    let start = open[rule.get()].map_or(w.0, |o| o.0);
                    if starts.len() >= KEEP_STARTS
                        || seams.must_defer(start, start, self.rules[rule.get()].reach().span())
                    {
                        dropped[rule.get()] = true;
                        starts.clear();
                    } else {
                        starts.extend(search_starts(&hit, lead, reach));
                    }
                }
            }
        });
        for rule in open_rules.drain(..) {
            if let Some(w) = open[rule.get()].take() {
                self.close(
                    hay, rule, w, seams, caches, hit_starts, dropped, out, deferred, stop,
                );
            }
        }
    }

    /// Searches windows (merged first), appending candidates to `out` unsorted; a long
    /// window's search gives up once `stop` returns true, with part of its candidates.
    pub fn scan_windows(
        &self,
        hay: &[u8],
        windows: &mut Vec<RuleWindow>,
        scratch: &mut Scratch,
        out: &mut Vec<Candidate>,
        stop: &(dyn Fn() -> bool + Sync),
    ) {
        window::merge(windows);
        for w in windows.iter() {
            if let Some(lead) = self.rules[w.rule.get()].shape().at_hits {
                // The hits of a window put off at a seam are not kept: found again (in
                // parallel pieces when the window is long), so that the rule is searched from
                // them as in any other window.
                let mut starts = self.starts_in(hay, w.rule, lead, w.start..w.end);
                self.search_at(
                    hay,
                    w.rule,
                    &mut starts,
                    w.end,
                    &mut scratch.caches,
                    out,
                    stop,
                );
            } else {
                self.search(hay, w.rule, w.start..w.end, &mut scratch.caches, out, stop);
            }
        }
    }

    /// The starts to search `rule` (searched at its hits, `lead` bytes before them at most)
    /// from in the window `range` of `hay`: its hits found again, in parallel pieces when the
    /// window is long.
    fn starts_in(
        &self,
        hay: &[u8],
        rule: RuleIndex,
        lead: usize,
        range: Range<usize>,
    ) -> Vec<usize> {
        let reach = self.rules[rule.get()].shape().reach;
        let find = |starts: Range<usize>| {
            let mut found = Vec::new();
            self.prefilter.for_each_hit(hay, starts, |hit| {
                if self.prefilter.rules_of(hit.pattern).contains(&rule)
                    && self.may_anchor(hay, rule, &hit)
                {
                    found.extend(search_starts(&hit, lead, reach));
                }
            });
            found
        };
        if range.len() < PIECES_FROM {
            return find(range);
        }
        use rayon::prelude::*;
        let bounds: Vec<usize> = range
            .clone()
            .step_by(PIECE)
            .chain(std::iter::once(range.end))
            .collect();
        bounds
            .par_windows(2)
            .map(|b| find(b[0]..b[1]))
            .collect::<Vec<_>>()
            .concat()
    }

    /// Whether a keyword `hit` in `hay` may anchor a match of `rule`: the input is long
    /// enough, the anchor text begins there ([`Gate`]) and the byte after the keyword may
    /// follow it ([`Shape::admits_next`]).
    fn may_anchor(&self, hay: &[u8], rule: RuleIndex, hit: &prefilter::Hit) -> bool {
        let shape = self.rules[rule.get()].shape();
        hay.len() >= shape.min_len
            && shape.gate.as_ref().is_none_or(|g| g.admits(hay, hit.start))
            && shape.admits_next(
                &self.rules[rule.get()].rule,
                self.prefilter.pattern(hit.pattern),
                hay.get(hit.end..).unwrap_or_default(),
            )
    }

    /// Searches `rule` (searched at its hits) from `starts` (unsorted, repeats allowed), for
    /// matches that end by `end`; in parallel runs when they span a long window.
    #[allow(clippy::too_many_arguments)]
    fn search_at(
        &self,
        hay: &[u8],
        rule: RuleIndex,
        starts: &mut Vec<usize>,
        end: usize,
        caches: &mut [Option<RegexCache>],
        out: &mut Vec<Candidate>,
        stop: &(dyn Fn() -> bool + Sync),
    ) {
        // Hits arrive by end offset: a shorter keyword may end later yet start later too,
        // but not always, so sort.
        starts.sort_unstable();
        starts.dedup();
        let Some(re) = self.rules[rule.get()].regex() else {
            return;
        };
        let (Some(&first), Some(&last)) = (starts.first(), starts.last()) else {
            return;
        };
        if last - first >= PIECES_FROM {
            out.extend(
                re.matches_at_in_pieces(hay, starts, end, PIECE, stop)
                    .into_iter()
                    .map(|(span, secret)| Candidate { rule, span, secret }),
            );
            return;
        }
        let cache = caches[rule.get()].get_or_insert_with(|| re.create_cache());
        re.for_each_match_at(hay, starts, end, cache, |span, secret| {
            out.push(Candidate { rule, span, secret });
        });
    }

    /// The slow reference path: every rule's regex over the whole of `hay`, no prefilter.
    /// Gives the same candidates as [`Matcher::scan`] for rules that keep the keyword contract;
    /// the tests use it to prove that.
    pub fn scan_unfiltered(&self, hay: &[u8], scratch: &mut Scratch, out: &mut Vec<Candidate>) {
        let first = out.len();
        for rule in (0..self.rules.len()).map(RuleIndex::at) {
            self.search(hay, rule, 0..hay.len(), &mut scratch.caches, out, &|| false);
        }
        out[first..].sort_unstable_by(candidate_order);
    }

    /// Searches a rule's window once no later hit can widen it (or defers it, at a seam).
    #[allow(clippy::too_many_arguments)]
    fn close(
        &self,
        hay: &[u8],
        rule: RuleIndex,
        (start, end): (usize, usize),
        seams: Seams,
        caches: &mut [Option<RegexCache>],
        hit_starts: &mut [Vec<usize>],
        dropped: &mut [bool],
        out: &mut Vec<Candidate>,
        deferred: &mut Vec<RuleWindow>,
        stop: &(dyn Fn() -> bool + Sync),
    ) {
        let starts = &mut hit_starts[rule.get()];
        if seams.must_defer(start, end, self.rules[rule.get()].reach().span()) {
            deferred.push(RuleWindow { rule, start, end });
        } else if let Some(lead) = self.rules[rule.get()].shape().at_hits {
            if dropped[rule.get()] {
                let mut found = self.starts_in(hay, rule, lead, start..end);
                self.search_at(hay, rule, &mut found, end, caches, out, stop);
            } else {
                self.search_at(hay, rule, starts, end, caches, out, stop);
            }
        } else {
            self.search(hay, rule, start..end, caches, out, stop);
        }
        starts.clear();
        dropped[rule.get()] = false;
    }

    fn search(
        &self,
        hay: &[u8],
        rule: RuleIndex,
        range: Range<usize>,
        caches: &mut [Option<RegexCache>],
        out: &mut Vec<Candidate>,
        stop: &(dyn Fn() -> bool + Sync),
    ) {
        let Some(re) = self.rules[rule.get()].regex() else {
            return;
        };
        // One long window (a keyword on every line: a dump of passwords merges the whole file
        // into one) is searched in pieces on every thread, with the same matches, asking `stop`
        // before each piece.
        if range.len() >= PIECES_FROM {
            out.extend(
                re.matches_in_pieces(hay, range, PIECE, stop)
                    .into_iter()
                    .map(|(span, secret)| Candidate { rule, span, secret }),
            );
            return;
        }
        let cache = caches[rule.get()].get_or_insert_with(|| re.create_cache());
        re.for_each_match(hay, range, cache, |span, secret| {
            out.push(Candidate { rule, span, secret });
        });
    }
}

/// The positions from which a rule searched at its hits is searched for a keyword `hit`: up
/// to `lead` bytes before it, not before the hit's window ([`Reach`]).
fn search_starts(
    hit: &prefilter::Hit,
    lead: usize,
    reach: Reach,
) -> std::ops::RangeInclusive<usize> {
    let window_start = hit.end.saturating_sub(reach.before);
    hit.start.saturating_sub(lead).max(window_start)..=hit.start
}

/// Windows from this long are searched in pieces of [`PIECE`] bytes in parallel
/// ([`RuleRegex::matches_in_pieces`]).
const PIECES_FROM: usize = 2 << 20;

/// See [`PIECES_FROM`].
const PIECE: usize = 256 << 10;

/// The order candidates are reported in: by position, then rule.
pub fn candidate_order(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    (a.span.start, a.span.end, a.rule).cmp(&(b.span.start, b.span.end, b.rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_lets_through_hits_where_an_anchor_text_begins() {
        let gate = Gate::new(&[b"TOKEN".to_vec(), b"Token".to_vec(), b"SECRET".to_vec()]).unwrap();
        let hay = b"prompt_tokens=1 MY_TOKEN=x Token: y SECRET";
        let at = |s: &str| {
            hay.windows(s.len())
                .position(|w| w == s.as_bytes())
                .unwrap()
        };
        assert!(!gate.admits(hay, at("token")));
        assert!(gate.admits(hay, at("TOKEN")));
        assert!(gate.admits(hay, at("Token")));
        // Too close to the end to tell: let through.
        assert!(gate.admits(hay, hay.len() - 3));
        // A text shorter than four bytes: no gate.
        assert!(Gate::new(&[b"://".to_vec()]).is_none());
    }

    #[test]
    fn a_gated_rule_opens_no_window_where_its_anchor_case_does_not_occur() {
        let rules = RuleSet::builtin().unwrap();
        let m = Matcher::new(&rules).unwrap();
        let env = m
            .indexes()
            .find(|&r| m.rule(r).id() == "generic.env-assignment")
            .unwrap();
        let shape = m.rules[env.get()].shape();
        assert!(shape.gate.is_some());
        let mut scratch = m.scratch();
        let mut found = Vec::new();
        m.scan(
            b"MODEL_TOKEN=lacxtqjkKvOupRqOrU1CuczAUZ5uzhdW6VvHDwcp\n",
            &mut scratch,
            &mut found,
        );
        assert!(found.iter().any(|c| c.rule == env));
        found.clear();
        m.scan(
            b"model_token=lacxtqjkKvOupRqOrU1CuczAUZ5uzhdW6VvHDwcp\n",
            &mut scratch,
            &mut found,
        );
        assert!(!found.iter().any(|c| c.rule == env));
    }
}

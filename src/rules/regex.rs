//! The rules' regex dialect: each rule's regex, compiled on first use, and what its shape
//! proves about where matches can be.
//!
//! Compiling 150 regexes costs tens of milliseconds and most scans hit only a few rules, so a
//! rule's regex is compiled the first time the prefilter finds one of its keywords (a
//! [`OnceLock`]); start-up only builds the keyword automaton.
//!
//! The engine is `regex-automata`'s meta regex, the engine behind `regex::bytes`, used directly
//! for two things the `regex` API does not give: a search *range* inside a larger haystack whose
//! look-around (`\b`, `^`) still sees the bytes outside the range (so a window cut out of a file
//! behaves exactly like the whole file), and an explicit per-thread [`Cache`] kept in each
//! worker's scratch space.
//!
//! Rules are compiled without Unicode mode: secrets are ASCII, `\w`, `\s` and `\b` mean their
//! ASCII forms on raw bytes, and `(?i)` folds ASCII case only, exactly like the keyword
//! automaton (Unicode case folding would let `(?i)k` match the Kelvin sign, which the prefilter
//! does not see).
//!
//! The window around a keyword hit follows from the longest match the regex can produce (its
//! maximum length, from `regex-syntax`) and from where the keyword sits in the regex ([`reach`]);
//! rules must have a bounded maximum length for the prefiltered search to equal a search of the
//! whole input. Unbounded user rules get [`UNBOUNDED_RADIUS`] and a warning from
//! `ferret rules check`.

use std::sync::OnceLock;

use regex_automata::meta::{self, Cache, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

/// The longest match of a rule searched with the lazy DFA. A key block (`-----BEGIN … PRIVATE
/// KEY-----` then up to 12,000 bytes) counts its bytes: the DFA needs a new state for every
/// byte of the count, so it builds thousands per match and throws them away when its cache
/// fills; the NFA simulations walk such a match several times faster (a 1.7 KB PEM: 400 us
/// with the lazy DFA, 70 us without, anchored).
pub const LAZY_DFA_MAX_LEN: usize = 10_000;

/// The window radius used for a regex whose matches have no maximum length.
pub const UNBOUNDED_RADIUS: usize = 4096;

/// The largest maximum match length a rule may declare before it counts as unbounded.
pub const MAX_BOUNDED_LEN: usize = 64 * 1024;

/// A compiled rule regex.
#[derive(Debug)]
pub struct RuleRegex {
    re: Regex,
    /// The `secret` group, then `secret2`, `secret3`…: alternatives of one rule each name
    /// their own (a regex cannot name two groups alike); the first that took part is the
    /// secret.
    secret_groups: Vec<usize>,
    /// The longest match in bytes, or `None` when unbounded (or above [`MAX_BOUNDED_LEN`]).
    pub max_len: Option<usize>,
}

impl RuleRegex {
    /// Compiles `pattern`, which must have a capture group named `secret` (and may have
    /// `secret2` … `secret9` in other alternatives).
    pub fn new(pattern: &str) -> Result<RuleRegex, String> {
        let max_len = max_len(pattern)?;
        let re = Regex::builder()
            .syntax(syntax::Config::new().utf8(false).unicode(false))
            .configure(
                meta::Config::new()
                    .utf8_empty(false)
                    .nfa_size_limit(Some(20 * (1 << 20)))
                    .hybrid(max_len.is_none_or(|m| m <= LAZY_DFA_MAX_LEN)),
            )
            .build(pattern)
            .map_err(|e| e.to_string())?;
        let info = re.group_info();
        let first = info
            .to_index(regex_automata::PatternID::ZERO, "secret")
            .ok_or_else(|| "regex has no capture group named `secret`".to_string())?;
        let mut secret_groups = vec![first];
        secret_groups.extend(
            (2..10).filter_map(|i| {
                info.to_index(regex_automata::PatternID::ZERO, &format!("secret{i}"))
            }),
        );
        Ok(RuleRegex {
            re,
            secret_groups,
            max_len,
        })
    }

    /// A cache for one thread.
    pub fn create_cache(&self) -> (Cache, Captures) {
        (self.re.create_cache(), self.re.create_captures())
    }

    /// Reports every leftmost-first, non-overlapping match inside `range` of `hay`, as
    /// `(match span, secret span)`. Look-around sees the bytes of `hay` outside `range`.
    pub fn for_each_match(
        &self,
        hay: &[u8],
        range: std::ops::Range<usize>,
        cache: &mut (Cache, Captures),
        f: impl FnMut(std::ops::Range<usize>, std::ops::Range<usize>),
    ) {
        let end = range.end;
        self.for_each_match_before(hay, range, end + 1, cache, f);
    }

    /// [`RuleRegex::for_each_match`], stopping at the first match that begins at `limit` or
    /// later (not reported). Returns where the search would go on after the last match
    /// reported (`range.start` when none was).
    fn for_each_match_before(
        &self,
        hay: &[u8],
        range: std::ops::Range<usize>,
        limit: usize,
        cache: &mut (Cache, Captures),
        mut f: impl FnMut(std::ops::Range<usize>, std::ops::Range<usize>),
    ) -> usize {
        let (cache, caps) = cache;
        let mut input = regex_automata::Input::new(hay).range(range.clone());
        let mut resume = range.start;
        loop {
            self.re.search_captures_with(cache, &input, caps);
            let Some(m) = caps.get_match() else { break };
            if m.start() >= limit {
                break;
            }
            f(m.range(), self.secret_span(caps, m.range()));
            let next = if m.is_empty() { m.end() + 1 } else { m.end() };
            resume = next;
            if next > range.end {
                break;
            }
            input.set_start(next);
        }
        resume
    }

    /// [`RuleRegex::for_each_match`] over a large `range`, cut into pieces of `piece` bytes
    /// searched in parallel on the current rayon pool: the matches (as `(match span, secret
    /// span)`) are exactly those of the search in one pass, in order. Once `stop` returns true
    /// (asked before each piece), no more pieces are searched: the matches are those of the
    /// pieces before the first one skipped.
    ///
    /// Each piece reports the matches that begin inside it, searching from its first byte.
    /// Where the one-pass search enters a piece at or before its first byte (its last match
    /// ended there or earlier), it finds what the piece's search found: no match begins
    /// between (the previous piece's search looked there, from the same place), and a
    /// leftmost-first match is the same whichever earlier position a search started from
    /// (look-behind sees `hay` outside the range either way). Where a match runs past the
    /// piece's first byte, the piece is searched again from where that match ended.
    pub fn matches_in_pieces(
        &self,
        hay: &[u8],
        range: std::ops::Range<usize>,
        piece: usize,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
        use rayon::prelude::*;
        let piece = piece.max(1);
        let mut bounds: Vec<usize> = (range.start..range.end).step_by(piece).collect();
        bounds.push(range.end);
        // The last piece also reports an empty match at the very end, as one pass does.
        let limit = |b: usize| if b == range.end { b + 1 } else { b };
        let found: Vec<Option<(Vec<_>, usize)>> = bounds
            .par_windows(2)
            .map(|b| {
                if stop() {
                    return None;
                }
                let mut cache = self.create_cache();
                let mut found = Vec::new();
                let resume = self.for_each_match_before(
                    hay,
                    b[0]..range.end,
                    limit(b[1]),
                    &mut cache,
                    |m, s| found.push((m, s)),
                );
                Some((found, resume))
            })
            .collect();
        let mut out = Vec::new();
        let mut at = range.start;
        let mut cache = None;
        for (b, piece) in bounds.windows(2).zip(found) {
            let Some((found, resume)) = piece else { break };
            if at <= b[0] {
                out.extend(found);
                at = resume.max(b[0]);
            } else if at <= range.end {
                let cache = cache.get_or_insert_with(|| self.create_cache());
                at = self.for_each_match_before(hay, at..range.end, limit(b[1]), cache, |m, s| {
                    out.push((m, s))
                });
            }
        }
        out
    }

    /// The span of a match's secret: its first `secret` group that took part, else the whole
    /// match.
    fn secret_span(
        &self,
        caps: &Captures,
        whole: std::ops::Range<usize>,
    ) -> std::ops::Range<usize> {
        self.secret_groups
            .iter()
            .find_map(|&g| caps.get_group(g))
            .map(|s| s.range())
            .unwrap_or(whole)
    }

    /// Reports the leftmost-first, non-overlapping matches that begin at one of `starts`
    /// (sorted) and end by `end`, as [`RuleRegex::for_each_match`] does. For a rule whose
    /// every match begins at most [`Anchor::lead`] bytes before a keyword hit, searching the
    /// window of those hits from its first byte finds exactly these when `starts` holds every
    /// position up to that far before each hit: the leftmost match at or after a position
    /// begins at the first of them from there where one begins, and is the match an anchored
    /// search there finds. Each search walks only as far as the regex can still match from its start,
    /// where a search of the window scans all of it.
    pub fn for_each_match_at(
        &self,
        hay: &[u8],
        starts: &[usize],
        end: usize,
        cache: &mut (Cache, Captures),
        f: impl FnMut(std::ops::Range<usize>, std::ops::Range<usize>),
    ) {
        self.for_each_match_at_from(hay, starts, end, 0, cache, f);
    }

    /// [`RuleRegex::for_each_match_at`] as if a match had ended at `next` (starts before it
    /// are skipped). Returns where the next match may begin (`next` when none was found).
    fn for_each_match_at_from(
        &self,
        hay: &[u8],
        starts: &[usize],
        end: usize,
        mut next: usize,
        cache: &mut (Cache, Captures),
        mut f: impl FnMut(std::ops::Range<usize>, std::ops::Range<usize>),
    ) -> usize {
        let (cache, caps) = cache;
        for &start in starts {
            if start < next || start > end {
                continue;
            }
            let input = regex_automata::Input::new(hay)
                .range(start..end)
                .anchored(regex_automata::Anchored::Yes);
            self.re.search_captures_with(cache, &input, caps);
            let Some(m) = caps.get_match() else { continue };
            f(m.range(), self.secret_span(caps, m.range()));
            next = if m.is_empty() { m.end() + 1 } else { m.end() };
        }
        next
    }

    /// [`RuleRegex::for_each_match_at`] over many `starts` (sorted), cut into runs of starts
    /// that lie within `piece` bytes of each other, searched in parallel on the current rayon
    /// pool: the matches are exactly those of the search in one pass, in order. Once `stop`
    /// returns true (asked before each run), no more runs are searched: the matches are those
    /// of the runs before the first one skipped.
    ///
    /// Each run is searched as if no match came before it. Where the one-pass search reaches a
    /// run with no match running past the run's first start, it does exactly that; where a
    /// match of the runs before runs past it, the run is searched again from that match's end.
    pub fn matches_at_in_pieces(
        &self,
        hay: &[u8],
        starts: &[usize],
        end: usize,
        piece: usize,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
        use rayon::prelude::*;
        let piece = piece.max(1);
        let mut runs: Vec<&[usize]> = Vec::new();
        let mut rest = starts;
        while let Some(&first) = rest.first() {
            let n = rest.partition_point(|&s| s < first.saturating_add(piece));
            let (run, after) = rest.split_at(n);
            runs.push(run);
            rest = after;
        }
        let found: Vec<Option<(Vec<_>, usize)>> = runs
            .par_iter()
            .map_init(
                || self.create_cache(),
                |cache, run| {
                    if stop() {
                        return None;
                    }
                    let mut found = Vec::new();
                    let next = self
                        .for_each_match_at_from(hay, run, end, 0, cache, |m, s| found.push((m, s)));
                    Some((found, next))
                },
            )
            .collect();
        let mut out = Vec::new();
        let mut next = 0;
        let mut cache = None;
        for (run, piece) in runs.iter().zip(found) {
            let Some((found, resume)) = piece else { break };
            if next <= run[0] {
                out.extend(found);
                next = next.max(resume);
            } else {
                let cache = cache.get_or_insert_with(|| self.create_cache());
                next = self
                    .for_each_match_at_from(hay, run, end, next, cache, |m, s| out.push((m, s)));
            }
        }
        out
    }
}

/// Compiles `pattern` with the settings rule regexes use (bytes, no Unicode), for patterns that
/// need no `secret` group (allowlists).
pub fn compile_plain(pattern: &str) -> Result<Regex, String> {
    Regex::builder()
        .syntax(syntax::Config::new().utf8(false).unicode(false))
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(20 * (1 << 20))),
        )
        .build(pattern)
        .map_err(|e| e.to_string())
}

fn parse(pattern: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())
}

/// The minimum length in bytes of any match of `pattern` (0 when it cannot be parsed).
pub fn min_len(pattern: &str) -> usize {
    parse(pattern)
        .ok()
        .and_then(|hir| hir.properties().minimum_len())
        .unwrap_or(0)
}

/// The maximum length in bytes of any match of `pattern`, `None` when unbounded.
pub fn max_len(pattern: &str) -> Result<Option<usize>, String> {
    Ok(bounded(&parse(pattern)?))
}

fn bounded(hir: &Hir) -> Option<usize> {
    hir.properties()
        .maximum_len()
        .filter(|&n| n <= MAX_BOUNDED_LEN)
}

/// How far a rule's search window reaches around a keyword hit: from `before` bytes before the
/// hit's end to `after` bytes after it. Every match that the hit is the anchor of lies inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Bytes before the hit's end.
    pub before: usize,
    /// Bytes after the hit's end.
    pub after: usize,
}

impl Reach {
    /// The whole width: windows closer than this to a chunk seam may join a neighbour's.
    pub fn span(&self) -> usize {
        self.before + self.after
    }
}

/// The window of a rule around its keyword hits.
///
/// In general a match of at most `m` bytes that contains a hit lies within `m` bytes of it on
/// both sides. Most rules say more: their matches *start with* a keyword (`ghp_…`), or start
/// within a few bytes of one (`(?:^|\W)hf_…`, `(?:aws_)?secret…`). Then every match starts at
/// most `b` bytes before an *anchor* hit, where `b` is the longest the part of the regex before
/// the keyword can be, and ends at most the rest's maximum length after it; the window shrinks
/// from `2m` to about `m`, and the prefilter's hit for that anchor keeps the search exact. The
/// anchor is found by walking the top-level concatenation and asking `regex-syntax` for the
/// prefix literals of what follows: if every one starts with a keyword, that is the anchor.
pub fn reach(pattern: &str, keywords: &[String]) -> Result<Reach, String> {
    Ok(anchor(pattern, keywords)?.reach)
}

/// A rule's window ([`reach`]) and, when its matches have an anchor keyword, how the text at
/// the anchor begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The window around a hit.
    pub reach: Reach,
    /// When the rule has an anchor: the regex's prefix literals from the anchor on, exactly as
    /// they are matched (case included), cut after four bytes. Every match's anchor hit starts where one of them
    /// does, so a hit where none begins anchors no match, and its window can be left out.
    pub literals: Option<Vec<Vec<u8>>>,
    /// When the rule has an anchor: the longest the part of the regex before it can be. At 0
    /// every match begins where its anchor keyword does ([`RuleRegex::for_each_match_at`]).
    pub lead: Option<usize>,
}

/// The bytes that may follow a keyword where it anchors a match ([`follows_of`]): the
/// first byte after it, and for each first byte, the second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    /// The keyword, ASCII-lowercased.
    pub keyword: Vec<u8>,
    /// Bit `b` set: byte `b` may come first after the keyword.
    pub first: ByteSet,
    /// For a first byte, the bytes that may come second; sorted, and any second byte may
    /// follow a first byte that is not listed.
    pub second: Vec<(u8, ByteSet)>,
}

/// A set of bytes.
pub type ByteSet = [u64; 4];

fn set_has(set: &ByteSet, b: u8) -> bool {
    set[usize::from(b >> 6)] >> (b & 63) & 1 == 1
}

fn set_add(set: &mut ByteSet, b: u8) {
    set[usize::from(b >> 6)] |= 1 << (b & 63);
}

impl Follow {
    /// Whether `next` (the bytes after a hit of the keyword; fewer at the end of the input)
    /// may follow it where it anchors a match.
    pub fn admits(&self, next: &[u8]) -> bool {
        let Some(&b0) = next.first() else {
            return true;
        };
        if !set_has(&self.first, b0) {
            return false;
        }
        match (
            next.get(1),
            self.second.binary_search_by_key(&b0, |(b, _)| *b),
        ) {
            (Some(&b1), Ok(i)) => set_has(&self.second[i].1, b1),
            _ => true,
        }
    }
}

impl Anchor {
    /// For a regex whose matches have no maximum length (or that does not parse).
    pub const UNBOUNDED: Anchor = Anchor {
        reach: Reach {
            before: UNBOUNDED_RADIUS,
            after: UNBOUNDED_RADIUS,
        },
        literals: None,
        lead: None,
    };
}

/// [`reach`], with the anchor's literals.
pub fn anchor(pattern: &str, keywords: &[String]) -> Result<Anchor, String> {
    Ok(locate(pattern, keywords, false)?.0)
}

/// When the rule has an anchor: for keywords whose next byte at the anchor the regex pins
/// down, the bytes that may come next. `tokenizer` starts no match of a rule whose name must be
/// followed by `=`, `:`, a quote or a space; the hit at its `token` can be left out. Apart from
/// [`anchor`] because it costs more (two literal extractions): the matcher asks for it on a
/// rule's first hit, [`anchor`] for every rule when a scan starts.
pub fn follows_of(pattern: &str, keywords: &[String]) -> Vec<Follow> {
    locate(pattern, keywords, true)
        .map(|(_, follows)| follows)
        .unwrap_or_default()
}

/// [`anchor`], and with `with_follows` [`follows_of`].
fn locate(
    pattern: &str,
    keywords: &[String],
    with_follows: bool,
) -> Result<(Anchor, Vec<Follow>), String> {
    let hir = parse(pattern)?;
    let kmax = keywords.iter().map(String::len).max().unwrap_or(0);
    let Some(m) = bounded(&hir) else {
        return Ok((Anchor::UNBOUNDED, Vec::new()));
    };
    let symmetric = Anchor {
        reach: Reach {
            before: m,
            after: m,
        },
        literals: None,
        lead: None,
    };
    let keywords: Vec<Vec<u8>> = keywords
        .iter()
        .map(|k| k.to_ascii_lowercase().into_bytes())
        .collect();
    let children: Vec<Hir> = match hir.kind() {
        HirKind::Concat(children) => children.clone(),
        _ => vec![hir.clone()],
    };
    // Keywords match in any case, so whether a part begins with one is asked of the regex with
    // its letters folded to lower case: `(?i)gradle\.publish\.secret` is one text there, where
    // as written it is 2^18 (more than the extractor lists, so it would have no anchor).
    let folded: Vec<Hir> = children.iter().map(fold_case).collect();
    let mut before = 0;
    for i in 0..children.len() {
        let rest = Hir::concat(children[i..].to_vec());
        // Cut at the longest keyword: whether every text starts with a keyword is known by
        // then, and longer texts only multiply the work.
        let anchored = Extractor::new()
            .kind(ExtractKind::Prefix)
            .limit_class(4)
            .limit_literal_len(kmax)
            .limit_total(4096)
            .extract(&Hir::concat(folded[i..].to_vec()))
            .literals()
            .is_some_and(|lits| {
                !lits.is_empty()
                    && lits
                        .iter()
                        .all(|lit| keywords.iter().any(|k| lit.as_bytes().starts_with(k)))
            });
        if anchored {
            let Some(after) = bounded(&rest) else { break };
            // The texts as written, for the gate (cut at four bytes: all it reads).
            let seq = Extractor::new()
                .kind(ExtractKind::Prefix)
                .limit_class(4)
                .limit_literal_len(4)
                .limit_total(4096)
                .extract(&rest);
            // A match starts at most `before` bytes before its anchor keyword, which starts at
            // most `kmax` bytes before the hit's end; it ends at most `after` bytes after the
            // keyword's start, so before the hit's end plus `after`.
            let anchor = Anchor {
                reach: Reach {
                    before: before + kmax,
                    after,
                },
                literals: seq
                    .literals()
                    .map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect()),
                lead: Some(before),
            };
            let follows = if with_follows {
                follows(&children[i..], &keywords)
            } else {
                Vec::new()
            };
            return Ok((anchor, follows));
        }
        match bounded(&children[i]) {
            Some(n) => before += n,
            None => break,
        }
    }
    Ok((symmetric, Vec::new()))
}

/// `hir` with every ASCII letter it can match folded to lower case: it matches the lower-case
/// form of every text `hir` matches.
fn fold_case(hir: &Hir) -> Hir {
    use regex_syntax::hir::{Capture, Class, ClassBytes, ClassBytesRange, Repetition};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => hir.clone(),
        HirKind::Literal(lit) => Hir::literal(lit.0.to_ascii_lowercase()),
        HirKind::Class(Class::Bytes(class)) => {
            let mut set = [false; 256];
            for r in class.iter() {
                for b in r.start()..=r.end() {
                    set[usize::from(b.to_ascii_lowercase())] = true;
                }
            }
            let ranges = (0..=255u8)
                .filter(|&b| set[usize::from(b)])
                .map(|b| ClassBytesRange::new(b, b));
            Hir::class(Class::Bytes(ClassBytes::new(ranges)))
        }
        HirKind::Class(Class::Unicode(_)) => hir.clone(),
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            sub: Box::new(fold_case(&rep.sub)),
            ..rep.clone()
        }),
        HirKind::Capture(cap) => Hir::capture(Capture {
            sub: Box::new(fold_case(&cap.sub)),
            ..cap.clone()
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(fold_case).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(fold_case).collect()),
    }
}

/// For each keyword, the bytes that may follow it where it begins a match of the anchored
/// tail `children` (see [`anchor`]). The tail's first part (after any look-around) must be a
/// finite set of texts that `regex-syntax` lists exactly, such as `(?:[Tt]oken|TOKEN)` or
/// `://`; the bytes after a keyword that begins one of them are that text's rest, then the
/// first two bytes of what follows it (its prefix literals, cut at two bytes). Sound because
/// every match of the tail begins with one of the texts and continues with a match of the rest:
/// where the extractor cannot say (an infinite set, a literal shorter than two bytes, a text
/// shorter than the keyword), the position is left open. Keywords with nothing pinned down are
/// left out. Two small extractions per rule: this runs once per rule, on its first hit.
fn follows(children: &[Hir], keywords: &[Vec<u8>]) -> Vec<Follow> {
    const ALL: ByteSet = [u64::MAX; 4];
    let exact = |hir: &Hir| {
        let seq = Extractor::new()
            .kind(ExtractKind::Prefix)
            .limit_class(4)
            .limit_literal_len(64)
            .limit_total(4096)
            .extract(hir);
        seq.literals()
            .filter(|lits| lits.iter().all(|l| l.is_exact()))
            .map(|lits| {
                lits.iter()
                    .map(|l| l.as_bytes().to_vec())
                    .collect::<Vec<_>>()
            })
    };
    // The first part that is text, not an assertion (`\b`, `^`).
    let mut at = 0;
    let texts = loop {
        let Some(child) = children.get(at) else {
            return Vec::new();
        };
        match exact(child) {
            Some(t) if t.iter().all(Vec::is_empty) => at += 1,
            Some(t) => break t,
            None => return Vec::new(),
        }
    };
    let next = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_class(256)
        .limit_literal_len(2)
        .limit_total(20_000)
        .extract(&Hir::concat(children[at + 1..].to_vec()));
    // What may begin the rest, as byte pairs: every literal is summed up once here, not once
    // per text and keyword (a wide class gives thousands).
    let next = next.literals().map(|lits| {
        let mut heads = Heads {
            first: [0; 4],
            second: Box::new([[0; 4]; 256]),
            empty: false,
            any: !lits.is_empty(),
        };
        for l in lits {
            match l.as_bytes() {
                [] => heads.empty = true,
                [b0] => {
                    set_add(&mut heads.first, *b0);
                    heads.second[usize::from(*b0)] = ALL;
                }
                [b0, b1, ..] => {
                    set_add(&mut heads.first, *b0);
                    set_add(&mut heads.second[usize::from(*b0)], *b1);
                }
            }
        }
        heads
    });
    let mut out = Vec::new();
    'keyword: for k in keywords {
        let mut first = [0u64; 4];
        let mut second = [[0u64; 4]; 256];
        for text in &texts {
            let lower = text.to_ascii_lowercase();
            if !lower.starts_with(k) {
                if k.starts_with(&lower) {
                    // The keyword runs past this text: what follows it is not known here.
                    continue 'keyword;
                }
                continue;
            }
            match (&text[k.len()..], &next) {
                ([b0, b1, ..], _) => {
                    set_add(&mut first, *b0);
                    set_add(&mut second[usize::from(*b0)], *b1);
                }
                ([b0], Some(next)) => {
                    if next.any {
                        set_add(&mut first, *b0);
                        let set = &mut second[usize::from(*b0)];
                        *set = if next.empty {
                            ALL
                        } else {
                            set_union(set, &next.first)
                        };
                    }
                }
                ([b0], None) => {
                    set_add(&mut first, *b0);
                    second[usize::from(*b0)] = ALL;
                }
                ([], Some(next)) => {
                    if next.empty {
                        continue 'keyword;
                    }
                    first = set_union(&first, &next.first);
                    for (set, more) in second.iter_mut().zip(next.second.iter()) {
                        *set = set_union(set, more);
                    }
                }
                ([], None) => continue 'keyword,
            }
        }
        if first == [0; 4] {
            continue;
        }
        let second: Vec<(u8, ByteSet)> = (0..=255u8)
            .filter(|&b| set_has(&first, b) && second[usize::from(b)] != ALL)
            .map(|b| (b, second[usize::from(b)]))
            .collect();
        if first != ALL || !second.is_empty() {
            out.push(Follow {
                keyword: k.clone(),
                first,
                second,
            });
        }
    }
    out
}

/// The first two bytes of a set of literals ([`follows`]).
struct Heads {
    /// The first bytes of the literals that have one.
    first: ByteSet,
    /// For a first byte, the second bytes (all of them when a literal ends after the first).
    second: Box<[ByteSet; 256]>,
    /// Whether a literal is empty: then nothing is known of the next byte.
    empty: bool,
    /// Whether there is any literal (none: the rest matches nothing).
    any: bool,
}

fn set_union(a: &ByteSet, b: &ByteSet) -> ByteSet {
    std::array::from_fn(|i| a[i] | b[i])
}

/// A rule's regex, compiled on first use. Compilation errors are kept and reported once.
#[derive(Debug, Default)]
pub struct LazyRegex {
    cell: OnceLock<Result<RuleRegex, String>>,
}

impl LazyRegex {
    /// Compiles on first call; later calls return the same result.
    pub fn get(&self, pattern: &str) -> Result<&RuleRegex, &str> {
        self.cell
            .get_or_init(|| RuleRegex::new(pattern))
            .as_ref()
            .map_err(|e| e.as_str())
    }

    /// Whether the regex has been compiled (successfully or not).
    pub fn is_compiled(&self) -> bool {
        self.cell.get().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` lowercase values of 3 to `3 + spread - 1` letters, from a fixed xorshift `seed`.
    fn values(seed: u32, n: usize, spread: u32) -> Vec<String> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let len = 3 + (state % spread) as usize;
                (0..len)
                    .map(|j| char::from(b'a' + ((state as usize >> (j % 24)) % 26) as u8))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_search_in_pieces_finds_what_one_pass_finds() {
        // Dense matches, matches longer than a piece, matches across piece bounds, and a
        // regex that matches the empty string: the pieces' matches, stitched, are the
        // one-pass search's for every piece size.
        let mut hay = Vec::new();
        for (i, value) in values(0x2545_f491, 400, 40).into_iter().enumerate() {
            let sep = if i % 7 == 0 { "\n  " } else { " " };
            hay.extend_from_slice(format!("pass = \"{value}\"{sep}").as_bytes());
        }
        let patterns = [
            r#"pass\s*=\s*"(?P<secret>[a-z]{4,60})""#,
            r#"(?P<secret>"[a-z]*"\s*pass)"#,
            r#"(?P<secret>x*)"#,
            r#"\b(?P<secret>[a-z]{5,})\b"#,
        ];
        for pattern in patterns {
            let re = RuleRegex::new(pattern).unwrap();
            for range in [0..hay.len(), 17..hay.len() - 5] {
                let mut once = Vec::new();
                let mut cache = re.create_cache();
                re.for_each_match(&hay, range.clone(), &mut cache, |m, s| once.push((m, s)));
                assert!(!once.is_empty(), "{pattern}");
                for piece in [1, 7, 13, 64, 100, 1000, hay.len()] {
                    let pieces = re.matches_in_pieces(&hay, range.clone(), piece, &|| false);
                    let first = pieces.iter().zip(&once).position(|(a, b)| a != b);
                    assert_eq!(
                        pieces,
                        once,
                        "{pattern}, pieces of {piece}, range {range:?}, first difference at {first:?}: {:?}",
                        first
                            .map(|i| (&pieces[i.saturating_sub(2)..], &once[i.saturating_sub(2)..]))
                            .map(|(a, b)| (&a[..a.len().min(5)], &b[..b.len().min(5)]))
                    );
                }
            }
        }
    }

    #[test]
    fn anchored_searches_in_runs_find_what_one_pass_finds() {
        // Starts at every position of every keyword, and at positions no match begins at;
        // matches that run past the next starts (a value that holds the keyword), so the
        // runs' stitching must search a run again from where a match ended.
        let mut hay = Vec::new();
        for (i, value) in values(0x9e37_79b9, 500, 30).into_iter().enumerate() {
            let value = if i % 5 == 0 {
                format!("{value}pass = x{value}")
            } else {
                value
            };
            hay.extend_from_slice(format!("pass = {value};").as_bytes());
        }
        let patterns = [
            r#"pass = (?P<secret>[a-z]{4,60})"#,
            r#"pass = (?P<secret>[a-z =]{4,200})"#,
            r#"(?P<secret>p?)"#,
        ];
        let starts: Vec<usize> = hay
            .windows(4)
            .enumerate()
            .filter(|(i, w)| *w == b"pass" || i % 11 == 0)
            .map(|(i, _)| i)
            .collect();
        for pattern in patterns {
            let re = RuleRegex::new(pattern).unwrap();
            for end in [hay.len(), hay.len() - 40] {
                let mut once = Vec::new();
                let mut cache = re.create_cache();
                re.for_each_match_at(&hay, &starts, end, &mut cache, |m, s| once.push((m, s)));
                assert!(once.len() > 100, "{pattern}");
                for piece in [1, 5, 13, 64, 100, 1000, hay.len()] {
                    let runs = re.matches_at_in_pieces(&hay, &starts, end, piece, &|| false);
                    assert_eq!(runs, once, "{pattern}, runs of {piece} bytes, end {end}");
                }
            }
        }
    }

    #[test]
    fn a_search_in_pieces_stops_when_asked_with_what_it_found_so_far() {
        let hay = "pass = \"abcdefgh\" ".repeat(5000).into_bytes();
        let re = RuleRegex::new(r#"pass = "(?P<secret>[a-z]+)""#).unwrap();
        let mut once = Vec::new();
        let mut cache = re.create_cache();
        re.for_each_match(&hay, 0..hay.len(), &mut cache, |m, s| once.push((m, s)));
        assert_eq!(once.len(), 5000);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        // One thread: the pieces are searched in order; the flag is raised on the 10th ask.
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let stop = || asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 9;
        let part = pool.install(|| re.matches_in_pieces(&hay, 0..hay.len(), 1000, &stop));
        // Nine pieces of 1,000 bytes: the matches that begin in the first 9,000 bytes.
        let expected: Vec<_> = once
            .iter()
            .filter(|(m, _)| m.start < 9000)
            .cloned()
            .collect();
        assert_eq!(part, expected);
        assert!(
            re.matches_in_pieces(&hay, 0..hay.len(), 1000, &|| true)
                .is_empty()
        );
    }

    fn kw(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reach_finds_the_anchor_keyword() {
        // Starts with its keyword: the window starts at the hit.
        let r = reach(r"(?P<secret>ghp_[A-Za-z0-9]{36})\b", &kw(&["ghp_"])).unwrap();
        assert_eq!(
            r,
            Reach {
                before: 4,
                after: 40
            }
        );
        // One byte of context before the keyword.
        let r = reach(
            r"(?:^|[^A-Za-z0-9_])(?P<secret>hf_[A-Za-z]{34})\b",
            &kw(&["hf_"]),
        )
        .unwrap();
        assert_eq!(
            r,
            Reach {
                before: 1 + 3,
                after: 37
            }
        );
        // Case-insensitive keyword after an optional prefix.
        let r = reach(
            r"(?i)(?:aws_?)?secret[_-]?key=(?P<secret>[a-z]{8})",
            &kw(&["secret"]),
        )
        .unwrap();
        assert_eq!(
            r,
            Reach {
                before: 4 + 6,
                after: 6 + 1 + 3 + 1 + 8
            }
        );
        // The keyword is not at a fixed place: symmetric window of the maximum length.
        let r = reach(
            r"(?P<secret>[a-z]{1,10}T3BlbkFJ[a-z]{1,10})",
            &kw(&["t3blbkfj"]),
        )
        .unwrap();
        assert_eq!(
            r,
            Reach {
                before: 28,
                after: 28
            }
        );
        // Unbounded.
        let r = reach(r"(?P<secret>x+)", &kw(&["xxx"])).unwrap();
        assert_eq!(r.before, UNBOUNDED_RADIUS);
    }

    #[test]
    fn anchor_texts_keep_the_case_the_regex_matches() {
        let lits = |pattern: &str, keywords: &[&str]| {
            let mut l: Vec<String> = anchor(pattern, &kw(keywords))
                .unwrap()
                .literals
                .unwrap_or_default()
                .into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect();
            l.sort();
            l
        };
        // Upper case only: a lower-case `token` in the input anchors nothing.
        assert_eq!(
            lits(
                r"(?:TOKEN|SECRET)[A-Z_]{0,8}=(?P<secret>\w{8})",
                &["token", "secret"]
            ),
            ["SECR", "TOKE"]
        );
        // The texts' first four bytes.
        assert_eq!(
            lits(r"[Bb]earer (?P<secret>\w{8})", &["bearer"]),
            ["Bear", "bear"]
        );
        assert_eq!(lits(r"[Ss]k-(?P<secret>\w{8})", &["sk-"]), ["Sk-", "sk-"]);
        // No anchor (the keyword may sit anywhere): no texts.
        assert!(lits(r"(?P<secret>[a-z]{1,10}T3BlbkFJ)", &["t3blbkfj"]).is_empty());
    }

    #[test]
    fn follows_name_the_bytes_a_match_can_have_after_its_keyword() {
        let follows = |pattern: &str, keywords: &[&str]| {
            follows_of(pattern, &kw(keywords))
                .into_iter()
                .map(|f| {
                    let next: String = (0..=255u8)
                        .filter(|&b| f.admits(&[b]))
                        .map(char::from)
                        .collect();
                    (String::from_utf8(f.keyword).unwrap(), next)
                })
                .collect::<Vec<_>>()
        };
        // After the name: an optional `_key` suffix, a quote, spaces or the operator.
        assert_eq!(
            follows(
                r#"(?:[Tt]oken|TOKEN)(?:_(?i:key))?["']?[ \t]{0,2}[=:]\s{0,4}(?P<secret>\w{8})"#,
                &["token"]
            ),
            [("token".to_string(), "\t \"':=_".to_string())]
        );
        // `tokenizer` may begin a match: letters may follow `token`, upper case and digits not.
        assert_eq!(
            follows(r"token[a-z]{0,8}=(?P<secret>\w{8})", &["token"])[0].1,
            "=abcdefghijklmnopqrstuvwxyz"
        );
        // A match may end right after the keyword: the next byte is open.
        assert!(follows(r"(?P<secret>ghp_(?:[a-z]{8})?)", &["ghp_"]).is_empty());
        // The keyword is not the anchor: nothing.
        assert!(follows(r"(?P<secret>[a-z]{1,10}T3BlbkFJ[a-z]{1,10})", &["t3blbkfj"]).is_empty());
        // Only the keywords that are pinned down get a set; a wide class after the keyword
        // is kept whole.
        assert_eq!(
            follows(r"://[^\s:@/]{1,64}:(?P<secret>[^\s@]{3,8})@", &["://"])[0]
                .1
                .chars()
                .count(),
            256 - 6 - 3
        );
    }

    #[test]
    fn follows_look_two_bytes_past_the_keyword() {
        // After a quote, a space or a tab must come: not a colon.
        let follows = follows_of(
            r#"(?:[Aa]uthorization|AUTHORIZATION)["']?[ \t]{1,8}["']?[Bb]asic (?P<secret>[A-Za-z0-9+/]{8,64})"#,
            &kw(&["authorization"]),
        );
        let f = &follows[0];
        assert!(f.admits(b"\" "));
        assert!(f.admits(b" B"));
        assert!(f.admits(b" \t"));
        // JSON's `"Authorization": …` cannot begin this rule's match.
        assert!(!f.admits(b"\":"));
        assert!(!f.admits(b":"));
        // The input ends after one byte: only that one is known.
        assert!(f.admits(b"\""));
    }

    #[test]
    fn a_case_insensitive_name_is_an_anchor_at_the_start() {
        // As written, `(?i)` makes 2^15 texts of the keyword's part; folded, it is one. The
        // match begins with `gradle`, six bytes before the keyword.
        let a = anchor(
            r"(?i)gradle\.publish\.secret\s{0,4}[=:]\s{0,4}(?P<secret>(?-i:[A-Za-z0-9]{32}))\b",
            &kw(&[".publish.secret"]),
        )
        .unwrap();
        assert_eq!(a.lead, Some(6));
        assert_eq!(a.reach.before, 6 + 15);
        let a = anchor(
            r"(?i)gradle\.publish\.secret\s{0,4}[=:]\s{0,4}(?P<secret>(?-i:[A-Za-z0-9]{32}))\b",
            &kw(&["gradle.publish"]),
        )
        .unwrap();
        assert_eq!(a.lead, Some(0));
        // A part before the keyword: matches begin before it.
        let a = anchor(r"(?:^|\W)(?P<secret>hf_[A-Za-z]{34})", &kw(&["hf_"])).unwrap();
        assert_eq!(a.lead, Some(1));
        // A text that does not begin with a keyword in any case: no anchor.
        let a = anchor(r"(?i)(?:token|bearer)=(?P<secret>\w{8})", &kw(&["token"])).unwrap();
        assert_eq!(a.lead, None);
    }

    #[test]
    fn searches_at_hit_starts_find_what_a_window_search_finds() {
        let re = RuleRegex::new(
            r"(?:[Tt]oken|TOKEN)[a-z_]{0,8}\s{0,2}[=:]\s{0,2}(?P<secret>[A-Za-z0-9]{8,16})",
        )
        .unwrap();
        let hay = b"x token=abcdefgh1 Token_id: ABCDEFGH99 tokens=short token=tokenABCDEFGH2 TOKEN tokentoken=zz1234567";
        let mut cache = re.create_cache();
        let mut window = Vec::new();
        re.for_each_match(hay, 0..hay.len(), &mut cache, |m, s| window.push((m, s)));
        // Every case-insensitive `token`, as the prefilter reports them (overlaps included).
        let lower = hay.to_ascii_lowercase();
        let starts: Vec<usize> = (0..hay.len())
            .filter(|&i| lower[i..].starts_with(b"token"))
            .collect();
        let mut at = Vec::new();
        re.for_each_match_at(hay, &starts, hay.len(), &mut cache, |m, s| at.push((m, s)));
        assert_eq!(at, window);
        // `token=tokenABCDEFGH2` holds a second `token` inside the first match: not reported
        // on its own, as the window search does not.
        assert_eq!(window.len(), 4, "{window:?}");
    }
}

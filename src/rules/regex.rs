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
                    .nfa_size_limit(Some(20 * (1 << 20))),
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
        mut f: impl FnMut(std::ops::Range<usize>, std::ops::Range<usize>),
    ) {
        let (cache, caps) = cache;
        let mut input = regex_automata::Input::new(hay).range(range.clone());
        loop {
            self.re.search_captures_with(cache, &input, caps);
            let Some(m) = caps.get_match() else { break };
            let secret = self
                .secret_groups
                .iter()
                .find_map(|&g| caps.get_group(g))
                .map(|s| s.range())
                .unwrap_or(m.range());
            f(m.range(), secret);
            let next = if m.is_empty() { m.end() + 1 } else { m.end() };
            if next > range.end {
                break;
            }
            input.set_start(next);
        }
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
    /// they are matched (case included). Every match's anchor hit starts where one of them
    /// does, so a hit where none begins anchors no match, and its window can be left out.
    pub literals: Option<Vec<Vec<u8>>>,
    /// When the rule has an anchor: for keywords whose next byte at the anchor the regex pins
    /// down, the bytes that may come next. `tokenizer` starts no match of a rule whose name
    /// must be followed by `=`, `:`, a quote or a space; the hit at its `token` can be left out.
    pub follows: Vec<Follow>,
}

/// The bytes that may follow a keyword where it anchors a match ([`Anchor::follows`]): the
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
        follows: Vec::new(),
    };
}

/// [`reach`], with the anchor's literals.
pub fn anchor(pattern: &str, keywords: &[String]) -> Result<Anchor, String> {
    let hir = parse(pattern)?;
    let kmax = keywords.iter().map(String::len).max().unwrap_or(0);
    let Some(m) = bounded(&hir) else {
        return Ok(Anchor::UNBOUNDED);
    };
    let symmetric = Anchor {
        reach: Reach {
            before: m,
            after: m,
        },
        literals: None,
        follows: Vec::new(),
    };
    let keywords: Vec<Vec<u8>> = keywords
        .iter()
        .map(|k| k.to_ascii_lowercase().into_bytes())
        .collect();
    let children: Vec<Hir> = match hir.kind() {
        HirKind::Concat(children) => children.clone(),
        _ => vec![hir.clone()],
    };
    let mut before = 0;
    for i in 0..children.len() {
        let rest = Hir::concat(children[i..].to_vec());
        let seq = Extractor::new()
            .kind(ExtractKind::Prefix)
            .limit_class(4)
            .limit_literal_len(64)
            .limit_total(4096)
            .extract(&rest);
        let anchored = seq.literals().is_some_and(|lits| {
            !lits.is_empty()
                && lits.iter().all(|lit| {
                    let lower = lit.as_bytes().to_ascii_lowercase();
                    keywords.iter().any(|k| lower.starts_with(k))
                })
        });
        if anchored {
            let Some(after) = bounded(&rest) else { break };
            // A match starts at most `before` bytes before its anchor keyword, which starts at
            // most `kmax` bytes before the hit's end; it ends at most `after` bytes after the
            // keyword's start, so before the hit's end plus `after`.
            return Ok(Anchor {
                reach: Reach {
                    before: before + kmax,
                    after,
                },
                literals: seq
                    .literals()
                    .map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect()),
                follows: follows(&children[i..], &keywords),
            });
        }
        match bounded(&children[i]) {
            Some(n) => before += n,
            None => break,
        }
    }
    Ok(symmetric)
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
    let next: Option<Vec<&[u8]>> = next
        .literals()
        .map(|lits| lits.iter().map(|l| l.as_bytes()).collect());
    let mut out = Vec::new();
    'keyword: for k in keywords {
        let mut first = [0u64; 4];
        let mut second = std::collections::BTreeMap::<u8, ByteSet>::new();
        let mut pair = |b0: u8, b1: Option<u8>| {
            set_add(&mut first, b0);
            let set = second.entry(b0).or_insert([0; 4]);
            match b1 {
                Some(b1) => set_add(set, b1),
                None => *set = ALL,
            }
        };
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
                ([b0, b1, ..], _) => pair(*b0, Some(*b1)),
                ([b0], Some(next)) => {
                    for n in next {
                        pair(*b0, n.first().copied());
                    }
                }
                ([b0], None) => pair(*b0, None),
                ([], Some(next)) => {
                    for n in next {
                        match n {
                            [b0, rest @ ..] => pair(*b0, rest.first().copied()),
                            [] => continue 'keyword,
                        }
                    }
                }
                ([], None) => continue 'keyword,
            }
        }
        if first == [0; 4] {
            continue;
        }
        let second: Vec<(u8, ByteSet)> = second.into_iter().filter(|(_, s)| *s != ALL).collect();
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
            ["SECRET", "TOKEN"]
        );
        // The texts run past the keyword as far as the regex pins them down.
        assert_eq!(
            lits(r"[Bb]earer (?P<secret>\w{8})", &["bearer"]),
            ["Bearer ", "bearer "]
        );
        // No anchor (the keyword may sit anywhere): no texts.
        assert!(lits(r"(?P<secret>[a-z]{1,10}T3BlbkFJ)", &["t3blbkfj"]).is_empty());
    }

    #[test]
    fn follows_name_the_bytes_a_match_can_have_after_its_keyword() {
        let follows = |pattern: &str, keywords: &[&str]| {
            anchor(pattern, &kw(keywords))
                .unwrap()
                .follows
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
        let a = anchor(
            r#"(?:[Aa]uthorization|AUTHORIZATION)["']?[ \t]{1,8}["']?[Bb]asic (?P<secret>[A-Za-z0-9+/]{8,64})"#,
            &kw(&["authorization"]),
        )
        .unwrap();
        let f = &a.follows[0];
        assert!(f.admits(b"\" "));
        assert!(f.admits(b" B"));
        assert!(f.admits(b" \t"));
        // JSON's `"Authorization": …` cannot begin this rule's match.
        assert!(!f.admits(b"\":"));
        assert!(!f.admits(b":"));
        // The input ends after one byte: only that one is known.
        assert!(f.admits(b"\""));
    }
}

//! The keyword prefilter: every occurrence of every rule's keywords, in one pass.
//!
//! This is the only stage that touches every byte of the input, so it is the one that sets
//! throughput. Keywords are matched ASCII-case-insensitively (as gitleaks does) and every
//! occurrence is reported, overlapping ones included, so that both `sk-` and `sk-ant-` are seen
//! at the same place. Each keyword maps to the rules that listed it; a keyword shared by several
//! rules is searched once.
//!
//! # How
//!
//! An Aho-Corasick automaton over a few hundred case-insensitive keywords has thousands of
//! states, and its search loop (one dependent table load per byte) runs at about 500 MB/s on
//! one core. Most positions of real input start no keyword, so ferret asks a cheaper question
//! first, as Rabin-Karp and Hyperscan's FDR do: could a keyword start here? Bytes are folded
//! so that case does not matter (`b | 0x20`: letters meet their other case; a few punctuation
//! pairs also meet, which only adds candidates). A keyword of four bytes or more sets one bit
//! of a 64 KiB table: word `hash(its first three bytes)`, bit `its fourth byte % 64`; a
//! three-byte keyword sets its whole word. At each position the four bytes there are loaded as
//! one integer (eight positions from two loads), folded, hashed, and their bit tested: a handful
//! of instructions, no dependency between positions, about 1 GB/s on one core. Only where the
//! bit is set are the keywords filed under that word compared with the input. Two-byte
//! keywords (a view's `\/`) would set 256 words, so they are found apart with `memchr`. Hits
//! are handed on in order of end offset, as the automaton would.
//!
//! On x86-64 the loop is picked at run time by what the CPU has (module `x86`): with AVX2 the
//! eight positions are hashed in vector lanes and their words gathered (about 1.3 GB/s); with
//! AVX-512 VBMI a Teddy-like stage first asks of 64 positions at once whether their four bytes
//! fit one of 32 buckets of keyword starts, and only the few percent that do get the table
//! test (about 3 GB/s on JSON logs).
//!
//! The filter cannot miss: a keyword that occurs at `i` has its folded bytes at `i`, so their
//! bit is set (and they fit the bucket the keyword was put in), and the exact comparison then
//! accepts it. The unit tests compare every loop the CPU can run with an Aho-Corasick automaton
//! on generated input. A keyword of one byte (not allowed in rules, possible only in a custom
//! view) falls back to the automaton.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::error::{Error, Result};
use crate::matcher::RuleIndex;

#[cfg(target_arch = "x86_64")]
mod x86;

/// Bits of the gram hash: the table has 2^13 words of 64 bits (64 KiB).
const BITS: u32 = 13;
/// Folds ASCII letters to one case in four bytes at once.
const FOLD: u32 = 0x2020_2020;

/// A keyword occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The keyword (pattern) that matched.
    pub pattern: u32,
    /// Start offset in the haystack.
    pub start: usize,
    /// End offset in the haystack.
    pub end: usize,
}

/// The keywords and the map from each to its rules.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// The keywords, ASCII-lowercased and deduplicated.
    patterns: Vec<Box<[u8]>>,
    /// For each keyword, the indexes of the rules that use it.
    pattern_rules: Vec<Vec<RuleIndex>>,
    /// The longest keyword in bytes.
    pub max_keyword_len: usize,
    search: Search,
}

#[derive(Debug, Clone)]
enum Search {
    /// No keywords: nothing ever hits.
    Nothing,
    /// The gram filter (every keyword has at least two bytes).
    Grams(Box<Grams>),
    /// An Aho-Corasick automaton (some keyword has one byte).
    Automaton(AhoCorasick),
}

/// The filter table and the keywords filed under each of its words.
#[derive(Debug, Clone)]
struct Grams {
    /// Word `hash(first three folded bytes)`, bit `fourth folded byte % 64`: set if a keyword
    /// may start with those four bytes. A keyword of three bytes sets its whole word.
    table: Box<[u64; 1 << BITS]>,
    /// What the CPU offers ([`Grams::run_best`]).
    #[cfg(target_arch = "x86_64")]
    level: x86::Level,
    /// The bucket stage, built when the CPU can run it.
    #[cfg(target_arch = "x86_64")]
    buckets: Option<Box<x86::Buckets>>,
    /// The two-byte keywords, found apart with `memchr` (filed in the table, they would set
    /// 256 of its words).
    pairs: Vec<u32>,
    /// For word `h`, its keywords are `entries[starts[h]..starts[h + 1]]`.
    starts: Vec<u32>,
    entries: Vec<Entry>,
    /// Each keyword (by id) as the comparison with the input wants it.
    keys: Vec<Key>,
}

/// A keyword of up to 16 bytes as one 128-bit word, compared with 16 bytes of input in a few
/// instructions: `(input | letters) ^ lower` is zero on the keyword's bytes exactly where the
/// input has the keyword in any case (a letter's bit 5 is its case; other bytes must be
/// equal). Longer keywords, and positions with fewer than 16 bytes after them, are compared
/// byte by byte.
#[derive(Debug, Clone, Copy)]
struct Key {
    lower: u128,
    letters: u128,
    /// Ones on the keyword's bytes; zero for a keyword longer than 16 bytes.
    len_mask: u128,
    len: usize,
}

impl Key {
    fn new(keyword: &[u8]) -> Key {
        let mut lower = [0u8; 16];
        let mut letters = [0u8; 16];
        let mut ones = [0u8; 16];
        if keyword.len() <= 16 {
            for (j, &b) in keyword.iter().enumerate() {
                lower[j] = b.to_ascii_lowercase();
                letters[j] = if b.is_ascii_alphabetic() { 0x20 } else { 0 };
                ones[j] = 0xFF;
            }
        }
        Key {
            lower: u128::from_le_bytes(lower),
            letters: u128::from_le_bytes(letters),
            len_mask: u128::from_le_bytes(ones),
            len: keyword.len(),
        }
    }

    /// Whether `keyword` (this key's) occurs at `i` of `hay`, in any case.
    #[inline(always)]
    fn at(&self, keyword: &[u8], hay: &[u8], i: usize) -> bool {
        if self.len_mask != 0
            && let Some(b) = hay.get(i..).and_then(|h| h.first_chunk::<16>())
        {
            let x = u128::from_le_bytes(*b);
            return ((x | self.letters) ^ self.lower) & self.len_mask == 0;
        }
        hay.get(i..i + self.len)
            .is_some_and(|s| s.eq_ignore_ascii_case(keyword))
    }
}

/// A keyword filed under a table word.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The keyword's folded first bytes (up to four), as the input's must be under `mask`.
    gram: u32,
    mask: u32,
    id: u32,
}

/// The table word (and bucket) of the folded four bytes `x`: a hash of the first three.
#[inline(always)]
fn hash(x: u32) -> u32 {
    (x & 0xFF_FFFF).wrapping_mul(0x9E37_79B1) >> (32 - BITS)
}

/// The table bit of the folded four bytes `x`: 0 or 1.
#[inline(always)]
fn bit(table: &[u64; 1 << BITS], x: u32) -> u64 {
    table[hash(x) as usize & ((1 << BITS) - 1)] >> (x >> 24 & 63) & 1
}

/// The folded gram of `n` (2..=4) bytes at the start of `bytes` (zero-padded when shorter).
fn gram(bytes: &[u8], n: usize) -> u32 {
    let mut b = [0u8; 4];
    for (d, s) in b.iter_mut().zip(bytes.iter().take(n)) {
        *d = *s;
    }
    (u32::from_le_bytes(b) | FOLD) & low_bytes(n)
}

/// The mask of the low `n` bytes of a `u32`.
fn low_bytes(n: usize) -> u32 {
    if n >= 4 { u32::MAX } else { (1 << (8 * n)) - 1 }
}

impl Prefilter {
    /// Builds the prefilter from each rule's keyword list (indexed like the rules).
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a [String]>) -> Result<Prefilter> {
        let mut patterns: Vec<Box<[u8]>> = Vec::new();
        let mut pattern_rules: Vec<Vec<RuleIndex>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (rule, keywords) in rules.into_iter().enumerate() {
            let rule = u32::try_from(rule)
                .map(RuleIndex)
                .map_err(|_| Error::Rule {
                    rule: "(rule set)".into(),
                    message: "too many rules".into(),
                })?;
            for kw in keywords {
                if kw.is_empty() {
                    return Err(Error::Rule {
                        rule: "(keywords)".into(),
                        message: "empty keyword".into(),
                    });
                }
                let lower: Box<[u8]> = kw.to_ascii_lowercase().into_bytes().into();
                let id = *index.entry(lower.clone()).or_insert_with(|| {
                    patterns.push(lower);
                    pattern_rules.push(Vec::new());
                    patterns.len() - 1
                });
                if !pattern_rules[id].contains(&rule) {
                    pattern_rules[id].push(rule);
                }
            }
        }
        let max_keyword_len = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        let search = if patterns.is_empty() {
            Search::Nothing
        } else if patterns.iter().any(|p| p.len() < 2) {
            Search::Automaton(automaton(&patterns)?)
        } else {
            Search::Grams(Box::new(Grams::new(&patterns)?))
        };
        Ok(Prefilter {
            patterns,
            pattern_rules,
            max_keyword_len,
            search,
        })
    }

    /// Keyword `pattern`, ASCII-lowercased.
    pub fn pattern(&self, pattern: u32) -> &[u8] {
        &self.patterns[pattern as usize]
    }

    /// The rules that listed keyword `pattern`.
    pub fn rules_of(&self, pattern: u32) -> &[RuleIndex] {
        &self.pattern_rules[pattern as usize]
    }

    /// Calls `f` for every keyword occurrence that *starts* inside `starts`, in order of end
    /// offset. Occurrences may run past `starts.end` (up to the end of `hay`), so that a keyword
    /// cut by a chunk boundary is found by the chunk in which it starts, and only by that one.
    pub fn for_each_hit(&self, hay: &[u8], starts: std::ops::Range<usize>, mut f: impl FnMut(Hit)) {
        let starts = starts.start..starts.end.min(hay.len());
        if starts.start >= starts.end {
            return;
        }
        match &self.search {
            Search::Nothing => {}
            Search::Grams(g) => g.for_each_hit(&self.patterns, hay, starts, f),
            Search::Automaton(ac) => {
                let end = (starts.end + self.max_keyword_len.saturating_sub(1)).min(hay.len());
                let input = aho_corasick::Input::new(hay).range(starts.start..end);
                for m in ac.find_overlapping_iter(input) {
                    if m.start() < starts.end {
                        f(Hit {
                            pattern: m.pattern().as_u32(),
                            start: m.start(),
                            end: m.end(),
                        });
                    }
                }
            }
        }
    }
}

/// An overlapping, ASCII-case-insensitive Aho-Corasick automaton over `patterns`.
fn automaton(patterns: &[Box<[u8]>]) -> Result<AhoCorasick> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(patterns)
        .map_err(|e| Error::Rule {
            rule: "(keywords)".into(),
            message: e.to_string(),
        })
}

impl Grams {
    fn new(patterns: &[Box<[u8]>]) -> Result<Grams> {
        let mut table = Box::new([0u64; 1 << BITS]);
        let mut filed: Vec<(u32, Entry)> = Vec::new();
        let mut pairs = Vec::new();
        for (id, p) in patterns.iter().enumerate() {
            let id = u32::try_from(id).map_err(|_| Error::Rule {
                rule: "(keywords)".into(),
                message: "too many keywords".into(),
            })?;
            let n = p.len().min(4);
            let gram = gram(p, n);
            let entry = Entry {
                gram,
                mask: low_bytes(n),
                id,
            };
            match n {
                4 => {
                    let h = hash(gram);
                    table[h as usize] |= 1 << (gram >> 24 & 63);
                    filed.push((h, entry));
                }
                3 => {
                    let h = hash(gram);
                    table[h as usize] = u64::MAX;
                    filed.push((h, entry));
                }
                _ => pairs.push(id),
            }
        }
        filed.sort_unstable_by_key(|(h, e)| (*h, e.id));
        filed.dedup_by_key(|(h, e)| (*h, e.id));
        let mut starts = vec![0u32; (1 << BITS) + 1];
        for (h, _) in &filed {
            starts[*h as usize + 1] += 1;
        }
        for h in 0..1 << BITS {
            starts[h + 1] += starts[h];
        }
        #[cfg(target_arch = "x86_64")]
        let level = x86::Level::detect();
        Ok(Grams {
            #[cfg(target_arch = "x86_64")]
            buckets: (level >= x86::Level::Vbmi).then(|| {
                let grams: Vec<(u32, usize)> = filed
                    .iter()
                    .map(|(_, e)| (e.gram, e.mask.count_ones() as usize / 8))
                    .collect();
                x86::Buckets::new(&grams)
            }),
            #[cfg(target_arch = "x86_64")]
            level,
            table,
            pairs,
            starts,
            entries: filed.into_iter().map(|(_, e)| e).collect(),
            keys: patterns.iter().map(|p| Key::new(p)).collect(),
        })
    }

    fn for_each_hit(
        &self,
        patterns: &[Box<[u8]>],
        hay: &[u8],
        starts: std::ops::Range<usize>,
        mut f: impl FnMut(Hit),
    ) {
        // Hits found at position `i` end after `i`; they wait here, sorted by end, until the
        // scan passes their end, so that `f` sees them in order of end offset.
        let mut pending: Vec<Hit> = Vec::new();
        let mut add = |hit: Hit| {
            if pending.first().is_some_and(|h| h.end <= hit.start) {
                let flushed = pending.partition_point(|h| h.end <= hit.start);
                for h in pending.drain(..flushed) {
                    f(h);
                }
            }
            if pending.last().is_none_or(|h| h.end <= hit.end) {
                pending.push(hit);
            } else {
                let at = pending.partition_point(|h| h.end <= hit.end);
                pending.insert(at, hit);
            }
        };
        // Two-byte keywords: every occurrence, by start, merged in as the scan passes it.
        let mut pairs: Vec<Hit> = Vec::new();
        for &id in &self.pairs {
            let p = &patterns[id as usize];
            let (Some(&b0), Some(&b1)) = (p.first(), p.get(1)) else {
                continue;
            };
            let region = hay.get(starts.clone()).unwrap_or_default();
            let mut push = |at: usize| {
                let start = starts.start + at;
                if hay
                    .get(start + 1)
                    .is_some_and(|c| c.eq_ignore_ascii_case(&b1))
                {
                    pairs.push(Hit {
                        pattern: id,
                        start,
                        end: start + 2,
                    });
                }
            };
            if b0.is_ascii_alphabetic() {
                memchr::memchr2_iter(b0, b0.to_ascii_uppercase(), region).for_each(&mut push);
            } else {
                memchr::memchr_iter(b0, region).for_each(&mut push);
            }
        }
        if self.pairs.len() > 1 {
            pairs.sort_by_key(|h| h.start);
        }
        let mut pairs = pairs.into_iter().peekable();
        let mut emit = |i: usize, x: u32| {
            while let Some(h) = pairs.next_if(|h| h.start <= i) {
                add(h);
            }
            let h = hash(x) as usize;
            let (Some(&from), Some(&to)) = (self.starts.get(h), self.starts.get(h + 1)) else {
                return;
            };
            for e in self
                .entries
                .get(from as usize..to as usize)
                .unwrap_or_default()
            {
                if x & e.mask != e.gram {
                    continue;
                }
                let Some(key) = self.keys.get(e.id as usize) else {
                    continue;
                };
                if key.at(&patterns[e.id as usize], hay, i) {
                    add(Hit {
                        pattern: e.id,
                        start: i,
                        end: i + key.len,
                    });
                }
            }
        };
        let i = self.run_best(hay, starts.clone(), &mut emit);
        // The last positions, with fewer than twelve bytes from them to the end: padded.
        for i in i..starts.end {
            let x = gram(&hay[i..], 4);
            if bit(&self.table, x) != 0 {
                emit(i, x);
            }
        }
        for h in pairs {
            add(h);
        }
        for h in pending {
            f(h);
        }
    }

    /// Tests the positions of `starts` with the best loop the CPU runs ([`x86`]), each loop
    /// taking the positions the one before it could not (they need more bytes past them);
    /// returns the first position not tested.
    fn run_best(
        &self,
        hay: &[u8],
        mut starts: std::ops::Range<usize>,
        emit: &mut impl FnMut(usize, u32),
    ) -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(b) = &self.buckets
                && self.level >= x86::Level::Vbmi
            {
                // SAFETY: the CPU was found to have what `run_vbmi` needs.
                #[allow(unsafe_code)]
                let next = unsafe { x86::run_vbmi(b, &self.table, hay, starts.clone(), emit) };
                starts.start = next;
            }
            if self.level >= x86::Level::Avx2 {
                // SAFETY: the CPU was found to have what `run_avx2` needs.
                #[allow(unsafe_code)]
                let next = unsafe { x86::run_avx2(&self.table, hay, starts.clone(), emit) };
                starts.start = next;
            }
            if self.level >= x86::Level::Bmi2 {
                // SAFETY: the CPU was found to have BMI2.
                #[allow(unsafe_code)]
                return unsafe { self.run_bmi2(hay, starts, emit) };
            }
        }
        self.run(hay, starts, emit)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "bmi1,bmi2")]
    fn run_bmi2(
        &self,
        hay: &[u8],
        starts: std::ops::Range<usize>,
        emit: &mut impl FnMut(usize, u32),
    ) -> usize {
        self.run(hay, starts, emit)
    }

    /// Tests the positions of `starts` eight at a time while twelve bytes can be loaded from
    /// them, calling `emit` for each candidate; returns the first position not tested.
    #[inline(always)]
    fn run(
        &self,
        hay: &[u8],
        starts: std::ops::Range<usize>,
        emit: &mut impl FnMut(usize, u32),
    ) -> usize {
        const FOLD8: u64 = 0x2020_2020_2020_2020;
        let table = &*self.table;
        let mut i = starts.start;
        while i + 8 <= starts.end {
            let Some(block) = hay.get(i..i + 12) else {
                break;
            };
            let (Some(a), Some(b)) = (block.first_chunk::<8>(), block.last_chunk::<8>()) else {
                break;
            };
            let a = u64::from_le_bytes(*a) | FOLD8;
            let b = u64::from_le_bytes(*b) | FOLD8;
            let mut mask = 0u64;
            for k in 0..4 {
                mask |= bit(table, (a >> (8 * k)) as u32) << k;
                mask |= bit(table, (b >> (8 * k)) as u32) << (k + 4);
            }
            while mask != 0 {
                let k = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                let w = if k < 4 {
                    a >> (8 * k)
                } else {
                    b >> (8 * (k - 4))
                };
                emit(i + k, w as u32);
            }
            i += 8;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_letters_in_any_case_and_other_bytes_exactly() {
        let hay =
            b"x Api-KEY: 1 api_key API-kez Api-Key\0: https:// HTTPS:\x2f/ 0123456789abcdefghIJ";
        for keyword in [
            &b"api-key"[..],
            b"https://",
            b"0123456789abcdefghij",
            b"https:/",
        ] {
            let key = Key::new(keyword);
            for i in 0..hay.len() {
                let want = hay
                    .get(i..i + keyword.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(keyword));
                assert_eq!(key.at(keyword, hay, i), want, "{:?} at {i}", keyword);
            }
        }
        // `-` and `\r` differ only in bit 5 (0x2d, 0x0d): not a letter, so not folded.
        let key = Key::new(b"a-b");
        assert!(!key.at(b"a-b", b"a\rbxxxxxxxxxxxxxxxxxxx", 0));
        assert!(key.at(b"a-b", b"A-Bxxxxxxxxxxxxxxxxxxx", 0));
    }
    use proptest::prelude::*;

    fn keywords() -> Vec<Vec<String>> {
        let rules = crate::RuleSet::builtin().unwrap();
        rules
            .iter()
            .map(|r| r.spec.keywords.clone())
            .chain(
                crate::matcher::triggers::trigger_rules()
                    .into_iter()
                    .map(|(r, _, _)| r.spec.keywords.clone()),
            )
            .collect()
    }

    fn hits(p: &Prefilter, hay: &[u8], starts: std::ops::Range<usize>) -> Vec<Hit> {
        let mut v = Vec::new();
        p.for_each_hit(hay, starts, |h| v.push(h));
        v
    }

    /// The automaton's answer, for comparison.
    fn reference(p: &Prefilter, hay: &[u8], starts: std::ops::Range<usize>) -> Vec<Hit> {
        let ac = automaton(&p.patterns).unwrap();
        let reference = Prefilter {
            search: Search::Automaton(ac),
            ..p.clone()
        };
        hits(&reference, hay, starts)
    }

    fn sorted(mut v: Vec<Hit>) -> Vec<(usize, usize, u32)> {
        let mut out: Vec<_> = v.drain(..).map(|h| (h.start, h.end, h.pattern)).collect();
        out.sort_unstable();
        out
    }

    /// `p` once for each loop this CPU can run (just `p` where there is no choice).
    fn every_loop(p: &Prefilter) -> Vec<Prefilter> {
        #[cfg(target_arch = "x86_64")]
        if let Search::Grams(g) = &p.search {
            use x86::Level::*;
            return [Scalar, Bmi2, Avx2, Vbmi]
                .into_iter()
                .filter(|&l| l <= g.level)
                .map(|level| Prefilter {
                    search: Search::Grams(Box::new(Grams {
                        level,
                        ..(**g).clone()
                    })),
                    ..p.clone()
                })
                .collect();
        }
        vec![p.clone()]
    }

    fn check(p: &Prefilter, hay: &[u8], starts: std::ops::Range<usize>) {
        let want = sorted(reference(p, hay, starts.clone()));
        for p in every_loop(p) {
            let got = hits(&p, hay, starts.clone());
            assert!(
                got.windows(2).all(|w| w[0].end <= w[1].end),
                "hits out of end order: {got:?}"
            );
            assert_eq!(
                sorted(got),
                want,
                "input {:?} starts {starts:?} search {:?}",
                String::from_utf8_lossy(hay),
                p.search
            );
        }
    }

    /// Every keyword at every offset of a 64-byte block (and so across the edges of every
    /// vector loop's step), in both cases, among bytes that are not ASCII or fold onto
    /// keyword bytes (`@` onto a backquote, `[` onto `{`).
    #[test]
    fn every_loop_finds_every_keyword_at_every_offset() {
        let kw = keywords();
        let p = Prefilter::new(kw.iter().map(Vec::as_slice)).unwrap();
        let mut hay = Vec::new();
        for (n, w) in p.patterns.iter().enumerate() {
            let filler: &[u8] = [
                b"@[\xc3\xa9 ".as_slice(),
                b"\xe1\xe4\xf3".as_slice(),
                b"_-:".as_slice(),
            ][n % 3];
            for pad in 0..(n % 67) {
                hay.push(filler[pad % filler.len()]);
            }
            if n % 2 == 0 {
                hay.extend(w.to_ascii_uppercase());
            } else {
                hay.extend_from_slice(w);
            }
        }
        let found = hits(&p, &hay, 0..hay.len());
        for (id, w) in p.patterns.iter().enumerate() {
            assert!(
                found.iter().any(|h| h.pattern == id as u32),
                "{} not found",
                String::from_utf8_lossy(w)
            );
        }
        check(&p, &hay, 0..hay.len());
        for cut in [1, 63, 64, 65, 67, 1000, hay.len() - 70, hay.len() - 3] {
            check(&p, &hay, cut..hay.len());
            check(&p, &hay, 0..cut);
        }
    }

    #[test]
    fn finds_every_occurrence_in_any_case_overlapping_and_at_the_edges() {
        let kw = keywords();
        let p = Prefilter::new(kw.iter().map(Vec::as_slice)).unwrap();
        assert!(matches!(p.search, Search::Grams(_)));
        let hay = b"sk-ant-api03 SK-PROJ ghp_x AKIA HF_OAUTH_ \\/ x://y pwd token=Bearer basic fw_";
        let got = hits(&p, hay, 0..hay.len());
        let words: Vec<&str> = got
            .iter()
            .map(|h| std::str::from_utf8(&p.patterns[h.pattern as usize]).unwrap())
            .collect();
        for w in [
            "sk-ant-api",
            "ghp_",
            "akia",
            "hf_",
            "hf_oauth_",
            "fw_",
            "\\/",
            "://",
            "pwd",
            "basic",
        ] {
            assert!(words.contains(&w), "{w} not among {words:?}");
        }
        // The last `fw_` ends the input: found by the padded tail.
        assert_eq!(got.last().map(|h| h.end), Some(hay.len()));
        for cut in 0..hay.len() {
            check(&p, hay, 0..cut);
            check(&p, hay, cut..hay.len());
            check(&p, &hay[..cut], 0..cut);
        }
    }

    #[test]
    fn short_and_missing_keywords() {
        let none: Vec<Vec<String>> = vec![vec![]];
        let p = Prefilter::new(none.iter().map(Vec::as_slice)).unwrap();
        assert!(hits(&p, b"anything", 0..8).is_empty());
        let one = [vec!["x".to_string(), "ab".to_string()]];
        let p = Prefilter::new(one.iter().map(Vec::as_slice)).unwrap();
        assert!(matches!(p.search, Search::Automaton(_)));
        assert_eq!(hits(&p, b"xAbx", 0..4).len(), 3);
        let two = [vec!["ab".to_string(), "abc".to_string(), "b@".to_string()]];
        let p = Prefilter::new(two.iter().map(Vec::as_slice)).unwrap();
        assert!(matches!(p.search, Search::Grams(_)));
        // `@` folds to a backquote: a candidate, refused by the exact comparison.
        check(&p, b"b`b@ABCab", 0..9);
        assert_eq!(hits(&p, b"b`b@ABCab", 0..9).len(), 4);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn equals_the_automaton(
            parts in prop::collection::vec((0usize..400, any::<bool>(), "[ -~]{0,6}"), 0..40),
            cut in 0usize..1000,
        ) {
            let kw = keywords();
            let p = Prefilter::new(kw.iter().map(Vec::as_slice)).unwrap();
            let mut hay = Vec::new();
            for (k, upper, filler) in parts {
                let w = &p.patterns[k % p.patterns.len()];
                let cut_kw = if k % 7 == 0 { w.len() / 2 } else { w.len() };
                if upper {
                    hay.extend(w[..cut_kw].to_ascii_uppercase());
                } else {
                    hay.extend_from_slice(&w[..cut_kw]);
                }
                hay.extend_from_slice(filler.as_bytes());
            }
            let cut = cut.min(hay.len());
            check(&p, &hay, 0..hay.len());
            check(&p, &hay, cut..hay.len());
            check(&p, &hay, 0..cut);
        }
    }
}

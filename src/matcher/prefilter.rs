//! One Aho-Corasick automaton over every rule's keywords.
//!
//! This is the only stage that touches every byte of the input, so it is the one that sets
//! throughput. Keywords are matched ASCII-case-insensitively (as gitleaks does) and with
//! overlapping semantics, so that both `sk-` and `sk-ant-` are seen at the same place. Each
//! automaton pattern maps to the rules that listed it; a keyword shared by several rules is
//! searched once.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::error::{Error, Result};

/// The keyword automaton and the map from its patterns to rules.
#[derive(Debug, Clone)]
pub struct Prefilter {
    ac: AhoCorasick,
    /// For each automaton pattern, the indexes of the rules that use it.
    pattern_rules: Vec<Vec<u32>>,
    /// The longest keyword in bytes.
    pub max_keyword_len: usize,
}

/// A keyword occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The automaton pattern that matched.
    pub pattern: u32,
    /// Start offset in the haystack.
    pub start: usize,
    /// End offset in the haystack.
    pub end: usize,
}

impl Prefilter {
    /// Builds the automaton from each rule's keyword list (indexed like the rules).
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a [String]>) -> Result<Prefilter> {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (rule, keywords) in rules.into_iter().enumerate() {
            let rule = u32::try_from(rule).map_err(|_| Error::Rule {
                rule: "(rule set)".into(),
                message: "too many rules".into(),
            })?;
            for kw in keywords {
                let lower = kw.to_ascii_lowercase().into_bytes();
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
        let max_keyword_len = patterns.iter().map(Vec::len).max().unwrap_or(0);
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|e| Error::Rule {
                rule: "(keywords)".into(),
                message: e.to_string(),
            })?;
        Ok(Prefilter {
            ac,
            pattern_rules,
            max_keyword_len,
        })
    }

    /// The rules that listed automaton pattern `pattern`.
    pub fn rules_of(&self, pattern: u32) -> &[u32] {
        &self.pattern_rules[pattern as usize]
    }

    /// Calls `f` for every keyword occurrence that *starts* inside `starts`, in order of end
    /// offset. Occurrences may run past `starts.end` (the automaton reads up to the longest
    /// keyword beyond it), so that a keyword cut by a chunk boundary is found by the chunk in
    /// which it starts, and only by that one.
    pub fn for_each_hit(&self, hay: &[u8], starts: std::ops::Range<usize>, mut f: impl FnMut(Hit)) {
        if starts.start >= starts.end {
            return;
        }
        let end = (starts.end + self.max_keyword_len.saturating_sub(1)).min(hay.len());
        let input = aho_corasick::Input::new(hay).range(starts.start..end);
        for m in self.ac.find_overlapping_iter(input) {
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

//! Each rule's regex, compiled on first use.
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
//! The window around a keyword hit is as wide as the longest match the regex can produce
//! (its maximum length, from `regex-syntax`); rules must have a bounded maximum length for the
//! prefiltered search to equal a search of the whole input. Unbounded user rules get
//! [`UNBOUNDED_RADIUS`] and a warning from `ferret rules check`.

use std::sync::OnceLock;

use regex_automata::meta::{self, Cache, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;

/// The window radius used for a regex whose matches have no maximum length.
pub const UNBOUNDED_RADIUS: usize = 4096;

/// The largest maximum match length a rule may declare before it counts as unbounded.
pub const MAX_BOUNDED_LEN: usize = 64 * 1024;

/// A compiled rule regex.
#[derive(Debug)]
pub struct RuleRegex {
    re: Regex,
    secret_group: usize,
    /// The longest match in bytes, or `None` when unbounded (or above [`MAX_BOUNDED_LEN`]).
    pub max_len: Option<usize>,
}

impl RuleRegex {
    /// Compiles `pattern`, which must have a capture group named `secret`.
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
        let secret_group = re
            .group_info()
            .to_index(regex_automata::PatternID::ZERO, "secret")
            .ok_or_else(|| "regex has no capture group named `secret`".to_string())?;
        Ok(RuleRegex {
            re,
            secret_group,
            max_len,
        })
    }

    /// The radius of the search window around a keyword hit.
    pub fn radius(&self) -> usize {
        self.max_len.unwrap_or(UNBOUNDED_RADIUS)
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
            let secret = caps
                .get_group(self.secret_group)
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

/// The maximum length in bytes of any match of `pattern`, `None` when unbounded.
pub fn max_len(pattern: &str) -> Result<Option<usize>, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    Ok(hir
        .properties()
        .maximum_len()
        .filter(|&n| n <= MAX_BOUNDED_LEN))
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

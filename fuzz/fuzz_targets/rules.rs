//! Rule-file loading: ferret's TOML format and gitleaks' (translated, Go regex syntax
//! rewritten). Loading either fails with an error or gives rules that compile into a matcher
//! and scan text without panicking.
#![no_main]

use ferret::rules::gitleaks;
use ferret::{Matcher, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = gitleaks::go_to_rust(text);
    let mut set = RuleSet::new();
    if set.add_toml(text, "fuzz.toml").is_err() || set.is_empty() {
        return;
    }
    // A rule the fuzzer wrote compiles or is rejected with an error, never a panic; the
    // matcher is given the rule file itself to scan (its examples are in it).
    if let Ok(m) = Matcher::new(&set) {
        let mut scratch = m.scratch();
        let mut out = Vec::new();
        m.scan(data, &mut scratch, &mut out);
    }
});

//! The matcher on arbitrary bytes: the prefiltered search equals the brute-force search, and
//! a chunked scan equals a whole scan.
#![no_main]

use std::sync::OnceLock;

use ferret::blob::{Data, Origin};
use ferret::{Matcher, RuleSet, engine};
use libfuzzer_sys::fuzz_target;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(&RuleSet::builtin().expect("rules")).expect("matcher"))
}

fuzz_target!(|data: &[u8]| {
    let m = matcher();
    let mut scratch = m.scratch();
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    m.scan(data, &mut scratch, &mut fast);
    m.scan_unfiltered(data, &mut scratch, &mut slow);
    assert_eq!(fast, slow);
    if data.len() > 64 {
        let d = Data::Owned(data.to_vec());
        let origin = Origin::file("fuzz");
        let mut buf = Vec::new();
        let whole = engine::scan_data(m, &d, &origin, u64::MAX, &mut scratch, &mut buf);
        let chunked = engine::scan_data(m, &d, &origin, 61, &mut scratch, &mut buf);
        let key = |f: &ferret::Finding| (f.rule.id().to_string(), f.offset, f.end_offset, f.start.line, f.start.column);
        let a: Vec<_> = whole.findings.iter().map(key).collect();
        let b: Vec<_> = chunked.findings.iter().map(key).collect();
        assert_eq!(a, b);
    }
});

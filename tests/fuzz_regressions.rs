//! Every input that ever crashed, hung or slowed a fuzz target is kept in
//! `tests/data/fuzz/TARGET/` and replayed here through the same code the fuzzer ran
//! (`fuzz/fuzz_targets/harness.rs`, with its checks on findings and warnings), so a fixed bug
//! stays fixed. `fuzz/run.sh` finds them; copy new ones from `fuzz/artifacts/TARGET/`.

#[path = "../fuzz/fuzz_targets/harness.rs"]
mod harness;

use std::path::Path;

#[test]
fn fuzz_regressions_replay_without_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut replayed = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            harness::TARGETS.contains(&target.as_str()),
            "tests/data/fuzz/{target}: no such fuzz target"
        );
        for input in std::fs::read_dir(&dir).unwrap() {
            let input = input.unwrap().path();
            let bytes = std::fs::read(&input).unwrap();
            assert!(harness::run(&target, &bytes));
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression inputs in {}", root.display());
}

#[test]
fn the_harness_checks_what_it_is_given() {
    // The harness is not vacuous: a notebook with a secret goes through the expander, and a
    // finding's checks run (a bad finding would panic in them).
    let token = format!("ghp_{}", "R7tK2mQ9vX4bN8cL1pZ6wY3sD5fH0jA8eG2u");
    let nb =
        format!(r#"{{"cells":[{{"cell_type":"code","source":"t = '{token}'"}}],"nbformat":4}}"#);
    let sink = harness::CheckingSink::default();
    let ex = ferret::expand::Expander::new(harness::builtin(), &sink);
    ex.input(
        std::sync::Arc::new(ferret::Data::Owned(nb.into_bytes())),
        ferret::Origin::file("x.ipynb"),
    );
    assert_eq!(sink.findings.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert!(!harness::run("no-such-target", b""));
}

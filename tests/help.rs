//! Snapshots of every verb's `--help`: a change to the command line shows up in review as a
//! change to these files. `FERRET_UPDATE_SNAPSHOTS=1 cargo test --test integration help`
//! rewrites them.

use crate::common::{ferret, run};

/// Every verb, as the words that name it.
const VERBS: &[&[&str]] = &[
    &[],
    &["scan"],
    &["git"],
    &["redact"],
    &["baseline"],
    &["baseline", "create"],
    &["report"],
    &["rules"],
    &["rules", "list"],
    &["rules", "show"],
    &["rules", "check"],
    &["init"],
    &["completions"],
    &["man"],
    &["verify"],
];

#[test]
fn help_of_every_verb_matches_its_snapshot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help");
    let update = std::env::var_os("FERRET_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for verb in VERBS {
        let name = if verb.is_empty() {
            "ferret".to_string()
        } else {
            format!("ferret-{}", verb.join("-"))
        };
        let r = run(ferret().args(*verb).arg("--help"));
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let path = dir.join(format!("{name}.txt"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &r.stdout).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != r.stdout {
            stale.push(format!("{name}:\n{}", r.stdout));
        }
        // Every verb teaches with examples.
        assert!(r.stdout.contains("Examples:"), "{name} has no examples");
    }
    // Every top-level verb of `ferret --help` has its snapshot here.
    let top = run(ferret().arg("--help")).stdout;
    let commands = top
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_default();
    for line in commands.lines() {
        let Some(verb) = line.split_whitespace().next() else {
            continue;
        };
        if verb != "help" {
            assert!(
                VERBS.iter().any(|v| v.first() == Some(&verb)),
                "`ferret {verb}` has no --help snapshot in VERBS"
            );
        }
    }
    assert!(
        stale.is_empty(),
        "--help changed (review, then FERRET_UPDATE_SNAPSHOTS=1 to accept):\n{}",
        stale.join("\n")
    );
}

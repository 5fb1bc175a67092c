//! The noise benchmark (bench/noise): ferret on real code nobody on this project wrote, the
//! registry sources of this project's dependencies (pinned by Cargo.lock) and the Python
//! standard library. Every finding there is triaged in bench/noise/triaged.tsv (a real-format
//! test key, or why it is reported); the test fails when a place holds more findings than the
//! list explains, and when fewer than 90% of the findings are real-format credentials.
//! Where a corpus is absent (no registry sources, another Python), that part is skipped with a
//! message.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A place: corpus, path in it, rule.
type Place = (String, String, String);

/// `(corpus, path, rule)` → `(count, verdict)` from the triaged list, and the Python version
/// it was made for.
fn triaged() -> (BTreeMap<Place, (u64, String)>, Option<String>) {
    let text = std::fs::read_to_string(format!("{ROOT}/bench/noise/triaged.tsv"))
        .expect("bench/noise/triaged.tsv");
    let mut rows = BTreeMap::new();
    let mut python = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("# python ") {
            python = Some(v.trim().to_string());
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 5, "bad row in triaged.tsv: {line:?}");
        let count: u64 = cols[3].parse().expect("a count");
        rows.insert(
            (cols[0].into(), cols[1].into(), cols[2].into()),
            (count, cols[4].to_string()),
        );
    }
    (rows, python)
}

fn corpus(which: &str) -> Vec<String> {
    let out = Command::new("bash")
        .arg(format!("{ROOT}/bench/noise/corpus.sh"))
        .arg(which)
        .output()
        .expect("bash runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| Path::new(l).is_dir())
        .map(String::from)
        .collect()
}

/// Runs ferret on `dirs` and returns each finding's (path, rule).
fn scan(dirs: &[String], extra: &[&str]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("out.json");
    let out = Command::new(env!("CARGO_BIN_EXE_ferret"))
        .args([
            "scan",
            "-q",
            "--no-config",
            "--no-progress",
            "-f",
            "json",
            "-o",
        ])
        .arg(&report)
        .args(extra)
        .args(dirs)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn real_code_is_quiet_and_every_finding_is_triaged() {
    let (rows, python) = triaged();
    let mut found: BTreeMap<Place, u64> = BTreeMap::new();
    let cargo = corpus("cargo");
    if cargo.is_empty() {
        eprintln!(
            "noise: no registry sources of the dependencies ($CARGO_HOME/registry/src): cargo corpus skipped"
        );
    } else {
        for (path, rule) in scan(&cargo, &[]) {
            let rel = path
                .split("/registry/src/")
                .nth(1)
                .and_then(|p| p.split_once('/'));
            let rel = rel.map_or(path.clone(), |(_, r)| r.to_string());
            *found.entry(("cargo".into(), rel, rule)).or_default() += 1;
        }
    }
    let stdlib = corpus("stdlib");
    let version = Command::new("python3")
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if stdlib.is_empty() || version.is_none() || version != python {
        eprintln!(
            "noise: the triaged list is for the Python {} standard library, this machine has {:?}: stdlib corpus skipped",
            python.as_deref().unwrap_or("?"),
            version
        );
    } else {
        let base = format!("{}/", stdlib[0].trim_end_matches('/'));
        for (path, rule) in scan(
            &stdlib,
            &["--exclude", "site-packages", "--exclude", "__pycache__"],
        ) {
            let rel = path.strip_prefix(&base).unwrap_or(&path).to_string();
            *found.entry(("stdlib".into(), rel, rule)).or_default() += 1;
        }
    }
    let mut unexplained = Vec::new();
    let (mut total, mut real) = (0, 0);
    let mut by_corpus: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (key, &n) in &found {
        total += n;
        let c = by_corpus.entry(key.0.as_str()).or_default();
        c.0 += n;
        match rows.get(key) {
            Some((listed, verdict)) => {
                if verdict == "test-key" {
                    real += n.min(*listed);
                    c.1 += n.min(*listed);
                }
                if n > *listed {
                    unexplained.push(format!(
                        "{}\t{}\t{}\t{n} (list: {listed})",
                        key.0, key.1, key.2
                    ));
                }
            }
            None => unexplained.push(format!("{}\t{}\t{}\t{n}", key.0, key.1, key.2)),
        }
    }
    for (corpus, (n, r)) in &by_corpus {
        println!("noise: {corpus}: {n} findings, {r} real-format credentials");
    }
    assert!(
        unexplained.is_empty(),
        "findings bench/noise/triaged.tsv does not explain (triage them, or fix the noise):\n{}",
        unexplained.join("\n")
    );
    if total > 0 {
        let precision = real as f64 / total as f64;
        println!("noise: precision {precision:.3} ({real} of {total})");
        assert!(precision >= 0.9, "precision {precision:.3} below 0.90");
    }
}

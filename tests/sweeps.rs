//! Sweeps of local trees: incremental state (unchanged files are not read, a killed run
//! resumes), `--only-new`, and `--shard K/N` (disjoint shards whose merged JSONL equals one
//! whole scan).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::secrets::Gen;
use crate::common::{TestDir, run};

/// `(location, rule, fingerprint)` of every finding of a JSON report.
fn findings(doc: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(key)
        .collect()
}

fn key(f: &serde_json::Value) -> (String, String, String) {
    (
        f["location"].as_str().expect("location").to_string(),
        f["rule_id"].as_str().expect("rule").to_string(),
        f["fingerprint"].as_str().expect("fingerprint").to_string(),
    )
}

fn tree(t: &TestDir, g: &mut Gen, n: usize) {
    for i in 0..n {
        t.write(
            &format!("store/d{}/run-{i}.log", i % 7),
            format!(
                "step {i} loss 0.5\nexport GITHUB_TOKEN={}\nstep {} done\n",
                g.github_pat(),
                i + 1
            ),
        );
    }
}

#[test]
fn a_second_sweep_reads_only_changed_files() {
    let t = TestDir::new();
    let mut g = Gen::new(70);
    tree(&t, &mut g, 30);
    let sweep = |extra: &[&str]| {
        let r = run(t
            .ferret()
            .args(["scan", "-f", "json", "--state", "s.redb", "store"])
            .args(extra));
        let doc = r.json();
        (r, doc)
    };
    let (r1, first) = sweep(&[]);
    assert_eq!(r1.code, 1, "{}", r1.stderr);
    assert_eq!(first["summary"]["files"], 30);
    assert!(r1.stderr.contains("0 unchanged"), "{}", r1.stderr);
    let (r2, second) = sweep(&[]);
    assert_eq!(second["summary"]["files"], 0, "{}", r2.stderr);
    assert_eq!(second["summary"]["unchanged"], 30);
    assert_eq!(second["summary"]["bytes"], 0);
    assert_eq!(findings(&second), findings(&first));
    // Replayed findings are shown like scanned ones, masked.
    let text = run(t
        .ferret()
        .args(["scan", "--color", "never", "--state", "s.redb", "store"]));
    assert!(text.stdout.contains("ghp_****"), "{}", text.stdout);
    assert!(!text.stdout.contains(&Gen::new(70).github_pat()));

    // A rewritten file is rescanned, even with its old size and mtime restored.
    let path = t.path().join("store/d3/run-3.log");
    let meta = std::fs::metadata(&path).unwrap();
    let old = std::fs::read_to_string(&path).unwrap();
    let token = g.github_pat();
    let new = old.replacen(&old[old.find("ghp_").unwrap()..][..40], &token, 1);
    assert_eq!(new.len(), old.len());
    std::fs::write(&path, new).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(meta.modified().unwrap()).unwrap();
    drop(f);
    let (r3, third) = sweep(&["--only-new"]);
    assert_eq!(r3.code, 1, "{}", r3.stderr);
    assert_eq!(third["summary"]["files"], 1);
    assert_eq!(third["summary"]["unchanged"], 29);
    let new: Vec<_> = findings(&third).into_iter().collect();
    assert_eq!(new.len(), 1);
    assert!(new[0].0.starts_with("store/d3/run-3.log:2:"), "{new:?}");

    // A new file is new; a deleted one is simply not reported.
    std::fs::remove_file(t.path().join("store/d0/run-0.log")).unwrap();
    t.write("store/new.env", format!("HF_TOKEN={}\n", g.huggingface()));
    let (_, fourth) = sweep(&[]);
    assert_eq!(fourth["summary"]["files"], 1);
    assert_eq!(fourth["summary"]["unchanged"], 29);
    assert_eq!(fourth["findings"].as_array().unwrap().len(), 30);
}

#[test]
fn other_rules_mean_a_full_rescan() {
    let t = TestDir::new();
    tree(&t, &mut Gen::new(71), 5);
    let rules = t.write(
        "extra.toml",
        r#"
[[rule]]
id = "test.step"
name = "A step marker"
keywords = ["step 3 loss"]
regex = '(?P<secret>step 3 loss [0-9.]+)'
severity = "low"
remediation = "none"
"#,
    );
    let base = ["scan", "-f", "json", "--state", "s.redb", "store"];
    let first = run(t.ferret().args(base)).json();
    assert_eq!(first["summary"]["files"], 5);
    let again = run(t.ferret().args(base).arg("--rules").arg(&rules));
    let again = again.json();
    assert_eq!(
        again["summary"]["unchanged"], 0,
        "new rules: every file rescanned"
    );
    assert_eq!(again["summary"]["files"], 5);
}

/// A sweep killed midway resumes: the next run scans only what the first did not record.
#[test]
fn a_killed_sweep_resumes_without_rescanning_finished_files() {
    let t = TestDir::new();
    let n = 400;
    tree(&t, &mut Gen::new(72), n);
    // One thread, a commit after every file, and a report to a pipe that is not read: the
    // scan blocks once the pipe is full, with part of the tree recorded. Then it is killed.
    let mut child = t
        .ferret()
        .args([
            "scan",
            "-f",
            "jsonl",
            "-j",
            "1",
            "--state",
            "s.redb",
            "--state-commit-every",
            "1",
            "store",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..20 {
        line.clear();
        out.read_line(&mut line).unwrap();
        assert!(line.contains("\"finding\""), "{line}");
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before it finished");
    drop(out);

    let r = run(t
        .ferret()
        .args(["scan", "-f", "json", "--state", "s.redb", "store"]));
    let doc = r.json();
    let unchanged = doc["summary"]["unchanged"].as_u64().unwrap();
    let scanned = doc["summary"]["files"].as_u64().unwrap();
    assert!(
        unchanged >= 19 && unchanged < n as u64,
        "{unchanged} recorded before the kill"
    );
    assert_eq!(unchanged + scanned, n as u64, "{}", r.stderr);
    assert_eq!(doc["findings"].as_array().unwrap().len(), n);
    assert_eq!(doc["summary"]["errors"], 0);
}

/// Merges JSONL reports the way `ferret report` and `ferret_ray` do: one finding per
/// (fingerprint, location); summaries added up.
fn merge_jsonl(outputs: &[String]) -> (BTreeMap<(String, String), serde_json::Value>, u64) {
    let mut merged = BTreeMap::new();
    let mut files = 0;
    for out in outputs {
        for l in out.lines() {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            match v["type"].as_str() {
                Some("finding") => {
                    let f = &v["data"];
                    let k = (
                        f["fingerprint"].as_str().unwrap().to_string(),
                        f["location"].as_str().unwrap().to_string(),
                    );
                    merged.insert(k, f.clone());
                }
                Some("summary") => files += v["data"]["files"].as_u64().unwrap(),
                _ => {}
            }
        }
    }
    (merged, files)
}

#[test]
fn shards_are_disjoint_and_their_merged_reports_equal_one_scan() {
    let t = TestDir::new();
    tree(&t, &mut Gen::new(73), 60);
    t.write("store/no-secret.log", "x");
    let whole = run(t.ferret().args(["scan", "-f", "jsonl", "store"]));
    let (whole_findings, whole_files) = merge_jsonl(std::slice::from_ref(&whole.stdout));
    assert_eq!(whole_findings.len(), 60);

    let n = 4;
    let mut outputs = Vec::new();
    let mut seen = BTreeSet::new();
    for k in 0..n {
        let r = run(t.ferret().args([
            "scan",
            "-f",
            "jsonl",
            "--shard",
            &format!("{k}/{n}"),
            "store",
        ]));
        assert!(r.code <= 1, "{}", r.stderr);
        let (part, _) = merge_jsonl(std::slice::from_ref(&r.stdout));
        assert!(
            !part.is_empty() && part.len() < 60,
            "shard {k}: {}",
            part.len()
        );
        for key in part.keys() {
            assert!(seen.insert(key.clone()), "{key:?} in two shards");
        }
        outputs.push(r.stdout);
    }
    let (merged, files) = merge_jsonl(&outputs);
    assert_eq!(merged, whole_findings);
    assert_eq!(
        files, whole_files,
        "every file scanned by exactly one shard"
    );
    // Shard keys are relative to the named folder: the same shard from another working
    // directory (another mount point) takes the same files.
    let here = run(t
        .ferret()
        .args(["scan", "-f", "json", "--shard", "1/4", "store"]))
    .json();
    let there = run(crate::common::ferret()
        .current_dir(t.path().join("store"))
        .args(["scan", "-f", "json", "--shard", "1/4", "."]))
    .json();
    let names = |d: &serde_json::Value| -> BTreeSet<String> {
        findings(d)
            .into_iter()
            .map(|(loc, _, _)| loc.trim_start_matches("store/").to_string())
            .collect()
    };
    assert_eq!(names(&here), names(&there));
}

#[test]
fn bad_shards_are_usage_errors() {
    let t = TestDir::new();
    for bad in ["4/4", "x/2", "1", "0/0"] {
        let r = run(t.ferret().args(["scan", "--shard", bad, "."]));
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
    }
    let r = crate::common::run_stdin(t.ferret().args(["scan", "--shard", "0/2", "-"]), b"x");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("standard input"), "{}", r.stderr);
    let r = run(t.ferret().args(["scan", "--only-new", "."]));
    assert_eq!(r.code, 2, "--only-new needs --state");
}

/// The Kubernetes Indexed Job keeps its shard count, completions and parallelism equal, and
/// takes no credentials from its command line.
#[test]
fn the_indexed_job_manifest_is_consistent() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/ferret-sweep-job.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{name}"))
            .parse()
            .unwrap()
    };
    assert!(text.contains("completionMode: Indexed"));
    let n = field("completions");
    assert_eq!(field("parallelism"), n);
    assert!(
        text.contains(&format!("--shard \"${{JOB_COMPLETION_INDEX}}/{n}\"")),
        "the shard count matches completions"
    );
    assert!(!text.contains("--s3-secret") && !text.contains("aws_secret_access_key"));
}

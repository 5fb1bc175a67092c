//! `ferret git`: staged changes, commit ranges and all history, in throw-away repositories.

use crate::common::git::GitRepo;
use crate::common::secrets::Gen;
use crate::common::{Run, run};

fn git_json(repo: &GitRepo, args: &[&str]) -> (Run, serde_json::Value) {
    let r = run(repo.ferret().args(["git", "-f", "json"]).args(args));
    let doc = r.json();
    (r, doc)
}

fn findings(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["findings"].as_array().unwrap().clone()
}

/// `(path, line, commit id or "staged")` of each finding.
fn places(doc: &serde_json::Value) -> Vec<(String, u64, String)> {
    findings(doc)
        .iter()
        .map(|f| {
            let root = &f["origin"][0];
            let commit = match root["kind"].as_str().unwrap() {
                "commit" => root["id"].as_str().unwrap().to_string(),
                other => other.to_string(),
            };
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                commit,
            )
        })
        .collect()
}

#[test]
fn a_secret_added_then_deleted_is_found_by_all_but_not_by_staged() {
    let repo = GitRepo::new();
    let token = Gen::new(100).github_pat();
    repo.write("README.md", "# demo\n");
    repo.commit_all("init");
    repo.write("config/app.env", format!("DEBUG=1\nGITHUB_TOKEN={token}\n"));
    let leak = repo.commit_all("add config");
    repo.write("config/app.env", "DEBUG=1\n");
    repo.commit_all("remove the token");

    let (r, doc) = git_json(&repo, &["--all"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(places(&doc), [("config/app.env".into(), 2, leak.clone())]);
    let origin = &findings(&doc)[0]["origin"];
    assert_eq!(origin[0]["author"], "Jane Doe");
    assert_eq!(origin[0]["email"], "jane@example.com");
    assert_eq!(origin[0]["date"], "2024-05-02T10:00:00+02:00");
    assert_eq!(origin[1]["path"], "config/app.env");
    // Every blob once: README, the file with the token, the file without it.
    assert_eq!(doc["summary"]["files"], 3);

    // Nothing is staged after the deletion, and the work tree's file is clean.
    let (r, doc) = git_json(&repo, &["--staged"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(findings(&doc).is_empty());
    // The deleting commit adds nothing; the range over both commits finds the leak.
    let (r, _) = git_json(&repo, &["--since", "HEAD~1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, doc) = git_json(&repo, &["HEAD~2..HEAD"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(places(&doc), [("config/app.env".into(), 2, leak)]);

    // The text report names the commit, author and date.
    let r = run(repo.ferret().args(["git", "--all"]));
    assert!(
        r.stdout
            .contains("(Jane Doe, 2024-05-02) \u{203a} config/app.env:2:14"),
        "{}",
        r.stdout
    );
}

#[test]
fn staged_scans_only_the_lines_the_index_adds() {
    let repo = GitRepo::new();
    let mut g = Gen::new(101);
    let (old, staged, unstaged) = (g.github_pat(), g.github_pat(), g.github_pat());
    let mut lines: Vec<String> = (1..=20).map(|i| format!("setting_{i} = {i}")).collect();
    lines[2] = format!("old_token = {old}");
    repo.write("app.cfg", lines.join("\n") + "\n");
    repo.commit_all("init");

    // A hunk that adds the new secret at line 15; the committed one at line 3 is untouched.
    lines[14] = format!("new_token = \"{staged}\"");
    repo.write("app.cfg", lines.join("\n") + "\n");
    repo.write("notes/new.txt", "nothing secret\n");
    repo.git(&["add", "app.cfg", "notes/new.txt"]);
    // Only in the work tree, not staged: not part of the commit being made.
    repo.write(
        "app.cfg",
        lines.join("\n") + &format!("\nlater = {unstaged}\n"),
    );

    let (r, doc) = git_json(&repo, &["--staged", "--show-secrets"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(places(&doc), [("app.cfg".into(), 15, "staged".into())]);
    let f = &findings(&doc)[0];
    assert_eq!(f["secret"], staged.as_str());
    assert_eq!(f["column"], 14);
    assert_eq!(f["context"], format!("new_token = \"{staged}\""));
    assert_eq!(doc["summary"]["files"], 2);
}

#[test]
fn staged_works_before_the_first_commit_and_from_a_subfolder() {
    let repo = GitRepo::new();
    let token = Gen::new(102).github_pat();
    repo.write("src/deep/key.py", format!("TOKEN = '{token}'\n"));
    repo.git(&["add", "."]);
    let r = run(repo
        .ferret()
        .current_dir(repo.path().join("src"))
        .args(["git", "--staged"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("staged \u{203a} src/deep/key.py:1:10"),
        "{}",
        r.stdout
    );
}

#[test]
fn ranges_attribute_each_secret_to_the_commit_that_added_it() {
    let repo = GitRepo::new();
    let mut g = Gen::new(103);
    repo.write("a.txt", "start\n");
    let base = repo.commit_all("init");
    repo.write("a.txt", format!("start\nkey={}\n", g.aws_key_id()));
    let first = repo.commit_all("first");
    repo.write("b/c.yaml", format!("token: {}\n", g.github_pat()));
    let second = repo.commit_all("second");

    let (r, doc) = git_json(&repo, &["--since", &base]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got = places(&doc);
    got.sort();
    assert_eq!(
        got,
        [
            ("a.txt".into(), 2, first.clone()),
            ("b/c.yaml".into(), 1, second.clone())
        ]
    );
    let (_, doc) = git_json(&repo, &[&format!("{first}..{second}")]);
    assert_eq!(places(&doc), [("b/c.yaml".into(), 1, second)]);
}

#[test]
fn renamed_files_add_only_their_changed_lines() {
    let repo = GitRepo::new();
    let mut g = Gen::new(104);
    let old = g.github_pat();
    let body: String = (0..30)
        .map(|i| format!("line {i} of a long file\n"))
        .collect();
    repo.write("old/name.env", format!("TOKEN={old}\n{body}"));
    repo.commit_all("init");

    // A pure rename adds no lines.
    std::fs::create_dir(repo.path().join("new")).unwrap();
    repo.git(&["mv", "old/name.env", "new/name.env"]);
    let (r, doc) = git_json(&repo, &["--staged"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(findings(&doc).is_empty());
    repo.commit_all("rename");
    let (r, _) = git_json(&repo, &["--since", "HEAD~1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A rename with an edit reports only the edit, at its line in the new file.
    let new = g.github_pat();
    repo.git(&["mv", "new/name.env", "renamed.env"]);
    repo.write("renamed.env", format!("TOKEN={old}\n{body}NEW={new}\n"));
    let edit = repo.commit_all("rename and edit");
    let (r, doc) = git_json(&repo, &["--since", "HEAD~1", "--show-secrets"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(places(&doc), [("renamed.env".into(), 32, edit)]);
    assert_eq!(findings(&doc)[0]["secret"], new.as_str());

    // History scans each blob once: the renamed copy (same blob) is not scanned again; the
    // edited file is a new blob, with both secrets.
    let (_, doc) = git_json(&repo, &["--all"]);
    let mut paths: Vec<(String, u64)> = places(&doc).into_iter().map(|p| (p.0, p.1)).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            ("old/name.env".into(), 1),
            ("renamed.env".into(), 1),
            ("renamed.env".into(), 32)
        ]
    );
    assert_eq!(doc["summary"]["files"], 2);
}

#[test]
fn excludes_and_size_limits_apply_to_git_paths() {
    let repo = GitRepo::new();
    let mut g = Gen::new(105);
    repo.write("vendor/lib/x.env", format!("T={}\n", g.github_pat()));
    repo.write("app/y.env", format!("T={}\n", g.github_pat()));
    repo.write(
        "big.log",
        format!("{}\nT={}\n", "x".repeat(5000), g.github_pat()),
    );
    repo.commit_all("init");
    let (r, doc) = git_json(
        &repo,
        &["--all", "--exclude", "vendor", "--max-file-size", "1K"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let paths: Vec<String> = places(&doc).into_iter().map(|p| p.0).collect();
    assert_eq!(paths, ["app/y.env"]);
    assert_eq!(doc["summary"]["skipped"], 1);
    assert!(r.stderr.contains("big.log"), "{}", r.stderr);
}

#[test]
fn sarif_from_git_points_into_the_repository() {
    let repo = GitRepo::new();
    repo.write(
        "src/k.py",
        format!("K = '{}'\n", Gen::new(106).github_pat()),
    );
    let id = repo.commit_all("init");
    let r = run(repo.ferret().args(["git", "--all", "-f", "sarif"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    crate::common::assert_valid_sarif(&doc);
    let result = &doc["runs"][0]["results"][0];
    let phys = &result["locations"][0]["physicalLocation"];
    assert_eq!(phys["artifactLocation"]["uri"], "src/k.py");
    assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(phys["region"]["startLine"], 1);
    assert_eq!(phys["region"]["startColumn"], 6);
    assert_eq!(result["properties"]["origin"][0]["id"], id.as_str());
    let root = doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    let top = repo.path().canonicalize().unwrap();
    assert!(
        root.trim_end_matches('/')
            .ends_with(top.to_str().unwrap().trim_end_matches('/')),
        "{root}"
    );
}

#[test]
fn control_characters_from_history_cannot_reach_the_terminal() {
    let repo = GitRepo::new();
    repo.write("a.env", format!("T={}\n", Gen::new(107).github_pat()));
    repo.git(&["add", "-A"]);
    repo.command()
        .args(["commit", "-q", "-m", "x"])
        .env("GIT_AUTHOR_NAME", "Mallory \u{1b}[2J\u{1b}[H")
        .status()
        .unwrap();
    let r = run(repo.ferret().args(["git", "--all"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stdout.contains('\u{1b}'), "{:?}", r.stdout);
    assert!(r.stdout.contains("Mallory"), "{}", r.stdout);
}

#[test]
fn bad_revisions_and_non_repositories_are_errors() {
    let repo = GitRepo::new();
    repo.write("a", "a\n");
    repo.commit_all("init");
    let r = run(repo.ferret().args(["git", "--since", "no-such-branch"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no-such-branch"), "{}", r.stderr);
    let r = run(repo.ferret().args(["git", "HEAD"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a range"), "{}", r.stderr);
    // Exactly one scope.
    assert_eq!(run(repo.ferret().args(["git"])).code, 2);
    assert_eq!(
        run(repo.ferret().args(["git", "--staged", "--all"])).code,
        2
    );
    let outside = crate::common::TestDir::new();
    let r = run(outside.ferret().args(["git", "--staged"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not in a git repository"), "{}", r.stderr);
}

#[test]
fn compressed_files_in_history_are_opened() {
    use std::io::Write;
    let repo = GitRepo::new();
    let token = Gen::new(108).github_pat();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("step 1\nexport GITHUB_TOKEN={token}\n").as_bytes())
        .unwrap();
    repo.write("logs/run.log.gz", gz.finish().unwrap());
    let id = repo.commit_all("logs");
    let (r, doc) = git_json(&repo, &["--all"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = &findings(&doc)[0];
    assert_eq!(f["origin"][0]["id"], id.as_str());
    assert_eq!(f["origin"][1]["path"], "logs/run.log.gz");
    assert_eq!(f["line"], 2, "lines count in the decompressed text");
    // Staged, a binary file is opened and scanned whole (git has no lines to diff in it).
    repo.write(
        "logs/run2.log.gz",
        std::fs::read(repo.path().join("logs/run.log.gz")).unwrap(),
    );
    repo.git(&["add", "-A"]);
    let (r, doc) = git_json(&repo, &["--staged"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        findings(&doc)[0]["location"],
        "staged \u{203a} logs/run2.log.gz \u{203a} (gzip):2:21"
    );
}

#[test]
fn a_secret_left_in_a_file_across_commits_is_one_finding_with_its_history() {
    let repo = GitRepo::new();
    let token = Gen::new(160).github_pat();
    let other = Gen::new(161).github_pat();
    repo.write("README.md", "# demo\n");
    repo.commit_all("init");
    // The token sits on line 2 of settings.py while the lines around it change six times.
    let mut commits = Vec::new();
    for i in 0..6 {
        repo.write(
            "app/settings.py",
            format!(
                "DEBUG = {i}\nGITHUB_TOKEN = \"{token}\"\n{}",
                "# note\n".repeat(i)
            ),
        );
        commits.push(repo.commit_all(&format!("settings {i}")));
    }
    // The same token copied to another path, and another secret: separate findings.
    repo.write("deploy/ci.env", format!("GH={token}\nOTHER={other}\n"));
    let copy = repo.commit_all("ci");

    let (r, doc) = git_json(&repo, &["--all"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got = places(&doc);
    got.sort();
    assert_eq!(
        got,
        [
            ("app/settings.py".to_string(), 2, commits[0].clone()),
            ("deploy/ci.env".to_string(), 1, copy.clone()),
            ("deploy/ci.env".to_string(), 2, copy.clone()),
        ]
    );
    let settings = findings(&doc)
        .into_iter()
        .find(|f| f["path"] == "app/settings.py")
        .unwrap();
    let h = &settings["history"];
    assert_eq!(h["count"], 6, "{h}");
    assert_eq!(h["first"]["id"], commits[0].as_str());
    assert_eq!(h["last"]["id"], commits[5].as_str());
    let listed: Vec<&str> = h["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = commits.iter().map(String::as_str).collect();
    assert_eq!(listed, expected, "every commit, earliest first");
    // A finding in one commit has no history.
    assert!(
        findings(&doc)
            .iter()
            .filter(|f| f["path"] == "deploy/ci.env")
            .all(|f| f.get("history").is_none())
    );
    assert_eq!(doc["summary"]["findings"], 3);
    assert_eq!(doc["summary"]["echoes"], 5);

    // Text says where the echoes are.
    let r = run(repo.ferret().args(["git", "--all", "--color", "never"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let short = &commits[0][..12];
    assert!(
        r.stdout
            .contains(&format!("in 6 commits at this path: first {short}")),
        "{}",
        r.stdout
    );

    // By secret, every commit is a place of the blast radius.
    let (r, doc) = git_json(&repo, &["--all", "--group", "secret"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let group = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["places"].as_array().unwrap().len() > 2)
        .expect("the copied token's group");
    assert_eq!(group["places"].as_array().unwrap().len(), 7, "{group}");
}

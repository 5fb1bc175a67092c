//! What fits ferret into a person's day: shell completions, manual pages, `ferret init`,
//! `ferret rules show`, error messages that say what to do next, and quiet ends when the
//! reader of the output goes away.

use std::process::{Command, Stdio};

use crate::common::secrets::Gen;
use crate::common::{TestDir, ferret, run};

/// Whether `tool` is on PATH; a missing tool skips the test loudly, unless
/// FERRET_REQUIRE_TOOLS=1 (CI), where it fails.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("FERRET_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "{tool} is required (FERRET_REQUIRE_TOOLS=1) but not installed"
        );
        eprintln!("SKIPPED: {tool} is not installed");
    }
    found
}

#[test]
fn bash_loads_the_completions_and_completes_verbs_and_flags() {
    if !have("bash") {
        return;
    }
    let t = TestDir::new();
    let r = run(t.ferret().args(["completions", "bash"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    t.write("ferret.bash", &r.stdout);
    // Load the script in a real bash and ask it what `ferret sc<TAB>` and
    // `ferret scan --max-f<TAB>` complete to.
    let script = r#"
        source ./ferret.bash || exit 3
        complete -p ferret || exit 4
        COMP_WORDS=(ferret sc); COMP_CWORD=1; COMP_LINE="ferret sc"; COMP_POINT=9
        _ferret ferret sc ferret
        echo "verbs: ${COMPREPLY[*]}"
        COMP_WORDS=(ferret scan --max-f); COMP_CWORD=2; COMP_LINE="ferret scan --max-f"; COMP_POINT=19
        _ferret ferret --max-f scan
        echo "flags: ${COMPREPLY[*]}"
    "#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .current_dir(t.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("verbs: scan"), "{stdout}");
    assert!(stdout.contains("--max-file-size"), "{stdout}");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let r = run(ferret().args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("scan"), "{shell}");
    }
    assert_eq!(run(ferret().args(["completions", "tcsh"])).code, 2);
}

#[test]
fn man_pages_render_with_man() {
    if !have("man") {
        return;
    }
    let t = TestDir::new();
    let r = run(t.ferret().args(["man", "--dir", "pages"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for verb in [
        "",
        "-scan",
        "-git",
        "-redact",
        "-baseline-create",
        "-rules-show",
        "-init",
    ] {
        let page = t.path().join(format!("pages/ferret{verb}.1"));
        assert!(page.is_file(), "{} is missing", page.display());
    }
    let out = Command::new("man")
        .args(["-l", "pages/ferret-scan.1"])
        .current_dir(t.path())
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Rendered, not roff source: the name section and the flags, without roff requests.
    assert!(text.contains("NAME"), "{text}");
    assert!(text.contains("ferret-scan"), "{text}");
    assert!(text.contains("--max-file-size"), "{text}");
    assert!(!text.contains(".TH"), "{text}");
    // One page on stdout.
    let r = run(ferret().args(["man", "git"]));
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with(".ie") || r.stdout.contains(".TH"),
        "{}",
        r.stdout
    );
    let r = run(ferret().args(["man", "scna"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("the verbs are"), "{}", r.stderr);
}

#[test]
fn init_writes_a_working_config_and_refuses_to_overwrite() {
    let t = TestDir::new();
    t.write(".pre-commit-config.yaml", "repos: []\n");
    t.write(".gitlab-ci.yml", "stages: [test]\n");
    let r = run(t.ferret().arg("init"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("You use pre-commit"), "{}", r.stdout);
    assert!(r.stdout.contains("- id: ferret"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("secret_detection: gl-secret-detection-report.json")
    );
    assert!(
        !r.stdout.contains("codeql-action"),
        "no GitHub here: {}",
        r.stdout
    );
    let written = std::fs::read_to_string(t.path().join("ferret.toml")).unwrap();
    assert!(written.contains("fail_on"));
    // The file works: a scan reads it (an invalid one would be exit 2).
    t.write("clean.txt", "nothing here\n");
    let scan = run(t.ferret().args(["scan", "."]));
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    // And it is not overwritten.
    std::fs::write(t.path().join("ferret.toml"), "fail_on = \"high\"\n").unwrap();
    let again = run(t.ferret().arg("init"));
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(t.path().join("ferret.toml")).unwrap(),
        "fail_on = \"high\"\n"
    );
    // GitHub detected elsewhere.
    let g = TestDir::new();
    std::fs::create_dir_all(g.path().join(".github/workflows")).unwrap();
    let r = run(g.ferret().arg("init"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("codeql-action/upload-sarif"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("pre-commit install"));
}

#[test]
fn rules_show_prints_a_rule_with_examples_and_remediation() {
    let r = run(ferret().args(["rules", "show", "github.pat.classic"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("github.pat.classic: "), "{}", r.stdout);
    for part in [
        "severity",
        "keywords",
        "validator",
        "remediation:",
        "references:",
        "examples:",
    ] {
        assert!(r.stdout.contains(part), "{part}: {}", r.stdout);
    }
    assert!(r.stdout.contains("ghp_"), "{}", r.stdout);
    let r = run(ferret().args(["rules", "show", "github.pat"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean"), "{}", r.stderr);
    assert!(r.stderr.contains("github.pat.classic"), "{}", r.stderr);
}

#[test]
fn errors_say_what_to_do_next() {
    let t = TestDir::new();
    // A path that does not exist.
    let r = run(t.ferret().args(["scan", "no-such-dir"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("hint: there is no \"no-such-dir\" here"),
        "{}",
        r.stderr
    );
    // An oci:// reference without a tag (nothing listens on the port: the pull fails).
    let r = run(t.ferret().args(["scan", "oci://127.0.0.1:9/team/app"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("oci://127.0.0.1:9/team/app:TAG"),
        "{}",
        r.stderr
    );
    // A rule file with a bad regex.
    t.write(
        "acme.toml",
        "[[rule]]\nid = \"acme.token\"\nname = \"ACME\"\nkeywords = [\"acme_\"]\n\
         regex = '(?P<secret>acme_[a-z)'\nseverity = \"high\"\nremediation = \"Rotate it.\"\n",
    );
    let r = run(t.ferret().args(["scan", "--rules", "acme.toml", "."]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("acme.toml"), "{}", r.stderr);
    assert!(r.stderr.contains("ferret rules check"), "{}", r.stderr);
}

#[test]
fn s3_without_credentials_says_where_they_come_from() {
    let t = TestDir::new();
    // A loopback endpoint where nothing listens, and no credentials of any kind.
    let r = run(t
        .ferret()
        .args([
            "scan",
            "s3://bucket/prefix",
            "--s3-endpoint",
            "http://127.0.0.1:9",
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_SHARED_CREDENTIALS_FILE", t.path().join("none"))
        .env("AWS_CONFIG_FILE", t.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("AWS_ACCESS_KEY_ID"), "{}", r.stderr);
}

/// Runs `args` with stdout a pipe whose reader is already gone.
fn with_closed_stdout(cmd: &mut Command) -> (i32, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_verb_ends_quietly_when_its_reader_goes_away() {
    let t = TestDir::new();
    t.write("a.env", format!("T={}\n", Gen::new(4001).github_pat()));
    let r = run(t
        .ferret()
        .args(["scan", ".", "-f", "json", "-o", "scan.json"]));
    assert_eq!(r.code, 1);
    let cases: &[(&[&str], i32)] = &[
        (&["rules", "list"], 0),
        (&["rules", "list", "--json"], 0),
        (&["rules", "show", "github.pat.classic"], 0),
        (&["completions", "bash"], 0),
        (&["man", "scan"], 0),
        (&["report", "scan.json"], 0),
        (&["--help"], 0),
        (&["scan", "--help"], 0),
        (&["scan", ".", "-f", "json"], 1),
        (&["scan", "a.env"], 1),
    ];
    for (args, code) in cases {
        let (got, stderr) = with_closed_stdout(t.ferret().args(*args));
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(got, *code, "{args:?}: {stderr}");
    }
}

#[test]
fn a_live_stdin_ends_promptly_when_the_reader_goes_away() {
    use std::io::{BufRead, BufReader, Write};
    use std::time::{Duration, Instant};
    let t = TestDir::new();
    let token = Gen::new(4002).github_pat();
    let mut child = t
        .ferret()
        .args(["scan", "-", "-f", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    writeln!(stdin, "T={token}").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("github.pat.classic"), "{line}");
    // The reader goes away; one more finding fails to be written, then the stream stays
    // open and silent: ferret must not wait for its next line.
    drop(stdout);
    writeln!(stdin, "U={token}").unwrap();
    stdin.flush().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "ferret still runs on a silent stdin after its reader went away"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
    drop(stdin);
}

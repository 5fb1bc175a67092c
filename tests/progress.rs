//! The progress line: drawn on a terminal (a pseudo-terminal driven by the test), never on a
//! pipe or with --quiet, forced by --progress, hidden by --no-progress, cleared at the end.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};

use crate::common::TestDir;
use crate::common::secrets::Gen;

/// What a frame of the line holds (the summary line says `MB/s); N findings` instead).
const FRAME: &str = "/s), ";
/// How indicatif takes the line down.
const CLEAR: &str = "\r\x1b[2K";

/// Runs `cmd` with stderr on a new pseudo-terminal (stdout piped); returns the exit code,
/// stdout and everything written to the terminal.
fn on_pty(cmd: &mut Command) -> (i32, String, String) {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let size = Winsize {
        ws_row: 24,
        ws_col: 160,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    tcsetwinsize(&slave, size).unwrap();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::from(OwnedFd::from(slave)))
        .spawn()
        .unwrap();
    // The command keeps its copy of the terminal's side until told otherwise: let it go, so
    // that ferret is the only holder and the end of ferret ends the reads below.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    // Read the terminal while ferret runs (it would block on a full pty otherwise); the read
    // fails with EIO once ferret, the only holder of the other side, has exited.
    let reader = std::thread::spawn(move || {
        let mut terminal = std::fs::File::from(master);
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = terminal.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        seen
    });
    let out = child.wait_with_output().unwrap();
    let seen = reader.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&seen).into_owned(),
    )
}

fn tree() -> TestDir {
    let t = TestDir::new();
    for i in 0..50 {
        t.write(&format!("src/f{i}.py"), "print('hello')\n".repeat(100));
    }
    t.write(
        "deploy/app.env",
        format!("T={}\n", Gen::new(3001).github_pat()),
    );
    t
}

#[test]
fn drawn_on_a_terminal_and_cleared_at_the_end() {
    let t = tree();
    let (code, stdout, terminal) = on_pty(t.ferret().args(["scan", ".", "-f", "json"]));
    assert_eq!(code, 1, "{terminal}");
    assert!(terminal.contains(FRAME), "no progress line: {terminal:?}");
    assert!(terminal.contains("files, "), "{terminal:?}");
    assert!(
        terminal.contains(CLEAR),
        "the line is not cleared: {terminal:?}"
    );
    // The summary comes after the line was taken down, on a line of its own.
    let summary = terminal
        .rfind("ferret: 51 files")
        .expect("the summary line");
    assert!(terminal.rfind(CLEAR).unwrap() < summary, "{terminal:?}");
    assert!(!terminal[summary..].contains(FRAME), "{terminal:?}");
    // The report on stdout is untouched.
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn never_on_a_pipe_or_with_quiet_or_no_progress() {
    let t = tree();
    let r = crate::common::run(t.ferret().args(["scan", ".", "-f", "json"]));
    assert!(!r.stderr.contains(FRAME), "{}", r.stderr);
    assert!(!r.stderr.contains('\x1b'), "{}", r.stderr);
    let (_, _, terminal) = on_pty(t.ferret().args(["scan", ".", "-q"]));
    assert_eq!(terminal, "", "--quiet prints nothing on the terminal");
    let (_, _, terminal) = on_pty(t.ferret().args(["scan", ".", "--no-progress"]));
    assert!(!terminal.contains(FRAME), "{terminal:?}");
    assert!(terminal.contains("ferret: 51 files"), "{terminal:?}");
}

#[test]
fn forced_with_progress_even_on_a_pipe() {
    let t = tree();
    let r = crate::common::run(t.ferret().args(["scan", ".", "-f", "json", "--progress"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(FRAME), "{}", r.stderr);
    assert!(r.stderr.contains(CLEAR), "{}", r.stderr);
}

#[test]
fn git_shows_it_too() {
    let repo = crate::common::git::GitRepo::new();
    repo.write("a.env", format!("T={}\n", Gen::new(3002).github_pat()));
    repo.commit_all("one");
    let (code, _, terminal) = on_pty(repo.ferret().args(["git", "--all", "-f", "json"]));
    assert_eq!(code, 1, "{terminal}");
    assert!(terminal.contains(FRAME), "{terminal:?}");
    assert!(terminal.contains(CLEAR), "{terminal:?}");
}

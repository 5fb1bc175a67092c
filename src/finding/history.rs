//! History without echo: one secret at one path across many commits is one finding.
//!
//! `ferret git --all` scans every distinct blob once, so a secret committed to a config file
//! and left there while the file changes around it is found in every version of the file: 300
//! commits touching `settings.py` make 300 findings of one secret. A reviewer acts once per
//! secret and place, so [`collapse`] keeps one finding per (secret, path in the repository,
//! place inside the file's contents), the one of the earliest commit, and records in its
//! [`History`] the first and last commit it is in and how many commits wrote a version of the
//! file that holds it. The commits themselves stay in the finding ([`History::commits`]), so the
//! JSON report still names every place; `--group secret` (the blast radius) is given the
//! findings before collapsing and lists every commit as a place.

use std::collections::HashMap;

use serde::Serialize;

use super::Finding;
use super::seen::parse_datetime;
use crate::blob::Segment;

/// A commit a secret is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitRef {
    /// The full commit id (hex).
    pub id: String,
    /// When it was authored (RFC 3339, the author's offset).
    pub date: String,
}

/// The commits one secret at one path is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct History {
    /// The earliest commit (by author date).
    pub first: CommitRef,
    /// The latest commit.
    pub last: CommitRef,
    /// How many commits wrote a version of the path that holds the secret.
    pub count: usize,
    /// Every such commit, earliest first.
    pub commits: Vec<CommitRef>,
}

/// The commit of a finding read from git, if it is one.
fn commit_of(f: &Finding) -> Option<(usize, CommitRef)> {
    f.origin
        .segments()
        .iter()
        .enumerate()
        .find_map(|(i, s)| match s {
            Segment::Commit { id, date, .. } => Some((
                i,
                CommitRef {
                    id: id.clone(),
                    date: date.clone(),
                },
            )),
            _ => None,
        })
}

/// Seconds since the epoch of a commit's date; unparsable dates sort last.
fn when(c: &CommitRef) -> i64 {
    parse_datetime(&c.date).map_or(i64::MAX, |(t, _)| t)
}

/// One finding per secret and place across the commits of a history (see the module's
/// documentation). Findings not read from a commit pass through untouched, in order; the
/// collapsed ones follow, in the order of their first appearance.
pub fn collapse(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out = Vec::new();
    // Key: rule, fingerprint, and the origin below the commit (path and any segments inside
    // the file) — not the line: a secret that moves within the file is the same place.
    let mut groups: HashMap<(String, String, String), usize> = HashMap::new();
    // The finding that represents each group, its commit's time, and the group's commits.
    let mut members: Vec<(Finding, i64, Vec<CommitRef>)> = Vec::new();
    for f in findings {
        let Some((at, commit)) = commit_of(&f) else {
            out.push(f);
            continue;
        };
        let below: Vec<String> = f.origin.segments()[at + 1..]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let key = (
            f.rule.id().to_string(),
            f.fingerprint.to_string(),
            below.join(" \u{203a} "),
        );
        match groups.get(&key) {
            Some(&i) => {
                let (kept, kept_when, commits) = &mut members[i];
                let t = when(&commit);
                if !commits.contains(&commit) {
                    commits.push(commit);
                }
                // The earliest commit's finding represents the group.
                if t < *kept_when {
                    *kept = f;
                    *kept_when = t;
                }
            }
            None => {
                groups.insert(key, members.len());
                let t = when(&commit);
                members.push((f, t, vec![commit]));
            }
        }
    }
    for (mut f, _, mut commits) in members {
        if commits.len() > 1 {
            commits.sort_by(|a, b| when(a).cmp(&when(b)).then_with(|| a.id.cmp(&b.id)));
            let first = commits[0].clone();
            let last = commits[commits.len() - 1].clone();
            f.history = Some(Box::new(History {
                first,
                last,
                count: commits.len(),
                commits,
            }));
        }
        out.push(f);
    }
    out
}

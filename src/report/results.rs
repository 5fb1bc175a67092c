//! Scan results read back, and merged: the input of `ferret report`.
//!
//! A sweep scans many machines; each writes its own result (`ferret scan … -f json -o
//! host-3.json`). [`Merge`] reads any number of them, JSON documents or JSONL streams, and
//! folds their findings into one blast radius ([`Radius`]): a secret is one entry however many
//! machines saw it, and a place (origin chain, line and column) reported by several results is
//! kept once, with every result that saw it named in [`Place::sources`].
//!
//! Reading is forgiving where it can be and loud where it must be: a result that is not JSON,
//! or that a newer ferret wrote in a format version this one does not know, is an
//! [`Error::Results`]; a finding that lacks what a report needs (a fingerprint, a rule id, a
//! severity) is skipped and counted in [`Results::problems`], never silently dropped. Fields
//! added to the format after a result was written (`artifact`, `seen`, `provider`,
//! `references`) are derived again when they are missing.
//!
//! Secrets: a result carries a secret only if its scan ran with `--show-secrets`. The merge
//! keeps it only when asked again ([`Merge::new`]'s `show_secrets`); otherwise it is dropped
//! at once, and the line context, which then holds it in clear, is masked again.

use serde::Deserialize;
use serde_json::Value;

use super::FORMAT_VERSION;
use crate::error::{Error, Result};
use crate::finding::Validation;
use crate::finding::artifact::{ArtifactKind, is_log_segments, origin_label};
use crate::finding::radius::{Place, Radius, SecretGroup, SecretInfo, Sighting, provider_of};
use crate::finding::seen::Seen;
use crate::rules::Severity;

/// What one result says about its scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ScanSummary {
    /// Files scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Findings reported.
    pub findings: u64,
    /// Items that could not be scanned.
    pub errors: u64,
    /// Items skipped on purpose.
    pub skipped: u64,
}

/// One result given to the merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    /// How it is named in reports (the file name the user gave).
    pub label: String,
    /// The version of ferret that wrote it.
    pub tool_version: Option<String>,
    /// Its scan's summary, when it has one.
    pub summary: Option<ScanSummary>,
    /// Findings read from it.
    pub findings: u64,
    /// Whether its findings carry secrets in clear (`--show-secrets` at scan time).
    pub has_secrets: bool,
}

/// A per-item warning of one of the scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanWarning {
    /// The result that reported it.
    pub input: String,
    /// `error` or `skipped`.
    pub kind: String,
    /// The item.
    pub path: String,
    /// What happened.
    pub message: String,
}

/// Merged results, ready to be written.
#[derive(Debug, Clone)]
pub struct Results {
    /// The results merged, in the order given.
    pub inputs: Vec<InputInfo>,
    /// The secrets, most urgent first.
    pub groups: Vec<SecretGroup>,
    /// The scans' own warnings (unreadable or skipped items).
    pub warnings: Vec<ScanWarning>,
    /// Findings or results this merge could not read.
    pub problems: Vec<String>,
    /// Whether secrets are shown in clear.
    pub show_secrets: bool,
    /// Findings read, before duplicate places were merged.
    pub findings_read: u64,
}

impl Results {
    /// Secrets verified live.
    pub fn live(&self) -> usize {
        self.groups.iter().filter(|g| g.secret.is_live()).count()
    }

    /// Whether any secret carries a verification verdict.
    pub fn verified(&self) -> bool {
        self.groups.iter().any(|g| g.secret.verification.is_some())
    }

    /// Distinct places over all secrets.
    pub fn places(&self) -> usize {
        self.groups.iter().map(SecretGroup::spread).sum()
    }

    /// Places by kind of artifact, and how many secrets reached each kind; only kinds seen.
    pub fn by_artifact(&self) -> Vec<(ArtifactKind, usize, usize)> {
        ArtifactKind::ALL
            .into_iter()
            .filter_map(|k| {
                let places: usize = self.groups.iter().filter_map(|g| g.artifacts.get(&k)).sum();
                let secrets = self
                    .groups
                    .iter()
                    .filter(|g| g.artifacts.contains_key(&k))
                    .count();
                (places > 0).then_some((k, places, secrets))
            })
            .collect()
    }

    /// Secrets of each severity, most severe first (only severities seen).
    pub fn by_severity(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .into_iter()
            .rev()
            .map(|s| {
                let n = self
                    .groups
                    .iter()
                    .filter(|g| g.secret.severity == s)
                    .count();
                (s, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The scans' totals: files, bytes, errors (over the inputs that have a summary).
    pub fn scanned(&self) -> ScanSummary {
        let mut t = ScanSummary::default();
        for s in self.inputs.iter().filter_map(|i| i.summary.as_ref()) {
            t.files += s.files;
            t.bytes += s.bytes;
            t.findings += s.findings;
            t.errors += s.errors;
            t.skipped += s.skipped;
        }
        t
    }
}

/// `1.03 GB`, `512 B`: bytes in SI units.
pub fn human_bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.2} {}", units[u])
    }
}

/// Reads results and merges them.
#[derive(Debug, Default)]
pub struct Merge {
    show_secrets: bool,
    radius: Radius,
    inputs: Vec<InputInfo>,
    warnings: Vec<ScanWarning>,
    problems: Vec<String>,
    findings_read: u64,
}

impl Merge {
    /// An empty merge. With `show_secrets`, secrets that results carry are kept in clear.
    pub fn new(show_secrets: bool) -> Merge {
        Merge {
            show_secrets,
            ..Merge::default()
        }
    }

    /// Records that an input could not be read at all (it is named in the report).
    pub fn problem(&mut self, message: String) {
        self.problems.push(message);
    }

    /// Reads one result: a JSON document (`-f json`) or a JSONL stream (`-f jsonl`).
    ///
    /// Findings are read one at a time into the few fields reports use; the document is never
    /// held as a tree of JSON values, so memory stays near the size of what is kept.
    pub fn add(&mut self, label: &str, text: &str) -> Result<()> {
        let err = |message: String| Error::Results {
            input: label.to_string(),
            message,
        };
        let first = text.trim_start().lines().next().unwrap_or("");
        let is_jsonl = serde_json::from_str::<Value>(first)
            .is_ok_and(|v| v.get("type").is_some() && v.get("findings").is_none());
        let doc = if is_jsonl {
            jsonl(text).map_err(err)?
        } else {
            let doc: Document = serde_json::from_str(text).map_err(|e| {
                err(if e.is_data() {
                    format!("not a ferret result: {e}")
                } else {
                    format!("not JSON: {e}")
                })
            })?;
            if doc.findings.is_none() {
                return Err(err(
                    "not a ferret result (no \"findings\"; write one with `ferret scan -f json`)"
                        .into(),
                ));
            }
            doc
        };
        if let Some(v) = &doc.version {
            match v.as_u64() {
                Some(n) if n <= u64::from(FORMAT_VERSION) => {}
                _ => {
                    return Err(err(format!(
                        "format version {v} is newer than this ferret reads ({FORMAT_VERSION})"
                    )));
                }
            }
        }
        let summary = doc.summary.as_ref();
        if let Some(ws) = summary
            .and_then(|s| s.get("warnings"))
            .and_then(Value::as_array)
        {
            for w in ws {
                let field = |k: &str| w.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                self.warnings.push(ScanWarning {
                    input: label.to_string(),
                    kind: field("kind"),
                    path: field("path"),
                    message: field("message"),
                });
            }
        }
        let mut info = InputInfo {
            label: label.to_string(),
            tool_version: doc
                .tool
                .as_ref()
                .and_then(|t| t.get("version"))
                .and_then(Value::as_str)
                .map(str::to_string),
            summary: summary.and_then(|s| ScanSummary::deserialize(s).ok()),
            findings: 0,
            has_secrets: false,
        };
        for (i, record) in doc.findings.unwrap_or_default().into_iter().enumerate() {
            match record.and_then(|r| self.sighting(label, r)) {
                Ok((s, had_secret)) => {
                    info.findings += 1;
                    info.has_secrets |= had_secret;
                    self.findings_read += 1;
                    self.radius.add(s);
                }
                Err(message) => self
                    .problems
                    .push(format!("{label}: finding {}: {message}", i + 1)),
            }
        }
        self.inputs.push(info);
        Ok(())
    }

    /// One finding of a result as a sighting, and whether it carried the secret in clear.
    fn sighting(&self, label: &str, r: Record) -> std::result::Result<(Sighting, bool), String> {
        if r.fingerprint.is_empty() || r.rule_id.is_empty() {
            return Err("no fingerprint or rule id".into());
        }
        let origin = if r.origin.is_empty() {
            vec![serde_json::json!({"kind": "file", "path": r.path})]
        } else {
            r.origin
        };
        let masked = r.masked.unwrap_or_else(|| "****".into());
        let had_secret = r.secret.as_deref().is_some_and(|s| !s.is_empty());
        let (secret, context) = match r.secret.filter(|s| !s.is_empty()) {
            Some(s) if self.show_secrets => (Some(s), r.context),
            Some(s) => (None, r.context.replace(&s, &masked)),
            None => (None, r.context),
        };
        let artifact = r
            .artifact
            .as_deref()
            .and_then(ArtifactKind::parse)
            .unwrap_or_else(|| ArtifactKind::of_segments(&origin));
        let seen = r
            .seen
            .and_then(|v| Seen::deserialize(v).ok())
            .or_else(|| Seen::read(&origin, &context, "", is_log_segments(&origin)));
        let location = r
            .location
            .unwrap_or_else(|| format!("{}:{}:{}", origin_label(&origin), r.line, r.column));
        let validation = [Validation::Passed, Validation::Failed, Validation::None]
            .into_iter()
            .find(|v| r.validation.as_deref() == Some(v.as_str()))
            .unwrap_or(Validation::None);
        Ok((
            Sighting {
                secret: SecretInfo {
                    provider: r.provider.unwrap_or_else(|| provider_of(&r.rule_id)),
                    fingerprint: r.fingerprint,
                    rule_name: r.rule_name.unwrap_or_else(|| r.rule_id.clone()),
                    rule_id: r.rule_id,
                    severity: r.severity,
                    validation,
                    masked,
                    secret,
                    remediation: r.remediation,
                    references: r.references,
                    verification: r.verification,
                },
                place: Place {
                    location,
                    origin,
                    line: r.line,
                    column: r.column,
                    artifact,
                    seen,
                    context,
                    sources: vec![label.to_string()],
                },
            },
            had_secret,
        ))
    }

    /// The merged results.
    pub fn finish(self) -> Results {
        Results {
            inputs: self.inputs,
            groups: self.radius.groups(),
            warnings: self.warnings,
            problems: self.problems,
            show_secrets: self.show_secrets,
            findings_read: self.findings_read,
        }
    }
}

/// A result document: only what reports read. Other keys (`secrets` of `--group secret`) are
/// skipped without being built.
#[derive(Debug, Default, Deserialize)]
struct Document {
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    tool: Option<Value>,
    #[serde(default)]
    summary: Option<Value>,
    #[serde(default, deserialize_with = "records")]
    findings: Option<Vec<RecordResult>>,
}

/// A finding read into a [`Record`], or why it could not be.
type RecordResult = std::result::Result<Record, String>;

fn record(v: &Value) -> RecordResult {
    Record::deserialize(v).map_err(|e| e.to_string())
}

/// Reads an array of findings one element at a time: a finding that does not fit is an error
/// for that finding only, and no element outlives its conversion.
fn records<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<RecordResult>>, D::Error> {
    struct Findings;
    impl<'de> serde::de::Visitor<'de> for Findings {
        type Value = Vec<RecordResult>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of findings")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(v) = seq.next_element::<Value>()? {
                out.push(record(&v));
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Findings).map(Some)
}

/// A JSONL stream: its summary line (as the header) and its findings.
fn jsonl(text: &str) -> std::result::Result<Document, String> {
    let mut doc = Document {
        findings: Some(Vec::new()),
        ..Document::default()
    };
    let mut warnings = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
        let data = v.get("data").unwrap_or(&Value::Null);
        match v.get("type").and_then(Value::as_str) {
            Some("finding") => doc.findings.get_or_insert_with(Vec::new).push(record(data)),
            Some("warning") => warnings.push(data.clone()),
            Some("summary") => {
                doc.version = data.get("version").cloned();
                doc.tool = data.get("tool").cloned();
                doc.summary = Some(data.clone());
            }
            _ => {}
        }
    }
    // A JSONL summary line carries version and tool itself, and its warnings were streamed.
    if doc.summary.is_none() && !warnings.is_empty() {
        doc.summary = Some(Value::Object(Default::default()));
    }
    if let Some(obj) = doc.summary.as_mut().and_then(Value::as_object_mut) {
        obj.insert("warnings".into(), Value::Array(warnings));
    }
    Ok(doc)
}

/// The fields of a JSON finding that reports use; everything but the identity is optional.
#[derive(Debug, Deserialize)]
struct Record {
    fingerprint: String,
    rule_id: String,
    severity: Severity,
    #[serde(default)]
    rule_name: Option<String>,
    #[serde(default)]
    path: String,
    #[serde(default)]
    origin: Vec<Value>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    line: u64,
    #[serde(default)]
    column: u64,
    #[serde(default)]
    masked: Option<String>,
    #[serde(default)]
    context: String,
    #[serde(default)]
    validation: Option<String>,
    #[serde(default)]
    remediation: String,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    artifact: Option<String>,
    #[serde(default)]
    seen: Option<Value>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    verification: Option<crate::finding::verification::Verification>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(fp: &str, path: &str, line: u64, secret: Option<&str>) -> Value {
        let mut f = json!({
            "rule_id": "github.pat.classic",
            "rule_name": "GitHub personal access token (classic)",
            "severity": "critical",
            "fingerprint": fp,
            "path": path,
            "origin": [{"kind": "file", "path": path}],
            "location": format!("{path}:{line}:5"),
            "line": line,
            "column": 5,
            "masked": "ghp_****",
            "context": format!("tok={}", secret.unwrap_or("ghp_****")),
            "validation": "passed",
            "remediation": "Revoke it at https://github.com/settings/tokens.",
        });
        if let Some(s) = secret {
            f["secret"] = json!(s);
        }
        f
    }

    fn doc(findings: Vec<Value>) -> String {
        json!({"version": 1, "tool": {"name": "ferret", "version": "0.1.0"},
               "findings": findings,
               "summary": {"files": 3, "bytes": 100, "findings": 2, "errors": 1, "skipped": 0,
                           "elapsed_seconds": 0.1,
                           "warnings": [{"path": "x", "kind": "error", "message": "denied"}]}})
        .to_string()
    }

    #[test]
    fn merges_results_and_dedups_places() {
        let mut m = Merge::new(false);
        m.add(
            "a.json",
            &doc(vec![
                finding("f1", "app.env", 1, None),
                finding("f1", "b.log", 2, None),
            ]),
        )
        .unwrap();
        m.add(
            "b.json",
            &doc(vec![
                finding("f1", "app.env", 1, None),
                finding("f2", "c.py", 3, None),
            ]),
        )
        .unwrap();
        let r = m.finish();
        assert_eq!(r.inputs.len(), 2);
        assert_eq!(r.findings_read, 4);
        assert_eq!(r.groups.len(), 2);
        assert_eq!(r.places(), 3);
        let f1 = r
            .groups
            .iter()
            .find(|g| g.secret.fingerprint == "f1")
            .unwrap();
        assert_eq!(f1.places[0].location, "app.env:1:5");
        assert_eq!(f1.places[0].sources, ["a.json", "b.json"]);
        assert_eq!(f1.secret.validation, Validation::Passed);
        assert_eq!(f1.secret.provider, "github");
        assert_eq!(r.scanned().files, 6);
        assert_eq!(r.warnings.len(), 2);
        assert_eq!(r.warnings[1].input, "b.json");
    }

    #[test]
    fn secrets_are_dropped_unless_asked_again() {
        let secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let text = doc(vec![finding("f1", "app.env", 1, Some(secret))]);
        let mut m = Merge::new(false);
        m.add("a.json", &text).unwrap();
        let r = m.finish();
        assert!(r.inputs[0].has_secrets);
        let g = &r.groups[0];
        assert_eq!(g.secret.secret, None);
        assert_eq!(g.places[0].context, "tok=ghp_****");
        let mut m = Merge::new(true);
        m.add("a.json", &text).unwrap();
        let r = m.finish();
        assert_eq!(r.groups[0].secret.secret.as_deref(), Some(secret));
        assert_eq!(r.groups[0].places[0].context, format!("tok={secret}"));
    }

    #[test]
    fn reads_jsonl_and_rejects_what_it_cannot_read() {
        let lines = [
            json!({"type": "finding", "data": finding("f1", "app.env", 1, None)}),
            json!({"type": "warning", "data": {"path": "p", "kind": "skipped", "message": "big"}}),
            json!({"type": "finding", "data": {"rule_id": "x"}}),
            json!({"type": "summary", "data": {"files": 1, "bytes": 5, "findings": 2,
                    "errors": 0, "skipped": 1, "version": 1}}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut m = Merge::new(false);
        m.add("s.jsonl", &text).unwrap();
        let r = m.finish();
        assert_eq!(r.groups.len(), 1);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.warnings[0].kind, "skipped");
        assert_eq!(r.inputs[0].summary.as_ref().unwrap().skipped, 1);

        let mut m = Merge::new(false);
        assert!(m.add("x", "not json").is_err());
        assert!(m.add("x", "{\"a\": 1}").is_err());
        let newer = json!({"version": 99, "findings": []}).to_string();
        let e = m.add("new.json", &newer).unwrap_err().to_string();
        assert!(e.contains("new.json") && e.contains("99"), "{e}");
    }

    #[test]
    fn old_results_without_new_fields_get_them_derived() {
        let f = json!({"rule_id": "aws.access-key-id", "severity": "high", "fingerprint": "f9",
                       "path": "logs/run.log", "line": 4, "column": 30, "masked": "AKIA****",
                       "context": "2024-05-01T12:00:03Z env AWS_ACCESS_KEY_ID=AKIA****"});
        let mut m = Merge::new(false);
        m.add(
            "old.json",
            &json!({"version": 1, "findings": [f]}).to_string(),
        )
        .unwrap();
        let r = m.finish();
        let p = &r.groups[0].places[0];
        assert_eq!(p.artifact, ArtifactKind::Log);
        assert_eq!(p.location, "logs/run.log:4:30");
        assert_eq!(p.seen, Some(Seen::time(1_714_564_803, "log")));
        assert_eq!(r.groups[0].secret.provider, "aws");
    }
}

//! SARIF 2.1.0, the format GitHub code scanning and other CI systems ingest.
//!
//! - Every rule is listed in `tool.driver.rules` with its description, remediation (`help`),
//!   default level and a `security-severity` that GitHub uses to rank alerts.
//! - Each result has `partialFingerprints."ferret/v2"` = the finding's fingerprint (rule +
//!   secret hash), so code scanning tracks one alert per secret across line moves.
//! - Relative paths become relative URIs with `uriBaseId: "%SRCROOT%"`, defined in
//!   `originalUriBaseIds` as the directory ferret ran in; absolute paths become `file://` URIs.
//! - Regions carry start and end line and column; columns count Unicode code points
//!   (`columnKind: unicodeCodePoints`). The snippet is the secret's line, masked.
//! - Where the secret sits inside an artifact (an archive entry, an image layer, a notebook
//!   cell), `physicalLocation.artifactLocation` is the outer file (the file on disk that a
//!   code-scanning UI can link), and the inner chain is in `logicalLocations[0]`
//!   (`fullyQualifiedName` = the chain as text, `app.tar › image app:1.0 › layer 2
//!   sha256:ab12cd34ef56 › app/.env`, `kind: "member"`) and in `properties.origin` (the
//!   segments as JSON objects, as in the JSON report, with full layer digests and the history
//!   command that made each layer). The region's line is then 1 (it is not a line of the outer
//!   file); the real line and column are in `properties.line` and `properties.column`.
//! - An image pulled from a registry has no file: its artifact URI is the `oci://` URL.
//! - A finding in a file that a later image layer deleted has `properties.deleted: true` and
//!   `properties.deletedInLayer`, and its message says so.
//! - Errors and warned skips are `invocations[0].toolExecutionNotifications`.
//! - With `--group secret`, one result per secret: its first place is the result's location and
//!   every place it reached is in `relatedLocations` (numbered from 1); the blast radius
//!   (`count`, `artifacts`, `earliest`, `latest`) is in the result's `properties`.
//!
//! Secrets are masked unless `--show-secrets`.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Group, ReportOptions, Reporter, sort};
use crate::blob::Segment;
use crate::finding::Finding;
use crate::finding::radius::{Place, SecretGroup};
use crate::rules::Severity;
use crate::summary::{Summary, WarningKind};

/// The run's `invocations` key in the document before it is made into text: it sorts after
/// `results`, so the invocation is written after them (and renamed back in the text).
const LATE_INVOCATIONS: &str = "~invocations";

/// The SARIF reporter.
pub struct SarifReporter {
    opts: ReportOptions,
    out: Box<dyn Write + Send>,
    findings: Vec<Finding>,
}

impl SarifReporter {
    /// A reporter writing to `out`.
    pub fn new(opts: ReportOptions, out: Box<dyn Write + Send>) -> SarifReporter {
        SarifReporter {
            opts,
            out,
            findings: Vec::new(),
        }
    }
}

/// SARIF `level` for a severity.
pub fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` score (0–10) for a severity.
pub fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// Percent-encodes a path for a URI, keeping `/` and the unreserved characters.
pub fn uri_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The artifact location of a path as reports display it.
fn artifact_location(path: &str) -> Value {
    if path.starts_with('/') {
        json!({"uri": format!("file://{}", uri_encode(path))})
    } else {
        json!({"uri": uri_encode(path), "uriBaseId": "%SRCROOT%"})
    }
}

impl SarifReporter {
    fn rules(&self) -> Vec<Value> {
        self.opts
            .rules
            .iter()
            .map(|r| {
                let s = &r.spec;
                let mut help_md = format!("**{}**\n\nRemediation: {}", s.name, s.remediation);
                for link in &s.references {
                    help_md.push_str(&format!("\n- <{link}>"));
                }
                let mut rule = json!({
                    "id": s.id,
                    "name": rule_name(&s.id),
                    "shortDescription": {"text": s.name},
                    "fullDescription": {"text": format!("{} found in the scanned artifact.", s.name)},
                    "help": {"text": format!("Remediation: {}", s.remediation), "markdown": help_md},
                    "defaultConfiguration": {"level": level(s.severity)},
                    "properties": {
                        "tags": ["security", "secret"],
                        "security-severity": security_severity(s.severity),
                        "precision": if s.generic { "medium" } else { "high" },
                        "problem.severity": level(s.severity),
                    },
                });
                if let (Some(first), Some(obj)) = (s.references.first(), rule.as_object_mut()) {
                    obj.insert("helpUri".into(), json!(first));
                }
                rule
            })
            .collect()
    }
}

/// Makes the results: it needs only the options, so the threads that write the results in
/// parallel share it.
struct Results<'a> {
    opts: &'a ReportOptions,
}

impl Results<'_> {
    fn result(&self, f: &Finding, rule_index: Option<usize>) -> Value {
        let mut result = json!({
            "ruleId": f.rule.id(),
            "level": level(f.rule.severity()),
            "message": {"text": format!(
                "{} {} ({} severity{}{}). Rotate it: {}",
                f.rule.name(),
                self.opts.shown_secret(f),
                f.rule.severity(),
                match f.validation {
                    crate::finding::Validation::Passed => ", validator passed",
                    crate::finding::Validation::Failed => ", validator failed",
                    crate::finding::Validation::None => "",
                },
                decoded_note(f),
                f.rule.spec.remediation,
            )},
            "partialFingerprints": {"ferret/v2": f.fingerprint},
            "properties": {
                "severity": f.rule.severity(),
                "fingerprint": f.fingerprint,
                "origin": f.origin,
                "validation": f.validation,
                "confidence": f.confidence,
                "reasons": f.reasons,
                "decoded": f.decoded,
                "entropy": (f.entropy * 100.0).round() / 100.0,
            },
        });
        let obj = result.as_object_mut().expect("a JSON object");
        if let Some(i) = rule_index {
            obj.insert("ruleIndex".into(), json!(i));
        }
        if let Some(v) = &f.verification {
            verification_note(obj, v);
        }
        if let Some(h) = &f.history
            && let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut)
        {
            props.insert("history".into(), json!(h));
        }
        let metadata = f.metadata();
        if !metadata.is_empty()
            && let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut)
        {
            props.insert("metadata".into(), Value::Object(metadata));
        }
        let segments = f.origin.segments();
        if segments.len() > 1
            && let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut)
        {
            props.insert("line".into(), json!(f.start.line));
            props.insert("column".into(), json!(f.start.column));
            if let Some(Segment::Deleted { by_layer }) = f.origin.deleted() {
                props.insert("deleted".into(), json!(true));
                props.insert("deletedInLayer".into(), json!(by_layer));
            }
        }
        if let Some(Segment::Deleted { by_layer }) = f.origin.deleted()
            && let Some(Value::String(text)) =
                obj.get_mut("message").and_then(|m| m.get_mut("text"))
        {
            text.push_str(&format!(
                " The file was deleted in image layer {by_layer} but is still in the image."
            ));
        }
        let mut location = serde_json::Map::new();
        if let Some((path, direct)) = f.origin.file_location() {
            location.insert(
                "physicalLocation".into(),
                json!({
                    "artifactLocation": artifact_location(path),
                    "region": self.region(f, direct),
                }),
            );
        } else if let Segment::Registry { url } | Segment::Tracker { url } = f.origin.root() {
            location.insert(
                "physicalLocation".into(),
                json!({
                    "artifactLocation": {"uri": url},
                    "region": self.region(f, false),
                }),
            );
        } else if let hub @ Segment::Hub { .. } = f.origin.root() {
            location.insert(
                "physicalLocation".into(),
                json!({
                    "artifactLocation": {"uri": hub.to_string()},
                    "region": self.region(f, f.origin.segments().len() == 1),
                }),
            );
        }
        if segments.len() > 1 {
            location.insert(
                "logicalLocations".into(),
                json!([{"fullyQualifiedName": f.origin.to_string(), "kind": "member"}]),
            );
        }
        if !location.is_empty() {
            obj.insert("locations".into(), json!([location]));
        }
        result
    }

    /// The region of a finding. Lines and columns refer to the outer file when the finding is
    /// directly in it, or in a notebook cell whose place in the file is known; inside an
    /// archive they cannot (the region is line 1; `origin` and the logical location say where).
    fn region(&self, f: &Finding, direct: bool) -> Value {
        let mut region = json!({
            "startLine": f.start.line,
            "startColumn": f.start.column,
            "endLine": f.end.line,
            "endColumn": f.end.column,
            "snippet": {"text": self.opts.shown_context(f)},
        });
        if let (false, Some((start, end)), Some(obj)) = (
            direct,
            f.file_region.as_deref().copied(),
            region.as_object_mut(),
        ) {
            // Inside a parsed file (a notebook cell) whose own bytes hold the secret there.
            obj.insert("startLine".into(), json!(start.line));
            obj.insert("startColumn".into(), json!(start.column));
            obj.insert("endLine".into(), json!(end.line));
            obj.insert("endColumn".into(), json!(end.column));
        } else if !direct && let Some(obj) = region.as_object_mut() {
            obj.insert("startLine".into(), json!(1));
            obj.remove("startColumn");
            obj.remove("endLine");
            obj.remove("endColumn");
        }
        region
    }
}

impl Results<'_> {
    /// One result for a secret, with every place it reached as a related location.
    fn group_result(&self, g: &SecretGroup, rule_index: Option<usize>) -> Value {
        let s = &g.secret;
        let shown = s.secret.as_deref().unwrap_or(&s.masked);
        let n = g.spread();
        let mut result = json!({
            "ruleId": s.rule_id,
            "level": level(s.severity),
            "message": {"text": format!(
                "{} {shown} ({} severity) reached {n} place{}: {}. Rotate it: {}",
                s.rule_name,
                s.severity,
                if n == 1 { "" } else { "s" },
                g.kinds_summary(),
                s.remediation,
            )},
            "partialFingerprints": {"ferret/v2": s.fingerprint},
            "relatedLocations": g.places.iter().enumerate()
                .map(|(i, p)| place_location(p, Some(i + 1)))
                .collect::<Vec<_>>(),
            "properties": {
                "severity": s.severity,
                "fingerprint": s.fingerprint,
                "validation": s.validation,
                "count": n,
                "artifacts": g.artifacts,
                "earliest": g.earliest.as_ref().map(|p| json!({"location": p.location, "seen": p.seen})),
                "latest": g.latest.as_ref().map(|p| json!({"location": p.location, "seen": p.seen})),
            },
        });
        let obj = result.as_object_mut().expect("a JSON object");
        if let Some(i) = rule_index {
            obj.insert("ruleIndex".into(), json!(i));
        }
        if let Some(v) = &s.verification {
            verification_note(obj, v);
        }
        if let Some(first) = g.places.first() {
            obj.insert("locations".into(), json!([place_location(first, None)]));
        }
        result
    }
}

/// A SARIF location for a place of the blast radius.
fn place_location(p: &Place, id: Option<usize>) -> Value {
    let mut location = serde_json::Map::new();
    if let Some(id) = id {
        location.insert("id".into(), json!(id));
        location.insert(
            "message".into(),
            json!({"text": format!("{}: {}", p.artifact.label(), p.location)}),
        );
    }
    let root = p.origin.first();
    let path = root
        .filter(|r| r.get("kind").and_then(Value::as_str) == Some("file"))
        .and_then(|r| r.get("path"))
        .and_then(Value::as_str);
    if let Some(path) = path {
        let region = if p.origin.len() == 1 {
            json!({"startLine": p.line, "startColumn": p.column, "snippet": {"text": p.context}})
        } else {
            json!({"startLine": 1, "snippet": {"text": p.context}})
        };
        location.insert(
            "physicalLocation".into(),
            json!({"artifactLocation": artifact_location(path), "region": region}),
        );
    }
    if p.origin.len() > 1 || path.is_none() {
        let origin = p
            .location
            .strip_suffix(&format!(":{}:{}", p.line, p.column))
            .unwrap_or(&p.location);
        location.insert(
            "logicalLocations".into(),
            json!([{"fullyQualifiedName": origin, "kind": "member"}]),
        );
    }
    Value::Object(location)
}

/// Adds a verdict to a result: `properties.verification`, and a sentence in the message.
fn verification_note(
    obj: &mut serde_json::Map<String, Value>,
    v: &crate::finding::verification::Verification,
) {
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert("verification".into(), json!(v));
    }
    if let Some(Value::String(text)) = obj.get_mut("message").and_then(|m| m.get_mut("text")) {
        let at = if v.host.is_empty() {
            String::new()
        } else {
            format!(" by {}", v.host)
        };
        text.push_str(&match v.status {
            crate::finding::verification::Status::Live => {
                format!(" Verified LIVE{at}: rotate it first.")
            }
            _ => format!(" Verification: {}{at}.", v.label()),
        });
    }
}

/// `, decoded from json › base64` for a secret a view revealed, else nothing.
fn decoded_note(f: &Finding) -> String {
    if f.decoded.is_empty() {
        return String::new();
    }
    let chain: Vec<&str> = f.decoded.iter().map(|e| e.as_str()).collect();
    format!(", decoded from {}", chain.join(" \u{203a} "))
}

/// A PascalCase name from a rule id (`github.pat.classic` → `GithubPatClassic`).
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

impl Reporter for SarifReporter {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.findings.push(finding);
        Ok(())
    }

    fn findings(&mut self, findings: Vec<Finding>) -> io::Result<()> {
        super::keep(&mut self.findings, findings);
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        sort(&mut self.findings);
        let index: std::collections::HashMap<&str, usize> = self
            .opts
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id(), i))
            .collect();
        // Results are made one at a time as they are written (write_pretty_streamed).
        let groups = if self.opts.group == Group::Secret {
            self.opts.radius(&self.findings)
        } else {
            Vec::new()
        };
        let findings = if self.opts.group == Group::Secret {
            Vec::new()
        } else {
            std::mem::take(&mut self.findings)
        };
        let mut notifications: Vec<Value> = summary
            .warnings
            .iter()
            .map(|w| {
                json!({
                    "level": if w.kind == WarningKind::Error { "error" } else { "warning" },
                    "message": {"text": format!("{}: {}", w.path, w.message)},
                    "locations": [{"physicalLocation": {"artifactLocation": artifact_location(&w.path)}}],
                })
            })
            .collect();
        if summary.partial {
            notifications.push(json!({
                "level": "error",
                "message": {"text": "interrupted: these results hold only what was found before the scan stopped"},
            }));
        }
        let root = self
            .opts
            .root
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .map(|p| {
                let s = p.to_string_lossy().into_owned();
                let s = if s.ends_with('/') { s } else { s + "/" };
                format!("file://{}", uri_encode(&s))
            })
            .unwrap_or_else(|| "file:///".into());
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "ferret",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/ferret-scanner/ferret",
                    "rules": self.rules(),
                }},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root}},
                "columnKind": "unicodeCodePoints",
                "results": super::later(),
                LATE_INVOCATIONS: super::later(),
            }],
        });
        let mut out = std::mem::replace(&mut self.out, Box::new(io::sink()));
        let this = Results { opts: &self.opts };
        enum Item<'a> {
            Group(&'a SecretGroup),
            Finding(&'a Finding),
        }
        let items = groups
            .iter()
            .map(Item::Group)
            .chain(findings.iter().map(Item::Finding));
        let make = |item: &Item<'_>, out: &mut super::ItemSerializer<'_>| {
            let v = match *item {
                Item::Group(g) => {
                    this.group_result(g, index.get(g.secret.rule_id.as_str()).copied())
                }
                Item::Finding(f) => this.result(f, index.get(f.rule.id()).copied()),
            };
            serde::Serialize::serialize(&v, out)
        };
        // The invocation is written after the results (under a key that sorts after them,
        // renamed back), so that it can say when a signal cut them short (report::Interrupt).
        let invocations = |cut: bool| {
            let mut notifications = notifications;
            if cut && !summary.partial {
                notifications.push(json!({
                    "level": "error",
                    "message": {"text": "interrupted while the report was written: these results are not all that was found"},
                }));
            }
            json!([{
                "executionSuccessful": summary.errors == 0 && !summary.partial && !cut,
                "toolExecutionNotifications": notifications,
            }])
        };
        let stop = || self.opts.cancelled();
        let text = serde_json::to_string_pretty(&doc)?.replacen(
            &format!("\"{LATE_INVOCATIONS}\":"),
            "\"invocations\":",
            1,
        );
        let written =
            super::write_pretty_streamed_text(&mut out, text, items, make, &stop, invocations)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
        self.out = out;
        super::discard(findings);
        written
    }
}

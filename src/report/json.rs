//! JSON (one document) and JSONL (one object per line, streamed) reports.
//!
//! Both share the finding object of [`finding_json`]. The secret itself appears only with
//! `--show-secrets`; `masked` and `context` always carry the redacted form. `origin` is the
//! full chain, outermost first, one object per segment with a `kind`: `file`, `stdin`,
//! `registry` (`url`), `image` (`reference`, `digest`, `platform`), `layer` (`index`, full
//! `digest`, `blob`, `created_by`), `config` (`field`), `deleted` (`by_layer`), `entry`
//! (`path`), `decompressed` (`format`). A finding in a file that a later image layer deleted
//! also has `"deleted": true` and `deleted_in_layer`.
//!
//! ```text
//! {"version":1,"tool":{"name":"ferret","version":"…"},"findings":[…],"summary":{…}}
//! {"type":"finding","data":{…}}      one line per finding, as found (JSONL)
//! {"type":"warning","data":{…}}      one line per warning, as it happens (JSONL)
//! {"type":"secret","data":{…}}       with --group secret: one line per secret, at the end (JSONL)
//! {"type":"summary","data":{…}}      the last line (JSONL)
//! ```
//!
//! With `--group secret` the JSON document also has `"secrets": […]`, one object per secret
//! (its blast radius: `count`, `artifacts` by kind, `earliest`, `latest`, `places`), most
//! urgent first. Fields added since version 1 first shipped (`provider`, `references`,
//! `artifact`, `seen`, `secrets`, `verification`, `paired`, `history`, `metadata`) are additions: readers of version
//! 1 can ignore them. With `--verify`, each finding has `verification` (`status`, `reason`,
//! `detail`, `checked_at`, `host`, `identity`) and the summary has `verification` (counts and
//! requests per host); `paired` (values a verifier pairs with the secret) is written only
//! with `--show-secrets`; `metadata` holds those of them that are not secret material (a
//! service account's `email`, a `key_id`) and is always written. A finding of `ferret git` that stands for the same secret at the same
//! path in several commits has `history` (`first` and `last` commit, `count`, every `commits`
//! entry with `id` and `date`), and the summary counts the folded findings in `echoes`.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{FORMAT_VERSION, Group, ReportOptions, Reporter, sort};
use crate::blob::Segment;
use crate::finding::Finding;
use crate::finding::radius::{self, Radius, provider_of};
use crate::summary::{Summary, Warning};

/// The JSON object for one finding.
pub fn finding_json(f: &Finding, opts: &ReportOptions) -> Value {
    let path = match f.origin.file_location() {
        Some((path, _)) => path.to_string(),
        None => f.origin.root().to_string(),
    };
    let (artifact, seen) = radius::classify(f);
    let mut v = json!({
        "rule_id": f.rule.id(),
        "rule_name": f.rule.name(),
        "severity": f.rule.severity(),
        "fingerprint": f.fingerprint,
        "path": path,
        "origin": f.origin,
        "location": format!("{}:{}:{}", f.origin, f.start.line, f.start.column),
        "line": f.start.line,
        "column": f.start.column,
        "end_line": f.end.line,
        "end_column": f.end.column,
        "offset": f.offset,
        "end_offset": f.end_offset,
        "masked": crate::finding::mask::secret(&f.rule, &f.secret),
        "context": opts.shown_context(f),
        "entropy": (f.entropy * 100.0).round() / 100.0,
        "validation": f.validation,
        "confidence": f.confidence,
        "reasons": f.reasons,
        "decoded": f.decoded,
        "remediation": f.rule.spec.remediation,
        "references": f.rule.spec.references,
        "provider": provider_of(f.rule.id()),
        "artifact": artifact,
        "seen": seen,
    });
    if let Some(obj) = v.as_object_mut() {
        // A file a later image layer deleted: still in the image (see the origin's segment).
        if let Some(Segment::Deleted { by_layer }) = f.origin.deleted() {
            obj.insert("deleted".into(), json!(true));
            obj.insert("deleted_in_layer".into(), json!(by_layer));
        }
        // In a notebook cell: where the secret is in the file itself (lines above count in
        // the cell).
        if let Some((start, _)) = f.file_region.as_deref() {
            obj.insert("file_line".into(), json!(start.line));
            obj.insert("file_column".into(), json!(start.column));
        }
        // Values beside the secret that say what it belongs to (a service account's email):
        // not secret material, so always shown.
        let metadata = f.metadata();
        if !metadata.is_empty() {
            obj.insert("metadata".into(), Value::Object(metadata));
        }
        if let Some(v) = &f.verification {
            obj.insert("verification".into(), json!(v));
        }
        // `ferret git`: the commits the same secret is in at the same path.
        if let Some(h) = &f.history {
            obj.insert("history".into(), json!(h));
        }
        if opts.show_secrets {
            obj.insert("secret".into(), Value::String(f.secret.clone()));
            if !f.paired.is_empty() {
                // What the verifier pairs with the secret (an AWS key id, a URI): secret
                // material too, kept so that `ferret verify` can re-check these results.
                let paired: serde_json::Map<String, Value> = f
                    .paired
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                obj.insert("paired".into(), Value::Object(paired));
            }
        }
    }
    v
}

/// [`finding_json`]'s object, serialized straight from the finding (keys in the same sorted
/// order, the same bytes): no JSON tree of each finding is built, and nothing of the rule is
/// copied, which makes a report of a few hundred thousand findings (an interrupted scan's
/// included) several times cheaper to write. Nested objects (the origin, `seen`,
/// `verification`, `history`) still go through a JSON value, for their keys' order.
pub(crate) struct FindingOut<'a> {
    /// The finding.
    pub f: &'a Finding,
    /// The report's options.
    pub opts: &'a ReportOptions,
}

impl serde::Serialize for FindingOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let (f, opts) = (self.f, self.opts);
        let (artifact, seen) = radius::classify(f);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("artifact", &artifact)?;
        m.serialize_entry("column", &f.start.column)?;
        m.serialize_entry("confidence", &f.confidence)?;
        m.serialize_entry("context", &opts.shown_context(f))?;
        m.serialize_entry("decoded", &f.decoded)?;
        if let Some(Segment::Deleted { by_layer }) = f.origin.deleted() {
            m.serialize_entry("deleted", &true)?;
            m.serialize_entry("deleted_in_layer", &by_layer)?;
        }
        m.serialize_entry("end_column", &f.end.column)?;
        m.serialize_entry("end_line", &f.end.line)?;
        m.serialize_entry("end_offset", &f.end_offset)?;
        m.serialize_entry("entropy", &((f.entropy * 100.0).round() / 100.0))?;
        if let Some((start, _)) = f.file_region.as_deref() {
            m.serialize_entry("file_column", &start.column)?;
            m.serialize_entry("file_line", &start.line)?;
        }
        m.serialize_entry("fingerprint", &f.fingerprint)?;
        if let Some(h) = &f.history {
            m.serialize_entry("history", &json!(h))?;
        }
        m.serialize_entry("line", &f.start.line)?;
        m.serialize_entry(
            "location",
            &format!("{}:{}:{}", f.origin, f.start.line, f.start.column),
        )?;
        m.serialize_entry("masked", &crate::finding::mask::secret(&f.rule, &f.secret))?;
        let metadata = f.metadata();
        if !metadata.is_empty() {
            m.serialize_entry("metadata", &metadata)?;
        }
        m.serialize_entry("offset", &f.offset)?;
        m.serialize_entry("origin", &json!(f.origin))?;
        if opts.show_secrets && !f.paired.is_empty() {
            let paired: serde_json::Map<String, Value> = f
                .paired
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            m.serialize_entry("paired", &paired)?;
        }
        match f.origin.file_location() {
            Some((path, _)) => m.serialize_entry("path", &path.to_string())?,
            None => m.serialize_entry("path", &f.origin.root().to_string())?,
        }
        m.serialize_entry("provider", provider_of_ref(f.rule.id()))?;
        m.serialize_entry("reasons", &f.reasons)?;
        m.serialize_entry("references", &f.rule.spec.references)?;
        m.serialize_entry("remediation", &f.rule.spec.remediation)?;
        m.serialize_entry("rule_id", f.rule.id())?;
        m.serialize_entry("rule_name", f.rule.name())?;
        if opts.show_secrets {
            m.serialize_entry("secret", &f.secret)?;
        }
        m.serialize_entry("seen", &json!(seen))?;
        m.serialize_entry("severity", &f.rule.severity())?;
        m.serialize_entry("validation", &f.validation)?;
        if let Some(v) = &f.verification {
            m.serialize_entry("verification", &json!(v))?;
        }
        m.end()
    }
}

/// [`provider_of`] without the copy.
fn provider_of_ref(rule_id: &str) -> &str {
    rule_id.split('.').next().unwrap_or(rule_id)
}

fn tool() -> Value {
    json!({"name": "ferret", "version": env!("CARGO_PKG_VERSION")})
}

/// One JSON document written at the end.
pub struct JsonReporter {
    opts: ReportOptions,
    out: Box<dyn Write + Send>,
    findings: Vec<Finding>,
}

impl JsonReporter {
    /// A reporter writing to `out`.
    pub fn new(opts: ReportOptions, out: Box<dyn Write + Send>) -> JsonReporter {
        JsonReporter {
            opts,
            out,
            findings: Vec::new(),
        }
    }
}

impl Reporter for JsonReporter {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.findings.push(finding);
        Ok(())
    }

    fn findings(&mut self, findings: Vec<Finding>) -> io::Result<()> {
        super::keep(&mut self.findings, findings);
        Ok(())
    }

    /// Writes the document. Findings are turned into JSON one at a time as they are written
    /// (and each dropped once written), so the report never holds them all as JSON trees; the
    /// summary comes after them in the document and is made last, so its `peak_rss_bytes`
    /// covers the writing of the findings. (What it cannot cover is the rest of the document
    /// after it, a few bytes, and the flush.)
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        sort(&mut self.findings);
        let mut doc = json!({
            "version": FORMAT_VERSION,
            "tool": tool(),
            "findings": super::later(),
            "summary": super::later(),
        });
        if self.opts.group == Group::Secret
            && let Some(obj) = doc.as_object_mut()
        {
            obj.insert("secrets".into(), json!(self.opts.radius(&self.findings)));
        }
        let findings = std::mem::take(&mut self.findings);
        let opts = &self.opts;
        let make = |f: &&Finding, out: &mut super::ItemSerializer<'_>| {
            serde::Serialize::serialize(&FindingOut { f, opts }, out)
        };
        let tail = |cut: bool| {
            let mut s = summary.clone();
            // Cut by a signal while written: the findings listed are not all.
            s.partial |= cut;
            s.peak_rss_bytes = crate::summary::peak_rss().max(summary.peak_rss_bytes);
            json!(s)
        };
        let stop = || opts.cancelled();
        super::write_pretty_streamed(&mut self.out, &doc, findings.iter(), make, &stop, tail)?;
        super::discard(findings);
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// One line per event, flushed as it happens.
pub struct JsonlReporter {
    opts: ReportOptions,
    out: Box<dyn Write + Send>,
    radius: Option<Radius>,
}

impl JsonlReporter {
    /// A reporter writing to `out`.
    pub fn new(opts: ReportOptions, out: Box<dyn Write + Send>) -> JsonlReporter {
        let radius = (opts.group == Group::Secret).then(Radius::new);
        JsonlReporter { opts, out, radius }
    }

    fn line(&mut self, kind: &str, data: Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &json!({"type": kind, "data": data}))?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

impl Reporter for JsonlReporter {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        let v = finding_json(&finding, &self.opts);
        if let Some(radius) = &mut self.radius {
            radius.add(self.opts.sighting(&finding));
        }
        self.line("finding", v)
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        self.line("warning", json!(warning))
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if let Some(radius) = self.radius.take() {
            for group in radius.groups() {
                self.line("secret", json!(group))?;
            }
        }
        // Measured now, with everything else written.
        let mut summary = summary.clone();
        summary.peak_rss_bytes = crate::summary::peak_rss().max(summary.peak_rss_bytes);
        let mut v = json!(summary);
        if let Some(obj) = v.as_object_mut() {
            // Warnings were streamed as they happened.
            obj.remove("warnings");
            obj.insert("version".into(), json!(FORMAT_VERSION));
            obj.insert("tool".into(), tool());
        }
        self.line("summary", v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;
    use crate::blob::{Data, Origin};
    use crate::matcher::Matcher;

    /// The findings of `text` scanned with the built-in rules under `origin`.
    fn found(m: &Matcher, text: &str, origin: &Origin) -> Vec<Finding> {
        let data = Data::Owned(text.as_bytes().to_vec());
        let (mut scratch, mut buf) = (m.scratch(), Vec::new());
        crate::engine::scan_data(m, &data, origin, 1 << 20, &mut scratch, &mut buf).findings
    }

    #[test]
    fn findings_written_straight_are_the_json_values_byte_for_byte() {
        let rules = RuleSet::builtin().unwrap();
        let m = Matcher::new(&rules).unwrap();
        // Synthetic secrets: a GitHub token with its checksum, a password, a Slack token, an
        // AWS key pair (paired values), a JSON-escaped token (a decoded finding).
        let body = "wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO";
        let gh = format!(
            "ghp_{body}{}",
            crate::matcher::validator::base62(crc32fast::hash(body.as_bytes()), 6)
        );
        let text = format!(
            "GITHUB_TOKEN={gh}\n\
             password = \"q8Zr2mVx7LpN4tWs\"\n\
             SLACK_TOKEN=xoxb-27483915624-836152947381-Qm7Rt2Zx9Lp4Vn8Ws3Ky6Hb1\n\
             aws_access_key_id = AKIAQ7RZ3MXW5TJN2KLP\n\
             aws_secret_access_key = \"x9Tq2Wm7Zr4Lp8Vn3Ks6Hb1Jd5Fg0Yc2Ne7Ua4R\"\n\
             {{\"token\": \"ghp\\u005f{body}{}\"}}\n",
            crate::matcher::validator::base62(crc32fast::hash(body.as_bytes()), 6)
        );
        let deleted = Origin::file("app.tar")
            .child(Segment::Image {
                reference: Some("app:1.0".into()),
                digest: None,
                platform: Some("linux/arm64".into()),
            })
            .child(Segment::Layer {
                index: 2,
                digest: format!("sha256:{}", "ab12cd34ef56".repeat(5)),
                blob: None,
                created_by: Some("RUN make".into()),
            })
            .child(Segment::Deleted { by_layer: 3 })
            .child(Segment::Entry {
                path: "app/.env".into(),
            });
        let mut findings = Vec::new();
        for origin in [
            Origin::file("config/app.env"),
            Origin::object("s3://bucket/app.env"),
            deleted,
        ] {
            findings.extend(found(&m, &text, &origin));
        }
        assert!(findings.len() >= 12, "{}", findings.len());
        // The optional fields: a region in the file, a verification, paired values.
        let mut extra = findings[0].clone();
        extra.file_region = Some(Box::new((
            crate::finding::LineColumn { line: 7, column: 3 },
            crate::finding::LineColumn {
                line: 7,
                column: 43,
            },
        )));
        extra.verification = Some(
            serde_json::from_value(json!({
                "status": "live", "detail": "HTTP 200", "host": "api.github.com",
                "checked_at": "2026-01-01T00:00:00Z",
            }))
            .unwrap(),
        );
        extra.paired = vec![("id".into(), "AKIAQ7RZ3MXW5TJN2KLP".into())];
        findings.push(extra);
        for show_secrets in [false, true] {
            let opts = ReportOptions {
                group: Group::None,
                show_secrets,
                color: false,
                rules: rules.clone(),
                root: None,
                interrupt: Default::default(),
            };
            for f in &findings {
                let value = serde_json::to_string_pretty(&finding_json(f, &opts)).unwrap();
                let straight =
                    serde_json::to_string_pretty(&FindingOut { f, opts: &opts }).unwrap();
                assert_eq!(straight, value);
            }
        }
    }
}

//! `ferret verify`: re-checking the findings of a saved result (`ferret scan -f json`).
//!
//! A responder tracks rotation: yesterday's live keys, today's revoked ones. The result is read
//! as JSON (a document or a JSONL stream); every distinct secret is verified once (the result
//! must carry secrets, i.e. the scan ran with `--show-secrets`; findings without one are
//! `unknown`, `skipped`), and the same result is written back with each finding's
//! `verification` and the summary's `verification` replaced. Secrets and paired values are
//! left out of what is written unless asked again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::engine::{Engine, Job};
use super::{Reason, Status, Verification, VerifyOptions};
use crate::error::{Error, Result};
use crate::finding::verification::VerificationSummary;
use crate::rules::{RuleSet, Severity};

/// A re-checked result.
#[derive(Debug, Clone)]
pub struct Rechecked {
    /// The result with verdicts, in the input's format (JSON document or JSONL).
    pub text: String,
    /// What verification did.
    pub summary: VerificationSummary,
    /// Findings whose secret is live, by severity.
    pub live: Vec<Severity>,
}

fn findings_mut(doc: &mut Value) -> Vec<&mut Value> {
    doc.get_mut("findings")
        .and_then(Value::as_array_mut)
        .map(|a| a.iter_mut().collect())
        .unwrap_or_default()
}

/// Verifies the findings of one result.
pub fn recheck(
    label: &str,
    text: &str,
    rules: &RuleSet,
    opts: VerifyOptions,
    show_secrets: bool,
) -> Result<Rechecked> {
    let err = |message: String| Error::Results {
        input: label.to_string(),
        message,
    };
    let first = text.trim_start().lines().next().unwrap_or("");
    let jsonl = serde_json::from_str::<Value>(first)
        .is_ok_and(|v| v.get("type").is_some() && v.get("findings").is_none());
    let mut docs: Vec<Value> = if jsonl {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(n, l)| {
                serde_json::from_str(l).map_err(|e| err(format!("line {}: not JSON: {e}", n + 1)))
            })
            .collect::<Result<_>>()?
    } else {
        let doc: Value = serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        if doc.get("findings").is_none() {
            return Err(err("not a ferret result (no \"findings\")".into()));
        }
        vec![doc]
    };
    let mut all: Vec<&mut Value> = Vec::new();
    for d in docs.iter_mut() {
        if jsonl {
            if d.get("type").and_then(Value::as_str) == Some("finding")
                && let Some(data) = d.get_mut("data")
            {
                all.push(data);
            }
        } else {
            all.extend(findings_mut(d));
        }
    }
    let verdicts: Arc<Mutex<HashMap<String, Verification>>> = Arc::default();
    let sink = Arc::clone(&verdicts);
    let engine = Engine::new(opts, move |fp, v| {
        sink.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(fp.to_string(), v);
    });
    let mut seen = std::collections::HashSet::new();
    let mut direct: HashMap<String, Verification> = HashMap::new();
    for f in &all {
        let s = |k: &str| {
            f.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let fp = s("fingerprint");
        if fp.is_empty() || !seen.insert(fp.clone()) {
            continue;
        }
        let Some(rule) = rules.get(&s("rule_id")) else {
            direct.insert(
                fp,
                Verification::unknown(
                    Reason::Unsupported,
                    format!("rule {} is not loaded", s("rule_id")),
                ),
            );
            continue;
        };
        let secret = s("secret");
        if secret.is_empty() {
            direct.insert(
                fp,
                Verification::unknown(
                    Reason::Skipped,
                    "the result carries no secret (scan with --show-secrets to verify later)",
                ),
            );
            continue;
        }
        let paired = f
            .get("paired")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        engine.submit(Job {
            fingerprint: fp,
            rule: Arc::clone(rule),
            secret,
            paired,
        });
    }
    let stats = engine.finish();
    let mut verdicts = verdicts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    verdicts.extend(direct);
    let mut summary = VerificationSummary {
        cached: stats.cached,
        hosts: stats.hosts,
        elapsed_seconds: (stats.elapsed_seconds * 1000.0).round() / 1000.0,
        ..VerificationSummary::default()
    };
    for v in verdicts.values() {
        match v.status {
            Status::Live => summary.live += 1,
            Status::Invalid => summary.invalid += 1,
            Status::Unknown => summary.unknown += 1,
        }
    }
    let mut live = Vec::new();
    for f in all {
        let fp = f
            .get("fingerprint")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(obj) = f.as_object_mut() else {
            continue;
        };
        if let Some(v) = verdicts.get(&fp) {
            if v.is_live()
                && let Some(sev) = obj
                    .get("severity")
                    .and_then(|s| serde_json::from_value::<Severity>(s.clone()).ok())
            {
                live.push(sev);
            }
            obj.insert("verification".into(), serde_json::json!(v));
        }
        if !show_secrets {
            obj.remove("secret");
            obj.remove("paired");
        }
    }
    let summary_json = serde_json::json!(summary);
    let out = if jsonl {
        let mut out = String::new();
        for d in &mut docs {
            if d.get("type").and_then(Value::as_str) == Some("summary")
                && let Some(data) = d.get_mut("data").and_then(Value::as_object_mut)
            {
                data.insert("verification".into(), summary_json.clone());
            }
            out.push_str(&d.to_string());
            out.push('\n');
        }
        out
    } else {
        let d = &mut docs[0];
        if let Some(s) = d.get_mut("summary").and_then(Value::as_object_mut) {
            s.insert("verification".into(), summary_json);
        }
        if !show_secrets && let Some(groups) = d.get_mut("secrets").and_then(Value::as_array_mut) {
            for g in groups {
                if let Some(o) = g.as_object_mut() {
                    o.remove("secret");
                }
            }
        }
        let mut s = serde_json::to_string_pretty(d).map_err(|e| err(e.to_string()))?;
        s.push('\n');
        s
    };
    Ok(Rechecked {
        text: out,
        summary,
        live,
    })
}

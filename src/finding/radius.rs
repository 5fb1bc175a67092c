//! Blast radius: one secret, every place it reached.
//!
//! A fingerprint is a hash of the rule id and the secret only, so every copy of a secret has
//! the same one wherever it spread. Grouping findings by fingerprint turns a list of findings
//! into the answer a responder needs: *this* key is in 3 config files, 2 image layers and 40
//! log lines, first seen on 1 May, last seen yesterday; rotate it, then clean up those places.
//!
//! The radius works on plain data ([`Sighting`]: what is known about the secret, and one
//! [`Place`]), built either from a live [`Finding`] (`ferret scan --group secret`) or from a
//! finding of a JSON result read back by `ferret report`. So one code path groups a scan and
//! merges the results of a sweep over many machines. A place is identified by its location
//! (origin chain, line and column): the same place reported by two results is kept once, with
//! both results named in [`Place::sources`].
//!
//! [`Radius::groups`] orders secrets the way they should be rotated: by severity, then by how
//! far they spread, then (for a stable order) by rule id and fingerprint. Places are sorted by
//! location; each place has an [`ArtifactKind`] and, where one can be read, a [`Seen`] time.
//! Memory is one [`Place`] per finding, the same order as the findings a JSON report keeps.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use super::Finding;
use super::artifact::{self, ArtifactKind, segments_json};
use super::seen::Seen;
use crate::finding::Validation;
use crate::rules::Severity;

/// What is known about a secret, whichever place it was found in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretInfo {
    /// Hash of the rule id and the secret.
    pub fingerprint: String,
    /// The rule that found it.
    pub rule_id: String,
    /// The rule's human name.
    pub rule_name: String,
    /// Who issued it: the first part of the rule id (`github`, `aws`, `openai`).
    pub provider: String,
    /// How bad a leak is.
    pub severity: Severity,
    /// The rule's validator's verdict.
    pub validation: Validation,
    /// The secret masked.
    pub masked: String,
    /// The secret in clear, only when the user asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// How to rotate it.
    pub remediation: String,
    /// Documentation links.
    pub references: Vec<String>,
    /// What `--verify` learned about it, if it was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<super::verification::Verification>,
}

impl SecretInfo {
    /// Whether verification found the secret live.
    pub fn is_live(&self) -> bool {
        self.verification.as_ref().is_some_and(|v| v.is_live())
    }

    /// The first `http(s)` link of the remediation text, else the first reference.
    pub fn remediation_link(&self) -> Option<&str> {
        first_url(&self.remediation).or_else(|| {
            self.references
                .iter()
                .map(String::as_str)
                .find(|r| is_web_url(r))
        })
    }
}

/// The provider of a rule: the first part of its id.
pub fn provider_of(rule_id: &str) -> String {
    rule_id.split('.').next().unwrap_or(rule_id).to_string()
}

/// Whether `s` is an `http`/`https` URL that is safe to put in a link.
pub fn is_web_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 8
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '`'))
}

/// The first `http(s)` URL in `text`, without trailing punctuation.
fn first_url(text: &str) -> Option<&str> {
    let start = text.find("https://").or_else(|| text.find("http://"))?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '`' | ')'))
        .unwrap_or(rest.len());
    let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', '\'']);
    is_web_url(url).then_some(url)
}

/// One place a secret reached.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// `origin:line:column`, as reports print it.
    pub location: String,
    /// The origin chain, serialized, outermost first.
    pub origin: Vec<Value>,
    /// 1-based line.
    pub line: u64,
    /// 1-based column in code points.
    pub column: u64,
    /// The kind of artifact.
    pub artifact: ArtifactKind,
    /// When it was seen there, where that can be read.
    pub seen: Option<Seen>,
    /// The secret's line, with the secret shown as the report may show it.
    pub context: String,
    /// The results that reported this place (`ferret report` inputs); empty for a live scan.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// One finding as the radius sees it.
#[derive(Debug, Clone)]
pub struct Sighting {
    /// The secret.
    pub secret: SecretInfo,
    /// Where it was found.
    pub place: Place,
}

impl Sighting {
    /// The sighting of a live finding. The secret is kept in clear only with `show_secrets`;
    /// `context` is the line as the report shows it.
    pub fn from_finding(f: &Finding, show_secrets: bool, context: String) -> Sighting {
        let origin = segments_json(&f.origin);
        let (artifact, seen) = classify(f);
        Sighting {
            secret: SecretInfo {
                fingerprint: f.fingerprint.to_string(),
                rule_id: f.rule.id().to_string(),
                rule_name: f.rule.name().to_string(),
                provider: provider_of(f.rule.id()),
                severity: f.rule.severity(),
                validation: f.validation,
                masked: super::mask::secret(&f.rule, &f.secret),
                secret: show_secrets.then(|| f.secret.clone()),
                remediation: f.rule.spec.remediation.clone(),
                references: f.rule.spec.references.clone(),
                verification: f.verification.as_deref().cloned(),
            },
            place: Place {
                location: format!("{}:{}:{}", f.origin, f.start.line, f.start.column),
                origin,
                line: f.start.line,
                column: f.start.column,
                artifact,
                seen,
                context,
                sources: Vec::new(),
            },
        }
    }
}

/// The artifact kind of a finding's place, and when it was seen there. Chains of plain files
/// are read directly; others through their serialized form (so new segment kinds and their
/// date fields are read too).
pub fn classify(f: &Finding) -> (ArtifactKind, Option<Seen>) {
    match artifact::plain_segments(&f.origin) {
        Some(segs) => {
            let kind = artifact::classify(&segs);
            let seen = if artifact::is_log_line(&segs) {
                Seen::read(&[], &f.before, &f.after, true)
            } else {
                None
            };
            (kind, seen)
        }
        None => {
            let origin = segments_json(&f.origin);
            let kind = ArtifactKind::of_segments(&origin);
            let seen = Seen::read(
                &origin,
                &f.before,
                &f.after,
                artifact::is_log_segments(&origin),
            );
            (kind, seen)
        }
    }
}

/// One secret and every place it reached.
#[derive(Debug, Clone, Serialize)]
pub struct SecretGroup {
    /// The secret.
    #[serde(flatten)]
    pub secret: SecretInfo,
    /// How many places.
    pub count: usize,
    /// Places by kind of artifact.
    pub artifacts: BTreeMap<ArtifactKind, usize>,
    /// The earliest place seen, where times (or layer positions) could be read.
    #[serde(serialize_with = "brief")]
    pub earliest: Option<Place>,
    /// The latest place seen.
    #[serde(serialize_with = "brief")]
    pub latest: Option<Place>,
    /// Every place, sorted by location.
    pub places: Vec<Place>,
}

/// Earliest and latest are written as `{"location": …, "seen": …}`: the rest is in `places`.
fn brief<S: serde::Serializer>(p: &Option<Place>, s: S) -> Result<S::Ok, S::Error> {
    p.as_ref()
        .map(|p| serde_json::json!({"location": p.location, "seen": p.seen}))
        .serialize(s)
}

impl SecretGroup {
    /// How far the secret spread: the number of places.
    pub fn spread(&self) -> usize {
        self.places.len()
    }

    /// The artifact kinds it reached, most places first.
    pub fn kinds(&self) -> Vec<(ArtifactKind, usize)> {
        let mut v: Vec<_> = self.artifacts.iter().map(|(k, n)| (*k, *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// `3 config files, 1 log line`.
    pub fn kinds_summary(&self) -> String {
        self.kinds()
            .iter()
            .map(|(k, n)| format!("{n} {}", plural(k.label(), *n)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `label` with an `s` when `n` is not 1.
pub fn plural(label: &str, n: usize) -> String {
    if n == 1 {
        label.to_string()
    } else {
        format!("{label}s")
    }
}

/// Groups sightings by fingerprint.
#[derive(Debug, Default)]
pub struct Radius {
    groups: HashMap<String, (SecretInfo, Vec<Place>)>,
    places: HashMap<(String, String), usize>,
}

impl Radius {
    /// An empty radius.
    pub fn new() -> Radius {
        Radius::default()
    }

    /// Adds one sighting. A place already known for this secret is not added again; its
    /// sources are merged. Returns whether the place was new.
    pub fn add(&mut self, s: Sighting) -> bool {
        let fp = s.secret.fingerprint.clone();
        let key = (fp.clone(), s.place.location.clone());
        let (info, places) = self
            .groups
            .entry(fp)
            .or_insert_with(|| (s.secret.clone(), Vec::new()));
        if info.secret.is_none() && s.secret.secret.is_some() {
            info.secret = s.secret.secret.clone();
        }
        // The most recent verdict wins (results merged from several runs).
        if let Some(v) = &s.secret.verification
            && info
                .verification
                .as_ref()
                .is_none_or(|old| old.checked_at <= v.checked_at)
        {
            info.verification = Some(v.clone());
        }
        if let Some(&i) = self.places.get(&key) {
            let place = &mut places[i];
            for src in s.place.sources {
                if !place.sources.contains(&src) {
                    place.sources.push(src);
                }
            }
            return false;
        }
        self.places.insert(key, places.len());
        places.push(s.place);
        true
    }

    /// How many distinct secrets.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether no secret was added.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The secrets, most urgent first: live ones (when verified), then severity, then spread,
    /// then rule id and fingerprint.
    pub fn groups(self) -> Vec<SecretGroup> {
        let mut out: Vec<SecretGroup> = self
            .groups
            .into_values()
            .map(|(secret, mut places)| {
                places.sort_by_cached_key(|p| (location_key(p), p.location.clone()));
                let mut artifacts = BTreeMap::new();
                for p in &places {
                    *artifacts.entry(p.artifact).or_insert(0) += 1;
                }
                let (earliest, latest) = extremes(&places);
                SecretGroup {
                    secret,
                    count: places.len(),
                    artifacts,
                    earliest,
                    latest,
                    places,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.secret
                .is_live()
                .cmp(&a.secret.is_live())
                .then(b.secret.severity.cmp(&a.secret.severity))
                .then(b.spread().cmp(&a.spread()))
                .then_with(|| a.secret.rule_id.cmp(&b.secret.rule_id))
                .then_with(|| a.secret.fingerprint.cmp(&b.secret.fingerprint))
        });
        out
    }
}

/// Sorts places by their origin, then line and column (not as text: line 10 after line 9).
fn location_key(p: &Place) -> (String, u64, u64) {
    let origin = p
        .location
        .strip_suffix(&format!(":{}:{}", p.line, p.column))
        .unwrap_or(&p.location);
    (origin.to_string(), p.line, p.column)
}

/// The earliest and latest places: among places with a time if any, else among places with a
/// layer position. Ties keep the first place in location order.
fn extremes(places: &[Place]) -> (Option<Place>, Option<Place>) {
    let timed = places
        .iter()
        .any(|p| p.seen.as_ref().is_some_and(Seen::is_time));
    let candidates = places
        .iter()
        .filter(|p| p.seen.as_ref().is_some_and(|s| s.is_time() == timed));
    let mut earliest: Option<&Place> = None;
    let mut latest: Option<&Place> = None;
    for p in candidates {
        let v = p.seen.as_ref().map_or(0, Seen::sort_value);
        let value = |q: Option<&Place>| q.and_then(|q| q.seen.as_ref()).map(Seen::sort_value);
        if value(earliest).is_none_or(|e| v < e) {
            earliest = Some(p);
        }
        if value(latest).is_none_or(|l| v > l) {
            latest = Some(p);
        }
    }
    (earliest.cloned(), latest.cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sighting(fp: &str, sev: Severity, location: &str, seen: Option<Seen>) -> Sighting {
        let (path, rest) = location.split_once(':').unwrap();
        let (line, column) = rest.split_once(':').unwrap();
        let origin = vec![json!({"kind": "file", "path": path})];
        Sighting {
            secret: SecretInfo {
                fingerprint: fp.into(),
                rule_id: format!("rule.{fp}"),
                rule_name: "A rule".into(),
                provider: "rule".into(),
                severity: sev,
                validation: Validation::None,
                masked: "****".into(),
                secret: None,
                remediation: "Revoke it at https://example.com/tokens.".into(),
                references: vec![],
                verification: None,
            },
            place: Place {
                location: location.into(),
                artifact: ArtifactKind::of_segments(&origin),
                origin,
                line: line.parse().unwrap(),
                column: column.parse().unwrap(),
                seen,
                context: String::new(),
                sources: vec![],
            },
        }
    }

    #[test]
    fn groups_by_fingerprint_and_orders_by_severity_then_spread() {
        let mut r = Radius::new();
        r.add(sighting("a", Severity::High, "x.env:1:1", None));
        r.add(sighting("b", Severity::High, "x.env:2:1", None));
        r.add(sighting("b", Severity::High, "logs/y.log:10:1", None));
        r.add(sighting("b", Severity::High, "logs/y.log:9:1", None));
        r.add(sighting("c", Severity::Critical, "z.py:1:1", None));
        assert_eq!(r.len(), 3);
        let g = r.groups();
        let order: Vec<&str> = g.iter().map(|g| g.secret.fingerprint.as_str()).collect();
        assert_eq!(order, ["c", "b", "a"]);
        let b = &g[1];
        assert_eq!(b.count, 3);
        let locations: Vec<&str> = b.places.iter().map(|p| p.location.as_str()).collect();
        assert_eq!(
            locations,
            ["logs/y.log:9:1", "logs/y.log:10:1", "x.env:2:1"]
        );
        assert_eq!(b.kinds_summary(), "2 log lines, 1 config file");
        assert_eq!(
            g[0].secret.remediation_link(),
            Some("https://example.com/tokens")
        );
    }

    #[test]
    fn same_place_from_two_results_is_kept_once_with_both_sources() {
        let mut r = Radius::new();
        let mut one = sighting("a", Severity::Low, "x.env:1:1", None);
        one.place.sources = vec!["a.json".into()];
        let mut two = one.clone();
        two.place.sources = vec!["b.json".into()];
        assert!(r.add(one));
        assert!(!r.add(two));
        let g = r.groups();
        assert_eq!(g[0].count, 1);
        assert_eq!(g[0].places[0].sources, ["a.json", "b.json"]);
    }

    #[test]
    fn earliest_and_latest_prefer_times_over_layer_positions() {
        let mut r = Radius::new();
        r.add(sighting(
            "a",
            Severity::Low,
            "l:1:1",
            Some(Seen::Layer { index: 0 }),
        ));
        r.add(sighting(
            "a",
            Severity::Low,
            "m:1:1",
            Some(Seen::time(200, "log")),
        ));
        r.add(sighting(
            "a",
            Severity::Low,
            "n:1:1",
            Some(Seen::time(100, "commit")),
        ));
        r.add(sighting("a", Severity::Low, "o:1:1", None));
        let g = &r.groups()[0];
        assert_eq!(g.earliest.as_ref().unwrap().location, "n:1:1");
        assert_eq!(g.latest.as_ref().unwrap().location, "m:1:1");

        let mut r = Radius::new();
        r.add(sighting(
            "a",
            Severity::Low,
            "l:1:1",
            Some(Seen::Layer { index: 4 }),
        ));
        r.add(sighting(
            "a",
            Severity::Low,
            "m:1:1",
            Some(Seen::Layer { index: 2 }),
        ));
        let g = &r.groups()[0];
        assert_eq!(g.earliest.as_ref().unwrap().location, "m:1:1");
        assert_eq!(g.latest.as_ref().unwrap().location, "l:1:1");

        let mut r = Radius::new();
        r.add(sighting("a", Severity::Low, "l:1:1", None));
        let g = &r.groups()[0];
        assert!(g.earliest.is_none() && g.latest.is_none());
    }

    #[test]
    fn urls_for_links_are_checked() {
        assert_eq!(
            first_url("Revoke it at https://github.com/settings/tokens (or ask)."),
            Some("https://github.com/settings/tokens")
        );
        assert_eq!(first_url("no link"), None);
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("https://x\"onmouseover=1"));
    }
}

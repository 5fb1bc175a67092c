//! One self-contained HTML page for incident response: which secrets, where each one spread,
//! what to rotate first.
//!
//! The page is a single file that opens from disk and never touches the network: styles and
//! the small sorting/filtering script are inline (`assets/report.css`, `assets/report.js`,
//! embedded at build time), the chart is inline SVG, and there are no fonts, images or links
//! to load. A Content-Security-Policy in the page says the same to the browser: nothing may be
//! fetched, and the only script allowed to run is ours, pinned by its SHA-256 hash.
//!
//! Layout, top to bottom: a summary (secrets, places, severities, what the scans covered), the
//! secrets to rotate first, a bar chart of places by artifact kind, the secrets table (ordered
//! by severity then spread, sortable by any column, filterable by text, severity and artifact
//! kind; each row opens onto the secret's provider, remediation link, fingerprint and its
//! places as a tree: bundle › layer › file › line, from the origin chain), the results merged
//! and the scans' warnings.
//!
//! Everything that comes from the input (paths, contexts, rule text, result names) is
//! HTML-escaped by [`esc`] where it is written; the script never parses HTML. Links are made
//! only from `http(s)` URLs. Secrets are masked unless [`Results::show_secrets`].
//!
//! The page is the same bytes for the same results: no clock, no random ids.

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::results::{Results, human_bytes};
use crate::finding::Validation;
use crate::finding::artifact::{segment_kind, segment_label};
use crate::finding::radius::{Place, SecretGroup, is_web_url, plural};
use crate::finding::seen::Seen;
use crate::finding::verification::Status;
use crate::rules::Severity;

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

/// How many secrets the "rotate first" list shows.
const ROTATE_FIRST: usize = 5;

/// Places shown in one secret's tree (a key in every line of a huge log would make a page
/// no browser opens); the count is always exact.
pub const PLACES_PER_SECRET: usize = 2000;

/// Places shown in all trees together; past it, each further secret shows
/// [`PLACES_PAST_BUDGET`]. Counts stay exact and the JSON result has every place.
pub const PLACES_IN_PAGE: usize = 20_000;

/// Places shown per secret once [`PLACES_IN_PAGE`] is spent.
pub const PLACES_PAST_BUDGET: usize = 3;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Options of the HTML page.
#[derive(Debug, Clone)]
pub struct HtmlOptions {
    /// The page title.
    pub title: String,
}

impl Default for HtmlOptions {
    fn default() -> HtmlOptions {
        HtmlOptions {
            title: "ferret: secrets report".into(),
        }
    }
}

/// The script's CSP source: `'sha256-…'` of the exact script text.
fn script_hash() -> String {
    let digest = Sha256::digest(JS.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// `2024-05-01 12:00:03 UTC` or `layer 3`.
fn seen_text(seen: &Seen) -> String {
    match seen {
        Seen::Time { at, .. } => at.replacen('T', " ", 1).replace('Z', " UTC"),
        Seen::Layer { index } => format!("layer {index}"),
    }
}

fn seen_from(seen: &Seen) -> String {
    match seen {
        Seen::Time { from, .. } => from.clone(),
        Seen::Layer { .. } => "layer order".into(),
    }
}

/// A badge for a verified secret (`LIVE`, `invalid`, `unknown`), or nothing.
fn verdict_badge(g: &SecretGroup) -> String {
    let Some(v) = &g.secret.verification else {
        return String::new();
    };
    let text = match v.status {
        Status::Live => "LIVE".to_string(),
        _ => v.label(),
    };
    let mut title = format!("verification: {}", v.label());
    if !v.host.is_empty() {
        title.push_str(&format!(" at {}", v.host));
    }
    if !v.checked_at.is_empty() {
        title.push_str(&format!(", {}", v.checked_at));
    }
    format!(
        " <span class=\"verdict verdict-{}\" title=\"{}\">{}</span>",
        v.status,
        esc(&title),
        esc(&text)
    )
}

/// The secret as the page shows it.
fn shown(g: &SecretGroup) -> &str {
    g.secret.secret.as_deref().unwrap_or(&g.secret.masked)
}

/// Writes the page.
pub fn render(results: &Results, opts: &HtmlOptions) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let title = esc(&opts.title);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:; script-src {}; base-uri 'none'; \
         form-action 'none'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"generator\" content=\"ferret {}\">\n<title>{title}</title>\n\
         <style>\n{CSS}</style>\n</head>\n<body>\n",
        script_hash(),
        env!("CARGO_PKG_VERSION"),
    );
    header(&mut h, results, &title);
    h.push_str("<main>\n");
    banners(&mut h, results);
    summary(&mut h, results);
    rotate_first(&mut h, results);
    chart(&mut h, results);
    table(&mut h, results);
    inputs(&mut h, results);
    h.push_str("</main>\n");
    let _ = write!(
        h,
        "<footer>Written by ferret {}. {}</footer>\n<script>{JS}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        if results.show_secrets {
            "This page shows secrets in clear: keep it as you would keep the secrets."
        } else {
            "Secrets are masked; this page still says where they are: share it with care."
        }
    );
    h
}

fn header(h: &mut String, r: &Results, title: &str) {
    let labels: Vec<String> = r.inputs.iter().map(|i| esc(&i.label)).collect();
    let from = match labels.len() {
        0 => String::new(),
        1..=4 => format!(" · from {}", labels.join(", ")),
        n => format!(" · merged from {n} results"),
    };
    let _ = writeln!(
        h,
        "<header><h1>{title}</h1><p class=\"meta\">{} secret{} in {} place{}{from}</p></header>",
        r.groups.len(),
        if r.groups.len() == 1 { "" } else { "s" },
        r.places(),
        if r.places() == 1 { "" } else { "s" },
    );
}

fn banners(h: &mut String, r: &Results) {
    if r.show_secrets {
        h.push_str(
            "<p class=\"banner danger\" id=\"clear-secrets\"><strong>Secrets are shown in \
             clear.</strong> Keep this file as you would keep the secrets themselves.</p>\n",
        );
    }
    if !r.problems.is_empty() {
        let _ = write!(
            h,
            "<div class=\"banner warn\" id=\"problems\"><strong>{} problem{} reading the \
             results</strong>: this report may be incomplete.<ul>",
            r.problems.len(),
            if r.problems.len() == 1 { "" } else { "s" }
        );
        for p in &r.problems {
            let _ = write!(h, "<li>{}</li>", esc(p));
        }
        h.push_str("</ul></div>\n");
    }
    let scanned = r.scanned();
    if scanned.errors > 0 {
        let _ = writeln!(
            h,
            "<p class=\"banner warn\">{} item{} could not be scanned completely: see the \
             warnings at the end. Secrets there are not in this report.</p>",
            scanned.errors,
            if scanned.errors == 1 { "" } else { "s" }
        );
    }
}

fn summary(h: &mut String, r: &Results) {
    h.push_str("<section id=\"summary\" class=\"cards\">\n");
    let card = |h: &mut String, id: &str, n: String, label: &str| {
        let _ = writeln!(
            h,
            "<div class=\"card\" id=\"{id}\"><span class=\"n\">{n}</span><span class=\"l\">{label}</span></div>"
        );
    };
    card(h, "count-secrets", r.groups.len().to_string(), "secrets");
    if r.verified() {
        card(h, "count-live", r.live().to_string(), "verified live");
    }
    card(
        h,
        "count-places",
        r.places().to_string(),
        "places they reached",
    );
    for (sev, n) in r.by_severity() {
        let _ = writeln!(
            h,
            "<div class=\"card\" id=\"count-{sev}\"><span class=\"n\">{n}</span>\
             <span class=\"sev sev-{sev}\">{sev}</span></div>"
        );
    }
    let passed = r
        .groups
        .iter()
        .filter(|g| g.secret.validation == Validation::Passed)
        .count();
    if passed > 0 {
        card(
            h,
            "count-validated",
            passed.to_string(),
            "pass their checksum",
        );
    }
    let spread = r.groups.iter().filter(|g| g.artifacts.len() > 1).count();
    card(
        h,
        "count-spread",
        spread.to_string(),
        "reached more than one kind of artifact",
    );
    let s = r.scanned();
    if r.inputs.iter().any(|i| i.summary.is_some()) {
        card(
            h,
            "count-files",
            s.files.to_string(),
            &format!("files scanned ({})", human_bytes(s.bytes)),
        );
    }
    h.push_str("</section>\n");
}

fn rotate_first(h: &mut String, r: &Results) {
    if r.groups.is_empty() {
        h.push_str(
            "<section id=\"rotate\"><h2>Nothing to rotate</h2><p>No secret was found in \
             these results.</p></section>\n",
        );
        return;
    }
    let order = if r.verified() {
        "<p class=\"meta\">Live secrets first (verified against their services), then by severity.</p>"
    } else {
        ""
    };
    let _ = write!(
        h,
        "<section id=\"rotate\"><h2>Rotate first</h2>{order}\n<ol class=\"rotate\">\n"
    );
    for (i, g) in r.groups.iter().take(ROTATE_FIRST).enumerate() {
        let s = &g.secret;
        let link = s
            .remediation_link()
            .map(|u| {
                format!(
                    " · <a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">rotate at {}</a>",
                    esc(u),
                    esc(host(u))
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<li><span class=\"sev sev-{sev}\">{sev}</span>{} <a href=\"#s-{i}\"><code>{}</code></a> \
             {} · {} place{} ({}){link}</li>",
            verdict_badge(g),
            esc(shown(g)),
            esc(&s.rule_name),
            g.spread(),
            if g.spread() == 1 { "" } else { "s" },
            esc(&g.kinds_summary()),
            sev = s.severity,
        );
    }
    if r.groups.len() > ROTATE_FIRST {
        let _ = write!(
            h,
            "</ol><p>and {} more below.</p>",
            r.groups.len() - ROTATE_FIRST
        );
    } else {
        h.push_str("</ol>");
    }
    h.push_str("</section>\n");
}

/// The host of an `http(s)` URL, for link text.
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |x| x.1);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

fn chart(h: &mut String, r: &Results) {
    let rows = r.by_artifact();
    if rows.is_empty() {
        return;
    }
    let max = rows.iter().map(|x| x.1).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (130usize, 420usize, 28usize);
    let width = label_w + bar_w + 170;
    let height = rows.len() * row_h + 8;
    let described: Vec<String> = rows
        .iter()
        .map(|(k, n, _)| format!("{n} {}", plural(k.label(), *n)))
        .collect();
    let _ = writeln!(
        h,
        "<section id=\"where\"><h2>Where secrets were found</h2>\n<div class=\"chart\">\
         <svg id=\"artifact-chart\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"Places by artifact kind: {}\">",
        esc(&described.join(", "))
    );
    for (i, (kind, places, secrets)) in rows.iter().enumerate() {
        let y = 4 + i * row_h;
        let w = (bar_w * places / max).max(2);
        let _ = writeln!(
            h,
            "<g class=\"kind-{k}\" data-kind=\"{k}\" data-places=\"{places}\" data-secrets=\"{secrets}\">\
             <title>{label}: {places} place{ps}, {secrets} secret{ss}</title>\
             <text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{ry}\" width=\"{w}\" height=\"{bh}\" rx=\"3\"></rect>\
             <text class=\"count\" x=\"{cx}\" y=\"{ty}\">{places} place{ps} · {secrets} secret{ss}</text></g>",
            k = kind.as_str(),
            label = kind.label(),
            tx = label_w - 8,
            ty = y + 17,
            ry = y + 4,
            bh = row_h - 8,
            cx = label_w + w + 8,
            ps = if *places == 1 { "" } else { "s" },
            ss = if *secrets == 1 { "" } else { "s" },
        );
    }
    h.push_str("</svg></div></section>\n");
}

fn table(h: &mut String, r: &Results) {
    h.push_str("<section id=\"table\"><h2>Secrets</h2>\n<div class=\"controls\">\n");
    h.push_str(
        "<input id=\"filter\" type=\"search\" placeholder=\"Filter: rule, provider, path, \
         context…\" aria-label=\"Filter secrets\">\n<select id=\"severity-filter\" \
         aria-label=\"Severity\"><option value=\"\">All severities</option>",
    );
    for (sev, n) in r.by_severity() {
        let _ = write!(h, "<option value=\"{sev}\">{sev} ({n})</option>");
    }
    h.push_str(
        "</select>\n<select id=\"kind-filter\" aria-label=\"Artifact kind\">\
         <option value=\"\">All artifacts</option>",
    );
    for (kind, _, secrets) in r.by_artifact() {
        let _ = write!(
            h,
            "<option value=\"{}\">{} ({secrets})</option>",
            kind.as_str(),
            kind.label()
        );
    }
    let _ = writeln!(
        h,
        "</select>\n<button id=\"expand-all\" type=\"button\" aria-pressed=\"false\">Expand all</button>\n\
         <span id=\"shown-count\" aria-live=\"polite\">{n} of {n} secrets</span>\n</div>",
        n = r.groups.len()
    );
    h.push_str(
        "<table id=\"secrets\">\n<thead><tr>\
         <th data-key=\"severity\" data-type=\"num\"><button type=\"button\">Severity</button></th>\
         <th data-key=\"secret\" data-type=\"text\"><button type=\"button\">Secret</button></th>\
         <th data-key=\"provider\" data-type=\"text\"><button type=\"button\">Provider</button></th>\
         <th data-key=\"places\" data-type=\"num\"><button type=\"button\">Places</button></th>\
         <th data-key=\"kinds-count\" data-type=\"num\"><button type=\"button\">Where</button></th>\
         <th data-key=\"first\" data-type=\"num\"><button type=\"button\">First seen</button></th>\
         <th data-key=\"last\" data-type=\"num\"><button type=\"button\">Last seen</button></th>\
         </tr></thead>\n",
    );
    // Which result reported a place is worth saying only when there are several.
    let sources = r.inputs.len() > 1;
    let mut budget = PLACES_IN_PAGE;
    for (i, g) in r.groups.iter().enumerate() {
        let shown = g
            .spread()
            .min(PLACES_PER_SECRET)
            .min(budget.max(PLACES_PAST_BUDGET));
        budget = budget.saturating_sub(shown);
        secret_rows(h, i, g, sources, shown);
    }
    h.push_str(
        "</table>\n<p id=\"no-match\" hidden>No secret matches the filter.</p>\n</section>\n",
    );
}

fn secret_rows(h: &mut String, i: usize, g: &SecretGroup, sources: bool, shown_places: usize) {
    let s = &g.secret;
    let kinds: Vec<&str> = g.artifacts.keys().map(|k| k.as_str()).collect();
    let when = |p: &Option<Place>| {
        p.as_ref()
            .and_then(|p| p.seen.as_ref())
            .map(|s| s.sort_value().to_string())
            .unwrap_or_default()
    };
    let _ = writeln!(
        h,
        "<tbody class=\"secret\" id=\"s-{i}\" data-rank=\"{i}\" data-fingerprint=\"{}\" \
         data-severity=\"{}\" data-severity-name=\"{}\" data-secret=\"{}\" data-provider=\"{}\" \
         data-places=\"{}\" data-kinds=\"{}\" data-kinds-count=\"{}\" data-first=\"{}\" data-last=\"{}\" \
         data-verification=\"{}\">",
        esc(&s.fingerprint),
        severity_rank(s.severity),
        s.severity,
        esc(&format!("{} {}", s.rule_name, s.rule_id)),
        esc(&s.provider),
        g.spread(),
        kinds.join(" "),
        kinds.len(),
        when(&g.earliest),
        when(&g.latest),
        s.verification.as_ref().map_or("", |v| v.status.as_str()),
    );
    let _ = write!(
        h,
        "<tr class=\"row\"><td><span class=\"sev sev-{sev}\">{sev}</span></td>\
         <td><button class=\"toggle\" type=\"button\" aria-expanded=\"false\" aria-controls=\"d-{i}\" \
         title=\"Show where it spread\">\u{25B8}</button><code class=\"shown\">{}</code>{}\
         <div class=\"rule\">{} · <span class=\"id\">{}</span></div></td>\
         <td class=\"provider\">{}</td><td class=\"places num\">{}</td><td class=\"kinds\">",
        esc(shown(g)),
        verdict_badge(g),
        esc(&s.rule_name),
        esc(&s.rule_id),
        esc(&s.provider),
        g.spread(),
        sev = s.severity,
    );
    for (kind, n) in g.kinds() {
        let _ = write!(
            h,
            "<span class=\"tag kind-{}\">{n} {}</span> ",
            kind.as_str(),
            plural(kind.label(), n)
        );
    }
    h.push_str("</td>");
    for (class, p) in [("first", &g.earliest), ("last", &g.latest)] {
        match p.as_ref().and_then(|p| p.seen.as_ref().map(|s| (p, s))) {
            Some((p, seen)) => {
                let _ = write!(
                    h,
                    "<td class=\"{class}\" title=\"{}\">{}<br><small>{}</small></td>",
                    esc(&p.location),
                    esc(&seen_text(seen)),
                    esc(&seen_from(seen))
                );
            }
            None => {
                let _ = write!(h, "<td class=\"{class}\">\u{2014}</td>");
            }
        }
    }
    h.push_str("</tr>\n");
    let _ = write!(
        h,
        "<tr class=\"detail\" id=\"d-{i}\" hidden><td colspan=\"7\"><dl class=\"facts\">\
         <dt>Provider</dt><dd>{}</dd><dt>Rule</dt><dd>{} (<span class=\"mono\">{}</span>)</dd>\
         <dt>Validation</dt><dd>{}</dd><dt>Fingerprint</dt><dd class=\"mono\">{}</dd>\
         <dt>Remediation</dt><dd>{}",
        esc(&s.provider),
        esc(&s.rule_name),
        esc(&s.rule_id),
        match s.validation {
            Validation::Passed => "checksum passed: very likely a real, issued secret",
            Validation::Failed => "checksum failed: probably a look-alike or a mangled copy",
            Validation::None => "no offline check for this kind of secret",
        },
        esc(&s.fingerprint),
        esc(&s.remediation),
    );
    if let Some(u) = s.remediation_link() {
        let _ = write!(
            h,
            " <a class=\"remediation\" href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">Rotate at {}</a>",
            esc(u),
            esc(host(u))
        );
    }
    h.push_str("</dd>");
    if let Some(v) = &s.verification {
        let mut text = v.label();
        if !v.host.is_empty() {
            text.push_str(&format!(" · asked {}", v.host));
        }
        if !v.checked_at.is_empty() {
            text.push_str(&format!(" at {}", v.checked_at));
        }
        if !v.identity.is_empty() {
            text.push_str(&format!(" · {}", v.identity_text()));
        }
        if !v.detail.is_empty() {
            text.push_str(&format!(" · {}", v.detail));
        }
        let _ = write!(
            h,
            "<dt>Verification</dt><dd class=\"verification\">{}</dd>",
            esc(&text)
        );
    }
    let refs: Vec<&String> = s.references.iter().filter(|r| is_web_url(r)).collect();
    if !refs.is_empty() {
        h.push_str("<dt>References</dt><dd>");
        for r in refs {
            let _ = write!(
                h,
                "<a href=\"{u}\" rel=\"noopener noreferrer\" target=\"_blank\">{u}</a><br>",
                u = esc(r)
            );
        }
        h.push_str("</dd>");
    }
    let _ = write!(
        h,
        "</dl><h4>{} place{}: {}</h4>",
        g.spread(),
        if g.spread() == 1 { "" } else { "s" },
        esc(&g.kinds_summary())
    );
    tree(h, &g.places, sources, shown_places);
    h.push_str("</td></tr>\n</tbody>\n");
}

/// A node of the location tree: one origin segment, what is inside it, and the places found
/// directly in it. Children keep their first-seen order (places come sorted by location) and
/// are found by (kind, label) through an index, so a secret in a million files stays linear.
#[derive(Default)]
struct Node<'a> {
    label: String,
    kind: String,
    children: Vec<Node<'a>>,
    index: std::collections::HashMap<(String, String), usize>,
    places: Vec<&'a Place>,
}

impl<'a> Node<'a> {
    fn insert(&mut self, segments: &[serde_json::Value], place: &'a Place) {
        let Some((first, rest)) = segments.split_first() else {
            self.places.push(place);
            return;
        };
        let label = segment_label(first);
        let kind = segment_kind(first);
        let next = self.children.len();
        let i = *self
            .index
            .entry((kind.clone(), label.clone()))
            .or_insert(next);
        if i == next {
            self.children.push(Node {
                label,
                kind,
                ..Node::default()
            });
        }
        self.children[i].insert(rest, place);
    }
}

/// Places as a tree: bundle › layer › file › line, one level per origin segment.
fn tree(h: &mut String, places: &[Place], sources: bool, shown: usize) {
    let mut root = Node::default();
    for p in places.iter().take(shown) {
        root.insert(&p.origin, p);
    }
    if places.len() > shown {
        let _ = write!(
            h,
            "<p class=\"banner warn\">The first {shown} of {} places; the JSON result \
             (or <code>ferret scan --group secret -f json</code>) lists them all.</p>",
            places.len()
        );
    }
    h.push_str("<ul class=\"tree\">");
    for c in &root.children {
        node(h, c, sources);
    }
    leaves(h, &root.places, sources);
    h.push_str("</ul>");
}

fn node(h: &mut String, n: &Node<'_>, sources: bool) {
    let kind = if n.kind == "file" || n.kind.is_empty() {
        String::new()
    } else {
        format!("<span class=\"seg-kind\">{}</span>", esc(&n.kind))
    };
    let label = if n.kind == "file" || n.kind == "stdin" {
        n.label.clone()
    } else {
        // The kind is shown on its own; the label starts with it.
        n.label
            .strip_prefix(&n.kind)
            .map(str::trim_start)
            .unwrap_or(&n.label)
            .to_string()
    };
    let _ = write!(
        h,
        "<li class=\"node\">{kind}<span class=\"seg seg-{}\">{}</span><ul>",
        esc(&css_word(&n.kind)),
        esc(&label)
    );
    for c in &n.children {
        node(h, c, sources);
    }
    leaves(h, &n.places, sources);
    h.push_str("</ul></li>");
}

fn leaves(h: &mut String, places: &[&Place], sources: bool) {
    for p in places {
        let _ = write!(
            h,
            "<li class=\"leaf\"><span class=\"pos\">line {}, column {}</span> \
             <span class=\"tag kind-{}\">{}</span>",
            p.line,
            p.column,
            p.artifact.as_str(),
            p.artifact.label()
        );
        if let Some(seen) = &p.seen {
            let _ = write!(
                h,
                " <span class=\"seen\">seen {} ({})</span>",
                esc(&seen_text(seen)),
                esc(&seen_from(seen))
            );
        }
        if sources && !p.sources.is_empty() {
            let _ = write!(
                h,
                " <span class=\"src\">in {}</span>",
                esc(&p.sources.join(", "))
            );
        }
        let _ = write!(
            h,
            "<code class=\"ctx\">{}</code></li>",
            esc(p.context.trim())
        );
    }
}

/// A word safe in a class name: letters, digits, `-` and `_`.
fn css_word(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn inputs(h: &mut String, r: &Results) {
    if r.inputs.is_empty() {
        return;
    }
    h.push_str(
        "<section id=\"inputs\"><h2>Results merged</h2>\n<table class=\"plain\"><thead><tr>\
         <th>Result</th><th>ferret</th><th>Files</th><th>Bytes</th><th>Findings</th>\
         <th>Errors</th><th>Skipped</th></tr></thead><tbody>\n",
    );
    for i in &r.inputs {
        let (files, bytes, errors, skipped) = match &i.summary {
            Some(s) => (
                s.files.to_string(),
                human_bytes(s.bytes),
                s.errors.to_string(),
                s.skipped.to_string(),
            ),
            None => ("?".into(), "?".into(), "?".into(), "?".into()),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{files}</td><td class=\"num\">{bytes}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{errors}</td><td class=\"num\">{skipped}</td></tr>",
            esc(&i.label),
            esc(i.tool_version.as_deref().unwrap_or("?")),
            i.findings,
        );
    }
    h.push_str("</tbody></table>\n");
    if r.findings_read as usize > r.places() {
        let _ = writeln!(
            h,
            "<p>{} findings read; {} were the same place reported by more than one result.</p>",
            r.findings_read,
            r.findings_read as usize - r.places()
        );
    }
    if !r.warnings.is_empty() {
        let _ = write!(
            h,
            "<details id=\"warnings\"><summary>{} warning{} from the scans</summary><ul>",
            r.warnings.len(),
            if r.warnings.len() == 1 { "" } else { "s" }
        );
        for w in &r.warnings {
            let _ = write!(
                h,
                "<li><strong>{}</strong> {}: {} <span class=\"src\">({})</span></li>",
                esc(&w.kind),
                esc(&w.path),
                esc(&w.message),
                esc(&w.input)
            );
        }
        h.push_str("</ul></details>\n");
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::Merge;
    use serde_json::json;

    #[test]
    fn escapes_everything_from_input() {
        assert_eq!(
            esc("<script>a&b\"c'</script>"),
            "&lt;script&gt;a&amp;b&quot;c&#39;&lt;/script&gt;"
        );
        let evil = "<script>window.pwned=1</script>";
        let f = json!({
            "rule_id": format!("x.{evil}"), "rule_name": evil, "severity": "high",
            "fingerprint": evil, "path": evil, "line": 1, "column": 1,
            "origin": [{"kind": "file", "path": evil}, {"kind": evil, "name": evil}],
            "masked": evil, "context": evil, "remediation": format!("{evil} javascript:alert(1)"),
            "references": ["javascript:alert(1)", evil],
        });
        let mut m = Merge::new(false);
        m.add(evil, &json!({"version": 1, "findings": [f]}).to_string())
            .unwrap();
        let page = render(&m.finish(), &HtmlOptions::default());
        assert_eq!(page.matches("<script").count(), 1, "only our own script");
        assert!(!page.contains("href=\"javascript"), "no script links");
        assert!(page.contains("&lt;script&gt;window.pwned=1&lt;/script&gt;"));
    }

    #[test]
    fn huge_spreads_are_capped_but_counted() {
        let n = PLACES_PER_SECRET + 5;
        let findings: Vec<_> = (0..n)
            .map(|i| {
                json!({"rule_id": "aws.access-key-id", "severity": "high", "fingerprint": "f",
                       "path": format!("logs/{i}.log"), "line": 1, "column": 1})
            })
            .collect();
        let mut m = Merge::new(false);
        m.add(
            "big.json",
            &json!({"version": 1, "findings": findings}).to_string(),
        )
        .unwrap();
        let page = render(&m.finish(), &HtmlOptions::default());
        assert_eq!(
            page.matches("<li class=\"leaf\">").count(),
            PLACES_PER_SECRET
        );
        assert!(page.contains(&format!("The first {PLACES_PER_SECRET} of {n} places")));
        assert!(page.contains(&format!("data-places=\"{n}\"")));
    }

    #[test]
    fn script_hash_matches_the_inline_script() {
        let page = render(&Merge::new(false).finish(), &HtmlOptions::default());
        let start = page.find("<script>").unwrap() + "<script>".len();
        let end = page.rfind("</script>").unwrap();
        let digest = Sha256::digest(&page.as_bytes()[start..end]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(page.contains(&format!("script-src 'sha256-{b64}'")));
        assert!(page.contains("Nothing to rotate"));
        // No external resources.
        assert!(!page.contains(" src="));
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}

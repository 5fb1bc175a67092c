//! Markdown for CI job summaries and tickets: `ferret report --format markdown`.
//!
//! ```text
//! ferret report scan.json -f markdown >> "$GITHUB_STEP_SUMMARY"
//! ```
//!
//! The same content as the HTML page, in the order a reader acts on it: a one-line summary,
//! the secrets table most urgent first (severity, spread, first and last seen, a link to
//! rotate), places by artifact kind, then every secret's places. A summary must stay under CI
//! size limits (GitHub's is 1 MiB), so the table stops at [`MAX_SECRETS`] secrets, places are
//! listed for the first [`MAX_SECRETS_WITH_PLACES`], at most [`PLACES_PER_SECRET`] each; what
//! is left out is counted, never silently dropped.
//!
//! Text from the input is escaped by [`md`]: HTML is neutralised (GitHub renders HTML in
//! Markdown) and Markdown punctuation is backslash-escaped, so a file name cannot open a link,
//! a table cell or an image. Links are made only from `http(s)` URLs. Secrets are masked
//! unless [`Results::show_secrets`].

use std::fmt::Write as _;

use super::results::{Results, human_bytes};
use crate::finding::Validation;
use crate::finding::radius::{SecretGroup, is_web_url, plural};
use crate::finding::seen::Seen;

/// Places listed per secret; the rest are counted.
pub const PLACES_PER_SECRET: usize = 20;

/// Secrets in the table; the rest are counted (GitHub job summaries stop at 1 MiB).
pub const MAX_SECRETS: usize = 200;

/// Secrets whose places are listed.
pub const MAX_SECRETS_WITH_PLACES: usize = 50;

/// Escapes text for Markdown (GitHub-flavoured): HTML specials become entities, Markdown
/// punctuation is backslash-escaped, line breaks become spaces.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '{' | '}' | '#' | '+' | '!' | '|'
            | '~' | '$' | '^' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Inline code from input text (HTML `<code>`, so that escapes work inside it).
fn code(s: &str) -> String {
    format!("<code>{}</code>", md(s))
}

/// A Markdown link to an `http(s)` URL, or nothing.
fn link(text: &str, url: &str) -> Option<String> {
    is_web_url(url).then(|| {
        let url = url.replace('(', "%28").replace(')', "%29");
        format!("[{}]({url})", md(text))
    })
}

fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |x| x.1);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

fn seen_text(seen: Option<&Seen>) -> String {
    match seen {
        Some(Seen::Time { at, .. }) => at.replacen('T', " ", 1).replace('Z', " UTC"),
        Some(Seen::Layer { index }) => format!("layer {index}"),
        None => "\u{2014}".into(),
    }
}

/// The secret as the summary shows it.
fn shown(g: &SecretGroup) -> &str {
    g.secret.secret.as_deref().unwrap_or(&g.secret.masked)
}

/// Writes the summary.
pub fn render(results: &Results, title: &str) -> String {
    let r = results;
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n", md(title));
    let severities: Vec<String> = r
        .by_severity()
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let _ = write!(
        m,
        "**{} secret{}** in **{} place{}**",
        r.groups.len(),
        if r.groups.len() == 1 { "" } else { "s" },
        r.places(),
        if r.places() == 1 { "" } else { "s" },
    );
    if !severities.is_empty() {
        let _ = write!(m, " ({})", severities.join(", "));
    }
    let labels: Vec<String> = r.inputs.iter().map(|i| code(&i.label)).collect();
    if !labels.is_empty() {
        let _ = write!(m, " from {}", labels.join(", "));
    }
    let s = r.scanned();
    if r.inputs.iter().any(|i| i.summary.is_some()) {
        let _ = write!(
            m,
            "; {} files scanned ({}), {} error{}",
            s.files,
            human_bytes(s.bytes),
            s.errors,
            if s.errors == 1 { "" } else { "s" }
        );
    }
    m.push_str(".\n\n");
    if r.show_secrets {
        m.push_str(
            "> **Secrets are shown in clear.** Keep this text as you would keep the secrets.\n\n",
        );
    }
    if !r.problems.is_empty() {
        let _ = writeln!(
            m,
            "> **{} problem{} reading the results**; this summary may be incomplete:",
            r.problems.len(),
            if r.problems.len() == 1 { "" } else { "s" }
        );
        for p in &r.problems {
            let _ = writeln!(m, "> - {}", md(p));
        }
        m.push('\n');
    }
    if r.groups.is_empty() {
        m.push_str("No secret was found.\n");
        return m;
    }

    let verified = r.verified();
    if verified {
        let _ = writeln!(
            m,
            "**{} verified live** (checked against their services): rotate those first.\n",
            r.live()
        );
    }
    m.push_str("## Secrets, most urgent first\n\n");
    if verified {
        m.push_str(
            "| # | Severity | Verified | Secret | Rule | Places | Where | First seen | Last seen | Rotate |\n\
             |--:|---|---|---|---|--:|---|---|---|---|\n",
        );
    } else {
        m.push_str(
            "| # | Severity | Secret | Rule | Places | Where | First seen | Last seen | Rotate |\n\
             |--:|---|---|---|--:|---|---|---|---|\n",
        );
    }
    for (i, g) in r.groups.iter().enumerate().take(MAX_SECRETS) {
        let s = &g.secret;
        let check = match s.validation {
            Validation::Passed => " \u{2713}",
            Validation::Failed => " (checksum failed)",
            Validation::None => "",
        };
        let rotate = s
            .remediation_link()
            .and_then(|u| link(host(u), u))
            .unwrap_or_else(|| md(&s.remediation));
        let verdict = if verified {
            let v = s.verification.as_ref().map_or("\u{2014}".to_string(), |v| {
                if v.is_live() {
                    "**LIVE**".to_string()
                } else {
                    md(&v.label())
                }
            });
            format!(" {v} |")
        } else {
            String::new()
        };
        let _ = writeln!(
            m,
            "| {} | {} |{verdict} {}{check} | {} | {} | {} | {} | {} | {rotate} |",
            i + 1,
            s.severity,
            code(shown(g)),
            md(&s.rule_name),
            g.spread(),
            md(&g.kinds_summary()),
            seen_text(g.earliest.as_ref().and_then(|p| p.seen.as_ref())),
            seen_text(g.latest.as_ref().and_then(|p| p.seen.as_ref())),
        );
    }

    if r.groups.len() > MAX_SECRETS {
        let _ = writeln!(
            m,
            "\n\u{2026} and {} more secrets (see the HTML report or JSON).",
            r.groups.len() - MAX_SECRETS
        );
    }
    m.push_str("\n## Where secrets were found\n\n| Artifact | Places | Secrets |\n|---|--:|--:|\n");
    for (kind, places, secrets) in r.by_artifact() {
        let _ = writeln!(m, "| {} | {places} | {secrets} |", kind.label());
    }

    m.push_str("\n## Places\n");
    for (i, g) in r.groups.iter().enumerate().take(MAX_SECRETS_WITH_PLACES) {
        let s = &g.secret;
        let _ = writeln!(
            m,
            "\n### {}. {} {} {}\n",
            i + 1,
            s.severity,
            code(shown(g)),
            md(&s.rule_name)
        );
        let _ = writeln!(
            m,
            "{} place{}: {}. Fingerprint {}. Remediation: {}",
            g.spread(),
            if g.spread() == 1 { "" } else { "s" },
            md(&g.kinds_summary()),
            code(&s.fingerprint),
            md(&s.remediation),
        );
        if let Some(l) = s.remediation_link().and_then(|u| link("rotate it here", u)) {
            let _ = write!(m, " ({l})");
        }
        m.push_str("\n\n");
        for p in g.places.iter().take(PLACES_PER_SECRET) {
            let _ = write!(m, "- {} ({}", code(&p.location), p.artifact.label());
            if let Some(seen) = &p.seen {
                let _ = write!(m, ", seen {}", seen_text(Some(seen)));
            }
            if r.inputs.len() > 1 && !p.sources.is_empty() {
                let _ = write!(m, ", in {}", md(&p.sources.join(", ")));
            }
            m.push_str(")\n");
        }
        if g.spread() > PLACES_PER_SECRET {
            let rest = g.spread() - PLACES_PER_SECRET;
            let _ = writeln!(
                m,
                "- \u{2026} and {rest} more {} (see the HTML report or JSON)",
                plural("place", rest)
            );
        }
    }
    if r.groups.len() > MAX_SECRETS_WITH_PLACES {
        let _ = writeln!(
            m,
            "\nPlaces of the other {} secrets: see the HTML report or JSON.",
            r.groups.len() - MAX_SECRETS_WITH_PLACES
        );
    }
    let _ = writeln!(
        m,
        "\n<sub>ferret {}; {}</sub>",
        env!("CARGO_PKG_VERSION"),
        if r.show_secrets {
            "secrets shown in clear"
        } else {
            "secrets masked"
        }
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::Merge;
    use serde_json::json;

    #[test]
    fn escapes_markdown_and_html() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(md("[x](javascript:1)"), "\\[x\\]\\(javascript:1\\)");
        assert_eq!(md("line\nbreak"), "line break");
        assert_eq!(link("x", "javascript:alert(1)"), None);
        assert_eq!(
            link("docs", "https://e.com/a_(b)").as_deref(),
            Some("[docs](https://e.com/a_%28b%29)")
        );
    }

    #[test]
    fn summary_lists_secrets_and_places() {
        let f = |fp: &str, sev: &str, path: &str| {
            json!({"rule_id": "github.pat.classic", "rule_name": "GitHub token", "severity": sev,
                   "fingerprint": fp, "path": path, "line": 2, "column": 3, "masked": "ghp_****",
                   "context": "t=ghp_****", "validation": "passed",
                   "remediation": "Revoke it at https://github.com/settings/tokens."})
        };
        let doc = json!({"version": 1, "findings": [
            f("a", "critical", "x|y.env"), f("a", "critical", "logs/z.log"), f("b", "high", "c.py")
        ]});
        let mut m = Merge::new(false);
        m.add("scan.json", &doc.to_string()).unwrap();
        let text = render(&m.finish(), "ferret");
        assert!(
            text.contains("**2 secrets** in **3 places** (1 critical, 1 high)"),
            "{text}"
        );
        assert!(text.contains(
            "| 1 | critical | <code>ghp\\_\\*\\*\\*\\*</code> \u{2713} | GitHub token | 2 | 1 log line, 1 config file |"
        ), "{text}");
        assert!(text.contains("[github.com](https://github.com/settings/tokens)"));
        assert!(
            text.contains("- <code>x\\|y.env:2:3</code> (config file)"),
            "{text}"
        );
        assert!(text.contains("| log line | 1 | 1 |"));
    }
}

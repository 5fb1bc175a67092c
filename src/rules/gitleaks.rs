//! gitleaks (and Betterleaks) rule files, translated to ferret rules.
//!
//! A team's custom rules are usually written for gitleaks: a TOML file of `[[rules]]` with an
//! `id`, a Go (RE2) `regex`, an optional `secretGroup`, `keywords`, `entropy` and `allowlists`.
//! [`translate`] turns each into a [`RuleSpec`] and says what it could not carry over, as
//! warnings that the command line prints: a rule that cannot work in ferret is skipped with a
//! warning, a part that only narrows a rule (a path filter, a commit allowlist) is dropped with
//! one, and nothing is ignored silently.
//!
//! What changes in translation:
//!
//! - **The secret group.** ferret names it: `secretGroup = N` renames the N-th group to
//!   `secret`; without it gitleaks takes the first non-empty group, which ferret does when the
//!   regex has one group (and takes group 1, with a warning, when it has several), or the whole
//!   match when there is none.
//! - **Keywords.** gitleaks runs a rule on a whole file that holds a keyword; ferret runs it
//!   near the keyword, so the keyword must be inside every match (the keyword contract). When the
//!   given keywords are not provably there, or there are none, ferret derives keywords from the
//!   literals every match must contain; when it cannot, the rule is kept with a warning (or
//!   skipped when it has no keyword at all).
//! - **Go regex syntax.** RE2 and Rust's regex agree on almost everything; `\Q…\E` quoting and
//!   `\C` are rewritten, and a regex that still does not compile (Unicode classes such as `\pL`,
//!   which ferret's byte regexes do not support) makes the rule skipped with the error.
//! - **Allowlists.** `regexes` (with `regexTarget` secret, match or line) and `stopwords`
//!   carry over, for the rule's own allowlists and the global ones (`targetRules` respected);
//!   `paths` and `commits` do not apply to ferret's scans and are reported; an allowlist with
//!   `condition = "AND"` over several kinds cannot be expressed and is dropped (more findings,
//!   never fewer).
//! - **Other fields.** `path`-only rules are skipped, `path` on a regex rule is dropped (the rule
//!   then runs on every file), `required` companions are dropped (the rule reports alone),
//!   `skipReport` rules are skipped, `[extend]` is reported (ferret's built-in rules play the part
//!   of gitleaks's defaults), `tags` and `description` are kept as the rule's name only.

use std::collections::{BTreeMap, BTreeSet};

use regex_syntax::ast::{self, Ast};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::rules::{AllowPattern, AllowTarget, RuleSpec, Severity};

/// Rules translated from one gitleaks file, and what could not be.
#[derive(Debug, Clone, Default)]
pub struct Translation {
    /// The rules that work in ferret.
    pub rules: Vec<RuleSpec>,
    /// What was dropped or changed, one line each, naming the rule.
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    extend: Option<toml::Value>,
    #[serde(default)]
    allowlist: Option<Allowlist>,
    #[serde(default)]
    allowlists: Vec<Allowlist>,
    #[serde(default)]
    rules: Vec<GRule>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GRule {
    id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    allowlist: Option<Allowlist>,
    #[serde(default)]
    allowlists: Vec<Allowlist>,
    #[serde(default)]
    required: Option<toml::Value>,
    #[serde(default)]
    skip_report: bool,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Allowlist {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    target_rules: Vec<String>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

/// Whether `text` is a gitleaks-format file: a top-level `rules` array and no `rule` (ferret's
/// own format uses `[[rule]]`).
pub fn looks_like(text: &str) -> bool {
    toml::from_str::<toml::Table>(text)
        .is_ok_and(|t| t.get("rules").is_some_and(|r| r.is_array()) && !t.contains_key("rule"))
}

/// Translates a gitleaks rule file. `origin` names it in warnings and remediation text. Errors
/// only when the file is not valid TOML of that shape; every per-rule problem is a warning.
pub fn translate(text: &str, origin: &str) -> Result<Translation> {
    let file: File = toml::from_str(text).map_err(|e| Error::RulesParse {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    let mut out = Translation::default();
    let mut warn = |w: String| out.warnings.push(format!("{origin}: {w}"));
    let _ = &file.title;
    if let Some(extend) = &file.extend {
        warn(format!(
            "[extend] {} is not used: ferret's built-in rules take the place of gitleaks's \
             default rules (drop them with --no-builtin-rules)",
            toml::to_string(extend)
                .unwrap_or_default()
                .replace('\n', " ")
                .trim()
        ));
    }
    for key in file.other.keys() {
        warn(format!(
            "top-level field `{key}` is not supported and was ignored"
        ));
    }
    let globals: Vec<Allowlist> = file
        .allowlist
        .iter()
        .chain(file.allowlists.iter())
        .cloned()
        .collect();
    let mut seen = BTreeSet::new();
    let mut unbounded = 0;
    for rule in &file.rules {
        let Some(id) = rule.id.as_deref().filter(|i| !i.trim().is_empty()) else {
            warn("a rule without an `id` was skipped".into());
            continue;
        };
        let ferret_id = sanitize_id(id);
        if !seen.insert(ferret_id.clone()) {
            warn(format!(
                "rule {id}: defined twice; the later definition was skipped"
            ));
            continue;
        }
        let mut rule_warn = |w: String| warn(format!("rule {id}: {w}"));
        match translate_rule(rule, &ferret_id, origin, &globals, &mut rule_warn) {
            Some(spec) => {
                if crate::rules::regex::max_len(&spec.regex)
                    .ok()
                    .flatten()
                    .is_none()
                {
                    unbounded += 1;
                }
                out.rules.push(spec);
            }
            None => continue,
        }
    }
    if unbounded > 0 {
        out.warnings.push(format!(
            "{origin}: {unbounded} rule(s) have regexes of unbounded length (`+`, `*`): ferret \
             searches them within {} bytes of a keyword",
            crate::rules::regex::UNBOUNDED_RADIUS
        ));
    }
    Ok(out)
}

fn translate_rule(
    rule: &GRule,
    id: &str,
    origin: &str,
    globals: &[Allowlist],
    warn: &mut dyn FnMut(String),
) -> Option<RuleSpec> {
    for key in rule.other.keys() {
        warn(format!("field `{key}` is not supported and was ignored"));
    }
    if rule.skip_report {
        warn("skipReport rules only serve other rules' `required`; skipped".into());
        return None;
    }
    let Some(regex) = rule.regex.as_deref().filter(|r| !r.is_empty()) else {
        warn(match &rule.path {
            Some(p) => {
                format!("matches file paths only (path = {p:?}), which ferret does not do; skipped")
            }
            None => "has no regex; skipped".into(),
        });
        return None;
    };
    if let Some(p) = &rule.path {
        warn(format!(
            "path filter {p:?} was dropped: the rule runs on every file"
        ));
    }
    if rule.required.is_some() {
        warn("`required` companion rules were dropped: the rule reports on its own".into());
    }
    let _ = &rule.tags;
    let pattern = match go_to_rust(regex) {
        Ok(p) => p,
        Err(e) => {
            warn(format!("regex cannot be translated ({e}); skipped"));
            return None;
        }
    };
    let pattern = match with_secret_group(&pattern, rule.secret_group, warn) {
        Ok(p) => p,
        Err(e) => {
            warn(format!("{e}; skipped"));
            return None;
        }
    };
    if let Err(e) = crate::rules::regex::RuleRegex::new(&pattern) {
        warn(format!(
            "regex does not compile in ferret ({}); skipped",
            e.lines().last().unwrap_or(&e).trim()
        ));
        return None;
    }
    let keywords = keywords_for(&pattern, &rule.keywords, warn)?;

    let mut allow = Vec::new();
    let mut stopwords = Vec::new();
    let own = rule.allowlist.iter().chain(rule.allowlists.iter());
    let global = globals
        .iter()
        .filter(|g| g.target_rules.is_empty() || g.target_rules.iter().any(|t| t == id_of(rule)));
    for (a, scope) in own
        .map(|a| (a, "allowlist"))
        .chain(global.map(|a| (a, "global allowlist")))
    {
        translate_allowlist(a, scope, &mut allow, &mut stopwords, warn);
    }
    let name = rule
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| id_of(rule).to_string());
    Some(RuleSpec {
        id: id.to_string(),
        remediation: format!(
            "Revoke or rotate this credential where it was issued (rule {} from gitleaks file {origin}).",
            id_of(rule)
        ),
        name,
        keywords,
        regex: pattern,
        // gitleaks drops a secret whose entropy is <= the threshold; ferret drops < min.
        entropy: rule.entropy.map(|e| e + 1e-9),
        validator: None,
        require_valid: false,
        generic: false,
        severity: Severity::High,
        references: Vec::new(),
        examples: Vec::new(),
        counterexamples: Vec::new(),
        allow,
        stopwords,
        verify: None,
    })
}

fn id_of(rule: &GRule) -> &str {
    rule.id.as_deref().unwrap_or_default()
}

fn translate_allowlist(
    a: &Allowlist,
    scope: &str,
    allow: &mut Vec<AllowPattern>,
    stopwords: &mut Vec<String>,
    warn: &mut dyn FnMut(String),
) {
    let label = a
        .description
        .as_deref()
        .map(|d| format!("{scope} {d:?}"))
        .unwrap_or_else(|| scope.to_string());
    for key in a.other.keys() {
        warn(format!(
            "{label}: field `{key}` is not supported and was ignored"
        ));
    }
    let kinds = [
        !a.regexes.is_empty(),
        !a.stopwords.is_empty(),
        !a.paths.is_empty(),
        !a.commits.is_empty(),
    ]
    .iter()
    .filter(|&&k| k)
    .count();
    if a.condition
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("and"))
        && kinds > 1
    {
        warn(format!(
            "{label}: condition AND over several kinds cannot be expressed; the allowlist was \
             dropped (ferret reports what it would have excused)"
        ));
        return;
    }
    if !a.paths.is_empty() {
        warn(format!(
            "{label}: path allowlist {:?} was dropped (use --exclude to skip files)",
            a.paths
        ));
    }
    if !a.commits.is_empty() {
        warn(format!(
            "{label}: commit allowlist ({} commits) does not apply to file scans and was dropped",
            a.commits.len()
        ));
    }
    let target = match a.regex_target.as_deref() {
        None | Some("secret") => AllowTarget::Secret,
        Some("match") => AllowTarget::Match,
        Some("line") => AllowTarget::Line,
        Some(other) => {
            warn(format!(
                "{label}: unknown regexTarget {other:?}; its regexes were dropped"
            ));
            return;
        }
    };
    for r in &a.regexes {
        match go_to_rust(r).and_then(|p| {
            crate::rules::regex::compile_plain(&p)
                .map(|_| p)
                .map_err(|e| e.lines().last().unwrap_or(&e).trim().to_string())
        }) {
            Ok(p) => allow.push(AllowPattern { regex: p, target }),
            Err(e) => warn(format!("{label}: regex {r:?} dropped ({e})")),
        }
    }
    stopwords.extend(a.stopwords.iter().filter(|w| !w.is_empty()).cloned());
}

/// A ferret rule id from a gitleaks one: lowercase, with characters ferret ids do not allow
/// replaced by `-`.
fn sanitize_id(id: &str) -> String {
    id.trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Rewrites the RE2 syntax Rust's regex lacks: `\Q…\E` (quoted text) and `\C` (any byte).
pub fn go_to_rust(pattern: &str) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.char_indices().peekable();
    let mut in_class = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let Some(&(_, next)) = chars.peek() else {
                    return Err("trailing backslash".into());
                };
                chars.next();
                match next {
                    'Q' if !in_class => {
                        let rest = &pattern[i + 2..];
                        let end = rest.find("\\E").unwrap_or(rest.len());
                        out.push_str(&regex_syntax::escape(&rest[..end]));
                        let skip = (end + 2).min(rest.len());
                        let target = i + 2 + skip;
                        while chars.peek().is_some_and(|&(j, _)| j < target) {
                            chars.next();
                        }
                    }
                    'C' if !in_class => out.push_str("(?s-u:.)"),
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` or `^]` right after the opening bracket is literal.
                if chars.peek().is_some_and(|&(_, n)| n == '^') {
                    chars.next();
                    out.push('^');
                }
                if chars.peek().is_some_and(|&(_, n)| n == ']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// The capture groups of a regex, in order: `(index, byte offset of the group's "(", name)`.
fn groups(
    pattern: &str,
) -> std::result::Result<Vec<(u32, usize, Option<ast::CaptureName>)>, String> {
    struct V(Vec<(u32, usize, Option<ast::CaptureName>)>);
    impl ast::Visitor for V {
        type Output = Vec<(u32, usize, Option<ast::CaptureName>)>;
        type Err = ();
        fn finish(self) -> std::result::Result<Self::Output, ()> {
            Ok(self.0)
        }
        fn visit_pre(&mut self, ast: &Ast) -> std::result::Result<(), ()> {
            if let Ast::Group(g) = ast {
                match &g.kind {
                    ast::GroupKind::CaptureIndex(i) => self.0.push((*i, g.span.start.offset, None)),
                    ast::GroupKind::CaptureName { name, .. } => {
                        self.0
                            .push((name.index, g.span.start.offset, Some(name.clone())))
                    }
                    ast::GroupKind::NonCapturing(_) => {}
                }
            }
            Ok(())
        }
    }
    let ast = ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| e.kind().to_string())?;
    let mut v = ast::visit(&ast, V(Vec::new())).unwrap_or_default();
    v.sort_by_key(|g| g.0);
    Ok(v)
}

/// The pattern with the secret group named `secret` (see the module docs).
fn with_secret_group(
    pattern: &str,
    secret_group: Option<usize>,
    warn: &mut dyn FnMut(String),
) -> std::result::Result<String, String> {
    let groups = groups(pattern)?;
    let target = match secret_group {
        Some(0) | None if groups.is_empty() => None,
        Some(0) => None,
        Some(n) => {
            if n > groups.len() {
                return Err(format!(
                    "secretGroup = {n} but the regex has {} groups",
                    groups.len()
                ));
            }
            Some(n)
        }
        None => {
            if groups.len() > 1 {
                warn(format!(
                    "secretGroup is not set and the regex has {} groups: gitleaks takes the first \
                     non-empty one, ferret takes group 1",
                    groups.len()
                ));
            }
            Some(1)
        }
    };
    // Free the name `secret` if a group other than the target has it.
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (index, _, name) in &groups {
        if let Some(n) = name
            && n.name == "secret"
            && Some(*index as usize) != target
        {
            edits.push((n.span.start.offset..n.span.end.offset, "secret_orig".into()));
        }
    }
    let mut out;
    match target {
        None => {
            out = pattern.to_string();
            apply(&mut out, &mut edits);
            out = format!("(?P<secret>{out})");
        }
        Some(n) => {
            let (_, open, name) = &groups[n - 1];
            match name {
                Some(cn) => edits.push((cn.span.start.offset..cn.span.end.offset, "secret".into())),
                None => edits.push((open + 1..open + 1, "?P<secret>".into())),
            }
            out = pattern.to_string();
            apply(&mut out, &mut edits);
        }
    }
    Ok(out)
}

fn apply(s: &mut String, edits: &mut [(std::ops::Range<usize>, String)]) {
    edits.sort_by_key(|e| std::cmp::Reverse(e.0.start));
    for (range, text) in edits.iter() {
        s.replace_range(range.clone(), text);
    }
}

/// Keywords that keep the keyword contract for `pattern`: the given ones when every match
/// provably holds one of them, else literals derived from the regex. `None` (with a warning)
/// when the rule cannot run.
fn keywords_for(
    pattern: &str,
    given: &[String],
    warn: &mut dyn FnMut(String),
) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .build()
        .parse(pattern)
        .ok()?;
    let given: Vec<String> = given
        .iter()
        .map(|k| k.to_ascii_lowercase())
        .filter(|k| {
            if k.len() < 3 {
                warn(format!(
                    "keyword {k:?} is shorter than 3 bytes and was dropped (it would hit everywhere)"
                ));
            }
            k.len() >= 3
        })
        .collect();
    if !given.is_empty() && always_contains(&hir, &given) {
        return Some(given);
    }
    match required_literals(&hir) {
        Some(derived) => {
            if given.is_empty() {
                warn(format!("no keywords: derived {derived:?} from the regex"));
            } else {
                warn(format!(
                    "keywords {given:?} are not inside every match (gitleaks looks for them \
                     anywhere in the file, ferret only near matches); using {derived:?} from \
                     the regex instead"
                ));
            }
            Some(derived)
        }
        None if !given.is_empty() => {
            warn(format!(
                "keywords {given:?} are not provably inside every match and no literal could be \
                 derived from the regex: matches far from a keyword are missed"
            ));
            Some(given)
        }
        None => {
            warn(
                "no keywords, and the regex has no literal of 3 or more bytes that every match \
                 contains; skipped (add `keywords`)"
                    .into(),
            );
            None
        }
    }
}

/// Whether every match of `hir` contains one of `keywords` (ASCII case-insensitively). Sound,
/// not complete: `false` means "not proven".
fn always_contains(hir: &Hir, keywords: &[String]) -> bool {
    match hir.kind() {
        HirKind::Capture(c) => always_contains(&c.sub, keywords),
        HirKind::Repetition(r) => r.min >= 1 && always_contains(&r.sub, keywords),
        HirKind::Alternation(alts) => alts.iter().all(|a| always_contains(a, keywords)),
        HirKind::Concat(children) => {
            if children.iter().any(|c| always_contains(c, keywords)) {
                return true;
            }
            // A run of pieces with few possible texts (literals, small classes like `[Kk]` or
            // `[op]`): every text the run can spell holds a keyword.
            let mut run: Vec<String> = vec![String::new()];
            for c in children {
                match small_set(c) {
                    Some(texts) if run.len() * texts.len() <= 256 => {
                        run = run
                            .iter()
                            .flat_map(|r| texts.iter().map(move |t| format!("{r}{t}")))
                            .collect();
                        if run
                            .iter()
                            .all(|r| keywords.iter().any(|k| r.contains(k.as_str())))
                        {
                            return true;
                        }
                    }
                    _ => run = vec![String::new()],
                }
            }
            false
        }
        HirKind::Literal(lit) => {
            let text = String::from_utf8_lossy(&lit.0).to_ascii_lowercase();
            keywords.iter().any(|k| text.contains(k.as_str()))
        }
        _ => false,
    }
}

/// The few lowercase texts `hir` can match (a literal, a class of at most 4 bytes once case is
/// folded, an alternation or group of those), or `None`.
fn small_set(hir: &Hir) -> Option<Vec<String>> {
    match hir.kind() {
        HirKind::Literal(lit) => Some(vec![String::from_utf8_lossy(&lit.0).to_ascii_lowercase()]),
        HirKind::Class(regex_syntax::hir::Class::Bytes(c)) => {
            let mut bytes: BTreeSet<u8> = BTreeSet::new();
            for r in c.iter() {
                if usize::from(r.end() - r.start()) > 8 {
                    return None;
                }
                bytes.extend((r.start()..=r.end()).map(|b| b.to_ascii_lowercase()));
            }
            (bytes.len() <= 4).then(|| bytes.iter().map(|&b| (b as char).to_string()).collect())
        }
        HirKind::Capture(c) => small_set(&c.sub),
        HirKind::Alternation(alts) => {
            let mut all = Vec::new();
            for a in alts {
                all.extend(small_set(a)?);
            }
            (all.len() <= 16).then_some(all)
        }
        HirKind::Concat(children) => {
            let mut run = vec![String::new()];
            for c in children {
                let texts = small_set(c)?;
                if run.len() * texts.len() > 16 {
                    return None;
                }
                run = run
                    .iter()
                    .flat_map(|r| texts.iter().map(move |t| format!("{r}{t}")))
                    .collect();
            }
            Some(run)
        }
        _ => None,
    }
}

/// A small set of literals (each 3+ bytes, lowercased) one of which every match of `hir`
/// contains: the prefix literals of the longest-guaranteed part of the top-level concatenation.
fn required_literals(hir: &Hir) -> Option<Vec<String>> {
    let parts: Vec<Hir> = match hir.kind() {
        HirKind::Concat(children) => children.clone(),
        _ => vec![hir.clone()],
    };
    let mut best: Option<(usize, Vec<String>)> = None;
    for i in 0..parts.len() {
        if parts[i].properties().minimum_len().unwrap_or(0) == 0 {
            continue;
        }
        let rest = Hir::concat(parts[i..].to_vec());
        let seq = Extractor::new()
            .kind(ExtractKind::Prefix)
            .limit_class(4)
            .limit_literal_len(32)
            .limit_total(64)
            .extract(&rest);
        let Some(lits) = seq.literals() else {
            continue;
        };
        if lits.is_empty() {
            continue;
        }
        let mut set: BTreeSet<String> = BTreeSet::new();
        for l in lits {
            set.insert(String::from_utf8_lossy(l.as_bytes()).to_ascii_lowercase());
        }
        let min = set.iter().map(String::len).min().unwrap_or(0);
        if min >= 3 && set.len() <= 16 && best.as_ref().is_none_or(|(m, _)| min > *m) {
            best = Some((min, set.into_iter().collect()));
        }
    }
    best.map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
title = "acme"

[extend]
useDefault = true

[[rules]]
id = "acme-api-key"
description = "ACME API key"
regex = '''(?i)(?:acme)(?:[0-9a-z\-_\t .]{0,20})(?:[\s|']|[\s|"]){0,3}(?:=|>|:{1,3}=|\|\|:|<=|=>|:|\?=)(?:'|\"|\s|=|\x60){0,5}([a-z0-9]{32})(?:['|\"|\n|\r|\s|\x60|;]|$)'''
secretGroup = 1
entropy = 3.0
keywords = ["acme"]
tags = ["acme"]
[[rules.allowlists]]
regexes = ['''^0+$''']
stopwords = ["sample"]
paths = ['''test/.*''']

[[rules]]
id = "internal-token"
regex = '''itk_[A-Za-z0-9]{24}'''

[[rules]]
id = "pem-files"
path = '''\.pem$'''

[[rules]]
id = "unicode"
regex = '''\pL{10}secret'''
keywords = ["secret"]

[[rules]]
id = "quoted"
regex = '''\Qa.b+c\E([0-9]{8})'''
keywords = ["a.b+c"]

[[allowlists]]
description = "global"
stopwords = ["example"]
commits = ["abc123"]
"#;

    #[test]
    fn translates_rules_and_reports_what_it_drops() {
        assert!(looks_like(FILE));
        assert!(!looks_like("[[rule]]\nid = \"x\"\n"));
        let t = translate(FILE, "acme.toml").unwrap();
        let ids: Vec<&str> = t.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["acme-api-key", "internal-token", "quoted"]);
        let acme = &t.rules[0];
        assert!(
            acme.regex.contains("(?P<secret>[a-z0-9]{32})"),
            "{}",
            acme.regex
        );
        assert_eq!(acme.keywords, ["acme"]);
        assert_eq!(acme.stopwords, ["sample", "example"]);
        assert_eq!(acme.allow.len(), 1);
        // Derived keyword, whole match as the secret.
        assert_eq!(t.rules[1].keywords, ["itk_"]);
        assert!(t.rules[1].regex.starts_with("(?P<secret>"));
        assert_eq!(t.rules[2].regex, r"a\.b\+c(?P<secret>[0-9]{8})");
        let w = t.warnings.join("\n");
        for expected in [
            "[extend]",
            "path allowlist",
            "pem-files: matches file paths only",
            "unicode: regex does not compile",
            "commit allowlist",
            "internal-token: no keywords: derived",
        ] {
            assert!(w.contains(expected), "missing {expected:?} in:\n{w}");
        }
    }

    #[test]
    fn secret_groups_are_named() {
        let mut w = Vec::new();
        let mut warn = |s: String| w.push(s);
        assert_eq!(
            with_secret_group("a(b)(c)", Some(2), &mut warn).unwrap(),
            "a(b)(?P<secret>c)"
        );
        assert_eq!(
            with_secret_group("a(?P<tok>b)", None, &mut warn).unwrap(),
            "a(?P<secret>b)"
        );
        assert_eq!(
            with_secret_group("(?i)abc", None, &mut warn).unwrap(),
            "(?P<secret>(?i)abc)"
        );
        assert_eq!(
            with_secret_group("(x)(y)", None, &mut warn).unwrap(),
            "(?P<secret>x)(y)"
        );
        assert!(with_secret_group("(x)", Some(3), &mut warn).is_err());
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn keyword_contract_is_checked() {
        let hir = |p: &str| {
            regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(p)
                .unwrap()
        };
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(always_contains(&hir("(?i)token=[a-z]+"), &k(&["token"])));
        assert!(always_contains(
            &hir("(?:ghp|gho)_[a-z]{3}"),
            &k(&["ghp_", "gho_"])
        ));
        assert!(!always_contains(&hir("[a-f0-9]{32}"), &k(&["heroku"])));
        assert_eq!(
            required_literals(&hir("[0-9]{3}xoxb-[0-9]+")),
            Some(vec!["xoxb-".to_string()])
        );
    }
}

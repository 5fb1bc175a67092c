//! Reports: findings to bytes for people and machines.
//!
//! A [`Reporter`] receives findings as the scan produces them, warnings as they happen, and the
//! summary at the end. Formats that promise a deterministic order (text, JSON, SARIF) buffer
//! and sort at `finish`; JSONL writes each finding the moment it arrives.
//!
//! Secrets are masked in text and SARIF and left out of JSON and JSONL unless
//! [`ReportOptions::show_secrets`] is set: a scanner's report must not become the next leak.
//!
//! With [`Group::Secret`] (`--group secret`) reports are organised by secret instead of by
//! finding: the blast radius of [`crate::finding::radius`]. `ferret report` reads JSON results
//! back ([`results`]) and writes them as one HTML page ([`html`]) or Markdown ([`markdown`]).

pub mod gitlab;
pub mod html;
pub mod json;
pub mod markdown;
pub mod results;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use crate::finding::Finding;
use crate::finding::history;
use crate::finding::mask;
use crate::finding::radius::{Radius, SecretGroup, Sighting};
use crate::rules::RuleSet;
use crate::summary::{Summary, Warning};

/// Version of the JSON and JSONL report formats. Bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// Receives a scan's results.
pub trait Reporter {
    /// One finding, in the order the scan found it.
    fn finding(&mut self, finding: Finding) -> io::Result<()>;
    /// A blob's findings at once, in order (a dump of passwords: a few hundred thousand):
    /// reporters that keep findings to the end take the vector as it is.
    fn findings(&mut self, findings: Vec<Finding>) -> io::Result<()> {
        findings.into_iter().try_for_each(|f| self.finding(f))
    }
    /// One per-item warning.
    fn warning(&mut self, _warning: &Warning) -> io::Result<()> {
        Ok(())
    }
    /// The end of the scan.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line, streamed.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// GitLab's secret-detection report.
    Gitlab,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "jsonl" => Ok(Format::Jsonl),
            "sarif" => Ok(Format::Sarif),
            "gitlab" => Ok(Format::Gitlab),
            _ => Err(format!(
                "unknown format {s:?} (expected text, json, jsonl, sarif or gitlab)"
            )),
        }
    }
}

/// How findings are organised in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Group {
    /// One entry per finding (the default).
    #[default]
    None,
    /// One entry per secret, with every place it reached (the blast radius).
    Secret,
}

/// Choices that apply to every format.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// One entry per finding, or per secret.
    pub group: Group,
    /// Print secrets in clear.
    pub show_secrets: bool,
    /// Colour text output.
    pub color: bool,
    /// The rules of the scan (SARIF lists them).
    pub rules: RuleSet,
    /// Directory that relative paths are relative to (SARIF's `%SRCROOT%`).
    pub root: Option<std::path::PathBuf>,
    /// What a signal does to a report being written.
    pub interrupt: std::sync::Arc<Interrupt>,
}

/// A signal's effect on a report being written. A signal during the scan stops it, and the
/// report is written with what was found; a report of a few hundred thousand findings takes
/// longer to write than a person waits after Ctrl-C, so once [`Interrupt::GRACE`] has passed
/// since the writing first saw the signal, the report is cut short: closed where it is, valid,
/// and saying that it was cut.
#[derive(Debug, Default)]
pub struct Interrupt {
    signal: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    seen: std::sync::OnceLock<std::time::Instant>,
    cut: std::sync::atomic::AtomicBool,
}

impl Interrupt {
    /// How long a report keeps being written after a signal.
    pub const GRACE: std::time::Duration = std::time::Duration::from_millis(250);

    /// Cut by the signal flag `signal` (set by the signal handler).
    pub fn on(signal: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Interrupt {
        Interrupt {
            signal: Some(signal),
            ..Interrupt::default()
        }
    }

    /// Whether the report should stop being written now (and be marked cut).
    pub fn cut_now(&self) -> bool {
        let signalled = self
            .signal
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed));
        if !signalled {
            return false;
        }
        let seen = self.seen.get_or_init(std::time::Instant::now);
        if seen.elapsed() < Self::GRACE {
            return false;
        }
        self.cut.store(true, std::sync::atomic::Ordering::Relaxed);
        true
    }

    /// Whether the report was cut short.
    pub fn was_cut(&self) -> bool {
        self.cut.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl ReportOptions {
    /// Whether a signal cuts the report short now ([`Interrupt::cut_now`]).
    pub fn cancelled(&self) -> bool {
        self.interrupt.cut_now()
    }

    /// The secret as this report may show it.
    pub fn shown_secret(&self, f: &Finding) -> String {
        if self.show_secrets {
            f.secret.clone()
        } else {
            mask::secret(&f.rule, &f.secret)
        }
    }

    /// The secret's line with the secret as this report may show it.
    pub fn shown_context(&self, f: &Finding) -> String {
        format!("{}{}{}", f.before, self.shown_secret(f), f.after)
    }

    /// The finding as the blast radius sees it, shown as this report may show it.
    pub fn sighting(&self, f: &Finding) -> Sighting {
        Sighting::from_finding(f, self.show_secrets, self.shown_context(f))
    }

    /// Findings grouped by secret, most urgent first.
    pub fn radius<'a>(&self, findings: impl IntoIterator<Item = &'a Finding>) -> Vec<SecretGroup> {
        let mut radius = Radius::new();
        for f in findings {
            radius.add(self.sighting(f));
        }
        radius.groups()
    }
}

/// A reporter for `format` writing to `out`.
pub fn reporter(
    format: Format,
    opts: ReportOptions,
    out: Box<dyn Write + Send>,
) -> Box<dyn Reporter + Send> {
    match format {
        Format::Text => Box::new(text::TextReporter::new(opts, out)),
        Format::Json => Box::new(json::JsonReporter::new(opts, out)),
        Format::Jsonl => Box::new(json::JsonlReporter::new(opts, out)),
        Format::Sarif => Box::new(sarif::SarifReporter::new(opts, out)),
        Format::Gitlab => Box::new(gitlab::GitlabReporter::new(opts, out)),
    }
}

/// Sorts findings into report order.
pub fn sort(findings: &mut [Finding]) {
    // Most often they came in order already (a blob's findings are finished sorted by offset
    // and rule, and a scan of one file has one blob): a look at each pair says so.
    if in_order(findings) {
        return;
    }
    // By origin (as text), offset, then rule id, with each origin written once (a blob's findings share
    // their origin, and a dump of passwords has a few hundred thousand of them) and the rule
    // id compared in place; then the findings are moved where they go, in place.
    let mut last: Option<(&crate::blob::Origin, std::rc::Rc<str>)> = None;
    let mut keys: Vec<(std::rc::Rc<str>, u64, usize)> = Vec::with_capacity(findings.len());
    for (i, f) in findings.iter().enumerate() {
        let name = match &last {
            Some((o, name)) if o.is(&f.origin) => std::rc::Rc::clone(name),
            _ => {
                let name: std::rc::Rc<str> = f.origin.to_string().into();
                last = Some((&f.origin, std::rc::Rc::clone(&name)));
                name
            }
        };
        keys.push((name, f.offset, i));
    }
    drop(last);
    keys.sort_unstable_by(|a, b| {
        let name = if std::rc::Rc::ptr_eq(&a.0, &b.0) {
            std::cmp::Ordering::Equal
        } else {
            a.0.cmp(&b.0)
        };
        name.then(a.1.cmp(&b.1))
            .then_with(|| findings[a.2].rule.id().cmp(findings[b.2].rule.id()))
            .then(a.2.cmp(&b.2))
    });
    let mut from: Vec<usize> = keys.into_iter().map(|(_, _, i)| i).collect();
    permute(findings, &mut from);
}

/// Whether `findings` are in the order [`sort`] puts them in: pairs of one origin compared
/// without making it text, each other origin made text once.
fn in_order(findings: &[Finding]) -> bool {
    let mut name: Option<String> = None;
    for pair in findings.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let order = if a.origin.is(&b.origin) {
            std::cmp::Ordering::Equal
        } else {
            let prev = name.take().unwrap_or_else(|| a.origin.to_string());
            let next = b.origin.to_string();
            let order = prev.cmp(&next);
            name = Some(next);
            order
        };
        let order = order
            .then(a.offset.cmp(&b.offset))
            .then_with(|| a.rule.id().cmp(b.rule.id()));
        if order == std::cmp::Ordering::Greater {
            return false;
        }
    }
    true
}

/// Moves `items[from[k]]` to `k` for every `k`, in place (`from` is a permutation; it is used
/// up as the record of what was moved).
fn permute<T>(items: &mut [T], from: &mut [usize]) {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let source = from[at];
            from[at] = at;
            if source == start || source == at {
                break;
            }
            items.swap(at, source);
            at = source;
        }
    }
}

/// Adds a batch of findings to those a reporter keeps: the batch itself when there are none yet
/// (no copy of a few hundred thousand findings, no second vector beside the first).
pub(crate) fn keep(kept: &mut Vec<Finding>, batch: Vec<Finding>) {
    if kept.is_empty() {
        *kept = batch;
    } else {
        kept.extend(batch);
    }
}

/// Drops what a report is done with on a thread of its own: freeing a few hundred thousand
/// findings takes longer than writing them, and the run is over once the report is written.
pub(crate) fn discard<T: Send + 'static>(items: T) {
    // When no thread can be started, the closure and what it holds are dropped here.
    let _ = std::thread::Builder::new().spawn(move || drop(items));
}

/// Folds the echoes of a git history ([`history::collapse`]) before `inner` sees them: findings
/// read from commits are held to the end of the scan, the rest pass straight through.
pub struct Collapsing<'r> {
    inner: &'r mut dyn Reporter,
    held: Vec<Finding>,
    echoes: u64,
}

impl<'r> Collapsing<'r> {
    /// A reporter that collapses into `inner`.
    pub fn new(inner: &'r mut dyn Reporter) -> Collapsing<'r> {
        Collapsing {
            inner,
            held: Vec::new(),
            echoes: 0,
        }
    }

    /// How many findings were folded into another (known once the scan finished).
    pub fn echoes(&self) -> u64 {
        self.echoes
    }
}

impl Reporter for Collapsing<'_> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        if finding
            .origin
            .segments()
            .iter()
            .any(|s| matches!(s, crate::blob::Segment::Commit { .. }))
        {
            self.held.push(finding);
            return Ok(());
        }
        self.inner.finding(finding)
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        self.inner.warning(warning)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let held = std::mem::take(&mut self.held);
        let before = held.len() as u64;
        let kept = history::collapse(held);
        self.echoes = before - kept.len() as u64;
        for f in kept {
            self.inner.finding(f)?;
        }
        let mut summary = summary.clone();
        summary.findings = summary.findings.saturating_sub(self.echoes);
        summary.echoes = self.echoes;
        self.inner.finish(&summary)
    }
}

/// Stands for a value written later by [`write_pretty_streamed`] (a string no report holds).
const LATER: &str = "\u{0}ferret-written-later\u{0}";

/// A placeholder for a value of a document given to [`write_pretty_streamed`].
pub(crate) fn later() -> serde_json::Value {
    serde_json::Value::String(LATER.into())
}

/// Writes `doc` as `serde_json::to_writer_pretty` would, byte for byte, except that its
/// placeholders ([`later`], in document order) are filled as the writing reaches them: the
/// first with the array of `items`, each written by `make` (a batch of
/// [`STREAMED_BATCH`] at a time, made and turned into text in parallel on the current rayon
/// pool, written in order and dropped, so a report of a million findings never holds a
/// million JSON trees, and one of a few hundred thousand, an interrupted scan's included, is
/// written on every core), the second, if any, with `tail(cut)` (the summary, computed once the
/// findings are out: its `peak_rss_bytes` then covers them). `stop` is asked before each
/// batch: once it says stop (a signal while a report of a few hundred thousand findings is
/// written), the array is closed there and `cut` is true, so the document stays valid and can
/// say that it was cut.
pub(crate) fn write_pretty_streamed<T: Send>(
    out: &mut dyn Write,
    doc: &serde_json::Value,
    items: impl Iterator<Item = T>,
    make: impl Fn(&T, &mut ItemSerializer<'_>) -> serde_json::Result<()> + Sync,
    stop: &dyn Fn() -> bool,
    tail: impl FnOnce(bool) -> serde_json::Value,
) -> io::Result<()> {
    let text = serde_json::to_string_pretty(doc)?;
    write_pretty_streamed_text(out, text, items, make, stop, tail)
}

/// [`write_pretty_streamed`] of a document already made into text (`serde_json`'s pretty
/// form), for a caller that renamed a key in it: SARIF writes its invocation after the results
/// (a key that sorts after `results`, renamed back in the text), so that it can tell of a cut.
pub(crate) fn write_pretty_streamed_text<T: Send>(
    out: &mut dyn Write,
    text: String,
    mut items: impl Iterator<Item = T>,
    make: impl Fn(&T, &mut ItemSerializer<'_>) -> serde_json::Result<()> + Sync,
    stop: &dyn Fn() -> bool,
    tail: impl FnOnce(bool) -> serde_json::Value,
) -> io::Result<()> {
    let mut cut = false;
    let marker = serde_json::to_string(LATER)?;
    let mut rest = text.as_str();
    let mut items = Some(&mut items);
    let mut tail = Some(tail);
    while let Some(at) = rest.find(&marker) {
        let head = &rest[..at];
        // The placeholder's line (`  "findings": `) sets the indentation of what replaces it.
        let line = &head[head.rfind('\n').map_or(0, |i| i + 1)..];
        let indent = " ".repeat(line.len() - line.trim_start_matches(' ').len());
        out.write_all(head.as_bytes())?;
        if let Some(items) = items.take() {
            let mut first = true;
            // Each item is written indented one level deeper than the placeholder's line,
            // in one pass into a buffer handed to `out` whole (not made into text, then cut
            // into lines each written apart: a report of a few hundred thousand findings, an
            // interrupted scan's included, has to be written fast).
            let depth = indent.len() / 2 + 1;
            // A run of items, each after `,\n`, as one text (one buffer, grown a few times).
            let text = |run: Vec<T>| -> io::Result<Vec<u8>> {
                let mut buf = Vec::with_capacity(run.len() * 1536);
                for item in run {
                    buf.extend_from_slice(b",\n");
                    buf.extend_from_slice(indent.as_bytes());
                    buf.extend_from_slice(b"  ");
                    let mut ser =
                        serde_json::Serializer::with_formatter(&mut buf, Indented::at(depth));
                    make(&item, &mut ser)?;
                }
                Ok(buf)
            };
            loop {
                let batch: Vec<T> = items.by_ref().take(STREAMED_BATCH).collect();
                if batch.is_empty() {
                    break;
                }
                if stop() {
                    cut = true;
                    break;
                }
                // A few items are not worth waking other threads for.
                let texts: Vec<io::Result<Vec<u8>>> = if batch.len() < 64 {
                    vec![text(batch)]
                } else {
                    use rayon::prelude::*;
                    batch.into_par_iter().chunks(RUN).map(text).collect()
                };
                for t in texts {
                    let t = t?;
                    // The array's first item follows `[`, not a comma.
                    let t = match (first, t.split_first()) {
                        (true, Some((_, rest))) => {
                            out.write_all(b"[")?;
                            rest
                        }
                        _ => &t[..],
                    };
                    first &= t.is_empty();
                    out.write_all(t)?;
                }
            }
            if first {
                out.write_all(b"[]")?;
            } else {
                write!(out, "\n{indent}]")?;
            }
        } else if let Some(tail) = tail.take() {
            let pretty = serde_json::to_string_pretty(&tail(cut))?;
            let mut lines = pretty.split('\n');
            if let Some(first) = lines.next() {
                out.write_all(first.as_bytes())?;
            }
            for line in lines {
                write!(out, "\n{indent}{line}")?;
            }
        }
        rest = &rest[at + marker.len()..];
    }
    out.write_all(rest.as_bytes())
}

/// What [`write_pretty_streamed`]'s `make` writes an item with.
pub(crate) type ItemSerializer<'a> = serde_json::Serializer<&'a mut Vec<u8>, Indented>;

/// Items made and turned into text at a time by [`write_pretty_streamed`] (about a megabyte of
/// findings).
const STREAMED_BATCH: usize = 1024;

/// Items of a batch turned into one text by one thread.
const RUN: usize = 32;

/// `serde_json`'s pretty formatter (two spaces a level) for a value that starts `depth`
/// levels deep in a document: its lines are indented as `to_string_pretty` of the whole
/// document indents them (the caller writes the indentation of its first line).
pub(crate) struct Indented {
    level: usize,
    has_value: bool,
}

impl Indented {
    fn at(depth: usize) -> Indented {
        Indented {
            level: depth,
            has_value: false,
        }
    }

    fn newline<W: ?Sized + Write>(&self, out: &mut W) -> io::Result<()> {
        const SPACES: &[u8; 64] = &[b' '; 64];
        out.write_all(b"\n")?;
        let mut n = self.level * 2;
        while n > 0 {
            let k = n.min(SPACES.len());
            out.write_all(&SPACES[..k])?;
            n -= k;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Indented {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        out.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(out)?;
        }
        out.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.newline(out)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        out.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(out)?;
        }
        out.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.newline(out)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod streamed_tests {
    use serde_json::json;

    #[test]
    fn a_streamed_document_is_byte_identical_to_a_pretty_one() {
        let items = [
            json!({"a": 1, "b": [1, 2]}),
            json!({"c": "x\ny"}),
            json!([]),
            json!({"a": {"b": [{"c": []}, {}, [1, [2, {"d": null}]]], "e": "x"}, "f": {}}),
        ];
        let summary = json!({"files": 2, "nested": {"k": [true]}});
        for n in [0, 1, 3, 4] {
            let whole = json!({
                "version": 1,
                "findings": items[..n].to_vec(),
                "summary": summary.clone(),
                "tool": {"name": "ferret"},
            });
            let expected = serde_json::to_string_pretty(&whole).unwrap();
            let skeleton = json!({
                "version": 1,
                "findings": super::later(),
                "summary": super::later(),
                "tool": {"name": "ferret"},
            });
            let mut out = Vec::new();
            super::write_pretty_streamed(
                &mut out,
                &skeleton,
                items[..n].iter().cloned(),
                |v, out| serde::Serialize::serialize(v, out),
                &|| false,
                |cut| {
                    assert!(!cut);
                    summary.clone()
                },
            )
            .unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{n} items");
        }
    }

    /// A stop asked for while the items are written (a signal) closes the array after the
    /// batch being written: the document is valid, holds whole batches, and the tail knows.
    #[test]
    fn a_stop_cuts_the_items_and_keeps_the_document_valid() {
        let items: Vec<serde_json::Value> = (0..3 * super::STREAMED_BATCH)
            .map(|i| json!({"n": i}))
            .collect();
        let skeleton = json!({"findings": super::later(), "summary": super::later()});
        let asked = std::cell::Cell::new(0);
        let stop = || {
            asked.set(asked.get() + 1);
            asked.get() > 1
        };
        let mut told = None;
        let mut out = Vec::new();
        super::write_pretty_streamed(
            &mut out,
            &skeleton,
            items.iter(),
            |v, out| serde::Serialize::serialize(v, out),
            &stop,
            |cut| {
                told = Some(cut);
                json!({"partial": cut})
            },
        )
        .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let written = doc["findings"].as_array().unwrap();
        assert_eq!(written.len(), super::STREAMED_BATCH);
        assert_eq!(written[..], items[..super::STREAMED_BATCH]);
        assert_eq!(doc["summary"]["partial"], json!(true));
        assert_eq!(told, Some(true));
    }

    #[test]
    fn findings_are_sorted_by_origin_offset_and_rule_and_kept_when_already_so() {
        use crate::blob::{Data, Origin};
        use crate::finding::Finding;
        use crate::matcher::{Matcher, RuleIndex};
        use crate::rules::RuleSet;
        let rules = RuleSet::builtin().unwrap();
        let m = Matcher::new(&rules).unwrap();
        let found = |text: &str, path: &str| {
            let data = Data::Owned(text.as_bytes().to_vec());
            let (mut scratch, mut buf) = (m.scratch(), Vec::new());
            crate::engine::scan_data(
                &m,
                &data,
                &Origin::file(path),
                1 << 20,
                &mut scratch,
                &mut buf,
            )
            .findings
        };
        let text = "password = \"Kq7vZ2mX9pLw4T#r\"\nsmtp_pwd = \"Zr8#kV3nQ7mWx2Lp\"\n";
        let key = |f: &Finding| (f.origin.to_string(), f.offset, f.rule.id().to_string());
        // Two files, each with two findings, handed over b before a and each file's backwards.
        let mut all = found(text, "b.env");
        all.reverse();
        let mut a = found(text, "a.env");
        a.reverse();
        all.extend(a);
        assert_eq!(all.len(), 4);
        let mut expected: Vec<_> = all.iter().map(key).collect();
        expected.sort();
        assert!(!super::in_order(&all));
        super::sort(&mut all);
        assert_eq!(all.iter().map(key).collect::<Vec<_>>(), expected);
        assert!(super::in_order(&all));
        // Sorted already: left as it is (one look at each pair).
        super::sort(&mut all);
        assert_eq!(all.iter().map(key).collect::<Vec<_>>(), expected);
        // Only the rule ids out of order at one offset: not in order.
        let mut rules = [m.rule(RuleIndex(0)).clone(), m.rule(RuleIndex(1)).clone()];
        rules.sort_by(|a, b| b.id().cmp(a.id()));
        let mut same_place = vec![all[0].clone(), all[0].clone()];
        same_place[0].rule = rules[0].clone();
        same_place[1].rule = rules[1].clone();
        let ids = |v: &[Finding]| {
            v.iter()
                .map(|f| f.rule.id().to_string())
                .collect::<Vec<_>>()
        };
        let mut want = ids(&same_place);
        want.sort();
        assert_ne!(want, ids(&same_place));
        assert!(!super::in_order(&same_place));
        super::sort(&mut same_place);
        assert_eq!(ids(&same_place), want);
    }
}

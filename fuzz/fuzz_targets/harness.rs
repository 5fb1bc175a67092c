//! The fuzz targets' bodies, one function per target, shared by the libFuzzer binaries and by
//! the regression test that replays every saved crash (`tests/fuzz_regressions.rs`). Expansion
//! targets get a matcher built once, a sink that checks what it is given, and a small budget so
//! that one input stays cheap (the default budget lets a single input decompress gigabytes,
//! which a fuzzer would report as a timeout or out-of-memory).
#![allow(dead_code)]

use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use ferret::expand::{Budget, Expander, Sink};
use ferret::rules::gitleaks;
use ferret::summary::WarningKind;
use ferret::view::{ansi, base64, json_string, percent};
use ferret::{Data, Finding, Matcher, Origin, RuleSet, engine};

/// The built-in rules, compiled once per process.
pub fn builtin() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(&RuleSet::builtin().expect("rules")).expect("matcher"))
}

/// Checks every finding and warning the expansion reports.
#[derive(Default)]
pub struct CheckingSink {
    pub findings: AtomicU64,
    pub warnings: AtomicU64,
    pub scanned: AtomicU64,
}

impl Sink for CheckingSink {
    fn finding(&self, f: Finding) -> bool {
        // A finding points at a non-empty span with a sane position.
        assert!(
            f.offset <= f.end_offset,
            "offsets {}..{}",
            f.offset,
            f.end_offset
        );
        assert!(!f.secret.is_empty());
        assert!(
            f.start.line >= 1 && f.start.column >= 1,
            "position {:?}",
            f.start
        );
        assert!(!f.origin.segments().is_empty());
        self.findings.fetch_add(1, Ordering::Relaxed);
        true
    }
    fn warn(&self, origin: &Origin, _kind: WarningKind, message: String) {
        assert!(!message.is_empty(), "an empty warning for {origin}");
        self.warnings.fetch_add(1, Ordering::Relaxed);
    }
    fn scanned(&self, bytes: u64) {
        self.scanned.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// A budget small enough for thousands of executions a second.
pub fn budget() -> Budget {
    Budget {
        max_depth: 6,
        max_total_bytes: 32 << 20,
        max_entry_bytes: 16 << 20,
        max_ratio: 100,
        max_entries: 2_000,
        max_in_memory: 1 << 20,
        max_decoder_memory: 64 << 20,
    }
}

/// Wraps the process's panic hook (libFuzzer's, which aborts) so that a panic contained by
/// `ferret::expand::contain` (a third-party decoder's, turned into a warning) is not reported,
/// as the CLI's hook does; any other panic still is.
fn contain_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !ferret::expand::contain::is_contained() {
                previous(info);
            }
        }));
    });
}

/// Expands `bytes` named `name` the way a scan of a file does, and again as a stream (stdin,
/// a registry layer). Neither may panic; both must finish.
pub fn expand(bytes: &[u8], name: &str) {
    contain_hook();
    let sink = CheckingSink::default();
    let mut ex = Expander::new(builtin(), &sink);
    ex.budget = budget();
    ex.chunk_size = 4096;
    ex.input(Arc::new(Data::Owned(bytes.to_vec())), Origin::file(name));
    let as_blob = sink.findings.load(Ordering::Relaxed);
    let stream_sink = CheckingSink::default();
    let mut ex = Expander::new(builtin(), &stream_sink);
    ex.budget = budget();
    ex.chunk_size = 4096;
    ex.input_stream(&mut Cursor::new(bytes), Origin::file(name));
    // What one path finds, the other may not (a stream cannot seek to a zip's directory), so
    // only the absence of panics and hangs is checked across them.
    let _ = as_blob;
}

/// The targets, by name.
pub const TARGETS: [&str; 17] = [
    "matcher",
    "notebook",
    "pickle",
    "safetensors",
    "gguf",
    "onnx",
    "tar",
    "zip",
    "gzip",
    "zstd",
    "image",
    "views",
    "rules",
    "wandb",
    "tfevents",
    "parquet",
    "arrow",
];

/// Runs target `name` on `data`; false when there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "matcher" => matcher(data),
        "notebook" => notebook(data),
        "pickle" => pickle(data),
        "safetensors" => safetensors(data),
        "gguf" => gguf(data),
        "onnx" => onnx(data),
        "tar" => tar(data),
        "zip" => zip(data),
        "gzip" => gzip(data),
        "zstd" => zstd(data),
        "image" => image(data),
        "views" => views(data),
        "rules" => rules(data),
        "wandb" => wandb(data),
        "tfevents" => tfevents(data),
        "parquet" => parquet(data),
        "arrow" => arrow(data),
        _ => return false,
    }
    true
}

/// The zstd frame magic.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// A tar of `entries` (path, body), empty when a path cannot be written.
fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        if b.append_data(&mut h, path, *body).is_err() {
            return Vec::new();
        }
    }
    b.into_inner().unwrap_or_default()
}

/// `data` cut at every `sep`.
fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        parts.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest);
    parts
}

/// Every decoded byte maps back to encoded bytes inside the input, in order.
fn check(decoded: &ferret::view::Decoded, len: usize) {
    let n = decoded.bytes.len();
    let mut last = 0;
    for i in 0..n {
        let r = decoded.encoded_range(i..i + 1);
        assert!(r.start <= r.end && r.end <= len, "byte {i}: {r:?} of {len}");
        assert!(
            r.start >= last,
            "byte {i} maps back before byte {}",
            i.saturating_sub(1)
        );
        last = r.start;
    }
    let whole = decoded.encoded_range(0..n);
    assert!(whole.end <= len);
}

/// The matcher on arbitrary bytes: the prefiltered search equals the brute-force search, and a chunked scan equals a whole scan.
pub fn matcher(data: &[u8]) {
    let m = builtin();
    let mut scratch = m.scratch();
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    m.scan(data, &mut scratch, &mut fast);
    m.scan_unfiltered(data, &mut scratch, &mut slow);
    assert_eq!(fast, slow);
    if data.len() > 64 {
        let d = Data::Owned(data.to_vec());
        let origin = Origin::file("fuzz");
        let mut buf = Vec::new();
        let whole = engine::scan_data(m, &d, &origin, u64::MAX, &mut scratch, &mut buf);
        let chunked = engine::scan_data(m, &d, &origin, 61, &mut scratch, &mut buf);
        let key = |f: &ferret::Finding| {
            (
                f.rule.id().to_string(),
                f.offset,
                f.end_offset,
                f.start.line,
                f.start.column,
            )
        };
        let a: Vec<_> = whole.findings.iter().map(key).collect();
        let b: Vec<_> = chunked.findings.iter().map(key).collect();
        assert_eq!(a, b);
    }
}

/// The notebook expansion on arbitrary bytes named `fuzz.ipynb`: no panic, no hang, bounded memory.
pub fn notebook(data: &[u8]) {
    expand(data, "fuzz.ipynb");
    json_text(data);
}

/// The streamed JSON text of notebook and safetensors metadata: for any JSON value, the text is
/// valid JSON (or empty), at most 3 times the input beyond its indentation (a number is
/// rewritten: `9e15` becomes `9000000000000000.0`), and keeps every non-empty string and key of
/// the input.
pub fn json_text(data: &[u8]) {
    use ferret::expand::json_text::JsonText;
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for pretty in [0, 64] {
        let mut d = serde_json::Deserializer::from_slice(data);
        let text = JsonText::read(pretty, &mut d).expect("parsed once already");
        if text.is_empty() {
            continue;
        }
        let back: serde_json::Value = serde_json::from_str(&text).expect("the text is JSON");
        assert!(
            text.len() <= 3 * data.len() + 64 + 2 * 128 + 2,
            "{} bytes of text for {} of JSON",
            text.len(),
            data.len()
        );
        // (A `Value` keeps the last of duplicate keys; the text keeps them all.)
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        let mut kept = Vec::new();
        collect_strings(&back, &mut kept);
        let kept: std::collections::HashSet<String> = kept.into_iter().collect();
        if let Some(lost) = strings.iter().find(|s| !s.is_empty() && !kept.contains(*s)) {
            panic!("the string {lost:?} is not in the text {text:?}");
        }
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
            out.push(k.clone());
            collect_strings(v, out);
        }),
        _ => {}
    }
}

/// The pickle expansion on arbitrary bytes named `fuzz.pkl`: no panic, no hang, bounded memory.
pub fn pickle(data: &[u8]) {
    expand(data, "fuzz.pkl");
}

/// safetensors header parsing: the input is the header, framed by its true length (even first byte), or the whole file with whatever length the fuzzer wrote (odd first byte).
pub fn safetensors(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    if pick & 1 == 0 {
        let mut file = (rest.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(rest);
        file.extend_from_slice(&[0u8; 64]);
        expand(&file, "fuzz.safetensors");
    } else {
        expand(rest, "fuzz.safetensors");
    }
    json_text(rest);
}

/// GGUF metadata parsing: arbitrary bytes after the magic (version, counts, key/values).
pub fn gguf(data: &[u8]) {
    let mut file = b"GGUF".to_vec();
    file.extend_from_slice(data.strip_prefix(&b"GGUF"[..]).unwrap_or(data));
    expand(&file, "fuzz.gguf");
}

/// The onnx expansion on arbitrary bytes named `fuzz.onnx`: no panic, no hang, bounded memory.
pub fn onnx(data: &[u8]) {
    expand(data, "fuzz.onnx");
}

/// W&B run files: the bytes after the file header (`:W&B`, magic, version 0) are the log's
/// blocks of fragments and the records they join into.
pub fn wandb(data: &[u8]) {
    let mut file = b":W&B\xe1\xbe\x00".to_vec();
    file.extend_from_slice(data);
    expand(&file, "run-fuzz.wandb");
    // The log read in segments of one block hands on what one pass does (the input repeated
    // over four blocks, so that records and damage meet the segments' edges).
    use ferret::expand::wandb::{BLOCK, Event, Log};
    if data.is_empty() {
        return;
    }
    while (file.len() as u64) < 4 * BLOCK {
        file.extend_from_slice(data);
    }
    let log = Data::Owned(file);
    let owned = |e: Event<'_>| match e {
        Event::Record(at, r) => (at, r.to_vec(), String::new()),
        Event::Damaged(at, b, why) => (at, b.to_vec(), why),
    };
    let mut whole = Vec::new();
    let _ = Log::new(&log).for_each(&mut |e| whole.push(owned(e)));
    let mut parts = Vec::new();
    let mut start = 0;
    while start < log.len() {
        let end = (start + BLOCK).min(log.len());
        let _ = Log::segment(&log, start..end).for_each(&mut |e| parts.push(owned(e)));
        start = end;
    }
    assert!(parts == whole, "segments and one pass differ");
}

/// TensorBoard event files: the input cut at `ff fe` into events, each framed as a TFRecord
/// with true checksums (so the fuzzer works on the events, not on guessing CRCs); an input
/// that starts with an odd byte gets one data checksum broken.
pub fn tfevents(data: &[u8]) {
    let mut file = Vec::new();
    for (i, event) in split(data, b"\xff\xfe").into_iter().enumerate() {
        let len = (event.len() as u64).to_le_bytes();
        file.extend_from_slice(&len);
        file.extend(ferret::expand::tfevents::masked_crc(&len).to_le_bytes());
        file.extend_from_slice(event);
        let mut crc = ferret::expand::tfevents::masked_crc(event);
        if i == 0 && data.first().is_some_and(|b| b % 2 == 1) {
            crc ^= 1;
        }
        file.extend(crc.to_le_bytes());
    }
    expand(&file, "events.out.tfevents.fuzz");
    // Decoded in segments (the file repeated over four segments of 8 KiB: chunks of 4 KiB) or
    // in one pass: nothing found in one pass is missed in segments.
    if file.is_empty() {
        return;
    }
    let one = file.clone();
    while file.len() < 4 * 8192 {
        file.extend_from_slice(&one);
    }
    let count = |chunk_size: u64| {
        let sink = CheckingSink::default();
        let mut ex = Expander::new(builtin(), &sink);
        ex.budget = budget();
        ex.chunk_size = chunk_size;
        ex.input(
            Arc::new(Data::Owned(file.clone())),
            Origin::file("events.out.tfevents.fuzz"),
        );
        sink.findings.load(Ordering::Relaxed)
    };
    let (whole, segments) = (count(8 << 20), count(4096));
    assert!(
        segments >= whole,
        "{segments} findings in segments, {whole} in one pass"
    );
}

/// Parquet files: the input as a file named `fuzz.parquet` (seeds are real files written by
/// pyarrow, so the fuzzer mutates footers, page headers and pages).
pub fn parquet(data: &[u8]) {
    expand(data, "fuzz.parquet");
}

/// Arrow IPC files and streams: the input named `fuzz.arrow` (seeds are Feather v2 files and
/// streams written by pyarrow, so the fuzzer mutates message headers, bodies, compressed
/// buffers, dictionaries and footers).
pub fn arrow(data: &[u8]) {
    expand(data, "fuzz.arrow");
}

/// The tar expansion on arbitrary bytes named `fuzz.tar`: no panic, no hang, bounded memory.
pub fn tar(data: &[u8]) {
    expand(data, "fuzz.tar");
}

/// The zip expansion on arbitrary bytes named `fuzz.zip`: no panic, no hang, bounded memory.
pub fn zip(data: &[u8]) {
    expand(data, "fuzz.zip");
}

/// gzip expansion (and what it holds): arbitrary bytes after the gzip magic.
pub fn gzip(data: &[u8]) {
    let mut file = vec![0x1f, 0x8b];
    file.extend_from_slice(data.strip_prefix(&[0x1f, 0x8b][..]).unwrap_or(data));
    expand(&file, "fuzz.log.gz");
}

/// zstd expansion (and what it holds): arbitrary bytes after the zstd magic; the first byte picks the name, so a compressed tar and a compressed log are both reached.
pub fn zstd(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut file = ZSTD_MAGIC.to_vec();
    file.extend_from_slice(rest.strip_prefix(&ZSTD_MAGIC[..]).unwrap_or(rest));
    let name = if pick & 1 == 0 {
        "fuzz.tar.zst"
    } else {
        "fuzz.log.zst"
    };
    expand(&file, name);
}

/// Docker `save` and OCI image tarballs: manifests, indexes, configs and layers from arbitrary bytes. The input is split on `\n@@\n`: the first part is `manifest.json` (even first byte) or `index.json` beside an `oci-layout` (odd); part `i` is stored as `i` and as `blobs/sha256/i`, so a manifest can point at it. A part that starts with `TAR:` becomes a tar holding the rest as `app/.env` (a layer), and `WH:` a layer whose `.wh.` whiteout deletes it.
pub fn image(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let parts = split(rest, b"\n@@\n");
    let mut owned: Vec<(String, Vec<u8>)> = Vec::new();
    if pick & 1 == 0 {
        owned.push(("manifest.json".into(), parts[0].to_vec()));
    } else {
        owned.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        owned.push(("index.json".into(), parts[0].to_vec()));
    }
    for (i, part) in parts.iter().enumerate().skip(1).take(8) {
        let body = if let Some(text) = part.strip_prefix(b"TAR:") {
            tar_of(&[("app/.env", text)])
        } else if part.starts_with(b"WH:") {
            tar_of(&[("app/.wh..env", b"")])
        } else {
            part.to_vec()
        };
        owned.push((i.to_string(), body.clone()));
        owned.push((format!("blobs/sha256/{i}"), body));
    }
    let entries: Vec<(&str, &[u8])> = owned
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let image = tar_of(&entries);
    if !image.is_empty() {
        expand(&image, "fuzz-image.tar");
    }
}

/// The decoding views on arbitrary bytes: JSON string escapes, base64, percent-encoding and ANSI stripping. Each decoded byte maps back to encoded bytes inside the input, in order, and a view of text that holds a secret is scanned without panicking.
pub fn views(data: &[u8]) {
    check(&json_string::decode(data), data.len());
    check(&percent::decode(data), data.len());
    if let Some(d) = base64::decode(data) {
        check(&d, data.len());
        let _ = base64::is_text(&d.bytes);
    }
    for pos in [0, data.len() / 2, data.len().saturating_sub(1)] {
        if pos < data.len()
            && let Some((span, content)) = json_string::enclosing(data, pos)
        {
            assert!(span.start <= content.start && content.end <= span.end);
            assert!(span.end <= data.len());
        }
    }
    if let Some(s) = ansi::strip(data) {
        assert!(s.text.len() <= data.len());
        let mut prev = 0;
        for pos in 0..=s.text.len() as u64 {
            let o = s.map.original(pos);
            assert!(o >= prev && o <= data.len() as u64, "stripped {pos} -> {o}");
            prev = o;
        }
    }
    // The whole engine with its views (base64 blocks, JSON strings, percent-encoding, ANSI).
    expand(data, "fuzz.log");
}

/// Rule-file loading: ferret's TOML format and gitleaks' (translated, Go regex syntax rewritten). Loading either fails with an error or gives rules that compile into a matcher and scan text without panicking.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = gitleaks::go_to_rust(text);
    let mut set = RuleSet::new();
    if set.add_toml(text, "fuzz.toml").is_err() || set.is_empty() {
        return;
    }
    // A rule the fuzzer wrote compiles or is rejected with an error, never a panic; the
    // matcher is given the rule file itself to scan (its examples are in it).
    if let Ok(m) = Matcher::new(&set) {
        let mut scratch = m.scratch();
        let mut out = Vec::new();
        m.scan(data, &mut scratch, &mut out);
    }
}

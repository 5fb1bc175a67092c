//! The stores of ML work, written by the real libraries: W&B run folders (`wandb` in offline
//! mode), TensorBoard event files (`tensorboard`'s writer), Parquet and Arrow datasets
//! (`pyarrow`) and Hugging Face caches (`huggingface_hub`'s cache layout). Each test plants
//! synthetic secrets, asserts the exact place reported for each, and that nothing else is.
//!
//! The libraries come from the CI venv (.ci/run); elsewhere a test whose library is missing is
//! skipped, loudly, unless FERRET_REQUIRE_TOOLS=1.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::secrets::Gen;
use crate::common::{Run, TestDir, run};

pub use crate::common::python;

pub fn scan_json(dir: &Path, args: &[&str]) -> (Run, serde_json::Value) {
    let mut cmd = crate::common::ferret();
    cmd.current_dir(dir)
        .args(["scan", "-f", "json", "--show-secrets"])
        .args(args);
    let r = run(&mut cmd);
    let doc = r.json();
    (r, doc)
}

/// `(location, rule_id)` of every finding, sorted.
pub fn located(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    crate::common::located(doc).into_iter().collect()
}

/// The secrets of every finding.
pub fn secrets(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect()
}

pub fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(l, r)| (l.to_string(), r.to_string()))
        .collect()
}

/// The one file under `dir` whose name contains `part`.
fn find(dir: &Path, part: &str) -> PathBuf {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else if p.file_name().unwrap().to_string_lossy().contains(part) {
                found.push(p);
            }
        }
    }
    assert_eq!(found.len(), 1, "{part} in {}: {found:?}", dir.display());
    found.pop().unwrap()
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base).unwrap().to_string_lossy().into_owned()
}

/// A run written by the real `wandb` package in offline mode: its config (with a secret cut in
/// two by the log's 32 KiB block boundary), a history row, console output, notes and summary.
#[test]
fn wandb_offline_runs_are_read_record_by_record() {
    let t = TestDir::new();
    let mut g = Gen::new(190);
    let (hf, ant, gh, gl, slack) = (
        g.huggingface(),
        g.anthropic(),
        g.github_pat(),
        g.gitlab(),
        g.slack_bot(),
    );
    // The config's padding is sized (after one measuring run) so that the token starts 15
    // bytes before the first block boundary: the file never holds it in one piece.
    let script = format!(
        r#"
import os, shutil, wandb
HF = {hf:?}
def write(pad, where):
    run = wandb.init(project="ferret", id="ferret01", dir=where, notes="deploy key " + {gl:?},
                     config={{"padding": "x" * pad, "hf_token": HF, "lr": 0.1}},
                     settings=wandb.Settings(x_disable_stats=True, x_disable_meta=True))
    run.log({{"loss": 0.5, "prompt": "use " + {ant:?}}})
    run.log({{"loss": 0.25, "prompt": "no secret here"}})
    print("epoch 1")
    print("epoch 2")
    print("logged in as " + {gh:?})
    run.summary["slack"] = {slack:?}
    run.finish()
    folder = [d for d in os.listdir(os.path.join(where, "wandb")) if d.startswith("offline-run-")][0]
    path = os.path.join(where, "wandb", folder, "run-ferret01.wandb")
    return path, open(path, "rb").read()

pad = 20000
for attempt in range(5):
    path, raw = write(pad, "attempt%d" % attempt)
    if HF.encode() not in raw and HF[:12].encode() in raw:
        break
    at = raw.find(HF.encode())
    pad += 32768 - 15 - at
else:
    raise SystemExit("could not place the token across the block boundary")
print(os.path.dirname(path))
"#
    );
    let Some(out) = python(t.path(), &script, "python3 with wandb") else {
        return;
    };
    let run_dir = PathBuf::from(out.lines().last().unwrap().trim());
    let run_dir = t.path().join(run_dir);
    let wandb_file = run_dir.join("run-ferret01.wandb");
    let raw = std::fs::read(&wandb_file).unwrap();
    assert!(
        memchr::memmem::find(&raw, hf.as_bytes()).is_none(),
        "the token should be cut by the block boundary"
    );
    let (r, doc) = scan_json(t.path(), &[wandb_file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let shown = wandb_file.to_string_lossy();
    let at = |rest: &str| format!("{shown} › {rest}");
    assert_eq!(
        located(&doc),
        set(&[
            (&at("config › hf_token:1:2"), "huggingface.token"),
            (&at("history step 0 › prompt:1:6"), "anthropic.api-key"),
            (&at("output_raw:3:14"), "github.pat.classic"),
            (&at("run › notes:1:12"), "gitlab.pat"),
            // The summary keeps the last value of each history key: step 0's prompt until
            // step 1 replaced it.
            (&at("summary › prompt:1:6"), "anthropic.api-key"),
            (&at("summary › slack:1:2"), "slack.bot-token"),
        ]),
        "{}",
        r.stderr
    );
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    // Decoded in segments of one block each (chunks of 16 KiB), on two threads: the same.
    let (r2, doc2) = scan_json(
        t.path(),
        &[
            "--chunk-size",
            "16K",
            "-j",
            "2",
            wandb_file.to_str().unwrap(),
        ],
    );
    assert_eq!(r2.code, 1, "{}", r2.stderr);
    assert_eq!(located(&doc2), located(&doc), "{}", r2.stderr);
    assert_eq!(doc2["summary"]["errors"], 0, "{}", r2.stderr);
    // The JSON origin names the record and the key.
    let config = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "huggingface.token")
        .unwrap();
    assert_eq!(
        config["origin"][1],
        serde_json::json!({"kind": "record", "name": "config"})
    );
    assert_eq!(
        config["origin"][2],
        serde_json::json!({"kind": "key", "path": "hf_token"})
    );

    // The whole run folder: the log and the text files beside it (output.log) find only the
    // planted secrets.
    let (r, doc) = scan_json(t.path(), &[run_dir.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let planted: BTreeSet<String> = [&hf, &ant, &gh, &gl, &slack]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(
        secrets(&doc).is_subset(&planted),
        "{:?}",
        secrets(&doc).difference(&planted)
    );
    let output_log = located(&doc)
        .into_iter()
        .any(|(l, rule)| l.contains("files/output.log:3:14") && rule == "github.pat.classic");
    assert!(output_log, "{:?}", located(&doc));

    // Damage: a flipped byte in a fragment is a warning; the other records are still read.
    let mut damaged = raw.clone();
    let at_gh = memchr::memmem::find(&damaged, b"logged in as").unwrap();
    damaged[at_gh] ^= 0x01;
    let copy = t.write("damaged/run-x.wandb", &damaged);
    let (r, doc) = scan_json(t.path(), &[copy.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let locs = located(&doc);
    assert!(
        locs.iter()
            .any(|(l, _)| l.ends_with("config › hf_token:1:2")),
        "{locs:?}"
    );
    assert!(
        locs.iter()
            .any(|(l, r)| l.contains("damaged record at byte") && r == "github.pat.classic"),
        "{locs:?}"
    );
    assert!(r.stderr.contains("damaged part"), "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 1);
    let (r2, doc2) = scan_json(
        t.path(),
        &["--chunk-size", "16K", "-j", "2", copy.to_str().unwrap()],
    );
    assert_eq!(located(&doc2), locs, "{}", r2.stderr);
    assert_eq!(doc2["summary"]["errors"], 1, "{}", r2.stderr);
}

/// Event files written by `tensorboard`'s own writer: a text summary with a description, an
/// hparams session, scalars; then the same file damaged. Each is also scanned in segments
/// (chunks of 4 KiB: the scalars make the file larger than two) with the same result.
#[test]
fn tensorboard_event_files_name_the_step_and_tag() {
    let t = TestDir::new();
    let mut g = Gen::new(191);
    let (hf, slack, gh, decoy) = (
        g.huggingface(),
        g.slack_bot(),
        g.github_pat(),
        g.github_pat(),
    );
    let script = format!(
        r#"
import numpy as np
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.compat.proto.event_pb2 import Event, LogMessage
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.plugins.text import summary_v2 as text
from tensorboard.plugins.hparams import summary_v2 as hp
w = EventFileWriter("runs/exp1")
for step in range(500):
    w.add_event(Event(step=step, wall_time=1.0 + step,
                      summary=Summary(value=[Summary.Value(tag="loss", simple_value=0.5 / (step + 1))])))
w.add_event(Event(step=3, wall_time=5.0, summary=text.text_pb(
    "notes", "pushed with " + {hf:?}, description="alerts go to " + {slack:?})))
w.add_event(Event(step=0, wall_time=6.0, summary=hp.hparams_pb({{"hub_token": {gh:?}, "lr": 0.1}})))
# A histogram's bytes are numbers: a token-shaped decoy in them is never read.
w.add_event(Event(step=4, wall_time=7.0, summary=Summary(value=[Summary.Value(
    tag="weights", image=Summary.Image(height=1, width=1, encoded_image_string={decoy:?}.encode()))])))
w.flush()
w.close()
"#
    );
    if python(t.path(), &script, "python3 with tensorboard").is_none() {
        return;
    }
    let file = find(t.path(), "tfevents");
    let shown = rel(t.path(), &file);
    assert!(std::fs::metadata(&file).unwrap().len() > 8192);
    let (r, doc) = scan_json(t.path(), &["runs"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let in_segments = |dir: &str, doc: &serde_json::Value| {
        let (r2, doc2) = scan_json(t.path(), &["--chunk-size", "4K", "-j", "2", dir]);
        assert_eq!(located(&doc2), located(doc), "{}", r2.stderr);
        assert_eq!(doc2["summary"]["errors"], doc["summary"]["errors"]);
    };
    in_segments("runs", &doc);
    let at = |rest: &str| format!("{shown} › {rest}");
    let expected = set(&[
        (&at("summary step 3 › notes:1:13"), "huggingface.token"),
        (
            &at("summary step 3 › notes.description:1:14"),
            "slack.bot-token",
        ),
        (
            &at("summary step 0 › hparams.hub_token:1:1"),
            "github.pat.classic",
        ),
    ]);
    assert_eq!(located(&doc), expected, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0);

    // A flipped byte in the text summary's data: a checksum warning, the event still decoded.
    let raw = std::fs::read(&file).unwrap();
    let mut bad = raw.clone();
    let at_text = memchr::memmem::find(&bad, b"pushed with").unwrap();
    bad[at_text] ^= 0x01;
    t.write("bad/events.out.tfevents.1.host", &bad);
    let (r, doc) = scan_json(t.path(), &["bad"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 3, "{:?}", located(&doc));
    assert!(
        r.stderr.contains("fail their data checksum"),
        "{}",
        r.stderr
    );
    in_segments("bad", &doc);
    // A broken length: the file is scanned as bytes from that record to the next one found
    // (raw protobuf: what a rule can still see there is found).
    let mut cut = raw.clone();
    let text_record = raw[..at_text]
        .windows(12)
        .rposition(ferret::expand::tfevents::is_tfrecord)
        .unwrap();
    cut[text_record] ^= 0xff;
    t.write("cut/events.out.tfevents.2.host", &cut);
    let (r, doc) = scan_json(t.path(), &["cut"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("fails its checksum"), "{}", r.stderr);
    let locs = located(&doc);
    assert!(
        locs.iter().any(
            |(l, rule)| l.contains(&format!("damaged from byte {text_record}"))
                && rule == "slack.bot-token"
        ),
        "{locs:?}"
    );
    in_segments("cut", &doc);
}

/// Parquet files written by pyarrow with every codec ferret decompresses: strings with nulls,
/// a list of structs (chat messages), a map, binary, dictionary-encoded strings, footer
/// metadata, several row groups; numeric columns are never decoded.
#[test]
fn parquet_values_are_named_by_row_group_column_and_row() {
    let t = TestDir::new();
    let mut g = Gen::new(192);
    let (hf, ant, gh, slack, gl) = (
        g.huggingface(),
        g.anthropic(),
        g.github_pat(),
        g.slack_bot(),
        g.gitlab(),
    );
    let script = format!(
        r#"
import pyarrow as pa, pyarrow.parquet as pq
n = 50_000
text = ["row %d says hello" % i for i in range(n)]
text[5] = None
text[7] = "token " + {hf:?}
msgs = [[{{"role": "user", "content": "hi %d" % i}}, {{"role": "assistant", "content": "ok"}}] for i in range(n)]
msgs[41872][1]["content"] = "here you go: " + {ant:?}
headers = [[("x-trace", "abc")] for _ in range(n)]
headers[123] = [("authorization", "token " + {gh:?})]
blobs = [b"\x00\x01" for _ in range(n)]
blobs[49_999] = b"\x00SLACK=" + {slack:?}.encode()
source = ["web" if i % 2 else "api" for i in range(n)]
table = pa.table({{
    "id": pa.array(range(n), pa.int64()),
    "score": pa.array([i * 0.5 for i in range(n)], pa.float64()),
    "text": pa.array(text, pa.large_string()),
    "messages": msgs,
    "headers": pa.array(headers, pa.map_(pa.string(), pa.string())),
    "blob": pa.array(blobs, pa.binary()),
    "source": pa.array(source).dictionary_encode(),
}}).replace_schema_metadata({{"notes": "uploaded with " + {gl:?}}})
for codec in ["zstd", "snappy", "gzip", "lz4", "none"]:
    pq.write_table(table, "train-%s.parquet" % codec, row_group_size=20_000, compression=codec)
# The bytes of text a file holds: every non-empty string and binary value, and the footer's
# metadata values (with pyarrow's own ARROW:schema).
strings = sum(len(s.encode()) for s in text if s) + sum(len(s) for s in blobs)
strings += sum(len(m["role"]) + len(m["content"]) for row in msgs for m in row)
strings += sum(len(k) + len(v) for row in headers for k, v in row) + sum(len(s) for s in source)
meta = pq.read_metadata("train-none.parquet").metadata
print(strings + sum(len(v) for v in meta.values()))
"#
    );
    let Some(out) = python(t.path(), &script, "python3 with pyarrow") else {
        return;
    };
    let text_bytes: u64 = out.trim().parse().unwrap();
    let (r, doc) = scan_json(t.path(), &["."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut expected = BTreeSet::new();
    for codec in ["gzip", "lz4", "none", "snappy", "zstd"] {
        let f = format!("train-{codec}.parquet");
        for (place, rule) in [
            ("row group 0 › text › row 7:1:7", "huggingface.token"),
            (
                "row group 2 › messages.content › row 41872:1:14",
                "anthropic.api-key",
            ),
            (
                "row group 0 › headers.value › row 123:1:7",
                "github.pat.classic",
            ),
            ("row group 2 › blob › row 49999:1:8", "slack.bot-token"),
            ("metadata › notes:1:15", "gitlab.pat"),
        ] {
            expected.insert((format!("{f} › {place}"), rule.to_string()));
        }
    }
    assert_eq!(located(&doc), expected, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    // Exactly the text was scanned: no number (0.8 MB a file) was decoded.
    assert_eq!(doc["summary"]["scanned_bytes"], 5 * text_bytes);

    // A cut file is scanned as bytes with a warning; a damaged page is a warning naming its
    // column, and the other columns are still read.
    let whole = std::fs::read(t.path().join("train-none.parquet")).unwrap();
    t.write("cut/a.parquet", &whole[..whole.len() / 2]);
    let (r, _) = scan_json(t.path(), &["cut"]);
    assert!(r.stderr.contains("no footer"), "{}", r.stderr);
    let mut bad = whole.clone();
    let at = memchr::memmem::find(&bad, b"here you go").unwrap();
    // Break the page that holds the message: its header is a few bytes before the values.
    let page_start = memchr::memmem::rfind(&bad[..at], b"hi 40000").unwrap();
    bad[page_start - 40..page_start].fill(0xff);
    t.write("bad/b.parquet", &bad);
    let (r, doc) = scan_json(t.path(), &["bad"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        located(&doc)
            .iter()
            .any(|(l, _)| l == "bad/b.parquet › row group 0 › text › row 7:1:7"),
        "{:?}",
        located(&doc)
    );
    assert!(
        doc["summary"]["errors"].as_u64().unwrap() >= 1,
        "{}",
        r.stderr
    );
}

/// Arrow IPC written by pyarrow: Feather v2 files with LZ4, zstd and no compression, and an IPC
/// stream, holding strings with nulls, a list of structs (chat messages), a map, binary, a
/// string view, dictionary-encoded strings (a secret in two rows), schema metadata and several
/// record batches; numeric columns are never decoded. A cut file is read up to the cut and a
/// damaged batch is a warning naming it, the others still read.
#[test]
fn arrow_ipc_values_are_named_by_column_and_row() {
    let t = TestDir::new();
    let mut g = Gen::new(193);
    let (hf, ant, gh, slack, gl, oai, goog) = (
        g.huggingface(),
        g.anthropic(),
        g.github_pat(),
        g.slack_bot(),
        g.gitlab(),
        g.openai(),
        g.google(),
    );
    let script = format!(
        r#"
import pyarrow as pa, pyarrow.feather as feather, pyarrow.ipc as ipc
n = 30_000
text = ["row %d says hello" % i for i in range(n)]
text[5] = None
text[7] = "token " + {hf:?}
msgs = [[{{"role": "user", "content": "hi %d" % i}}, {{"role": "assistant", "content": "ok"}}] for i in range(n)]
msgs[21872][1]["content"] = "here you go: " + {ant:?}
headers = [[("x-trace", "abc")] for _ in range(n)]
headers[123] = [("authorization", "token " + {gh:?})]
blobs = [b"\x00\x01" for _ in range(n)]
blobs[29_999] = b"\x00SLACK=" + {slack:?}.encode()
source = ["web" if i % 2 else "api" for i in range(n)]
source[11] = source[13] = "key " + {oai:?}
view = ["v%d" % i for i in range(n)]
view[15_000] = "google " + {goog:?}
table = pa.table({{
    "id": pa.array(range(n), pa.int64()),
    "score": pa.array([i * 0.5 for i in range(n)], pa.float64()),
    "text": pa.array(text, pa.large_string()),
    "messages": msgs,
    "headers": pa.array(headers, pa.map_(pa.string(), pa.string())),
    "blob": pa.array(blobs, pa.binary()),
    "source": pa.array(source).dictionary_encode(),
    "view": pa.array(view, pa.string_view()),
}}).replace_schema_metadata({{"notes": "uploaded with " + {gl:?}}})
for codec in ["lz4", "zstd", "uncompressed"]:
    feather.write_feather(table, "train-%s.feather" % codec, compression=codec, chunksize=10_000)
with ipc.new_stream("train.arrows", table.schema) as w:
    w.write_table(table, max_chunksize=10_000)
# The bytes of text a file holds: every non-empty string and binary value (a dictionary's value
# in each row that holds it), and the schema's metadata values.
strings = sum(len(s.encode()) for s in text if s) + sum(len(s) for s in blobs)
strings += sum(len(m["role"]) + len(m["content"]) for row in msgs for m in row)
strings += sum(len(k) + len(v) for row in headers for k, v in row) + sum(len(s) for s in source)
strings += sum(len(s) for s in view)
print(strings + sum(len(v) for v in table.schema.metadata.values()))
"#
    );
    let Some(out) = python(t.path(), &script, "python3 with pyarrow") else {
        return;
    };
    let text_bytes: u64 = out.trim().parse().unwrap();
    let (r, doc) = scan_json(t.path(), &["."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut expected = BTreeSet::new();
    for f in [
        "train-lz4.feather",
        "train-zstd.feather",
        "train-uncompressed.feather",
        "train.arrows",
    ] {
        for (place, rule) in [
            ("text › row 7:1:7", "huggingface.token"),
            ("messages.content › row 21872:1:14", "anthropic.api-key"),
            ("headers.value › row 123:1:7", "github.pat.classic"),
            ("blob › row 29999:1:8", "slack.bot-token"),
            ("source › row 11:1:5", "openai.api-key.project"),
            ("source › row 13:1:5", "openai.api-key.project"),
            ("view › row 15000:1:8", "google.api-key"),
            ("metadata › notes:1:15", "gitlab.pat"),
        ] {
            expected.insert((format!("{f} › {place}"), rule.to_string()));
        }
    }
    assert_eq!(located(&doc), expected, "{}", r.stderr);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
    // Exactly the text was scanned: no number (0.5 MB a file) was decoded.
    assert_eq!(doc["summary"]["scanned_bytes"], 4 * text_bytes);

    // A cut file: the batches before the cut are read, with a warning.
    let whole = std::fs::read(t.path().join("train-uncompressed.feather")).unwrap();
    t.write("cut/a.feather", &whole[..whole.len() / 2]);
    let (r, doc) = scan_json(t.path(), &["cut"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no footer"), "{}", r.stderr);
    assert!(
        located(&doc).contains(&(
            "cut/a.feather › text › row 7:1:7".to_string(),
            "huggingface.token".to_string()
        )),
        "{:?}",
        located(&doc)
    );
    // A damaged batch (its offsets overwritten) is a warning naming it; the others are read.
    let mut bad = whole.clone();
    // The last copy of row 10000's text starts batch 1's values; the batch's large_string
    // offsets are just before them.
    let at = memchr::memmem::rfind(&bad, b"row 10000 says hello").unwrap();
    bad[at - 4000..at - 8].fill(0x7f);
    t.write("bad/b.feather", &bad);
    let (r, doc) = scan_json(t.path(), &["bad"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        located(&doc).contains(&(
            "bad/b.feather › text › row 7:1:7".to_string(),
            "huggingface.token".to_string()
        )),
        "{:?}",
        located(&doc)
    );
    assert!(
        doc["summary"]["errors"].as_u64().unwrap() >= 1,
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("record batch 1"), "{}", r.stderr);
}

/// Feather v1 (the format before Arrow IPC, `FEA1` at both ends: pyarrow 25 still writes it,
/// deprecated): not parsed, scanned as bytes. Its string columns are an offsets buffer and the
/// values end to end, uncompressed, so a secret in a value is found in the raw bytes (named by
/// the file, not by column and row).
#[test]
fn feather_v1_strings_are_found_as_raw_bytes() {
    let t = TestDir::new();
    let mut g = Gen::new(194);
    let (hf, gh) = (g.huggingface(), g.github_pat());
    let script = format!(
        r#"
import warnings, pyarrow as pa, pyarrow.feather as feather
warnings.simplefilter("ignore")
n = 5_000
text = ["row %d says hello; " % i for i in range(n)]
text[7] = "token " + {hf:?} + "\n"
notes = [None if i % 3 else "note %d; " % i for i in range(n)]
notes[4_242] = "ghp " + {gh:?} + " "
table = pa.table({{"id": pa.array(range(n), pa.int64()), "text": text, "notes": notes}})
feather.write_feather(table, "old.feather", version=1)
print(open("old.feather", "rb").read(4).decode())
"#
    );
    let Some(out) = python(t.path(), &script, "python3 with pyarrow") else {
        return;
    };
    assert_eq!(out.trim(), "FEA1");
    let (r, doc) = scan_json(t.path(), &["old.feather"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let rules: BTreeSet<(String, String)> = located(&doc)
        .into_iter()
        .map(|(place, rule)| {
            (
                place.split(':').next().unwrap_or_default().to_string(),
                rule,
            )
        })
        .collect();
    assert_eq!(
        rules,
        set(&[
            ("old.feather", "huggingface.token"),
            ("old.feather", "github.pat.classic")
        ]),
        "{}",
        r.stderr
    );
    assert_eq!(
        secrets(&doc),
        [hf, gh].into_iter().collect::<BTreeSet<_>>(),
        "{}",
        r.stderr
    );
}

/// A Parquet file that makes the `parquet` crate panic (a pyarrow-written file with a few bytes
/// changed: `assertion failed: size <= src.len()` in its bit reader, found by mutating files):
/// the panic is that column chunk's warning, printed without the panic hook's "internal error",
/// and the other columns are still read. Before, the whole scan ended with exit 2.
#[test]
fn a_parquet_decoder_panic_is_a_warning_on_its_column_chunk() {
    let t = TestDir::new();
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz/parquet/panic-bit-reader.parquet"),
    )
    .unwrap();
    t.write("panic.parquet", &bytes);
    let (r, doc) = scan_json(t.path(), &["panic.parquet", "--show-invalid"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("internal error"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "panic.parquet › row group 2 › tags: column chunk unreadable from here on: the \
             decoder failed on malformed data (assertion failed: size <= src.len())"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(
        located(&doc),
        set(&[(
            "panic.parquet › row group 0 › messages.content › row 9:1:1",
            "github.pat.classic"
        )])
    );
}

/// A Hugging Face cache in the layout `huggingface_hub` writes (its own `_create_symlink` and
/// folder naming; `scan_cache_dir` must read it back): two revisions of a model linking the
/// same blob, a dataset, and the stored login token.
#[test]
fn hugging_face_caches_are_named_by_repository_revision_and_path() {
    let t = TestDir::new();
    let mut g = Gen::new(193);
    let (hf, gh, login) = (g.huggingface(), g.github_pat(), g.huggingface());
    let (main, old, data) = ("a1".repeat(20), "b2".repeat(20), "c3".repeat(20));
    let script = format!(
        r##"
import os, hashlib
from huggingface_hub import scan_cache_dir
from huggingface_hub.file_download import _create_symlink, repo_folder_name
home = os.path.abspath("cache/huggingface")
hub = os.path.join(home, "hub")
def put(repo_id, repo_type, rev, files, ref=None):
    d = os.path.join(hub, repo_folder_name(repo_id=repo_id, repo_type=repo_type))
    os.makedirs(os.path.join(d, "blobs"), exist_ok=True)
    for path, content in files.items():
        blob = os.path.join(d, "blobs", hashlib.sha256(content).hexdigest())
        with open(blob, "wb") as f:
            f.write(content)
        dst = os.path.join(d, "snapshots", rev, path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        _create_symlink(blob, dst, new_blob=True)
    if ref:
        os.makedirs(os.path.join(d, "refs"), exist_ok=True)
        with open(os.path.join(d, "refs", ref), "w") as f:
            f.write(rev)
config = ('{{"model_type": "llama", "hub_token": "%s"}}' % {hf:?}).encode()
put("acme/tiny-llm", "model", {old:?}, {{"config.json": config}})
put("acme/tiny-llm", "model", {main:?}, {{"config.json": config, "README.md": b"# tiny\n"}}, ref="main")
put("acme/chats", "dataset", {data:?}, {{"data/train.jsonl": ('{{"text": "push with %s"}}\n' % {gh:?}).encode()}}, ref="main")
with open(os.path.join(home, "token"), "w") as f:
    f.write({login:?})
seen = sorted((r.repo_type, r.repo_id, len(r.revisions)) for r in scan_cache_dir(hub).repos)
assert seen == [("dataset", "acme/chats", 1), ("model", "acme/tiny-llm", 2)], seen
"##
    );
    if python(t.path(), &script, "python3 with huggingface_hub").is_none() {
        return;
    }
    let expected = set(&[
        (
            &format!("hf://acme/tiny-llm@{main}/config.json:1:39"),
            "huggingface.token",
        ),
        (
            &format!("hf://datasets/acme/chats@{data}/data/train.jsonl:1:21"),
            "github.pat.classic",
        ),
        (
            "cache/huggingface/token › Hub token file:1:1",
            "huggingface.token",
        ),
    ]);
    for follow in [false, true] {
        let mut args = vec!["cache"];
        if follow {
            args.push("--follow-symlinks");
        }
        let (r, doc) = scan_json(t.path(), &args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(located(&doc), expected, "follow {follow}: {}", r.stderr);
        let model = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["origin"][0]["repo"] == "acme/tiny-llm")
            .unwrap();
        assert_eq!(
            model["origin"][0]["also"],
            serde_json::json!([format!("{old}/config.json")])
        );
        assert!(
            model["origin"][0]["file"]
                .as_str()
                .unwrap()
                .starts_with("cache/huggingface/hub/models--acme--tiny-llm/blobs/")
        );
    }
}

//! ML artifacts: notebooks, pickles and PyTorch checkpoints, safetensors, GGUF and ONNX. Each
//! test builds its files in code (tests/common/make.rs) and asserts the exact place reported
//! for every secret, and that tensor bytes holding a token-shaped decoy are not scanned.

use serde_json::json;

use crate::common::located;
use crate::common::make::{self, Py};
use crate::common::secrets::Gen;
use crate::common::{TestDir, python, run, run_stdin};

fn pair(location: &str, rule: &str) -> (String, String) {
    (location.to_string(), rule.to_string())
}

/// Bytes of tensor data with a token-shaped decoy in the middle: numbers, never scanned.
fn tensor_bytes(len: usize, decoy: &str) -> Vec<u8> {
    let mut v = vec![0x3fu8; len];
    let mid = len / 2;
    v[mid..mid + decoy.len()].copy_from_slice(decoy.as_bytes());
    v
}

#[test]
fn notebook_cells_and_outputs_are_scanned_as_text_with_their_place() {
    let t = TestDir::new();
    let mut g = Gen::new(70);
    let (hf, gh, ant, akia, slack) = (
        g.huggingface(),
        g.github_pat(),
        g.anthropic(),
        g.aws_key_id(),
        g.slack_bot(),
    );
    let decoy = g.github_pat();
    let source1 = format!("import os\nos.environ['HF_TOKEN'] = '{hf}'\n");
    let cells = [
        ("markdown", "# EDA\nNotes only.\n", vec![]),
        (
            "code",
            source1.as_str(),
            vec![json!({
                "output_type": "stream", "name": "stdout",
                "text": ["loading...\n", format!("logged in with {gh}\n")],
            })],
        ),
        (
            "code",
            "client.api_key\n",
            vec![
                json!({
                    "output_type": "execute_result", "execution_count": 2, "metadata": {},
                    "data": {
                        "text/plain": [format!("'{ant}'")],
                        "text/html": [format!("<b>{ant}</b>")],
                    },
                }),
                // A 3 MB image: skipped by the parser, decoy and all.
                json!({
                    "output_type": "display_data", "metadata": {},
                    "data": {
                        "image/png": format!("{}{decoy}", make::png_base64(3 << 20)),
                        "text/plain": ["<Figure size 640x480 with 1 Axes>"],
                    },
                }),
            ],
        ),
        (
            "code",
            "raise ValueError(key)\n",
            vec![json!({
                "output_type": "error", "ename": "ValueError",
                "evalue": format!("bad key {akia}"),
                "traceback": [
                    "\u{1b}[0;31m-------------------------\u{1b}[0m",
                    format!("\u{1b}[0;31mValueError\u{1b}[0m: bad key {akia}"),
                ],
            })],
        ),
    ];
    // papermill keeps a run's parameters in the notebook's metadata.
    let metadata = json!({"papermill": {"parameters": {"slack_token": slack}}});
    let nb = make::notebook(&cells, metadata);
    t.write("eda.ipynb", &nb);
    let (r, doc) = t.scan_json(&["eda.ipynb"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [
            pair("eda.ipynb › cells[1].outputs[0]:2:16", "github.pat.classic"),
            pair("eda.ipynb › cells[1].source:2:27", "huggingface.token"),
            pair(
                "eda.ipynb › cells[2].outputs[0][text/html]:1:4",
                "anthropic.api-key"
            ),
            pair(
                "eda.ipynb › cells[2].outputs[0][text/plain]:1:2",
                "anthropic.api-key"
            ),
            pair("eda.ipynb › cells[3].outputs[0]:2:21", "aws.access-key-id"),
            pair("eda.ipynb › ipynb:metadata:4:23", "slack.bot-token"),
        ]
    );
    let f = &doc["findings"][1];
    assert_eq!(
        f["origin"],
        json!([
            {"kind": "file", "path": "eda.ipynb"},
            {"kind": "cell", "index": 1, "part": "source"},
        ])
    );
    assert_eq!(
        doc["findings"][0]["origin"][1],
        json!({"kind": "cell", "index": 1, "part": "output", "output": 0})
    );
    // Offsets count in the cell's text, as lines and columns do.
    assert_eq!(f["offset"], source1.find("hf_").unwrap());
    // The traceback was scanned without its colour codes.
    assert!(
        doc["findings"][4]["context"]
            .as_str()
            .unwrap()
            .starts_with("ValueError: bad key AKIA"),
        "{}",
        doc["findings"][4]["context"]
    );
    // The image was not scanned: far fewer bytes went through the matcher than the file has.
    let scanned = doc["summary"]["scanned_bytes"].as_u64().unwrap();
    assert!(scanned < 10_000, "scanned {scanned} of {} bytes", nb.len());
    assert_eq!(doc["summary"]["errors"], 0);

    // The same notebook from stdin, and saved under another name (found by its content).
    let r = run_stdin(t.ferret().args(["scan", "-", "-f", "json"]), &nb);
    assert_eq!(
        located(&r.json())[1],
        pair("<stdin> › cells[1].source:2:27", "huggingface.token")
    );
    t.write("export/report.json", &nb);
    let (_, doc) = t.scan_json(&["export/report.json"]);
    assert_eq!(
        located(&doc)[1],
        pair(
            "export/report.json › cells[1].source:2:27",
            "huggingface.token"
        )
    );
}

#[test]
fn notebook_checkpoints_are_scanned_and_a_broken_notebook_is_scanned_as_bytes() {
    let t = TestDir::new();
    let mut g = Gen::new(71);
    let (hf, gh) = (g.huggingface(), g.github_pat());
    let good = make::notebook(&[("code", &format!("token = '{hf}'\n"), vec![])], json!({}));
    t.write("nb/.ipynb_checkpoints/train-checkpoint.ipynb", &good);
    let broken = make::notebook(
        &[
            ("code", &format!("GITHUB_TOKEN = '{gh}'\n"), vec![]),
            ("code", &"x = 1\n".repeat(50), vec![]),
        ],
        json!({}),
    );
    // Cut in the middle: not JSON any more.
    let cut = &broken[..broken.len() * 2 / 3];
    t.write("nb/train.ipynb", cut);
    let (r, doc) = t.scan_json(&["nb"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The raw bytes' line and column: where the token sits in the JSON file.
    let text = String::from_utf8_lossy(cut);
    let at = text.find("ghp_").unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    assert_eq!(
        located(&doc),
        [
            pair(
                "nb/.ipynb_checkpoints/train-checkpoint.ipynb › cells[0].source:1:10",
                "huggingface.token"
            ),
            pair(
                &format!("nb/train.ipynb:{line}:{column}"),
                "github.pat.classic"
            ),
        ]
    );
    assert!(
        r.stderr
            .contains("nb/train.ipynb: malformed notebook (EOF while parsing"),
        "{}",
        r.stderr
    );
    assert_eq!(doc["summary"]["errors"], 1);
}

/// A Lightning-style checkpoint object: weights, and the hyper-parameters the run was given.
fn checkpoint(hf: &str, wandb: &str) -> Py {
    Py::Dict(vec![
        (
            "state_dict".into(),
            Py::Ordered(vec![
                ("layer.weight".into(), Py::Tensor("0")),
                ("layer.bias".into(), Py::Tensor("1")),
            ]),
        ),
        (
            "hyper_parameters".into(),
            Py::Dict(vec![
                ("lr".into(), Py::Float(0.001)),
                ("wandb_api_key".into(), Py::Str(wandb.into())),
                ("hub_token".into(), Py::Str(hf.into())),
                (
                    "callbacks".into(),
                    Py::List(vec![Py::Str("ModelCheckpoint".into()), Py::Int(3)]),
                ),
            ]),
        ),
        ("epoch".into(), Py::Int(3)),
    ])
}

#[test]
fn pytorch_checkpoints_name_the_key_path_and_skip_storages() {
    let t = TestDir::new();
    let mut g = Gen::new(72);
    let hf = g.huggingface();
    let wandb = g.string(b"0123456789abcdef", 40);
    let decoy = g.github_pat();
    let weights = tensor_bytes(4 << 20, &decoy);
    let storages: [(&str, &[u8]); 2] = [("0", &weights), ("1", b"\0\0\0\0")];
    let obj = checkpoint(&hf, &wandb);
    t.write("model.ckpt", make::torch_zip(&obj, &storages));
    t.write("legacy.pt", make::torch_legacy(&obj, &storages));
    t.write("hparams.pkl", make::pickle(&obj));
    let (r, doc) = t.scan_json(&["model.ckpt", "legacy.pt", "hparams.pkl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [
            pair(
                "hparams.pkl › pickle:hyper_parameters.hub_token:1:1",
                "huggingface.token"
            ),
            pair(
                "hparams.pkl › pickle:hyper_parameters.wandb_api_key:1:1",
                "wandb.api-key"
            ),
            pair(
                "legacy.pt › pickle:hyper_parameters.hub_token:1:1",
                "huggingface.token"
            ),
            pair(
                "legacy.pt › pickle:hyper_parameters.wandb_api_key:1:1",
                "wandb.api-key"
            ),
            pair(
                "model.ckpt › archive/data.pkl › pickle:hyper_parameters.hub_token:1:1",
                "huggingface.token"
            ),
            pair(
                "model.ckpt › archive/data.pkl › pickle:hyper_parameters.wandb_api_key:1:1",
                "wandb.api-key"
            ),
        ]
    );
    let f = &doc["findings"][4];
    assert_eq!(
        f["origin"],
        json!([
            {"kind": "file", "path": "model.ckpt"},
            {"kind": "entry", "path": "archive/data.pkl"},
            {"kind": "pickle", "path": "hyper_parameters.hub_token"},
        ])
    );
    // The key is context: `hyper_parameters.hub_token = "hf_…"`.
    assert!(
        f["context"]
            .as_str()
            .unwrap()
            .starts_with("hyper_parameters.hub_token = \"hf_"),
        "{}",
        f["context"]
    );
    // Storages were skipped: the 4 MiB of weights (twice) were not scanned.
    let scanned = doc["summary"]["scanned_bytes"].as_u64().unwrap();
    assert!(scanned < 100_000, "scanned {scanned} bytes");
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
}

#[test]
fn a_damaged_pickle_keeps_its_strings_and_scans_the_rest_as_bytes() {
    let t = TestDir::new();
    let mut g = Gen::new(73);
    let (hf, gh) = (g.huggingface(), g.github_pat());
    let mut p = make::pickle(&Py::Dict(vec![("hub_token".into(), Py::Str(hf.clone()))]));
    p.pop(); // no STOP
    p.extend_from_slice(b"\xff garbage then GITHUB_TOKEN=");
    p.extend_from_slice(gh.as_bytes());
    p.push(b'\n');
    t.write("run.pkl", &p);
    let (r, doc) = t.scan_json(&["run.pkl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The raw bytes' position of the token after the damage.
    let at = memchr::memmem::find(&p, gh.as_bytes()).unwrap();
    let line = p[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = p[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // Columns count code points: every byte that is not a UTF-8 continuation byte.
    let column = p[line_start..at]
        .iter()
        .filter(|&&b| b & 0xc0 != 0x80)
        .count()
        + 1;
    assert_eq!(
        located(&doc),
        [
            pair(&format!("run.pkl:{line}:{column}"), "github.pat.classic"),
            pair("run.pkl › pickle:hub_token:1:1", "huggingface.token"),
        ]
    );
    assert_eq!(doc["findings"][0]["offset"], at);
    assert!(
        r.stderr
            .contains("run.pkl: pickle not fully read (unknown opcode 0xff"),
        "{}",
        r.stderr
    );
}

#[test]
fn pickles_written_by_python_in_every_protocol() {
    let t = TestDir::new();
    let mut g = Gen::new(74);
    let (hf, gh) = (g.huggingface(), g.github_pat());
    // Real pickles from CPython's pickle module: an argparse.Namespace (an object rebuilt
    // through its class and state), an OrderedDict, a tuple and bytes, in protocols 0 to 5;
    // and a torch.save-like zip written with a persistent_id hook, as torch does.
    let script = format!(
        r#"
import argparse, collections, io, pickle, zipfile
args = argparse.Namespace(hub_token={hf:?}, lr=0.1, tags=("a", "b"))
obj = {{"config": args, "meta": collections.OrderedDict([("note", b"GITHUB_TOKEN={gh}")])}}
for proto in range(6):
    with open("p%d.pkl" % proto, "wb") as f:
        pickle.dump(obj, f, protocol=proto)
class P(pickle.Pickler):
    def persistent_id(self, o):
        return ("storage", "FloatStorage", "0", "cpu", 4) if o is STORAGE else None
STORAGE = object()
buf = io.BytesIO()
P(buf, protocol=2).dump({{"state_dict": {{"w": STORAGE}}, "hyper_parameters": obj}})
with zipfile.ZipFile("torch_like.pt", "w", zipfile.ZIP_STORED) as z:
    z.writestr("torch_like/data.pkl", buf.getvalue())
    z.writestr("torch_like/data/0", b"\0" * 16)
    z.writestr("torch_like/version", "3\n")
"#
    );
    if python(t.path(), &script, "python3 pickle").is_none() {
        return;
    }
    let mut names: Vec<String> = (0..6).map(|p| format!("p{p}.pkl")).collect();
    names.push("torch_like.pt".into());
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    let (r, doc) = t.scan_json(&args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut expected = Vec::new();
    for p in 0..6 {
        expected.push(pair(
            &format!("p{p}.pkl › pickle:config.hub_token:1:1"),
            "huggingface.token",
        ));
        expected.push(pair(
            &format!("p{p}.pkl › pickle:meta.note:1:14"),
            "github.pat.classic",
        ));
    }
    expected.push(pair(
        "torch_like.pt › torch_like/data.pkl › pickle:hyper_parameters.config.hub_token:1:1",
        "huggingface.token",
    ));
    expected.push(pair(
        "torch_like.pt › torch_like/data.pkl › pickle:hyper_parameters.meta.note:1:14",
        "github.pat.classic",
    ));
    assert_eq!(located(&doc), expected);
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
}

#[test]
fn safetensors_gguf_and_onnx_metadata_are_scanned_and_tensors_skipped() {
    let t = TestDir::new();
    let mut g = Gen::new(75);
    let (hf, gh, ant) = (g.huggingface(), g.github_pat(), g.anthropic());
    let decoy = g.github_pat();
    let payload = tensor_bytes(4 << 20, &decoy);

    let mut st = make::safetensors(&[("format", "pt"), ("hub_token", &hf)], 4 << 20);
    let n = st.len();
    st[n - 100..n - 100 + decoy.len()].copy_from_slice(decoy.as_bytes());
    t.write("model.safetensors", &st);
    let url = format!("https://user:{hf}@huggingface.co/acme/tiny");
    t.write(
        "model.gguf",
        make::gguf(
            &[
                ("general.architecture", "llama"),
                ("general.source.url", &url),
            ],
            &["<s>", "</s>", &gh],
            &payload,
        ),
    );
    t.write(
        "model.onnx",
        make::onnx(
            &[("hub_token", &hf)],
            &format!("exported with {ant}"),
            &payload,
        ),
    );
    let (r, doc) = t.scan_json(&["model.safetensors", "model.gguf", "model.onnx"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [
            pair(
                "model.gguf › gguf:general.source.url:1:14",
                "huggingface.token"
            ),
            pair(
                "model.gguf › gguf:tokenizer.ggml.tokens[2]:1:1",
                "github.pat.classic"
            ),
            pair(
                "model.onnx › onnx:graph.node[0].doc_string:1:15",
                "anthropic.api-key"
            ),
            pair(
                "model.onnx › onnx:metadata_props.hub_token:1:1",
                "huggingface.token"
            ),
            pair(
                "model.safetensors › safetensors:__metadata__.hub_token:1:1",
                "huggingface.token"
            ),
        ]
    );
    assert_eq!(
        doc["findings"][0]["origin"][1],
        json!({"kind": "metadata", "format": "gguf", "key": "general.source.url"})
    );
    let scanned = doc["summary"]["scanned_bytes"].as_u64().unwrap();
    assert!(scanned < 10_000, "scanned {scanned} bytes");
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
}

#[test]
fn model_files_are_recognised_by_their_bytes_not_their_names() {
    let t = TestDir::new();
    let mut g = Gen::new(76);
    let hf = g.huggingface();
    let obj = Py::Dict(vec![("hub_token".into(), Py::Str(hf.clone()))]);
    t.write("blob1", make::pickle(&obj));
    t.write("blob2", make::torch_zip(&obj, &[("0", b"\0\0\0\0")]));
    t.write("blob3", make::gguf(&[("hub_token", &hf)], &[], b"\0\0\0\0"));
    t.write("blob4", make::onnx(&[("hub_token", &hf)], "", b"\0\0\0\0"));
    let (r, doc) = t.scan_json(&["blob1", "blob2", "blob3", "blob4"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let locs: Vec<String> = located(&doc).into_iter().map(|(l, _)| l).collect();
    assert_eq!(
        locs,
        [
            "blob1 › pickle:hub_token:1:1",
            "blob2 › archive/data.pkl › pickle:hub_token:1:1",
            "blob3 › gguf:hub_token:1:1",
            "blob4 › onnx:metadata_props.hub_token:1:1",
        ]
    );
}

#[test]
fn bytes_that_only_start_like_a_pickle_are_scanned_as_bytes_without_a_warning() {
    let t = TestDir::new();
    let token = Gen::new(79).github_pat();
    // PROTO 2 and an EMPTY_DICT, then no pickle at all.
    let mut b = b"\x80\x02}\xff\xfe raw weights\n".to_vec();
    b.extend_from_slice(format!("GITHUB_TOKEN={token}\n").as_bytes());
    t.write("weights.bin", &b);
    let (r, doc) = t.scan_json(&["weights.bin"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [pair("weights.bin:2:14", "github.pat.classic")]
    );
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
}

/// A 10 GB safetensors and a 10 GB GGUF file (sparse: no disk used) scan in time proportional
/// to their headers. The bound is loose (a debug build on a busy machine); the point is that
/// reading 10 GB would take far longer.
#[test]
fn ten_gigabyte_model_files_cost_their_header() {
    let t = TestDir::new();
    let hf = Gen::new(77).huggingface();
    let ten_gb = 10u64 << 30;
    let st = make::safetensors(&[("hub_token", &hf)], 0);
    let gguf = make::gguf(&[("hub_token", &hf)], &["a", "b"], b"");
    for (name, head) in [("big.safetensors", st), ("big.gguf", gguf)] {
        let path = t.write(name, &head);
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(ten_gb).unwrap();
    }
    let started = std::time::Instant::now();
    let (r, doc) = t.scan_json(&["big.safetensors", "big.gguf"]);
    let elapsed = started.elapsed();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(located(&doc).len(), 2, "{}", r.stderr);
    assert_eq!(doc["summary"]["bytes"].as_u64().unwrap(), 2 * ten_gb);
    assert!(doc["summary"]["scanned_bytes"].as_u64().unwrap() < 10_000);
    assert!(
        elapsed.as_secs() < 20,
        "20 GB of model files took {elapsed:?}"
    );
}

/// Files written by the libraries that define the formats: `safetensors`, `gguf` (llama.cpp's
/// Python writer) and `onnx`, with numpy tensors. CI installs them (.ci/run) and sets
/// FERRET_REQUIRE_TOOLS=1; elsewhere the test is skipped, loudly, when they are missing.
#[test]
fn model_files_written_by_the_real_libraries() {
    let t = TestDir::new();
    let mut g = Gen::new(78);
    let (hf, gh, ant) = (g.huggingface(), g.github_pat(), g.anthropic());
    let decoy = g.github_pat();
    let script = format!(
        r#"
import numpy as np
weights = np.frombuffer((b"\0" * 2_000_000) + {decoy:?}.encode() + (b"\0" * 2_000_064), dtype=np.float32)

from safetensors.numpy import save_file
save_file({{"layer.weight": weights}}, "real.safetensors", metadata={{"format": "np", "hub_token": {hf:?}}})

import gguf
w = gguf.GGUFWriter("real.gguf", "llama")
w.add_string("general.source.url", "https://user:{hf}@huggingface.co/acme/tiny")
w.add_token_list(["<s>", {gh:?}, "</s>"])
w.add_tensor("token_embd.weight", weights)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

import onnx
from onnx import TensorProto, helper, numpy_helper
node = helper.make_node("Add", ["x", "w"], ["y"], name="add0", doc_string="exported with {ant}")
graph = helper.make_graph(
    [node], "main",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [weights.size])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [weights.size])],
    [numpy_helper.from_array(weights, "w")],
)
model = helper.make_model(graph, producer_name="ferret-tests")
helper.set_model_props(model, {{"hub_token": {hf:?}}})
onnx.save(model, "real.onnx")
"#
    );
    if python(
        t.path(),
        &script,
        "python3 with numpy, safetensors, gguf and onnx",
    )
    .is_none()
    {
        return;
    }
    let (r, doc) = t.scan_json(&["real.safetensors", "real.gguf", "real.onnx"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        located(&doc),
        [
            pair(
                "real.gguf › gguf:general.source.url:1:14",
                "huggingface.token"
            ),
            pair(
                "real.gguf › gguf:tokenizer.ggml.tokens[1]:1:1",
                "github.pat.classic"
            ),
            pair(
                "real.onnx › onnx:graph.node[0].doc_string:1:15",
                "anthropic.api-key"
            ),
            pair(
                "real.onnx › onnx:metadata_props.hub_token:1:1",
                "huggingface.token"
            ),
            pair(
                "real.safetensors › safetensors:__metadata__.hub_token:1:1",
                "huggingface.token"
            ),
        ]
    );
    // 4 MB of weights in each file, and the decoy in them, were not scanned.
    let scanned = doc["summary"]["scanned_bytes"].as_u64().unwrap();
    assert!(scanned < 10_000, "scanned {scanned} bytes");
    assert_eq!(doc["summary"]["errors"], 0, "{}", r.stderr);
}

#[test]
fn notebook_findings_point_at_the_notebook_file_line_in_sarif() {
    // Code scanning annotates the .ipynb file itself: the SARIF region is the line of the
    // notebook's JSON that holds the secret, while the cell and the line inside it stay in the
    // logical location. The same secret in two cells gets two different file lines.
    let t = TestDir::new();
    let mut g = Gen::new(71);
    let (hf, gh) = (g.huggingface(), g.github_pat());
    let nb = json!({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Setup\n", "Log in first.\n"]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
             "source": ["from huggingface_hub import login\n", format!("login(token=\"{hf}\")\n")]},
            {"cell_type": "code", "execution_count": 2, "metadata": {},
             "outputs": [{"output_type": "stream", "name": "stdout",
                          "text": ["cloning\n", format!("remote: https://{gh}@github.com/a/b\n")]}],
             "source": ["!git clone https://github.com/a/b\n"]},
            {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [],
             "source": [format!("HF = \"{hf}\"\n")]},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5
    });
    let text = serde_json::to_string_pretty(&nb).unwrap();
    t.write("eda.ipynb", text.as_bytes());
    let line_of = |needle: &str, nth: usize| {
        text.lines()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .nth(nth)
            .map(|(i, l)| (i as u64 + 1, l.find(needle).unwrap() as u64 + 1))
            .unwrap()
    };
    let mut cmd = t.ferret();
    cmd.args(["scan", "eda.ipynb", "-f", "sarif"]);
    let r = run(&mut cmd);
    let sarif = r.json();
    let mut got: Vec<(String, u64, u64)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|res| {
            let loc = &res["locations"][0];
            let region = &loc["physicalLocation"]["region"];
            (
                loc["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                region["startLine"].as_u64().unwrap(),
                region["startColumn"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let (l1, c1) = line_of(&hf, 0);
    let (l2, c2) = line_of(&gh, 0);
    let (l3, c3) = line_of(&hf, 1);
    let mut want = vec![
        ("eda.ipynb › cells[1].source".to_string(), l1, c1),
        ("eda.ipynb › cells[2].outputs[0]".to_string(), l2, c2),
        ("eda.ipynb › cells[3].source".to_string(), l3, c3),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_ne!(l1, l3);

    // JSON keeps the line inside the cell and adds the file's.
    let (_, doc) = t.scan_json(&["eda.ipynb"]);
    let f = &doc["findings"][0];
    assert_eq!(f["location"], "eda.ipynb › cells[1].source:2:14");
    assert_eq!(f["file_line"], l1);

    // Inside an archive the notebook's lines are not lines of the outer file: none is given.
    let tar = make::tar(&[("nb/eda.ipynb", text.as_bytes())]);
    t.write("bundle.tar", &tar);
    let (_, doc) = t.scan_json(&["bundle.tar"]);
    assert!(doc["findings"][0].get("file_line").is_none());
}

#!/usr/bin/env python3
"""Writes a small seed corpus for each fuzz target into fuzz/seeds/TARGET/ (standard library
only, plus the `zstd` command when present). Seeds are valid inputs holding synthetic secrets,
so the fuzzer starts from the code paths real files take. Run by fuzz/run.sh."""
import gzip
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "seeds")
# Synthetic, made up for ferret's tests (see fixtures/README.md): right prefixes and lengths.
GH = "ghp_" + "R7tK2mQ9vX4bN8cL1pZ6wY3sD5fH0jA8eG2u"
HF = "hf_" + "qWvXyZaBcDeFgHiJkLmNoPqRsTuVwXyZaB"
ENV = f"GITHUB_TOKEN={GH}\nHF_TOKEN={HF}\n".encode()


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, body in entries:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            t.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def zip_bytes(entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, body in entries:
            z.writestr(name, body)
    return buf.getvalue()


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, body):  # a length-delimited protobuf field
    return varint(num << 3 | 2) + varint(len(body)) + body


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    # notebook
    nb = {"cells": [
        {"cell_type": "code", "source": ["import os\n", f"os.environ['HF_TOKEN'] = '{HF}'\n"],
         "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"token {GH}\n"]},
                     {"output_type": "display_data", "data": {"text/plain": ["x"], "image/png": "iVBORw0KGgo="}}]},
        {"cell_type": "markdown", "source": "# notes"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    put("notebook", "nb.ipynb", json.dumps(nb, indent=1).encode())
    with open(os.path.join(HERE, "..", "fixtures", "notebooks", "eda.ipynb"), "rb") as f:
        put("notebook", "eda.ipynb", f.read())
    # pickle: every protocol, nested dicts, bytes, a reduce
    args = {"hyper_parameters": {"wandb_api_key": "a" * 8 + "3f9c2e7d41b6a8c05e1d9f7b2a4c6e8d0f1b3a5c",
                                 "hub_token": HF, "lr": 1e-4, "layers": [1, 2, (3, b"x")]},
            "env": ENV, "note": GH, "set": {1, 2}, "frozen": frozenset([3])}
    for proto in range(0, 6):
        put("pickle", f"args-p{proto}.pkl", pickle.dumps(args, protocol=proto))
    put("pickle", "torch-like.pkl", pickle.dumps(
        {"state_dict": {"w": bytearray(b"\x00" * 16)}, "args": args}, protocol=2))
    # safetensors: header length framed by the target (first byte even), whole file (odd)
    header = json.dumps({"__metadata__": {"hub_token": HF, "format": "pt"},
                         "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}).encode()
    put("safetensors", "framed", b"\x00" + header)
    put("safetensors", "whole", b"\x01" + struct.pack("<Q", len(header)) + header + b"\x00" * 16)
    # nested empty arrays (no text) beside strings, and JSON kept in a metadata string
    nest = "[" + ",".join(["[]", "[[],[1]]", "[[\"x\"]]"] * 50) + "]"
    header = ('{"__metadata__": {"x": %s, "cfg": %s, "hub_token": "%s"}, "w": {"shape": %s}}'
              % (nest, json.dumps(json.dumps({"token": HF})), HF, nest)).encode()
    put("safetensors", "nested", b"\x00" + header)
    put("notebook", "nested.ipynb", ('{"nbformat": 4, "metadata": {"x": %s, "k": "%s"}, "cells": '
                                     '[{"source": "x", "metadata": {"y": %s}}]}' % (nest, HF, nest)).encode())
    # gguf (v3): two string key/values, an array, one tensor description
    def s(x):
        x = x.encode() if isinstance(x, str) else x
        return struct.pack("<Q", len(x)) + x
    kv = s("general.name") + struct.pack("<I", 8) + s("demo")
    kv += s("hub.token") + struct.pack("<I", 8) + s(HF)
    kv += s("tokenizer.ggml.tokens") + struct.pack("<I", 9) + struct.pack("<IQ", 8, 2) + s("a") + s(GH)
    tensors = s("blk.0.w") + struct.pack("<I", 1) + struct.pack("<Q", 4) + struct.pack("<I", 0) + struct.pack("<Q", 0)
    put("gguf", "v3.gguf", b"GGUF" + struct.pack("<IQQ", 3, 1, 3) + kv + tensors + b"\x00" * 32)
    # onnx: ir_version, producer, graph with a doc string, metadata_props
    graph = field(1, field(1, b"input") + field(2, b"output") + field(3, b"node0")) + field(2, b"main") + field(10, ("doc " + GH).encode())
    model = b"\x08\x07" + field(2, b"pytorch") + field(7, graph) + field(14, field(1, b"hf_token") + field(2, HF.encode()))
    put("onnx", "model.onnx", model)
    # tar, zip (and a PyTorch-style checkpoint), gzip, zstd
    inner_zip = zip_bytes([("cfg/.env", ENV)])
    put("tar", "plain.tar", tar_bytes([("app/.env", ENV), ("app/inner.zip", inner_zip), ("app/notes.txt", b"hello\n")]))
    put("zip", "plain.zip", zip_bytes([("a/.env", ENV), ("b/stored.txt", GH.encode())], zipfile.ZIP_STORED))
    put("zip", "nested.zip", zip_bytes([("x.tar", tar_bytes([(".env", ENV)])), ("y.gz", gzip.compress(ENV))]))
    put("zip", "checkpoint.zip", zip_bytes([("archive/data.pkl", pickle.dumps(args, protocol=2)),
                                            ("archive/data/0", b"\x00" * 64), ("archive/version", b"3\n")]))
    log = b"".join(b"2025-01-01 INFO step %d loss 0.1\n" % i for i in range(50)) + ENV
    put("gzip", "log.gz", gzip.compress(log)[2:])  # the target adds the magic back
    put("gzip", "tar.gz", gzip.compress(tar_bytes([(".env", ENV)]))[2:])
    if shutil.which("zstd"):
        for name, body, pick in [("log", log, b"\x01"), ("tar", tar_bytes([(".env", ENV)]), b"\x00")]:
            z = subprocess.run(["zstd", "-q", "-c"], input=body, stdout=subprocess.PIPE, check=True).stdout
            put("zstd", name, pick + z[4:])
    # images in the image target's format (see fuzz_targets/image.rs)
    config = json.dumps({"config": {"Env": [f"HF_TOKEN={HF}"], "Cmd": ["python"]},
                         "history": [{"created_by": f"RUN echo {GH}"}, {"created_by": "COPY . /app"}],
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:2", "sha256:3"]}}).encode()
    docker = json.dumps([{"Config": "1", "RepoTags": ["demo/app:1"], "Layers": ["2", "3"]}]).encode()
    put("image", "docker", b"\x00" + docker + b"\n@@\n" + config + b"\n@@\nTAR:" + ENV + b"\n@@\nWH:")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:1", "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:3", "size": 1}]}).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": "sha256:2", "size": len(manifest),
                        "annotations": {"org.opencontainers.image.ref.name": "1.0"}}]}).encode()
    put("image", "oci", b"\x01" + index + b"\n@@\n" + config + b"\n@@\n" + manifest + b"\n@@\nTAR:" + ENV)
    # views: JSON-escaped, base64, percent-encoded and coloured text
    import base64
    put("views", "json", json.dumps({"msg": "token=" + GH + "\n\u00e9\\"}).encode())
    put("views", "base64", b"Authorization: Basic " + base64.b64encode(b"user:" + GH.encode()))
    put("views", "percent", b"url=https%3A%2F%2Fx%3A" + GH.encode() + b"%40github.com")
    put("views", "ansi", b"\x1b[32mINFO\x1b[0m token \x1b[1m" + GH.encode() + b"\x1b[0m\n")
    # rules: ferret's format and gitleaks'
    for name in sorted(os.listdir(os.path.join(HERE, "..", "rules")))[:6]:
        with open(os.path.join(HERE, "..", "rules", name), "rb") as f:
            put("rules", name, f.read())
    put("rules", "gitleaks.toml", b'''title = "t"
[[rules]]
id = "demo"
description = "Demo token"
regex = \'\'\'(?i)\\b(demo_[a-z0-9]{32})(?:[\\x60\'"\\s;]|$)\'\'\'
keywords = ["demo_"]
entropy = 3.0
[[rules.allowlists]]
regexes = [\'\'\'demo_0{32}\'\'\']
''')
    # matcher: the text fixtures
    for root, _, files in os.walk(os.path.join(HERE, "..", "fixtures")):
        for name in files:
            if not name.endswith(".py"):
                with open(os.path.join(root, name), "rb") as f:
                    put("matcher", name, f.read()[:4096])
    stores()
    print(f"seeds written to {OUT}", file=sys.stderr)


def wandb_log(records):
    """A W&B log body (after the file header) of protobuf records, cut across 32 KiB blocks."""
    import zlib
    out = bytearray(b":W&B\xe1\xbe\x00")
    for r in records:
        rest, first = r, True
        while True:
            left = 32768 - len(out) % 32768
            if left < 7:
                out += b"\0" * left
                continue
            n = min(len(rest), left - 7)
            last = n == len(rest)
            kind = (1 if last else 2) if first else (4 if last else 3)
            out += struct.pack("<IHB", zlib.crc32(bytes([kind]) + rest[:n]), n, kind) + rest[:n]
            rest, first = rest[n:], False
            if not rest:
                break
    return bytes(out[7:])


def stores():
    """Seeds for the W&B, TensorBoard, Parquet and Arrow IPC readers."""
    def item(key, value):
        return field(1, key.encode()) + field(16, json.dumps(value).encode())
    config = field(5, field(1, item("hf_token", HF)) + field(1, item("lr", 0.1)))
    history = field(2, field(1, item("prompt", "use " + GH)) + field(2, b"\x08\x03"))
    output = field(13, field(3, f"logged in as {GH}\n".encode()))
    run = field(17, field(8, b"bright-fox") + field(9, ("notes " + HF).encode()) + config[1:])
    big = field(3, field(1, item("blob", "x" * 40000 + HF)))
    put("wandb", "run", wandb_log([config, history, output, run]))
    put("wandb", "split", wandb_log([history, big, output]))
    # TensorBoard events, separated as the harness expects (ff fe).
    text = field(5, field(1, field(1, b"notes") + field(8, b"\x08\x07" + field(8, f"token {HF}".encode()))))
    hp = field(5, field(1, field(1, b"_hparams_/session_start_info") + field(9, field(1, field(1, b"hparams") + field(2, field(3, field(1, field(1, b"key") + field(2, field(3, GH.encode())))))))))
    log = field(6, b"\x08\x01" + field(2, f"warn {GH}".encode()))
    put("tfevents", "events", b"\x09" + b"\0" * 8 + b"\x10\x03" + text + b"\xff\xfe" + hp + b"\xff\xfe" + log)
    # Parquet, when pyarrow is there (the CI venv).
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        print("no pyarrow: no Parquet or Arrow seeds", file=sys.stderr)
        return
    table = pa.table({
        "id": list(range(50)),
        "text": [None if i == 3 else f"row {i} {HF if i == 7 else ''}" for i in range(50)],
        "messages": [[{"role": "user", "content": GH if i == 9 else "hi"}] for i in range(50)],
        "tags": [["a", "b"] for _ in range(50)],
    })
    for codec in ["snappy", "zstd", "gzip", "none"]:
        buf = io.BytesIO()
        pq.write_table(table, buf, row_group_size=20, compression=codec)
        put("parquet", codec, buf.getvalue())
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=20, compression="none", data_page_version="2.0", use_dictionary=False)
    put("parquet", "v2-plain", buf.getvalue())
    # Arrow IPC: Feather v2 files (each codec) and a stream, with a dictionary column and
    # several record batches; the harness feeds an input starting with ARROW1 as a file.
    import pyarrow.feather as feather
    import pyarrow.ipc as ipc
    arrow_table = table.append_column("source", pa.array(["web", "api"] * 25).dictionary_encode())
    for codec in ["lz4", "zstd", "uncompressed"]:
        buf = io.BytesIO()
        feather.write_feather(arrow_table, buf, compression=codec, chunksize=20)
        put("arrow", "feather-" + codec, buf.getvalue())
    buf = io.BytesIO()
    with ipc.new_stream(buf, arrow_table.schema) as w:
        w.write_table(arrow_table, max_chunksize=20)
    put("arrow", "stream", buf.getvalue())


if __name__ == "__main__":
    main()

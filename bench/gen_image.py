#!/usr/bin/env python3
"""Generate a large container image for measuring ferret's image throughput.

    python3 bench/gen_image.py OUT.tar [--layers 48] [--layer-mb 40] [--format oci|docker]
                               [--compression gzip|none] [--seed 7]

Writes one tarball: an OCI image layout (oci-layout, index.json, blobs/sha256/...) or a
`docker save` tarball (manifest.json, config, layers), with `--layers` gzip layers of about
`--layer-mb` MB of uncompressed files each: source-like text, JSON-lines logs and base64
blobs (compressing about 2.5:1, like real application layers). A few synthetic secrets (right
format, never real) are planted in some layers, one of them in a file that a later layer
deletes, and one in the config's Env. Nothing is checked in: the data is made by this script.

Prints the sizes and the planted secrets' count to stderr.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile
import zlib

WORDS = (
    "import def return class self model train epoch loss optimizer batch tensor config "
    "dataset loader step value print logging info debug warn error checkpoint path file "
    "json yaml token request response status user session cache layer weight bias grad"
).split()
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n, width):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def github_pat(rng):
    body = "".join(rng.choice(B62) for _ in range(30))
    return "ghp_" + body + base62(zlib.crc32(body.encode()), 6)


def text_chunk(rng, size):
    """Source-like lines, JSON-lines logs and base64: about 2.5:1 under gzip."""
    parts = []
    total = 0
    while total < size:
        kind = rng.random()
        if kind < 0.45:
            line = "    " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
            line += " = %d\n" % rng.randint(0, 10**6)
        elif kind < 0.8:
            line = json.dumps(
                {
                    "ts": 1700000000 + rng.randint(0, 10**7),
                    "level": rng.choice(["info", "debug", "warn"]),
                    "msg": " ".join(rng.choice(WORDS) for _ in range(6)),
                    "step": rng.randint(0, 10**5),
                    "loss": round(rng.random(), 6),
                }
            ) + "\n"
        else:
            line = base64.b64encode(os.urandom(rng.randint(48, 96))).decode() + "\n"
        parts.append(line)
        total += len(line)
    return "".join(parts).encode()


def layer_tar(rng, index, mb, planted, whiteout):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))

        remaining = mb * 1_000_000
        n = 0
        while remaining > 0:
            size = min(remaining, rng.randint(20_000, 2_000_000))
            add("srv/layer%02d/file%04d.py" % (index, n), text_chunk(rng, size))
            remaining -= size
            n += 1
        for name, data in planted:
            add(name, data)
        for name in whiteout:
            d, _, base = name.rpartition("/")
            add((d + "/" if d else "") + ".wh." + base, b"")
    return buf.getvalue()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=48)
    ap.add_argument("--layer-mb", type=int, default=40)
    ap.add_argument("--format", choices=["oci", "docker"], default="oci")
    ap.add_argument("--compression", choices=["gzip", "none"], default="gzip")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)

    secrets = 0
    layers = []  # (uncompressed tar, stored bytes, created_by)
    for i in range(a.layers):
        planted = []
        whiteout = []
        if i % 8 == 0:
            planted.append(("app/config%02d.env" % i, ("GITHUB_TOKEN=%s\n" % github_pat(rng)).encode()))
            secrets += 1
        if i == 1:
            whiteout.append("app/config00.env")
        raw = layer_tar(rng, i, a.layer_mb, planted, whiteout)
        stored = gzip.compress(raw, compresslevel=6, mtime=0) if a.compression == "gzip" else raw
        layers.append((raw, stored, "RUN build step %d" % i))
        print("layer %d: %d MB -> %d MB" % (i, len(raw) // 10**6, len(stored) // 10**6), file=sys.stderr)

    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin", "GH_TOKEN=" + github_pat(rng)]},
            "history": [{"created_by": c} for _, _, c in layers],
            "rootfs": {"type": "layers", "diff_ids": [sha(r) for r, _, _ in layers]},
        }
    ).encode()
    secrets += 1

    with tarfile.open(a.out, "w", format=tarfile.GNU_FORMAT) as out:

        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            out.addfile(info, io.BytesIO(data))

        if a.format == "oci":
            media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if a.compression == "gzip" else "")
            add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            descs = []
            for _, stored, _ in layers:
                d = sha(stored)
                add("blobs/sha256/" + d[7:], stored)
                descs.append({"mediaType": media, "digest": d, "size": len(stored)})
            cd = sha(config)
            add("blobs/sha256/" + cd[7:], config)
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(config)},
                    "layers": descs,
                }
            ).encode()
            md = sha(manifest)
            add("blobs/sha256/" + md[7:], manifest)
            index = {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": md,
                        "size": len(manifest),
                        "annotations": {"org.opencontainers.image.ref.name": "bench"},
                    }
                ],
            }
            add("index.json", json.dumps(index).encode())
        else:
            paths = []
            for raw, stored, _ in layers:
                p = sha(raw)[7:] + ".tar"
                add(p, stored)
                paths.append(p)
            cname = sha(config)[7:] + ".json"
            add(cname, config)
            add("manifest.json", json.dumps([{"Config": cname, "RepoTags": ["bench/app:latest"], "Layers": paths}]).encode())

    size = os.path.getsize(a.out)
    raw_total = sum(len(r) for r, _, _ in layers)
    print(
        "%s: %d MB on disk, %d MB uncompressed layers, %d layers, %d planted secrets"
        % (a.out, size // 10**6, raw_total // 10**6, a.layers, secrets),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()

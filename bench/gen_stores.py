#!/usr/bin/env python3
"""Writes large inputs for bench/stores.sh (nothing here is committed output):

  gen_stores.py wandb OUT.wandb MB        a W&B run file: history rows with text and numbers,
                                          console output, config (the log format written
                                          directly, as wandb-core writes it)
  gen_stores.py tfevents OUT MB           a TensorBoard event file: scalars and text summaries
  gen_stores.py parquet OUT.parquet MB    a Parquet file of chat messages (zstd), MB of strings
  gen_stores.py arrow OUT.feather MB      the same chat messages as Feather v2 (Arrow IPC, zstd)

Synthetic text only, no secrets: the figures are throughput and memory."""
import json
import os
import random
import struct
import sys
import zlib


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, body):
    return varint(num << 3 | 2) + varint(len(body)) + body


WORDS = "the model was trained on a mixture of web text code and dialogue with careful filtering".split()


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def wandb(out, mb):
    rng = random.Random(1)
    target = mb << 20
    with open(out, "wb") as f:
        buf = bytearray(b":W&B\xe1\xbe\x00")
        step = 0
        written = 0
        def record(r):
            nonlocal buf
            rest, first = r, True
            while True:
                left = 32768 - len(buf) % 32768
                if left < 7:
                    buf += b"\0" * left
                    continue
                n = min(len(rest), left - 7)
                last = n == len(rest)
                kind = (1 if last else 2) if first else (4 if last else 3)
                buf += struct.pack("<IHB", zlib.crc32(bytes([kind]) + rest[:n]), n, kind) + rest[:n]
                rest, first = rest[n:], False
                if not rest:
                    return
        def item(k, v):
            return field(1, k.encode()) + field(16, json.dumps(v).encode())
        record(field(5, b"".join(field(1, item("param_%d" % i, sentence(rng, 5))) for i in range(50))))
        while written + len(buf) < target:
            items = [item("loss", rng.random()), item("lr", 1e-4), item("acc", rng.random()),
                     item("sample", sentence(rng, 30))]
            record(field(2, b"".join(field(1, i) for i in items) + field(2, b"\x08" + varint(step))))
            if step % 4 == 0:
                record(field(13, field(3, ("step %d: %s\n" % (step, sentence(rng, 12))).encode())))
            step += 1
            if len(buf) > 1 << 22:
                cut = len(buf) - len(buf) % 32768
                f.write(buf[:cut])
                written += cut
                buf = buf[cut:]
        f.write(buf)


def crc32c(data, table=[]):
    if not table:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def mask(c):
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfevents(out, mb):
    rng = random.Random(2)
    target = mb << 20
    size = 0
    with open(out, "wb") as f:
        step = 0
        while size < target:
            scalar = field(1, field(1, b"loss") + b"\x15" + struct.pack("<f", rng.random()))
            text = field(1, field(1, b"samples/text_summary") + field(8, b"\x08\x07" + field(8, sentence(rng, 40).encode())))
            event = b"\x09" + struct.pack("<d", 1.7e9 + step) + b"\x10" + varint(step) + field(5, scalar + text)
            n = struct.pack("<Q", len(event))
            rec = n + struct.pack("<I", mask(crc32c(n))) + event + struct.pack("<I", mask(crc32c(event)))
            f.write(rec)
            size += len(rec)
            step += 1


def chats(mb):
    """Tables of 20,000 rows of chat messages until MB of strings, and their string bytes."""
    import pyarrow as pa
    rng = random.Random(3)
    rows = 20000
    sentences = [sentence(rng, 25) for _ in range(1000)]
    total = 0
    i = 0
    while total < mb << 20:
        msgs = [[{"role": "user", "content": sentences[(i + j) % 1000]},
                 {"role": "assistant", "content": sentences[(i + 7 * j) % 1000]}] for j in range(rows)]
        yield pa.table({"id": pa.array(range(i, i + rows), pa.int64()),
                        "score": pa.array([0.5] * rows),
                        "messages": msgs})
        total += sum(len(m["content"]) + len(m["role"]) for r in msgs for m in r)
        i += rows
    print("strings MB", total / 1e6)


def arrow(out, mb):
    import pyarrow.ipc as ipc
    writer = None
    for t in chats(mb):
        if writer is None:
            writer = ipc.new_file(out, t.schema, options=ipc.IpcWriteOptions(compression="zstd"))
        writer.write_table(t)
    writer.close()


def parquet(out, mb):
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = random.Random(3)
    rows = 20000
    sentences = [sentence(rng, 25) for _ in range(1000)]
    writer = None
    total = 0
    i = 0
    while total < mb << 20:
        msgs = [[{"role": "user", "content": sentences[(i + j) % 1000]},
                 {"role": "assistant", "content": sentences[(i + 7 * j) % 1000]}] for j in range(rows)]
        t = pa.table({"id": pa.array(range(i, i + rows), pa.int64()),
                      "score": pa.array([0.5] * rows),
                      "messages": msgs})
        if writer is None:
            writer = pq.ParquetWriter(out, t.schema, compression="zstd")
        writer.write_table(t, row_group_size=rows)
        total += sum(len(m["content"]) + len(m["role"]) for r in msgs for m in r)
        i += rows
    writer.close()
    print("strings MB", total / 1e6)


if __name__ == "__main__":
    kind, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"wandb": wandb, "tfevents": tfevents, "parquet": parquet, "arrow": arrow}[kind](out, mb)

"""The Ray fan-out on a local Ray cluster: merged shards equal one ferret process, failed
shards are retried, a shard that always fails is reported.

Run directly (``python3 tests/test_ray_sweep.py``) or through ``cargo test`` (tests/ray.rs),
with FERRET_BIN naming the ferret binary. Starts its own local cluster
(``address="local"``: never someone else's) and ends it with ``ray.shutdown()``; it never runs
``ray stop``, which would kill every Ray process on the machine.
"""

from __future__ import annotations

import io
import json
import os
import random
import stat
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import ferret_ray  # noqa: E402

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def make_tree(root: str, n: int, seed: int = 7) -> int:
    """n logs and a tar.gz, each with a synthetic AWS access key id (made up here)."""
    rnd = random.Random(seed)
    key = lambda: "AKIA" + "".join(rnd.choice(B32) for _ in range(16))  # noqa: E731
    for i in range(n):
        d = os.path.join(root, f"d{i % 5}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"run-{i}.log"), "w") as f:
            f.write(f"step {i}\nexport AWS_ACCESS_KEY_ID={key()}\n")
    data = f"AWS_ACCESS_KEY_ID={key()}\n".encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("app/.env")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    with open(os.path.join(root, "bundle.tar.gz"), "wb") as f:
        f.write(buf.getvalue())
    return n + 1


def keys(findings):
    return {(f["fingerprint"], f["location"]) for f in findings}


def flaky_ferret(folder: str, ferret: str, fail_times: int) -> str:
    """A ferret that fails its first `fail_times` runs of each shard (a lost worker)."""
    path = os.path.join(folder, f"flaky-{fail_times}.sh")
    with open(path, "w") as f:
        f.write(f"""#!/bin/sh
shard=$(echo "$@" | sed 's/.*--shard \\([0-9]*\\)\\/.*/\\1/')
marker="{folder}/attempts-{fail_times}-$shard"
echo x >> "$marker"
if [ "$(wc -l < "$marker")" -le {fail_times} ]; then echo "simulated crash" >&2; exit 137; fi
exec "{ferret}" "$@"
""")
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return path


def test_merge_dedups_by_fingerprint_and_location():
    a = {"fingerprint": "f1", "location": "x:1:1", "rule_id": "r"}
    b = {"fingerprint": "f1", "location": "y:1:1", "rule_id": "r"}
    assert ferret_ray.merge([[a, b], [dict(a)]]) == [a, b]
    text = "\n".join(json.dumps(e) for e in [
        {"type": "finding", "data": a}, {"type": "warning", "data": {"path": "p"}},
        {"type": "summary", "data": {"files": 3}}]) + "\n{cut"
    f, w, s = ferret_ray.parse_jsonl(text)
    assert f == [a] and w == [{"path": "p"}] and s == {"files": 3}


def test_ray_sweep(ferret: str):
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "store")
        planted = make_tree(root, 40)
        single = subprocess.run([ferret, "scan", "-f", "jsonl", "--quiet", root],
                                stdout=subprocess.PIPE, text=True)
        assert single.returncode == 1, single.returncode
        one, _, one_summary = ferret_ray.parse_jsonl(single.stdout)
        assert len(one) == planted, len(one)

        ray.init(address="local", num_cpus=2, include_dashboard=False,
                 log_to_driver=False)
        try:
            started = time.time()
            result = ferret_ray.sweep([root], shards=3, ferret=ferret)
            print(f"3 shards in {time.time() - started:.2f} s", file=sys.stderr)
            assert result.failed == [], [r.stderr for r in result.shards]
            assert keys(result.findings) == keys(one)
            assert result.summary["files"] == one_summary["files"]
            assert result.summary["attempts"] == 3
            assert result.exit_code == 1
            sizes = [len(r.findings) for r in result.shards]
            assert all(0 < s < planted for s in sizes), sizes

            # Each shard's first run dies: every shard is retried once, the result is whole.
            flaky = flaky_ferret(tmp, ferret, 1)
            retried = ferret_ray.sweep([root], shards=3, ferret=flaky, retries=2)
            assert retried.failed == []
            assert retried.summary["attempts"] == 6, retried.summary
            assert keys(retried.findings) == keys(one)

            # A shard that never succeeds is reported, with what the others found.
            broken = flaky_ferret(tmp, ferret, 99)
            failed = ferret_ray.sweep([root], shards=2, ferret=broken, retries=1)
            assert failed.failed == [0, 1], failed.failed
            assert failed.exit_code == 2
            assert failed.summary["attempts"] == 4
        finally:
            ray.shutdown()


def main() -> int:
    ferret = os.environ.get("FERRET_BIN", "ferret")
    test_merge_dedups_by_fingerprint_and_location()
    test_ray_sweep(ferret)
    print("2 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

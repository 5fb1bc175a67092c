"""Fan a ferret sweep out over a Ray cluster: one shard per task, merged findings.

Each Ray task runs the ``ferret`` binary on one shard of the targets
(``ferret scan TARGETS --shard K/N -f jsonl``); ferret assigns every object or file to
exactly one shard by a hash of its key, so N tasks cover the store exactly once. The driver
gathers each shard's JSON Lines, retries shards that failed, and merges the findings, keeping
one per (fingerprint, location).

    import ray, ferret_ray
    ray.init()
    result = ferret_ray.sweep(["s3://artifacts/nightly/"], shards=16)
    print(result.summary, len(result.findings))

Credentials are not passed around: each task's ``ferret`` finds them where it runs (AWS_*
variables, the instance profile, a pod's service account), as it would on its own.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import Iterable, Sequence

__all__ = ["ShardRun", "SweepResult", "merge", "parse_jsonl", "sweep", "scan_shard"]


@dataclass
class ShardRun:
    """What one attempt at one shard gave."""

    shard: int
    attempt: int
    code: int
    findings: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    summary: dict | None = None
    stderr: str = ""

    @property
    def complete(self) -> bool:
        """The scan ran to its end (exit 0 or 1 with a summary line)."""
        return self.code in (0, 1) and self.summary is not None


@dataclass
class SweepResult:
    """The merged outcome of a sweep."""

    findings: list
    warnings: list
    summary: dict
    shards: list  # the ShardRun kept for each shard, by shard index
    failed: list  # indexes of shards that never completed

    @property
    def exit_code(self) -> int:
        """ferret's contract: 1 findings, 2 error (failed shards or unreadable items and
        nothing found), 0 clean."""
        if self.failed:
            return 2
        if self.findings:
            return 1
        return 2 if self.summary.get("errors", 0) else 0

    def to_json(self) -> dict:
        """A ferret JSON report (version 1) of the merged sweep."""
        return {
            "version": 1,
            "tool": {"name": "ferret-ray", "version": __version__},
            "findings": self.findings,
            "summary": dict(self.summary, warnings=self.warnings, failed_shards=self.failed),
        }


__version__ = "0.1.0"

# Summary fields that add up across shards.
_COUNTS = ("files", "bytes", "scanned_bytes", "findings", "errors", "skipped", "unchanged",
           "fetched_bytes")


def parse_jsonl(text: str) -> tuple[list, list, dict | None]:
    """Findings, warnings and the summary of a ``ferret scan -f jsonl`` output."""
    findings, warnings, summary = [], [], None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash: the shard is retried anyway
        kind, data = event.get("type"), event.get("data")
        if kind == "finding":
            findings.append(data)
        elif kind == "warning":
            warnings.append(data)
        elif kind == "summary":
            summary = data
    return findings, warnings, summary


def _sort_key(f: dict):
    return (f.get("location", ""), f.get("rule_id", ""), f.get("fingerprint", ""))


def merge(finding_lists: Iterable[Sequence[dict]]) -> list:
    """All findings, one per (fingerprint, location), in ferret's report order."""
    seen = {}
    for findings in finding_lists:
        for f in findings:
            seen.setdefault((f.get("fingerprint"), f.get("location")), f)
    return sorted(seen.values(), key=_sort_key)


def _command(ferret: str, targets: Sequence[str], args: Sequence[str], shard: int,
             shards: int) -> list:
    return [ferret, "scan", *args, "--shard", f"{shard}/{shards}", "-f", "jsonl", "--quiet",
            *targets]


def _run(cmd: list, env: dict | None) -> tuple:
    """Runs one ferret; what a Ray task does. Self-contained (its imports inside) so that Ray
    ships it by value: workers do not need ferret_ray installed, only ferret."""
    import os
    import subprocess

    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=None if env is None else {**os.environ, **env})
    return proc.returncode, proc.stdout, proc.stderr[-4000:]


def _shard_run(shard: int, attempt: int, result: tuple) -> ShardRun:
    code, stdout, stderr = result
    findings, warnings, summary = parse_jsonl(stdout)
    return ShardRun(shard=shard, attempt=attempt, code=code, findings=findings,
                    warnings=warnings, summary=summary, stderr=stderr)


def scan_shard(ferret: str, targets: Sequence[str], args: Sequence[str], shard: int,
               shards: int, attempt: int = 0, env: dict | None = None) -> ShardRun:
    """Runs ferret on one shard, here, without Ray."""
    cmd = _command(ferret, targets, args, shard, shards)
    return _shard_run(shard, attempt, _run(cmd, env))


def sweep(targets: Sequence[str], shards: int, *, ferret: str = "ferret",
          args: Sequence[str] = (), retries: int = 2, num_cpus: float = 1,
          env: dict | None = None, state_dir: str | None = None) -> SweepResult:
    """Scans ``targets`` (paths or s3://, gs://, az:// URLs) as ``shards`` Ray tasks.

    ``args`` go to every ``ferret scan`` (rules, budgets, ``--s3-endpoint``…). A shard whose
    run did not complete (a crash, a lost node, exit 2) is run again, up to ``retries`` more
    times; the last attempt is kept. With ``state_dir`` (a folder every worker sees), shard K
    keeps its incremental state in ``state_dir/shard-K-of-N.redb``.

    Needs ``ray.init()`` first.
    """
    import ray

    if shards < 1:
        raise ValueError("shards must be at least 1")
    import sys

    from ray import cloudpickle

    # Ship _run's code to the workers instead of a reference to this module: workers need
    # ferret on their PATH, not this package installed.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    task = ray.remote(num_cpus=num_cpus, max_retries=0)(_run)

    def submit(k: int, attempt: int):
        extra = list(args)
        if state_dir is not None:
            extra += ["--state", os.path.join(state_dir, f"shard-{k}-of-{shards}.redb")]
        return task.remote(_command(ferret, list(targets), extra, k, shards), env)

    pending = {submit(k, 0): (k, 0) for k in range(shards)}
    kept: dict[int, ShardRun] = {}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        ref = done[0]
        k, attempt = pending.pop(ref)
        try:
            run = _shard_run(k, attempt, ray.get(ref))
        except Exception as e:  # a worker or node died: Ray raises here
            run = ShardRun(shard=k, attempt=attempt, code=-1, stderr=repr(e))
        if run.complete:
            kept[k] = run
        elif attempt < retries:
            kept[k] = run
            pending[submit(k, attempt + 1)] = (k, attempt + 1)
        else:
            kept[k] = run

    runs = [kept[k] for k in range(shards)]
    failed = [r.shard for r in runs if not r.complete]
    summary = {name: 0 for name in _COUNTS}
    for r in runs:
        for name in _COUNTS:
            summary[name] += int((r.summary or {}).get(name, 0))
    findings = merge(r.findings for r in runs)
    summary["findings"] = len(findings)
    summary["shards"] = shards
    summary["attempts"] = sum(r.attempt + 1 for r in runs)
    warnings = sorted((w for r in runs for w in r.warnings),
                      key=lambda w: (w.get("path", ""), w.get("message", "")))
    return SweepResult(findings=findings, warnings=warnings, summary=summary, shards=runs,
                       failed=failed)

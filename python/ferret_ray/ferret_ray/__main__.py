"""``python -m ferret_ray``: a sharded sweep from the command line.

    python -m ferret_ray --shards 16 -o findings.json s3://artifacts/nightly/ -- --max-depth 6

Everything after ``--`` is passed to every ``ferret scan``. Connects to the cluster named by
``--address`` (default: ``RAY_ADDRESS``, else a new local one). Exits like ferret: 0 clean,
1 findings, 2 error (including shards that failed every retry).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import sweep


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(prog="ferret-ray", description=__doc__.splitlines()[0])
    p.add_argument("targets", nargs="+", help="paths or s3://, gs://, az:// URLs")
    p.add_argument("--shards", type=int, required=True, help="number of Ray tasks")
    p.add_argument("--ferret", default="ferret", help="the ferret binary on every worker")
    p.add_argument("--retries", type=int, default=2, help="extra attempts for a failed shard")
    p.add_argument("--state-dir", help="shared folder for per-shard --state files")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS or local)")
    p.add_argument("-f", "--format", choices=["json", "jsonl"], default="json")
    p.add_argument("-o", "--output", help="write the merged report here (default stdout)")
    a = p.parse_args(argv)

    import ray

    ray.init(address=a.address, include_dashboard=False)
    try:
        result = sweep(a.targets, a.shards, ferret=a.ferret, args=extra, retries=a.retries,
                       state_dir=a.state_dir)
    finally:
        ray.shutdown()
    # Like ferret's -o: mode 0600, the report says where secrets are.
    out = (os.fdopen(os.open(a.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")
           if a.output else sys.stdout)
    try:
        if a.format == "json":
            json.dump(result.to_json(), out, indent=2)
            out.write("\n")
        else:
            for f in result.findings:
                out.write(json.dumps({"type": "finding", "data": f}) + "\n")
            for w in result.warnings:
                out.write(json.dumps({"type": "warning", "data": w}) + "\n")
            out.write(json.dumps({"type": "summary", "data": result.summary}) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    s = result.summary
    print(f"ferret-ray: {s['shards']} shards ({s['attempts']} attempts), {s['files']} files, "
          f"{s['findings']} findings, {s['errors']} errors, failed shards: {result.failed}",
          file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())

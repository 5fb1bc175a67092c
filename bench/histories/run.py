#!/usr/bin/env python3
"""Scan real repositories' histories with ferret, Kingfisher and Gitleaks, side by side.

Usage:
    bench/histories/run.py [--ferret BIN] [--peers DIR] [--work DIR] [--mirror DIR]
                           [--only NAME ...] [--triage FILE] [--write-triage]

For every repository of repos.tsv (owner/name, language, pinned commit) a bare repository holding
exactly the history of the pinned commit is made under WORK (fetched from MIRROR/owner+name/repo when
that bare copy exists, else from https://github.com/owner/name), and the three scanners read it with
comparable options (whole history, no validation, default rules and confidence):

    ferret git --all --repo R -f json --show-secrets --no-config
    kingfisher scan R --no-validate --no-update-check --format jsonl
    gitleaks git R --log-opts=--all --report-format json

Counted per tool: rows of its report, distinct (value, path) pairs, and distinct values (a value is
the reported secret with whitespace removed, so that a PEM key indented differently is one value).
The secrets stay in WORK (the scanners' reports); what this script prints and writes into the
repository names a value only by the first 12 hex digits of its SHA-256 and its length.

The table is printed in Markdown. With --write-triage, ferret's distinct findings are merged into
the triage file (default bench/histories/triage.tsv): rows already there keep their verdict and
reason; new rows get `?`. A ferret value also found by a peer (same value, or one contains the
other) is marked in the `kingfisher` / `gitleaks` columns.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRIAGE_COLUMNS = [
    "repo",
    "rule",
    "path",
    "value",
    "kingfisher",
    "gitleaks",
    "verdict",
    "why",
]


def read_repos(path):
    repos = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, lang, commit = line.split("\t")
            repos.append((name, lang, commit))
    return repos


def run(cmd, check=False, **kw):
    return subprocess.run(cmd, check=check, **kw)


def pinned_repo(work, mirror, name, commit):
    """A bare repository whose only ref is the pinned commit: the same history for every tool."""
    dest = os.path.join(work, name.replace("/", "+") + ".git")
    if os.path.isdir(dest):
        have = run(
            ["git", "-C", dest, "rev-parse", "--verify", "-q", "refs/heads/pinned"],
            capture_output=True,
            text=True,
        )
        if have.stdout.strip() == commit:
            return dest
        run(["rm", "-rf", dest])
    run(["git", "init", "-q", "--bare", dest], check=True)
    local = os.path.join(mirror, name.replace("/", "+"), "repo") if mirror else ""
    source = local if local and os.path.isdir(local) else f"https://github.com/{name}"
    run(
        ["git", "-C", dest, "fetch", "-q", source, f"{commit}:refs/heads/pinned"],
        check=True,
    )
    run(["git", "-C", dest, "symbolic-ref", "HEAD", "refs/heads/pinned"], check=True)
    return dest


def norm(value):
    return "".join(value.split())


def short_hash(value):
    return hashlib.sha256(norm(value).encode("utf-8", "surrogateescape")).hexdigest()[:12]


def ferret_rows(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    rows = []
    for item in doc.get("findings", []):
        rows.append((item["rule_id"], item.get("path") or "", item.get("secret") or ""))
    return rows, doc.get("summary", {})


def kingfisher_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            item = json.loads(line)
            if "rule" not in item or "finding" not in item:
                continue
            fnd = item["finding"]
            file_path = fnd.get("path") or ""
            git = fnd.get("git_metadata") or {}
            if git.get("file", {}).get("path"):
                file_path = git["file"]["path"]
            rows.append((item["rule"]["id"], file_path, fnd.get("snippet") or ""))
    return rows


def gitleaks_rows(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return [(i["RuleID"], i.get("File") or "", i.get("Secret") or "") for i in doc or []]


def counts(rows):
    pairs = {(norm(v), p) for _, p, v in rows}
    values = {norm(v) for _, _, v in rows}
    return {"rows": len(rows), "pairs": len(pairs), "values": len(values)}


def found_by(value, peer_values):
    """Whether a peer reported this value: the same, or one contains the other (8+ characters)."""
    v = norm(value)
    if v in peer_values:
        return True
    if len(v) < 8:
        return False
    return any(len(w) >= 8 and (v in w or w in v) for w in peer_values)


def scan_repo(args, name, commit):
    out = os.path.join(args.work, "out", name.replace("/", "+"))
    os.makedirs(out, exist_ok=True)
    repo = pinned_repo(args.work, args.mirror, name, commit)
    commits = int(
        run(
            ["git", "-C", repo, "rev-list", "--count", "refs/heads/pinned"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    result = {"name": name, "commit": commit, "commits": commits, "seconds": {}}

    f_out = os.path.join(out, "ferret.json")
    t = time.monotonic()
    r = run(
        [args.ferret, "git", "--all", "--repo", repo, "-f", "json", "-o", f_out]
        + ["--show-secrets", "--no-config", "-q"],
    )
    result["seconds"]["ferret"] = round(time.monotonic() - t, 1)
    if r.returncode not in (0, 1):
        sys.exit(f"ferret failed on {name} (exit {r.returncode})")
    f_rows, summary = ferret_rows(f_out)

    k_out = os.path.join(out, "kingfisher.jsonl")
    t = time.monotonic()
    r = run(
        [os.path.join(args.peers, "kingfisher"), "scan", repo, "--no-validate"]
        + ["--no-update-check", "--format", "jsonl", "-o", k_out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result["seconds"]["kingfisher"] = round(time.monotonic() - t, 1)
    if r.returncode not in (0, 200):
        sys.exit(f"kingfisher failed on {name} (exit {r.returncode})")
    k_rows = kingfisher_rows(k_out)

    g_out = os.path.join(out, "gitleaks.json")
    t = time.monotonic()
    r = run(
        [os.path.join(args.peers, "gitleaks"), "git", repo, "--no-banner", "--log-opts=--all"]
        + ["--exit-code", "0", "--report-format", "json", "--report-path", g_out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result["seconds"]["gitleaks"] = round(time.monotonic() - t, 1)
    if r.returncode != 0:
        sys.exit(f"gitleaks failed on {name} (exit {r.returncode})")
    g_rows = gitleaks_rows(g_out)

    result["ferret"] = counts(f_rows)
    result["ferret"]["echoes"] = summary.get("echoes", 0)
    result["ferret"]["low_confidence"] = summary.get("low_confidence", 0)
    result["kingfisher"] = counts(k_rows)
    result["gitleaks"] = counts(g_rows)
    k_values = {norm(v) for _, _, v in k_rows}
    g_values = {norm(v) for _, _, v in g_rows}
    seen = set()
    distinct = []
    for rule, path, value in f_rows:
        key = (rule, path, short_hash(value))
        if key in seen:
            continue
        seen.add(key)
        distinct.append(
            {
                "repo": name,
                "rule": rule,
                "path": path,
                "value": f"sha256:{short_hash(value)} len {len(norm(value))}",
                "kingfisher": "yes" if found_by(value, k_values) else "no",
                "gitleaks": "yes" if found_by(value, g_values) else "no",
            }
        )
    result["triage"] = distinct
    # Peers' values that ferret does not report, for the "what remains" column.
    f_values = {norm(v) for _, _, v in f_rows}
    result["missed"] = sorted(
        {
            (tool, rule, path, short_hash(v))
            for tool, rows in (("kingfisher", k_rows), ("gitleaks", g_rows))
            for rule, path, v in rows
            if not found_by(v, f_values)
        }
    )
    return result


def read_triage(path):
    rows = {}
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or line.startswith("repo\t"):
                continue
            cells = line.split("\t")
            row = dict(zip(TRIAGE_COLUMNS, cells + [""] * (len(TRIAGE_COLUMNS) - len(cells))))
            rows[(row["repo"], row["rule"], row["path"], row["value"])] = row
    return rows


def write_triage(path, results):
    old = read_triage(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(
            "# ferret's distinct findings (one per rule, path and value) on the histories of "
            "repos.tsv, triaged by hand.\n# value: first 12 hex digits of the SHA-256 of the "
            "value (whitespace removed) and its length; never the value itself.\n"
            "# verdict: test-key (real-format key committed for tests), credential (a real "
            "credential committed), noise (not a credential: why).\n"
        )
        f.write("\t".join(TRIAGE_COLUMNS) + "\n")
        for res in results:
            for row in res["triage"]:
                key = (row["repo"], row["rule"], row["path"], row["value"])
                prev = old.get(key, {})
                row["verdict"] = prev.get("verdict") or "?"
                row["why"] = prev.get("why") or ""
                f.write("\t".join(row[c] for c in TRIAGE_COLUMNS) + "\n")


def table(results):
    lines = [
        "| repository | language | commit | commits | ferret | Kingfisher | Gitleaks |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    tot = {"ferret": [0, 0], "kingfisher": [0, 0], "gitleaks": [0, 0]}
    for res in results:
        cells = []
        for tool in ("ferret", "kingfisher", "gitleaks"):
            c = res[tool]
            tot[tool][0] += c["values"]
            tot[tool][1] += c["pairs"]
            cells.append(f"{c['values']} / {c['pairs']}")
        lines.append(
            f"| {res['name']} | {res['lang']} | {res['commit'][:10]} | {res['commits']} | "
            + " | ".join(cells)
            + " |"
        )
    lines.append(
        "| **total** | | | "
        + str(sum(r["commits"] for r in results))
        + " | "
        + " | ".join(f"**{tot[t][0]} / {tot[t][1]}**" for t in ("ferret", "kingfisher", "gitleaks"))
        + " |"
    )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ferret", default=os.path.join(ROOT, "target", "release", "ferret"))
    ap.add_argument("--peers", default=os.environ.get("PEERS", "/tmp/peers/bin"))
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "histories"))
    ap.add_argument("--mirror", default="", help="folder of bare copies: MIRROR/owner+name/repo")
    ap.add_argument("--repos", default=os.path.join(HERE, "repos.tsv"))
    ap.add_argument("--only", nargs="*", default=[])
    ap.add_argument("--triage", default=os.path.join(HERE, "triage.tsv"))
    ap.add_argument("--write-triage", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    results = []
    for name, lang, commit in read_repos(args.repos):
        if args.only and name not in args.only:
            continue
        res = scan_repo(args, name, commit)
        res["lang"] = lang
        results.append(res)
        print(
            f"{name}: {res['commits']} commits; distinct values / (value, path) pairs: "
            f"ferret {res['ferret']['values']}/{res['ferret']['pairs']} "
            f"({res['ferret']['rows']} rows, {res['ferret']['echoes']} echoes folded), "
            f"kingfisher {res['kingfisher']['values']}/{res['kingfisher']['pairs']} "
            f"({res['kingfisher']['rows']} rows), "
            f"gitleaks {res['gitleaks']['values']}/{res['gitleaks']['pairs']} "
            f"({res['gitleaks']['rows']} rows); seconds {res['seconds']}",
            file=sys.stderr,
        )
    with open(os.path.join(args.work, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    print(table(results))
    if args.write_triage:
        write_triage(args.triage, results)


if __name__ == "__main__":
    main()

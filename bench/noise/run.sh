#!/usr/bin/env bash
# The noise benchmark: ferret on real code nobody on this project wrote, grouped by rule.
#
#   bench/noise/run.sh [FERRET] [OUTDIR]
#
# Corpora (bench/noise/corpus.sh): the registry sources of this project's dependencies as pinned
# by Cargo.lock, and the Python standard library of `python3` (site-packages and __pycache__
# left out). Writes OUTDIR/{cargo,stdlib}.json and OUTDIR/findings.tsv (corpus, path relative to
# the corpus, rule, count): the format of bench/noise/triaged.tsv, which `cargo test --test
# noise` checks. Extra ferret flags go in FERRET_FLAGS (e.g. FERRET_FLAGS="--confidence low").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ferret=${1:-${CARGO_TARGET_DIR:-$here/../../target}/debug/ferret}
out=${2:-$(mktemp -d)}
mkdir -p "$out"
mapfile -t cargo < <("$here/corpus.sh" cargo)
stdlib=$("$here/corpus.sh" stdlib)
# shellcheck disable=SC2086
if [ ${#cargo[@]} -gt 0 ]; then
    "$ferret" scan -q --no-config --no-progress ${FERRET_FLAGS:-} -f json -o "$out/cargo.json" "${cargo[@]}" || [ $? = 1 ]
fi
if [ -n "$stdlib" ] && [ -d "$stdlib" ]; then
    # shellcheck disable=SC2086
    "$ferret" scan -q --no-config --no-progress ${FERRET_FLAGS:-} --exclude site-packages --exclude __pycache__ \
        -f json -o "$out/stdlib.json" "$stdlib" || [ $? = 1 ]
fi
python3 - "$out" "$stdlib" <<'PY'
import collections, json, os, sys
out, stdlib = sys.argv[1], sys.argv[2]
rows = collections.Counter()
for corpus in ("cargo", "stdlib"):
    p = os.path.join(out, corpus + ".json")
    if not os.path.exists(p):
        continue
    findings = json.load(open(p))["findings"]
    by_rule = collections.Counter(f["rule_id"] for f in findings)
    print(f"{corpus}: {len(findings)} findings")
    for rule, n in by_rule.most_common():
        print(f"  {n:6} {rule}")
    for f in findings:
        path = f["path"]
        if corpus == "cargo":
            path = path.split("/registry/src/", 1)[-1].split("/", 1)[-1]
        else:
            path = os.path.relpath(path, stdlib)
        rows[(corpus, path, f["rule_id"])] += 1
with open(os.path.join(out, "findings.tsv"), "w") as t:
    for (corpus, path, rule), n in sorted(rows.items()):
        t.write(f"{corpus}\t{path}\t{rule}\t{n}\n")
print(f"per-place counts: {os.path.join(out, 'findings.tsv')}")
PY

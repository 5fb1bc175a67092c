#!/usr/bin/env bash
# Whole-run throughput and peak RSS of ferret beside Kingfisher on the shared bench corpus.
#
#   bench/compare.sh [SIZE_MIB] [WORKDIR]      (defaults: 1024, /tmp/ferret-bench)
#
# Generates the corpus once (../shared/bench/gen_corpus.py, seed 42), installs Kingfisher from
# PyPI into WORKDIR/peers if it is not there (../shared/peers/install-peers.sh), warms the page
# cache, then runs each scanner three times and prints wall time, CPU time, MB/s, peak RSS and the
# planted secrets each one found (score_findings.py).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${FERRET_SHARED:-$here/../shared}
size=${1:-1024}
work=${2:-/tmp/ferret-bench}
mkdir -p "$work"
# score_findings.py finds paths by the corpus folder's name, which must be `corpus`.
corpus=$work/$size/corpus
mkdir -p "$work/$size"
if [ ! -d "$corpus" ]; then
    python3 "$shared/bench/gen_corpus.py" "$corpus" "$size" 42 --quiet
fi
manifest=$corpus.manifest.json
if [ ! -x "$work/peers/bin/kingfisher" ]; then
    bash "$shared/peers/install-peers.sh" "$work/peers" --no-apt --no-cargo --no-npm >/dev/null
fi
(cd "$here" && cargo build --release --quiet)
ferret=$here/target/release/ferret
bytes=$(find -L "$corpus" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
find -L "$corpus" -type f -exec cat {} + > /dev/null

measure() { # name, report, command…
    local name=$1 report=$2; shift 2
    local best=""
    for i in 1 2 3; do
        /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" > /dev/null 2>&1 || true
        read -r wall user sys rss < <(tail -n 1 "$work/time.txt")
        echo "$name run $i: wall ${wall}s cpu $(echo "$user + $sys" | bc)s peak RSS $((rss / 1024)) MB"
        if [ -z "$best" ] || [ "$(echo "$wall < $best" | bc)" = 1 ]; then best=$wall; fi
    done
    echo "$name best: $(echo "scale=1; $bytes / 1000000 / $best" | bc) MB/s on $bytes bytes"
}

measure ferret "$work/ferret.sarif" "$ferret" scan "$corpus" -f sarif --show-secrets -o "$work/ferret.sarif"
measure kingfisher "$work/kingfisher.json" "$work/peers/bin/kingfisher" scan "$corpus" --no-validate \
    --no-update-check --format json -o "$work/kingfisher.json"
echo "--- ferret"
python3 "$shared/bench/score_findings.py" --manifest "$manifest" --format sarif "$work/ferret.sarif"
echo "--- kingfisher"
python3 "$shared/bench/score_findings.py" --manifest "$manifest" --format kingfisher "$work/kingfisher.json"

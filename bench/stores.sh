#!/usr/bin/env bash
# Throughput of the stores of ML work (release build), against scanning the same bytes as text:
#
#   bench/stores.sh [DIR]        (default /tmp/ferret-stores; needs python3, pyarrow for Parquet)
#
# - W&B: a 200 MB run file (history rows with text, console output) vs the same bytes without
#   the first one (no longer `:W&B`, so scanned as plain bytes);
# - TensorBoard: a 200 MB event file (scalars and text summaries) vs the same bytes behind one
#   extra byte (the TFRecord checksum no longer matches, so scanned as plain bytes);
# - Parquet: a file of chat messages (zstd) with MB of strings given by PARQUET_MB (default
#   2000): wall time, MB/s of decompressed strings (the summary's scanned_bytes) and peak RSS;
#   the same messages as Feather v2 (Arrow IPC, zstd).
# Best of 3, warm cache. Nothing here is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/ferret-stores}
mkdir -p "$dir"
ferret=${FERRET:-${CARGO_TARGET_DIR:-target}/release/ferret}
[ -f "$dir/run.wandb" ] || python3 bench/gen_stores.py wandb "$dir/run.wandb" 200
[ -f "$dir/events.out.tfevents.1.bench" ] || python3 bench/gen_stores.py tfevents "$dir/events.out.tfevents.1.bench" 200
tail -c +2 "$dir/run.wandb" > "$dir/run.wandb.bytes"
{ printf 'x'; cat "$dir/events.out.tfevents.1.bench"; } > "$dir/tfevents.bytes"
if [ ! -f "$dir/chats.parquet" ] && python3 -c "import pyarrow" 2>/dev/null; then
    python3 bench/gen_stores.py parquet "$dir/chats.parquet" "${PARQUET_MB:-2000}"
fi
if [ ! -f "$dir/chats.feather" ] && python3 -c "import pyarrow" 2>/dev/null; then
    python3 bench/gen_stores.py arrow "$dir/chats.feather" "${PARQUET_MB:-2000}"
fi
best() {  # best wall seconds of 3 runs, and the last run's summary
    local b=999999
    for _ in 1 2 3; do
        local s e
        s=$(date +%s.%N)
        "$ferret" scan "$@" -f json -o /dev/null -q --no-config > /dev/null 2>&1 || true
        e=$(date +%s.%N)
        b=$(python3 -c "print(min($b, $e - $s))")
    done
    echo "$b"
}
for f in run.wandb run.wandb.bytes events.out.tfevents.1.bench tfevents.bytes; do
    cat "$dir/$f" > /dev/null
    secs=$(best "$dir/$f")
    mb=$(python3 -c "import os; print(round(os.path.getsize('$dir/$f') / 1e6 / $secs, 1))")
    echo "$f: $secs s, $mb MB/s of file"
done
for kind in parquet feather; do
    [ -f "$dir/chats.$kind" ] || continue
    /usr/bin/time -f "$kind: wall %e s, user %U s, sys %S s, max RSS %M KB" \
        "$ferret" scan "$dir/chats.$kind" -f json -o "$dir/$kind.json" -q --no-config || true
    python3 -c "
import json; s = json.load(open('$dir/$kind.json'))['summary']
print('$kind: %.0f MB of strings scanned, %.0f MB/s' % (s['scanned_bytes'] / 1e6, s['scanned_bytes'] / 1e6 / s['elapsed_seconds']))"
done

#!/usr/bin/env bash
# `ferret redact` throughput beside `cat` on the shared bench corpus's logs.
#
#   bench/redact.sh [SIZE_MIB] [WORKDIR] [RUNS]      (defaults: 1024, /tmp/ferret-bench, 9)
#
# Generates the corpus once (../shared/bench/gen_corpus.py, seed 42), concatenates its logs
# (every *.log and *.jsonl) into one file, warms the page cache, then times, alternately and
# RUNS times each, the same pipeline with `cat` and with `ferret redact` as the filter:
#
#   cat logs | cat > /dev/null
#   cat logs | ferret redact > /dev/null
#
# and prints each run's wall and CPU time, the medians, MB/s, the ratio of the medians and
# ferret's peak RSS. It also checks that the redacted copy differs from the input only where
# secrets were masked (same line count; every differing line holds a `****` mask, or is a line
# emptied inside a masked multi-line key).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${FERRET_SHARED:-$here/../shared}
size=${1:-1024}
work=${2:-/tmp/ferret-bench}
runs=${3:-9}
corpus=$work/$size/corpus
mkdir -p "$work/$size"
if [ ! -d "$corpus" ]; then
    python3 "$shared/bench/gen_corpus.py" "$corpus" "$size" 42 --quiet
fi
logs=$work/$size/logs.txt
if [ ! -s "$logs" ]; then
    find -L "$corpus" -type f \( -name '*.log' -o -name '*.jsonl' \) -print0 | sort -z \
        | xargs -0 cat > "$logs"
fi
(cd "$here" && cargo build --release --quiet)
ferret=$here/target/release/ferret
bytes=$(stat -c %s "$logs")
cat "$logs" > /dev/null

: > "$work/cat.times"
: > "$work/redact.times"
for i in $(seq "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -a -o "$work/cat.times" \
        sh -c "cat '$logs' | cat > /dev/null"
    /usr/bin/time -f '%e %U %S %M' -a -o "$work/redact.times" \
        sh -c "cat '$logs' | '$ferret' redact --quiet > /dev/null"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for name in cat redact; do
    awk -v n="$name" '{printf "%s run %d: wall %ss cpu %.2fs (both processes)\n", n, NR, $1, $2 + $3}' \
        "$work/$name.times"
done
cat_med=$(awk '{print $1}' "$work/cat.times" | median)
red_med=$(awk '{print $1}' "$work/redact.times" | median)
rss=$(awk '{print $4}' "$work/redact.times" | sort -n | tail -n 1)
echo "input: $bytes bytes of logs ($logs)"
echo "cat    median wall ${cat_med}s  $(echo "scale=0; $bytes / 1000000 / $cat_med" | bc) MB/s"
echo "redact median wall ${red_med}s  $(echo "scale=0; $bytes / 1000000 / $red_med" | bc) MB/s, peak RSS $((rss / 1024)) MB (largest process)"
echo "ratio redact / cat: $(echo "scale=2; $red_med / $cat_med" | bc)x"

# The copy is byte-for-byte the input except where a secret was masked.
"$ferret" redact --quiet < "$logs" > "$work/redacted.txt"
in_lines=$(wc -l < "$logs")
out_lines=$(wc -l < "$work/redacted.txt")
bad=$(diff "$logs" "$work/redacted.txt" | grep '^>' | grep -v '^> $' | grep -vc '\*\*\*\*' || true)
echo "lines in/out: $in_lines/$out_lines; changed lines without a mask: $bad"
[ "$in_lines" = "$out_lines" ] && [ "$bad" = 0 ]

#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, JOBS at a time, and prints
# executions and coverage per target.
#
#   fuzz/run.sh [-t SECONDS] [-j JOBS] [TARGET…]     (defaults: 600 s, nproc jobs, all targets)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable Rust without sanitizers
# (`-s none`: libFuzzer's coverage instrumentation, no ASan, so only panics, aborts, hangs and
# out-of-memory are caught; ferret's library forbids `unsafe`). Seeds come from fuzz/seeds.py;
# the growing corpus is kept in fuzz/corpus/TARGET (not committed), crashes land in
# fuzz/artifacts/TARGET. Copy each crash into tests/data/fuzz/TARGET/ so that the regression
# test (`cargo test fuzz_regressions`) replays it forever.
set -euo pipefail
cd "$(dirname "$0")"
secs=600
jobs=$(nproc)
while getopts "t:j:" o; do
    case $o in
        t) secs=$OPTARG ;;
        j) jobs=$OPTARG ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
python3 seeds.py
cargo fuzz build -s none
mkdir -p logs
run_one() {
    local t=$1
    mkdir -p "corpus/$t" "artifacts/$t"
    # -rss_limit_mb: ferret's budgets keep one input far below it; -timeout: one input, seconds.
    cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        >"logs/$t.log" 2>&1 || echo "$t: FAILED, see fuzz/logs/$t.log and fuzz/artifacts/$t" >&2
}
export -f run_one
export secs
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'
printf '%-12s %12s %8s %7s %9s %8s %s\n' target executions exec/s cov features 'RSS MB' crashes
for t in "${targets[@]}"; do
    log=logs/$t.log
    stat() { grep -E "stat::$1:" "$log" | awk '{print $2}' | tail -1; }
    execs=$(stat number_of_executed_units)
    rate=$(stat average_exec_per_sec)
    rss=$(stat peak_rss_mb)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    crashes=$(find "artifacts/$t" -type f \( -name "crash-*" -o -name "oom-*" -o -name "timeout-*" \) | wc -l)
    printf '%-12s %12s %8s %7s %9s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${rss:-?}" "$crashes"
done

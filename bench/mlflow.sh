#!/usr/bin/env bash
# MLflow sweep throughput against a loopback server (release build):
#
#   bench/mlflow.sh [RUNS] [ARTIFACT_KB]     (defaults: 200 runs, 2 artifacts of 256 KB each)
#
# Starts `mlflow server` (SQLite, local artifacts) in a temp dir, logs RUNS runs with params,
# tags and two text artifacts each through the MLflow client, then times a full sweep (runs/s,
# MB/s of artifacts) and a second sweep with --state (nothing changed: nothing fetched), and
# prints the ratio. Stops the server it started.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
kb=${2:-256}
ferret=${FERRET:-${CARGO_TARGET_DIR:-target}/release/ferret}
dir=$(mktemp -d /tmp/ferret-mlflow.XXXXXX)
port=$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
python3 -m mlflow server --host 127.0.0.1 --port "$port" --workers 2 \
    --backend-store-uri "sqlite:///$dir/mlflow.db" --default-artifact-root "$dir/artifacts" \
    > "$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
    sleep 1
done
python3 - "$port" "$runs" "$kb" <<'PY'
import os, sys, tempfile, mlflow
port, runs, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mlflow.set_tracking_uri(f"http://127.0.0.1:{port}")
mlflow.set_experiment("bench")
line = "step loss=0.123 lr=0.0001 the model was trained on a mixture of text\n"
body = (line * (kb * 1024 // len(line) + 1))[: kb * 1024]
d = tempfile.mkdtemp()
for name in ("train.log", "eval.log"):
    with open(os.path.join(d, name), "w") as f:
        f.write(body)
for i in range(runs):
    with mlflow.start_run(run_name=f"run-{i}"):
        mlflow.log_params({"lr": 1e-4, "epochs": 3, "note": "bench run %d" % i})
        mlflow.set_tag("team", "bench")
        mlflow.log_artifacts(d)
PY
state="$dir/state.redb"
for pass in first second; do
    start=$(date +%s.%N)
    "$ferret" scan "mlflow+http://127.0.0.1:$port" --state "$state" -f json -o "$dir/$pass.json" -q || true
    end=$(date +%s.%N)
    python3 - "$dir/$pass.json" "$pass" "$start" "$end" "$runs" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
secs = float(sys.argv[4]) - float(sys.argv[3])
print(f"{sys.argv[2]} sweep: {secs:.2f} s, {s['files']} items scanned, {s['unchanged']} unchanged, "
      f"{int(sys.argv[5]) / secs:.1f} runs/s, {s['bytes'] / 1e6:.1f} MB of artifacts "
      f"({s['bytes'] / 1e6 / secs:.1f} MB/s)")
PY
done

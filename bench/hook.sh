#!/usr/bin/env bash
# Wall time of the pre-commit hook (`ferret git --staged`) on a repository with a 10-file change.
#
#   bench/hook.sh [FILES] [WORKDIR]        (defaults: 5000 files, /tmp/ferret-hook)
#
# Makes a repository of FILES source-like files (about 3 kB each) in three commits, then edits
# 10 of them (a few added and changed lines each, one with a synthetic token) and stages the
# edit. Runs hyperfine (apt-get install hyperfine) on `ferret git --staged` with the release
# binary: the number a developer waits for on every commit.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
files=${1:-5000}
work=${2:-/tmp/ferret-hook}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
git init -q -b main .
git config user.name bench && git config user.email bench@example.com
python3 - "$files" <<'PY'
import os, random, sys, zlib
n = int(sys.argv[1])
r = random.Random(7)
words = "model train loss step batch epoch config dataset token cache layer tensor".split()
for i in range(n):
    d = f"src/pkg{i % 50:02d}/mod{i // 500:03d}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/file{i}.py", "w") as f:
        for j in range(80):
            f.write(f"def {r.choice(words)}_{j}(x):  # {' '.join(r.choice(words) for _ in range(4))}\n")
PY
git add -A && git commit -qm one
for c in two three; do
    find src -path '*/mod00[12]/*' -name 'file1*.py' | xargs -I{} sh -c 'echo "# $0" >> {}' "$c"
    git commit -qam "$c"
done
python3 - <<'PY'
import glob, random, zlib
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
r = random.Random(9)
body = "".join(r.choice(B62) for _ in range(30))
n = zlib.crc32(body.encode()); d = ""
while n: d = B62[n % 62] + d; n //= 62
token = "ghp_" + body + d.rjust(6, "0")   # synthetic, checksum-valid
paths = sorted(glob.glob("src/pkg0*/mod000/*.py"))[:10]
for k, p in enumerate(paths):
    lines = open(p).read().splitlines(True)
    lines[10] = "def changed(x):  # edited\n"
    lines.insert(40, f"HF_CACHE = '/tmp/hf'  # added line {k}\n")
    if k == 3:
        lines.insert(41, f"GITHUB_TOKEN = '{token}'\n")
    open(p, "w").write("".join(lines))
PY
git gc -q   # packed, as a clone is
git add -A
git diff --cached --stat | tail -1
ferret=${FERRET:-$here/target/release/ferret}
[ -x "$ferret" ] || ferret=${CARGO_TARGET_DIR:-$here/target}/release/ferret
"$ferret" git --staged || true
hyperfine --warmup 3 --runs 50 -N -i "$ferret git --staged --quiet"

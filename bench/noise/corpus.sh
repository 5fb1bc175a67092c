#!/usr/bin/env bash
# Prints the folders of the noise benchmark's corpora, one per line:
#   cargo  - the registry sources of this project's dependencies, as pinned by Cargo.lock
#            ($CARGO_HOME/registry/src/*/NAME-VERSION that exist after a build);
#   stdlib - the Python standard library of `python3` (sysconfig's stdlib path).
# Usage: bench/noise/corpus.sh cargo|stdlib
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
case "${1:-}" in
cargo)
    src="${CARGO_HOME:-$HOME/.cargo}/registry/src"
    [ -d "$src" ] || exit 0
    awk '/^name = /{gsub(/"/,"",$3); n=$3} /^version = /{gsub(/"/,"",$3); print n "-" $3}' \
        "$here/Cargo.lock" | sort -u | while read -r crate; do
        for d in "$src"/*/"$crate"; do
            [ -d "$d" ] && echo "$d"
        done
    done
    ;;
stdlib)
    python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])' 2>/dev/null || true
    ;;
*)
    echo "usage: $0 cargo|stdlib" >&2
    exit 2
    ;;
esac

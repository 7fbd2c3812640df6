#!/usr/bin/env bash
# `minirun diff` against `find` over the same container's upper directory, side by side
# (hyperfine, store on tmpfs): a container that added 100,000 files in a new directory
# (/many/1..100/f1..f1000). Target: diff <= 1.3x find. Prints "diff_median find_median" (s).
# Usage (as root): bench/diff-vs-find.sh [IMAGE_ARCHIVE]  (default: the busybox example image)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-bench}
MR=${MINIRUN:-$PWD/build/minirun}
RUNS=${RUNS:-10}
S=${STORE:-$B/diff-store}
mkdir -p "$B/json"
AR=${1:-$B/example-busybox.tar}
[ -f "$AR" ] || scripts/make-example-image.sh "$AR" >/dev/null
ref=$("$MR" --root "$S" load -q -i "$AR" | sed -n 's/^Loaded image: //p; s/^Loaded image ID: //p' | head -1)
"$MR" --root "$S" rm -f manyadd >/dev/null 2>&1 || true
"$MR" --root "$S" run --name manyadd --network none "$ref" /bin/sh -c \
  'mkdir /many && cd /many && for d in $(seq 1 100); do mkdir $d; (cd $d && seq 1 1000 | sed s/^/f/ | xargs touch); done'
upper=$("$MR" --root "$S" inspect manyadd | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["UpperDir"])')
lines=$("$MR" --root "$S" diff manyadd | wc -l)
[ "$lines" -ge 100101 ] || { echo "diff-vs-find: expected 100,101 changes, got $lines" >&2; exit 1; }
hyperfine -N -w 2 -r "$RUNS" --export-json "$B/json/diff-find.json" \
  "$MR --root $S diff manyadd" "find $upper" >&2
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.6f" % x["median"] for x in r))' \
  "$B/json/diff-find.json"

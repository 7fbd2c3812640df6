#!/usr/bin/env bash
# Benchmarks minirun against physical baselines in one run, stores on tmpfs (/dev/shm), and
# prints a table: measure, minirun median, baseline median, ratio, target.
# Usage (as root): bench/run-all.sh   (builds its inputs with bench/make-images.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-bench}
MR=${MINIRUN:-$PWD/build/minirun}
RUNS=${RUNS:-10}
command -v hyperfine >/dev/null || scripts/install-deps.sh --bench
[ -f "$B/debian3.tar" ] && [ -f "$B/deep500.tar" ] || bench/make-images.sh
S=$B/store
J=$B/json; mkdir -p "$J"
median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.6f" % x["median"] for x in r))' "$1"; }
rows=()
row() { rows+=("$(printf '%-44s %10s %10s %8s   %s' "$1" "$2" "$3" "$4" "$5")"); }
ms() { python3 -c 'import sys; print("%.1f ms" % (float(sys.argv[1]) * 1000))' "$1"; }
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

# 1. Cold load of the 3-layer Debian image vs tar -x of its layers into tmpfs.
hyperfine -N -w 1 -r "$RUNS" --export-json "$J/load.json" \
  --prepare "rm -rf $S" "$MR --root $S load -q -i $B/debian3.tar" \
  --prepare "rm -rf $B/tarx" "sh -c 'mkdir -p $B/tarx/1 $B/tarx/2 $B/tarx/3 && tar -xf $B/layers/1.tar -C $B/tarx/1 && tar -xf $B/layers/2.tar -C $B/tarx/2 && tar -xf $B/layers/3.tar -C $B/tarx/3'" >/dev/null
read -r load tarx < <(median "$J/load.json")
row "cold load, 3-layer Debian image" "$(ms "$load")" "$(ms "$tarx")" "$(ratio "$load" "$tarx")" "<= 1.0 (serial tar -x of the layers)"

# 2. Second image sharing the base vs cold load.
rm -rf "$S"; "$MR" --root "$S" load -q -i "$B/debian3.tar" >/dev/null
hyperfine -N -w 1 -r "$RUNS" --export-json "$J/load2.json" \
  --prepare "sh -c '$MR --root $S rmi -f bench/debian:4 >/dev/null 2>&1 || true'" "$MR --root $S load -q -i $B/debian4.tar" >/dev/null
read -r load2 < <(median "$J/load2.json")
row "load of a second image sharing the base" "$(ms "$load2")" "$(ms "$load")" "$(ratio "$load2" "$load")" "<= 0.05 (cold load)"

# 3. Warm run vs unshare + overlay + proc + chroot on the same layers.
LOWER=$("$MR" --root "$S" inspect bench/debian:3 | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]["GraphDriver"]["Data"]; print(d["UpperDir"]+":"+d["LowerDir"])')
bench/write-baseline.sh "$B" "$LOWER" "$B/baseline-run.sh"
hyperfine -N -w 3 -r $((RUNS * 3)) --export-json "$J/run.json" \
  "$MR --root $S run --rm --network none bench/debian:3 /bin/true" "$B/baseline-run.sh" >/dev/null
read -r run base < <(median "$J/run.json")
row "warm run --rm IMAGE /bin/true" "$(ms "$run")" "$(ms "$base")" "$(ratio "$run" "$base")" "<= 0.5 (unshare+overlay+proc+chroot)"

# 4. run ARCHIVE (store warm) vs run NAME.
hyperfine -N -w 3 -r $((RUNS * 3)) --export-json "$J/runar.json" \
  "$MR --root $S run --rm --network none $B/debian3.tar /bin/true" "$MR --root $S run --rm --network none bench/debian:3 /bin/true" >/dev/null
read -r runar runname < <(median "$J/runar.json")
row "run ARCHIVE /bin/true, store warm" "$(ms "$runar")" "$(ms "$runname")" "$(ratio "$runar" "$runname")" "<= 1.5 (run NAME)"

# 5. 500 layers vs 3 layers.
"$MR" --root "$S" load -q -i "$B/deep500.tar" >/dev/null
"$MR" --root "$S" load -q -i "$B/deep3.tar" >/dev/null
hyperfine -N -w 3 -r $((RUNS * 3)) --export-json "$J/deep.json" \
  "$MR --root $S run --rm --network none bench/deep:500 /bin/true" "$MR --root $S run --rm --network none bench/deep:3 /bin/true" >/dev/null
read -r d500 d3 < <(median "$J/deep.json")
row "run on a 500-layer image" "$(ms "$d500")" "$(ms "$d3")" "$(ratio "$d500" "$d3")" "<= 2 (3-layer image)"
# The same without its flat layer (as a store of an older minirun has it): every layer stacked.
rm -rf "$S"/overlay2/*-flat
hyperfine -N -w 3 -r $((RUNS * 3)) --export-json "$J/deep-stacked.json" \
  "$MR --root $S run --rm --network none bench/deep:500 /bin/true" "$MR --root $S run --rm --network none bench/deep:3 /bin/true" >/dev/null
read -r s500 s3 < <(median "$J/deep-stacked.json")
row "  the same, every layer stacked (no flat)" "$(ms "$s500")" "$(ms "$s3")" "$(ratio "$s500" "$s3")" "record (what the flat layer saves)"

# 6. diff of 100,000 added files and two deleted large directories.
"$MR" --root "$S" rm -f bigdiff >/dev/null 2>&1 || true
"$MR" --root "$S" run --name bigdiff --network none bench/debian:3 /bin/bash -c \
  'mkdir -p /many && cd /many && for d in $(seq 1 100); do mkdir $d; (cd $d && touch $(seq -f f%g 1 1000)); done; rm -rf /usr/share/doc /usr/share/locale'
hyperfine -N -w 1 -r "$RUNS" --export-json "$J/diff.json" "$MR --root $S diff bigdiff" >/dev/null
read -r diff < <(median "$J/diff.json")
lines=$("$MR" --root "$S" diff bigdiff | wc -l)
row "diff: 100,000 added files + 2 deleted dirs" "$(ms "$diff")" "-" "-" "record ($lines lines); >= 10x faster than docker diff"
# 6b. diff of 100,000 files added in a new directory vs find over the same upper directory.
read -r dnew dfind < <(RUNS="$RUNS" bench/diff-vs-find.sh 2>/dev/null)
row "diff: 100,000 files in a new directory" "$(ms "$dnew")" "$(ms "$dfind")" "$(ratio "$dnew" "$dfind")" "<= 1.3 (find over the upper dir)"

# 7. 100 containers started concurrently.
start=$(date +%s.%N)
fails=0
for i in $(seq 1 100); do "$MR" --root "$S" run --rm --network none bench/deep:3 /bin/true & done
for j in $(jobs -p); do wait "$j" || fails=$((fails + 1)); done
end=$(date +%s.%N)
rate=$(python3 -c "print('%.0f' % (100 / ($end - $start)))")
row "100 concurrent run --rm" "$rate/s" "-" "-" "all succeed: $((100 - fails))/100"

# 8. Peak memory of a cold load.
rm -rf "$S"
peak=$( { /usr/bin/time -f '%M' "$MR" --root "$S" load -q -i "$B/debian3.tar" >/dev/null; } 2>&1 | tail -1)
row "peak RSS of the cold load" "$((peak / 1024)) MiB" "-" "-" "bounded (archive $(du -m "$B/debian3.tar" | cut -f1) MiB)"

echo "minirun benchmarks — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), stores on tmpfs"
printf '%-44s %10s %10s %8s   %s\n' "measure" "minirun" "baseline" "ratio" "target"
printf '%s\n' "${rows[@]}"

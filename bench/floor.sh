#!/usr/bin/env bash
# The kernel's share of a warm `run --rm IMAGE /bin/true`: bench/floor.c makes what a default run
# makes (its cgroups, namespaces, overlay root, Docker's mounts, nodes, masks, seccomp filter and
# capabilities; execve; the removal) with nothing of minirun around it, timed beside minirun and
# the shell baseline of bench/run-all.sh in one hyperfine run, each with and without the
# security defaults (cgroup + seccomp). What the floor costs, no engine can save; what minirun
# costs above it is minirun's own (start-up, store, records, checks).
# Targets: minirun at most 1.0 ms above the floor on a quiet machine; with --busy (two busy loops,
# one per core of this 2-core machine, run beside the whole measurement, as a build beside it
# would), at most 1.3x the floor.
# Not part of CI or the tests. Usage (as root): bench/floor.sh [--runs N] [--busy]
#   env: MINIRUN (default build/minirun), BENCH (default /dev/shm/minirun-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=100
BUSY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --busy) BUSY=1; shift ;;
    *) echo "usage: bench/floor.sh [--runs N] [--busy]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/floor.sh: run as root" >&2; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps.sh --bench
ROOT=${BENCH:-/dev/shm/minirun-bench}
MR=${MINIRUN:-$PWD/build/minirun}
[ -f "$ROOT/debian3.tar" ] || bench/make-images.sh
B=$ROOT/floor
rm -rf "$B" && mkdir -p "$B/json" "$B/scratch/etc" "$B/scratch/init/etc"
busy_pids=()
cleanup() {
  if [ ${#busy_pids[@]} -gt 0 ]; then kill "${busy_pids[@]}" 2>/dev/null || true; fi
  rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
gcc -O2 -Wall -static bench/floor.c -o "$B/floor"
S=$B/store
"$MR" --root "$S" load -q -i "$ROOT/debian3.tar" >/dev/null
img=bench/debian:3
run="$MR --root $S run --rm --network none"
$run $img /bin/true  # warm: the seccomp cache (the floor loads the same program) and the page cache
bpf=$(ls "$S"/seccomp/*.bpf)
LOWER=$("$MR" --root "$S" inspect $img | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]["GraphDriver"]["Data"]; print(d["UpperDir"]+":"+d["LowerDir"])')
for f in hostname hosts resolv.conf; do echo "floor" >"$B/scratch/etc/$f"; : >"$B/scratch/init/etc/$f"; done
bench/write-baseline.sh "$B" "$LOWER" "$B/baseline-run.sh"
# --busy: two CPU-bound loops beside the measurement, each bounded (timeout: 30 minutes at most)
# and killed on exit.
if [ "$BUSY" = 1 ]; then
  for i in 1 2; do
    timeout 1800 sh -c 'while :; do :; done' &
    busy_pids+=($!)
  done
  sleep 1
fi
# Five rounds of hyperfine over all five, their times pooled: on this VM the machine drifts
# within minutes, and one command's whole block would land in one state.
ROUNDS=5
for i in $(seq $ROUNDS); do
  hyperfine -N -w 3 -r $(( (RUNS + ROUNDS - 1) / ROUNDS )) --export-json "$B/json/floor-$i.json" \
    -n "floor, defaults" "$B/floor $LOWER $B/scratch $bpf" \
    -n "minirun, defaults" "$run $img /bin/true" \
    -n "floor, neither" "$B/floor $LOWER $B/scratch bare" \
    -n "minirun, neither" "$run --cgroups=disabled --security-opt seccomp=unconfined $img /bin/true" \
    -n "shell baseline" "$B/baseline-run.sh" >/dev/null
done
mode=quiet
[ "$BUSY" = 1 ] && mode="two busy loops beside it"
echo "floor — run --rm --network none $img /bin/true, $mode, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $ROUNDS x $(( (RUNS + ROUNDS - 1) / ROUNDS )) runs, tmpfs, load $(cut -d' ' -f1 /proc/loadavg)"
python3 - "$B"/json/floor-*.json <<'PY'
import json, statistics, sys
times = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
rs = {k: statistics.median(v) * 1000 for k, v in times.items()}
base = rs["shell baseline"]
print("%-22s %9s %9s" % ("", "median", "/ shell"))
for k, v in rs.items():
    print("%-22s %6.2f ms %9.2f" % (k, v, v / base))
print("the defaults (cgroup + seccomp): floor %+.2f ms, minirun %+.2f ms" %
      (rs["floor, defaults"] - rs["floor, neither"], rs["minirun, defaults"] - rs["minirun, neither"]))
print("minirun above the floor: %.2f ms with the defaults, %.2f ms without" %
      (rs["minirun, defaults"] - rs["floor, defaults"], rs["minirun, neither"] - rs["floor, neither"]))
print("minirun / floor: %.2f with the defaults, %.2f without" %
      (rs["minirun, defaults"] / rs["floor, defaults"], rs["minirun, neither"] / rs["floor, neither"]))
PY

#!/usr/bin/env bash
# The cost of run's security defaults on a warm `run --rm IMAGE /bin/true` (--network none, so
# that only these differ): the default (the container's cgroup + Docker's seccomp profile), then
# without the cgroup (--cgroups=disabled), without the filter (--security-opt seccomp=unconfined),
# and without both, side by side in one hyperfine run, store on tmpfs.
# Target: the defaults cost at most 1 ms over the run without them.
# Not part of CI or the tests. Usage (as root): bench/defaults.sh [--runs N]
#   env: MINIRUN (default build/minirun), BENCH (default /dev/shm/minirun-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=50
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: bench/defaults.sh [--runs N]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/defaults.sh: run as root" >&2; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps.sh --bench
B=${BENCH:-/dev/shm/minirun-bench}/defaults
MR=${MINIRUN:-$PWD/build/minirun}
rm -rf "$B" && mkdir -p "$B/json"
trap 'rm -rf "$B"' EXIT
MINIRUN=$MR scripts/make-example-image.sh "$B/busybox.tar" >/dev/null
"$MR" --root "$B/store" load -q -i "$B/busybox.tar" >/dev/null
img=example/busybox:latest
run="$MR --root $B/store run --rm --network none"
$run $img /bin/true  # warm: the seccomp cache and the page cache
hyperfine -N -w 5 -r "$RUNS" --export-json "$B/json/defaults.json" \
  -n "defaults (cgroup + seccomp)" "$run $img /bin/true" \
  -n "cgroups=disabled" "$run --cgroups=disabled $img /bin/true" \
  -n "seccomp=unconfined" "$run --security-opt seccomp=unconfined $img /bin/true" \
  -n "neither" "$run --cgroups=disabled --security-opt seccomp=unconfined $img /bin/true" >/dev/null
# The same after 0.3 s of quiet before each run, as a user's run usually starts: on cgroup v1 the
# first move of a thread group into a cgroup after a quiet moment waited for an RCU grace period
# (10-15 ms; runtime/cgroups.cpp joins through `tasks` to avoid it), which back-to-back runs hide.
hyperfine -N --prepare "sleep 0.3" -w 2 -r "$(( RUNS / 2 > 10 ? RUNS / 2 : 10 ))" --export-json "$B/json/idle.json" \
  -n "defaults (cgroup + seccomp)" "$run $img /bin/true" \
  -n "cgroups=disabled" "$run --cgroups=disabled $img /bin/true" \
  -n "neither" "$run --cgroups=disabled --security-opt seccomp=unconfined $img /bin/true" >/dev/null
echo "run --rm --network none $img /bin/true, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $RUNS runs, store on tmpfs, load $(cut -d' ' -f1 /proc/loadavg)"
python3 - "$B/json/defaults.json" "$B/json/idle.json" <<'PY'
import json, sys
for f, title in zip(sys.argv[1:], ("back to back", "after 0.3 s of quiet")):
    rs = json.load(open(f))["results"]
    base = next(r for r in rs if r["command"] == "neither")
    print("%-28s %10s %10s %12s   (%s)" % ("variant", "median", "mean", "vs neither", title))
    for r in rs:
        print("%-28s %7.2f ms %7.2f ms %+9.2f ms" % (r["command"], r["median"] * 1000, r["mean"] * 1000,
                                                  (r["median"] - base["median"]) * 1000))
PY

#!/usr/bin/env bash
# The cost of the default bridge network on a warm `run --rm IMAGE /bin/true`: the default
# (bridge: veth pair, address, route, /etc/hosts), --network none (a new namespace, lo only) and
# --network host, side by side in one hyperfine run, store on tmpfs; then the same bridge run
# with one published port (-p: libnftnl's DNAT map elements, one netlink batch each way; see
# src/network/nft_elements.cpp).
# Targets: bridge <= none + 2 ms; bridge -p 80 <= bridge + ~2 ms.
#
# Everything runs inside a fresh network namespace made for the benchmark (unshare --net): the
# bridge minirun0, the nft table minirun, the veths and the sysctls exist there only and vanish
# with it; the host's interfaces, routes and tables are never touched.
# Not part of CI or the tests. Usage (as root): bench/network.sh [--runs N]
#   env: MINIRUN (default build/minirun), BENCH (default /dev/shm/minirun-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-50}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --inside) INSIDE=1; shift ;;
    *) echo "usage: bench/network.sh [--runs N]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/network.sh: run as root" >&2; exit 1; }
if [ -z "${INSIDE:-}" ]; then
  command -v hyperfine >/dev/null || scripts/install-deps.sh --bench
  exec unshare --net --mount --propagation private -- "$0" --inside --runs "$RUNS"
fi

B=${BENCH:-/dev/shm/minirun-bench}/network
MR=${MINIRUN:-$PWD/build/minirun}
rm -rf "$B" && mkdir -p "$B/json"
trap 'rm -rf "$B"' EXIT
ip link set lo up
MINIRUN=$MR scripts/make-example-image.sh "$B/busybox.tar" >/dev/null
"$MR" --root "$B/store" load -q -i "$B/busybox.tar" >/dev/null
img=example/busybox:latest
run="$MR --root $B/store run --rm"
# Warm: the bridge, the table and the page cache exist before the first timed run.
$run $img /bin/true && $run --network none $img /bin/true && $run -p 80 $img /bin/true

hyperfine -N -w 5 -r "$RUNS" --export-json "$B/json/network.json" \
  -n "bridge (default)" "$run $img /bin/true" \
  -n "none" "$run --network none $img /bin/true" \
  -n "host" "$run --network host $img /bin/true" \
  -n "bridge -p 80" "$run -p 80 $img /bin/true" >/dev/null
# The last run's veth goes with its namespace, which the kernel destroys asynchronously.
for _ in $(seq 50); do ip -o link show | grep -q ': mr[0-9a-f]\{12\}@' || break; sleep 0.02; done
left=$(find "$B/store/networks" -path "*/leases/*" -o -path "*/endpoints/*" | wc -l)
veths=$(ip -o link show | grep -c ': mr[0-9a-f]\{12\}@' || true)

echo "run --rm $img /bin/true by network mode, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $RUNS runs, store on tmpfs, load $(cut -d' ' -f1 /proc/loadavg)"
python3 - "$B/json/network.json" <<'PY'
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
none = next(r for r in rs if r["command"] == "none")
bridge = next(r for r in rs if r["command"] == "bridge (default)")
print("%-18s %10s %10s %12s %12s   %s" % ("mode", "median", "mean", "vs none", "vs bridge", "target"))
for r in rs:
    d = (r["median"] - none["median"]) * 1000
    b = (r["median"] - bridge["median"]) * 1000
    t = {"bridge (default)": "none + 2.0 ms", "bridge -p 80": "bridge + 2.0 ms"}.get(r["command"], "")
    print("%-18s %7.2f ms %7.2f ms %+9.2f ms %+9.2f ms   %s" % (r["command"], r["median"] * 1000, r["mean"] * 1000, d, b, t))
PY
echo "left after the runs: $left leases/endpoints, $veths veths"

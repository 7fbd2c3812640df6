#!/usr/bin/env bash
# Detached containers against their targets, side by side in one hyperfine run each, store
# on tmpfs ($BENCH, default /dev/shm/minirun-detachbench), the example busybox image:
#  1. `run -d IMAGE sleep 1000` until the CLI returns (the command has exec'd under its monitor)
#     against the foreground `run --rm IMAGE /bin/true` (target: run -d <= 1.5x);
#  2. `exec CTR true` against `nsenter` into the same namespaces (mnt, uts, ipc, net, pid) of the
#     same container running /bin/true (target: exec <= 2x nsenter);
#  3. the idle monitor of that container: RSS and CPU over 3 s (target: < 2 MB, none).
# bench/peers.sh measures the same commands with Docker and Podman. Usage (as
# root, after building minirun): bench/detach.sh; env RUNS (default 30), MINIRUN, BENCH.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-detachbench}
MR=${MINIRUN:-$PWD/build/minirun}
RUNS=${RUNS:-30}
[ "$(id -u)" -eq 0 ] || { echo "bench/detach.sh: run as root" >&2; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps.sh --bench
rm -rf "$B" && mkdir -p "$B/json"
S=$B/store
cleanup() {
  ids=$("$MR" --root "$S" ps -aq 2>/dev/null || true)
  [ -z "$ids" ] || "$MR" --root "$S" rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$B"
}
trap cleanup EXIT
MINIRUN=$MR scripts/make-example-image.sh "$B/busybox.tar" >/dev/null
"$MR" --root "$S" load -q -i "$B/busybox.tar" >/dev/null
IMG=example/busybox:latest
median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.6f" % x["median"] for x in r))' "$1"; }
ratio() { python3 -c 'import sys; print("%.2fx" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

# 1. run -d until the CLI returns; the detached containers are removed after each run.
hyperfine -N -w 2 -r "$RUNS" --export-json "$B/json/run.json" \
  --cleanup "sh -c '$MR --root $S rm -f \$($MR --root $S ps -aq) >/dev/null 2>&1 || true'" \
  "$MR --root $S run --rm $IMG /bin/true" \
  "$MR --root $S run -d --rm $IMG sleep 1000" >/dev/null
read -r fg det < <(median "$B/json/run.json")
echo "run --rm /bin/true (foreground) $(printf %.4f "$fg") s, run -d sleep (until it returns) $(printf %.4f "$det") s ($(ratio "$det" "$fg"); target 1.5x)"

# 2. exec vs nsenter into the same container.
CID=$("$MR" --root "$S" run -d --name bench $IMG sleep 100000)
PID=$("$MR" --root "$S" inspect --type container bench | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
hyperfine -N -w 3 -r "$RUNS" --export-json "$B/json/exec.json" \
  "nsenter -t $PID -m -u -i -n -p /bin/true" \
  "$MR --root $S exec bench /bin/true" >/dev/null
read -r ns ex < <(median "$B/json/exec.json")
echo "nsenter -t PID -m -u -i -n -p /bin/true $(printf %.4f "$ns") s, minirun exec CTR /bin/true $(printf %.4f "$ex") s ($(ratio "$ex" "$ns"); target 2x)"

# 3. the idle monitor.
MON=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$S/containers/$CID/state.json")
sleep 2
t0=$(awk '{print $14 + $15}' "/proc/$MON/stat")
sleep 3
t1=$(awk '{print $14 + $15}' "/proc/$MON/stat")
echo "idle monitor: RSS $(awk '/^VmRSS/ {print $2, $3}' "/proc/$MON/status"), CPU ticks over 3 s: $((t1 - t0))"

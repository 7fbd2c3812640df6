#!/usr/bin/env bash
# Throughput host → container over a published port, beside a plain veth pair (target: at
# least 90% of the veth's). One transfer = SIZE_MB MiB of zeros piped into busybox `nc` on this side,
# read by busybox `nc -l` on the other:
#   veth pair           to 10.250.0.2:5001, a namespace this script makes, joined by a veth
#                       pair (no bridge, no nftables): the baseline
#   published, netns    to 127.0.0.1:5001 → `minirun run -d -p 5001:5001`, the server started
#                       in the container's network namespace only (nsenter -n): the network path
#                       alone — minirun's DNAT (output chain), route_localnet, the masquerade,
#                       the bridge, the container's veth
#   published           the same, the server a process of the container (`minirun exec`: its
#                       cgroup, capabilities and Docker's seccomp profile): what a user gets
#   published, unconfined   the same in a container run with --security-opt seccomp=unconfined
# Rounds alternate so that a change in the machine's load hits every path alike; medians are
# compared. busybox nc moves 1 KiB per read and write, so a filter on every system call (seccomp,
# which also turns on the speculative store bypass mitigation, as under Docker) shows.
#
# Everything runs inside a fresh network namespace made for the benchmark (unshare --net): the
# bridge, the nft table, the veths and the peer namespace exist there only and vanish with it.
# Not part of CI or the tests. Usage (as root): bench/throughput.sh [--rounds N] [--size-mb N]
#   env: MINIRUN (default build/minirun), BENCH (default /dev/shm/minirun-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SIZE_MB=${SIZE_MB:-1024}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --inside) INSIDE=1; shift ;;
    *) echo "usage: bench/throughput.sh [--rounds N] [--size-mb N]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/throughput.sh: run as root" >&2; exit 1; }
if [ -z "${INSIDE:-}" ]; then
  exec unshare --net --mount --propagation private -- "$0" --inside --rounds "$ROUNDS" --size-mb "$SIZE_MB"
fi

BB=/bin/busybox
[ -x "$BB" ] || { echo "bench/throughput.sh: $BB missing (apt-get install busybox-static)" >&2; exit 1; }
B=${BENCH:-/dev/shm/minirun-bench}/throughput
MR=${MINIRUN:-$PWD/build/minirun}
rm -rf "$B" && mkdir -p "$B"
peer=""
cleanup() {
  "$MR" --root "$B/store" rm -f tput tputu >/dev/null 2>&1 || true
  [ -n "$peer" ] && kill "$peer" 2>/dev/null || true
  rm -rf "$B"
}
trap cleanup EXIT
ip link set lo up
MINIRUN=$MR scripts/make-example-image.sh "$B/busybox.tar" >/dev/null
"$MR" --root "$B/store" load -q -i "$B/busybox.tar" >/dev/null
img=example/busybox:latest

# The plain veth pair: this namespace (10.250.0.1) <-> a namespace held by a sleeping process.
unshare --net sleep infinity &
peer=$!
for _ in $(seq 100); do [ "$(readlink /proc/$peer/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.01; done
ip link add vbench0 type veth peer name vbench1 netns "$peer"
ip addr add 10.250.0.1/24 dev vbench0
ip link set vbench0 up
nsenter -t "$peer" -n sh -c 'ip link set lo up && ip addr add 10.250.0.2/24 dev vbench1 && ip link set vbench1 up'

# A server that reads one connection to its end: nc -l's stdin must never end (busybox nc closes
# the connection at EOF on stdin), so it is a FIFO opened read-write that nobody writes.
SERVER='f=$(mktemp -u); mkfifo $f; exec 3<>$f; rm $f; exec busybox nc -l -p 5001 <&3 >/dev/null'

# Prints the seconds one transfer to $1:$2 takes (from the first byte sent to the client's exit:
# what the kernel still buffers then is a few MiB of SIZE_MB).
xfer() {
  local t0 t1
  t0=$(date +%s.%N)
  dd if=/dev/zero bs=1M count="$SIZE_MB" 2>/dev/null | "$BB" nc "$1" "$2"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
wait_port() {  # until something listens on $2 in namespace of pid $1 (or here with $1 = self)
  for _ in $(seq 300); do
    if [ "$1" = self ]; then ss -Hltn "sport = :$2" | grep -q . && return 0
    else nsenter -t "$1" -n ss -Hltn "sport = :$2" | grep -q . && return 0; fi
    sleep 0.02
  done
  echo "bench/throughput.sh: nothing listens on $2" >&2; exit 1
}

"$MR" --root "$B/store" run -d --name tput -p 5001:5001 "$img" sleep 100000 >/dev/null
"$MR" --root "$B/store" run -d --name tputu --security-opt seccomp=unconfined -p 5002:5002 "$img" sleep 100000 >/dev/null
pid=$("$MR" --root "$B/store" inspect -f '{{.State.Pid}}' tput)
pidu=$("$MR" --root "$B/store" inspect -f '{{.State.Pid}}' tputu)
veth=() netns=() pub=() unc=()
for r in $(seq "$ROUNDS"); do
  nsenter -t "$peer" -n sh -c "$SERVER" &
  srv=$!; wait_port "$peer" 5001
  veth+=("$(xfer 10.250.0.2 5001)"); wait "$srv"

  nsenter -t "$pid" -n sh -c "$SERVER" &
  srv=$!; wait_port "$pid" 5001
  netns+=("$(xfer 127.0.0.1 5001)"); wait "$srv"

  "$MR" --root "$B/store" exec tput sh -c "$SERVER" &
  srv=$!; wait_port "$pid" 5001
  pub+=("$(xfer 127.0.0.1 5001)"); wait "$srv"

  "$MR" --root "$B/store" exec tputu sh -c "${SERVER/5001/5002}" &
  srv=$!; wait_port "$pidu" 5002
  unc+=("$(xfer 127.0.0.1 5002)"); wait "$srv"
  echo "round $r: veth ${veth[-1]} s, published/netns ${netns[-1]} s, published ${pub[-1]} s, unconfined ${unc[-1]} s" >&2
done

echo "host → container, ${SIZE_MB} MiB with busybox nc, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $ROUNDS rounds, load $(cut -d' ' -f1 /proc/loadavg)"
python3 - "$SIZE_MB" "${veth[*]}" "${netns[*]}" "${pub[*]}" "${unc[*]}" <<'PY'
import statistics, sys
mb = float(sys.argv[1])
rows = [("veth pair (baseline)", sys.argv[2]), ("published, netns", sys.argv[3]),
        ("published", sys.argv[4]), ("published, unconfined", sys.argv[5])]
base = statistics.median(float(x) for x in sys.argv[2].split())
print("%-24s %10s %10s %10s" % ("path", "median s", "MiB/s", "vs veth"))
for name, xs in rows:
    m = statistics.median(float(x) for x in xs.split())
    print("%-24s %10.2f %10.0f %9.0f%%" % (name, m, mb / m, 100 * base / m))
print("target: published >= 90% of the veth pair's")
PY

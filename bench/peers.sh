#!/usr/bin/env bash
# Measures minirun beside the engines a user could pick instead, in one hyperfine run per measure
# on the same image (bench/debian:3), every store on tmpfs: Docker (docker.io 20.10, its own
# dockerd started here with its data root on tmpfs), Podman 4.3 (runc, cgroupfs, rootful, storage
# on tmpfs, `--pull never`, nofile/nproc ulimits of 1024) and umoci (unpack of the same image as an
# OCI layout). Measures: load; diff; warm `run --rm /bin/true` on each engine's default bridge and
# with --network none; `run -d … sleep` until the CLI returns, beside minirun's
# foreground `run --rm /bin/true`; `exec CTR /bin/true`, beside `nsenter` into the same container's
# namespaces; the log pipeline, a detached container writing $LOG_SIZE of 100-byte lines until
# `wait` returns, beside `yes | head -c $LOG_SIZE > file`, and `logs > /dev/null`, beside `cat` of
# that file. Prints one table: each median, each peer's speed-up against minirun and
# minirun's ratio to the baseline of the row.
#
# Everything runs inside a network and mount namespace the script makes (unshare --net --mount):
# dockerd with its default bridge (docker0) and its iptables rules, Podman's CNI bridge and rules,
# minirun's bridge (minirun0) and nft table exist there only and vanish with it; CNI's lease
# directory and /run/netns are tmpfs mounts of that namespace. The host's links, nft tables and
# bridge/forwarding sysctls are compared before and after, and a difference is reported.
# Not part of CI or the tests: it installs the peers (scripts/install-deps.sh --peers).
# Usage (as root): bench/peers.sh   (inputs from bench/make-images.sh)
#   env: RUNS (5), FAST_RUNS (20: run, run -d, exec), LOG_SIZE (200M), LOG_RUNS (3), MINIRUN
#   (default build/minirun), BENCH (/dev/shm/minirun-bench), DOCKER_CLI (/usr/bin/docker, the
#   docker.io client: another docker on PATH may be newer than the daemon)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-bench}
MR=${MINIRUN:-$PWD/build/minirun}
RUNS=${RUNS:-5}
FAST_RUNS=${FAST_RUNS:-20}  # the rows that take well under a second for every engine
LOG_SIZE=${LOG_SIZE:-200M}
LOG_RUNS=${LOG_RUNS:-3}
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
P=$B/peers
# Directories the daemons write network state into; made (and removed again) only if missing.
NETDIRS=(/run/netns /var/lib/cni)

if [ -z "${PEERS_INSIDE:-}" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench/peers.sh: run as root" >&2; exit 1; }
  scripts/install-deps.sh --bench --peers >/dev/null
  [ -f "$B/debian3.tar" ] || bench/make-images.sh
  host_state() {
    ip -br link | awk '{print "link", $1}'
    nft list tables | sed 's/^/nft /'
    for s in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables; do
      [ -e "/proc/sys/$s" ] && echo "sysctl $s $(cat "/proc/sys/$s")"
    done
    return 0
  }
  before=$(host_state)
  made=()
  for d in "${NETDIRS[@]}"; do [ -e "$d" ] || made+=("$d"); done
  mkdir -p "$P"
  rc=0
  # The script is the subreaper of what it starts (python3 sets PR_SET_CHILD_SUBREAPER, 36, and
  # execs; bash reaps any child it is given): minirun's monitors, Docker's shims and conmon become
  # its children when their starter exits and are reaped at once, as under systemd. Some inits
  # (this machine's PID 1) reap orphans only every second or two, and `minirun wait` returns when
  # the monitor's pid is gone: a zombie monitor added ~1.9 s to every log-write run.
  PEERS_INSIDE=1 python3 -c 'import ctypes, os, sys
assert ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0
os.execvp(sys.argv[1], sys.argv[1:])' unshare --net --mount --propagation private -- "$0" "$@" || rc=$?
  for d in "${made[@]}"; do rmdir "$d" 2>/dev/null || true; done
  after=$(host_state)
  if [ "$before" = "$after" ]; then
    echo "host network namespace: links, nft tables and sysctls the same before and after"
  else
    echo "host network namespace CHANGED during the run (another process, or this one):"
    diff <(echo "$before") <(echo "$after") || true
  fi
  # No process may be left in the benchmark's namespace (a shim would keep docker0 alive).
  ns=$(cat "$P/netns" 2>/dev/null || true)
  if [ -n "$ns" ]; then
    left=$(for f in /proc/[0-9]*/ns/net; do [ "$(readlink "$f" 2>/dev/null)" = "$ns" ] && echo "${f%/ns/net}"; done || true)
    [ -z "$left" ] && echo "benchmark namespace $ns: no process left, gone with its bridges and rules" \
      || { echo "processes left in $ns: $left" >&2; rc=1; }
  fi
  rm -rf "$P"
  exit "$rc"
fi

# ---- inside the benchmark's network and mount namespace ----
J=$P/json
S=$P/minirun-store
IMG=bench/debian:3
rm -rf "$P" && mkdir -p "$J"
readlink /proc/self/ns/net > "$P/netns"
ip link set lo up
for d in "${NETDIRS[@]}"; do mkdir -p "$d" && mount -t tmpfs -o mode=755 tmpfs "$d"; done

# Docker: its own daemon, data root on tmpfs, default bridge and iptables (in this namespace).
DOCKER_SOCK=$P/docker.sock
dockerd --data-root "$P/docker" --exec-root "$P/docker-exec" --pidfile "$P/docker.pid" \
  -H "unix://$DOCKER_SOCK" >"$P/dockerd.log" 2>&1 &
DOCKERD=$!
D=("$DOCKER_CLI" -H "unix://$DOCKER_SOCK")
DR=(run --pull never)
PODMAN=(podman --root "$P/podman" --runroot "$P/podman-run" --tmpdir "$P/podman-tmp"
        --network-config-dir "$P/cni" --runtime runc --cgroup-manager cgroupfs --events-backend none)
PR=(run --pull never --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
M=("$MR" --root "$S")
cleanup() {
  set +e
  ids=$("${M[@]}" ps -aq 2>/dev/null); [ -z "$ids" ] || "${M[@]}" rm -f $ids >/dev/null 2>&1
  ids=$("${D[@]}" ps -aq 2>/dev/null); [ -z "$ids" ] || "${D[@]}" rm -f $ids >/dev/null 2>&1
  kill "$DOCKERD" 2>/dev/null && wait "$DOCKERD" 2>/dev/null
  "${PODMAN[@]}" rm -f -a -t 0 >/dev/null 2>&1
  "${PODMAN[@]}" system reset -f >/dev/null 2>&1
  # What is still in this namespace was started by this run (shims, monitors, conmon): end it.
  ns=$(readlink /proc/self/ns/net)
  for f in /proc/[0-9]*/ns/net; do
    p=${f#/proc/}; p=${p%%/*}
    [ "$p" = "$$" ] || [ "$(readlink "$f" 2>/dev/null)" != "$ns" ] || kill -9 "$p" 2>/dev/null
  done
  grep -o " ${P}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$P/docker" "$P/docker-exec" "$P/podman" "$P/podman-run" "$P/podman-tmp" "$S" "$J" "$P"/*.tar
}
trap cleanup EXIT
for _ in $(seq 100); do "${D[@]}" info >/dev/null 2>&1 && break; sleep 0.1; done
"${D[@]}" info >/dev/null

median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.6f" % x["median"] for x in r))' "$1"; }
fmt() { python3 -c 'import sys; v=float(sys.argv[1]); print("%.1f ms" % (v*1000) if v < 1 else "%.2f s" % v)' "$1"; }
# peer/minirun: how many times slower the peer is.
x() { python3 -c 'import sys; r=float(sys.argv[2]) / float(sys.argv[1]); print(("%.0fx" if r >= 10 else "%.1fx") % r)' "$1" "$2"; }
# minirun/baseline.
y() { python3 -c 'import sys; print("%.2fx" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }
delta() { python3 -c 'import sys; print("%+.1f ms" % ((float(sys.argv[1]) - float(sys.argv[2])) * 1000))' "$1" "$2"; }
rows=()
row() { rows+=("$(printf '%-40s %10s %17s %17s   %s' "$@")"); }
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# The same image as an OCI layout, for umoci.
skopeo copy -q "docker-archive:$B/debian3.tar" "oci:$P/oci:debian" >/dev/null

# 1. Load of the 3-layer Debian image (umoci: unpack of the same image into a bundle).
hyperfine -N -w 1 -r "$RUNS" --export-json "$J/load.json" \
  --prepare "rm -rf $S" "${M[*]} load -q -i $B/debian3.tar" \
  --prepare "sh -c '${D[*]} rmi -f $IMG >/dev/null 2>&1 || true'" "${D[*]} load -q -i $B/debian3.tar" \
  --prepare "sh -c '${PODMAN[*]} rmi -f $IMG >/dev/null 2>&1 || true'" "${PODMAN[*]} load -q -i $B/debian3.tar" \
  --prepare "rm -rf $P/bundle" "umoci unpack --image $P/oci:debian $P/bundle" >/dev/null
read -r m d p u < <(median "$J/load.json")
row "load, 3-layer Debian image" "$(fmt "$m")" "$(fmt "$d") ($(x "$m" "$d"))" "$(fmt "$p") ($(x "$m" "$p"))" "umoci unpack $(fmt "$u") ($(y "$m" "$u"))"
rm -rf "$P/bundle" "$P/oci"

# 2. Warm run of /bin/true, removed afterwards: each engine's default bridge and no network, in
#    one hyperfine run (the bridge's cost is the difference).
"${M[@]}" load -q -i "$B/debian3.tar" >/dev/null
"${D[@]}" load -q -i "$B/debian3.tar" >/dev/null
"${PODMAN[@]}" load -q -i "$B/debian3.tar" >/dev/null
for n in bridge none; do  # warm: bridges, tables and the page cache exist before the first run
  "${M[@]}" run --rm --network $n $IMG /bin/true
  "${D[@]}" "${DR[@]}" --rm --network $n $IMG /bin/true
  "${PODMAN[@]}" "${PR[@]}" --rm --network $n $IMG /bin/true
done
hyperfine -N -w 2 -r "$FAST_RUNS" --export-json "$J/run.json" \
  "${M[*]} run --rm $IMG /bin/true" \
  "${M[*]} run --rm --network none $IMG /bin/true" \
  "${D[*]} ${DR[*]} --rm $IMG /bin/true" \
  "${D[*]} ${DR[*]} --rm --network none $IMG /bin/true" \
  "${PODMAN[*]} ${PR[*]} --rm $IMG /bin/true" \
  "${PODMAN[*]} ${PR[*]} --rm --network none $IMG /bin/true" >/dev/null
read -r mb mn db dn pb pn < <(median "$J/run.json")
row "run --rm IMAGE /bin/true, default bridge" "$(fmt "$mb")" "$(fmt "$db") ($(x "$mb" "$db"))" "$(fmt "$pb") ($(x "$mb" "$pb"))" "--network none ($(y "$mb" "$mn"))"
row "run --rm IMAGE /bin/true, --network none" "$(fmt "$mn")" "$(fmt "$dn") ($(x "$mn" "$dn"))" "$(fmt "$pn") ($(x "$mn" "$pn"))" "-"
row "  the bridge's cost (bridge - none)" "$(delta "$mb" "$mn")" "$(delta "$db" "$dn")" "$(delta "$pb" "$pn")" "target: minirun <= +2 ms"

# 3. run -d IMAGE sleep until the CLI returns (the container removed before the next run), beside
#    minirun's foreground run --rm /bin/true; no network for all (the bridge is measured above).
rmd() { echo "sh -c '$1 rm -f ${2:-} detb >/dev/null 2>&1 || true'"; }
hyperfine -N -w 2 -r "$FAST_RUNS" --export-json "$J/detach.json" \
  --prepare true "${M[*]} run --rm --network none $IMG /bin/true" \
  --prepare "$(rmd "${M[*]}")" "${M[*]} run -d --rm --name detb --network none $IMG sleep 1000" \
  --prepare "$(rmd "${D[*]}")" "${D[*]} ${DR[*]} -d --rm --name detb --network none $IMG sleep 1000" \
  --prepare "$(rmd "${PODMAN[*]}" "-t 0")" "${PODMAN[*]} ${PR[*]} -d --rm --name detb --network none $IMG sleep 1000" >/dev/null
"${M[@]}" rm -f detb >/dev/null 2>&1 || true; "${D[@]}" rm -f detb >/dev/null 2>&1 || true
"${PODMAN[@]}" rm -f -t 0 detb >/dev/null 2>&1 || true
read -r fg md dd pd < <(median "$J/detach.json")
row "run -d IMAGE sleep, until the CLI returns" "$(fmt "$md")" "$(fmt "$dd") ($(x "$md" "$dd"))" "$(fmt "$pd") ($(x "$md" "$pd"))" "run --rm /bin/true $(fmt "$fg") ($(y "$md" "$fg"); target 1.5x)"

# 4. exec CTR /bin/true into a running container, beside nsenter into minirun's container's
#    namespaces (mnt, uts, ipc, net, pid).
"${M[@]}" run -d --name execb --network none $IMG sleep 100000 >/dev/null
"${D[@]}" "${DR[@]}" -d --name execb --network none $IMG sleep 100000 >/dev/null
"${PODMAN[@]}" "${PR[@]}" -d --name execb --network none $IMG sleep 100000 >/dev/null
PID=$("${M[@]}" inspect --type container -f '{{.State.Pid}}' execb)
hyperfine -N -w 3 -r "$FAST_RUNS" --export-json "$J/exec.json" \
  "nsenter -t $PID -m -u -i -n -p /bin/true" \
  "${M[*]} exec execb /bin/true" \
  "${D[*]} exec execb /bin/true" \
  "${PODMAN[*]} exec execb /bin/true" >/dev/null
read -r ns me de pe < <(median "$J/exec.json")
row "exec CTR /bin/true" "$(fmt "$me")" "$(fmt "$de") ($(x "$me" "$de"))" "$(fmt "$pe") ($(x "$me" "$pe"))" "nsenter $(fmt "$ns") ($(y "$me" "$ns"); target 2x)"
"${M[@]}" rm -f execb >/dev/null; "${D[@]}" rm -f execb >/dev/null; "${PODMAN[@]}" rm -f -t 0 execb >/dev/null

# 5. The log pipeline: a detached container writes $LOG_SIZE of 100-byte lines to stdout, timed
#    from run -d until wait returns, beside the same bytes written to a file; then reading them
#    back with logs > /dev/null (hyperfine discards output), beside cat of that file. Each
#    engine's default log driver: json-file (minirun, Docker), k8s-file (Podman).
L=$(printf '%099d' 0 | tr 0 x)  # 99 characters and the newline: 100-byte lines
for e in minirun docker podman; do
  case $e in
    minirun) c="${M[*]}"; r="${M[*]} run" ;;
    docker) c="${D[*]}"; r="${D[*]} ${DR[*]}" ;;
    podman) c="${PODMAN[*]}"; r="${PODMAN[*]} ${PR[*]}" ;;
  esac
  printf '#!/bin/sh\nset -e\n%s -d --name logw --network none %s sh -c "yes %s | head -c %s" >/dev/null\n%s wait logw >/dev/null\n' \
    "$r" "$IMG" "$L" "$LOG_SIZE" "$c" > "$P/logw-$e.sh"
  echo "sh -c '$c rm -f logw >/dev/null 2>&1 || true'" > "$P/logw-$e.prep"
done
hyperfine -N -w 0 -r "$LOG_RUNS" --export-json "$J/logw.json" \
  --prepare "rm -f $P/plain" "sh -c 'yes $L | head -c $LOG_SIZE > $P/plain'" \
  --prepare "$(cat "$P/logw-minirun.prep")" "sh $P/logw-minirun.sh" \
  --prepare "$(cat "$P/logw-docker.prep")" "sh $P/logw-docker.sh" \
  --prepare "$(cat "$P/logw-podman.prep")" "sh $P/logw-podman.sh" >/dev/null
read -r yw mw dw pw < <(median "$J/logw.json")
row "log: run -d writing $LOG_SIZE, until wait" "$(fmt "$mw")" "$(fmt "$dw") ($(x "$mw" "$dw"))" "$(fmt "$pw") ($(x "$mw" "$pw"))" "yes|head > file $(fmt "$yw") ($(y "$mw" "$yw"); target 2x)"
hyperfine -N -w 0 -r "$LOG_RUNS" --export-json "$J/logr.json" \
  "cat $P/plain" "${M[*]} logs logw" "${D[*]} logs logw" "${PODMAN[*]} logs logw" >/dev/null
read -r cr mr dr pr < <(median "$J/logr.json")
row "log: logs > /dev/null of those lines" "$(fmt "$mr")" "$(fmt "$dr") ($(x "$mr" "$dr"))" "$(fmt "$pr") ($(x "$mr" "$pr"))" "cat of the file $(fmt "$cr") ($(y "$mr" "$cr"); target 3x)"
bytes="$(stat -c %s "$P/plain") (file) / $("${M[@]}" logs logw | wc -c) / $("${D[@]}" logs logw 2>&1 | wc -c) / $("${PODMAN[@]}" logs logw 2>&1 | wc -c)"
"${M[@]}" rm -f logw >/dev/null; "${D[@]}" rm -f logw >/dev/null; "${PODMAN[@]}" rm -f logw >/dev/null; rm -f "$P/plain"

# 6. diff of a container that added 100,000 files and deleted two large directories.
change='mkdir -p /many && cd /many && for d in $(seq 1 100); do mkdir $d; (cd $d && touch $(seq -f f%g 1 1000)); done; rm -rf /usr/share/doc /usr/share/locale'
"${M[@]}" run --name bigdiff --network none $IMG /bin/bash -c "$change"
"${D[@]}" "${DR[@]}" --name bigdiff --network none $IMG /bin/bash -c "$change"
"${PODMAN[@]}" "${PR[@]}" --name bigdiff --network none $IMG /bin/bash -c "$change"
hyperfine -N -w 1 -r "$RUNS" --export-json "$J/diff.json" \
  "${M[*]} diff bigdiff" "${D[*]} diff bigdiff" "${PODMAN[*]} diff bigdiff" >/dev/null
read -r m d p < <(median "$J/diff.json")
lines="$("${M[@]}" diff bigdiff | wc -l)/$("${D[@]}" diff bigdiff | wc -l)/$("${PODMAN[@]}" diff bigdiff | wc -l)"
row "diff, 100,000 added files" "$(fmt "$m")" "$(fmt "$d") ($(x "$m" "$d"))" "$(fmt "$p") ($(x "$m" "$p"))" "-"

echo "minirun beside its peers — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), stores on tmpfs, load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "versions: $("${D[@]}" version -f 'docker {{.Server.Version}}'), $("${PODMAN[@]}" version -f 'podman {{.Client.Version}}') (runc $(runc --version | awk 'NR==1 {print $3}'), $("${PODMAN[@]}" info -f '{{.Host.NetworkBackend}}')), $(umoci --version); runs: $RUNS (fast rows $FAST_RUNS), log rows $LOG_RUNS"
printf '%-40s %10s %17s %17s   %s\n' "measure (median)" "minirun" "docker (d/m)" "podman (p/m)" "baseline (minirun/baseline)"
printf '%s\n' "${rows[@]}"
echo "diff lines (minirun/docker/podman): $lines; log bytes read back (file / minirun / docker / podman): $bytes"

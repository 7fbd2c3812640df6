#!/usr/bin/env bash
# Measures minirun beside the engines a user could pick instead, in one run on the same image,
# every store on tmpfs: Docker (docker.io, dockerd started here with --bridge=none
# --iptables=false and its data root on tmpfs), Podman (runc, rootful, storage on tmpfs) and umoci
# (unpack of the same image as an OCI layout). Prints one table: measure, minirun's median, each
# peer's median and minirun's speed-up against it.
# Not part of CI or the tests: it installs the peers (scripts/install-deps.sh --peers) and starts
# and stops dockerd itself. Usage (as root): bench/peers.sh   (inputs from bench/make-images.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-bench}
MR=${MINIRUN:-$PWD/build/minirun}
RUNS=${RUNS:-5}
scripts/install-deps.sh --bench --peers >/dev/null
[ -f "$B/debian3.tar" ] || bench/make-images.sh
P=$B/peers
J=$P/json
rm -rf "$P" && mkdir -p "$J"
S=$P/minirun-store
IMG=bench/debian:3

# Docker: its own daemon, data root on tmpfs, no network set-up.
DOCKER_SOCK=$P/docker.sock
dockerd --bridge=none --iptables=false --ip-masq=false --data-root "$P/docker" --exec-root "$P/docker-exec" \
  --pidfile "$P/docker.pid" -H "unix://$DOCKER_SOCK" >"$P/dockerd.log" 2>&1 &
DOCKERD=$!
PODMAN=(podman --root "$P/podman" --runroot "$P/podman-run" --runtime runc --cgroup-manager cgroupfs --events-backend none)
cleanup() {
  kill "$DOCKERD" 2>/dev/null && wait "$DOCKERD" 2>/dev/null
  "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
  grep -o " $P[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$P"
}
trap cleanup EXIT
D=(docker -H "unix://$DOCKER_SOCK")
for _ in $(seq 100); do "${D[@]}" info >/dev/null 2>&1 && break; sleep 0.1; done
"${D[@]}" info >/dev/null

median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.6f" % x["median"] for x in r))' "$1"; }
fmt() { python3 -c 'import sys; v=float(sys.argv[1]); print("%.1f ms" % (v*1000) if v < 1 else "%.2f s" % v)' "$1"; }
x() { python3 -c 'import sys; print("%.0fx" % (float(sys.argv[2]) / float(sys.argv[1])))' "$1" "$2"; }
rows=()
row() { rows+=("$(printf '%-34s %10s %18s %18s %18s' "$@")"); }

# The same image as an OCI layout, for umoci.
skopeo copy -q "docker-archive:$B/debian3.tar" "oci:$P/oci:debian" >/dev/null

# 1. Load of the 3-layer Debian image (umoci: unpack of the same image into a bundle).
hyperfine -N -w 1 -r "$RUNS" --export-json "$J/load.json" \
  --prepare "rm -rf $S" "$MR --root $S load -q -i $B/debian3.tar" \
  --prepare "sh -c '${D[*]} rmi -f $IMG >/dev/null 2>&1 || true'" "${D[*]} load -q -i $B/debian3.tar" \
  --prepare "sh -c '${PODMAN[*]} rmi -f $IMG >/dev/null 2>&1 || true'" "${PODMAN[*]} load -q -i $B/debian3.tar" \
  --prepare "rm -rf $P/bundle" "umoci unpack --image $P/oci:debian $P/bundle" >/dev/null
read -r m d p u < <(median "$J/load.json")
row "load, 3-layer Debian image" "$(fmt "$m")" "$(fmt "$d") ($(x "$m" "$d"))" "$(fmt "$p") ($(x "$m" "$p"))" "$(fmt "$u") ($(x "$m" "$u"))"

# 2. Warm run of /bin/true, removed afterwards, no network.
"$MR" --root "$S" load -q -i "$B/debian3.tar" >/dev/null
"${D[@]}" load -q -i "$B/debian3.tar" >/dev/null
"${PODMAN[@]}" load -q -i "$B/debian3.tar" >/dev/null
hyperfine -N -w 2 -r $((RUNS * 2)) --export-json "$J/run.json" \
  "$MR --root $S run --rm --network none $IMG /bin/true" \
  "${D[*]} run --rm --pull never --network none $IMG /bin/true" \
  "${PODMAN[*]} run --rm --pull never --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 $IMG /bin/true" >/dev/null
read -r m d p < <(median "$J/run.json")
row "run --rm IMAGE /bin/true" "$(fmt "$m")" "$(fmt "$d") ($(x "$m" "$d"))" "$(fmt "$p") ($(x "$m" "$p"))" "-"

# 3. diff of a container that added 100,000 files and deleted two large directories.
change='mkdir -p /many && cd /many && for d in $(seq 1 100); do mkdir $d; (cd $d && touch $(seq -f f%g 1 1000)); done; rm -rf /usr/share/doc /usr/share/locale'
"$MR" --root "$S" run --name bigdiff --network none $IMG /bin/bash -c "$change"
"${D[@]}" run --name bigdiff --pull never --network none $IMG /bin/bash -c "$change"
"${PODMAN[@]}" run --name bigdiff --pull never --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 $IMG /bin/bash -c "$change"
hyperfine -N -w 1 -r "$RUNS" --export-json "$J/diff.json" \
  "$MR --root $S diff bigdiff" "${D[*]} diff bigdiff" "${PODMAN[*]} diff bigdiff" >/dev/null
read -r m d p < <(median "$J/diff.json")
lines="$("$MR" --root "$S" diff bigdiff | wc -l)/$("${D[@]}" diff bigdiff | wc -l)/$("${PODMAN[@]}" diff bigdiff | wc -l)"
row "diff, 100,000 added files" "$(fmt "$m")" "$(fmt "$d") ($(x "$m" "$d"))" "$(fmt "$p") ($(x "$m" "$p"))" "-"

echo "minirun beside its peers — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), stores on tmpfs"
echo "versions: $("${D[@]}" version -f 'docker {{.Server.Version}}'), $("${PODMAN[@]}" version -f 'podman {{.Client.Version}}'), $(umoci --version)"
printf '%-34s %10s %18s %18s %18s\n' "measure (median; peer (peer/minirun))" "minirun" "docker" "podman" "umoci unpack"
printf '%s\n' "${rows[@]}"
echo "diff lines (minirun/docker/podman): $lines"

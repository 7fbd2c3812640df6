#!/usr/bin/env bash
# bench/pull.sh — pulling from a registry on loopback into a store on tmpfs, side by side:
#   minirun pull  vs  minirun load of the same blobs (an OCI layout)  vs  skopeo copy + umoci
#   unpack  vs  docker/podman pull when they are installed (reported when not);
#   a 4 × 50 MB-layer image pulled with --max-concurrent-downloads 4 vs 1.
# The bench image: bench/make-images.sh's Debian root file system ($BENCH/rootfs) when it is
# there, else about 200 MB of this host's /usr (sorted, the first files up to the size), as one
# gzip layer plus two small ones. Registry: Debian's docker-registry on 127.0.0.1, its storage
# on tmpfs, stopped on exit. Needs hyperfine, skopeo, docker-registry; umoci for its row.
# Usage: bench/pull.sh   (MINIRUN=path/to/minirun, BENCH=dir, RUNS=N)
set -euo pipefail
cd "$(dirname "$0")/.."
MR=${MINIRUN:-$PWD/build/minirun}
B=${BENCH:-/dev/shm/minirun-pull-bench}
RUNS=${RUNS:-5}
mkdir -p "$B"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT

# ---- images ----
if [ ! -f "$B/debian/index.json" ]; then
  rm -rf "$B/src" && mkdir -p "$B/src"
  if [ -x "${BENCH_ROOTFS:-$B/rootfs}/bin/true" ]; then
    tar --numeric-owner -C "${BENCH_ROOTFS:-$B/rootfs}" -cf "$B/src/base.tar" .
  else
    find /usr -xdev -type f -size -20M -printf '%P\t%s\n' 2>/dev/null | sort |
      awk -F'\t' '{ t += $2; if (t <= 200e6) print $1 }' >"$B/src/files"  # reads to the end: no SIGPIPE under pipefail
    tar --numeric-owner -C /usr -cf "$B/src/base.tar" --transform 's,^,usr/,' -T "$B/src/files"
  fi
  mkdir -p "$B/src/l2/etc" "$B/src/l3/var/lib"
  echo bench >"$B/src/l2/etc/bench-extra"
  head -c 3000000 /dev/urandom | base64 >"$B/src/l3/var/lib/bench-data"
  tar --numeric-owner -C "$B/src/l2" -cf "$B/src/l2.tar" .
  tar --numeric-owner -C "$B/src/l3" -cf "$B/src/l3.tar" .
  python3 bench/make-oci.py "$B/debian" "$B/src/base.tar" "$B/src/l2.tar" "$B/src/l3.tar"
  for i in 1 2 3 4; do
    mkdir -p "$B/src/q$i"
    head -c 37000000 /dev/urandom | base64 -w 4096 >"$B/src/q$i/data$i"  # ~50 MB, gzip to ~38 MB
    tar -C "$B/src/q$i" -cf "$B/src/q$i.tar" .
  done
  python3 bench/make-oci.py "$B/quad" "$B/src/q1.tar" "$B/src/q2.tar" "$B/src/q3.tar" "$B/src/q4.tar"
  rm -rf "$B/src"
fi
du -sh "$B/debian" "$B/quad"

# ---- the registry ----
rm -rf "$B/registry"
cat >"$B/registry.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $B/registry } }
http: { addr: $REG }
YML
docker-registry serve "$B/registry.yml" >"$B/registry.log" 2>&1 &
REG_PID=$!
cleanup() { kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; rm -rf "$B"/store-* "$B/umoci-"*; }
trap cleanup EXIT
for _ in $(seq 50); do curl -sf "http://$REG/v2/" >/dev/null && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false oci:"$B/debian" "docker://$REG/bench/debian:1"
skopeo copy -q --dest-tls-verify=false oci:"$B/quad" "docker://$REG/bench/quad:1"

echo "== minirun $("$MR" --version 2>/dev/null || true); load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
S=$B/store
cmds=(
  -n "minirun pull" "$MR --root $S-pull pull -q $REG/bench/debian:1"
  -n "minirun load (same blobs, OCI layout)" "$MR --root $S-load load -q -i $B/debian"
  -n "skopeo copy + umoci unpack" "skopeo copy -q --src-tls-verify=false docker://$REG/bench/debian:1 oci:$B/umoci-oci:1 && umoci unpack --image $B/umoci-oci:1 $B/umoci-bundle"
)
command -v umoci >/dev/null || { echo "umoci: not installed (apt-get install umoci): its row is skipped"; cmds=("${cmds[@]:0:6}"); }
if command -v podman >/dev/null; then
  cmds+=(-n "podman pull" "podman --root $S-podman --runroot $S-podman-run pull -q --tls-verify=false $REG/bench/debian:1")
else
  echo "podman: not installed"
fi
if docker info >/dev/null 2>&1; then
  echo "docker: a daemon answers; its data root is not on tmpfs here, so its row is left out"
else
  echo "docker: no daemon running (the client alone is installed)"
fi
hyperfine -w 1 -r "$RUNS" --prepare "rm -rf $S-pull $S-load $S-podman $S-podman-run $B/umoci-oci $B/umoci-bundle; sync" \
  --export-markdown "$B/pull.md" "${cmds[@]}"
hyperfine -w 1 -r "$RUNS" --prepare "rm -rf $S-quad; sync" --export-markdown "$B/quad.md" \
  -n "4 x 50 MB layers, --max-concurrent-downloads 4" "$MR --root $S-quad pull -q --max-concurrent-downloads 4 $REG/bench/quad:1" \
  -n "4 x 50 MB layers, --max-concurrent-downloads 1" "$MR --root $S-quad pull -q --max-concurrent-downloads 1 $REG/bench/quad:1"
cat "$B/pull.md" "$B/quad.md"

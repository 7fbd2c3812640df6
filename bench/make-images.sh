#!/usr/bin/env bash
# Builds the benchmark inputs in $BENCH (default /dev/shm/minirun-bench), with minirun's own
# image writer: a Debian bookworm minbase root filesystem (debootstrap) becomes a 3-layer image
# (import of the base, then two commits), saved as debian3.tar; a second image on the same base
# (one more layer) as debian4.tar; the layer tars alone (for the tar -x baseline); a 500-layer
# image (deep500.tar) and a 3-layer busybox image of the same kind (busy3.tar).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-bench}
MR=${MINIRUN:-$PWD/build/minirun}
mkdir -p "$B"
if [ ! -x "$B/rootfs/bin/true" ]; then
  debootstrap --variant=minbase bookworm "$B/rootfs" >"$B/debootstrap.log"
fi
S=$B/build-store
rm -rf "$S"
M() { "$MR" --root "$S" "$@"; }
# Layer 1: everything but /usr/share and /var; layer 2 adds /usr/share; layer 3 adds /var.
tar --numeric-owner -C "$B/rootfs" --exclude=./usr/share --exclude=./var -cf "$B/base.tar" .
M import -c 'CMD ["/bin/bash"]' "$B/base.tar" bench/debian:1 >/dev/null
M run --name l2 --network none -v "$B/rootfs:/src:ro" bench/debian:1 /bin/cp -a /src/usr/share /usr/
M commit l2 bench/debian:2 >/dev/null
M run --name l3 --network none -v "$B/rootfs:/src:ro" bench/debian:2 /bin/cp -a /src/var /
M commit l3 bench/debian:3 >/dev/null
M run --name l4 --network none bench/debian:3 /bin/sh -c 'echo tuned > /etc/bench-extra'
M commit l4 bench/debian:4 >/dev/null
M save -o "$B/debian3.tar" bench/debian:3
M save -o "$B/debian4.tar" bench/debian:4
rm -rf "$B/layers" && mkdir -p "$B/layers"
i=0
for l in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' <(tar -xOf "$B/debian3.tar" manifest.json)); do
  i=$((i + 1)); tar -xOf "$B/debian3.tar" "$l" >"$B/layers/$i.tar"
done
rm -rf "$S" "$B/base.tar"
python3 bench/make-deep.py "$B/deep500.tar" 500
python3 bench/make-deep.py "$B/deep3.tar" 3
du -sh "$B"/*.tar "$B/layers"

#!/bin/sh
# Regenerates cases/*/expected.json from Docker: run by a developer who has Docker (as root),
# never by the tests. Uses the daemon DOCKER_HOST (or the default socket) names when one answers;
# otherwise starts a private dockerd (no bridge, no iptables, data in /dev/shm) and stops it at
# the end. Each case's context is prepared by summarize.py (modes set), built with
# `docker build --network none` (BuildKit when buildx is there, else the classic builder:
# "builder" in expected.json says which), saved, and summarised by summarize.py, the code the
# root test (tests/root/build_diff_root_test.cpp) runs on minirun's images.
#
# Usage: tests/build-diff/generate.sh [CASE…]   (all cases when none is named)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /dev/shm/build-diff.XXXXXX)
daemon=
cleanup() {
  if [ -n "$daemon" ]; then
    kill "$daemon" 2>/dev/null || true
    while kill -0 "$daemon" 2>/dev/null; do sleep 0.2; done
    umount -R "$work/docker" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

if ! docker info >/dev/null 2>&1; then
  dockerd --bridge=none --iptables=false --ip6tables=false --data-root "$work/docker" \
    --exec-root "$work/exec" --pidfile "$work/dockerd.pid" -H "unix://$work/docker.sock" \
    >"$work/dockerd.log" 2>&1 &
  daemon=$!
  export DOCKER_HOST="unix://$work/docker.sock"
  i=0
  until docker info >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 150 ] || ! kill -0 "$daemon" 2>/dev/null; then
      cat "$work/dockerd.log" >&2
      echo "dockerd did not start" >&2
      exit 1
    fi
    sleep 0.2
  done
fi

# BuildKit when a client can build with it: one with buildx, or a client before 23.0 (BuildKit
# built in: Debian's docker.io 20.10 is /usr/bin/docker); else the classic builder.
builder=classic progress=
for c in ${DOCKER:-} docker /usr/bin/docker; do
  if printf 'FROM scratch\nLABEL probe=1\n' | DOCKER_BUILDKIT=1 "$c" build -q - >/dev/null 2>&1; then
    docker() { DOCKER_BUILDKIT=1 command "$c" "$@"; }
    builder=buildkit progress="--progress=plain"
    break
  fi
done
[ $builder = buildkit ] || export DOCKER_BUILDKIT=0
echo "docker $(docker version --format '{{.Server.Version}}'), builder: $builder"

python3 "$here/base_rootfs.py" "$work/base.tar"
docker import "$work/base.tar" t/bbdiff >/dev/null
docker save -o "$work/base-image.tar" t/bbdiff
base_history=$(python3 "$here/summarize.py" image "$work/base-image.tar" |
  python3 -c 'import json, sys; print(len(json.load(sys.stdin)["history"]))')

if [ $# -eq 0 ]; then
  set -- $(cd "$here/cases" && ls)
fi
for name in "$@"; do
  case_dir="$here/cases/$name"
  python3 "$here/summarize.py" prepare "$case_dir" "$work/ctx-$name"
  echo "== $name"
  docker build --network none $progress -t "t/builddiff-$name" "$work/ctx-$name" 2>&1
  docker save -o "$work/$name.tar" "t/builddiff-$name"
  python3 "$here/summarize.py" image "$work/$name.tar" --builder "$builder" --base-history "$base_history" \
    >"$case_dir/expected.json"
done

#!/usr/bin/env bash
# minirun-runtime beside runc on the same OCI bundle: `RUNTIME --root STATE run --bundle B ID`
# (create + start + wait + delete of a container running /bin/true), side by side in one
# hyperfine run, bundle and runtime state on tmpfs. Prints each median and minirun-runtime/runc.
# Target: minirun-runtime run <= 0.2x runc run.
#
# The bundle: by default a busybox-static rootfs with `runc spec`'s config.json (args /bin/true,
# no terminal); with --export, `minirun export --bundle` of the example busybox image
# (scripts/make-example-image.sh), i.e. minirun's own image -> spec conversion.
# The minirun row is skipped, with a message, while build/minirun-runtime does not exist.
# Not part of CI or the tests. Usage (as root): bench/runtime.sh [--export] [--runs N]
#   env: MINIRUN (default build/minirun), MINIRUN_RUNTIME (default build/minirun-runtime),
#        RUNC (default runc from PATH), BENCH (default /dev/shm/minirun-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-bench}/runtime
MR=${MINIRUN:-$PWD/build/minirun}
MRR=${MINIRUN_RUNTIME:-$PWD/build/minirun-runtime}
RUNS=${RUNS:-30}
from=spec
while [ $# -gt 0 ]; do
  case "$1" in
    --export) from=export; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: bench/runtime.sh [--export] [--runs N]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/runtime.sh: run as root" >&2; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps.sh --bench
RUNC=${RUNC:-$(command -v runc || true)}
[ -n "$RUNC" ] || { scripts/install-deps.sh --peers >/dev/null; RUNC=$(command -v runc); }

rm -rf "$B" && mkdir -p "$B/json"
cleanup() {
  "$RUNC" --root "$B/runc-state" delete -f bench-runc >/dev/null 2>&1 || true
  [ -x "$MRR" ] && "$MRR" --root "$B/minirun-state" delete -f bench-minirun >/dev/null 2>&1 || true
  rm -rf "$B"
}
trap cleanup EXIT

bundle=$B/bundle
if [ "$from" = export ]; then
  [ -x "$MR" ] || { echo "bench/runtime.sh: --export needs $MR" >&2; exit 1; }
  "$MR" export --help 2>/dev/null | grep -q -- --bundle \
    || { echo "bench/runtime.sh: this minirun has no 'export --bundle' yet; run without --export" >&2; exit 1; }
  MINIRUN=$MR scripts/make-example-image.sh "$B/busybox.tar" >/dev/null
  "$MR" --root "$B/store" load -q -i "$B/busybox.tar" >/dev/null
  "$MR" --root "$B/store" export --bundle "$bundle" example/busybox:latest
  python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"]["args"] = ["/bin/true"]; c["process"]["terminal"] = False
json.dump(c, open(p, "w"), indent=2)
PY
else
  busybox=/bin/busybox
  [ -x "$busybox" ] || scripts/install-deps.sh >/dev/null
  mkdir -p "$bundle/rootfs"/{bin,etc,tmp,proc,sys,dev,root}
  cp "$busybox" "$bundle/rootfs/bin/busybox"
  for app in sh true echo; do ln -s busybox "$bundle/rootfs/bin/$app"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$bundle/rootfs/etc/passwd"
  echo 'root:x:0:' >"$bundle/rootfs/etc/group"
  (cd "$bundle" && "$RUNC" spec)
  python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"]["args"] = ["/bin/true"]; c["process"]["terminal"] = False
json.dump(c, open(p, "w"), indent=2)
PY
fi

# One sanity run each: the bundle works and the runtime exits 0.
"$RUNC" --root "$B/runc-state" run --bundle "$bundle" bench-runc </dev/null
cmds=("$RUNC --root $B/runc-state run --bundle $bundle bench-runc")
names=("runc run")
if [ -x "$MRR" ]; then
  "$MRR" --root "$B/minirun-state" run --bundle "$bundle" bench-minirun </dev/null
  cmds+=("$MRR --root $B/minirun-state run --bundle $bundle bench-minirun")
  names+=("minirun-runtime run")
else
  echo "bench/runtime.sh: $MRR missing: the minirun-runtime row is skipped (build 'minirun'; minirun-runtime is its symlink)"
fi

hyperfine -N -w 3 -r "$RUNS" --export-json "$B/json/runtime.json" "${cmds[@]}" >/dev/null
mapfile -t med < <(python3 -c 'import json,sys; [print("%.6f" % r["median"]) for r in json.load(open(sys.argv[1]))["results"]]' "$B/json/runtime.json")
ms() { python3 -c 'import sys; print("%.1f ms" % (float(sys.argv[1]) * 1000))' "$1"; }

echo "OCI runtime on one bundle ($from: $(basename "$bundle"), /bin/true), $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $RUNS runs, state on tmpfs"
echo "versions: $("$RUNC" --version | head -1)$([ -x "$MRR" ] && echo ", $("$MRR" --version 2>/dev/null | head -1)")"
printf '%-24s %10s %12s   %s\n' "measure" "median" "x runc" "target"
for i in "${!cmds[@]}"; do
  r=$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "${med[$i]}" "${med[0]}")
  t=""; [ "$i" -gt 0 ] && t="<= 0.2 (runc run)"
  printf '%-24s %10s %12s   %s\n' "${names[$i]}" "$(ms "${med[$i]}")" "$r" "$t"
done

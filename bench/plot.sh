#!/usr/bin/env bash
# Measures start latency against layer count (1–500) and load time against image size, with the
# baselines, and draws docs/performance.png with gnuplot. As root; stores on tmpfs.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-bench}/plot
MR=${MINIRUN:-$PWD/build/minirun}
command -v gnuplot >/dev/null && command -v hyperfine >/dev/null || scripts/install-deps.sh --bench
mkdir -p "$B"
S=$B/store
rm -rf "$S"
median() { python3 -c 'import json,sys; print(" ".join("%.3f" % (x["median"]*1000) for x in json.load(open(sys.argv[1]))["results"]))' "$1"; }

# 1. run --rm /bin/true against the number of layers, beside unshare+overlay+proc+chroot.
: >"$B/layers.dat"
for n in 1 16 31 32 50 100 200 300 400 500; do
  python3 bench/make-deep.py "$B/deep$n.tar" "$n"
  "$MR" --root "$S" load -q -i "$B/deep$n.tar" >/dev/null
  lower=$("$MR" --root "$S" inspect "bench/deep:$n" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]["GraphDriver"]["Data"]; print(d["UpperDir"] + (":" + d["LowerDir"] if "LowerDir" in d else ""))')
  base=NaN
  if [ ${#lower} -lt 3900 ]; then  # the shell baseline has only mount(2): one page of options
    bench/write-baseline.sh "$B" "$lower" "$B/base.sh"
    hyperfine -N -w 3 -r 20 --export-json "$B/b.json" "$B/base.sh" >/dev/null
    base=$(median "$B/b.json")
  fi
  hyperfine -N -w 3 -r 20 --export-json "$B/r.json" "$MR --root $S run --rm --network none bench/deep:$n /bin/true" >/dev/null
  # The same image without its flat layer (as a store of an older minirun has it): every layer stacked.
  rm -rf "$S"/overlay2/*-flat
  hyperfine -N -w 3 -r 20 --export-json "$B/s.json" "$MR --root $S run --rm --network none bench/deep:$n /bin/true" >/dev/null
  echo "$n $(median "$B/r.json") $base $(median "$B/s.json")" >>"$B/layers.dat"
done

# 2. cold load time against image size, beside tar -x of the same layers.
: >"$B/size.dat"
for mb in 10 50 100 200; do
  python3 - "$B/img$mb.tar" "$mb" "$B/layer$mb.tar" <<'PY'
import hashlib, io, json, os, sys, tarfile
out, mb, raw = sys.argv[1], int(sys.argv[2]), sys.argv[3]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    for i in range(mb * 4):
        data = os.urandom(1 << 18)
        ti = tarfile.TarInfo("data/f%05d" % i); ti.size = len(data); ti.mtime = 1700000000
        t.addfile(ti, io.BytesIO(data))
layer = buf.getvalue()
open(raw, "wb").write(layer)
d = "sha256:" + hashlib.sha256(layer).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [d]}}).encode()
with tarfile.open(out, "w") as t:
    for name, data in ((d[7:] + "/layer.tar", layer), ("c.json", cfg),
                       ("manifest.json", json.dumps([{"Config": "c.json", "RepoTags": ["bench/size:%d" % mb], "Layers": [d[7:] + "/layer.tar"]}]).encode())):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
PY
  hyperfine -N -w 1 -r 5 --export-json "$B/l.json" \
    --prepare "rm -rf $B/ls" "$MR --root $B/ls load -q -i $B/img$mb.tar" \
    --prepare "rm -rf $B/tx" "sh -c 'mkdir -p $B/tx && tar -xf $B/layer$mb.tar -C $B/tx'" >/dev/null
  echo "$mb $(median "$B/l.json")" >>"$B/size.dat"
  rm -f "$B/img$mb.tar" "$B/layer$mb.tar"
done
rm -rf "$B/ls" "$B/tx" "$S"

gnuplot <<GP
set terminal pngcairo size 1100,460 font ",10"
set output "docs/performance.png"
set multiplot layout 1,2
set title "run --rm --network none /bin/true"
set xlabel "layers in the image"; set ylabel "ms (median)"; set key below; set grid; set yrange [0:*]
plot "$B/layers.dat" using 1:2 with linespoints lw 2 title "minirun (flat layer from 32 layers)", \
     "$B/layers.dat" using 1:4 with linespoints lw 1 dt 2 title "minirun, every layer stacked (no flat layer)", \
     "$B/layers.dat" using 1:3 with linespoints lw 2 title "unshare + mount overlay + proc + chroot (fits one page)"
set title "cold load of a one-layer image (tmpfs)"
set xlabel "image size (MB)"; set ylabel "ms (median)"
plot "$B/size.dat" using 1:2 with linespoints lw 2 title "minirun load", \
     "$B/size.dat" using 1:3 with linespoints lw 2 title "tar -x of the layer"
unset multiplot
GP
echo "layers: layer-count minirun-ms baseline-ms minirun-without-flat-ms"; cat "$B/layers.dat"
echo "size: MB minirun-ms tar-ms"; cat "$B/size.dat"

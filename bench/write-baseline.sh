#!/usr/bin/env bash
# The shell baseline of the warm-run benchmarks (bench/run-all.sh, floor.sh, plot.sh): writes OUT,
# a script that runs /bin/true as a shell can — new pid and mount namespaces (unshare), the
# overlay of LOWERDIRS (overlay's lowerdir= value) on fresh upper and work directories under
# DIR/sh, proc, chroot — and makes those directories.
# Usage: bench/write-baseline.sh DIR LOWERDIRS OUT
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: bench/write-baseline.sh DIR LOWERDIRS OUT" >&2; exit 2; }
dir=$1 lower=$2 out=$3
mkdir -p "$dir/sh/upper" "$dir/sh/work" "$dir/sh/merged"
cat >"$out" <<SH
#!/bin/sh
exec unshare --pid --fork --mount sh -c 'mount --make-rprivate / && rm -rf $dir/sh/upper/* $dir/sh/work/* && mount -t overlay overlay -o lowerdir=$lower,upperdir=$dir/sh/upper,workdir=$dir/sh/work $dir/sh/merged && mount -t proc proc $dir/sh/merged/proc && exec chroot $dir/sh/merged /bin/true'
SH
chmod +x "$out"

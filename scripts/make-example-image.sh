#!/usr/bin/env bash
# Makes the example image from Debian's busybox-static with minirun's own image writer:
# a root filesystem tar → `minirun import` (with a CMD) → `minirun save` → OUT (docker-save archive).
# Usage: scripts/make-example-image.sh [OUT] (default build/example-busybox.tar); needs build/minirun.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/example-busybox.tar}
mr=${MINIRUN:-build/minirun}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-example-image: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d /tmp/minirun-example-XXXXXX)
store=$(mktemp -d /tmp/minirun-example-store-XXXXXX)
trap 'rm -rf "$work" "$store"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,root,tmp,home/app,var,usr/bin}
cp "$busybox" "$rootfs/bin/busybox"
for app in $("$busybox" --list); do
  [ "$app" = busybox ] || ln -s busybox "$rootfs/bin/$app"
done
chmod 1777 "$rootfs/tmp"
cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP
chown 1000:1000 "$rootfs/home/app"
tar --numeric-owner -C "$rootfs" -cf "$work/rootfs.tar" .

"$mr" --root "$store" import \
  -c 'CMD ["/bin/sh", "-c", "echo Hello from minirun: $(uname -s) $(hostname), pid $$, user $(id -un)"]' \
  -c 'ENV APP=example' -m "busybox-static from Debian" \
  "$work/rootfs.tar" example/busybox:latest >/dev/null
"$mr" --root "$store" save -o "$out" example/busybox:latest
echo "wrote $out"

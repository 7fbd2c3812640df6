#!/usr/bin/env bash
# Integration tests inside a disposable VM: Debian's cloud kernel (6.1 on Debian 12) under qemu,
# an initramfs with busybox, the minirun binary and generated test images, and a real ext4
# disk (virtio) for the store. Prints one line per check and "N passed, M failed"; exits 0 only
# when the guest reported every check passed.
#
# Usage (as root): vm-tests/run.sh [--minirun PATH] [SCENARIO FLAG...]
# With no scenario flag every scenario runs; with some, only those (README.md describes them):
#   --smoke, --main          main commands, deep stacks, mount hygiene (the CI check)
#   --powercut, --powercut-only  a load reset hard, then checked on reboot
#   --limits                 cgroup v2 limits, devices, cgroup namespace, seccomp, cgroup cleanup
#   --reset                  a detached container across a hard reset
#   --net                    the bridge network: a published httpd, NAT, teardown
#   --health                 health checks on pure cgroup v2: probes by the monitor, ps, inspect
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
minirun=$top/build/minirun
selected=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minirun) minirun=$(readlink -f "$2"); shift ;;
    --smoke | --main) selected="$selected main" ;;
    --powercut | --powercut-only) selected="$selected powercut" ;;
    --limits) selected="$selected limits" ;;
    --reset) selected="$selected reset" ;;
    --net) selected="$selected net" ;;
    --health) selected="$selected health" ;;
    *) echo "vm-tests: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
want() { [ -z "$selected" ] || case " $selected " in *" $1 "*) true ;; *) false ;; esac; }
powercut=0; want powercut && powercut=1
[ "$(id -u)" = 0 ] || { echo "vm-tests: run as root" >&2; exit 2; }
[ -x "$minirun" ] || { echo "vm-tests: no minirun binary at $minirun (build first)" >&2; exit 2; }
"$top/scripts/install-deps.sh" --vm >/dev/null

kernel=$(ls -1 /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -1)
kver=${kernel#/boot/vmlinuz-}
work=$(mktemp -d /tmp/minirun-vm-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "vm-tests: kernel $kver, work dir $work"

# --- the initramfs ---
root=$work/initramfs
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,store,images,lib/modules,etc}
cp /bin/busybox "$root/bin/busybox"
for app in $(/bin/busybox --list); do [ "$app" = busybox ] || ln -sf busybox "$root/bin/$app"; done
# Without its debug information (a fifth of the size: the initramfs is unpacked under TCG too).
strip --strip-debug -o "$root/bin/minirun" "$minirun"
if ldd "$minirun" >/dev/null 2>&1; then  # a dynamic build: bring its libraries
  for lib in $(ldd "$minirun" | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
fi
# Kernel modules the guest needs (overlay, the virtio disk), with their dependencies first, in
# the order the guest's init loads them (lib/modules/load).
moddir=/lib/modules/$kver
add_module() {  # add_module kernel/path/name.ko
  local rel=$1 dep
  grep -qxF "$rel" "$work/modules.added" 2>/dev/null && return 0
  for dep in $(grep "^$rel:" "$moddir/modules.dep" | cut -d: -f2); do add_module "$dep"; done
  echo "$rel" >>"$work/modules.added"
  local out
  out=$root/lib/modules/$(basename "${rel%.xz}")
  out=${out%.zst}
  case "$rel" in
    *.xz) xz -dc "$moddir/$rel" >"$out" ;;
    *.zst) zstd -dqc "$moddir/$rel" >"$out" ;;
    *) cp "$moddir/$rel" "$out" ;;
  esac
  basename "$out" >>"$root/lib/modules/load"
}
: >"$root/lib/modules/load"
# brd: ram disks for --device (harmless nodes to write to); the rest: the bridge network (veth,
# bridge, nf_tables with the expressions minirun's table uses: nat chains, dnat maps, masquerade,
# fib, ct).
for m in overlay virtio_pci virtio_blk brd veth bridge nf_tables nft_chain_nat nft_nat nft_masq nft_fib_ipv4 nft_ct; do
  rel=$(grep -oE "^[^:]*/$m\.ko(\.xz|\.zst)?:" "$moddir/modules.dep" | head -1 | tr -d :)
  [ -n "$rel" ] && add_module "$rel"  # absent: built into this kernel
done

# libnftables (minirun dlopen()s libnftables.so.1 for bridge networks, from the system
# directories) and the nft command (the networking scenario lists minirun's table), with their
# libraries and the dynamic loader, at the paths ldd gives (the guest has no ld.so.cache: the
# default directories are searched). The loader goes beside libc.so.6 too, where a lookup of
# ld-linux-x86-64.so.2 by name (libc.so.6 needs it) finds it, not only at the /lib64 path.
mkdir -p "$root/sbin"
cp /usr/sbin/nft "$root/sbin/nft"
for lib in $(ldd /usr/sbin/nft | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
loader=$(ldd /usr/sbin/nft | awk '!/=>/ && $1 ~ /^\// { print $1 }')
libc=$(ldd /usr/sbin/nft | awk '$1 == "libc.so.6" { print $3 }')
cp -L "$loader" "$root$(dirname "$libc")/"

# Test images, made with minirun itself on the host (store in the work dir).
img=$work/img-store
M() { "$minirun" --root "$img" "$@"; }
rfs=$work/rootfs
mkdir -p "$rfs"/{bin,etc,tmp,root,home/app}
cp /bin/busybox "$rfs/bin/busybox"
for app in $(/bin/busybox --list); do [ "$app" = busybox ] || ln -sf busybox "$rfs/bin/$app"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$rfs/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$rfs/etc/group"
chmod 1777 "$rfs/tmp"; chown 1000:1000 "$rfs/home/app"
tar --numeric-owner -C "$rfs" -cf "$work/rootfs.tar" .
M import -c 'CMD ["/bin/sh", "-c", "echo hello from the vm"]' "$work/rootfs.tar" vm/busybox:1 >/dev/null
M save -o "$root/images/busybox.tar" vm/busybox:1
gzip -c "$root/images/busybox.tar" >"$root/images/busybox.tar.gz"
# The escape and seccomp probes (tests/escape, tests/seccomp; built beside minirun) in a busybox
# image.
probe=$(dirname "$minirun")/minirun_escape_probe
sprobe=$(dirname "$minirun")/minirun_seccomp_probe
if [ -x "$probe" ]; then
  cp "$probe" "$rfs/probe"
  [ -x "$sprobe" ] && cp "$sprobe" "$rfs/seccomp_probe"
  tar --numeric-owner -C "$rfs" -cf "$work/probe.tar" .
  rm -f "$rfs/probe" "$rfs/seccomp_probe"
  M import "$work/probe.tar" vm/probe:1 >/dev/null
  M save -o "$root/images/probe.tar" vm/probe:1
fi
python3 "$top/bench/make-deep.py" "$root/images/deep131.tar" 131
python3 "$top/bench/make-deep.py" "$root/images/deep500.tar" 500
if [ "$powercut" = 1 ]; then
  # A large image (about 300 MB in 3 layers of incompressible files) for the power cut.
  big=$work/big; mkdir -p "$big"
  cp -a "$rfs" "$big/r1"  # layer 1 is a busybox root filesystem, so the image runs
  for l in 1 2 3; do
    mkdir -p "$big/r$l/data$l"
    for f in $(seq 1 100); do head -c 1000000 /dev/urandom >"$big/r$l/data$l/f$f"; done
  done
  tar -C "$big/r1" -cf "$work/big1.tar" .
  M import "$work/big1.tar" vm/big:1 >/dev/null
  M run --name b2 -v "$big/r2:/src:ro" vm/big:1 /bin/busybox cp -a /src/data2 / 2>/dev/null || true
  M commit b2 vm/big:2 >/dev/null
  M run --name b3 -v "$big/r3:/src:ro" vm/big:2 /bin/busybox cp -a /src/data3 / 2>/dev/null || true
  M commit b3 vm/big:3 >/dev/null
  rm -rf "$big"
fi
cp "$here/guest.sh" "$root/guest.sh"
cp "$here/init" "$root/init"
chmod +x "$root/init" "$root/guest.sh"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# --- the disk: ext4, the store lives there; the big image waits on it for the power cut ---
mkdir -p "$work/disk"
[ "$powercut" = 1 ] && M save -o "$work/disk/big.tar" vm/big:3
truncate -s 2G "$work/disk.img"
mkfs.ext4 -q -F -d "$work/disk" "$work/disk.img"

# --- boot ---
accel=""
boot() {  # boot MODE TIMEOUT LOG
  local mode=$1 limit=$2 log=$3
  # (a KVM guest that hangs is killed by timeout; keep the shell's "Aborted" notice out of the log)
  { timeout "$limit" qemu-system-x86_64 $accel -m 1536 -smp 2 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3 no_timer_check softlockup_panic=1 minirun.mode=$mode" \
    -drive "file=$work/disk.img,if=virtio,format=raw,cache=unsafe" </dev/null >"$log" 2>&1 || true; } 2>/dev/null
}
# KVM when it works (the guest prints its marker in time), software emulation otherwise.
if [ -w /dev/kvm ]; then
  accel="-enable-kvm -cpu host"
  boot probe 25 "$work/probe.log"
  grep -q "MINIRUN-GUEST-UP" "$work/probe.log" || accel="-accel tcg"
else
  accel="-accel tcg"
fi
echo "vm-tests: accelerator: ${accel:-none}"

pass=0 fail=0
collect() {  # collect LOG: counts the guest's PASS/FAIL lines
  local log=$1
  grep -aE '^(PASS|FAIL|INFO|state after) ' "$log" | tr -d '\r' || true
  pass=$((pass + $(grep -acE '^PASS ' "$log" || true)))
  fail=$((fail + $(grep -acE '^FAIL ' "$log" || true)))
  if ! grep -aq "MINIRUN-GUEST-DONE" "$log"; then
    echo "FAIL guest did not finish (see below)"; tail -20 "$log" | tr -d '\r'; fail=$((fail + 1))
  fi
}

took() { echo "vm-tests: $1 took $((SECONDS - started)) s"; }
if want main; then
  started=$SECONDS
  boot main 600 "$work/main.log"
  collect "$work/main.log"
  took "the main scenario"
fi
if want limits; then
  started=$SECONDS
  boot limits 600 "$work/limits.log"
  collect "$work/limits.log"
  took "the limits scenario"
fi
if want net; then
  started=$SECONDS
  boot net 600 "$work/net.log"
  collect "$work/net.log"
  took "the networking scenario"
fi
if want health; then
  started=$SECONDS
  boot health 600 "$work/health.log"
  collect "$work/health.log"
  took "the health scenario"
fi
if want reset; then
  # The first boot starts a detached container and resets the VM (sysrq b) while it runs; the
  # second, on the same disk, checks that it shows exited and that start, stop and rm work.
  started=$SECONDS
  boot detach 300 "$work/detach.log"
  grep -aE '^FAIL ' "$work/detach.log" | tr -d '\r' || true
  fail=$((fail + $(grep -acE '^FAIL ' "$work/detach.log" || true)))
  if grep -aq "MINIRUN-DETACH-ARMED" "$work/detach.log"; then
    boot reboot 600 "$work/reboot.log"
    collect "$work/reboot.log"
  else
    echo "FAIL reset: the detached container never ran"; tail -20 "$work/detach.log" | tr -d '\r'; fail=$((fail + 1))
  fi
  took "the reset scenario"
fi
if [ "$powercut" = 1 ]; then
  started=$SECONDS
  # The load runs in the first boot and the VM is reset hard (sysrq b) after DELAY ms;
  # the second boot, on the same disk, checks the store and repeats the load.
  for delay in ${MINIRUN_CUT_DELAYS:-500 2000 6000 15000}; do
    boot "cut:$delay" 300 "$work/cut.log"
    grep -aq "MINIRUN-CUT-ARMED" "$work/cut.log" || { echo "FAIL power cut at ${delay} ms: the load never started"; fail=$((fail + 1)); continue; }
    boot "check:$delay" 600 "$work/check.log"
    collect "$work/check.log"
  done
  took "the power-cut scenario"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

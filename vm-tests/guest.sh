#!/bin/sh
# Runs inside the VM. Prints "PASS name" / "FAIL name: detail" per check.
# Modes: main (scenario 1), cut:MS (start a big load, reset hard after MS ms),
# check:MS (after the reset: the store must be whole, the load must then succeed).
# Containers run with --network none: the initramfs has neither libnftables nor the netfilter
# modules the default bridge network needs (no networking scenario in the VM yet).
mode=$1
S=/store/minirun
M="minirun --root $S"
check() {  # check NAME COMMAND...: passes when the command exits 0
  name=$1; shift
  if out=$("$@" 2>&1); then echo "PASS $name"; else echo "FAIL $name: $(echo "$out" | tail -2 | tr '\n' ' ')"; fi
}
expect_rc() {  # expect_rc NAME RC COMMAND...
  name=$1; want=$2; shift 2
  "$@" >/tmp/out 2>&1; rc=$?
  if [ "$rc" = "$want" ]; then echo "PASS $name"; else echo "FAIL $name: exit $rc, want $want: $(tail -2 /tmp/out | tr '\n' ' ')"; fi
}
no_mounts() {  # mount hygiene: nothing of the store stays mounted
  if grep -q " $S" /proc/self/mountinfo; then echo "FAIL mounts left after $1: $(grep " $S" /proc/self/mountinfo | head -2)"; else echo "PASS no mounts left after $1"; fi
}
layers_complete() {  # every layer directory in the store is whole
  for d in "$S"/overlay2/*/; do
    [ "$(basename "$d")" = l ] && continue
    case "$d" in *-init/) continue ;; *-flat/) [ -d "$d/diff" ] || { echo "incomplete: $d"; return 1; }; continue ;; esac
    [ -f "$d/layer.json" ] || [ -d "$d/work" ] || { echo "incomplete: $d"; return 1; }
    [ -d "$d/diff" ] && [ -f "$d/link" ] || { echo "incomplete: $d"; return 1; }
  done
  return 0
}

case "$mode" in
main)
  echo "kernel $(uname -r)"
  check "load a docker-save archive" $M load -i /images/busybox.tar
  check "load a gzip-compressed archive" $M load -i /images/busybox.tar.gz
  check "images lists the image" sh -c "$M images | grep -q vm/busybox"
  no_mounts load
  check "run prints the image's command output" sh -c "$M run --network none --rm vm/busybox:1 | grep -qx 'hello from the vm'"
  check "the command is pid 1" sh -c "test \"\$($M run --network none --rm vm/busybox:1 sh -c 'echo \$\$')\" = 1"
  check "run as a user from the image" sh -c "test \"\$($M run --network none --rm -u app vm/busybox:1 id -u)\" = 1000"
  check "environment from -e" sh -c "test \"\$($M run --network none --rm -e X=42 vm/busybox:1 sh -c 'echo \$X')\" = 42"
  expect_rc "exit status passes through" 3 $M run --network none --rm vm/busybox:1 sh -c 'exit 3'
  expect_rc "command not found is 127" 127 $M run --network none --rm vm/busybox:1 /nonexistent
  expect_rc "not executable is 126" 126 $M run --network none --rm vm/busybox:1 /etc/passwd
  expect_rc "unknown image is 125" 125 $M run --network none --rm nosuch/image
  no_mounts run
  check "run a container for diff" $M run --network none --name c1 vm/busybox:1 sh -c 'echo x > /tmp/new; rm /etc/group'
  check "diff lists the changes" sh -c "test \"\$($M diff c1 | tr '\n' ' ')\" = 'C /etc D /etc/group C /tmp A /tmp/new '"
  check "commit the container" $M commit c1 vm/busybox:2
  check "the committed image has the changes" sh -c "test \"\$($M run --network none --rm vm/busybox:2 cat /tmp/new)\" = x"
  check "save the committed image" $M save -o /tmp/saved.tar vm/busybox:2
  check "rm the container" $M rm c1
  check "rmi both images" $M rmi vm/busybox:2 vm/busybox:1
  check "load the saved image again" $M load -i /tmp/saved.tar
  check "the reloaded image runs" sh -c "test \"\$($M run --network none --rm vm/busybox:2 cat /tmp/new)\" = x"
  if [ -f /images/probe.tar ]; then
    # No devices cgroup here: /dev must be nodev for a mknod'ed disk to stay unreadable; the root
    # is an initramfs, so this also covers the chroot fallback.
    echo host > /store/host-only-marker
    $M load -q -i /images/probe.tar >/dev/null
    $M run --network none --rm vm/probe:1 /probe /store/host-only-marker $(cat /sys/block/*/dev) >/tmp/out 2>&1; rc=$?
    if [ $rc = 0 ] && ! grep -q ESCAPED /tmp/out && grep -q "0 escape(s)" /tmp/out; then echo "PASS escape probe: $(grep -c contained /tmp/out) attempts contained"
    else echo "FAIL escape probe: exit $rc: $(grep -v '^contained' /tmp/out | tr '\n' ' ')"; fi
    $M rmi vm/probe:1 >/dev/null
  fi
  check "131 layers load" $M load -q -i /images/deep131.tar
  check "131 layers run on their flat layer" sh -c "test \"\$($M run --network none --rm bench/deep:131 cat /etc/layer-130)\" = 130"
  check "500 layers load" $M load -q -i /images/deep500.tar
  check "500 layers run on their flat layer" sh -c "test \"\$($M run --network none --rm bench/deep:500 cat /etc/layer-499)\" = 499"
  # Without flat layers (a store of an older minirun) every layer is stacked.
  check "flat layers made by the loads" sh -c "test \$(ls -d $S/overlay2/*-flat | wc -l) = 2"
  rm -rf "$S"/overlay2/*-flat
  check "131 layers run (short links, no lowerdir+)" sh -c "test \"\$($M run --network none --rm bench/deep:131 cat /etc/layer-130)\" = 130"
  $M run --network none --rm bench/deep:500 true >/tmp/out 2>&1; rc=$?
  if [ $rc = 125 ] && grep -q "can stack at most" /tmp/out; then echo "PASS 500 layers refused with a clear message"
  elif [ $rc = 0 ]; then echo "PASS 500 layers run (this kernel has lowerdir+)"
  else echo "FAIL 500 layers: exit $rc: $(cat /tmp/out)"; fi
  no_mounts "deep stacks"
  for i in $($M images -q); do $M rmi -f "$i" >/dev/null 2>&1; done
  check "the store is empty afterwards" sh -c "test -z \"\$(ls $S/overlay2 | grep -v '^l\$')\" && test -z \"\$(ls $S/overlay2/l)\""
  no_mounts cleanup
  ;;
cut:*)
  delay=${mode#cut:}
  mkdir -p "$S"
  $M load -q -i /store/big.tar >/dev/null 2>&1 &
  echo MINIRUN-CUT-ARMED
  usleep $((delay * 1000))
  echo 1 > /proc/sys/kernel/sysrq
  echo b > /proc/sysrq-trigger  # reset now: no sync, no unmount
  ;;
check:*)
  delay=${mode#check:}
  # What the reset left, before any minirun command cleans up.
  echo "state after the cut at ${delay} ms: $(ls "$S/overlay2" 2>/dev/null | grep -vc '^l$') layer dirs," \
    "$(ls "$S/images" 2>/dev/null | wc -l) image records, $(ls "$S/tmp" 2>/dev/null | wc -l) tmp entries"
  ids=$($M images -q 2>/tmp/err); rc=$?
  if [ $rc = 0 ]; then echo "PASS cut at ${delay} ms: images works after the reset"; else echo "FAIL cut at ${delay} ms: images: $(cat /tmp/err)"; fi
  for id in $ids; do
    check "cut at ${delay} ms: listed image $id is whole" $M run --network none --rm "$id" true
  done
  check "cut at ${delay} ms: no layer directory is incomplete" layers_complete
  check "cut at ${delay} ms: the load succeeds when repeated" $M load -q -i /store/big.tar
  check "cut at ${delay} ms: no leftovers in tmp/ after a command" sh -c "test -z \"\$(ls $S/tmp)\""
  check "cut at ${delay} ms: the image runs" sh -c "$M run --network none --rm vm/big:3 ls /data3 | grep -q f100"
  $M rmi -f vm/big:3 >/dev/null 2>&1
  check "cut at ${delay} ms: rmi empties the store" sh -c "test -z \"\$(ls $S/overlay2 | grep -v '^l\$')\""
  no_mounts "cut at ${delay} ms"
  ;;
esac

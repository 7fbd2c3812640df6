#!/bin/sh
# Runs inside the VM. Prints "PASS name" / "FAIL name: detail" per check.
# Modes: main (scenario 1), cut:MS (start a big load, reset hard after MS ms),
# check:MS (after the reset: the store must be whole, the load must then succeed),
# limits (pure cgroup v2: limits, devices, the cgroup namespace, seccomp, cleanup),
# detach (run -d, then a hard reset), reboot (after it: the container exited, start/rm work),
# net (the default bridge: a published httpd from 127.0.0.1 and from another namespace),
# health (health checks probed by the monitor, on pure cgroup v2).
# The main and power-cut modes have no cgroup file system mounted (the no-cgroup path) and run
# containers with --network none; the others mount cgroup2 alone at /sys/fs/cgroup, as a
# Debian 12 host has it.
mode=$1
case "$mode" in  # a store per scenario on the shared disk: one scenario's leftovers never meet another's
  limits) S=/store/limits ;;
  detach | reboot) S=/store/reset ;;
  net) S=/store/net ;;
  health) S=/store/health ;;
  *) S=/store/minirun ;;
esac
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

CG=/sys/fs/cgroup/minirun  # minirun's default --cgroup-parent
cgroup2() {  # cgroup v2 alone at /sys/fs/cgroup, every controller enabled for the groups below
  mount -t cgroup2 cgroup2 /sys/fs/cgroup || { echo "FAIL mount cgroup2 at /sys/fs/cgroup"; return 1; }
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || echo "FAIL enable the $c controller"
  done
}
no_cgroups() {  # no container's group is left under minirun's
  left=$(find $CG -mindepth 1 -maxdepth 1 -type d 2>/dev/null | tr '\n' ' ')
  if [ -z "$left" ]; then echo "PASS no cgroup left after $1"; else echo "FAIL cgroups left after $1: $left"; fi
}
uptime_cs() { read -r up _ </proc/uptime; echo "${up%.*}${up#*.}"; }  # the guest's clock in 1/100 s
cpu_usec() { awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat"; }
pct_cpu() {  # pct_cpu CGROUP_DIR SECONDS: the group's CPU use over SECONDS, in % of one CPU
  u0=$(cpu_usec "$1"); t0=$(uptime_cs)
  sleep "$2"
  u1=$(cpu_usec "$1"); t1=$(uptime_cs)
  echo $(((u1 - u0) / ((t1 - t0) * 100)))
}
fetch() {  # fetch URL [PREFIX...]: PREFIX wget URL, retried for ~10 s while the server starts
  # (busybox 1.35's wget -T crashes: timeout(1) bounds each try instead)
  url=$1; shift
  i=0
  while [ $i -lt 40 ]; do
    if "$@" timeout 5 wget -q -O - "$url" >/tmp/fetch 2>&1; then cat /tmp/fetch; return 0; fi
    usleep 250000; i=$((i + 1))
  done
  cat /tmp/fetch; return 1
}
has() {  # has NAME PATTERN: /tmp/out has a line matching the extended regular expression
  if grep -qE -- "$2" /tmp/out; then echo "PASS $1"; else echo "FAIL $1: $(head -c 400 /tmp/out | tr '\n' ' ')"; fi
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
limits)
  # Resource limits on pure cgroup v2 (Debian 12's layout; the development host is hybrid, so
  # only this scenario drives the v2 code), devices, the cgroup namespace, seccomp, cleanup.
  cgroup2
  echo "INFO kernel $(uname -r), $(nproc) CPUs, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
  $M load -q -i /images/busybox.tar >/dev/null
  R="$M run --network none"

  $R --name oom --memory 32m vm/busybox:1 awk 'BEGIN { s = "x"; for (;;) s = s s }' >/tmp/out 2>&1; rc=$?
  oom=$($M inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' oom 2>&1)
  if [ $rc = 137 ] && [ "$oom" = "true 137" ]; then echo "PASS --memory 32m: an allocation past it exits 137, State.OOMKilled true"
  else echo "FAIL --memory 32m: exit $rc, inspect: $oom: $(tail -2 /tmp/out | tr '\n' ' ')"; fi
  $R --name fits --memory 32m vm/busybox:1 true >/tmp/out 2>&1; rc=$?
  oom=$($M inspect -f '{{.State.OOMKilled}}' fits 2>&1)
  if [ $rc = 0 ] && [ "$oom" = false ]; then echo "PASS --memory 32m: a run within it shows OOMKilled false"
  else echo "FAIL --memory 32m within the limit: exit $rc, OOMKilled $oom"; fi
  $M rm oom fits >/dev/null 2>&1

  # A fork bomb in a child of the container's shell; each bomb process dies at its first refused
  # fork, and the shell (pid 1) then reads pids.events with builtins only (no fork needed).
  timeout 120 $R --rm --pids-limit 20 vm/busybox:1 sh -c \
    'sh -c "b() { while :; do b & done; }; b" 2>/dev/null
     while read -r k v; do echo "events $k $v"; done </sys/fs/cgroup/pids.events
     read -r m </sys/fs/cgroup/pids.max; echo "limit $m"' >/tmp/out 2>&1; rc=$?
  if [ $rc = 0 ] && grep -q '^limit 20$' /tmp/out && grep -qE '^events max [1-9]' /tmp/out; then
    echo "PASS --pids-limit 20 stops a fork bomb ($(awk '$2 == "max" { print $3 }' /tmp/out) forks refused)"
  else echo "FAIL --pids-limit 20 fork bomb: exit $rc: $(head -c 300 /tmp/out | tr '\n' ' ')"; fi
  check "the guest still forks after the bomb" true

  cid=$($M run -d --network none --name spin --cpus 0.5 --memory 64m vm/busybox:1 sh -c 'while :; do :; done' 2>/tmp/out)
  if [ -n "$cid" ] && [ -d "$CG/$cid" ]; then
    sleep 1
    pct=$(pct_cpu "$CG/$cid" 4)
    if [ "$pct" -ge 25 ] && [ "$pct" -le 65 ]; then echo "PASS --cpus 0.5: a busy loop gets ${pct}% of a CPU (cpu.max $(cat "$CG/$cid/cpu.max"))"
    else echo "FAIL --cpus 0.5: a busy loop gets ${pct}% of a CPU (cpu.max $(cat "$CG/$cid/cpu.max"))"; fi
    $M stats --no-stream spin >/tmp/out 2>&1
    has "stats --no-stream shows the container with its 64MiB limit and 1 process" '^[0-9a-f]{12} +spin .* / 64MiB .* 1$'
    $M stats --no-stream --format json spin >/tmp/out 2>&1
    has "stats --no-stream --format json" '"Name": *"spin"'
  else echo "FAIL run -d --cpus 0.5: no cgroup $CG/$cid: $(cat /tmp/out)"; fi
  $M rm -f spin >/dev/null 2>&1
  # The control: the same loop with no limit gets (nearly) a whole CPU, even under TCG.
  cid=$($M run -d --network none --name spin vm/busybox:1 sh -c 'while :; do :; done' 2>/tmp/out)
  if [ -n "$cid" ] && [ -d "$CG/$cid" ]; then
    sleep 1
    pct=$(pct_cpu "$CG/$cid" 2)
    if [ "$pct" -ge 75 ]; then echo "PASS without --cpus the same loop gets ${pct}% of a CPU"; else echo "FAIL without --cpus the loop gets only ${pct}%"; fi
  else echo "FAIL run -d spin: $(cat /tmp/out)"; fi
  $M rm -f spin >/dev/null 2>&1

  cpus() { $R --rm "$@" vm/busybox:1 sh -c 'cat /sys/fs/cgroup/cpuset.cpus.effective; grep Cpus_allowed_list /proc/self/status; nproc' 2>/dev/null | tr -s '\t\n' '  '; }
  out=$(cpus --cpuset-cpus 0)
  if [ "$(nproc)" = 2 ] && [ "$out" = "0 Cpus_allowed_list: 0 1 " ]; then echo "PASS --cpuset-cpus 0 (of 2 CPUs)"; else echo "FAIL --cpuset-cpus 0: $out (guest CPUs: $(nproc))"; fi
  out=$(cpus --cpuset-cpus 1)
  if [ "$out" = "1 Cpus_allowed_list: 1 1 " ]; then echo "PASS --cpuset-cpus 1"; else echo "FAIL --cpuset-cpus 1: $out"; fi
  out=$(cpus)
  if [ "$out" = "0-1 Cpus_allowed_list: 0-1 2 " ]; then echo "PASS without --cpuset-cpus both CPUs"; else echo "FAIL without --cpuset-cpus: $out"; fi

  # --device with ram disks (brd): harmless nodes to write to. The container's root is nodev,
  # so the device filter itself (an eBPF program on v2) is checked through its /dev (real nodes
  # with a cgroup, as Docker's) and through nodes on a volume (the bind keeps the guest's tmpfs,
  # which allows them).
  r0=$(cat /sys/block/ram0/dev); r1=$(cat /sys/block/ram1/dev)
  mkdir -p /tmp/nodes
  mknod /tmp/nodes/ram0 b "${r0%:*}" "${r0#*:}"; mknod /tmp/nodes/ram1 b "${r1%:*}" "${r1#*:}"
  V="-v /tmp/nodes:/nodes"
  out=$($R --rm --device /dev/ram0:/dev/xdisk vm/busybox:1 sh -c 'echo through-the-device >/dev/xdisk && head -c 18 /dev/xdisk' 2>/tmp/err)
  if [ "$out" = through-the-device ] && [ "$(head -c 18 /dev/ram0)" = through-the-device ]; then echo "PASS --device /dev/ram0:/dev/xdisk reads and writes that node"
  else echo "FAIL --device /dev/ram0:/dev/xdisk: $out $(cat /tmp/err)"; fi
  $R --rm --device /dev/ram0:/dev/xdisk $V vm/busybox:1 sh -c 'head -c 18 /nodes/ram0; echo; head -c 1 /nodes/ram1' >/tmp/out 2>&1
  if grep -q '^through-the-device$' /tmp/out && grep -q 'ram1: Operation not permitted' /tmp/out; then echo "PASS --device allows exactly that node (ram0 through any node, ram1: EPERM)"
  else echo "FAIL --device allows exactly that node: $(tr '\n' ' ' </tmp/out)"; fi
  $R --rm --device /dev/ram0:/dev/xdisk:r $V vm/busybox:1 sh -c 'head -c 18 /dev/xdisk; echo; echo x >/dev/xdisk; echo x >/nodes/ram0' >/tmp/out 2>&1
  if grep -q '^through-the-device$' /tmp/out && [ "$(grep -c 'Operation not permitted' /tmp/out)" = 2 ]; then echo "PASS --device ...:r reads but cannot write"
  else echo "FAIL --device ...:r: $(tr '\n' ' ' </tmp/out)"; fi
  $R --rm $V vm/busybox:1 head -c 1 /nodes/ram0 >/tmp/out 2>&1
  has "without --device the node is refused (EPERM)" 'ram0: Operation not permitted'
  $R --rm vm/busybox:1 sh -c "mknod /dev/disk0 b ${r0%:*} ${r0#*:} && head -c 1 /dev/disk0; mknod /dev/null2 c 1 3 && echo x >/dev/null2 && echo null2-ok" >/tmp/out 2>&1
  if grep -q 'disk0: Operation not permitted' /tmp/out && grep -q '^null2-ok$' /tmp/out; then echo "PASS /dev holds real nodes: a disk's made there is refused (EPERM), null's works"
  else echo "FAIL /dev's nodes and the device filter: $(tr '\n' ' ' </tmp/out)"; fi
  check "the refused writes left ram0 as it was" test "$(head -c 18 /dev/ram0)" = through-the-device

  $R --rm --memory 48m --pids-limit 77 vm/busybox:1 sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /proc/self/cgroup
    echo "options $(grep " /sys/fs/cgroup " /proc/self/mountinfo | cut -d" " -f6)"; mkdir /sys/fs/cgroup/x' >/tmp/out 2>&1
  has "/sys/fs/cgroup inside shows the container's memory.max" '^50331648$'
  has "/sys/fs/cgroup inside shows the container's pids.max" '^77$'
  has "a cgroup namespace: /proc/self/cgroup is 0::/" '^0::/$'
  has "/sys/fs/cgroup inside is mounted read-only" '^options ro,'
  has "/sys/fs/cgroup inside refuses a mkdir" 'Read-only file system'

  $R --rm vm/busybox:1 unshare -U true >/tmp/out 2>&1; rc=$?
  if [ $rc != 0 ] && grep -q 'Operation not permitted' /tmp/out; then echo "PASS seccomp: unshare -U refused (EPERM) by default"
  else echo "FAIL seccomp: unshare -U: exit $rc: $(tr '\n' ' ' </tmp/out)"; fi
  check "seccomp=unconfined: unshare -U works" $R --rm --security-opt seccomp=unconfined vm/busybox:1 unshare -U true
  if [ -f /images/probe.tar ] && $M load -q -i /images/probe.tar >/dev/null 2>&1 && $R --rm vm/probe:1 test -x /seccomp_probe; then
    $R --rm vm/probe:1 /seccomp_probe >/tmp/out 2>&1
    bad=$(grep -E '^(unshare\(CLONE_NEWUSER\)|clone\(CLONE_NEWUSER\)|keyctl|add_key|request_key|bpf|userfaultfd|perf_event_open|kexec_load|init_module|swapon|clock_settime|mount) ' /tmp/out | grep -v ' EPERM$' | tr '\n' ' ')
    if [ -z "$bad" ] && grep -qE '^Seccomp:[[:space:]]+2$' /tmp/out && grep -q '^getpid ok$' /tmp/out; then echo "PASS seccomp probe: $(grep -c ' EPERM$' /tmp/out) calls refused by default, Seccomp: 2"
    else echo "FAIL seccomp probe (default): not refused: $bad; $(grep Seccomp /tmp/out)"; fi
    $R --rm --security-opt seccomp=unconfined vm/probe:1 /seccomp_probe >/tmp/out 2>&1
    if grep -q '^unshare(CLONE_NEWUSER) ok$' /tmp/out && grep -qE '^Seccomp:[[:space:]]+0$' /tmp/out; then echo "PASS seccomp probe unconfined: unshare(CLONE_NEWUSER) ok, Seccomp: 0"
    else echo "FAIL seccomp probe unconfined: $(grep -E '^(unshare|Seccomp)' /tmp/out | tr '\n' ' ')"; fi
    $M rmi vm/probe:1 >/dev/null 2>&1
  fi
  no_cgroups "the runs"

  # kill -9 of a foreground minirun while its container runs, and while it starts it (as soon as
  # its cgroup exists): the next command, whatever the verb, removes the group.
  for when in running starting; do
    $R --name k9 vm/busybox:1 sleep 300 >/dev/null 2>&1 &
    runner=$!
    i=0
    if [ $when = running ]; then
      while [ $i -lt 100 ] && ! $M ps --format '{{.Names}}' 2>/dev/null | grep -qx k9; do usleep 100000; i=$((i + 1)); done
    else
      while [ $i -lt 500 ] && [ -z "$(find $CG -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ]; do usleep 20000; i=$((i + 1)); done
    fi
    kill -9 $runner; wait $runner 2>/dev/null
    $M images >/dev/null 2>&1
    no_cgroups "kill -9 of a foreground minirun ($when) and the next command"
    st=$($M inspect -f '{{.State.Status}}' k9 2>&1)
    if [ "$st" = exited ]; then echo "PASS killed while $when: inspect shows exited"
    else echo "FAIL killed while $when: status $st (runner $runner; record: $(grep -o '"pid":[0-9]*' $S/containers/*/state.json | tr '\n' ' '))"; fi
    check "killed while $when: its container is not running" sh -c "! pgrep -f 'sleep 300' >/dev/null"
    $M rm -f k9 >/dev/null 2>&1
  done
  # kill -9 of a detached container's monitor.
  $M run -d --network none --name k9d vm/busybox:1 sleep 301 >/tmp/out 2>&1
  cpid=$($M inspect -f '{{.State.Pid}}' k9d 2>/dev/null)
  mon=$(awk '{ print $4 }' "/proc/$cpid/stat" 2>/dev/null)
  if [ -n "$mon" ] && [ "$mon" -gt 1 ]; then
    kill -9 "$mon"
    usleep 300000
    st=$($M inspect -f '{{.State.Status}}' k9d 2>&1)
    if [ "$st" = exited ]; then echo "PASS kill -9 of the monitor: inspect shows exited"; else echo "FAIL kill -9 of the monitor: status $st"; fi
    no_cgroups "kill -9 of a monitor and inspect"
    check "the monitor's container is not running" sh -c "! pgrep -f 'sleep 301' >/dev/null"
  else echo "FAIL run -d k9d: container pid '$cpid', monitor '$mon': $(cat /tmp/out)"; fi
  $M rm -f k9d >/dev/null 2>&1
  check "rm the killed containers" sh -c "test -z \"\$($M ps -aq)\""
  no_cgroups "rm"
  no_mounts "the limits scenario"
  ;;
health)
  # Health checks on pure cgroup v2: the monitor execs each probe in the container (its cgroup,
  # its cgroup namespace, its root), starting → healthy, unhealthy after the retries, ps's
  # STATUS and health= filter, inspect's State.Health, and no CPU for the monitor between probes.
  cgroup2
  $M load -q -i /images/busybox.tar >/dev/null
  hstatus() { $M inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null; }
  until_status() {  # until_status CONTAINER STATUS: waits up to 30 s
    i=0
    while [ $i -lt 300 ] && [ "$(hstatus "$1")" != "$2" ]; do usleep 100000; i=$((i + 1)); done
    [ "$(hstatus "$1")" = "$2" ]
  }
  cid=$($M run -d --network none --name hc --health-cmd 'test -f /ready' --health-interval 300ms \
    vm/busybox:1 sh -c 'sleep 2; touch /ready; exec sleep 300' 2>/tmp/out)
  st=$(hstatus hc)
  if [ -n "$cid" ] && [ "$st" = starting ]; then echo "PASS run -d --health-cmd: State.Health.Status starting at once"
  else echo "FAIL run -d --health-cmd: status '$st': $(cat /tmp/out)"; fi
  $M ps >/tmp/out 2>&1
  has "ps shows (health: starting)" 'Up .*\(health: starting\) +hc$'
  if until_status hc healthy; then echo "PASS the probe in the container: healthy once /ready exists"
  else echo "FAIL never healthy: $($M inspect -f '{{json .State.Health}}' hc 2>&1 | head -c 400)"; fi
  $M ps >/tmp/out 2>&1
  has "ps shows (healthy)" 'Up .*\(healthy\) +hc$'
  # The probe runs in the container's cgroup (and namespace): its /proc/self/cgroup is 0::/.
  cid2=$($M run -d --network none --name hcg --health-cmd 'grep -qx "0::/" /proc/self/cgroup' --health-interval 200ms \
    vm/busybox:1 sleep 300 2>/tmp/out)
  if until_status hcg healthy; then echo "PASS the probe is in the container's cgroup namespace (0::/)"
  else echo "FAIL the probe's cgroup: $($M inspect -f '{{json .State.Health.Log}}' hcg 2>&1 | head -c 400)"; fi
  $M run -d --network none --name hcbad --health-cmd 'echo down; exit 1' --health-interval 200ms --health-retries 2 \
    vm/busybox:1 sleep 300 >/tmp/out 2>&1
  if until_status hcbad unhealthy; then echo "PASS unhealthy after 2 failures (FailingStreak $($M inspect -f '{{.State.Health.FailingStreak}}' hcbad))"
  else echo "FAIL never unhealthy: $($M inspect -f '{{json .State.Health}}' hcbad 2>&1 | head -c 400)"; fi
  $M ps -f health=unhealthy --format '{{.Names}}' >/tmp/out 2>&1
  check "ps -f health=unhealthy lists exactly hcbad" test "$(cat /tmp/out)" = hcbad
  $M run -d --network none --name hcnone vm/busybox:1 sleep 300 >/dev/null 2>&1
  $M ps -f health=none --format '{{.Names}}' >/tmp/out 2>&1
  check "ps -f health=none lists exactly the container without a check" test "$(cat /tmp/out)" = hcnone
  # Idle: a probe every 4 s; just after one, 2 s without any CPU time or wake-up of the monitor.
  $M run -d --network none --name hcidle --health-cmd true --health-interval 4s vm/busybox:1 sleep 300 >/dev/null 2>&1
  i=0
  while [ $i -lt 300 ] && [ "$($M inspect -f '{{len .State.Health.Log}}' hcidle 2>/dev/null)" != 1 ]; do usleep 50000; i=$((i + 1)); done
  cpid=$($M inspect -f '{{.State.Pid}}' hcidle 2>/dev/null)
  mon=$(awk '{ print $4 }' "/proc/$cpid/stat" 2>/dev/null)
  ticks() { awk '{ print $14 + $15 }' "/proc/$mon/stat"; }
  wakes() { awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$mon/status"; }
  if [ -n "$mon" ] && [ "$mon" -gt 1 ]; then
    c0=$(ticks); w0=$(wakes); sleep 2; c1=$(ticks); w1=$(wakes)
    if [ "$c0" = "$c1" ] && [ "$w0" = "$w1" ]; then echo "PASS an idle monitor between probes: no CPU time, no wake-up (utime+stime $c0)"
    else echo "FAIL the monitor between probes: utime+stime $c0 -> $c1, wake-ups $w0 -> $w1"; fi
  else echo "FAIL hcidle: no monitor (container pid '$cpid')"; fi
  $M stop -t 1 hc >/dev/null 2>&1
  check "stopped: State.Health.Status unhealthy" test "$(hstatus hc)" = unhealthy
  $M rm -f hc hcg hcbad hcnone hcidle >/dev/null 2>&1
  check "rm the health containers" sh -c "test -z \"\$($M ps -aq)\""
  no_cgroups "the health scenario"
  no_mounts "the health scenario"
  ;;
detach)
  # First boot: a detached container is running when the machine is reset (sysrq b: no sync,
  # no unmount, the monitor gets no chance to record anything).
  cgroup2
  mkdir -p "$S"
  $M load -q -i /images/busybox.tar >/dev/null
  # It counts its runs in its upper layer (synced: the count must survive the reset).
  $M run -d --network none --name svc vm/busybox:1 sh -c 'echo run >>/runs; sync; exec sleep 1000' >/tmp/out 2>&1
  i=0; while [ $i -lt 50 ] && ! $M exec svc test -f /runs 2>/dev/null; do usleep 200000; i=$((i + 1)); done
  if $M ps | grep -q ' svc$'; then echo MINIRUN-DETACH-ARMED; else echo "FAIL run -d svc: $(cat /tmp/out)"; fi
  sleep 1  # the console's output reaches the host before the reset
  echo 1 >/proc/sys/kernel/sysrq
  echo b >/proc/sysrq-trigger
  ;;
reboot)
  # Second boot, on the same disk: the container shows exited, nothing of it is mounted or
  # grouped, it starts again on the same upper layer, and it can be stopped and removed.
  cgroup2
  echo "INFO state after the reset: $($M ps -a --format '{{.Names}} {{.Status}}' 2>&1 | tr '\n' ' ')"
  check "ps -a lists the container after the reset" sh -c "$M ps -a --format '{{.Names}}' | grep -qx svc"
  check "ps no longer lists it as running" sh -c "! $M ps --format '{{.Names}}' | grep -qx svc"
  st=$($M inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Pid}}' svc 2>&1)
  if [ "$st" = "exited false 0" ]; then echo "PASS inspect: exited, not running ($($M inspect -f '{{.State.Error}}' svc))"
  else echo "FAIL inspect after the reset: $st"; fi
  check "ps -a shows Exited" sh -c "$M ps -a --format '{{.Status}}' | grep -q '^Exited'"
  no_mounts "the reset"
  no_cgroups "the reset"
  check "start works after the reset" $M start svc
  st=$($M inspect -f '{{.State.Status}} {{.State.Running}}' svc 2>&1)
  if [ "$st" = "running true" ]; then echo "PASS inspect after start: running"; else echo "FAIL inspect after start: $st"; fi
  i=0; while [ $i -lt 50 ] && [ "$($M exec svc cat /runs 2>/dev/null | wc -l)" -lt 2 ]; do usleep 200000; i=$((i + 1)); done
  check "start ran it again on the same upper layer (2 runs counted)" sh -c "test \"\$($M exec svc cat /runs | wc -l)\" = 2"
  check "its cgroup exists while it runs" sh -c "test -d $CG/\$($M inspect -f '{{.Id}}' svc)"
  check "stop" $M stop -t 1 svc
  st=$($M inspect -f '{{.State.Status}} {{.State.ExitCode}}' svc 2>&1)
  if [ "$st" = "exited 137" ]; then echo "PASS stopped: exited 137 (sleep ignores SIGTERM as pid 1)"; else echo "FAIL after stop: $st"; fi
  check "rm works" $M rm svc
  left=$($M ps -aq; ls $S/containers | grep -vx names; ls $S/containers/names)
  if [ -z "$left" ]; then echo "PASS no container left (records, directories, names)"; else echo "FAIL containers left: $(echo $left)"; fi
  no_mounts "rm"
  no_cgroups "rm"
  check "no layer directory is incomplete" layers_complete
  check "the image still runs" sh -c "$M run --network none --rm vm/busybox:1 | grep -qx 'hello from the vm'"
  check "rmi empties the store" sh -c "$M rmi vm/busybox:1 >/dev/null && test -z \"\$(ls $S/overlay2 | grep -v '^l\$')\""
  ;;
net)
  # The default bridge network: a published busybox httpd reached from the guest at 127.0.0.1
  # and from "another machine" (a network namespace behind a veth, made here), the container's
  # outbound NAT as that machine sees it, and nothing left after rm. All traffic stays in the VM.
  cgroup2
  ip link set lo up
  $M load -q -i /images/busybox.tar >/dev/null
  mkdir -p /tmp/www /tmp/lanwww
  echo "hello over the bridge" >/tmp/www/index.html
  echo "hello from the lan" >/tmp/lanwww/index.html
  # The other machine: 192.168.77.2 in its own namespace, the guest is 192.168.77.1.
  unshare -n sleep 1000 &
  lan=$!
  i=0; while [ $i -lt 50 ] && [ "$(readlink /proc/$lan/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do usleep 100000; i=$((i + 1)); done
  ip link add vmlan type veth peer vmpeer
  peer=$(ip -o link | sed -n 's/^[0-9]*: \([^@:]*\)@vmlan:.*/\1/p')  # busybox names the peer itself
  ip link set "$peer" netns $lan
  ip addr add 192.168.77.1/24 dev vmlan
  ip link set vmlan up
  L="nsenter -t $lan -n"
  $L ip link set lo up
  $L ip link set "$peer" up
  $L ip addr add 192.168.77.2/24 dev "$peer"
  $L httpd -f -v -p 9000 -h /tmp/lanwww 2>/tmp/lan.log &
  lanhttpd=$!

  $M run -d --name web -p 8080:80 -v /tmp/www:/www:ro vm/busybox:1 httpd -f -p 80 -h /www >/tmp/out 2>&1
  has "run -d -p 8080:80 httpd" '^[0-9a-f]{64}$'
  out=$(fetch http://127.0.0.1:8080/index.html)
  if [ "$out" = "hello over the bridge" ]; then echo "PASS published port from the guest at 127.0.0.1:8080"; else echo "FAIL 127.0.0.1:8080: $out"; fi
  out=$(fetch http://192.168.77.1:8080/index.html $L)
  if [ "$out" = "hello over the bridge" ]; then echo "PASS published port from another namespace at 192.168.77.1:8080"; else echo "FAIL 192.168.77.1:8080 from the other namespace: $out"; fi
  check "port shows the mapping" sh -c "$M port web | grep -q '^80/tcp -> 0.0.0.0:8080$'"
  ip=$($M inspect -f '{{.NetworkSettings.IPAddress}}' web 2>&1)
  out=$(fetch "http://$ip/index.html")
  if [ "$out" = "hello over the bridge" ]; then echo "PASS the container's own address $ip from the guest"; else echo "FAIL $ip:80 from the guest: $out"; fi
  out=$($M run --rm vm/busybox:1 timeout 10 wget -q -O - http://192.168.77.2:9000/index.html 2>/tmp/err)
  if [ "$out" = "hello from the lan" ]; then echo "PASS a container reaches the other machine"; else echo "FAIL container to 192.168.77.2:9000: $out $(cat /tmp/err)"; fi
  # (busybox httpd logs an IPv4 client as [::ffff:IP]:PORT)
  if grep -qE '^(\[::ffff:)?192\.168\.77\.1\]?:' /tmp/lan.log; then echo "PASS the other machine sees the guest's address (masquerade)"
  else echo "FAIL masquerade: the other machine's log: $(tr '\n' ' ' </tmp/lan.log)"; fi

  # What rm must take away, there while it runs.
  if ip -o link | grep -q ': mr[0-9a-f]*@' && [ -n "$(ls $S/networks/*/leases 2>/dev/null)" ] &&
    nft list table ip minirun 2>/dev/null | grep -q "comment"; then echo "PASS while it runs: its veth, lease and nft element exist"
  else echo "FAIL while it runs: veths: $(ip -o link | grep -c ': mr'), leases: $(ls $S/networks/*/leases 2>/dev/null | tr '\n' ' '), nft: $(nft list table ip minirun 2>&1 | grep -E 'comment|Error' | tr '\n' ' ')"; fi
  check "rm -f the published container" $M rm -f web
  veths=$(ip -o link | grep -c ': mr[0-9a-f]*@' || true)
  if [ "$veths" = 0 ]; then echo "PASS no veth left"; else echo "FAIL veths left: $(ip -o link | grep ': mr')"; fi
  if nft list table ip minirun >/tmp/out 2>&1; then
    if grep -q 'comment' /tmp/out; then echo "FAIL nft elements left: $(grep comment /tmp/out | tr '\n' ' ')"; else echo "PASS no nft map element left"; fi
  else echo "FAIL nft list table ip minirun: $(cat /tmp/out)"; fi
  check "no lease left" sh -c "test -z \"\$(ls $S/networks/*/leases 2>/dev/null)\""
  check "no endpoint left" sh -c "test -z \"\$(ls $S/networks/*/endpoints 2>/dev/null)\""
  check "no container left" sh -c "test -z \"\$($M ps -aq)\""
  out=$(timeout 5 wget -q -O - http://127.0.0.1:8080/index.html 2>&1); rc=$?
  if [ $rc != 0 ]; then echo "PASS 127.0.0.1:8080 no longer answers"; else echo "FAIL 127.0.0.1:8080 still answers: $out"; fi
  no_mounts "the networking scenario"
  no_cgroups "the networking scenario"
  kill $lanhttpd $lan 2>/dev/null
  ;;
esac

#!/usr/bin/env bash
# bench/push.sh — pushing the bench image to an empty registry on loopback, side by side:
#   minirun push of a freshly loaded image (its layer compressed as it goes up)
#   minirun push of an image whose compressed blob the store already keeps (pulled, or pushed before)
#   docker push (its own dockerd: data root on tmpfs, --bridge=none --iptables=false)
#   skopeo copy and podman push when they are installed (reported when not)
# and a re-push to the same registry, which finds every blob there (target: <= 0.1 s).
# Every push goes to a registry restarted with empty storage (the --prepare step), so each run
# uploads everything. The bench image: about 200 MB of this host's /usr (the first files up to
# the size, sorted) as one layer, imported into a minirun store and saved as a docker-archive for
# the peers. Registry: Debian's docker-registry on 127.0.0.1, storage on tmpfs, stopped on exit.
# Needs hyperfine and docker-registry. Usage: bench/push.sh   (MINIRUN, BENCH, RUNS)
set -euo pipefail
cd "$(dirname "$0")/.."
MR=${MINIRUN:-$PWD/build/minirun}
B=${BENCH:-/dev/shm/minirun-push-bench}
RUNS=${RUNS:-5}
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
[ "$(id -u)" -eq 0 ] || { echo "bench/push.sh: run as root" >&2; exit 1; }
rm -rf "$B" && mkdir -p "$B"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT
S=$B/store
DOCKERD=
cleanup() {
  set +e
  [ -f "$B/registry.pid" ] && kill "$(cat "$B/registry.pid")" 2>/dev/null
  [ -n "$DOCKERD" ] && kill "$DOCKERD" 2>/dev/null && wait "$DOCKERD" 2>/dev/null
  grep -o " $B[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the image ----
find /usr -xdev -type f -size -20M -printf '%P\t%s\n' 2>/dev/null | sort |
  awk -F'\t' '{ t += $2; if (t <= 200e6) print $1 }' >"$B/files"
tar --numeric-owner -C /usr -cf "$B/base.tar" --transform 's,^,usr/,' -T "$B/files"
"$MR" --root "$S-src" import "$B/base.tar" bench/push:1 >/dev/null
"$MR" --root "$S-src" save -o "$B/push.tar" bench/push:1
rm -rf "$B/base.tar" "$B/files" "$S-src"
ls -la "$B/push.tar"

# ---- the registry, restarted empty by fresh-registry.sh ----
cat >"$B/registry.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $B/registry } }
http: { addr: $REG }
YML
cat >"$B/fresh-registry.sh" <<SH
#!/bin/sh
[ -f $B/registry.pid ] && kill \$(cat $B/registry.pid) 2>/dev/null && while kill -0 \$(cat $B/registry.pid) 2>/dev/null; do sleep 0.01; done
rm -rf $B/registry
setsid docker-registry serve $B/registry.yml >>$B/registry.log 2>&1 </dev/null &
echo \$! >$B/registry.pid
i=0; until python3 -c 'import socket; socket.create_connection(("127.0.0.1", $PORT), 1)' 2>/dev/null; do i=\$((i+1)); [ \$i -lt 200 ] || exit 1; sleep 0.02; done
SH
chmod +x "$B/fresh-registry.sh"
"$B/fresh-registry.sh"

# minirun, a freshly loaded image: the store made again before each run (load not timed).
cat >"$B/prep-load.sh" <<SH
#!/bin/sh
set -e
rm -rf $S-load
$MR --root $S-load load -q -i $B/push.tar >/dev/null
$MR --root $S-load tag bench/push:1 $REG/bench/push:1
$B/fresh-registry.sh
SH
# minirun, the blob kept: pushed once (compressed and kept), then to an empty registry each run.
"$MR" --root "$S-kept" load -q -i "$B/push.tar" >/dev/null
"$MR" --root "$S-kept" tag bench/push:1 "$REG/bench/push:1"
"$MR" --root "$S-kept" push -q "$REG/bench/push:1" >/dev/null
chmod +x "$B/prep-load.sh"

echo "== minirun $("$MR" --version 2>/dev/null || true); load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
names=("minirun push (loaded image: compressed now)" "minirun push (blob kept)")
cmds=("$MR --root $S-load push -q $REG/bench/push:1" "$MR --root $S-kept push -q $REG/bench/push:1")
preps=("$B/prep-load.sh" "$B/fresh-registry.sh")

if command -v dockerd >/dev/null && [ -x "$DOCKER_CLI" ]; then
  dockerd --data-root "$B/docker" --exec-root "$B/docker-exec" --pidfile "$B/docker.pid" \
    -H "unix://$B/docker.sock" --bridge=none --iptables=false >"$B/dockerd.log" 2>&1 &
  DOCKERD=$!
  D="$DOCKER_CLI -H unix://$B/docker.sock"
  for _ in $(seq 100); do $D info >/dev/null 2>&1 && break; sleep 0.1; done
  $D load -q -i "$B/push.tar" >/dev/null
  $D tag bench/push:1 "$REG/bench/push:1"
  names+=("docker push")
  cmds+=("$D push -q $REG/bench/push:1")
  preps+=("$B/fresh-registry.sh")
else
  echo "docker: dockerd or $DOCKER_CLI not installed: its row is skipped"
fi
if command -v skopeo >/dev/null; then
  names+=("skopeo copy (docker-archive to the registry)")
  cmds+=("skopeo copy -q --dest-tls-verify=false docker-archive:$B/push.tar docker://$REG/bench/push:1")
  preps+=("$B/fresh-registry.sh")
else
  echo "skopeo: not installed: its row is skipped"
fi
if command -v podman >/dev/null; then
  P=(podman --root "$S-podman" --runroot "$S-podman-run")
  "${P[@]}" load -q -i "$B/push.tar" >/dev/null
  names+=("podman push")
  cmds+=("${P[*]} push -q --tls-verify=false localhost/bench/push:1 $REG/bench/push:1")
  preps+=("$B/fresh-registry.sh")
else
  echo "podman: not installed: its row is skipped"
fi

args=()
for i in "${!cmds[@]}"; do args+=(--prepare "${preps[$i]}" -n "${names[$i]}" "${cmds[$i]}"); done
hyperfine -w 1 -r "$RUNS" --export-markdown "$B/push.md" "${args[@]}"

# A re-push: the registry holds every blob (HEADs and the manifest PUT only).
"$B/fresh-registry.sh"
"$MR" --root "$S-kept" push -q "$REG/bench/push:1" >/dev/null
hyperfine -N -w 2 -r 20 --export-markdown "$B/repush.md" -n "minirun re-push (every blob there)" \
  "$MR --root $S-kept push -q $REG/bench/push:1"
cat "$B/push.md" "$B/repush.md"

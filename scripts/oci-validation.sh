#!/usr/bin/env bash
# Runs the OCI runtime validation suite (opencontainers/runtime-tools, validation/*/*.t, TAP output)
# against a runc-compatible runtime and prints, per test file, PASS/FAIL/SKIP/TIMEOUT with its
# assertion counts, then the totals. Also writes a machine-readable summary (summary.tsv and
# summary.json) and the raw TAP and stderr of every file.
#
# Run by hand, as root; never from CI (CI cannot fetch the suite's source). The suite is NOT part
# of this tree: its source lives outside it (default ../runtime-tools-build, or $RUNTIME_TOOLS, or
# --tools DIR); when the test executables are missing or older than their source, this script
# builds them with Go >= 1.21 (Debian: golang-1.22-go from bookworm-backports).
#
# Isolation: the whole run happens in a private mount namespace of its own, and every test file in
# a nested one (linux_ns_itype runs a container WITHOUT a mount namespace, so the runtime's /proc,
# /sys and /dev mounts land in the caller's namespace; here they vanish with the test's namespace).
# The suite's bundles go to a tmpfs mounted only inside that namespace.
#
# Usage: scripts/oci-validation.sh [--runtime PATH] [--tools DIR] [--timeout SECONDS] [--out DIR]
#                                  [--expect FILE] [TEST...]
#   --runtime PATH   runtime to test (default build/minirun-runtime); its name is kept as given
#                    (not resolved through symlinks: minirun dispatches on argv[0])
#   --tools DIR      runtime-tools source/build directory (default $RUNTIME_TOOLS or
#                    ../runtime-tools-build next to this checkout)
#   --timeout S      per test file (default 120)
#   --out DIR        where summary.tsv, summary.json and tap/ go (default build/oci-validation/NAME)
#   --expect FILE    ratchet: every test named in FILE (one per line, # comments) must PASS, else
#                    exit 1 (e.g. tests/oci-validation-runc-pass.txt)
#   TEST...          run only these test files (names like linux_ns_itype; default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

runtime=build/minirun-runtime
tools=${RUNTIME_TOOLS:-$repo/../runtime-tools-build}
timeout_s=120
out=
expect=
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) runtime=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --expect) expect=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "oci-validation: unknown option $1" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
  esac
done

die() { echo "oci-validation: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "must run as root (the suite creates real containers)"

# The runtime as an absolute path that keeps its last component (a symlink stays a symlink).
if [[ "$runtime" != */* ]]; then
  runtime=$(command -v "$runtime") || die "runtime '$runtime' not found in PATH"
fi
[ -x "$runtime" ] || die "runtime $runtime does not exist or is not executable (for minirun: build the 'minirun' target; build/minirun-runtime is its symlink)"
runtime="$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime")"
name=$(basename "$runtime")
out=${out:-$repo/build/oci-validation/$name}
[ -z "$expect" ] || expect=$(cd "$(dirname "$expect")" && pwd)/$(basename "$expect")

# --- the suite: present? built? -------------------------------------------------------------
how_to_get() {
  cat >&2 <<EOF
oci-validation: the runtime-tools suite is not at $tools.
To get it (once, by hand; CI cannot):
  1. its source: the public repository opencontainers/runtime-tools (all Go dependencies are
     vendored), e.g. git clone it, or in an agent session use the 'fetch' tool on
     github:opencontainers/runtime-tools and 'git archive HEAD | tar -x -C DIR' the mirror;
     put it at $tools, or pass --tools DIR / set RUNTIME_TOOLS. Never inside this project's tree.
  2. Go >= 1.21: on Debian 12 add the bookworm-backports suite to the apt sources (same URIs and
     key as the bookworm entry) and 'apt-get install golang-1.22-go'.
  3. run this script again: it builds the suite with
     GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=vendor make runtimetest validation-executables
EOF
  exit 2
}
[ -d "$tools/validation" ] && [ -f "$tools/Makefile" ] || how_to_get
tools=$(cd "$tools" && pwd)
case "$tools/" in "$repo"/*) die "the suite must live outside the project tree ($tools)" ;; esac

need_build=0
[ -x "$tools/runtimetest" ] || need_build=1
for src in "$tools"/validation/*/*.go; do
  case "$src" in */util/*) continue ;; esac
  t=${src%.go}.t
  if [ ! -x "$t" ] || [ "$src" -nt "$t" ]; then need_build=1; break; fi
done
if [ "$need_build" -eq 1 ] && [ -z "${MINIRUN_OCI_INNER:-}" ]; then
  go=$(command -v go || true)
  for g in /usr/lib/go-1.2[2-9]/bin/go /usr/lib/go-1.21/bin/go; do [ -x "$g" ] && go=$g && break; done
  [ -n "$go" ] || die "Go >= 1.21 is needed to build the suite (Debian 12: golang-1.22-go from bookworm-backports)"
  echo "oci-validation: building the suite in $tools with $("$go" version)"
  (cd "$tools" && PATH="$(dirname "$go"):$PATH" GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=vendor \
     make runtimetest validation-executables >"$tools/build.log" 2>&1) \
    || die "build failed, see $tools/build.log"
fi

# --- enter a private mount namespace of our own, with the suite's TMPDIR on a private tmpfs ----
if [ -z "${MINIRUN_OCI_INNER:-}" ]; then
  args=(--runtime "$runtime" --tools "$tools" --timeout "$timeout_s" --out "$out")
  [ -z "$expect" ] || args+=(--expect "$expect")
  exec env MINIRUN_OCI_INNER=1 unshare -m --propagation private "$repo/scripts/oci-validation.sh" "${args[@]}" "${only[@]}"
fi
scratch=$(mktemp -d /tmp/oci-validation.XXXXXX)
mount -t tmpfs -o mode=0755 oci-validation "$scratch" || die "cannot mount a tmpfs on $scratch"
# The suite's cgroup tests use the cgroup "/testdir/cgrouptest" (absolute) and "testdir/cgrouptest"
# (relative to ours, the root here) and leave it behind; rmdir only removes it when empty.
cleanup() {
  umount -l "$scratch" 2>/dev/null; rmdir "$scratch" 2>/dev/null
  for d in /sys/fs/cgroup/testdir /sys/fs/cgroup/*/testdir; do
    [ -d "$d" ] && { rmdir "$d/cgrouptest" 2>/dev/null; rmdir "$d" 2>/dev/null; }
  done
  return 0
}
trap cleanup EXIT

rm -rf "$out/tap" && mkdir -p "$out/tap" || die "cannot create $out"
if [ ${#only[@]} -eq 0 ]; then
  tests=()
  for t in "$tools"/validation/*/*.t; do tests+=("$(basename "$t" .t)"); done
else
  tests=("${only[@]}")
fi

echo "OCI runtime validation: runtime $runtime ($("$runtime" --version 2>/dev/null | head -1))"
echo "suite: $tools ($(git -C "$tools" describe --always --dirty 2>/dev/null || cat "$tools/VERSION" 2>/dev/null)), ${#tests[@]} test files, timeout ${timeout_s}s each"

# TAP counts of one file: "<passed> <total> <skipped> <well_formed>". Some files print several TAP
# streams (a "TAP version 13" header each), and some print "1..0" with no test point and report a
# failure only as a YAML "error" diagnostic (hooks, prestart, ...): such a stream counts as one
# assertion, passed when it carries no error. A file with no TAP at all counts as one failed
# assertion, except one that exits 0 with an empty stdout (see the verdict below). "not ok ...
# # TODO" is not a failure; a planned but unreported assertion is one.
tap_counts() {
  awk '
    function close_stream() {
      if (!open) return
      points = ok + notok
      if (plan == 0 && points == 0) { total_all += 1; if (!yamlerr) ok_all += 1 }
      else {
        total_all += (plan > points ? plan : points); ok_all += ok
        if (plan != points) bad = 1
      }
      open = 0
    }
    function new_stream() { close_stream(); open = 1; streams++; plan = -1; ok = 0; notok = 0; yamlerr = 0 }
    /^TAP version/ { new_stream(); next }
    /^1\.\.[0-9]+/ { if (!open || plan >= 0) new_stream(); split($0, a, /\.\./); plan = a[2] + 0; next }
    /^ok( |$)/ { if (!open) new_stream(); ok++; if (tolower($0) ~ /# *skip/) skip_all++; next }
    /^not ok( |$)/ { if (!open) new_stream(); if (tolower($0) ~ /# *todo/) ok++; else notok++; next }
    /^[ \t]+"error":/ { yamlerr = 1 }
    END {
      close_stream()
      if (streams == 0) { total_all = 1; bad = 1 }
      printf "%d %d %d %d\n", ok_all, total_all, skip_all, !bad
    }' "$1"
}

printf 'test\tstatus\tpassed\ttotal\tskipped\texit\tseconds\n' >"$out/summary.tsv"
files_pass=0 files_fail=0 files_skip=0 asserts_ok=0 asserts_total=0
json_rows=()
for t in "${tests[@]}"; do
  exe=$tools/validation/$t/$t.t
  tap=$out/tap/$t.tap err=$out/tap/$t.err
  if [ ! -x "$exe" ]; then
    echo "no such test: $t" >"$err"; : >"$tap"; rc=127; secs=0
  else
    start=$(date +%s.%N)
    # cwd = the suite (it reads ./runtimetest and ./rootfs-amd64.tar.gz); bundles under TMPDIR.
    (cd "$tools" && TMPDIR=$scratch RUNTIME=$runtime timeout -k 10 "$timeout_s" \
       unshare -m --propagation private "$exe" >"$tap" 2>"$err" </dev/null)
    rc=$?
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  fi
  read -r ok total skip wellformed < <(tap_counts "$tap")
  # process_capabilities_fail and process_rlimits_fail report only through their exit status: when
  # the runtime refuses the bad value, as it must, they print nothing and exit 0; otherwise they
  # exit 1 (util.Fatal). Every other file prints TAP, so "exit 0, empty stdout" is their pass.
  if [ "$rc" -eq 0 ] && [ -e "$exe" ] && [ ! -s "$tap" ]; then ok=1 total=1 skip=0 wellformed=1; fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    status=TIMEOUT
  elif [ "$rc" -ne 0 ] || [ "$wellformed" -ne 1 ] || [ "$ok" -ne "$total" ]; then
    status=FAIL
  elif [ "$skip" -eq "$ok" ]; then
    status=SKIP   # every assertion skipped: the suite judged the feature not testable here
  else
    status=PASS
  fi
  case $status in
    PASS) files_pass=$((files_pass + 1)) ;;
    SKIP) files_skip=$((files_skip + 1)) ;;
    *) files_fail=$((files_fail + 1)) ;;
  esac
  asserts_ok=$((asserts_ok + ok)); asserts_total=$((asserts_total + total))
  printf '%-8s %-40s %5d/%-5d %s\n' "$status" "$t" "$ok" "$total" "$([ "$rc" -ne 0 ] && echo "exit $rc")"
  printf '%s\t%s\t%d\t%d\t%d\t%d\t%s\n' "$t" "$status" "$ok" "$total" "$skip" "$rc" "$secs" >>"$out/summary.tsv"
  json_rows+=("$(printf '{"test":"%s","status":"%s","passed":%d,"total":%d,"skipped":%d,"exit":%d,"seconds":%s}' \
    "$t" "$status" "$ok" "$total" "$skip" "$rc" "$secs")")
done

n=${#tests[@]}
{
  printf '{"runtime":"%s","suite":"%s","files":%d,"files_passed":%d,"files_failed":%d,"files_skipped":%d,' \
    "$runtime" "$tools" "$n" "$files_pass" "$files_fail" "$files_skip"
  printf '"assertions_passed":%d,"assertions_total":%d,"tests":[' "$asserts_ok" "$asserts_total"
  (IFS=,; printf '%s' "${json_rows[*]}")
  printf ']}\n'
} >"$out/summary.json"

echo "files: $files_pass passed, $files_fail failed, $files_skip skipped (all assertions skipped) of $n"
echo "assertions: $asserts_ok of $asserts_total passed"
echo "summary: $out/summary.tsv, $out/summary.json; TAP and stderr per file: $out/tap/"

rc=0
if [ -n "$expect" ]; then
  missed=0 claimed=0
  for t in $(grep -v '^\s*#' "$expect" | awk 'NF{print $1}'); do
    claimed=$((claimed + 1))
    if ! grep -qP "^\Q$t\E\tPASS\t" "$out/summary.tsv"; then
      echo "ratchet: $t is expected to pass (listed in $expect) but did not"
      missed=$((missed + 1))
    fi
  done
  echo "ratchet: $((claimed - missed)) of $claimed expected files passed"
  [ "$missed" -eq 0 ] || rc=1
fi
exit $rc

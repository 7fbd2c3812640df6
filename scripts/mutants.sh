#!/usr/bin/env bash
# Mutation check of the reliability and security tests (every such test must be seen to fail
# against a deliberately broken build). NOT run in CI: a full run rebuilds minirun once per
# mutant and runs kill -9 / concurrency / escape tests: the first build of build-mutants/ takes
# about 8 minutes on a busy 2-core machine, then a run of all the mutants about 5 minutes (8 with
# --baseline). Run it by hand, as root, after changing store, images, extract, container,
# fsutil (src/{store,engine,image,runtime,util}/), src/cli/cmd_run.cpp or the tests named in the patches.
#
# Usage: scripts/mutants.sh [--baseline] [NAME|PATCH...]
#   NAME        a mutant, tests/mutants/NAME.patch (default: every patch there, in name order)
#   PATCH       a patch file elsewhere, e.g. tests/mutants/survivors/*.patch: breaks that no test
#               on an ordinary host can see, each with the reason in its header (they survive)
#   --baseline  first run each selected mutant's tests on the unmodified tree: they must pass,
#               or a KILLED below means nothing (reported as BASELINE-FAILS)
#
# Each tests/mutants/NAME.patch is a unified diff against the tree (paths a/src/..., b/src/...)
# whose first line is a comment:
#   # breaks: WHAT IT BREAKS ; caught by: GTEST_FILTER
# GTEST_FILTER names the root test(s) that must fail with that break (several: Suite.A:Suite.B).
# For each mutant the script copies the working tree's CMakeLists.txt, include/, src/ and tests/
# into build-mutants/tree/ (only files that differ, so the build there is incremental; the real
# sources are never modified), applies the patch there (patch -p1 -F0: moved lines still apply,
# changed context does not, so a patch can never land on a look-alike line elsewhere; re-cut a
# NO-APPLY patch against the new code), builds minirun and minirun_root_tests in build-mutants/ (-O1, no -Werror),
# runs `build-mutants/minirun_root_tests --gtest_filter=GTEST_FILTER` and reports:
#   KILLED     the test failed (or hung until MUTANTS_TIMEOUT): it catches the break, as it must
#   SURVIVED   the test still passed: the test is too weak for this break
#   NO-APPLY   the patch no longer applies: the code moved, rewrite the patch
#   NO-BUILD   the patched tree does not compile: rewrite the patch
#   NO-TEST    the filter matched no test (renamed or missing test)
# Logs: build-mutants/logs/NAME.{build,test}.log. Exit status: 0 when every mutant was KILLED,
# 1 otherwise.
# Environment: MUTANTS_JOBS (build parallelism, default 1), MUTANTS_TIMEOUT (seconds per test
# run, default 1200).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out="$top/build-mutants"
tree="$out/tree"
logs="$out/logs"
jobs=${MUTANTS_JOBS:-1}
limit=${MUTANTS_TIMEOUT:-1200}

if [ "$(id -u)" -ne 0 ]; then
  echo "mutants.sh: the root tests need root" >&2
  exit 2
fi

baseline=0
patches=()
for a in "$@"; do
  case "$a" in
    --baseline) baseline=1 ;;
    -*) echo "mutants.sh: unknown option $a" >&2; exit 2 ;;
    *.patch) patches+=("$(cd "$(dirname "$a")" 2>/dev/null && pwd)/$(basename "$a")") ;;
    *) patches+=("$top/tests/mutants/$a.patch") ;;
  esac
done
if [ ${#patches[@]} -eq 0 ]; then
  for p in "$top"/tests/mutants/*.patch; do patches+=("$p"); done
fi
for p in "${patches[@]}"; do
  [ -f "$p" ] || { echo "mutants.sh: no such patch: $p" >&2; exit 2; }
done

# Makes $tree a copy of the working tree. A file is copied only when it differs (a plain cp gives
# it a new mtime, so make rebuilds exactly what a patch touched or reverted).
sync_tree() {
  mkdir -p "$tree"
  (cd "$top" && find CMakeLists.txt include src tests bench contrib -type f ! -path 'tests/mutants/*') | while read -r f; do
    if ! cmp -s "$top/$f" "$tree/$f"; then
      mkdir -p "$(dirname "$tree/$f")"
      cp "$top/$f" "$tree/$f"
    fi
  done
  # Files a patch created, or that are gone from the working tree.
  (cd "$tree" && find CMakeLists.txt include src tests bench contrib -type f) | while read -r f; do
    [ -e "$top/$f" ] || rm -f "$tree/$f"
  done
}

build() {
  if [ ! -f "$out/CMakeCache.txt" ]; then
    cmake -S "$tree" -B "$out" -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS=-O1 -DCMAKE_CXX_FLAGS=-O1 \
      -DMINIRUN_WERROR=OFF >"$1" 2>&1 || return 1
  fi
  cmake --build "$out" -j"$jobs" --target minirun minirun_root_tests >>"$1" 2>&1
}

# Runs the filter; prints KILLED, SURVIVED or NO-TEST.
run_tests() {
  local filter=$1 log=$2 rc
  (cd "$out" && timeout -k 10 "$limit" ./minirun_root_tests --gtest_filter="$filter" --gtest_color=no) >"$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    if grep -q '^\[  PASSED  \] 0 tests' "$log" || ! grep -q '^\[  PASSED  \]' "$log"; then echo NO-TEST
    elif grep -q '^\[  SKIPPED \]' "$log"; then echo NO-TEST
    else echo SURVIVED; fi
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "KILLED(timeout)"
  else echo KILLED; fi
}

# Mounts that name minirun and were not there when the script started (a test left one behind).
mounts_before=$(grep -e minirun /proc/self/mountinfo | cut -d' ' -f5- | sort)
leftover_mounts() {
  comm -13 <(echo "$mounts_before") <(grep -e minirun /proc/self/mountinfo | cut -d' ' -f5- | sort) | grep -c . || true
}

mkdir -p "$logs"
rows=()
bad=0
t_all=$(date +%s)
printf '%-28s %-62s %s\n' MUTANT TEST RESULT
for patch_file in "${patches[@]}"; do
  n=$(basename "$patch_file" .patch)
  filter=$(sed -n '1s/.*caught by:[[:space:]]*//p' "$patch_file" | sed 's/[[:space:]]*$//')
  t0=$(date +%s)
  if [ -z "$filter" ]; then
    result="NO-APPLY(no '# ... caught by: FILTER' first line)"
  else
    sync_tree
    result=""
    if [ $baseline = 1 ]; then
      if ! build "$logs/$n.baseline-build.log"; then result="NO-BUILD(baseline)"
      else
        b=$(run_tests "$filter" "$logs/$n.baseline-test.log")
        [ "$b" = SURVIVED ] || result="BASELINE-FAILS($b)"
      fi
    fi
    if [ -z "$result" ]; then
      if ! patch -p1 -F0 -d "$tree" --dry-run -s <"$patch_file" >"$logs/$n.patch.log" 2>&1; then result=NO-APPLY
      elif ! patch -p1 -F0 -d "$tree" --no-backup-if-mismatch -s <"$patch_file" >>"$logs/$n.patch.log" 2>&1; then
        result=NO-APPLY
      elif ! build "$logs/$n.build.log"; then result=NO-BUILD
      else result=$(run_tests "$filter" "$logs/$n.test.log")
      fi
    fi
  fi
  m=$(leftover_mounts)
  [ "$m" = 0 ] || result="$result (WARNING: $m minirun mounts left on the host)"
  case "$result" in KILLED*) ;; *) bad=1 ;; esac
  row=$(printf '%-28s %-62s %s  [%ss]' "$n" "$filter" "$result" "$(($(date +%s) - t0))")
  rows+=("$row")
  echo "$row"
done
sync_tree  # leave the scratch tree unpatched (and the next build incremental)

echo
echo "mutants.sh: ${#patches[@]} mutant(s) in $(($(date +%s) - t_all)) s; logs in $logs"
printf '%-28s %-62s %s\n' MUTANT TEST RESULT
printf '%s\n' "${rows[@]}"
exit $bad

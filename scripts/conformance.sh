#!/usr/bin/env bash
# Runs ../shared/conformance/run.py against build/minirun and enforces the ratchet:
# every case listed in tests/conformance-expected-pass.txt must pass (others are reported).
set -uo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
python3 "$shared/conformance/run.py" --minirun build/minirun "$@" >"$log" 2>&1
echo "conformance corpus (all cases):"
sed 's/^/  | /' "$log"
claimed=$(grep -v '^\s*#' tests/conformance-expected-pass.txt | awk 'NF{print $1}')
pass=0; fail=0
for c in $claimed; do
  if grep -qE "^PASS $c( |$)" "$log"; then
    pass=$((pass + 1))
  else
    echo "ratchet: claimed case $c did not pass"
    fail=$((fail + 1))
  fi
done
echo "conformance ratchet: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# Builds minirun and runs every test: unit tests always, root tests (ctest -L root) when run as
# root (they skip themselves with a message otherwise).
# Usage: scripts/test.sh [--sanitize] [--vm] [--stress]
#   --sanitize  build with ASan+UBSan into build-asan/
#   --vm        also run the VM integration tests (vm-tests/run.sh)
#   --stress    run the load tests (tests/root/load_root_test.cpp) ten times longer:
#               1,000 concurrent containers in 10 rounds of 100, 10,000 run/rm cycles
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
cmake_args=(-DMINIRUN_WERROR=ON)
vm=0
timeout=600
for a in "$@"; do
  case "$a" in
    --sanitize) build=build-asan; cmake_args+=(-DMINIRUN_SANITIZE=ON) ;;
    --vm) vm=1 ;;
    --stress) export MINIRUN_STRESS=10; timeout=3600 ;;
    *) echo "test.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

if [ "$vm" = 1 ]; then scripts/install-deps.sh --vm; else scripts/install-deps.sh; fi

# Ninja for a new build directory (an existing one keeps the generator it was made with). The
# product with line tables only (-g1): the same code as -g, and a third less compile time.
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake_args+=(-G Ninja -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
fi
cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"

cd "$build"
if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: not root: root tests will be skipped"
fi
ctest --output-on-failure --timeout "$timeout" -j"$(nproc)" -LE root
ctest --output-on-failure --timeout "$timeout" -L root
cd ..

if [ "$vm" = 1 ]; then
  vm-tests/run.sh
fi

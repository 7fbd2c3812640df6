#!/usr/bin/env bash
# Installs the build dependencies (Debian 12 packages) and builds build/minirun.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target minirun
echo "built build/minirun"

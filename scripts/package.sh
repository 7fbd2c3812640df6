#!/usr/bin/env bash
# Builds the Debian package: build-pkg/minirun_<version>_<arch>.deb (e.g. minirun_0.1.0_amd64.deb).
# A release build of the binary (glibc shared, every other library linked in), its manual pages
# (written by the binary itself) and the bash/zsh completion, packed by CPack (see the CPack
# section of CMakeLists.txt).
# Install it with: apt install ./build-pkg/minirun_<version>_<arch>.deb   (or dpkg -i)
# Usage: scripts/package.sh [BUILD_DIR]   (default build-pkg)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-pkg}
scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMINIRUN_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target minirun man
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls -t "$build"/minirun_*.deb | head -n1)
echo "package.sh: $deb"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\|Installed-Size\):/  \1:/p'

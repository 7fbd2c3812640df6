#!/usr/bin/env bash
# Quick start: builds minirun and the example image, loads it and runs it (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
scripts/make-example-image.sh build/example-busybox.tar
set -x
build/minirun load -i build/example-busybox.tar
build/minirun images
build/minirun run --rm example/busybox:latest
build/minirun run --rm build/example-busybox.tar echo "run straight from the archive"

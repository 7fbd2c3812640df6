#!/usr/bin/env bash
# Installs everything minirun needs to build and test, from Debian 12 packages (as root).
# Usage: scripts/install-deps.sh [--vm] [--bench] [--fuzz] [--peers]
set -euo pipefail

pkgs=(build-essential cmake pkg-config git python3
      libarchive-dev nlohmann-json3-dev libssl-dev libmount-dev libspdlog-dev libfmt-dev
      libgtest-dev libgmock-dev libcli11-dev libzstd-dev zlib1g-dev
      libacl1-dev libseccomp-dev liblz4-dev libxml2-dev nettle-dev libbz2-dev liblzma-dev
      libnl-route-3-dev libnftables-dev libnftnl-dev libmnl-dev busybox-static
      libtomlplusplus-dev  # registries.conf (header-only)
      man-db)  # man-db: the package test formats an installed page (man -l)
for a in "$@"; do
  case "$a" in
    --vm) pkgs+=(qemu-system-x86 linux-image-cloud-amd64 e2fsprogs cpio kmod nftables) ;;  # nftables: nft in the guest
    --bench) pkgs+=(hyperfine debootstrap gnuplot-nox time) ;;
    --fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
    --peers) pkgs+=(docker.io podman runc umoci skopeo) ;;  # bench/peers.sh only
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Installs everything minirun needs to build and test, from Debian 12 packages (as root).
# Usage: scripts/install-deps.sh [--vm] [--bench] [--fuzz] [--peers]
set -euo pipefail

pkgs=(build-essential cmake ninja-build pkg-config git python3
      libarchive-dev nlohmann-json3-dev libssl-dev libmount-dev libspdlog-dev libfmt-dev
      libgtest-dev libgmock-dev libcli11-dev libzstd-dev zlib1g-dev
      libacl1-dev libseccomp-dev liblz4-dev libxml2-dev nettle-dev libbz2-dev liblzma-dev
      libnl-route-3-dev libnftables-dev libnftnl-dev libmnl-dev busybox-static
      libtomlplusplus-dev  # registries.conf (header-only)
      docker-registry skopeo apache2-utils openssl  # the registry tests: a registry, pushes, htpasswd, a test CA
      man-db)  # man-db: the package test formats an installed page (man -l)
for a in "$@"; do
  case "$a" in
    --vm) pkgs+=(qemu-system-x86 linux-image-cloud-amd64 e2fsprogs cpio kmod nftables) ;;  # nftables: nft in the guest
    --bench) pkgs+=(hyperfine debootstrap gnuplot-nox time) ;;
    --fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
    --peers) pkgs+=(docker.io podman runc umoci skopeo) ;;  # bench/peers.sh only
  esac
done

# The docker-registry package starts a registry listening on every interface (:5000): the tests
# start their own on 127.0.0.1, so the service is stopped and kept from starting again.
stop_registry_service() {
  command -v docker-registry >/dev/null || return 0
  if [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
    systemctl mask docker-registry.service >/dev/null 2>&1 || true
  else
    # The init script stops the daemon it started by its pid file (/var/run/docker-registry.pid).
    [ -x /etc/init.d/docker-registry ] && /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
    update-rc.d docker-registry disable >/dev/null 2>&1 || true
  fi
}

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  [ "$(id -u)" -ne 0 ] || stop_registry_service
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
stop_registry_service

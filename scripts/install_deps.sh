#!/usr/bin/env bash
# Installs the Debian (bookworm) packages attnkit needs to build, test and benchmark, if any is missing.
# Used by scripts/run_tests.sh and scripts/run_bench.sh; safe to run on its own. Needs root or sudo only when
# something is missing.
#
# Usage: scripts/install_deps.sh [package]...
#   Extra Debian packages are checked and installed the same way (run_tests.sh passes the AArch64 cross compiler
#   and qemu-user for its aarch64 stage).
set -euo pipefail

packages=(cmake g++ make libeigen3-dev libxsimd-dev catch2 libbenchmark-dev "$@")

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install_deps: missing Debian packages: ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install_deps: not root and sudo is not available; install as root:" >&2
    echo "  apt-get install -y --no-install-recommends ${packages[*]}" >&2
    exit 1
  fi
fi

"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

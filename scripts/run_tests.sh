#!/usr/bin/env bash
# The attnkit test command: builds and tests four configurations with CMake workflow presets.
#   native    Release, -march=native            (cmake --workflow --preset native)
#   baseline  Release, no -march (SSE2 x86-64), no OpenMP (serial)   (cmake --workflow --preset baseline)
#   dev       Debug, ASan+UBSan, -march=native, clang 14, tests only   (cmake --workflow --preset dev)
#   aarch64   Release, AArch64 NEON cross-built with Debian's aarch64-linux-gnu-g++, unit tests run under
#             qemu-aarch64 (cmake --workflow --preset aarch64)
#
# Usage: scripts/run_tests.sh [native|baseline|dev|aarch64]...   (default: all four, in that order)
# Build and test parallelism (2 jobs) comes from CMakePresets.json.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

all_stages=(native baseline dev aarch64)
stages=("$@")
if ((${#stages[@]} == 0)); then
  stages=("${all_stages[@]}")
fi
extra_packages=()
for stage in "${stages[@]}"; do
  case "$stage" in
    baseline) ;;
    native)
      # scripts/check_codegen.sh reads clang's code as well as GCC's.
      extra_packages+=(clang-14)
      ;;
    dev)
      # Built with clang 14 and its OpenMP runtime.
      extra_packages+=(clang-14 libomp-14-dev)
      ;;
    aarch64)
      # The cross compiler brings the AArch64 glibc and libstdc++ under /usr/aarch64-linux-gnu. It pulls in
      # libgomp as well; naming it keeps the stage on the threaded (OpenMP) kernel. qemu-user: qemu-aarch64.
      extra_packages+=(g++-aarch64-linux-gnu libgomp1-arm64-cross qemu-user)
      ;;
    -h | --help)
      sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "run_tests.sh: unknown stage '$stage' (expected one of: ${all_stages[*]})" >&2
      exit 2
      ;;
  esac
done

scripts/install_deps.sh "${extra_packages[@]}"

start=$SECONDS
for stage in "${stages[@]}"; do
  printf '\n==================== attnkit: %s ====================\n' "$stage"
  stage_start=$SECONDS
  cmake --workflow --preset "$stage"
  printf '==================== %s passed in %ds ====================\n' "$stage" $((SECONDS - stage_start))
done

printf '\nattnkit: all stages passed (%s) in %ds\n' "${stages[*]}" $((SECONDS - start))

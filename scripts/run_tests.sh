#!/usr/bin/env bash
# The attnkit test command: builds and tests three configurations with CMake workflow presets.
#   native    Release, -march=native            (cmake --workflow --preset native)
#   baseline  Release, no -march (SSE2 x86-64), no OpenMP (serial)   (cmake --workflow --preset baseline)
#   dev       Debug, ASan+UBSan, -march=native   (cmake --workflow --preset dev)
#
# Usage: scripts/run_tests.sh [native|baseline|dev]...   (default: all three, in that order)
# Build and test parallelism (2 jobs) comes from CMakePresets.json.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

all_stages=(native baseline dev)
stages=("$@")
if ((${#stages[@]} == 0)); then
  stages=("${all_stages[@]}")
fi
for stage in "${stages[@]}"; do
  case "$stage" in
    native | baseline | dev) ;;
    -h | --help)
      sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "run_tests.sh: unknown stage '$stage' (expected one of: ${all_stages[*]})" >&2
      exit 2
      ;;
  esac
done

scripts/install_deps.sh

start=$SECONDS
for stage in "${stages[@]}"; do
  printf '\n==================== attnkit: %s ====================\n' "$stage"
  stage_start=$SECONDS
  cmake --workflow --preset "$stage"
  printf '==================== %s passed in %ds ====================\n' "$stage" $((SECONDS - stage_start))
done

printf '\nattnkit: all stages passed (%s) in %ds\n' "${stages[*]}" $((SECONDS - start))

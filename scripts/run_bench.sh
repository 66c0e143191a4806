#!/usr/bin/env bash
# The attnkit benchmark command: builds the `native` preset's attnkit_bench (Release, -march=native) and runs it,
# writing Google Benchmark JSON to bench-results.json in the repository root.
#
# Usage: scripts/run_bench.sh [benchmark flags...]   e.g. scripts/run_bench.sh --benchmark_filter=BM_Softmax
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install_deps.sh

cmake --preset native
cmake --build --preset native --target attnkit_bench

build/native/bench/attnkit_bench --benchmark_out=bench-results.json --benchmark_out_format=json "$@"

#!/usr/bin/env bash
# Checks the micro-kernel's generated code under the compilers and CPU tunings users build with (issue 9:
# GCC's -mtune=znver3 once folded the K/V panel loads into every FMA and made the loop load-bound).
# For each compiler and -march, tests/codegen/micro_kernel.cpp is compiled to assembly and must have
#   - FMAs whose only memory operands are embedded broadcasts ({1toN}): each B vector is loaded once per k,
#   - no vector register stored to the stack (every accumulator stays in a register),
#   - as many FMAs as the register block has accumulators (the loop is fully unrolled over the block).
#
# Usage: scripts/check_codegen.sh [compiler]...   (default: c++, and clang++-14 / clang++ when present)
# A named compiler that is not installed is skipped with a line that says so.
# x86-64 only; prints one line per (compiler, -march) and exits non-zero on the first failure's summary.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

compilers=("$@")
if ((${#compilers[@]} == 0)); then
  compilers=(c++)
  for c in clang++-14 clang++; do
    if command -v "$c" >/dev/null 2>&1; then
      compilers+=("$c")
      break
    fi
  done
fi

# -march values: AVX2 CPUs (generic and each vendor's tuning) and AVX-512 ones; those a compiler does not
# know are skipped.
marches=(x86-64-v3 haswell skylake znver2 znver3 x86-64-v4 skylake-avx512 icelake-server sapphirerapids znver4)

failures=0
for cxx in "${compilers[@]}"; do
  if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "skip  $cxx (not installed)"
    continue
  fi
  for march in "${marches[@]}"; do
    if ! asm=$("$cxx" -std=c++20 -O3 -march="$march" -Iinclude -S -o - tests/codegen/micro_kernel.cpp 2>/dev/null); then
      echo "skip  $cxx -march=$march (not supported by this compiler)"
      continue
    fi
    code=$(sed 's/#.*//' <<<"$asm") # drop comments (clang writes the FMA's formula after '#')
    fmas=$(grep -cE '^\s*vfmadd[0-9]+ps' <<<"$code" || true)
    folded=$(grep -E '^\s*vfmadd[0-9]+ps' <<<"$code" | grep '(' | grep -vc '{1to' || true)
    spills=$(grep -cE '^\s*vmov[au]ps\s+%[xyz]mm[0-9]+, *-?[0-9]*\(%rsp\)' <<<"$code" || true)
    # 6 x 2 accumulators on AVX2, 8 x 2 on AVX-512 (register_blocking.hpp).
    expected=12
    grep -q '%zmm' <<<"$code" && expected=16
    status=ok
    if ((folded > 0 || spills > 0 || fmas != expected)); then
      status=FAIL
      failures=$((failures + 1))
    fi
    printf '%-5s %s -march=%s: %d FMAs (want %d), %d with a folded load, %d vector spills\n' "$status" "$cxx" \
      "$march" "$fmas" "$expected" "$folded" "$spills"
  done
done
if ((failures > 0)); then
  echo "check_codegen: $failures configuration(s) generate a slow micro-kernel" >&2
  exit 1
fi
echo "check_codegen: the micro-kernel keeps its operands in registers under every compiler and tuning"

#!/usr/bin/env bash
# Checks the generated code of the kernels' inner loops under the compilers and CPU tunings users build with
# (issue 9: GCC's -mtune=znver3 once folded the K/V panel loads into every FMA and made the loop load-bound).
# For each compiler and -march, each source in tests/codegen/ is compiled to assembly and must have
#   - FMAs whose only memory operands are embedded broadcasts ({1toN}): each vector is loaded once and used
#     by every row of the register block,
#   - no whole vector reloaded from the stack (every accumulator stays in a register),
#   - micro_kernel.cpp: exactly as many FMAs as the register block has accumulators (fully unrolled);
#     decode_values.cpp: at least its 2 x 4 (AVX2) or 4 x 4 (AVX-512) block plus its one-vector tail's 2 or 4
#     (clang may unroll the key loop further); decode_scores.cpp: at least its 4 x 2 (AVX2) or 4 x 4
#     (AVX-512) block of rows x keys; decode_score_row.cpp (one row, whose K vectors are each used once and
#     may be FMA memory operands): at least W accumulators, none reloaded.
#
# Usage: scripts/check_codegen.sh [compiler]...   (default: c++, and clang++-14 / clang++ when present)
# A named compiler that is not installed is skipped with a line that says so.
# x86-64 only; prints one line per (source, compiler, -march) and exits non-zero on the first failure's summary.
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

# -march values: AVX2 CPUs (generic, Intel's and AMD's tunings) and AVX-512 ones (generic, the first and the
# latest Intel server tuning, Zen 4); those a compiler does not know are skipped. (haswell and icelake-server,
# dropped to save CI time, passed whenever skylake and skylake-avx512 did, with the same FMA counts.)
marches=(x86-64-v3 skylake znver2 znver3 x86-64-v4 skylake-avx512 sapphirerapids znver4)

# Checks one source under one compiler for every -march; prints a line each and exits with the failure count.
check_source() {
  local source=$1 cxx=$2 failures=0
  for march in "${marches[@]}"; do
    if ! asm=$("$cxx" -std=c++20 -O3 -march="$march" -Iinclude -S -o - "tests/codegen/$source.cpp" 2>/dev/null); then
      echo "skip  $cxx -march=$march (not supported by this compiler)"
      continue
    fi
    code=$(sed 's/#.*//' <<<"$asm") # drop comments (clang writes the FMA's formula after '#')
    fmas=$(grep -cE '^\s*vfmadd[0-9]+ps' <<<"$code" || true)
    folded=$(grep -E '^\s*vfmadd[0-9]+ps' <<<"$code" | grep '(' | grep -vc '{1to' || true)
    # A spilled accumulator comes back as a whole vector loaded from the stack (a result written out and
    # read back a few lanes at a time, as the decode scores' sums are, is not one).
    spills=$(grep -cE '^\s*vmov[au]ps\s+-?[0-9]*\(%(rsp|rbp)\), *%[yz]mm[0-9]+' <<<"$code" || true)
    avx512=0
    grep -q '%zmm' <<<"$code" && avx512=1
    if [[ $source == micro_kernel ]]; then
      # 6 x 2 accumulators on AVX2, 8 x 2 on AVX-512 (register_blocking.hpp), exactly.
      expected=$((avx512 ? 16 : 12))
      fma_ok=$((fmas == expected))
    elif [[ $source == decode_values ]]; then
      # 2 rows (AVX2) or 4 (AVX-512) x 4 vectors, plus the one-vector tail's 2 or 4 (row_products.hpp).
      expected=$((avx512 ? 20 : 10))
      fma_ok=$((fmas >= expected))
    elif [[ $source == decode_scores ]]; then
      # 4 rows x 2 keys (AVX2) or 4 x 4 (AVX-512) (row_products.hpp; unrolling may add more).
      expected=$((avx512 ? 16 : 8))
      fma_ok=$((fmas >= expected))
    else
      # decode_score_row: W keys of one row, each K vector used once, so folded loads are the right code;
      # only an FMA on a stack slot (a spilled accumulator) counts.
      expected=$((avx512 ? 16 : 8))
      fma_ok=$((fmas >= expected))
      folded=$(grep -E '^\s*vfmadd[0-9]+ps' <<<"$code" | grep -cE '\(%(rsp|rbp)\)' || true)
    fi
    status=ok
    if ((folded > 0 || spills > 0 || !fma_ok)); then
      status=FAIL
      failures=$((failures + 1))
    fi
    printf '%-5s %s: %s -march=%s: %d FMAs (want %s%d), %d with a folded load, %d vector reloads\n' "$status" \
      "$source" "$cxx" "$march" "$fmas" "$([[ $source == micro_kernel ]] && echo '' || echo '>= ')" "$expected" \
      "$folded" "$spills"
  done
  return "$failures"
}

# Every (source, compiler) pair at once, each into its own file, printed in order: the compiles are the
# whole cost, and they run side by side.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
jobs=()
for source in micro_kernel decode_values decode_scores decode_score_row; do
  for cxx in "${compilers[@]}"; do
    if ! command -v "$cxx" >/dev/null 2>&1; then
      echo "skip  $cxx (not installed)"
      continue
    fi
    log="$out/${#jobs[@]}"
    check_source "$source" "$cxx" >"$log" 2>&1 &
    jobs+=("$!:$log")
  done
done
failures=0
for job in "${jobs[@]}"; do
  status=0
  wait "${job%%:*}" || status=$?
  cat "${job#*:}"
  failures=$((failures + status))
done
if ((failures > 0)); then
  echo "check_codegen: $failures configuration(s) generate a slow inner loop" >&2
  exit 1
fi
echo "check_codegen: the micro-kernel and the decode scores and V product keep their operands in registers under every compiler and tuning"

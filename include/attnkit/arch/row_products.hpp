#pragma once
/// \file
/// The two products of the decode kernel, on K and V rows read in place (no packing): the scores of one
/// query row against consecutive keys, and O += P V for a few rows at once.

#include "attnkit/arch/register_blocking.hpp"
#include "attnkit/arch/simd_compat.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace attnkit::simd {

/// scores[j] = q . k_j for j in [0, n); key j's row starts at k + j * key_stride (unit stride inside).
/// Writes n rounded up to the SIMD width W: the entries past n repeat the last key, for the caller to
/// hide. W keys are summed side by side and reduced together by one transposing horizontal add, so no
/// key pays a full reduction of its own.
template <class Arch>
inline void row_scores(float const* q, std::int64_t dim, float const* k, std::int64_t key_stride,
                       std::int64_t n, float* scores) noexcept {
  using batch = float_batch<Arch>;
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  std::int64_t const vector_dim = dim / w * w;
  for (std::int64_t j0 = 0; j0 < n; j0 += w) {
    batch acc[w];
    ATTNKIT_UNROLL
    for (std::int64_t j = 0; j < w; ++j)
      acc[j] = batch(0.0f);
    if (j0 + w <= n) {
      // W whole keys: one pointer stepped by the stride (an array of W pointers would live on the stack
      // and cost a load per FMA).
      for (std::int64_t d = 0; d < vector_dim; d += w) {
        batch const qd = batch::load_unaligned(q + d);
        float const* key = k + j0 * key_stride + d;
        ATTNKIT_UNROLL
        for (std::int64_t j = 0; j < w; ++j, key += key_stride)
          acc[j] = simd::fma(qd, batch::load_unaligned(key), acc[j]);
      }
    } else {
      for (std::int64_t d = 0; d < vector_dim; d += w) {
        batch const qd = batch::load_unaligned(q + d);
        ATTNKIT_UNROLL
        for (std::int64_t j = 0; j < w; ++j) // past the last key, repeat it: never read past the end
          acc[j] = simd::fma(qd, batch::load_unaligned(k + std::min(j0 + j, n - 1) * key_stride + d), acc[j]);
      }
    }
    batch sums = transpose_sums<Arch>(acc);
    if (vector_dim < dim) { // the last dim % W elements, one key at a time
      alignas(64) float tail[w];
      for (std::int64_t j = 0; j < w; ++j) {
        float const* key = k + std::min(j0 + j, n - 1) * key_stride;
        float s = 0.0f;
        for (std::int64_t d = vector_dim; d < dim; ++d)
          s += q[d] * key[d];
        tail[j] = s;
      }
      sums += batch::load_aligned(tail);
    }
    sums.store_unaligned(scores + j0);
  }
}

/// Rows the decode kernel's O += P V takes per pass over V: each pass holds Rows x 4 accumulators, plus 4
/// V loads and a broadcast. 4 rows on AVX-512 (32 registers); 2 on 16-register ISAs, where 4 x 4 made GCC
/// spill accumulators and fold every V load into its FMAs. (4 rows x 2 vectors fit as well, but their
/// twice as many, narrower passes over the chunk's V rows ran 10-20 % slower on Zen 3: fewer DRAM lines
/// in flight per instruction.)
template <class Arch> inline constexpr std::size_t value_rows = width<Arch> >= 16 ? 4 : 2;

/// out[r][0, v_dim) += sum_j weights[r][j] * v_j for Rows (at most value_rows) rows over n keys; key j's
/// values start at v + j * value_stride. v_dim is any size: the columns past the last whole vector are
/// done one by one.
template <class Arch, std::size_t Rows>
inline void rows_times_values(float const* const* weights, float const* v, std::int64_t value_stride,
                              std::int64_t n, std::int64_t v_dim, float* const* out) noexcept {
  static_assert(Rows >= 1 && Rows <= value_rows<Arch>, "more rows than the registers hold");
  using batch = float_batch<Arch>;
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  constexpr std::int64_t vectors = 4;
  std::int64_t d = 0;
  for (; d + vectors * w <= v_dim; d += vectors * w) {
    batch acc[Rows][vectors];
    ATTNKIT_UNROLL
    for (std::size_t r = 0; r < Rows; ++r)
      ATTNKIT_UNROLL
    for (std::int64_t c = 0; c < vectors; ++c)
      acc[r][c] = batch::load_unaligned(out[r] + d + c * w);
    for (std::int64_t j = 0; j < n; ++j) {
      batch vj[vectors];
      ATTNKIT_UNROLL
      for (std::int64_t c = 0; c < vectors; ++c) // loaded once, used by every row (see in_register)
        vj[c] = in_register<Arch>(batch::load_unaligned(v + j * value_stride + d + c * w));
      ATTNKIT_UNROLL
      for (std::size_t r = 0; r < Rows; ++r) {
        batch const p(weights[r][j]);
        ATTNKIT_UNROLL
        for (std::int64_t c = 0; c < vectors; ++c)
          acc[r][c] = simd::fma(p, vj[c], acc[r][c]);
      }
    }
    ATTNKIT_UNROLL
    for (std::size_t r = 0; r < Rows; ++r)
      ATTNKIT_UNROLL
    for (std::int64_t c = 0; c < vectors; ++c)
      acc[r][c].store_unaligned(out[r] + d + c * w);
  }
  for (; d + w <= v_dim; d += w) {
    batch acc[Rows];
    ATTNKIT_UNROLL
    for (std::size_t r = 0; r < Rows; ++r)
      acc[r] = batch::load_unaligned(out[r] + d);
    for (std::int64_t j = 0; j < n; ++j) {
      batch const vj = in_register<Arch>(batch::load_unaligned(v + j * value_stride + d));
      ATTNKIT_UNROLL
      for (std::size_t r = 0; r < Rows; ++r)
        acc[r] = simd::fma(batch(weights[r][j]), vj, acc[r]);
    }
    ATTNKIT_UNROLL
    for (std::size_t r = 0; r < Rows; ++r)
      acc[r].store_unaligned(out[r] + d);
  }
  for (; d < v_dim; ++d)
    for (std::size_t r = 0; r < Rows; ++r) {
      float s = out[r][d];
      for (std::int64_t j = 0; j < n; ++j)
        s += weights[r][j] * v[j * value_stride + d];
      out[r][d] = s;
    }
}

} // namespace attnkit::simd

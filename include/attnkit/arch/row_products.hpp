#pragma once
/// \file
/// The two products of the decode kernel, on K and V rows read in place (no packing): the scores of a few
/// query rows against consecutive keys, and O += P V for a few rows at once.

#include "attnkit/arch/prefetch.hpp"
#include "attnkit/arch/register_blocking.hpp"
#include "attnkit/arch/simd_compat.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace attnkit::simd {

/// Rows that a later pass will read: row i starts at rows + i * stride, for i in [0, count). The decode
/// products prefetch them into L2 while they compute, spread over their own keys, so that memory stays busy
/// while the core works on data it already has (Zen 3, GQA decode on 2 threads: 17 -> 19-22 GB/s of K/V).
struct rows_ahead {
  float const* rows = nullptr;
  std::int64_t stride = 0;
  std::int64_t count = 0;
};

/// Prefetches floats [from, to) of row i of `ahead`, one request per 64-byte line.
ATTNKIT_PREFETCH_INLINE void prefetch_row(rows_ahead const& ahead, std::int64_t i, std::int64_t from,
                                          std::int64_t to) noexcept {
  constexpr std::int64_t line_floats = 16;
  float const* row = ahead.rows + i * ahead.stride;
  std::int64_t d = from;
  for (; d < to; d += line_floats)
    prefetch_to_l2(row + d);
  // A row that does not start on a line boundary ends one line further than the steps above reach.
  auto const line = [](float const* x) { return reinterpret_cast<std::uintptr_t>(x) / 64; };
  if (from < to && line(row + to - 1) != line(row + d - line_floats))
    prefetch_to_l2(row + to - 1);
}

/// Rows the decode kernel's scores take per pass over K: each K vector is loaded once and used by every row.
/// One row per pass made Zen 3 reload each K row from L1/L2 per query head, 1.5-2x slower than 4 rows.
template <class Arch> inline constexpr std::size_t score_rows = 4;

/// Keys per block of rows_scores for Rows rows: Rows x keys accumulators, at least 8 (2 FMA pipes x 4
/// cycles of latency) and a whole number of SIMD widths, reduced by transposing horizontal adds.
template <class Arch, std::size_t Rows>
inline constexpr std::int64_t score_keys = static_cast<std::int64_t>(std::max<std::size_t>(width<Arch>, 8) /
                                                                     Rows);

/// Accumulates acc[r * keys + c] += q[r][0, vector_dim) . key c's row for one block of `keys` keys whose
/// first row is `first`. Whole blocks step one pointer by the stride (W pointers held apart would not fit
/// the registers); the last, partial block repeats its last key (`last`: its index in the block).
template <class Arch, std::size_t Rows, bool Whole>
inline void score_block(float const* const* q, std::int64_t vector_dim, float const* first,
                        std::int64_t key_stride, std::int64_t last, float_batch<Arch>* acc) noexcept {
  using batch = float_batch<Arch>;
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  constexpr std::int64_t keys = score_keys<Arch, Rows>;
  // Key c's row from key c - 1's; never a pointer past the block's last row.
  auto const next = [&](float const* key, std::int64_t c) {
    if constexpr (Whole)
      return c < keys ? key + key_stride : key;
    else
      return c <= last ? key + key_stride : key;
  };
  for (std::int64_t d = 0; d < vector_dim; d += w) {
    float const* key = first + d;
    if constexpr (Rows == 1) {
      // One row: each K vector is used once, straight from memory; the query vector stays in a register.
      batch const qd = in_register<Arch>(batch::load_unaligned(q[0] + d));
      ATTNKIT_UNROLL
      for (std::int64_t c = 0; c < keys; ++c) {
        acc[c] = simd::fma(qd, batch::load_unaligned(key), acc[c]);
        key = next(key, c + 1);
      }
    } else {
      batch kd[keys];
      ATTNKIT_UNROLL
      for (std::int64_t c = 0; c < keys; ++c) { // loaded once, used by every row
        kd[c] = in_register<Arch>(batch::load_unaligned(key));
        key = next(key, c + 1);
      }
      ATTNKIT_UNROLL
      for (std::size_t r = 0; r < Rows; ++r) {
        batch const qd = in_register<Arch>(batch::load_unaligned(q[r] + d));
        ATTNKIT_UNROLL
        for (std::int64_t c = 0; c < keys; ++c)
          acc[static_cast<std::int64_t>(r) * keys + c] =
              simd::fma(qd, kd[c], acc[static_cast<std::int64_t>(r) * keys + c]);
      }
    }
  }
}

/// Scores over the first dim / W * W elements of one block of score_keys<Arch, Rows> keys whose first row is
/// `first`, stored at scores[r][j0 + c] (past `last`, the block repeats its last key). The sums leave the
/// registers as whole vectors and each row's run of `keys` scores is copied out in one piece: storing them
/// one float at a time made the scores 1.5-2x slower on Zen 3 (D = 64: 41 -> 19 TSC cycles per key for 4
/// rows).
template <class Arch, std::size_t Rows, bool Whole>
inline void score_and_store(float const* const* q, std::int64_t vector_dim, float const* first,
                            std::int64_t key_stride, std::int64_t last, float* const* scores,
                            std::int64_t j0) noexcept {
  using batch = float_batch<Arch>;
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  constexpr std::int64_t keys = score_keys<Arch, Rows>, count = static_cast<std::int64_t>(Rows) * keys;
  batch acc[count];
  ATTNKIT_UNROLL
  for (std::int64_t a = 0; a < count; ++a)
    acc[a] = batch(0.0f);
  score_block<Arch, Rows, Whole>(q, vector_dim, first, key_stride, last, acc);
  alignas(64) float sums[count];
  ATTNKIT_UNROLL
  for (std::int64_t a = 0; a < count; a += w)
    transpose_sums<Arch>(acc + a).store_aligned(sums + a);
  ATTNKIT_UNROLL
  for (std::size_t r = 0; r < Rows; ++r)
    std::memcpy(scores[r] + j0, sums + static_cast<std::int64_t>(r) * keys, keys * sizeof(float));
}

/// scores[r][j] = q[r] . k_j for Rows (1, 2 or 4) query rows and j in [0, n); key j's row starts at
/// k + j * key_stride (unit stride inside). Writes n rounded up to score_keys<Arch, Rows> (at most
/// score_keys<Arch, 1>, which is 8 where a register holds 4 floats): the entries past n repeat the last key,
/// for the caller to hide. Prefetches the first `dim` floats of each row of `ahead`, about one row per key.
template <class Arch, std::size_t Rows>
inline void rows_scores(float const* const* q, std::int64_t dim, float const* k, std::int64_t key_stride,
                        std::int64_t n, float* const* scores, rows_ahead const& ahead = {}) noexcept {
  static_assert(Rows == 1 || Rows == 2 || Rows == 4, "rows_scores takes 1, 2 or 4 rows");
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  constexpr std::int64_t keys = score_keys<Arch, Rows>;
  static_assert(Rows * keys % w == 0, "the accumulators reduce a whole SIMD width at a time");
  std::int64_t const vector_dim = dim / w * w;
  for (std::int64_t j0 = 0; j0 < n; j0 += keys) {
    for (std::int64_t i = j0; i < std::min(j0 + keys, ahead.count); ++i)
      prefetch_row(ahead, i, 0, dim);
    float const* const first = k + j0 * key_stride;
    if (j0 + keys <= n)
      score_and_store<Arch, Rows, true>(q, vector_dim, first, key_stride, keys - 1, scores, j0);
    else // past the last key, the block repeats it
      score_and_store<Arch, Rows, false>(q, vector_dim, first, key_stride, n - j0 - 1, scores, j0);
  }
  for (std::int64_t i = (n + keys - 1) / keys * keys; i < ahead.count; ++i) // more rows ahead than keys here
    prefetch_row(ahead, i, 0, dim);
  if (vector_dim < dim) // the last dim % W elements, in a pass of their own to keep them out of the blocks
    for (std::int64_t j = 0; j < (n + keys - 1) / keys * keys; ++j) {
      float const* key = k + std::min(j, n - 1) * key_stride;
      for (std::size_t r = 0; r < Rows; ++r)
        for (std::int64_t d = vector_dim; d < dim; ++d)
          scores[r][j] += q[r][d] * key[d];
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
/// done one by one. Prefetches the first v_dim floats of each row of `ahead`: in each pass over the keys,
/// row j's columns of that pass next to key j.
template <class Arch, std::size_t Rows>
inline void rows_times_values(float const* const* weights, float const* v, std::int64_t value_stride,
                              std::int64_t n, std::int64_t v_dim, float* const* out,
                              rows_ahead const& ahead = {}) noexcept {
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
      if (j < ahead.count)
        prefetch_row(ahead, j, d, d + vectors * w);
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
  for (std::int64_t j = 0; j < ahead.count; ++j) // the columns and rows the passes above did not prefetch
    prefetch_row(ahead, j, j < n ? d : 0, v_dim);
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

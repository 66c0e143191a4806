#pragma once
/// \file
/// How the kernel applies a mask to one row of scores: the mask's optional `hide_row` hook, or else the one
/// generic fallback that asks `visible` key by key.

#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace attnkit {

/// Optional mask hook: `hide_row<Arch>(b, row, first_key, scores, n)` sets scores[j] to -inf for every
/// key first_key + j (j in [0, n)) that query row `row` cannot see, and leaves the others untouched. A
/// template on the SIMD architecture, like every row hook.
template <class M>
concept hides_rows = requires(M const& m, query_block const& b, std::int64_t i, float* scores) {
  m.template hide_row<xsimd::default_arch>(b, i, i, scores, i);
};

/// Sets scores[j] to -inf for every key first_key + j, j in [0, n), that row `row` of `b` cannot see.
/// Uses the mask's `hide_row` if it has one; otherwise `visible`, once per key (the generic fallback).
/// The kernel masks partial tiles only through this function.
template <class Arch, class Mask>
inline void hide_keys(Mask const& mask, query_block const& b, std::int64_t row, std::int64_t first_key,
                      float* scores, std::int64_t n) noexcept {
  if constexpr (hides_rows<Mask>) {
    mask.template hide_row<Arch>(b, row, first_key, scores, n);
  } else {
    constexpr float hidden = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < n; ++j)
      scores[j] = mask.visible(b, row, first_key + j) ? scores[j] : hidden;
  }
}

/// Helper for `hide_row` hooks whose visible keys form one range: sets scores[j] to -inf for every key
/// first_key + j, j in [0, n), outside `shown` (which may extend past the row or be empty).
inline void hide_keys_outside(key_range shown, std::int64_t first_key, float* scores,
                              std::int64_t n) noexcept {
  constexpr float hidden = -std::numeric_limits<float>::infinity();
  std::int64_t const begin = std::clamp<std::int64_t>(shown.begin - first_key, 0, n);
  std::int64_t const end = std::clamp<std::int64_t>(shown.end - first_key, begin, n);
  std::fill(scores, scores + begin, hidden);
  std::fill(scores + end, scores + n, hidden);
}

} // namespace attnkit

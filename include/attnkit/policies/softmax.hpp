#pragma once
/// \file
/// The softmax normaliser, computed online over key tiles (FlashAttention-2).

#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/arch/vector_exp.hpp"
#include "attnkit/policies/kernel_family.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/row_result.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace attnkit {

/// w_ij = exp(s_ij - m_i) / l_i over the visible keys; LSE_i = m_i + log(l_i).
/// A row with no visible key gives output 0 and LSE = -inf.
struct softmax {
  using kernel_family = tiled_scores_family;
  static constexpr bool has_lse = true;

  /// Running maximum and running sum of exp(s - max) of one query row.
  struct row_state {
    float max = -std::numeric_limits<float>::infinity();
    float sum = 0.0f;
  };

  /// Replaces `scores[0, n)` (masked entries are -inf, n a multiple of the SIMD width) by their
  /// un-normalised weights and returns the factor the row's accumulated output must be multiplied by.
  template <class Arch>
  float weigh_row(query_block const&, row_state& state, float* scores, std::int64_t n) const noexcept {
    using batch = simd::float_batch<Arch>;
    constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);

    batch running_max(-std::numeric_limits<float>::infinity());
    for (std::int64_t j = 0; j < n; j += w)
      running_max = xsimd::max(running_max, batch::load_unaligned(scores + j));
    float const new_max = std::max(state.max, simd::reduce_max<Arch>(running_max));

    if (new_max == -std::numeric_limits<float>::infinity()) {
      // Nothing visible yet. Weights are 0, unless a NaN score hid from the max: keep it visible.
      bool has_nan = false;
      for (std::int64_t j = 0; j < n; ++j) {
        has_nan = has_nan || std::isnan(scores[j]);
        scores[j] = 0.0f;
      }
      if (has_nan)
        state.sum = std::numeric_limits<float>::quiet_NaN();
      return 1.0f;
    }

    batch const shift(new_max), to_base_2(simd::log2_e);
    batch sum(0.0f);
    for (std::int64_t j = 0; j < n; j += w) {
      // e^(s - max) as 2^((s - max) log2 e): two fewer operations on the multiply pipes than reducing by
      // ln 2.
      batch const p = simd::exp2_nonpositive<Arch>((batch::load_unaligned(scores + j) - shift) * to_base_2);
      p.store_unaligned(scores + j);
      sum += p;
    }
    float const rescale = std::exp(state.max - new_max); // exp(-inf) = 0 on the first visible tile
    state.sum = state.sum * rescale + simd::reduce_sum<Arch>(sum);
    state.max = new_max;
    return rescale;
  }

  /// Folds the state of the row's other keys (`from`, e.g. another split of a long KV cache) into `into`,
  /// rescaling both to the larger max. A NaN sum stays NaN.
  merge_factors merge_rows(row_state& into, row_state const& from) const noexcept {
    float const top = std::max(into.max, from.max);
    if (top == -std::numeric_limits<float>::infinity()) { // neither saw a finite score
      into.sum += from.sum;
      return {1.0f, 1.0f};
    }
    merge_factors const f{std::exp(into.max - top), std::exp(from.max - top)};
    into.sum = into.sum * f.into + from.sum * f.from;
    into.max = top;
    return f;
  }

  /// The output factor and LSE of a finished row.
  template <class Arch>
  row_result finish_row(query_block const&, std::int64_t, row_state const& state) const noexcept {
    if (state.sum == 0.0f)
      return {0.0f, -std::numeric_limits<float>::infinity()};
    return {1.0f / state.sum, state.max + std::log(state.sum)};
  }
};

} // namespace attnkit

#pragma once
/// \file
/// Sigmoid attention ("Theory, Analysis, and Best Practices for Sigmoid Self-Attention", FlashSigmoid):
/// each weight is sigmoid(score + b) on its own, with no normalisation over the row.

#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/arch/vector_exp.hpp"
#include "attnkit/policies/kernel_family.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"
#include "attnkit/policies/row_result.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace attnkit {

/// w_ij = 1 / (1 + exp(-(s_ij + b))) over the visible keys (SEMANTICS.md), b = -ln(Sk) unless given.
/// No running max, no running sum, no rescaling; partial results over disjoint keys add. There is no
/// log-sum-exp: asking for one fails to compile. A row with no visible key gives 0.
class sigmoid {
public:
  using kernel_family = tiled_scores_family;
  static constexpr bool has_lse = false;
  struct row_state {}; // nothing carries over between key tiles

  /// b = -ln(Sk) of each call.
  sigmoid() = default;
  /// A fixed b. Throws std::invalid_argument unless it is finite.
  explicit sigmoid(float bias) : bias_(bias) {
    if (!std::isfinite(bias))
      detail::policy_error("sigmoid", "bias = " + std::to_string(bias) + " must be finite");
  }

  std::optional<float> bias() const noexcept { return bias_; }
  /// The b used for a call with Sk keys.
  float bias_for(std::int64_t key_len) const noexcept {
    return bias_ ? *bias_ : -std::log(static_cast<float>(key_len));
  }

  /// scores[j] = 1 / (1 + 2^-(scores[j] + b) log2(e)), with 2^y saturated at both ends: a hidden score (-inf)
  /// gives 2^y = +inf and exactly 0, a score far above -b gives exactly 1, NaN stays NaN. One FMA, one vector
  /// 2^y (its two clamps included) and one division per score.
  template <class Arch>
  float weigh_row(query_block const& b, row_state&, float* scores, std::int64_t n) const noexcept {
    using batch = simd::float_batch<Arch>;
    constexpr auto w = static_cast<std::int64_t>(simd::width<Arch>);
    batch const minus_log2e(-simd::log2_e), minus_bias_log2e(-bias_for(b.key_len) * simd::log2_e), one(1.0f);
    for (std::int64_t j = 0; j < n; j += w) {
      batch const y = simd::fma(batch::load_unaligned(scores + j), minus_log2e, minus_bias_log2e);
      (one / (one + simd::exp2_saturated<Arch>(y))).store_unaligned(scores + j);
    }
    return 1.0f;
  }

  /// Weights are not normalised: outputs over disjoint keys add.
  merge_factors merge_rows(row_state&, row_state const&) const noexcept { return {1.0f, 1.0f}; }

  template <class Arch>
  row_result finish_row(query_block const&, std::int64_t, row_state const&) const noexcept {
    return {1.0f, std::numeric_limits<float>::quiet_NaN()};
  }

private:
  std::optional<float> bias_;
};

} // namespace attnkit

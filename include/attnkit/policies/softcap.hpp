#pragma once
/// \file
/// The logit softcap of Gemma 2 (and Grok-1): scores squashed smoothly into (-cap, cap).

#include "attnkit/arch/row_map.hpp"
#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/arch/vector_tanh.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"

#include <cmath>
#include <cstdint>
#include <string>

namespace attnkit {

/// s = cap * tanh(s / cap) (SEMANTICS.md). Gemma 2 uses cap = 50 on attention logits. The vector tanh's
/// absolute error (3e-7) becomes at most 3e-7 * cap on the score.
class softcap {
public:
  /// Throws std::invalid_argument unless cap is finite and > 0.
  explicit softcap(float cap) : cap_(cap) {
    if (!(cap > 0.0f) || !std::isfinite(cap))
      detail::policy_error("softcap", "cap = " + std::to_string(cap) + " must be finite and > 0");
  }

  float cap() const noexcept { return cap_; }

  template <class Arch>
  void modify_row(query_block const&, std::int64_t, std::int64_t, float* scores,
                  std::int64_t n) const noexcept {
    // By value: a capture of cap_ through `this` would be reloaded after every store to scores (may alias).
    simd::map_row<Arch>(scores, n,
                        [inverse = 1.0f / cap_, cap = cap_](simd::float_batch<Arch> s, std::int64_t) {
                          return simd::scaled_tanh<Arch>(s, inverse, cap);
                        });
  }

private:
  float cap_;
};

} // namespace attnkit

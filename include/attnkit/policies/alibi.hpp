#pragma once
/// \file
/// ALiBi, attention with linear biases ("Train Short, Test Long", Press et al.).

#include "attnkit/arch/row_map.hpp"
#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attnkit {

/// s = s - slope_h * |p(i) - j|, with one slope per query head: by default 2^(-8 (h + 1) / Hq)
/// (SEMANTICS.md), or the slopes given. Distances are exact in fp32 up to 2^24 keys.
class alibi {
public:
  /// The default slopes, 2^(-8 (h + 1) / Hq) for query head h.
  alibi() = default;

  /// One slope per query head. Throws std::invalid_argument if a slope is not finite.
  explicit alibi(std::vector<float> slopes) : slopes_(std::move(slopes)) {
    for (std::size_t h = 0; h < slopes_.size(); ++h)
      if (!std::isfinite(slopes_[h]))
        detail::policy_error("alibi", "slopes[" + std::to_string(h) + "] = " + std::to_string(slopes_[h]) +
                                          " must be finite");
  }

  /// The slopes given, or empty for the defaults.
  std::vector<float> const& slopes() const noexcept { return slopes_; }

  /// Slope of query head `head` of `q_heads`.
  float slope(std::int64_t head, std::int64_t q_heads) const noexcept {
    if (slopes_.empty())
      return std::exp2(-8.0f * static_cast<float>(head + 1) / static_cast<float>(q_heads));
    return slopes_[static_cast<std::size_t>(head)];
  }

  void validate(call_shape const& s) const {
    if (!slopes_.empty() && static_cast<std::int64_t>(slopes_.size()) != s.q_heads)
      detail::policy_error("alibi", std::to_string(slopes_.size()) +
                                        " slopes given but the call has Hq = " + std::to_string(s.q_heads) +
                                        " query heads (one slope per query head)");
  }

  template <class Arch>
  void modify_row(query_block const& b, std::int64_t row, std::int64_t first_key, float* scores,
                  std::int64_t n) const noexcept {
    using batch = simd::float_batch<Arch>;
    batch const slope(this->slope(b.head, b.q_heads));
    batch const lanes = simd::lane_offsets<Arch>();
    std::int64_t const ahead = b.position(row) - first_key; // p(i) - j for the row's first key
    simd::map_row<Arch>(scores, n, [slope, lanes, ahead](batch s, std::int64_t j) {
      batch const distance = xsimd::abs(batch(static_cast<float>(ahead - j)) - lanes);
      return simd::fnma(slope, distance, s);
    });
  }

private:
  std::vector<float> slopes_;
};

} // namespace attnkit

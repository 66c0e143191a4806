#pragma once
/// \file
/// A bias on the leading keys, per query head: sink calibration such as ZeroTuning's log(gamma) on the
/// first token ("ZeroTuning: Unlocking the Initial Token's Power to Enhance Large Language Models").

#include "attnkit/arch/row_map.hpp"
#include "attnkit/policies/call_shape.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attnkit {

/// s = s + bias_h(j) for the first `keys` keys (later keys get nothing), from a table of `heads` rows
/// (one per query head, or one row for every head). It owns its table and works for any Sk, so a decode
/// loop keeps one functor while the cache grows.
class key_bias {
public:
  /// `values` holds `heads` rows of `keys` biases, row-major. Throws std::invalid_argument if heads or
  /// keys is < 1, the table has another size, or a value is NaN.
  key_bias(std::int64_t heads, std::int64_t keys, std::vector<float> values)
      : heads_(heads), keys_(keys), values_(std::move(values)) {
    if (heads < 1 || keys < 1)
      detail::policy_error("key_bias", "heads = " + std::to_string(heads) +
                                           " and keys = " + std::to_string(keys) + " must both be >= 1");
    if (static_cast<std::int64_t>(values_.size()) != heads * keys)
      detail::policy_error("key_bias", "values has " + std::to_string(values_.size()) +
                                           " entries, not heads * keys = " + std::to_string(heads * keys));
    for (std::size_t t = 0; t < values_.size(); ++t)
      if (std::isnan(values_[t]))
        detail::policy_error("key_bias", "values[" + std::to_string(t) + "] is NaN");
  }

  /// ZeroTuning's calibration: log(gamma_h) added to key 0's score, one value per query head.
  static key_bias first_key(std::vector<float> per_head) {
    auto const heads = static_cast<std::int64_t>(per_head.size());
    return {heads, 1, std::move(per_head)};
  }

  std::int64_t heads() const noexcept { return heads_; }
  std::int64_t keys() const noexcept { return keys_; }
  /// The bias of query head `head` on key `key` (0 past the table).
  float at(std::int64_t head, std::int64_t key) const noexcept {
    return key < keys_ ? values_[static_cast<std::size_t>((heads_ == 1 ? 0 : head) * keys_ + key)] : 0.0f;
  }

  void validate(call_shape const& s) const {
    if (heads_ != 1 && heads_ != s.q_heads)
      detail::policy_error("key_bias", "the table has " + std::to_string(heads_) +
                                           " head rows but the call has Hq = " + std::to_string(s.q_heads) +
                                           " query heads (give 1 row or Hq rows)");
  }

  template <class Arch>
  void modify_row(query_block const& b, std::int64_t, std::int64_t first_key, float* scores,
                  std::int64_t n) const noexcept {
    std::int64_t const covered = std::min(n, keys_ - first_key);
    if (covered > 0)
      simd::add_row<Arch>(scores, values_.data() + (heads_ == 1 ? 0 : b.head) * keys_ + first_key, covered);
  }

private:
  std::int64_t heads_;
  std::int64_t keys_;
  std::vector<float> values_; // [heads_][keys_]
};

} // namespace attnkit

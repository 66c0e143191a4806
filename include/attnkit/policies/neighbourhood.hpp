#pragma once
/// \file
/// 1-D neighbourhood attention (NATTEN; "Neighborhood Attention Transformer", "Faster Neighborhood
/// Attention"): a window centred on the query, shifted inward at the borders.

#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/policy_error.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace attnkit {

/// Query i sees the `window` keys centred on p(i), the window shifted inward at both ends of the keys so
/// that every query sees exactly min(window, Sk) keys (SEMANTICS.md). Unlike a sliding window, a query
/// near a border sees more keys on its far side instead of fewer keys.
class neighbourhood {
public:
  /// Throws std::invalid_argument unless window is odd and >= 1.
  explicit neighbourhood(std::int64_t window) : window_(window) {
    if (window < 1 || window % 2 == 0)
      detail::policy_error("neighbourhood", "window = " + std::to_string(window) + " must be odd and >= 1");
  }

  std::int64_t window() const noexcept { return window_; }

  /// First key the query at `position` sees among `key_len` keys; it sees [first, first + min(W, Sk)).
  std::int64_t first_key(std::int64_t position, std::int64_t key_len) const noexcept {
    return std::clamp<std::int64_t>(position - window_ / 2, 0, std::max<std::int64_t>(0, key_len - window_));
  }
  std::int64_t end_key(std::int64_t position, std::int64_t key_len) const noexcept {
    return first_key(position, key_len) + std::min(window_, key_len);
  }

  // first_key and end_key never decrease with the position, so a block's first and last rows bound it.
  key_range next_keys(query_block const& b, std::int64_t from) const noexcept {
    return {std::max(from, first_key(b.first_position(), b.key_len)), end_key(b.last_position(), b.key_len)};
  }

  tile_kind classify(query_block const& b, key_range t) const noexcept {
    if (t.end <= first_key(b.first_position(), b.key_len) || t.begin >= end_key(b.last_position(), b.key_len))
      return tile_kind::empty;
    if (t.begin >= first_key(b.last_position(), b.key_len) && t.end <= end_key(b.first_position(), b.key_len))
      return tile_kind::full;
    return tile_kind::partial;
  }

  bool visible(query_block const& b, std::int64_t row, std::int64_t key) const noexcept {
    std::int64_t const p = b.position(row);
    return key >= first_key(p, b.key_len) && key < end_key(p, b.key_len);
  }

  template <class Arch>
  void hide_row(query_block const& b, std::int64_t row, std::int64_t first, float* scores,
                std::int64_t n) const noexcept {
    std::int64_t const p = b.position(row);
    hide_keys_outside({first_key(p, b.key_len), end_key(p, b.key_len)}, first, scores, n);
  }

private:
  std::int64_t window_;
};

} // namespace attnkit

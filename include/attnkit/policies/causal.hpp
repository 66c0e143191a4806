#pragma once
/// \file
/// The causal mask: a query sees its own position and every key before it.

#include "attnkit/policies/hide_keys.hpp"
#include "attnkit/policies/query_block.hpp"

#include <algorithm>
#include <cstdint>

namespace attnkit {

/// Key j is visible to query row i iff j <= p(i) (SEMANTICS.md). The alignment that defines p(i) is an
/// `attention_options` setting, so the same mask serves prefill (top-left or Sq == Sk) and decode.
struct causal {
  constexpr key_range next_keys(query_block const& block, std::int64_t from) const noexcept {
    return {from, std::clamp<std::int64_t>(block.last_position() + 1, 0, block.key_len)};
  }

  constexpr tile_kind classify(query_block const& block, key_range tile) const noexcept {
    if (tile.begin > block.last_position())
      return tile_kind::empty;
    if (tile.end - 1 <= block.first_position())
      return tile_kind::full;
    return tile_kind::partial;
  }

  constexpr bool visible(query_block const& block, std::int64_t row, std::int64_t key) const noexcept {
    return key <= block.position(row);
  }

  template <class Arch>
  void hide_row(query_block const& block, std::int64_t row, std::int64_t first_key, float* scores,
                std::int64_t n) const noexcept {
    hide_keys_outside({first_key, block.position(row) + 1}, first_key, scores, n);
  }
};

} // namespace attnkit

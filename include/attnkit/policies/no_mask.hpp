#pragma once
/// \file
/// The mask that hides nothing.

#include "attnkit/policies/query_block.hpp"

#include <cstdint>

namespace attnkit {

/// Every key is visible to every query.
struct no_mask {
  constexpr key_range next_keys(query_block const& block, std::int64_t from) const noexcept {
    return {from, block.key_len};
  }
  constexpr tile_kind classify(query_block const&, key_range) const noexcept { return tile_kind::full; }
  constexpr bool visible(query_block const&, std::int64_t, std::int64_t) const noexcept { return true; }
  template <class Arch>
  constexpr void hide_row(query_block const&, std::int64_t, std::int64_t, float*,
                          std::int64_t) const noexcept {}
};

} // namespace attnkit

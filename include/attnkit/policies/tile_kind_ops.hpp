#pragma once
/// \file
/// How the classifications of two masks combine when their visibilities are intersected or united.

#include "attnkit/policies/query_block.hpp"

namespace attnkit {

/// A tile under "visible if both": empty if either is, full only if both are.
constexpr tile_kind intersect_kinds(tile_kind a, tile_kind b) noexcept {
  if (a == tile_kind::empty || b == tile_kind::empty)
    return tile_kind::empty;
  return a == tile_kind::full && b == tile_kind::full ? tile_kind::full : tile_kind::partial;
}

/// A tile under "visible if either": full if either is, empty only if both are.
constexpr tile_kind unite_kinds(tile_kind a, tile_kind b) noexcept {
  if (a == tile_kind::full || b == tile_kind::full)
    return tile_kind::full;
  return a == tile_kind::empty && b == tile_kind::empty ? tile_kind::empty : tile_kind::partial;
}

} // namespace attnkit

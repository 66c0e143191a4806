#pragma once
/// \file
/// Tile sizes of the fused kernel, chosen from the cache sizes.

#include "attnkit/arch/register_blocking.hpp"

#include <algorithm>
#include <cstdint>

namespace attnkit::detail {

inline constexpr std::int64_t round_up(std::int64_t x, std::int64_t multiple) noexcept {
  return (x + multiple - 1) / multiple * multiple;
}

/// Packed K/V kept in flight at once: half of the 32 MiB L3, so that a chunk of KV heads packed just
/// before use is still in L3 when its query blocks read it (and memory stays bounded for big batches).
inline constexpr std::int64_t packing_budget_floats = (std::int64_t{16} << 20) / 4;

/// Query rows of a block never exceed this (64 rows, whatever the register block).
inline constexpr std::int64_t max_tile_rows = 64;

/// A query block of `rows` rows meets key tiles of `cols` keys; `v_cols` is Dv padded for the micro-kernel.
struct tile_shape {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t v_cols = 0;
};

template <class Arch>
tile_shape choose_tile_shape(std::int64_t q_len, std::int64_t qk_dim, std::int64_t v_dim) noexcept {
  using blocking = simd::register_blocking<Arch>;
  constexpr auto mr = static_cast<std::int64_t>(blocking::rows);
  constexpr auto nr = static_cast<std::int64_t>(blocking::columns);
  // Rows: 64 query rows make each packed key tile serve 64 x D FMAs per element loaded; the block's
  // Q (64 x D), scores (64 x cols) and output (64 x Dv) together stay under 200 KiB of the 1 MiB L2.
  std::int64_t const rows =
      std::min<std::int64_t>(max_tile_rows / mr * mr, round_up(std::max<std::int64_t>(q_len, 1), mr));
  // Columns: one K^T panel (D x nr floats) of the score product and one V panel (cols x nr) of the
  // output product should fit the 32 KiB L1 with room for the broadcast operands.
  std::int64_t const v_cols = round_up(v_dim, nr);
  std::int64_t cols = 128;
  if (qk_dim > 128)
    cols = 64;
  return {rows, round_up(cols, nr), v_cols};
}

} // namespace attnkit::detail

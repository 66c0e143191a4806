#pragma once
/// \file
/// Tile sizes of the fused kernel, chosen from the cache sizes of the CPU the program runs on.

#include "attnkit/arch/register_blocking.hpp"
#include "attnkit/kernels/cache_sizes.hpp"

#include <algorithm>
#include <cstdint>

namespace attnkit::detail {

inline constexpr std::int64_t round_up(std::int64_t x, std::int64_t multiple) noexcept {
  return (x + multiple - 1) / multiple * multiple;
}

/// Packed K/V kept in flight at once: half the L3, at most 16 MiB, so that a chunk of KV heads packed just
/// before use is still in L3 when its query blocks read it (and memory stays bounded for big batches).
inline std::int64_t packing_budget_floats() {
  std::int64_t const bytes = std::clamp<std::int64_t>(host_cache_sizes().l3 / 2, 2 << 20, 16 << 20);
  return bytes / static_cast<std::int64_t>(sizeof(float));
}

/// Query rows of a block never exceed this (64 rows, whatever the register block).
inline constexpr std::int64_t max_tile_rows = 64;

/// A query block of `rows` rows meets key tiles of `cols` keys; `v_cols` is Dv padded for the micro-kernel.
struct tile_shape {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t v_cols = 0;
};

/// Tiles for a core with `l2_bytes` of L2. Rows: 64 query rows (whole register blocks) make each packed key
/// tile serve 64 x D FMAs per element loaded. Columns: the most keys, of 256, 128 or 64, whose working set
/// (the block's Q, scores and output, plus the packed K and V tiles) fits three quarters of the L2, the
/// rest being left to the other cache users. Longer tiles amortise each row's max, rescale and reductions
/// over more keys: 256 keys at D = 128 on Zen 3 (512 KiB L2) ran 1-4 % faster than 128, once the packed
/// panels were contiguous (with tile-wide rows it had been slower).
template <class Arch>
tile_shape choose_tile_shape(std::int64_t q_len, std::int64_t qk_dim, std::int64_t v_dim,
                             std::int64_t l2_bytes) noexcept {
  using blocking = simd::register_blocking<Arch>;
  constexpr auto mr = static_cast<std::int64_t>(blocking::rows);
  constexpr auto nr = static_cast<std::int64_t>(blocking::columns);
  std::int64_t const rows =
      std::min<std::int64_t>(max_tile_rows / mr * mr, round_up(std::max<std::int64_t>(q_len, 1), mr));
  std::int64_t const v_cols = round_up(v_dim, nr);
  auto const footprint_bytes = [&](std::int64_t cols) {
    return static_cast<std::int64_t>(sizeof(float)) *
           (rows * (qk_dim + cols + v_cols) + cols * (qk_dim + v_cols));
  };
  std::int64_t cols = 256;
  while (cols > 64 && footprint_bytes(cols) > l2_bytes * 3 / 4)
    cols /= 2;
  return {rows, round_up(cols, nr), v_cols};
}

/// Tiles for the CPU the program runs on.
template <class Arch>
tile_shape choose_tile_shape(std::int64_t q_len, std::int64_t qk_dim, std::int64_t v_dim) {
  return choose_tile_shape<Arch>(q_len, qk_dim, v_dim, host_cache_sizes().l2);
}

} // namespace attnkit::detail

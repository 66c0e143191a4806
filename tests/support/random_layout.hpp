#pragma once
// Random block-sparse layouts for tests, built straight as CSR arrays (not through the library's helpers).

#include <attnkit/policies/block_layout.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace attnkit::test {

/// Each (list, key block) is listed with probability `density`; a listed block is full with probability
/// `full_share`, otherwise partial.
inline block_layout random_layout(block_grid const& grid, double density, double full_share,
                                  std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> blocks;
  std::vector<tile_kind> kinds;
  for (std::int64_t r = 0; r < grid.lists(); ++r) {
    for (std::int64_t kb = 0; kb < grid.key_blocks(); ++kb)
      if (u(gen) < density) {
        blocks.push_back(static_cast<std::int32_t>(kb));
        kinds.push_back(u(gen) < full_share ? tile_kind::full : tile_kind::partial);
      }
    offsets.push_back(static_cast<std::int64_t>(blocks.size()));
  }
  return {grid, offsets, blocks, kinds};
}

} // namespace attnkit::test

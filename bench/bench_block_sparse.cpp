/// \file
/// BM_BlockSparse: a random block-sparse layout (blocks of 64 x 64, non-causal) at a given density, in the
/// spirit of FlexAttention's BlockMask benchmarks. The dense baseline is BM_Softmax/N:8192/D:128/causal:0.
/// FLOP/s counts the listed pairs only.

#include "time_attention.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace attnkit_bench {
namespace {

/// Every query block lists exactly round(density * key blocks) key blocks, drawn at random (the same
/// layout for every head), all full.
attnkit::block_layout random_layout(std::int64_t n, std::int64_t block, double density) {
  attnkit::block_grid const grid{.q_len = n, .key_len = n, .q_block = block, .key_block = block};
  auto const per_list = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(density * static_cast<double>(grid.key_blocks()) + 0.5));
  std::mt19937 gen(7);
  std::vector<std::int32_t> all(static_cast<std::size_t>(grid.key_blocks()));
  std::iota(all.begin(), all.end(), 0);
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> blocks;
  for (std::int64_t qb = 0; qb < grid.q_blocks(); ++qb) {
    std::shuffle(all.begin(), all.end(), gen);
    std::vector<std::int32_t> chosen(all.begin(), all.begin() + per_list);
    std::sort(chosen.begin(), chosen.end());
    blocks.insert(blocks.end(), chosen.begin(), chosen.end());
    offsets.push_back(static_cast<std::int64_t>(blocks.size()));
  }
  std::vector<attnkit::tile_kind> kinds(blocks.size(), attnkit::tile_kind::full);
  return {grid, offsets, blocks, kinds};
}

void BM_BlockSparse(benchmark::State& state) {
  attention_case const c{
      .n = state.range(0), .d = state.range(1), .causal = false, .threads = static_cast<int>(state.range(3))};
  constexpr std::int64_t block = 64;
  attnkit::block_layout const layout = random_layout(c.n, block, static_cast<double>(state.range(2)) / 100.0);
  attnkit::attention<attnkit::softmax, attnkit::block_sparse<>> const attn({}, {},
                                                                           attnkit::block_sparse<>(layout));
  // Every listed block is whole (N is a multiple of the block): block^2 pairs each.
  double const pairs = static_cast<double>(layout.listed_blocks()) * block * block;
  time_attention(state, c, attn, 4.0 * pairs * static_cast<double>(c.d * heads * batch));
  state.counters["density_measured"] = pairs / (static_cast<double>(c.n) * static_cast<double>(c.n));
}

BENCHMARK(BM_BlockSparse)
    ->ArgNames({"N", "D", "density_pct", "threads"})
    ->ArgsProduct({{8192}, {128}, {50, 25, 10, 5}, {2}})
    ->Unit(benchmark::kMillisecond);

} // namespace
} // namespace attnkit_bench

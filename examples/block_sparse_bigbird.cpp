// A BigBird pattern ("Big Bird: Transformers for Longer Sequences") as a block-sparse layout: each block
// of 64 queries sees its own and the neighbouring key blocks, one global block (the first), and two random
// blocks. The layout is data, built once from a boolean block matrix and reused for every call (like
// FlexAttention's BlockMask); the kernel visits listed blocks only.
//
// With q = 0 each output is the mean of the values the query sees; with v_j = j that is the mean index
// of the visible keys, which this example recomputes from the layout itself.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const heads = 2, seq = 2048, dim = 64, block = 64;
  attnkit::block_grid const grid{.q_len = seq, .key_len = seq, .q_block = block, .key_block = block};
  std::int64_t const blocks = grid.q_blocks(); // 32 x 32 blocks, one layout shared by every head

  std::vector<std::uint8_t> visible(std::size_t(blocks * blocks), 0);
  std::mt19937 gen(1);
  for (std::int64_t qb = 0; qb < blocks; ++qb) {
    auto show = [&](std::int64_t kb) {
      if (kb >= 0 && kb < blocks)
        visible[std::size_t(qb * blocks + kb)] = 1;
    };
    show(qb - 1), show(qb), show(qb + 1);                                   // sliding window of blocks
    show(0);                                                                // global block
    show(std::int64_t(gen() % blocks)), show(std::int64_t(gen() % blocks)); // random blocks
  }
  attnkit::block_layout const layout = attnkit::block_layout::from_block_matrix(grid, visible);
  std::printf("%lld of %lld blocks listed (%.1f%% dense)\n", (long long)layout.listed_blocks(),
              (long long)(blocks * blocks), 100.0 * double(layout.listed_blocks()) / double(blocks * blocks));

  std::vector<float> q(std::size_t(heads) * seq * dim, 0.0f), k(q.size(), 1.0f), v(q.size()), o(q.size());
  for (std::size_t t = 0; t < v.size(); ++t)
    v[t] = float(t / dim % seq); // v_j = j
  attnkit::attention<attnkit::softmax, attnkit::block_sparse<>> const attn({}, {},
                                                                           attnkit::block_sparse<>(layout));
  attn(attnkit::bhsd(q.data(), 1, heads, seq, dim), attnkit::bhsd(k.data(), 1, heads, seq, dim),
       attnkit::bhsd(v.data(), 1, heads, seq, dim), attnkit::bhsd(o.data(), 1, heads, seq, dim));

  int wrong = 0;
  for (int i : {0, 700, 2047}) {
    double sum = 0, count = 0;
    for (std::int32_t kb : layout.key_blocks(0, 0, i / block))
      for (int j = kb * block; j < (kb + 1) * block; ++j)
        sum += j, count += 1;
    double const want = sum / count, got = o[std::size_t(i) * dim];
    std::printf("query %4d sees %3.0f keys: output %8.2f, expected %8.2f\n", i, count, got, want);
    wrong += std::fabs(got - want) > 1e-3 * (1.0 + want);
  }
  return wrong;
}

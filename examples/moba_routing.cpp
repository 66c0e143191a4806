// MoBA ("MoBA: Mixture of Block Attention for Long-Context LLMs"): each query attends to its own key block
// (causally) and to the top-k - 1 earlier blocks whose mean key scores highest against it. The router is
// a pre-pass that returns a block layout with one list per query, so you can inspect every choice; the
// attention is then the block-sparse mask with causal inside the partial (own) blocks.
//
// Here the mean of key block c along dimension 0 is c, so a query pointing along +dim 0 picks the latest
// earlier blocks and one pointing along -dim 0 picks the first ones.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const seq = 4096, dim = 64;
  attnkit::moba_options const options{.key_block = 512, .top_k = 3, .causal = true};
  std::vector<float> q(std::size_t(seq) * dim, 0.0f), k(q.size(), 0.0f), v(q.size(), 1.0f), o(q.size());
  for (int j = 0; j < seq; ++j)
    k[std::size_t(j) * dim] = float(j / options.key_block); // block c's mean key is c along dim 0
  for (int i = 0; i < seq; ++i)
    q[std::size_t(i) * dim] = i % 2 == 0 ? 1.0f : -1.0f; // even queries look forward, odd ones back

  auto const qv = attnkit::bhsd(q.data(), 1, 1, seq, dim), kv = attnkit::bhsd(k.data(), 1, 1, seq, dim);
  attnkit::block_layout const routes = attnkit::moba_route(qv, kv, options);

  int wrong = 0;
  for (int i : {100, 3000, 3001}) {
    auto const chosen = routes.key_blocks(0, 0, i); // increasing; the last one is the query's own block
    std::int32_t const own = i / 512;
    std::vector<std::int32_t> const want = own == 0     ? std::vector<std::int32_t>{0}
                                           : i % 2 == 0 ? std::vector<std::int32_t>{own - 2, own - 1, own}
                                                        : std::vector<std::int32_t>{0, 1, own};
    std::printf("query %4d chose blocks", i);
    for (std::int32_t c : chosen)
      std::printf(" %d", c);
    std::printf("\n");
    wrong += std::vector<std::int32_t>(chosen.begin(), chosen.end()) != want;
  }

  attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>> const attn(
      {}, {}, attnkit::block_sparse<attnkit::causal>(routes));
  attn(qv, kv, attnkit::bhsd(v.data(), 1, 1, seq, dim), attnkit::bhsd(o.data(), 1, 1, seq, dim));
  // Every value is 1, so every output is 1, up to fp32 rounding of a sum over up to 1536 weights.
  for (float x : o)
    wrong += std::fabs(x - 1.0f) > 2e-4f;
  std::printf("outputs all 1: %s\n", wrong == 0 ? "yes" : "no");
  return wrong;
}

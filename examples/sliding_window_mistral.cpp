// Sliding-window attention as in Mistral 7B ("Mistral 7B", Jiang et al. 2023; Longformer's local attention):
// each query sees its own key and the W - 1 keys before it, so the cost grows as N * W instead of N^2.
//
// With q = 0 every visible score is equal, so each output is the plain average of the values the query
// sees: with v_j = j, query i gets the mean of max(0, i - W + 1) .. i. That makes the window visible.
#include <attnkit/attnkit.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const q_heads = 8, kv_heads = 2, seq = 2048, dim = 64, window = 256; // GQA: 4 query heads per KV head
  std::vector<float> q(std::size_t(q_heads) * seq * dim, 0.0f), k(std::size_t(kv_heads) * seq * dim, 0.5f);
  std::vector<float> v(k.size()), o(q.size());
  for (int h = 0; h < kv_heads; ++h)
    for (int j = 0; j < seq; ++j)
      std::fill_n(v.begin() + (std::size_t(h) * seq + j) * dim, dim, float(j)); // v_j = j in every dim

  // The mask's numbers are data: sliding_window::causal(W) is left = W - 1, right = 0.
  attnkit::attention<attnkit::softmax, attnkit::sliding_window> const attn(
      {}, {}, attnkit::sliding_window::causal(window));
  attn(attnkit::bhsd(q.data(), 1, q_heads, seq, dim), attnkit::bhsd(k.data(), 1, kv_heads, seq, dim),
       attnkit::bhsd(v.data(), 1, kv_heads, seq, dim), attnkit::bhsd(o.data(), 1, q_heads, seq, dim));

  int wrong = 0;
  for (int i : {0, 100, 255, 256, 2047}) {
    float const want = 0.5f * float(std::max(0, i - window + 1) + i);
    float const got = o[std::size_t(i) * dim]; // head 0, query i, dim 0
    std::printf("query %4d: output %7.2f, mean of its window %7.2f\n", i, got, want);
    wrong += std::fabs(got - want) > 1e-3f * (1.0f + want);
  }
  return wrong;
}

// Softmax with learned attention sinks, the gpt-oss pattern ("gpt-oss-120b & gpt-oss-20b Model Card";
// "Efficient Streaming Language Models with Attention Sinks"): each query head h has a trained logit
// sigma_h that joins the softmax denominator and has no value, so a head can put weight "nowhere":
//     w_ij = exp(s_ij) / (exp(sigma_h) + sum_j exp(s_ij)).
// gpt-oss uses it with a causal sliding window of 128 keys and grouped-query attention, as here.
// attnkit::softmax1 is the case sigma_h = 0 for every head ("Attention Is Off By One").
//
// With q = 0 every score is 0; query i sees n = min(i + 1, 128) keys, so with v = 1 its output is
// n / (exp(sigma_h) + n) and its log-sum-exp log(exp(sigma_h) + n).
#include <attnkit/attnkit.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const q_heads = 8, kv_heads = 2, seq = 512, dim = 64, window = 128;
  std::vector<float> q(std::size_t(q_heads) * seq * dim, 0.0f), o(q.size()), lse(std::size_t(q_heads) * seq);
  std::vector<float> k(std::size_t(kv_heads) * seq * dim, 0.5f), v(k.size(), 1.0f);
  std::vector<float> const sinks{-2.0f, -1.0f, 0.0f, 0.5f,
                                 1.0f,  2.0f,  3.0f, 4.0f}; // learned, one per query head

  attnkit::attention<attnkit::softmax_sinks, attnkit::sliding_window> const attn(
      {}, attnkit::softmax_sinks(sinks), attnkit::sliding_window::causal(window));
  attn(attnkit::bhsd(q.data(), 1, q_heads, seq, dim), attnkit::bhsd(k.data(), 1, kv_heads, seq, dim),
       attnkit::bhsd(v.data(), 1, kv_heads, seq, dim), attnkit::bhsd(o.data(), 1, q_heads, seq, dim),
       attnkit::bhs(lse.data(), 1, q_heads, seq));

  int wrong = 0;
  for (int h : {0, 7})
    for (int i : {0, 511}) {
      float const n = float(std::min(i + 1, window)), sink = std::exp(sinks[std::size_t(h)]);
      std::size_t const row = std::size_t(h) * seq + std::size_t(i);
      float const got = o[row * dim], want = n / (sink + n);
      std::printf("head %d query %3d: output %.6f (expected %.6f), lse %.5f (expected %.5f)\n", h, i, got,
                  want, lse[row], std::log(sink + n));
      wrong += std::fabs(got - want) > 1e-5f || std::fabs(lse[row] - std::log(sink + n)) > 1e-5f;
    }
  return wrong;
}

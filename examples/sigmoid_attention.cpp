// Sigmoid attention ("Theory, Analysis, and Best Practices for Sigmoid Self-Attention", Apple's
// FlashSigmoid): each weight is sigmoid(score + b) on its own, with b = -ln(Sk) by default, so there is
// no running max, no row sum and no log-sum-exp. It composes with any mask; here, causal.
//
// With q = 0 every score is 0 and every weight is sigmoid(-ln Sk) = 1 / (1 + Sk); with v = 1, query i
// (which sees i + 1 keys) gets (i + 1) / (1 + Sk): the weights are not normalised.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const heads = 4, seq = 1000, dim = 64;
  std::vector<float> q(std::size_t(heads) * seq * dim, 0.0f), k(q.size(), 0.5f), v(q.size(), 1.0f),
      o(q.size());

  attnkit::attention<attnkit::sigmoid, attnkit::causal> const
      attn; // b = -ln(Sk); attnkit::sigmoid(b) fixes it
  attn(attnkit::bhsd(q.data(), 1, heads, seq, dim), attnkit::bhsd(k.data(), 1, heads, seq, dim),
       attnkit::bhsd(v.data(), 1, heads, seq, dim), attnkit::bhsd(o.data(), 1, heads, seq, dim));

  int wrong = 0;
  for (int i : {0, 499, 999}) {
    float const want = float(i + 1) / float(1 + seq), got = o[std::size_t(i) * dim];
    std::printf("query %3d: output %.6f, expected %.6f\n", i, got, want);
    wrong += std::fabs(got - want) > 1e-4f; // fp32 sum of up to 1000 weights: n * 2^-24 < 1e-4
  }
  return wrong;
}

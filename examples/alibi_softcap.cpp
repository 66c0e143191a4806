// Score modifiers stacked on one kernel: ALiBi ("Train Short, Test Long: Attention with Linear Biases",
// Press et al. 2022) subtracts slope_h * distance from each score, and Gemma 2's logit softcap
// ("Gemma 2", 2024) squashes scores into (-cap, cap). They run in the order listed: softcap first here.
//
// The check: one decode query at the last position; key 0 matches it with a score of 200, every other key
// scores 0. The softcap brings 200 down to about 50, and ALiBi then charges key 0 slope_h * 511 for its
// distance: steep heads (large slopes) ignore it, shallow heads still pick it.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const heads = 8, seq = 512, dim = 16;
  std::vector<float> q(std::size_t(heads) * dim, 0.0f), k(std::size_t(heads) * seq * dim, 0.0f);
  std::vector<float> v(k.size(), 0.0f), o(q.size());
  for (int h = 0; h < heads; ++h) {
    q[std::size_t(h) * dim] = 1.0f;
    float* k0 = &k[std::size_t(h) * seq * dim];
    k0[0] = 200.0f;                       // key 0 matches the query strongly
    v[std::size_t(h) * seq * dim] = 1.0f; // v_0 = 1, every other value 0
  }

  using modified = attnkit::attention<attnkit::softmax, attnkit::causal, attnkit::softcap, attnkit::alibi>;
  modified const attn({.scale = 1.0f}, {}, {}, attnkit::softcap(50.0f), attnkit::alibi{}); // default slopes
  attn(attnkit::bhsd(q.data(), 1, heads, 1, dim), attnkit::bhsd(k.data(), 1, heads, seq, dim),
       attnkit::bhsd(v.data(), 1, heads, seq, dim), attnkit::bhsd(o.data(), 1, heads, 1, dim));

  // Head h: key 0 scores about 50 - slope_h * 511, the other keys -slope_h * distance; o = weight of key 0.
  int wrong = 0;
  for (int h = 0; h < heads; ++h) {
    double const slope = std::pow(2.0, -8.0 * (h + 1) / heads),
                 far = 50.0 * std::tanh(200.0 / 50.0) - slope * 511;
    double sum = std::exp(far);
    for (int j = 1; j < seq; ++j)
      sum += std::exp(-slope * (seq - 1 - j));
    double const want = std::exp(far) / sum;
    std::printf("head %d: slope %.4f, weight of the far key %.6f (expected %.6f)\n", h, slope,
                o[std::size_t(h) * dim], want);
    wrong += std::fabs(o[std::size_t(h) * dim] - want) > 1e-4;
  }
  return wrong;
}

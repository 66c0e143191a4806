// Sink calibration without training, as in ZeroTuning ("ZeroTuning: Unlocking the Initial Token's Power to
// Enhance Large Language Models Without Training", 2025): scaling the attention paid to the first token by
// gamma_h is a bias of log(gamma_h) on that token's score, one value per head. key_bias holds the table
// and works for any sequence length, so one functor serves a growing cache.
//
// With q = 0 all scores are equal; a bias of log(gamma) on key 0 gives it weight gamma / (gamma + n - 1).
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const heads = 4, seq = 100, dim = 8;
  std::vector<float> const gamma{1.0f, 2.0f, 0.5f, 10.0f}; // per head: >1 draws attention to the sink
  std::vector<float> log_gamma;
  for (float g : gamma)
    log_gamma.push_back(std::log(g));

  std::vector<float> q(std::size_t(heads) * dim, 0.0f), k(std::size_t(heads) * seq * dim, 0.0f);
  std::vector<float> v(k.size(), 0.0f), o(q.size());
  for (int h = 0; h < heads; ++h)
    v[std::size_t(h) * seq * dim] = 1.0f; // v_0 = 1: the output is key 0's weight

  attnkit::attention<attnkit::softmax, attnkit::causal, attnkit::key_bias> const attn(
      {}, {}, {}, attnkit::key_bias::first_key(log_gamma));
  attn(attnkit::bhsd(q.data(), 1, heads, 1, dim), attnkit::bhsd(k.data(), 1, heads, seq, dim),
       attnkit::bhsd(v.data(), 1, heads, seq, dim), attnkit::bhsd(o.data(), 1, heads, 1, dim));

  int wrong = 0;
  for (int h = 0; h < heads; ++h) {
    float const want = gamma[std::size_t(h)] / (gamma[std::size_t(h)] + seq - 1),
                got = o[std::size_t(h) * dim];
    std::printf("head %d: gamma %5.2f, weight of the first token %.5f (expected %.5f)\n", h,
                gamma[std::size_t(h)], got, want);
    wrong += std::fabs(got - want) > 1e-5f;
  }
  return wrong;
}

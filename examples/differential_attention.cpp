// Differential attention ("Differential Transformer", Ye et al. 2024) with grouped heads ("Grouped
// Differential Attention", Lim et al. 2025): a signal map minus lambda times a noise map over the same
// values, which cancels the attention both maps give to irrelevant context:
//     o_h = softmax(q1_h k1^T / sqrt(d)) v - lambda * softmax(q2_g k2^T / sqrt(d)) v,   g = h / (Hs / Hn)
// GDA gives the signal more heads than the noise (3:1 here); each noise head serves 3 signal heads, like
// GQA's shared K/V heads, and attnkit computes it once. With Hn = Hs it is the Differential Transformer.
// The layout is an inference engine's [batch, seq, heads, dim] (attnkit::bshd), causal as in a decoder.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const seq = 256, signal_heads = 6, noise_heads = 2, kv_heads = 2, dim = 64, v_dim = 128, layer = 3;
  std::mt19937 gen(7);
  std::normal_distribution<float> normal;
  auto random = [&](std::size_t n) {
    std::vector<float> x(n);
    for (float& e : x)
      e = normal(gen);
    return x;
  };
  std::vector<float> const q1 = random(std::size_t(seq) * signal_heads * dim),
                           q2 = random(std::size_t(seq) * noise_heads * dim),
                           k1 = random(std::size_t(seq) * kv_heads * dim), k2 = random(k1.size()),
                           v = random(std::size_t(seq) * kv_heads * v_dim);
  std::vector<float> o(std::size_t(seq) * signal_heads * v_dim);

  // The paper's re-parameterised lambda: exp(lq1 . lk1) - exp(lq2 . lk2) + lambda_init, with
  // lambda_init = 0.8 - 0.6 exp(-0.3 (layer - 1)); the four vectors are learned (random here).
  std::vector<float> const lq1 = random(dim), lk1 = random(dim), lq2 = random(dim), lk2 = random(dim);
  double dot1 = 0, dot2 = 0;
  for (int d = 0; d < dim; ++d) {
    dot1 += 0.01 * lq1[std::size_t(d)] * lk1[std::size_t(d)];
    dot2 += 0.01 * lq2[std::size_t(d)] * lk2[std::size_t(d)];
  }
  float const lambda_init = float(0.8 - 0.6 * std::exp(-0.3 * (layer - 1)));
  std::vector<float> const lambda{float(std::exp(dot1) - std::exp(dot2)) + lambda_init}; // one for all heads

  attnkit::attention<attnkit::softmax, attnkit::causal> const attn; // scale 1 / sqrt(64)
  attnkit::differential_attention(
      attn, attnkit::bshd(q1.data(), 1, seq, signal_heads, dim),
      attnkit::bshd(k1.data(), 1, seq, kv_heads, dim), attnkit::bshd(q2.data(), 1, seq, noise_heads, dim),
      attnkit::bshd(k2.data(), 1, seq, kv_heads, dim), attnkit::bshd(v.data(), 1, seq, kv_heads, v_dim),
      lambda, attnkit::bshd(o.data(), 1, seq, signal_heads, v_dim));
  // The model then normalises each head (RMSNorm) and scales by (1 - lambda_init); that part is yours.

  // What it computed, spelled out with two plain calls for signal head 5 (noise head 5 / 3 = 1).
  std::vector<float> signal(std::size_t(seq) * signal_heads * v_dim),
      noise(std::size_t(seq) * noise_heads * v_dim);
  attn(attnkit::bshd(q1.data(), 1, seq, signal_heads, dim), attnkit::bshd(k1.data(), 1, seq, kv_heads, dim),
       attnkit::bshd(v.data(), 1, seq, kv_heads, v_dim),
       attnkit::bshd(signal.data(), 1, seq, signal_heads, v_dim));
  attn(attnkit::bshd(q2.data(), 1, seq, noise_heads, dim), attnkit::bshd(k2.data(), 1, seq, kv_heads, dim),
       attnkit::bshd(v.data(), 1, seq, kv_heads, v_dim),
       attnkit::bshd(noise.data(), 1, seq, noise_heads, v_dim));
  int wrong = 0;
  for (int i : {0, 100, 255}) {
    std::size_t const at = (std::size_t(i) * signal_heads + 5) * v_dim,
                      noise_at = (std::size_t(i) * noise_heads + 1) * v_dim;
    float const want = signal[at] - lambda[0] * noise[noise_at];
    std::printf("query %3d, head 5: %+.6f = %+.6f - %.4f * %+.6f\n", i, o[at], signal[at], lambda[0],
                noise[noise_at]);
    wrong += std::fabs(o[at] - want) > 1e-6f;
  }
  return wrong;
}

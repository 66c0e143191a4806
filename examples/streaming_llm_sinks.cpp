// StreamingLLM ("Efficient Streaming Language Models with Attention Sinks", Xiao et al. 2024): keep the
// first few tokens (attention sinks) plus a window of recent ones, and a model runs far past its training
// length with constant work per token. Here: one decode step, 4 sinks + a window of 1020, against a
// 100k-token history, in a [batch, seq, heads, dim] cache; only the sinks and the window are computed.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const q_heads = 8, kv_heads = 2, history = 100000, dim = 64;
  int const sinks = 4, window = 1020;
  std::mt19937 gen(1);
  std::normal_distribution<float> normal;
  auto random_buffer = [&](std::size_t n) {
    std::vector<float> x(n);
    for (float& e : x)
      e = normal(gen);
    return x;
  };
  auto const q = random_buffer(std::size_t(q_heads) * dim);            // [1, 1, 8, 64]: the new token
  auto const k = random_buffer(std::size_t(history) * kv_heads * dim); // [1, 100000, 2, 64]
  auto const v = random_buffer(k.size());
  std::vector<float> o(q.size()), lse(q_heads);

  // The new query sits at the last position (bottom-right alignment, the default).
  attnkit::attention<attnkit::softmax, attnkit::sink_window> const attn(
      {}, {}, attnkit::sink_window::causal(sinks, window));
  attn(attnkit::bshd(q.data(), 1, 1, q_heads, dim), attnkit::bshd(k.data(), 1, history, kv_heads, dim),
       attnkit::bshd(v.data(), 1, history, kv_heads, dim), attnkit::bshd(o.data(), 1, 1, q_heads, dim),
       attnkit::bhs(lse.data(), 1, q_heads, 1));

  // Random scores of order 1 over sinks + window keys: the LSE is close to log(sinks + window).
  std::printf("head 0: o[0] = %.4f, lse = %.3f, log(%d visible keys) = %.3f\n", o[0], lse[0], sinks + window,
              std::log(float(sinks + window)));
  return std::isfinite(lse[0]) && std::fabs(lse[0] - std::log(float(sinks + window))) < 2.0f ? 0 : 1;
}

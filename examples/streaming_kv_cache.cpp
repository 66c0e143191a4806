// StreamingLLM ("Efficient Streaming Language Models with Attention Sinks", Xiao et al. 2024) with its
// cache: keep the first tokens (the attention sinks) and a ring of the most recent ones, so memory and
// time per token stay constant however long the generation runs. Positions stay absolute, so a causal
// mask and ALiBi see true distances. Here: 5000 generated tokens through a cache of 4 sinks + 252 recent.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const q_heads = 8, kv_heads = 2, dim = 32, sinks = 4, window = 252, generated = 5000;
  std::mt19937 gen(3);
  std::normal_distribution<float> normal;
  auto random_buffer = [&](std::size_t n) {
    std::vector<float> x(n);
    for (float& e : x)
      e = normal(gen);
    return x;
  };

  attnkit::streaming_kv_cache cache(/*batch=*/1, kv_heads, sinks, window, dim, dim);
  // ALiBi ("Train Short, Test Long") needs true distances: the cache keeps each token's position.
  attnkit::attention<attnkit::softmax, attnkit::causal, attnkit::alibi> const attn;
  std::vector<float> o(std::size_t(q_heads) * dim), lse(q_heads);
  for (int t = 0; t < generated; ++t) {
    auto const k = random_buffer(std::size_t(kv_heads) * dim), v = random_buffer(k.size());
    auto const q = random_buffer(std::size_t(q_heads) * dim);
    cache.append(attnkit::bshd(k.data(), 1, 1, kv_heads, dim), attnkit::bshd(v.data(), 1, 1, kv_heads, dim));
    attn(attnkit::bshd(q.data(), 1, 1, q_heads, dim), cache, attnkit::bshd(o.data(), 1, 1, q_heads, dim),
         attnkit::bhs(lse.data(), 1, q_heads, 1));
  }
  std::printf("%lld tokens generated, %lld held, %zu bytes of K/V, o[0] = %.4f, lse[0] = %.3f\n",
              static_cast<long long>(cache.key_len()), static_cast<long long>(cache.held()),
              cache.storage_bytes(), o[0], lse[0]);
  return cache.held() == sinks + window && std::isfinite(o[0]) && std::isfinite(lse[0]) ? 0 : 1;
}

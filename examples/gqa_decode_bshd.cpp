// Decode step with grouped-query attention over a [batch, seq, heads, dim] KV cache: 32 query heads
// share 8 KV heads, one new query token sits at the end of the cache (bottom-right alignment), and the
// log-sum-exp is kept so that partial results could be merged later (split-KV).
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const q_heads = 32, kv_heads = 8, cache_len = 1000, dim = 128;
  std::mt19937 gen(7);
  std::normal_distribution<float> normal;
  auto random_buffer = [&](std::size_t n) {
    std::vector<float> x(n);
    for (float& e : x)
      e = normal(gen);
    return x;
  };
  auto const q = random_buffer(q_heads * dim);                           // [1, 1, 32, 128]
  auto const k = random_buffer(std::size_t(cache_len) * kv_heads * dim); // [1, 1000, 8, 128]
  auto const v = random_buffer(std::size_t(cache_len) * kv_heads * dim);
  std::vector<float> o(q.size()), lse(q_heads);

  attnkit::attention<attnkit::softmax, attnkit::causal> attn{};
  attn(attnkit::bshd(q.data(), 1, 1, q_heads, dim), attnkit::bshd(k.data(), 1, cache_len, kv_heads, dim),
       attnkit::bshd(v.data(), 1, cache_len, kv_heads, dim), attnkit::bshd(o.data(), 1, 1, q_heads, dim),
       attnkit::bhs(lse.data(), 1, q_heads, 1), {.threads = 2});

  std::printf("head 0: o[0] = %.4f, lse = %.4f (log of %d keys is %.4f)\n", o[0], lse[0], cache_len,
              std::log(float(cache_len)));
}

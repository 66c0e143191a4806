// PagedAttention ("Efficient Memory Management for Large Language Model Serving with PagedAttention",
// Kwon et al. 2023): the KV cache lives in fixed-size pages from one pool, and a sequence is a block
// table of page ids. Two requests share a system prompt's pages; each then decodes on its own, and the
// page holding the end of the prompt is copied the first time one of them writes into it.
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const q_heads = 8, kv_heads = 2, dim = 64, page_size = 16, prompt = 100, steps = 20;
  std::mt19937 gen(7);
  std::normal_distribution<float> normal;
  auto random_buffer = [&](std::size_t n) {
    std::vector<float> x(n);
    for (float& e : x)
      e = normal(gen);
    return x;
  };

  attnkit::page_pool pool(/*pages=*/64, page_size, kv_heads, dim, dim);
  attnkit::paged_sequence first(pool);
  auto const prompt_k = random_buffer(std::size_t(prompt) * kv_heads * dim); // [1, prompt, Hkv, D]
  auto const prompt_v = random_buffer(prompt_k.size());
  first.append(attnkit::bshd(prompt_k.data(), 1, prompt, kv_heads, dim),
               attnkit::bshd(prompt_v.data(), 1, prompt, kv_heads, dim));
  attnkit::paged_sequence second = first.fork(); // shares all 7 prompt pages
  std::printf("after the prompt: %lld pages in use for 2 sequences\n",
              static_cast<long long>(pool.pages() - pool.free_pages()));

  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  std::vector<float> o(std::size_t(q_heads) * dim);
  for (int step = 0; step < steps; ++step)
    for (attnkit::paged_sequence* seq : {&first, &second}) {
      // One decode step: append the new token's K/V, then attend with its query (bottom-right aligned).
      auto const k = random_buffer(std::size_t(kv_heads) * dim), v = random_buffer(k.size());
      auto const q = random_buffer(std::size_t(q_heads) * dim);
      seq->append(attnkit::bshd(k.data(), 1, 1, kv_heads, dim), attnkit::bshd(v.data(), 1, 1, kv_heads, dim));
      attn(attnkit::bshd(q.data(), 1, 1, q_heads, dim), attnkit::paged_kv(*seq),
           attnkit::bshd(o.data(), 1, 1, q_heads, dim));
    }
  // 6 full prompt pages stay shared; each sequence owns a copy of the 7th and one more page.
  long long const in_use = static_cast<long long>(pool.pages() - pool.free_pages());
  std::printf("after %d steps each: %lld tokens per sequence, %lld pages in use, o[0] = %.4f\n", steps,
              static_cast<long long>(first.size()), in_use, o[0]);
  return in_use == 6 + 2 * 2 && std::isfinite(o[0]) ? 0 : 1;
}

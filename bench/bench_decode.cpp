/// \file
/// Decode: one new query per head against a fp32 KV cache (GQA, Hq = 32 over Hkv = 8, D = 128; BM_Decode also
/// MHA and MQA at Sk = 65536), the memory-bound step of LLM inference.
///   BM_Decode           contiguous cache [B, Hkv, Sk, D] (an attnkit::kv_cache)
///   BM_DecodePaged      the same keys in shuffled pages of 16 tokens (a fragmented page pool)
///   BM_DecodeStreaming  a StreamingLLM cache (4 sinks + a window of 4096) after `generated` tokens: one
///                       append and one attention call per generated token
/// Each reports the K/V bytes read per second and dram_pct, their share of the DRAM read bandwidth probed
/// at start-up for the same thread count.

#include "bench_common.hpp"

#include <attnkit/attnkit.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace attnkit_bench {
namespace {

struct decode_case {
  std::int64_t key_len = 0, q_heads = 0, kv_heads = 0, dim = 0;
  int threads = 1;

  static decode_case from(benchmark::State const& state) {
    return {state.range(0), state.range(1), state.range(2), state.range(3), static_cast<int>(state.range(4))};
  }
  std::int64_t cache_floats() const noexcept { return kv_heads * key_len * dim; } // one of K, V
  double kv_bytes() const noexcept { return 2.0 * static_cast<double>(cache_floats()) * sizeof(float); }
};

/// Deterministic values in [-1, 1) for element i of K (or V): normal samples for 2 GiB would take longer
/// than the runs.
float key_value(std::size_t i) noexcept {
  std::uint32_t const h = static_cast<std::uint32_t>(i) * 2654435761u;
  return static_cast<float>(h >> 8) * 0x1p-23f - 1.0f;
}
float value_value(std::size_t i) noexcept {
  std::uint32_t const h = static_cast<std::uint32_t>(i) * 2654435761u;
  return static_cast<float>((h ^ 0x5bd1e995u) >> 8) * 0x1p-23f - 1.0f;
}

/// The inputs of the last shape, kept while its thread counts run (the old cache is freed first). K/V sit in
/// an attnkit::kv_cache, the owning cache an inference engine would hold (its memory in huge pages).
struct decode_inputs {
  decode_case shape;
  std::vector<float> q;
  attnkit::kv_cache cache;
};

decode_inputs const& decode_inputs_for(decode_case const& c) {
  static std::unique_ptr<decode_inputs> cached;
  if (!cached || cached->shape.key_len != c.key_len || cached->shape.kv_heads != c.kv_heads ||
      cached->shape.dim != c.dim || cached->shape.q_heads != c.q_heads) {
    cached.reset();
    cached = std::make_unique<decode_inputs>(
        decode_inputs{.shape = c,
                      .q = random_normal(static_cast<std::size_t>(c.q_heads * c.dim), input_seed),
                      .cache = attnkit::kv_cache(1, c.kv_heads, c.key_len, c.dim, c.dim)});
    // Appended a block of tokens at a time: element i of the whole [1, Hkv, Sk, D] K is key_value(i).
    constexpr std::int64_t block = 1024;
    std::vector<float> k(static_cast<std::size_t>(c.kv_heads * block * c.dim)), v(k.size());
    for (std::int64_t t0 = 0; t0 < c.key_len; t0 += block) {
      std::int64_t const n = std::min(block, c.key_len - t0);
      for (std::int64_t h = 0; h < c.kv_heads; ++h)
        for (std::int64_t t = 0; t < n; ++t)
          for (std::int64_t d = 0; d < c.dim; ++d) {
            auto const i = static_cast<std::size_t>((h * c.key_len + t0 + t) * c.dim + d);
            auto const at = static_cast<std::size_t>((h * n + t) * c.dim + d);
            k[at] = key_value(i);
            v[at] = value_value(i);
          }
      cached->cache.append(attnkit::bhsd(k.data(), 1, c.kv_heads, n, c.dim),
                           attnkit::bhsd(v.data(), 1, c.kv_heads, n, c.dim));
    }
  }
  return *cached;
}

/// The same keys in a pool of 16-token pages handed out in a shuffled order, as in a long-running server.
struct paged_inputs {
  static constexpr std::int64_t page_size = 16;
  decode_case shape;
  attnkit::page_pool pool;
  std::vector<std::int32_t> table;

  explicit paged_inputs(decode_case const& c)
      : shape(c), pool((c.key_len + page_size - 1) / page_size, page_size, c.kv_heads, c.dim, c.dim) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(pool.pages()));
    for (auto& id : ids)
      id = pool.allocate();
    std::mt19937 shuffle_rng(input_seed);
    std::shuffle(ids.begin(), ids.end(), shuffle_rng);
    table = ids;
    for (std::int64_t h = 0; h < c.kv_heads; ++h)
      for (std::int64_t j = 0; j < c.key_len; ++j)
        for (std::int64_t d = 0; d < c.dim; ++d) {
          auto const i = static_cast<std::size_t>((h * c.key_len + j) * c.dim + d);
          std::int32_t const page = table[static_cast<std::size_t>(j / page_size)];
          pool.key_row(page, h, j % page_size)[d] = key_value(i);
          pool.value_row(page, h, j % page_size)[d] = value_value(i);
        }
  }
};

paged_inputs const& paged_inputs_for(decode_case const& c) {
  static std::unique_ptr<paged_inputs> cached;
  if (!cached || cached->shape.key_len != c.key_len || cached->shape.kv_heads != c.kv_heads ||
      cached->shape.dim != c.dim) {
    cached.reset();
    cached = std::make_unique<paged_inputs>(c);
  }
  return *cached;
}

/// bytes_per_second and dram_pct for `bytes` of K/V read per call.
void set_decode_counters(benchmark::State& state, double bytes, int threads, double seconds) {
  double const bytes_per_second = seconds > 0 ? bytes * static_cast<double>(state.iterations()) / seconds : 0;
  state.counters["bytes_per_second"] = benchmark::Counter(bytes_per_second);
  double const dram = threads <= max_probed_threads ? measured_peaks().dram_read_gbps[threads] * 1e9 : 0.0;
  state.counters["dram_pct"] = benchmark::Counter(dram > 0 ? 100.0 * bytes_per_second / dram : 0.0);
}

void BM_Decode(benchmark::State& state) {
  auto const c = decode_case::from(state);
  decode_inputs const& in = decode_inputs_for(c);
  std::vector<float> out(static_cast<std::size_t>(c.q_heads * c.dim));
  auto const q = attnkit::bhsd(in.q.data(), 1, c.q_heads, 1, c.dim);
  auto const o = attnkit::bhsd(out.data(), 1, c.q_heads, 1, c.dim);
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  attnkit::run_options const run{.threads = c.threads};

  double const seconds = timed_loop(state, out.data(), [&] { attn(q, in.cache, o, run); });
  set_decode_counters(state, c.kv_bytes(), c.threads, seconds);
}

void BM_DecodePaged(benchmark::State& state) {
  auto const c = decode_case::from(state);
  paged_inputs const& in = paged_inputs_for(c);
  std::vector<float> q_data = random_normal(static_cast<std::size_t>(c.q_heads * c.dim), input_seed);
  std::vector<float> out(static_cast<std::size_t>(c.q_heads * c.dim));
  auto const q = attnkit::bhsd(q_data.data(), 1, c.q_heads, 1, c.dim);
  auto const o = attnkit::bhsd(out.data(), 1, c.q_heads, 1, c.dim);
  attnkit::paged_kv const kv(in.pool,
                             attnkit::tensor_view<std::int32_t const, 2>(
                                 in.table.data(), {1, static_cast<std::int64_t>(in.table.size())}),
                             c.key_len);
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  attnkit::run_options const run{.threads = c.threads};

  double const seconds = timed_loop(state, out.data(), [&] { attn(q, kv, o, run); });
  set_decode_counters(state, c.kv_bytes(), c.threads, seconds);
}

void BM_DecodeStreaming(benchmark::State& state) {
  constexpr std::int64_t sinks = 4, window = 4096;
  std::int64_t const generated = state.range(0), q_heads = state.range(1), kv_heads = state.range(2),
                     dim = state.range(3);
  int const threads = static_cast<int>(state.range(4));
  attnkit::streaming_kv_cache cache(1, kv_heads, sinks, window, dim, dim);
  // The history: `generated` tokens, appended a window at a time (only the last window is kept).
  std::vector<float> block(static_cast<std::size_t>(kv_heads * window * dim));
  for (std::size_t i = 0; i < block.size(); ++i)
    block[i] = key_value(i);
  for (std::int64_t t = 0; t < generated; t += window) {
    std::int64_t const n = std::min(window, generated - t);
    auto const view = attnkit::tensor_view<float const>(block.data(), {1, kv_heads, n, dim},
                                                        {kv_heads * window * dim, window * dim, dim, 1});
    cache.append(view, view);
  }
  std::vector<float> q_data = random_normal(static_cast<std::size_t>(q_heads * dim), input_seed);
  std::vector<float> token(static_cast<std::size_t>(kv_heads * dim), 0.5f), out(q_data.size());
  auto const q = attnkit::bhsd(q_data.data(), 1, q_heads, 1, dim);
  auto const new_token = attnkit::bhsd(token.data(), 1, kv_heads, 1, dim);
  auto const o = attnkit::bhsd(out.data(), 1, q_heads, 1, dim);
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  attnkit::run_options const run{.threads = threads};

  double const seconds = timed_loop(state, out.data(), [&] {
    cache.append(new_token, new_token);
    attn(q, cache, o, run);
  });
  double const held = static_cast<double>(sinks + window);
  set_decode_counters(state, 2.0 * held * static_cast<double>(kv_heads * dim) * sizeof(float), threads,
                      seconds);
  state.counters["us_per_token"] = benchmark::Counter(
      state.iterations() > 0 ? 1e6 * seconds / static_cast<double>(state.iterations()) : 0);
}

void decode_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"Sk", "Hq", "Hkv", "D", "threads"});
  for (std::int64_t key_len : {4096, 16384, 65536, 262144})
    for (std::int64_t threads : {1, 2})
      b->Args({key_len, 32, 8, 128, threads});
  b->Unit(benchmark::kMillisecond); // counters come from our own wall-clock timer
}

/// MHA and MQA beside decode_args' GQA (Hkv = 8) at one length: the K/V bytes per step fall by Hq / Hkv, and
/// with them, when memory bound, the time ("Fast Transformer Decoding: One Write-Head is All You Need").
void head_sharing_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t kv_heads : {32, 1})
    b->Args({65536, 32, kv_heads, 128, 2});
}

void streaming_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"generated", "Hq", "Hkv", "D", "threads"});
  for (std::int64_t generated : {4096, 16384, 65536, 131072})
    for (std::int64_t threads : {1, 2})
      b->Args({generated, 32, 8, 128, threads});
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Decode)->Apply(decode_args)->Apply(head_sharing_args);
BENCHMARK(BM_DecodePaged)->Apply(decode_args);
BENCHMARK(BM_DecodeStreaming)->Apply(streaming_args);

} // namespace
} // namespace attnkit_bench

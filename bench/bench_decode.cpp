/// \file
/// BM_Decode: one new query per head against a contiguous fp32 KV cache [B, Hkv, Sk, D] (GQA, Hq = 32 over
/// Hkv = 8, D = 128), the memory-bound step of LLM inference. Reports the K/V bytes read per second and
/// dram_pct, their share of the DRAM read bandwidth probed at start-up for the same thread count.

#include "bench_common.hpp"

#include <attnkit/attnkit.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
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

/// The inputs of the last shape, kept while its thread counts run (the old cache is freed first).
struct decode_inputs {
  decode_case shape;
  std::vector<float> q, k, v;
};

decode_inputs const& decode_inputs_for(decode_case const& c) {
  static std::unique_ptr<decode_inputs> cached;
  if (!cached || cached->shape.key_len != c.key_len || cached->shape.kv_heads != c.kv_heads ||
      cached->shape.dim != c.dim || cached->shape.q_heads != c.q_heads) {
    cached.reset();
    auto const floats = static_cast<std::size_t>(c.cache_floats());
    cached = std::make_unique<decode_inputs>(
        decode_inputs{.shape = c,
                      .q = random_normal(static_cast<std::size_t>(c.q_heads * c.dim), input_seed),
                      .k = std::vector<float>(floats),
                      .v = std::vector<float>(floats)});
    // Cheap deterministic values in [-1, 1): normal samples for 2 GiB would take longer than the runs.
    for (std::size_t i = 0; i < floats; ++i) {
      std::uint32_t const h = static_cast<std::uint32_t>(i) * 2654435761u;
      cached->k[i] = static_cast<float>(h >> 8) * 0x1p-23f - 1.0f;
      cached->v[i] = static_cast<float>((h ^ 0x5bd1e995u) >> 8) * 0x1p-23f - 1.0f;
    }
  }
  return *cached;
}

void BM_Decode(benchmark::State& state) {
  auto const c = decode_case::from(state);
  decode_inputs const& in = decode_inputs_for(c);
  std::vector<float> out(static_cast<std::size_t>(c.q_heads * c.dim));
  auto const q = attnkit::bhsd(in.q.data(), 1, c.q_heads, 1, c.dim);
  auto const k = attnkit::bhsd(in.k.data(), 1, c.kv_heads, c.key_len, c.dim);
  auto const v = attnkit::bhsd(in.v.data(), 1, c.kv_heads, c.key_len, c.dim);
  auto const o = attnkit::bhsd(out.data(), 1, c.q_heads, 1, c.dim);
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  attnkit::run_options const run{.threads = c.threads};

  double const seconds = timed_loop(state, out.data(), [&] { attn(q, k, v, o, run); });
  double const bytes_per_second =
      seconds > 0 ? c.kv_bytes() * static_cast<double>(state.iterations()) / seconds : 0;
  state.counters["bytes_per_second"] = benchmark::Counter(bytes_per_second);
  double const dram =
      c.threads <= max_probed_threads ? measured_peaks().dram_read_gbps[c.threads] * 1e9 : 0.0;
  state.counters["dram_pct"] = benchmark::Counter(dram > 0 ? 100.0 * bytes_per_second / dram : 0.0);
}

void decode_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"Sk", "Hq", "Hkv", "D", "threads"});
  for (std::int64_t key_len : {4096, 16384, 65536, 262144})
    for (std::int64_t threads : {1, 2})
      b->Args({key_len, 32, 8, 128, threads});
  b->Unit(benchmark::kMillisecond); // counters come from our own wall-clock timer
}

BENCHMARK(BM_Decode)->Apply(decode_args);

} // namespace
} // namespace attnkit_bench

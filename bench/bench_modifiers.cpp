/// \file
/// BM_Alibi, BM_Softcap, BM_Bias: BM_Softmax's grid with one score modifier each, to read their overhead
/// off the same-named BM_Softmax case. BM_Bias adds a shared [N, N] table (T5-style relative bias), read
/// once per head.

#include "time_attention.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace attnkit_bench {
namespace {

/// Runs the case with `Modifier`, causal or not.
template <class Modifier> void run_modified(benchmark::State& state, Modifier const& modifier) {
  auto const c = attention_case::from(state);
  if (c.causal) {
    attnkit::attention<attnkit::softmax, attnkit::causal, Modifier> const attn({}, {}, {}, modifier);
    time_attention(state, c, attn, c.flops());
  } else {
    attnkit::attention<attnkit::softmax, attnkit::no_mask, Modifier> const attn({}, {}, {}, modifier);
    time_attention(state, c, attn, c.flops());
  }
}

void BM_Alibi(benchmark::State& state) {
  run_modified(state, attnkit::alibi{});
}

void BM_Softcap(benchmark::State& state) {
  run_modified(state, attnkit::softcap(50.0f)); // Gemma 2's attention cap
}

void BM_Bias(benchmark::State& state) {
  std::int64_t const n = state.range(0);
  static std::unique_ptr<std::vector<float>> table; // [N, N], kept while N stays the same
  if (!table || static_cast<std::int64_t>(table->size()) != n * n)
    table =
        std::make_unique<std::vector<float>>(random_normal(static_cast<std::size_t>(n * n), input_seed + 3));
  run_modified(state, attnkit::additive_bias(attnkit::bhsd<float const>(table->data(), 1, 1, n, n)));
}

BENCHMARK(BM_Alibi)->Apply(attention_args);
BENCHMARK(BM_Softcap)->Apply(attention_args);
BENCHMARK(BM_Bias)->Apply(attention_args);

} // namespace
} // namespace attnkit_bench

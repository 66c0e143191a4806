/// \file
/// BM_Softmax: attnkit's fused softmax attention (no mask or causal) on the prefill grid of bench_common.hpp,
/// plus N = 16384 causal, the dense baseline of BM_SlidingWindow; BM_Sigmoid: sigmoid attention on the grid.

#include "time_attention.hpp"

namespace attnkit_bench {
namespace {

/// One dense or causal case of the grid with a given normaliser.
template <class Normaliser> void time_dense(benchmark::State& state) {
  auto const c = attention_case::from(state);
  if (c.causal) {
    time_attention(state, c, attnkit::attention<Normaliser, attnkit::causal>{}, c.flops());
  } else {
    time_attention(state, c, attnkit::attention<Normaliser, attnkit::no_mask>{}, c.flops());
  }
}

void BM_Softmax(benchmark::State& state) {
  time_dense<attnkit::softmax>(state);
}

/// Sigmoid attention (FlashSigmoid) on the same grid: the same kernel with no max, no sum, no rescale.
void BM_Sigmoid(benchmark::State& state) {
  time_dense<attnkit::sigmoid>(state);
}

BENCHMARK(BM_Softmax)->Apply(attention_args);
BENCHMARK(BM_Sigmoid)->Apply(attention_args);
BENCHMARK(BM_Softmax)
    ->ArgNames({"N", "D", "causal", "threads"})
    ->Args({16384, 128, 1, 2})
    ->Unit(benchmark::kMillisecond);

} // namespace
} // namespace attnkit_bench

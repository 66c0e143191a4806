/// \file
/// BM_Softmax: attnkit's fused softmax attention (no mask or causal) on the prefill grid of bench_common.hpp,
/// plus N = 16384 causal, the dense baseline of BM_SlidingWindow; BM_Sigmoid: sigmoid attention on the grid.

#include "time_attention.hpp"

namespace attnkit_bench {
namespace {

void BM_Softmax(benchmark::State& state) {
  auto const c = attention_case::from(state);
  if (c.causal) {
    time_attention(state, c, attnkit::attention<attnkit::softmax, attnkit::causal>{}, c.flops());
  } else {
    time_attention(state, c, attnkit::attention<attnkit::softmax, attnkit::no_mask>{}, c.flops());
  }
}

/// Sigmoid attention (FlashSigmoid) on the same grid: the same kernel with no max, no sum, no rescale.
void BM_Sigmoid(benchmark::State& state) {
  auto const c = attention_case::from(state);
  if (c.causal) {
    time_attention(state, c, attnkit::attention<attnkit::sigmoid, attnkit::causal>{}, c.flops());
  } else {
    time_attention(state, c, attnkit::attention<attnkit::sigmoid, attnkit::no_mask>{}, c.flops());
  }
}

BENCHMARK(BM_Softmax)->Apply(attention_args);
BENCHMARK(BM_Sigmoid)->Apply(attention_args);
BENCHMARK(BM_Softmax)
    ->ArgNames({"N", "D", "causal", "threads"})
    ->Args({16384, 128, 1, 2})
    ->Unit(benchmark::kMillisecond);

} // namespace
} // namespace attnkit_bench

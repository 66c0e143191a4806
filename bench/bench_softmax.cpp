/// \file
/// BM_Softmax: attnkit's fused softmax attention (no mask or causal) on the prefill grid of bench_common.hpp,
/// plus N = 16384 causal, the dense baseline of BM_SlidingWindow; BM_Sigmoid, BM_SoftmaxSinks and
/// BM_ProductsOnly on the grid.

#include "time_attention.hpp"

#include <cstddef>
#include <utility>
#include <vector>

namespace attnkit_bench {
namespace {

/// A normaliser that leaves the scores as the weights: what the kernel costs without any element-wise
/// work (no max, exp, sum or rescale). Against it, BM_Softmax and BM_Sigmoid show their element-wise share.
struct scores_as_weights {
  using kernel_family = attnkit::tiled_scores_family;
  static constexpr bool has_lse = false;
  struct row_state {};
  template <class Arch>
  float weigh_row(attnkit::query_block const&, row_state&, float*, std::int64_t) const noexcept {
    return 1.0f;
  }
  template <class Arch>
  attnkit::row_result finish_row(attnkit::query_block const&, std::int64_t, row_state const&) const noexcept {
    return {1.0f, 0.0f};
  }
};

/// One dense or causal case of the grid with a given normaliser.
template <class Normaliser> void time_dense(benchmark::State& state, Normaliser normaliser = {}) {
  auto const c = attention_case::from(state);
  if (c.causal) {
    time_attention(state, c, attnkit::attention<Normaliser, attnkit::causal>({}, normaliser), c.flops());
  } else {
    time_attention(state, c, attnkit::attention<Normaliser, attnkit::no_mask>({}, normaliser), c.flops());
  }
}

void BM_Softmax(benchmark::State& state) {
  time_dense<attnkit::softmax>(state);
}

/// Sigmoid attention (FlashSigmoid) on the same grid: the same kernel with no max, no sum, no rescale.
void BM_Sigmoid(benchmark::State& state) {
  time_dense<attnkit::sigmoid>(state);
}

/// Softmax with learned sinks (gpt-oss): softmax's kernel plus one sink term per finished row.
void BM_SoftmaxSinks(benchmark::State& state) {
  std::vector<float> logits(static_cast<std::size_t>(heads));
  for (std::size_t h = 0; h < logits.size(); ++h)
    logits[h] = 0.5f * static_cast<float>(h) - 1.0f;
  time_dense(state, attnkit::softmax_sinks(std::move(logits)));
}

/// The two products and the kernel's own passes only (output is not attention: the scores weigh V).
void BM_ProductsOnly(benchmark::State& state) {
  time_dense<scores_as_weights>(state);
}

BENCHMARK(BM_Softmax)->Apply(attention_args);
BENCHMARK(BM_Sigmoid)->Apply(attention_args);
BENCHMARK(BM_SoftmaxSinks)->Apply(attention_args);
BENCHMARK(BM_ProductsOnly)->Apply(attention_args);
BENCHMARK(BM_Softmax)
    ->ArgNames({"N", "D", "causal", "threads"})
    ->Args({16384, 128, 1, 2})
    ->Unit(benchmark::kMillisecond);

} // namespace
} // namespace attnkit_bench

/// \file
/// BM_SlidingWindow: the causal window of W keys (Mistral-style SWA) over N, against which BM_Softmax's
/// N = 16384 causal case is the dense baseline. FLOP/s counts visible pairs only.

#include "time_attention.hpp"

#include <algorithm>
#include <cstdint>

namespace attnkit_bench {
namespace {

/// Visible (query, key) pairs of a causal window of `window` keys over `n` tokens.
double window_pairs(std::int64_t n, std::int64_t window) {
  std::int64_t const full = std::max<std::int64_t>(0, n - window); // rows that see all W keys
  std::int64_t const ramp = n - full;                              // rows 0..ramp-1 see i + 1 keys
  return static_cast<double>(full) * static_cast<double>(window) +
         static_cast<double>(ramp) * static_cast<double>(ramp + 1) / 2;
}

void BM_SlidingWindow(benchmark::State& state) {
  attention_case const c{
      .n = state.range(0), .d = state.range(1), .causal = true, .threads = static_cast<int>(state.range(3))};
  std::int64_t const window = state.range(2);
  attnkit::attention<attnkit::softmax, attnkit::sliding_window> const attn(
      {}, {}, attnkit::sliding_window::causal(window));
  double const flops = 4.0 * window_pairs(c.n, window) * static_cast<double>(c.d * heads * batch);
  time_attention(state, c, attn, flops);
}

BENCHMARK(BM_SlidingWindow)
    ->ArgNames({"N", "D", "W", "threads"})
    ->ArgsProduct({{2048, 4096, 8192, 16384, 32768}, {128}, {512}, {2}})
    ->Unit(benchmark::kMillisecond);

} // namespace
} // namespace attnkit_bench

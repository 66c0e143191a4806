/// \file
/// BM_Softmax: attnkit's fused softmax attention (no mask or causal) on the prefill grid of bench_common.hpp.

#include "bench_common.hpp"

#include <attnkit/attnkit.hpp>

#include <utility>
#include <vector>

namespace attnkit_bench {
namespace {

template <class Mask> void run_softmax(benchmark::State& state, attention_case const& c) {
  attention_inputs const& in = inputs_for(c);
  std::vector<float> out(static_cast<std::size_t>(c.elements()), 0.0f); // touched before timing

  auto const q = attnkit::bhsd(in.q.data(), batch, heads, c.n, c.d); // [B, H, N, D]
  auto const k = attnkit::bhsd(in.k.data(), batch, heads, c.n, c.d); // [B, H, N, D]
  auto const v = attnkit::bhsd(in.v.data(), batch, heads, c.n, c.d); // [B, H, N, D]
  auto const o = attnkit::bhsd(out.data(), batch, heads, c.n, c.d);  // [B, H, N, D]
  attnkit::attention<attnkit::softmax, Mask> const attn{};
  attnkit::run_options const run{.threads = c.threads};

  loop_timer const timer;
  for (auto _ : state) {
    attn(q, k, v, o, run);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_flop_counters(state, c, timer.seconds());
}

void BM_Softmax(benchmark::State& state) {
  auto const c = attention_case::from(state);
  if (c.causal) {
    run_softmax<attnkit::causal>(state, c);
  } else {
    run_softmax<attnkit::no_mask>(state, c);
  }
}

BENCHMARK(BM_Softmax)->Apply(attention_args);

} // namespace
} // namespace attnkit_bench

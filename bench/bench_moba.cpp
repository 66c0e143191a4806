/// \file
/// BM_Moba: MoBA ("Mixture of Block Attention"), causal, router included: each call routes every query
/// to its top-k key blocks, then runs the block-sparse kernel on the routed layout. `router_pct` is the
/// router's share of the time. FLOP/s counts the routed visible pairs only.

#include "bench_common.hpp"

#include <attnkit/attnkit.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace attnkit_bench {
namespace {

/// Visible pairs of a routed causal layout: whole blocks, plus keys up to the query in its own block.
double routed_pairs(attnkit::block_layout const& layout, std::int64_t n) {
  attnkit::block_grid const& g = layout.grid();
  double pairs = 0;
  for (std::int64_t h = 0; h < g.heads; ++h)
    for (std::int64_t i = 0; i < n; ++i) {
      auto const blocks = layout.key_blocks(0, h, i);
      auto const kinds = layout.kinds(0, h, i);
      for (std::size_t e = 0; e < blocks.size(); ++e)
        pairs +=
            kinds[e] == attnkit::tile_kind::full
                ? static_cast<double>(std::min(n, (blocks[e] + 1) * g.key_block) - blocks[e] * g.key_block)
                : static_cast<double>(i - blocks[e] * g.key_block + 1);
    }
  return pairs;
}

void BM_Moba(benchmark::State& state) {
  attention_case const c{
      .n = state.range(0), .d = state.range(1), .causal = true, .threads = static_cast<int>(state.range(4))};
  attnkit::moba_options const options{.key_block = state.range(2), .top_k = state.range(3), .causal = true};
  attention_inputs const& in = inputs_for(c);
  std::vector<float> out(static_cast<std::size_t>(c.elements()), 0.0f);
  auto const q = attnkit::bhsd(in.q.data(), batch, heads, c.n, c.d);
  auto const k = attnkit::bhsd(in.k.data(), batch, heads, c.n, c.d);
  auto const v = attnkit::bhsd(in.v.data(), batch, heads, c.n, c.d);
  auto const o = attnkit::bhsd(out.data(), batch, heads, c.n, c.d);
  attnkit::run_options const run{.threads = c.threads};

  double router_seconds = 0, pairs = 0;
  loop_timer const timer;
  for (auto _ : state) {
    auto const start = std::chrono::steady_clock::now();
    attnkit::block_layout const layout = attnkit::moba_route(q, k, options, run);
    router_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>> const attn(
        {}, {}, attnkit::block_sparse<attnkit::causal>(layout));
    attn(q, k, v, o, run);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (pairs == 0) {
      state.PauseTiming();
      pairs = routed_pairs(layout, c.n);
      state.ResumeTiming();
    }
  }
  double const seconds = timer.seconds();
  set_flop_counters(state, 4.0 * pairs * static_cast<double>(c.d * batch), c.threads, seconds);
  state.counters["router_pct"] = seconds > 0 ? 100.0 * router_seconds / seconds : 0.0;
}

BENCHMARK(BM_Moba)
    ->ArgNames({"N", "D", "block", "topk", "threads"})
    ->ArgsProduct({{8192, 32768}, {128}, {512}, {3}, {2}})
    ->Unit(benchmark::kMillisecond);

} // namespace
} // namespace attnkit_bench

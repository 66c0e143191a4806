#pragma once
/// \file
/// The timed loop every attnkit benchmark shares: one [B, H, N, D] prefill call of a given functor.

#include "bench_common.hpp"

#include <attnkit/attnkit.hpp>

#include <vector>

namespace attnkit_bench {

/// Times `attn` on the inputs of `c` (self-attention, Sq = Sk = N) and sets FLOP/s and peak_pct from
/// `flops`, the useful FLOPs of one call. Returns the loop's wall-clock seconds.
template <class Attention>
double time_attention(benchmark::State& state, attention_case const& c, Attention const& attn, double flops) {
  attention_inputs const& in = inputs_for(c);
  std::vector<float> out(static_cast<std::size_t>(c.elements()), 0.0f); // touched before timing

  auto const q = attnkit::bhsd(in.q.data(), batch, heads, c.n, c.d); // [B, H, N, D]
  auto const k = attnkit::bhsd(in.k.data(), batch, heads, c.n, c.d); // [B, H, N, D]
  auto const v = attnkit::bhsd(in.v.data(), batch, heads, c.n, c.d); // [B, H, N, D]
  auto const o = attnkit::bhsd(out.data(), batch, heads, c.n, c.d);  // [B, H, N, D]
  attnkit::run_options const run{.threads = c.threads};

  double const seconds = timed_loop(state, out.data(), [&] { attn(q, k, v, o, run); });
  set_flop_counters(state, flops, c.threads, seconds);
  return seconds;
}

} // namespace attnkit_bench

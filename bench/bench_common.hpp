#pragma once
/// \file
/// What every attention benchmark shares: the argument grid, the shape, the random inputs and the
/// FLOP/s and peak_pct counters.

#include "machine_peak.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace attnkit_bench {

/// Fixed shape around the swept arguments: prefill, batch 1, 8 heads, Sq = Sk = N, fp32.
inline constexpr std::int64_t batch = 1;
inline constexpr std::int64_t heads = 8;

/// Seed of the inputs; the same for every benchmark so they all see the same q, k, v.
inline constexpr std::uint64_t input_seed = 20261122;

/// The argument grid of every prefill benchmark: BM_X/N:4096/D:128/causal:1/threads:2/real_time.
/// No MinTime() here: it would add "/min_time:..." to every name. Each case runs Google Benchmark's
/// default 0.5 s (--benchmark_min_time=0.2 for a quicker pass); one iteration of the largest cases already
/// takes longer, so those run exactly once.
inline void attention_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "D", "causal", "threads"})
      ->ArgsProduct({{512, 1024, 2048, 4096, 8192}, {64, 128}, {0, 1}, {1, 2}})
      ->Unit(benchmark::kMillisecond);
  // No UseRealTime(): it would append "/real_time" to every name. Both counters come from our own
  // wall clock instead (set_flop_counters), and the "Time" column is wall time anyway.
}

/// One case, decoded from the arguments of attention_args.
struct attention_case {
  std::int64_t n = 0; ///< Sq = Sk
  std::int64_t d = 0; ///< head dimension (of q, k and v)
  bool causal = false;
  int threads = 1;

  static attention_case from(benchmark::State const& state) {
    return {.n = state.range(0),
            .d = state.range(1),
            .causal = state.range(2) != 0,
            .threads = static_cast<int>(state.range(3))};
  }

  /// Elements of one [B, H, N, D] tensor.
  std::int64_t elements() const noexcept { return batch * heads * n * d; }

  /// Useful flops of one call: 4 * Sq * Sk * D * H (QK^T and PV, 2 flops per multiply-add), half for causal.
  double flops() const noexcept {
    double const full = 4.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(d) *
                        static_cast<double>(heads * batch);
    return causal ? full / 2 : full;
  }
};

/// q, k, v of one (N, D): N(0, 1) values from input_seed, laid out [B, H, N, D].
struct attention_inputs {
  std::int64_t n = 0;
  std::int64_t d = 0;
  std::vector<float> q, k, v;
};

/// `count` N(0, 1) samples from `seed`.
inline std::vector<float> random_normal(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(count);
  for (auto& x : values)
    x = normal(rng);
  return values;
}

/// The inputs of a case, generated outside the timed loop. The last (N, D) is cached, because Google
/// Benchmark calls a case's function several times while it sizes the loop and the causal/threads
/// variants of one (N, D) run back to back; at N = 8192 generation alone takes about half a second.
inline attention_inputs const& inputs_for(attention_case const& c) {
  static std::unique_ptr<attention_inputs> cached;
  if (!cached || cached->n != c.n || cached->d != c.d) {
    cached.reset(); // free the old tensors before allocating new ones
    auto const count = static_cast<std::size_t>(c.elements());
    cached = std::make_unique<attention_inputs>(attention_inputs{.n = c.n,
                                                                 .d = c.d,
                                                                 .q = random_normal(count, input_seed),
                                                                 .k = random_normal(count, input_seed + 1),
                                                                 .v = random_normal(count, input_seed + 2)});
  }
  return *cached;
}

/// Wall-clock time of a benchmark loop, taken next to Google Benchmark's own (real-time) timer so the
/// counters can be computed from it after the loop.
class loop_timer {
public:
  loop_timer() noexcept : start_(std::chrono::steady_clock::now()) {}
  double seconds() const noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

private:
  std::chrono::steady_clock::time_point start_;
};

/// Runs `call` in the benchmark loop (its output `out` kept alive) and returns the loop's wall-clock
/// seconds, from which the counters are computed.
template <class Call> double timed_loop(benchmark::State& state, float* out, Call&& call) {
  loop_timer const timer;
  for (auto _ : state) {
    call();
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  return timer.seconds();
}

/// Sets FLOP/s (`flops` per call, as a rate over the measured real time) and peak_pct (100 * achieved / the
/// FP32 FMA peak probed at start-up for `threads`; 0 when that count was not probed).
inline void set_flop_counters(benchmark::State& state, double flops, int threads, double loop_seconds) {
  double const achieved =
      loop_seconds > 0 ? flops * static_cast<double>(state.iterations()) / loop_seconds : 0.0;
  // Wall-clock rate: a CPU-time rate would count only the calling thread's time.
  state.counters["FLOP/s"] = benchmark::Counter(achieved);
  double const peak = measured_peaks().fma_flops_for(threads);
  state.counters["peak_pct"] = benchmark::Counter(peak > 0 ? 100.0 * achieved / peak : 0.0);
}

/// The same for a dense (or causal) case: its useful FLOPs.
inline void set_flop_counters(benchmark::State& state, attention_case const& c, double loop_seconds) {
  set_flop_counters(state, c.flops(), c.threads, loop_seconds);
}

} // namespace attnkit_bench

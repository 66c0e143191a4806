#pragma once
/// \file
/// Start-up probes of the machine's limits: the FP32 FMA peak, the DRAM and the L2 read bandwidth, for 1 and
/// 2 threads. Every benchmark reports itself as a percentage of them (peak_pct), so numbers taken on
/// different (shared, noisy) machines stay comparable.

#include "attnkit/arch/simd_compat.hpp" // before any other xsimd include: silences GCC 12's AVX-512 warnings
#include "attnkit/kernels/cache_sizes.hpp"
#include "attnkit/kv/cache_storage.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#if defined(__AVX512BF16__)
#include <immintrin.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace attnkit_bench {

/// Largest thread count the probes measure; cases with more threads get no peak_pct.
inline constexpr int max_probed_threads = 2;

/// What the start-up probes measured; index = thread count (index 0 unused). Zero means "not measured".
struct machine_peaks {
  std::array<double, max_probed_threads + 1> fp32_fma_gflops{};
  std::array<double, max_probed_threads + 1> dram_read_gbps{};
  std::array<double, max_probed_threads + 1> l2_read_gbps{};
  std::array<double, max_probed_threads + 1> bf16_dot_gflops{}; // zero unless bf16_probe_compiled

  /// FP32 FMA peak in FLOP/s for `threads` threads, or 0 when it was not measured.
  double fma_flops_for(int threads) const noexcept {
    return threads >= 1 && threads <= max_probed_threads ? fp32_fma_gflops[threads] * 1e9 : 0.0;
  }
};

/// The process-wide probe results, filled by main() before any benchmark runs.
inline machine_peaks& measured_peaks() noexcept {
  static machine_peaks peaks{};
  return peaks;
}

namespace detail {

using clock = std::chrono::steady_clock;

inline double seconds_since(clock::time_point start) noexcept {
  return std::chrono::duration<double>(clock::now() - start).count();
}

/// Threads a parallel region asked for `requested` threads really runs: 1 without OpenMP.
inline int threads_run(int requested) noexcept {
#ifdef _OPENMP
  return requested;
#else
  (void)requested;
  return 1;
#endif
}

inline float volatile probe_sink = 0.0f; // keeps the probes' results alive

/// Runs body(thread_index, thread_count) -> float on `threads` OpenMP threads (on the caller without
/// OpenMP) and returns the wall time of the whole region in seconds. The bodies' results go to probe_sink.
template <class Body> double timed_parallel(int threads, Body&& body) {
  float total = 0.0f;
  auto const start = clock::now();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : total)
  total += body(omp_get_thread_num(), omp_get_num_threads());
#else
  (void)threads;
  total += body(0, 1);
#endif
  double const seconds = seconds_since(start);
  probe_sink = probe_sink + total;
  return seconds;
}

/// Independent FMA chains per thread. Zen 4 has 2 FMA pipes with a 4-cycle latency, so 8 chains in flight
/// saturate it; 16 covers cores with longer latencies and still leaves half of AVX-512's 32 registers free.
/// Architectures with 16 registers get 12 chains so the accumulators and the two constants do not spill.
template <class Arch> inline constexpr std::size_t fma_chains = attnkit::simd::width<Arch> >= 16 ? 16 : 12;

/// Flops done by one call of fma_chain_kernel per iteration.
template <class Arch>
inline constexpr double fma_flops_per_iteration = 2.0 * fma_chains<Arch>* attnkit::simd::width<Arch>;

/// `iterations` rounds of acc[c] = acc[c] * a + b on independent accumulators. The recurrence converges
/// to b / (1 - a) = 0.1, so no value ever overflows or turns subnormal. Returns a value that depends on
/// every chain so nothing can be optimised away.
template <class Arch, std::size_t... C>
[[gnu::noinline]] float fma_chain_kernel(std::int64_t iterations, std::index_sequence<C...>) noexcept {
  using batch = attnkit::simd::float_batch<Arch>;
  std::array<batch, sizeof...(C)> acc{batch(1.0f + 0.001f * static_cast<float>(C))...};
  batch const a(0.999999f);
  batch const b(1e-7f);
  for (std::int64_t it = 0; it < iterations; ++it) {
    ((acc[C] = attnkit::simd::fma(acc[C], a, b)), ...); // one FMA per chain, all independent
  }
  return attnkit::simd::reduce_sum<Arch>((acc[C] + ...));
}

/// Sum of data[first, last) with 8 accumulators (enough loads in flight for a streaming read).
template <class Arch> float sum_range(float const* data, std::size_t first, std::size_t last) noexcept {
  using batch = attnkit::simd::float_batch<Arch>;
  constexpr std::size_t w = attnkit::simd::width<Arch>;
  constexpr std::size_t unroll = 8;
  std::array<batch, unroll> acc{};
  acc.fill(batch(0.0f));
  std::size_t i = first;
  for (; i + unroll * w <= last; i += unroll * w) {
    for (std::size_t u = 0; u < unroll; ++u)
      acc[u] += batch::load_unaligned(data + i + u * w);
  }
  batch total(0.0f);
  for (auto const& a : acc)
    total += a;
  float tail = 0.0f;
  for (; i < last; ++i)
    tail += data[i];
  return attnkit::simd::reduce_sum<Arch>(total) + tail;
}

#if defined(__AVX512BF16__)
/// BF16 dot-product chains: VDPBF16PS adds two bf16 products to each of 16 fp32 lanes (64 FLOP per
/// instruction); 16 independent chains, as for FP32 on AVX-512.
inline constexpr std::size_t bf16_chains = 16;
inline constexpr double bf16_flops_per_iteration = 64.0 * bf16_chains;

/// `iterations` rounds of acc[c] += a . b over bf16 pairs. a and b are 1e-4, so each round adds about 2e-8
/// per lane: nothing overflows. Returns a value that depends on every chain.
template <std::size_t... C>
[[gnu::noinline]] float bf16_dot_chain_kernel(std::int64_t iterations, std::index_sequence<C...>) noexcept {
  __m512 acc[] = {_mm512_set1_ps(0.001f * static_cast<float>(C))...}; // (std::array drops __m512's alignment)
  __m512bh const a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-4f), _mm512_set1_ps(1e-4f));
  for (std::int64_t it = 0; it < iterations; ++it) {
    ((acc[C] = _mm512_dpbf16_ps(acc[C], a, a)), ...); // one dot product per chain, all independent
  }
  return _mm512_reduce_add_ps((acc[C] + ...));
}
#endif

/// Best rate of run(iterations) (a kernel doing `flops_per_iteration` per iteration and thread) over
/// `repeats` runs of about `seconds_per_repeat` each, in GFLOP/s, on `threads` threads. Many short runs: on
/// a shared machine the best one is the one no other tenant disturbed.
template <class Kernel>
double probe_peak_gflops(int threads, Kernel kernel, double flops_per_iteration, int repeats,
                         double seconds_per_repeat) {
  auto run = [&](std::int64_t iterations) {
    return timed_parallel(threads, [&](int, int) { return kernel(iterations); });
  };
  // Warm up (starts the OpenMP thread pool and the clocks), calibrate, then size each repeat to
  // seconds_per_repeat.
  std::int64_t const calibration = 200'000;
  run(calibration);
  double const calibration_s = std::max(run(calibration), 1e-6);
  auto const iterations = std::max<std::int64_t>(
      calibration, static_cast<std::int64_t>(calibration * seconds_per_repeat / calibration_s));
  double best = 0.0;
  for (int r = 0; r < repeats; ++r) {
    double const seconds = run(iterations);
    best = std::max(best,
                    threads_run(threads) * static_cast<double>(iterations) * flops_per_iteration / seconds);
  }
  return best / 1e9;
}

} // namespace detail

/// Best FP32 FMA rate in GFLOP/s on `threads` threads, each running fma_chains<Arch> independent chains.
template <class Arch>
double probe_fma_peak_gflops(int threads, int repeats = 20, double seconds_per_repeat = 0.01) {
  auto const chains = std::make_index_sequence<detail::fma_chains<Arch>>{};
  return detail::probe_peak_gflops(
      threads, [&](std::int64_t iterations) { return detail::fma_chain_kernel<Arch>(iterations, chains); },
      detail::fma_flops_per_iteration<Arch>, repeats, seconds_per_repeat);
}

/// Whether this binary can measure the BF16 dot-product peak: it was compiled with AVX512_BF16 (a native
/// build on a CPU that has it, Zen 4 and later, Cooper Lake and Sapphire Rapids).
inline constexpr bool bf16_probe_compiled =
#if defined(__AVX512BF16__)
    true;
#else
    false;
#endif

/// Best BF16 dot-product rate (VDPBF16PS) in GFLOP/s on `threads` threads; 0 when not bf16_probe_compiled.
inline double probe_bf16_dot_peak_gflops(int threads, int repeats = 20, double seconds_per_repeat = 0.01) {
#if defined(__AVX512BF16__)
  auto const chains = std::make_index_sequence<detail::bf16_chains>{};
  return detail::probe_peak_gflops(
      threads, [&](std::int64_t iterations) { return detail::bf16_dot_chain_kernel(iterations, chains); },
      detail::bf16_flops_per_iteration, repeats, seconds_per_repeat);
#else
  (void)threads, (void)repeats, (void)seconds_per_repeat;
  return 0.0;
#endif
}

/// DRAM read bandwidth in GB/s (1e9 bytes/s) for each thread count 1..max_probed_threads: the best of many
/// short parallel sums, each over one slice of a buffer of 8 slices read in turn, so a slice was last read 7
/// slices earlier and cannot be in the caches. On a shared machine one long sum averages in every other
/// tenant's traffic (a 512 MiB sum read 26-73 GB/s from run to run on one Zen 4); the best short one is the
/// one nobody disturbed.
template <class Arch> std::array<double, max_probed_threads + 1> probe_dram_read_gbps(int rounds = 3) {
  // At least 64 MiB and 4x the L3, at most 256 MiB (a misread L3 must not ask for gigabytes).
  std::size_t const slice_bytes =
      std::clamp(4 * static_cast<std::size_t>(attnkit::detail::host_cache_sizes().l3), std::size_t{64} << 20,
                 std::size_t{256} << 20);
  constexpr std::size_t slices = 8;
  std::size_t const slice = slice_bytes / sizeof(float);
  attnkit::detail::cache_storage buffer(slice * slices); // in huge pages where the caches get them
  float* const data = buffer.data();

  // Write every page (untouched pages would all map the kernel's zero page and read from cache).
  detail::timed_parallel(max_probed_threads, [&](int t, int count) {
    std::size_t const n = buffer.size();
    std::fill(data + n * t / count, data + n * (t + 1) / count, 1.0f);
    return 0.0f;
  });

  std::array<double, max_probed_threads + 1> gbps{};
  for (int threads = 1; threads <= max_probed_threads; ++threads)
    for (std::size_t s = 0; s < rounds * slices; ++s) {
      float const* const first = data + (s % slices) * slice;
      double const seconds = detail::timed_parallel(threads, [&](int t, int count) {
        return detail::sum_range<Arch>(first, slice * t / count, slice * (t + 1) / count);
      });
      gbps[threads] = std::max(gbps[threads], static_cast<double>(slice_bytes) / seconds / 1e9);
    }
  return gbps;
}

/// L2 read bandwidth in GB/s per thread count: each thread sums its own buffer of half its L2 (as read at run
/// time), 64 times over, after a first pass that brings it in; the best of `repeats`.
template <class Arch> std::array<double, max_probed_threads + 1> probe_l2_read_gbps(int repeats = 10) {
  std::size_t const per_thread =
      static_cast<std::size_t>(attnkit::detail::host_cache_sizes().l2) / 2 / sizeof(float);
  constexpr int passes = 64;
  attnkit::detail::cache_storage buffer(per_thread * max_probed_threads);
  std::fill(buffer.data(), buffer.data() + buffer.size(), 1.0f);
  std::array<double, max_probed_threads + 1> gbps{};
  for (int threads = 1; threads <= max_probed_threads; ++threads)
    for (int r = 0; r <= repeats; ++r) {
      double const seconds = detail::timed_parallel(threads, [&](int t, int) {
        float const* const own = buffer.data() + static_cast<std::size_t>(t) * per_thread;
        float total = 0.0f;
        for (int pass = 0; pass < passes; ++pass)
          total += detail::sum_range<Arch>(own, 0, per_thread);
        return total;
      });
      if (r > 0) // the first round warms the caches
        gbps[threads] = std::max(gbps[threads], static_cast<double>(per_thread * sizeof(float)) * passes *
                                                    threads / seconds / 1e9);
    }
  return gbps;
}

} // namespace attnkit_bench

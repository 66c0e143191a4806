/// \file
/// attnkit_bench's main: probes the machine's limits, records them (and the SIMD architecture) in the
/// benchmark context, then runs the selected benchmarks.
///
///     attnkit_bench --benchmark_filter='N:1024/D:128' --benchmark_out=r.json --benchmark_out_format=json

#include "machine_peak.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

namespace {

std::string fixed1(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", x);
  return text;
}

/// "<what>_<threads>t", via snprintf: std::string's operator+ trips a false GCC 12 -Wrestrict (bug 105329).
std::string per_thread_key(char const* what, int threads) {
  char text[64];
  std::snprintf(text, sizeof text, "%s_%dt", what, threads);
  return text;
}

/// Runs the probes (about half a second), stores them for peak_pct and adds them to the context.
void probe_machine() {
  using arch = xsimd::default_arch;
  auto& peaks = attnkit_bench::measured_peaks();
  for (int t = 1; t <= attnkit_bench::max_probed_threads; ++t) {
    peaks.fp32_fma_gflops[t] = attnkit_bench::probe_fma_peak_gflops<arch>(t);
  }
  peaks.dram_read_gbps = attnkit_bench::probe_dram_read_gbps<arch>();

  std::string const arch_name = attnkit::simd::arch_name<arch>();
  benchmark::AddCustomContext("simd_arch", arch_name);
  std::fprintf(stderr, "attnkit_bench: simd_arch=%s\n", arch_name.c_str());
  for (int t = 1; t <= attnkit_bench::max_probed_threads; ++t) {
    benchmark::AddCustomContext(per_thread_key("fp32_fma_peak_gflops", t), fixed1(peaks.fp32_fma_gflops[t]));
    benchmark::AddCustomContext(per_thread_key("dram_read_gbps", t), fixed1(peaks.dram_read_gbps[t]));
    std::fprintf(stderr, "attnkit_bench: %d thread(s): fp32 FMA peak %.1f GFLOP/s, DRAM read %.1f GB/s\n", t,
                 peaks.fp32_fma_gflops[t], peaks.dram_read_gbps[t]);
  }
}

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  probe_machine();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

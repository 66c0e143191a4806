/// \file
/// attnkit_bench's main: prints the ISA report (compiled vs. best on this CPU, with a warning when the
/// binary is below the CPU), probes the machine's limits, records both in the benchmark context, then runs
/// the selected benchmarks.
///
///     attnkit_bench --benchmark_filter='N:1024/D:128' --benchmark_out=r.json --benchmark_out_format=json

#include "machine_peak.hpp"

#include <attnkit/isa.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
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

/// The CPU's model name, family and model from /proc/cpuinfo ("unknown" elsewhere): a VM may show only
/// "AMD EPYC", and the family tells Zen 3 (25, model < 16) from Zen 4 (25) and Zen 5 (26).
std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string name = "unknown", family, model;
  auto value = [](std::string const& line) { return line.substr(line.find(':') + 2); };
  for (std::string line; std::getline(cpuinfo, line) && line.find(':') != std::string::npos;) {
    if (line.rfind("model name", 0) == 0)
      name = value(line);
    else if (line.rfind("cpu family", 0) == 0)
      family = value(line);
    else if (line.rfind("model\t", 0) == 0)
      model = value(line);
  }
  return family.empty() ? name : name + " (family " + family + ", model " + model + ")";
}

/// Prints the ISA report and records both ISAs (simd_arch, the compiled one, is kept for older tables).
void record_isa() {
  attnkit::print_isa_report(stderr);
  benchmark::AddCustomContext("compiled_isa", attnkit::compiled_isa());
  benchmark::AddCustomContext("cpu_best_isa", attnkit::best_cpu_isa());
  benchmark::AddCustomContext("simd_arch", attnkit::compiled_isa());
  benchmark::AddCustomContext("cpu_model", cpu_model());
}

/// Runs the probes (about a second), stores them for peak_pct and adds them to the context.
void probe_machine() {
  using arch = xsimd::default_arch;
  auto& peaks = attnkit_bench::measured_peaks();
  for (int t = 1; t <= attnkit_bench::max_probed_threads; ++t) {
    peaks.fp32_fma_gflops[t] = attnkit_bench::probe_fma_peak_gflops<arch>(t);
    peaks.bf16_dot_gflops[t] = attnkit_bench::probe_bf16_dot_peak_gflops(t);
  }
  peaks.dram_read_gbps = attnkit_bench::probe_dram_read_gbps<arch>();
  peaks.l2_read_gbps = attnkit_bench::probe_l2_read_gbps<arch>();

  for (int t = 1; t <= attnkit_bench::max_probed_threads; ++t) {
    benchmark::AddCustomContext(per_thread_key("fp32_fma_peak_gflops", t), fixed1(peaks.fp32_fma_gflops[t]));
    benchmark::AddCustomContext(per_thread_key("dram_read_gbps", t), fixed1(peaks.dram_read_gbps[t]));
    benchmark::AddCustomContext(per_thread_key("l2_read_gbps", t), fixed1(peaks.l2_read_gbps[t]));
    if (attnkit_bench::bf16_probe_compiled)
      benchmark::AddCustomContext(per_thread_key("bf16_dot_peak_gflops", t),
                                  fixed1(peaks.bf16_dot_gflops[t]));
    std::fprintf(
        stderr,
        "attnkit_bench: %d thread(s): fp32 FMA peak %.1f GFLOP/s, DRAM read %.1f GB/s, L2 read %.1f GB/s%s\n",
        t, peaks.fp32_fma_gflops[t], peaks.dram_read_gbps[t], peaks.l2_read_gbps[t],
        attnkit_bench::bf16_probe_compiled ? "" : ", BF16 dot peak not measured (built without AVX512_BF16)");
    if (attnkit_bench::bf16_probe_compiled)
      std::fprintf(stderr, "attnkit_bench: %d thread(s): BF16 dot-product peak %.1f GFLOP/s\n", t,
                   peaks.bf16_dot_gflops[t]);
  }
  benchmark::AddCustomContext("bf16_dot_peak", attnkit_bench::bf16_probe_compiled
                                                   ? "measured (VDPBF16PS)"
                                                   : "not measured: built without AVX512_BF16");
}

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  record_isa();
  probe_machine();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

#pragma once
/// \file
/// Which instruction set the kernels were compiled for, the best one the running CPU has, and a report
/// that warns when the first is below the second, or when the kernels are compiled without optimisation.
/// attnkit::attnkit adds no `-march`, so an x86-64 build without one gets the SSE2 kernel;
/// `attnkit_target_isa()` in CMake, or `-march=...`, picks a better one.
///
/// The functions that depend on the compiled architecture are templates on it, defaulting to
/// `xsimd::default_arch`: call them without template arguments. Translation units built with different
/// flags then get distinct instantiations, and each reports its own kernels.

#include "attnkit/arch/simd_compat.hpp"

#include <cstdio>
#include <string>

namespace attnkit {

/// Name of the architecture the kernels of the calling translation unit are compiled for, i.e. the best
/// one its compiler flags enable ("avx512bw", "fma3+avx2", "sse2", "arm64+neon").
template <class Arch = xsimd::default_arch> char const* compiled_isa() noexcept {
  return Arch::name();
}

/// Name of the best architecture the running CPU supports, among those xsimd knows.
inline char const* best_cpu_isa() noexcept {
  return simd::arch_info_of(simd::cpu_best_version()).name;
}

/// True when the running CPU supports a better architecture than the kernels are compiled for.
template <class Arch = xsimd::default_arch> bool compiled_below_cpu() noexcept {
  return Arch::version() < simd::cpu_best_version();
}

#if (defined(__GNUC__) || defined(__clang__)) && !defined(__OPTIMIZE__)
#define ATTNKIT_DETAIL_OPTIMISED false
#else
#define ATTNKIT_DETAIL_OPTIMISED true
#endif

/// False when the calling translation unit is compiled without optimisation (GCC's and clang's -O0, CMake's
/// Debug or an empty build type), which leaves every SIMD operation out of line: the kernels then run about
/// 200 times slower than at -O2 (causal softmax, N 512, D 64, Zen 3). True for other compilers. A template
/// like `compiled_isa`, so that translation units built with different flags each answer for themselves.
template <bool Optimised = ATTNKIT_DETAIL_OPTIMISED> constexpr bool compiled_optimised() noexcept {
  return Optimised;
}

/// The report: one line naming both architectures, then a warning line with the fix when the kernels are
/// compiled below the CPU, and another when they are compiled without optimisation. Each line ends with
/// '\n'.
template <class Arch = xsimd::default_arch, bool Optimised = ATTNKIT_DETAIL_OPTIMISED>
std::string isa_report() {
  simd::arch_info const compiled = simd::arch_info_of(Arch::version());
  simd::arch_info const best = simd::arch_info_of(simd::cpu_best_version());
  std::string report = std::string("attnkit: kernels compiled for ") + Arch::name() +
                       ", best ISA of this CPU: " + best.name + "\n";
  if (compiled_below_cpu<Arch>())
    report += std::string("attnkit: warning: ") + Arch::name() + " (" +
              std::to_string(compiled.register_bits) + "-bit registers) is below this CPU's " + best.name +
              " (" + std::to_string(best.register_bits) +
              "-bit): compile with -march=native or attnkit_target_isa(<target> native)\n";
  if (!compiled_optimised<Optimised>())
    report +=
        "attnkit: warning: compiled without optimisation (-O0): the kernels run about 200x slower; build "
        "with -O2 or -O3 (CMake: -DCMAKE_BUILD_TYPE=Release)\n";
  return report;
}

/// Writes isa_report() to `out` (standard output by default).
template <class Arch = xsimd::default_arch, bool Optimised = ATTNKIT_DETAIL_OPTIMISED>
void print_isa_report(std::FILE* out = stdout) {
  std::fputs(isa_report<Arch, Optimised>().c_str(), out);
}

} // namespace attnkit

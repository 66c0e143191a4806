#pragma once
/// \file
/// Which instruction set the kernels were compiled for, the best one the running CPU has, and a report
/// that warns when the first is below the second. attnkit::attnkit adds no `-march`, so an x86-64 build
/// without one gets the SSE2 kernel; `attnkit_target_isa()` in CMake, or `-march=...`, picks a better one.
///
/// The functions that depend on the compiled architecture are templates on it, defaulting to
/// `xsimd::default_arch`: call them without template arguments. Translation units built with different
/// flags then get distinct instantiations, and each reports its own kernels.

#include "attnkit/arch/simd_compat.hpp"

#include <cstddef>
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

/// The report: one line naming both architectures, and a second line, a warning with the fix, when the
/// kernels are compiled below the CPU. Each line ends with '\n'.
template <class Arch = xsimd::default_arch> std::string isa_report() {
  simd::arch_info const compiled = simd::arch_info_of(Arch::version());
  simd::arch_info const best = simd::arch_info_of(simd::cpu_best_version());
  char text[384];
  int const first =
      std::snprintf(text, sizeof text, "attnkit: kernels compiled for %s, best ISA of this CPU: %s\n",
                    Arch::name(), best.name);
  if (compiled_below_cpu<Arch>() && first > 0 && static_cast<std::size_t>(first) < sizeof text)
    std::snprintf(text + first, sizeof text - first,
                  "attnkit: warning: %s (%u-bit registers) is below this CPU's %s (%u-bit): compile with "
                  "-march=native or attnkit_target_isa(<target> native)\n",
                  Arch::name(), compiled.register_bits, best.name, best.register_bits);
  return text;
}

/// Writes isa_report() to `out` (standard output by default).
template <class Arch = xsimd::default_arch> void print_isa_report(std::FILE* out = stdout) {
  std::fputs(isa_report<Arch>().c_str(), out);
}

} // namespace attnkit

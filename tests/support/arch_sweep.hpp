#pragma once
// Runs a check on every SIMD architecture this test binary was compiled for and this CPU can run
// (Highway's habit: every target, every run). Architectures the CPU lacks are skipped with a warning.

#include <attnkit/arch/simd_compat.hpp>

#include <catch2/catch.hpp>

namespace attnkit::test {

template <class Arch, class Check> void run_if_usable(Check& check) {
  if constexpr (Arch::supported()) {
    if (!simd::is_usable<Arch>()) {
      WARN("skipping " << Arch::name() << ": this CPU cannot run it");
      return;
    }
    INFO("arch: " << Arch::name());
    check(Arch{});
  }
}

/// Calls check(Arch{}) for AVX-512, AVX2+FMA, SSE2 (x86-64) and NEON (AArch64) where compiled and
/// runnable. Each build compiles only its own family: the others are not `supported()` and do nothing.
template <class Check> void for_each_arch(Check&& check) {
  run_if_usable<xsimd::avx512bw>(check);
  run_if_usable<xsimd::fma3<xsimd::avx2>>(check);
  run_if_usable<xsimd::sse2>(check);
  run_if_usable<xsimd::neon64>(check);
}

} // namespace attnkit::test

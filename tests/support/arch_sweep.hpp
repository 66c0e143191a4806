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

/// Calls check(Arch{}) for AVX-512, AVX2+FMA and SSE2 where compiled and runnable.
template <class Check> void for_each_arch(Check&& check) {
  run_if_usable<xsimd::avx512bw>(check);
  run_if_usable<xsimd::fma3<xsimd::avx2>>(check);
  run_if_usable<xsimd::sse2>(check);
}

} // namespace attnkit::test

// The ISA report (isa.hpp): compiled_isa() agrees with the compiler's macros, the CPU has at least the
// compiled architecture, and the report warns exactly when the kernels are compiled below the CPU.

#include <attnkit/isa.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace {

/// The architecture xsimd 8.1 makes its default for this translation unit's flags, written out from the
/// compiler's macros in xsimd's order (best first). FMA3 without AVX (xsimd's fma3<sse4_2>) is left out:
/// GCC's and Clang's -mfma imply -mavx.
std::string expected_isa() {
#if defined(__AVX512BW__)
  return "avx512bw";
#elif defined(__AVX512DQ__)
  return "avx512dq";
#elif defined(__AVX512CD__)
  return "avx512cd";
#elif defined(__AVX512F__)
  return "avx512f";
#elif defined(__AVX2__) && defined(__FMA__)
  return "fma3+avx2";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__AVX__) && defined(__FMA__)
  return "fma3+avx";
#elif defined(__AVX__)
  return "avx";
#elif defined(__FMA4__)
  return "fma4";
#elif defined(__SSE4_2__)
  return "sse4.2";
#elif defined(__SSE4_1__)
  return "sse4.1";
#elif defined(__SSSE3__)
  return "ssse3";
#elif defined(__SSE3__)
  return "sse3";
#elif defined(__SSE2__)
  return "sse2";
#elif defined(__ARM_NEON) && defined(__aarch64__)
  return "arm64+neon";
#elif defined(__ARM_NEON)
  return "arm32+neon";
#else
  return "<none>";
#endif
}

bool contains(std::string const& text, std::string const& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("isa: compiled_isa() names the architecture the compiler's flags enable", "[isa]") {
  CHECK(std::string(attnkit::compiled_isa()) == expected_isa());
  CHECK(std::string(attnkit::compiled_isa()) == attnkit::simd::arch_name<xsimd::default_arch>());
}

TEST_CASE("isa: this CPU has at least the compiled architecture", "[isa]") {
  unsigned const best = attnkit::simd::cpu_best_version();
  INFO("compiled for " << attnkit::compiled_isa() << ", CPU best " << attnkit::best_cpu_isa());
  // The kernels of this binary run (every other test), so the CPU has what they were compiled for.
  CHECK(best >= xsimd::default_arch::version());
  CHECK(std::string(attnkit::best_cpu_isa()) == attnkit::simd::arch_info_of(best).name);
  CHECK(std::string(attnkit::best_cpu_isa()) != "<none>");
  CHECK(attnkit::compiled_below_cpu() == (xsimd::default_arch::version() < best));
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  // A lower bound from the compiler's own runtime CPU checks, which know nothing of xsimd.
  unsigned at_least = xsimd::sse2::version();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
    at_least = xsimd::avx512bw::version();
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    at_least = xsimd::fma3<xsimd::avx2>::version();
  else if (__builtin_cpu_supports("avx"))
    at_least = xsimd::avx::version();
  INFO("at least " << attnkit::simd::arch_info_of(at_least).name);
  CHECK(best >= at_least);
#endif
}

TEST_CASE("isa: the report names both architectures and warns exactly when compiled below the CPU or "
          "without optimisation",
          "[isa]") {
  std::string const best_name = attnkit::best_cpu_isa();
  auto check_report = [&](std::string const& report, std::string const& compiled, bool below,
                          bool optimised) {
    INFO(report);
    CHECK(contains(report, "attnkit: kernels compiled for " + compiled));
    CHECK(contains(report, best_name));
    CHECK(contains(report, "warning") == (below || !optimised));
    CHECK(std::count(report.begin(), report.end(), '\n') == 1 + (below ? 1 : 0) + (optimised ? 0 : 1));
    CHECK(report.back() == '\n');
    CHECK(contains(report, "-march=native") == below);
    CHECK(contains(report, "attnkit_target_isa") == below);
    CHECK(contains(report, "without optimisation") == !optimised);
    CHECK(contains(report, "-O2") == !optimised);
  };

  SECTION("this binary") {
#if defined(__OPTIMIZE__)
    CHECK(attnkit::compiled_optimised());
#elif defined(__GNUC__)
    CHECK_FALSE(attnkit::compiled_optimised());
#endif
    check_report(attnkit::isa_report(), attnkit::compiled_isa(), attnkit::compiled_below_cpu(),
                 attnkit::compiled_optimised());
  }
  SECTION("every architecture xsimd knows, optimised or not, so that every kind of report is checked on any "
          "CPU") {
    unsigned const best = attnkit::simd::cpu_best_version();
    xsimd::all_architectures::for_each([&](auto arch) {
      using arch_type = decltype(arch);
      CHECK(attnkit::compiled_below_cpu<arch_type>() == (arch_type::version() < best));
      check_report(attnkit::isa_report<arch_type, true>(), arch_type::name(), arch_type::version() < best,
                   true);
      check_report(attnkit::isa_report<arch_type, false>(), arch_type::name(), arch_type::version() < best,
                   false);
    });
  }
  SECTION("print_isa_report writes the report") {
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    attnkit::print_isa_report(file);
    std::rewind(file);
    std::string written;
    for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file))
      written += static_cast<char>(c);
    std::fclose(file);
    CHECK(written == attnkit::isa_report());
  }
}

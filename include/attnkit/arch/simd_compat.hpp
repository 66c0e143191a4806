#pragma once
/// \file
/// The one place that knows which xsimd version is installed. Debian bookworm ships xsimd 8.1, whose
/// horizontal sum is `hadd` (later `reduce_add`), which has no `reduce_max`, whose "can this CPU run
/// Arch" test is a version comparison, and whose CPU detection misses AVX. Every other file calls the
/// helpers below instead.

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which -Wmaybe-uninitialized flags
// wherever they are inlined (GCC bug 105593, fixed in GCC 13). Diagnostics are judged at the location
// of the intrinsic, so silencing them around the include keeps user code warning-free.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

/// Asks for full unrolling of the next loop (fixed trip counts in micro-kernels).
#if defined(__clang__)
#define ATTNKIT_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define ATTNKIT_UNROLL _Pragma("GCC unroll 16")
#else
#define ATTNKIT_UNROLL
#endif

/// Keeps a function out of its callers, where inlining it made the compiler allocate registers worse in the
/// loops that matter (measured, see the use).
#if defined(__GNUC__) || defined(__clang__)
#define ATTNKIT_NOINLINE [[gnu::noinline]]
#elif defined(_MSC_VER)
#define ATTNKIT_NOINLINE __declspec(noinline)
#else
#define ATTNKIT_NOINLINE
#endif

namespace attnkit::simd {

template <class Arch> using float_batch = xsimd::batch<float, Arch>;

/// Number of floats in one register of `Arch`.
template <class Arch> inline constexpr std::size_t width = float_batch<Arch>::size;

/// Sum of all lanes.
template <class Arch> inline float reduce_sum(float_batch<Arch> const& x) noexcept {
#if XSIMD_VERSION_MAJOR < 9
  return xsimd::hadd(x);
#else
  return xsimd::reduce_add(x);
#endif
}

/// x * y + z with one rounding: one FMA instruction where the CPU has it. xsimd 8.1 has no AVX-512 `fma`:
/// its generic x * y + z is one instruction only if the compiler contracts it (GCC does, clang 14 emits a
/// multiply and an add: half the micro-kernel's speed), so AVX-512 calls the intrinsic.
template <class Arch>
inline xsimd::batch<float, Arch> fma(xsimd::batch<float, Arch> const& x, xsimd::batch<float, Arch> const& y,
                                     xsimd::batch<float, Arch> const& z) noexcept {
#if XSIMD_VERSION_MAJOR < 9 && XSIMD_WITH_AVX512F
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
    return _mm512_fmadd_ps(x, y, z);
  else
#endif
    return xsimd::fma(x, y, z);
}

/// z - x * y with one rounding (see fma).
template <class Arch>
inline xsimd::batch<float, Arch> fnma(xsimd::batch<float, Arch> const& x, xsimd::batch<float, Arch> const& y,
                                      xsimd::batch<float, Arch> const& z) noexcept {
#if XSIMD_VERSION_MAJOR < 9 && XSIMD_WITH_AVX512F
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
    return _mm512_fnmadd_ps(x, y, z);
  else
#endif
    return xsimd::fnma(x, y, z);
}

/// Largest lane; a NaN lane may or may not win (callers that care check for NaN themselves).
template <class Arch> inline float reduce_max(float_batch<Arch> const& x) noexcept {
  alignas(64) std::array<float, width<Arch>> lanes;
  x.store_aligned(lanes.data());
  float best = lanes[0];
  for (std::size_t i = 1; i < lanes.size(); ++i)
    best = std::max(best, lanes[i]);
  return best;
}

/// Lane i of the result is the sum of rows[i]'s lanes, for width<Arch> rows. xsimd 8.1's `haddp` does
/// this for SSE, AVX and NEON, but its AVX-512 version swaps lanes 2-3 with 4-5 and 10-11 with 12-13;
/// there, each row's two 256-bit halves are added first and AVX's `haddp` finishes the job.
template <class Arch> inline float_batch<Arch> transpose_sums(float_batch<Arch> const* rows) noexcept {
#if XSIMD_WITH_AVX512F
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    using half = xsimd::batch<float, xsimd::avx>;
    auto fold = [](__m512 x) {
      __m256 const low = _mm512_castps512_ps256(x);
      __m256 const high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
      return half(_mm256_add_ps(low, high));
    };
    half first[8], second[8];
    for (std::size_t i = 0; i < 8; ++i) {
      first[i] = fold(rows[i]);
      second[i] = fold(rows[i + 8]);
    }
    __m256 const a = xsimd::haddp(first), b = xsimd::haddp(second);
    return _mm512_castpd_ps(
        _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(a)), _mm256_castps_pd(b), 1));
  } else
#endif
  {
    return xsimd::haddp(rows);
  }
}

/// `x`, which the compiler must then hold in a register. The micro-kernel loads each B vector once and uses
/// it for every row; without this, GCC's znver tunings fold the load into each FMA as a memory operand (one
/// load per FMA instead of one per row block), and the loop becomes load-bound (~30 % slower on Zen 3).
template <class Arch> inline float_batch<Arch> in_register(float_batch<Arch> x) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#if defined(__AVX512F__)
  asm("" : "+v"(x.data)); // any of the 32 vector registers
#else
  asm("" : "+x"(x.data));
#endif
#elif defined(__GNUC__) && defined(__aarch64__)
  asm("" : "+w"(x.data));
#endif
  return x;
}

/// xsimd's version number (`Arch::version()`) of the best architecture the running CPU supports.
/// xsimd 8.1 reads the AVX bit of CPUID leaf 1 after another leaf overwrote it (fixed by xsimd pull
/// request 912, merged after 10.0), so a CPU with AVX but not AVX2 (Sandy Bridge, Ivy Bridge, Bulldozer)
/// reports SSE4.2 or FMA4. GCC's and Clang's `__builtin_cpu_supports`, which also checks that the OS
/// saves the AVX registers, fills the gap; it only ever raises the answer to what the CPU has.
inline unsigned cpu_best_version() noexcept {
  unsigned best = xsimd::available_architectures().best;
#if XSIMD_VERSION_MAJOR < 11 && (defined(__x86_64__) || defined(__i386__)) &&                                \
    (defined(__GNUC__) || defined(__clang__))
  if (best < xsimd::avx::version() && __builtin_cpu_supports("avx"))
    best = __builtin_cpu_supports("fma") ? xsimd::fma3<xsimd::avx>::version() : xsimd::avx::version();
#endif
  return best;
}

/// True when the CPU running this program can execute instructions of `Arch`.
template <class Arch> inline bool is_usable() noexcept {
  return Arch::version() <= cpu_best_version();
}

/// Name and register width of one architecture xsimd knows.
struct arch_info {
  char const* name;       ///< xsimd's name ("avx512bw", "fma3+avx2", "sse2", "arm64+neon")
  unsigned register_bits; ///< 512, 256 or 128
};

/// The architecture whose `Arch::version()` is `version`, among every architecture xsimd knows
/// (x86 and ARM, whatever this build supports); {"<none>", 0} if there is none.
inline arch_info arch_info_of(unsigned version) noexcept {
  arch_info found{"<none>", 0};
  xsimd::all_architectures::for_each([&](auto arch) {
    if (decltype(arch)::version() == version)
      found = {decltype(arch)::name(), static_cast<unsigned>(8 * decltype(arch)::alignment())};
  });
  return found;
}

/// Printable name of an architecture tag ("avx512bw", "fma3+avx2", "sse2").
template <class Arch> inline char const* arch_name() noexcept {
  return Arch::name();
}

} // namespace attnkit::simd

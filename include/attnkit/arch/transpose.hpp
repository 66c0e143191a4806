#pragma once
/// \file
/// An 8 x 8 block of floats transposed in registers (AVX): how the prefill kernel packs K^T eight keys at a
/// time. Copying one float at a time (16 loads and 16 stores per 16 keys and dimension) was about 8 % of a
/// sliding window's kernel time on Zen 3.

#include "attnkit/arch/simd_compat.hpp"

#include <cstdint>
#include <type_traits>

namespace attnkit::simd {

/// Whether transpose_8x8 exists for Arch: AVX and its descendants (AVX2, FMA3). Elsewhere, packing copies
/// one float at a time.
template <class Arch>
inline constexpr bool has_transpose_8x8 =
#if XSIMD_WITH_AVX
    std::is_base_of_v<xsimd::avx, Arch>;
#else
    false;
#endif

/// dst[k * dst_stride + i] = rows[i][k] for i, k in [0, 8): eight consecutive floats from each of eight rows,
/// written out as eight rows of eight (unaligned loads and stores). Declared everywhere, so that a caller's
/// `if constexpr (has_transpose_8x8<Arch>)` branch compiles in any build; defined for AVX only.
template <class Arch>
inline void transpose_8x8(float const* const* rows, float* dst, std::int64_t dst_stride) noexcept {
  static_assert(has_transpose_8x8<Arch>, "transpose_8x8 needs AVX");
#if XSIMD_WITH_AVX
  __m256 r[8];
  for (int i = 0; i < 8; ++i)
    r[i] = _mm256_loadu_ps(rows[i]);
  // Pairs of rows interleaved, then pairs of pairs, within each 128-bit half; the halves are swapped last.
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(dst + k * dst_stride, _mm256_permute2f128_ps(u[k], u[k + 4], 0x20));
    _mm256_storeu_ps(dst + (k + 4) * dst_stride, _mm256_permute2f128_ps(u[k], u[k + 4], 0x31));
  }
#else
  (void)rows, (void)dst, (void)dst_stride;
#endif
}

} // namespace attnkit::simd

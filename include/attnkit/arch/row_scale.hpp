#pragma once
/// \file
/// Scaled copies and blends of rows (queries in, outputs out, accumulators rescaled, splits merged), written
/// a register at a time: GCC 12 leaves such loops scalar at -O2, where small causal prefills took 1.12-1.19x
/// their -O3 time, block-sparse ones up to 1.34x, and a decode call over one cached key 2.6x.

#include "attnkit/arch/simd_compat.hpp"

#include <cstdint>

namespace attnkit::simd {

/// dst[d * dst_stride] = factor * src[d * src_stride] for d in [0, n); whole registers where both strides
/// are 1, element by element otherwise (and for the tail).
template <class Arch>
inline void scaled_copy(float* dst, std::int64_t dst_stride, float const* src, std::int64_t src_stride,
                        std::int64_t n, float factor) noexcept {
  using batch = float_batch<Arch>;
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  std::int64_t d = 0;
  if (dst_stride == 1 && src_stride == 1)
    for (; d + w <= n; d += w)
      (batch::load_unaligned(src + d) * batch(factor)).store_unaligned(dst + d);
  for (; d < n; ++d)
    dst[d * dst_stride] = factor * src[d * src_stride];
}

/// values[0, n) *= factor.
template <class Arch> inline void scale_row(float* values, std::int64_t n, float factor) noexcept {
  simd::scaled_copy<Arch>(values, 1, values, 1, n, factor);
}

/// into[0, n) = a * into[0, n) + b * from[0, n).
template <class Arch>
inline void blend_rows(float* into, float a, float const* from, float b, std::int64_t n) noexcept {
  using batch = float_batch<Arch>;
  constexpr auto w = static_cast<std::int64_t>(width<Arch>);
  std::int64_t d = 0;
  for (; d + w <= n; d += w)
    simd::fma(batch(a), batch::load_unaligned(into + d), batch(b) * batch::load_unaligned(from + d))
        .store_unaligned(into + d);
  for (; d < n; ++d)
    into[d] = a * into[d] + b * from[d];
}

} // namespace attnkit::simd

#pragma once
/// \file
/// Register-block shape of the micro-kernel for each architecture.

#include "attnkit/arch/simd_compat.hpp"

#include <cstddef>

namespace attnkit::simd {

/// `rows` x `vectors` accumulators are live in the micro-kernel's inner loop, plus `vectors` loads and
/// one broadcast. FMA latency 4 x 2 pipes needs at least 8 independent accumulators to stay busy.
template <class Arch> struct register_blocking {
  // 16 float lanes means AVX-512 with 32 registers: 8 x 2 = 16 accumulators + 2 loads + 1 broadcast.
  // Other widths (AVX2, SSE, NEON) have at least 16: 6 x 2 = 12 accumulators + 2 + 1, the Haswell/Zen
  // BLAS shape. 4 x 2 would leave no slack over the 8 FMAs in flight and load 6 vectors per 8 FMAs.
  static constexpr std::size_t rows = width<Arch> >= 16 ? 8 : 6;
  static constexpr std::size_t vectors = 2;
  /// Columns one micro-kernel call covers; tiles are padded to a multiple of this.
  static constexpr std::size_t columns = vectors * width<Arch>;
};

} // namespace attnkit::simd

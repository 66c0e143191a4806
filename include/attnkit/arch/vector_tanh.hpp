#pragma once
/// \file
/// A vector tanh for the logit softcap, built on the vector exp.

#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/arch/vector_exp.hpp"

namespace attnkit::simd {

/// tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|), for every lane: absolute error below 3e-7
/// (relative error grows as |x| falls below 0.1, where 1 - e cancels); +-inf give +-1, NaN gives NaN.
template <class Arch> inline float_batch<Arch> tanh(float_batch<Arch> const& x) noexcept {
  using batch = float_batch<Arch>;
  batch const e = simd::exp<Arch>(batch(-2.0f) * xsimd::abs(x)); // in [0, 1]: never overflows
  batch const magnitude = (batch(1.0f) - e) / (batch(1.0f) + e);
  return xsimd::select(x < batch(0.0f), -magnitude, magnitude);
}

} // namespace attnkit::simd

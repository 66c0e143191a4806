#pragma once
/// \file
/// A vector tanh for the logit softcap, built on the vector exp.

#include "attnkit/arch/simd_compat.hpp"
#include "attnkit/arch/vector_exp.hpp"

namespace attnkit::simd {

/// tanh(x) = 1 - 2 / (1 + e^2x) for every lane, with e^2x saturated at both ends (`exp_saturated`): absolute
/// error below 3e-7 (relative error grows as |x| falls below 0.1, where the subtraction cancels); +-inf give
/// exactly +-1, NaN gives NaN. One vector exp and one division, no sign handling.
template <class Arch> inline float_batch<Arch> tanh(float_batch<Arch> const& x) noexcept {
  using batch = float_batch<Arch>;
  batch const one(1.0f);
  batch const half_gap = one / (one + simd::exp_saturated<Arch>(x + x)); // (1 - tanh x) / 2, in [0, 1]
  return simd::fnma(batch(2.0f), half_gap, one);
}

} // namespace attnkit::simd

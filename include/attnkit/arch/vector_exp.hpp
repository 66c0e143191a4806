#pragma once
/// \file
/// A fast vector exp for the softmax inner loop. Scalar `expf` per element would cost more than the
/// matrix products it sits between (PEERS.md: 15x slower than a vector exp).

#include "attnkit/arch/simd_compat.hpp"

#include <cstdint>

namespace attnkit::simd {

namespace detail {

/// e^x for lanes already inside [-87.3, 89]: p(r) 2^n with x = n ln 2 + r. From x = 88.38 on, n is 128 and
/// the exponent field is all ones, so the result is +inf. NaN lanes give NaN.
template <class Arch> inline float_batch<Arch> exp_in_range(float_batch<Arch> const& x) noexcept {
  using batch = float_batch<Arch>;
  using int_batch = xsimd::batch<std::int32_t, Arch>;
  batch const log2e(1.44269504088896341f);
  // ln 2 split in two so that x - n ln 2 stays exact for |n| <= 128.
  batch const ln2_hi(0.693145751953125f);
  batch const ln2_lo(1.42860682030941723e-6f);

  // n = round(x log2e) by the float adder: adding 1.5 * 2^23 leaves n + 127 in the low mantissa bits, which
  // shift straight into the exponent field of 2^n (no round or convert instruction).
  batch const shifter(12583039.0f); // 1.5 * 2^23 + 127
  batch const biased = simd::fma(x, log2e, shifter);
  batch const n = biased - shifter;
  batch r = simd::fnma(n, ln2_hi, x);
  r = simd::fnma(n, ln2_lo, r);

  // Degree-5 minimax polynomial of e^r on |r| <= ln2 / 2: relative error 7.5e-8 (1.9e-7 evaluated in float).
  batch p(0.008297654800117016f);
  p = simd::fma(p, r, batch(0.04191538318991661f));
  p = simd::fma(p, r, batch(0.16667574644088745f));
  p = simd::fma(p, r, batch(0.49998894333839417f));
  p = simd::fma(p, r, batch(0.9999997019767761f));
  p = simd::fma(p, r, batch(1.0000001192092896f));

  // 2^n built directly in the exponent field; n is in [-126, 128] here: a normal float, or +inf at 128.
  batch const two_to_n = xsimd::bitwise_cast<batch>(xsimd::bitwise_cast<int_batch>(biased) << 23);
  return p * two_to_n;
}

} // namespace detail

/// e^x for every lane, with relative error below 3e-7 (about 2.5 ulp) for x in [-87.3, 88]; lanes below -87.3
/// (including -inf) give exactly 0, NaN lanes give NaN. Larger x is outside the contract: softmax
/// only ever calls it with x <= 0.
template <class Arch> inline float_batch<Arch> exp(float_batch<Arch> const& x) noexcept {
  using batch = float_batch<Arch>;
  // Below this, e^x is subnormal: flushing to 0 changes a softmax weight by less than 1e-37.
  batch const underflow(-87.3f);
  auto const too_small = x < underflow;
  return xsimd::select(too_small, batch(0.0f),
                       detail::exp_in_range<Arch>(xsimd::select(too_small, underflow, x)));
}

/// e^x for every lane, saturated at both ends instead of flushed: below -87.3 it gives e^-87.3 (1.2e-38),
/// from 88.38 on +inf (including +inf); in between as `exp`. NaN lanes give NaN. For 1 / (1 + e^x), where
/// both ends are exact (1 and 0) and the two clamps are cheaper than exp's compare and selects.
template <class Arch> inline float_batch<Arch> exp_saturated(float_batch<Arch> const& x) noexcept {
  using batch = float_batch<Arch>;
  // min and max return their second operand when a lane is NaN (x86 minps/maxps, NEON fmin/fmax return NaN):
  // x goes second so that NaN passes through both.
  return detail::exp_in_range<Arch>(xsimd::max(batch(-87.3f), xsimd::min(batch(89.0f), x)));
}

} // namespace attnkit::simd

#pragma once
/// \file
/// A fast vector exp for the softmax inner loop. Scalar `expf` per element would cost more than the
/// matrix products it sits between (PEERS.md: 15x slower than a vector exp).

#include "attnkit/arch/simd_compat.hpp"

#include <cstdint>

namespace attnkit::simd {

/// log2(e), the factor that turns e^x into 2^(x log2 e).
inline constexpr float log2_e = 1.44269504088896341f;

namespace detail {

/// 1.5 * 2^23 + 127: adding it to y in [-127, 128] rounds y to an integer n and leaves n + 127 in the low
/// mantissa bits, which shift straight into the exponent field of 2^n (no round or convert instruction).
inline constexpr float exponent_shifter = 12583039.0f;

/// 2^n from `biased` = n + exponent_shifter, built in the exponent field: a normal float for n in [-126,
/// 127], +inf at 128.
template <class Arch> inline float_batch<Arch> power_of_two(float_batch<Arch> const& biased) noexcept {
  using int_batch = xsimd::batch<std::int32_t, Arch>;
  return xsimd::bitwise_cast<float_batch<Arch>>(xsimd::bitwise_cast<int_batch>(biased) << 23);
}

/// e^x for lanes already inside [-87.3, 89]: p(r) 2^n with x = n ln 2 + r. From x = 88.38 on, n is 128 and
/// the exponent field is all ones, so the result is +inf. NaN lanes give NaN.
template <class Arch> inline float_batch<Arch> exp_in_range(float_batch<Arch> const& x) noexcept {
  using batch = float_batch<Arch>;
  // ln 2 split in two so that x - n ln 2 stays exact for |n| <= 128.
  batch const ln2_hi(0.693145751953125f);
  batch const ln2_lo(1.42860682030941723e-6f);

  // n = round(x log2 e) by the float adder.
  batch const shifter(exponent_shifter);
  batch const biased = simd::fma(x, batch(log2_e), shifter);
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

  return p * power_of_two<Arch>(biased); // n is in [-126, 128] here
}

/// 2^y for lanes already inside [-126, 128] (above 127.5, +inf), for callers that fold log2(e) into a scale
/// they apply anyway: y = n + r with r in [-0.5, 0.5] found by adds alone (exact), so the reduction costs the
/// multiply pipes nothing. Same polynomial as `exp_in_range`, in r instead of r ln 2: relative error below
/// 2e-7. NaN gives NaN.
template <class Arch> inline float_batch<Arch> exp2_in_range(float_batch<Arch> const& y) noexcept {
  using batch = float_batch<Arch>;
  batch const shifter(exponent_shifter);
  batch const biased = y + shifter;
  batch const r = y - (biased - shifter);

  // exp_in_range's coefficients times (ln 2)^k.
  batch p(1.327647129e-3f);
  p = simd::fma(p, r, batch(9.675541893e-3f));
  p = simd::fma(p, r, batch(5.550713092e-2f));
  p = simd::fma(p, r, batch(2.402211875e-1f));
  p = simd::fma(p, r, batch(6.931470037e-1f));
  p = simd::fma(p, r, batch(1.000000119f));
  return p * power_of_two<Arch>(biased);
}

} // namespace detail

/// e^x for every lane, with relative error below 3e-7 (about 2.5 ulp) for x in [-87.3, 88]; lanes below -87.3
/// (including -inf) give exactly 0, NaN lanes give NaN. Larger x is outside the contract: softmax
/// only ever calls it with x <= 0.
template <class Arch> inline float_batch<Arch> exp(float_batch<Arch> const& x) noexcept {
  using batch = float_batch<Arch>;
  // Below this, e^x is subnormal: flushing to 0 changes a softmax weight by less than 1e-37.
  batch const underflow(-87.3f);
  // max returns its second operand when a lane is NaN: x goes second so that NaN passes through.
  return xsimd::select(x < underflow, batch(0.0f), detail::exp_in_range<Arch>(xsimd::max(underflow, x)));
}

/// 2^y for every lane, saturated at both ends: below -126 it gives 2^-126 (1.2e-38), above 127.5 +inf
/// (including +inf); in between as `exp2_in_range`. NaN lanes give NaN. For 1 / (1 + 2^y) (sigmoid, tanh),
/// where both ends are then exact (1 and 0), and the two clamps are cheaper than exp's compare and selects.
template <class Arch> inline float_batch<Arch> exp2_saturated(float_batch<Arch> const& y) noexcept {
  using batch = float_batch<Arch>;
  // min and max return their second operand when a lane is NaN (x86 minps/maxps, NEON fmin/fmax return NaN):
  // y goes second so that NaN passes through both.
  return detail::exp2_in_range<Arch>(xsimd::max(batch(-126.0f), xsimd::min(batch(128.0f), y)));
}

} // namespace attnkit::simd

#pragma once
/// \file
/// A fast vector 2^y for the softmax inner loop (e^x as 2^(x log2 e)) and the sigmoid and tanh weights.
/// Scalar `expf` per element would cost more than the matrix products it sits between (PEERS.md: 15x
/// slower than a vector exp).

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
/// 127], 0 at -127, +inf at 128.
template <class Arch> inline float_batch<Arch> power_of_two(float_batch<Arch> const& biased) noexcept {
  using int_batch = xsimd::batch<std::int32_t, Arch>;
  return xsimd::bitwise_cast<float_batch<Arch>>(xsimd::bitwise_cast<int_batch>(biased) << 23);
}

/// 2^y for lanes already inside [-127, 128] (above 127.5, +inf; 2^-127 and below, 0): y = n + r with r in
/// [-0.5, 0.5] found by adds alone (exact), so the reduction costs the multiply pipes nothing, and n =
/// round(y) comes from adding 1.5 * 2^23 (the sum's low bits are the exponent field of 2^n, no round or
/// convert instruction). e^x is 2^(x log2 e): callers fold log2(e) into a multiply they do anyway. Relative
/// error below 2e-7. NaN gives NaN.
template <class Arch> inline float_batch<Arch> exp2_in_range(float_batch<Arch> const& y) noexcept {
  using batch = float_batch<Arch>;
  batch const shifter(exponent_shifter);
  batch const biased = y + shifter;
  batch const r = y - (biased - shifter);

  // A degree-5 minimax polynomial of e^t on |t| <= ln2 / 2 (relative error 7.5e-8), its coefficients times
  // (ln 2)^k to take r = t / ln 2.
  batch p(1.327647129e-3f);
  p = simd::fma(p, r, batch(9.675541893e-3f));
  p = simd::fma(p, r, batch(5.550713092e-2f));
  p = simd::fma(p, r, batch(2.402211875e-1f));
  p = simd::fma(p, r, batch(6.931470037e-1f));
  p = simd::fma(p, r, batch(1.000000119f));
  return p * power_of_two<Arch>(biased);
}

} // namespace detail

/// 2^y for y <= 0, the softmax weights 2^((s - max) log2 e): relative error below 3e-7 for y >= -126
/// (results from 2^-126 up); below -126.5, including -inf, exactly 0 (between, subnormal results); NaN lanes
/// give NaN. One clamp and no select: at n = -127 the exponent field is all zeros, so 2^n is 0 itself. y > 0
/// is outside the contract.
template <class Arch> inline float_batch<Arch> exp2_nonpositive(float_batch<Arch> const& y) noexcept {
  using batch = float_batch<Arch>;
  // max returns its second operand when a lane is NaN (x86 maxps, NEON fmax return NaN): y goes second.
  return detail::exp2_in_range<Arch>(xsimd::max(batch(-127.0f), y));
}

/// 2^y for every lane, saturated at both ends: below -126 it gives 2^-126 (1.2e-38), above 127.5 +inf
/// (including +inf); in between as `exp2_in_range`. NaN lanes give NaN. For 1 / (1 + 2^y) (sigmoid, tanh),
/// where both ends are then exact (1 and 0).
template <class Arch> inline float_batch<Arch> exp2_saturated(float_batch<Arch> const& y) noexcept {
  using batch = float_batch<Arch>;
  // min and max return their second operand when a lane is NaN (x86 minps/maxps, NEON fmin/fmax return NaN):
  // y goes second so that NaN passes through both.
  return detail::exp2_in_range<Arch>(xsimd::max(batch(-126.0f), xsimd::min(batch(128.0f), y)));
}

} // namespace attnkit::simd

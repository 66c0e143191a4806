#pragma once
// The accuracy contract of SEMANTICS.md, in one place.
//
// Why 1e-4 is the right size for fp32 kernels against an fp64 oracle: a score is a length-D dot
// product of order-1 entries, so its fp32 rounding error is about sqrt(D) * 2^-24 * |s| (< 1e-5 for
// D <= 256, |s| <= 10); exp turns an absolute score error into the same relative weight error, the
// vector exp adds 2e-7, and the weighted sum of Sk values adds about sqrt(Sk) * 2^-24 relative error
// (< 2e-5 for Sk <= 65536). Their sum stays below 1e-4 of the largest |v|, with room to spare.

#include <algorithm>
#include <cmath>

namespace attnkit::test {

/// Per-element bound on |O_fast - O_ref| given max |v| over the keys.
inline double output_tolerance(double max_abs_v) {
  return 1e-4 * std::max(1.0, max_abs_v);
}

/// Bound on |LSE_fast - LSE_ref|.
inline double lse_tolerance(double lse_ref) {
  return 1e-4 * std::max(1.0, std::fabs(lse_ref));
}

// Linear attention (SEMANTICS.md, "linear"): every weight w_ij = phi(q_i).phi(k_j) lambda^(p(i) - j) is a
// D-term dot product, rounded within D u |phi(q_i)|.|phi(k_j)| (u = 2^-24, |x|.|y| = sum_d |x_d| |y_d|);
// the kernel then sums C terms inside a chunk, N / C chunk sums into the state and D terms of phi(q) S,
// each addition adding u of the running magnitude. Worst case (2 D + C + N / C) u of sum_j |w_ij| |v_j|:
// below 1e-4 for D <= 128, C = 64, N <= 65536 (random rounding gives about its square root). The bound is
// relative to that magnitude, because an unnormalised output grows with N. Decay weights below the smallest
// normal float (1.2e-38) are flushed to 0 by the kernel, so outputs below 1e-30 count as 0.

/// Unnormalised linear attention: bound on |O_fast - O_ref| given sum_j |phi(q_i)|.|phi(k_j)| lambda^(p(i)-j)
/// max_d |v_jd| of the row.
inline double linear_unnormalised_tolerance(double abs_weighted_value) {
  return std::max(1e-30, 1e-4 * abs_weighted_value);
}

/// Normalised linear attention: o = num / den, so the relative errors of num and den (1e-4 of the magnitudes
/// above) become 1e-4 max|v| kappa^2, kappa = sum_j |w_ij|_abs / |den + eps|. Nonnegative feature maps
/// (elu1, relu) have kappa <= 1: exactly SEMANTICS.md's 1e-4 max(1, max|v|).
inline double linear_normalised_tolerance(double max_abs_v, double abs_weight, double denominator) {
  double const kappa = abs_weight / std::fabs(denominator);
  return output_tolerance(max_abs_v) * std::max(1.0, kappa * kappa);
}

} // namespace attnkit::test

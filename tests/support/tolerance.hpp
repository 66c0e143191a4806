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

} // namespace attnkit::test

#pragma once
// Compares a kernel's output with the fp64 reference under the SEMANTICS.md tolerance.

#include "tolerance.hpp"

#include <attnkit/reference/reference_attention.hpp>
#include <attnkit/tensor_view.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>

namespace attnkit::test {

/// Largest |v| over the value rows that KV head `kv_head` of batch `b` holds.
inline double max_abs(tensor_view<float const> const& v, std::int64_t b, std::int64_t kv_head) {
  double m = 0.0;
  for (std::int64_t s = 0; s < v.extent(2); ++s)
    for (std::int64_t d = 0; d < v.extent(3); ++d)
      m = std::max(m, std::fabs(static_cast<double>(v(b, kv_head, s, d))));
  return m;
}

/// Checks every element of o (and lse, when given) in the rows the reference computed; reports the first
/// failure.
inline void check_against_reference(reference::result const& ref, tensor_view<float const> const& v,
                                    tensor_view<float> const& o, tensor_view<float, 3> const& lse = {}) {
  std::int64_t const group = o.extent(1) / v.extent(1);
  double worst = 0.0;
  bool failed = false;
  for (std::int64_t b = 0; b < o.extent(0) && !failed; ++b)
    for (std::int64_t h = 0; h < o.extent(1) && !failed; ++h) {
      double const tol = output_tolerance(max_abs(v, b, h / group));
      ref.for_each_row([&](std::int64_t i) {
        for (std::int64_t d = 0; d < o.extent(3) && !failed; ++d) {
          double const got = o(b, h, i, d);
          double const want = ref.o(b, h, i, d);
          double const err = std::fabs(got - want);
          worst = std::max(worst, err / tol);
          if (!(err <= tol)) {
            std::ostringstream where;
            where << "o(" << b << ", " << h << ", " << i << ", " << d << ") = " << got << ", reference "
                  << want << ", tolerance " << tol;
            FAIL_CHECK(where.str());
            failed = true;
          }
        }
        if (failed || lse.data() == nullptr)
          return;
        double const got = lse(b, h, i);
        double const want = ref.l(b, h, i);
        bool const both_neg_inf = std::isinf(want) && want < 0 && std::isinf(got) && got < 0;
        if (!both_neg_inf && !(std::fabs(got - want) <= lse_tolerance(want))) {
          std::ostringstream where;
          where << "lse(" << b << ", " << h << ", " << i << ") = " << got << ", reference " << want;
          FAIL_CHECK(where.str());
          failed = true;
        }
      });
    }
  if (failed)
    return;
  INFO("worst error / tolerance = " << worst);
  SUCCEED();
}

} // namespace attnkit::test

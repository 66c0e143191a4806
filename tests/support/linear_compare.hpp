#pragma once
// Linear attention against its fp64 reference (attnkit/reference/linear.hpp), with the tolerances of
// tolerance.hpp: relative to each row's magnitude when unnormalised, SEMANTICS.md's bound when normalised.

#include "arch_sweep.hpp"
#include "compare.hpp"
#include "random_tensor.hpp"
#include "run_case.hpp"
#include "tolerance.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/linear.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>

namespace attnkit::test {

/// Checks every element of o against the reference; reports the first failure.
inline void check_linear(reference::linear_result const& ref, bool normalised,
                         tensor_view<float const> const& v, tensor_view<float const> const& o) {
  std::int64_t const group = o.extent(1) / v.extent(1);
  double worst = 0.0;
  for (std::int64_t b = 0; b < o.extent(0); ++b)
    for (std::int64_t h = 0; h < o.extent(1); ++h) {
      double const max_v = max_abs(v, b, h / group);
      for (std::int64_t i = 0; i < o.extent(2); ++i) {
        std::size_t const row = ref.row(b, h, i);
        double const tol = normalised
                               ? linear_normalised_tolerance(max_v, ref.abs_weight[row], ref.denominator[row])
                               : linear_unnormalised_tolerance(ref.abs_weighted_value[row]);
        for (std::int64_t d = 0; d < o.extent(3); ++d) {
          double const got = o(b, h, i, d);
          double const want = ref.values.o(b, h, i, d);
          double const err = std::fabs(got - want);
          if (tol > 0)
            worst = std::max(worst, err / tol);
          if (!(err <= tol)) {
            std::ostringstream where;
            where << "o(" << b << ", " << h << ", " << i << ", " << d << ") = " << got << ", reference "
                  << want << ", tolerance " << tol;
            FAIL_CHECK(where.str());
            return;
          }
        }
      }
    }
  INFO("worst error / tolerance = " << worst);
  SUCCEED();
}

/// Runs `attn` on `Arch` over the inputs of `c` (a fresh output per run) and returns the output tensor.
template <class Arch, class Attention>
tensor run_linear(Attention const& attn, random_case& c, int threads = 0) {
  tensor o(c.s.batch, c.s.q_heads, c.s.q_len, c.s.v_dim, c.s.mem, c.s.row_pad);
  std::fill(o.data.begin(), o.data.end(), 123.0f);
  attn.template run_on<Arch>(c.q.cview(), c.k.cview(), c.v.cview(), o.view(), {},
                             run_options{.threads = threads});
  return o;
}

/// Random inputs of `shape`, the reference once, then the kernel on every architecture against it.
template <class Attention>
void check_linear_every_arch(Attention const& attn, case_shape const& shape, std::uint32_t seed) {
  random_case c(shape, seed);
  auto const ref = reference::linear_attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
  for_each_arch([&](auto arch) {
    tensor o = run_linear<decltype(arch)>(attn, c);
    check_linear(ref, attn.normaliser().normalised(), c.v.cview(), o.cview());
  });
}

} // namespace attnkit::test

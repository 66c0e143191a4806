// The row helpers the kernels copy queries in, outputs out and rescale accumulators with: every length
// (whole registers and tails), unit and non-unit strides, on every architecture the binary has.

#include "support/arch_sweep.hpp"

#include <attnkit/arch/row_scale.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

/// 0.5, 1.5, ... with a sign that alternates, so that a misplaced element is visible.
std::vector<float> ramp(std::int64_t n) {
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    x[static_cast<std::size_t>(i)] = (i % 2 == 0 ? 1.0f : -1.0f) * (0.5f + static_cast<float>(i));
  return x;
}

} // namespace

TEST_CASE("scaled_copy: dst[d * dst_stride] = factor * src[d * src_stride], nothing else written", "[simd]") {
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    for (std::int64_t const dst_stride : {1, 3})
      for (std::int64_t const src_stride : {1, 2})
        for (std::int64_t n = 0; n <= 40; ++n) {
          std::vector<float> const src = ramp(n * src_stride);
          std::vector<float> dst(static_cast<std::size_t>(n * dst_stride + 1), -7.0f);
          attnkit::simd::scaled_copy<Arch>(dst.data(), dst_stride, src.data(), src_stride, n, 0.75f);
          INFO("n " << n << ", dst stride " << dst_stride << ", src stride " << src_stride);
          for (std::size_t e = 0; e < dst.size(); ++e) {
            bool const written = e % static_cast<std::size_t>(dst_stride) == 0 &&
                                 e / static_cast<std::size_t>(dst_stride) < static_cast<std::size_t>(n);
            float const want =
                written
                    ? 0.75f *
                          src[e / static_cast<std::size_t>(dst_stride) * static_cast<std::size_t>(src_stride)]
                    : -7.0f;
            CHECK(dst[e] == want); // one rounded product either way: exact
          }
        }
  });
}

TEST_CASE("scale_row: values[0, n) *= factor in place, the guard past n untouched", "[simd]") {
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    for (std::int64_t n = 0; n <= 40; ++n) {
      std::vector<float> v = ramp(n);
      v.push_back(-7.0f);
      attnkit::simd::scale_row<Arch>(v.data(), n, -2.5f);
      std::vector<float> const before = ramp(n);
      for (std::int64_t i = 0; i < n; ++i)
        CHECK(v[static_cast<std::size_t>(i)] == -2.5f * before[static_cast<std::size_t>(i)]);
      CHECK(v.back() == -7.0f);
    }
  });
}

TEST_CASE("blend_rows: into = a * into + b * from within its roundings of the exact value", "[simd]") {
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    for (std::int64_t n = 0; n <= 40; ++n) {
      std::vector<float> into = ramp(n), from = ramp(n);
      for (auto& x : from)
        x = 3.0f - x;
      into.push_back(-7.0f);
      std::vector<float> const before = into;
      float const a = 0.3f, b = 1.7f;
      attnkit::simd::blend_rows<Arch>(into.data(), a, from.data(), b, n);
      for (std::int64_t i = 0; i < n; ++i) {
        auto const k = static_cast<std::size_t>(i);
        double const ax = double(a) * before[k], by = double(b) * from[k], exact = ax + by;
        // At most three roundings (b * from, a * into unless fused, the sum), each half an ulp of its value.
        double const bound = 0x1p-24 * (std::fabs(ax) + std::fabs(by) + std::fabs(exact));
        INFO("n " << n << ", element " << i);
        CHECK(std::fabs(into[k] - exact) <= bound);
      }
      CHECK(into.back() == -7.0f);
    }
  });
}

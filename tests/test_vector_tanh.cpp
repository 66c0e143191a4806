// The vector tanh (softcap) against std::tanh in double, on every architecture, and map_row's tail.

#include "support/arch_sweep.hpp"

#include <attnkit/arch/row_map.hpp>
#include <attnkit/arch/vector_tanh.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace {

/// tanh of every input through map_row (so the tail path runs too).
template <class Arch> std::vector<float> vector_tanh(std::vector<float> x) {
  using batch = attnkit::simd::float_batch<Arch>;
  attnkit::simd::map_row<Arch>(x.data(), static_cast<std::int64_t>(x.size()),
                               [](batch v, std::int64_t) { return attnkit::simd::tanh<Arch>(v); });
  return x;
}

/// outer * tanh(inner * x) of every input through map_row.
template <class Arch> std::vector<float> vector_scaled_tanh(std::vector<float> x, float inner, float outer) {
  using batch = attnkit::simd::float_batch<Arch>;
  attnkit::simd::map_row<Arch>(x.data(), static_cast<std::int64_t>(x.size()), [=](batch v, std::int64_t) {
    return attnkit::simd::scaled_tanh<Arch>(v, inner, outer);
  });
  return x;
}

} // namespace

TEST_CASE("vector tanh: absolute error below 3e-7, exact limits, NaN stays NaN", "[tanh]") {
  float const inf = std::numeric_limits<float>::infinity();
  std::vector<float> x;
  for (double t = -20.0; t <= 20.0; t += 0.00731)
    x.push_back(static_cast<float>(t));
  for (float t : {0.0f, -0.0f, 1e-8f, -1e-8f, 1e4f, -1e4f, inf, -inf})
    x.push_back(t);
  x.push_back(std::numeric_limits<float>::quiet_NaN()); // last, and in the tail for most widths
  attnkit::test::for_each_arch([&](auto arch) {
    auto const y = vector_tanh<decltype(arch)>(x);
    double worst = 0.0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i)
      worst = std::max(worst, std::fabs(y[i] - std::tanh(static_cast<double>(x[i]))));
    INFO("worst absolute error " << worst);
    CHECK(worst < 3e-7);
    CHECK(std::isnan(y.back()));
  });
}

TEST_CASE("vector scaled tanh: outer * tanh(inner * x) within 3e-7 * |outer|, limits +-outer", "[tanh]") {
  float const inf = std::numeric_limits<float>::infinity();
  for (float const cap : {0.25f, 1.0f, 30.0f, 50.0f}) {
    std::vector<float> x;
    for (double t = -8.0 * cap; t <= 8.0 * cap; t += 0.00731 * cap)
      x.push_back(static_cast<float>(t));
    x.insert(x.end(), {0.0f, inf, -inf});
    attnkit::test::for_each_arch([&](auto arch) {
      auto const y = vector_scaled_tanh<decltype(arch)>(x, 1.0f / cap, cap);
      double worst = 0.0;
      for (std::size_t i = 0; i + 2 < x.size(); ++i)
        worst = std::max(worst, std::fabs(y[i] - cap * std::tanh(static_cast<double>(x[i]) / cap)));
      INFO("cap " << cap << ", worst absolute error " << worst);
      CHECK(worst < 3e-7 * cap);
      CHECK(y[y.size() - 2] == cap);
      CHECK(y.back() == -cap);
    });
  }
}

TEST_CASE("map_row: every length writes exactly [0, n)", "[tanh]") {
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    using batch = attnkit::simd::float_batch<Arch>;
    for (std::int64_t n = 0; n <= 40; ++n) {
      std::vector<float> v(static_cast<std::size_t>(n) + 1, 1.0f);
      v.back() = -5.0f; // a guard past the end
      attnkit::simd::map_row<Arch>(v.data(), n, [](batch x, std::int64_t j) {
        return x + batch(static_cast<float>(j)) + attnkit::simd::lane_offsets<Arch>();
      });
      for (std::int64_t j = 0; j < n; ++j)
        CHECK(v[static_cast<std::size_t>(j)] == 1.0f + static_cast<float>(j));
      CHECK(v.back() == -5.0f);
    }
  });
}

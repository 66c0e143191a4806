// The vector 2^y (the softmax's, and the saturated one of the sigmoid and tanh) against std::exp2 in double,
// on every architecture (the scalar oracle pattern).

#include "support/arch_sweep.hpp"

#include <attnkit/arch/vector_exp.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace {

enum class variant { nonpositive, saturated };

/// exp2_nonpositive or exp2_saturated of every input, computed a register at a time on Arch.
template <class Arch, variant Variant> std::vector<float> vector_exp2(std::vector<float> const& x) {
  using batch = attnkit::simd::float_batch<Arch>;
  constexpr std::size_t w = attnkit::simd::width<Arch>;
  std::vector<float> padded(x), out(x.size() + w);
  padded.resize((x.size() + w - 1) / w * w, 0.0f);
  for (std::size_t i = 0; i < padded.size(); i += w) {
    batch const y = batch::load_unaligned(padded.data() + i);
    if constexpr (Variant == variant::nonpositive)
      attnkit::simd::exp2_nonpositive<Arch>(y).store_unaligned(out.data() + i);
    else
      attnkit::simd::exp2_saturated<Arch>(y).store_unaligned(out.data() + i);
  }
  out.resize(x.size());
  return out;
}

/// The largest |got[i] - want(x[i])| / want(x[i]), want computed in double.
template <class Want>
double worst_relative_error(std::vector<float> const& x, std::vector<float> const& got, Want&& want) {
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double const w = want(static_cast<double>(x[i]));
    worst = std::max(worst, std::fabs(got[i] - w) / w);
  }
  return worst;
}

} // namespace

TEST_CASE("vector 2^y for y <= 0: relative error below 3e-7 on [-126, 0]", "[exp]") {
  std::vector<float> y;
  for (double t = -126.0; t <= 0.0; t += 0.0137)
    y.push_back(static_cast<float>(t));
  for (float t : {0.0f, -0.0f, -1e-8f, -0.5f, -0.49999997f, -0.50000006f, -1.0f, -126.0f})
    y.push_back(t);
  attnkit::test::for_each_arch([&](auto arch) {
    double const worst = worst_relative_error(y, vector_exp2<decltype(arch), variant::nonpositive>(y),
                                              [](double t) { return std::exp2(t); });
    INFO("worst relative error " << worst);
    CHECK(worst < 3e-7);
  });
}

TEST_CASE("vector 2^y for y <= 0: exactly 0 below -126.5, NaN stays NaN", "[exp]") {
  float const inf = std::numeric_limits<float>::infinity();
  std::vector<float> const low{-126.51f, -127.0f, -150.0f, -1e4f, -inf};
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    for (float const y : vector_exp2<Arch, variant::nonpositive>(low))
      CHECK(y == 0.0f);
    // Between -126.5 and -126 the result is subnormal: the polynomial's 2e-7 of 2^-126 (under 2 subnormal
    // steps of 2^-149) plus the rounding to a step.
    for (float const t : {-126.49f, -126.25f, -126.01f})
      CHECK(std::fabs(vector_exp2<Arch, variant::nonpositive>({t})[0] - std::exp2(static_cast<double>(t))) <=
            3.0 * std::exp2(-149.0));
    CHECK(std::isnan(vector_exp2<Arch, variant::nonpositive>({std::numeric_limits<float>::quiet_NaN()})[0]));
  });
}

TEST_CASE("vector 2^y: relative error below 3e-7 on [-126, 127]", "[exp]") {
  std::vector<float> y;
  for (double t = -126.0; t <= 127.0; t += 0.0137)
    y.push_back(static_cast<float>(t));
  for (float t : {0.0f, -0.0f, 1e-8f, -1e-8f, 0.5f, -0.5f, 0.49999997f, -126.0f, 127.0f, 127.49f})
    y.push_back(t);
  attnkit::test::for_each_arch([&](auto arch) {
    double const worst = worst_relative_error(y, vector_exp2<decltype(arch), variant::saturated>(y),
                                              [](double t) { return std::exp2(t); });
    INFO("worst relative error " << worst);
    CHECK(worst < 3e-7);
  });
}

TEST_CASE("vector 2^y, saturated: 2^-126 below the range, +inf above 127.5, NaN stays NaN", "[exp]") {
  float const inf = std::numeric_limits<float>::infinity();
  std::vector<float> const low{-126.5f, -150.0f, -1e4f, -inf};
  std::vector<float> const high{127.51f, 128.0f, 129.0f, 1e4f, inf};
  float const floor_value = std::exp2(-126.0f);
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    for (float const y : vector_exp2<Arch, variant::saturated>(low))
      CHECK(std::fabs(y - floor_value) / floor_value < 3e-7);
    for (float const y : vector_exp2<Arch, variant::saturated>(high))
      CHECK(y == inf);
    CHECK(std::isnan(vector_exp2<Arch, variant::saturated>({std::numeric_limits<float>::quiet_NaN()})[0]));
    // 1 / (1 + 2^y), the sigmoid and tanh weight it is built for, is exact at both ends.
    CHECK(1.0f / (1.0f + vector_exp2<Arch, variant::saturated>({inf})[0]) == 0.0f);
    CHECK(1.0f / (1.0f + vector_exp2<Arch, variant::saturated>({-inf})[0]) == 1.0f);
  });
}

// The vector exp and 2^y against std::exp and std::exp2 in double, on every architecture (the scalar oracle
// pattern).

#include "support/arch_sweep.hpp"

#include <attnkit/arch/vector_exp.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace {

/// exp (or exp2_saturated) of every input, computed a register at a time on Arch.
template <class Arch, bool Base2Saturated = false>
std::vector<float> vector_exp(std::vector<float> const& x) {
  using batch = attnkit::simd::float_batch<Arch>;
  constexpr std::size_t w = attnkit::simd::width<Arch>;
  std::vector<float> padded(x), out(x.size() + w);
  padded.resize((x.size() + w - 1) / w * w, 0.0f);
  for (std::size_t i = 0; i < padded.size(); i += w)
    if constexpr (Base2Saturated)
      attnkit::simd::exp2_saturated<Arch>(batch::load_unaligned(padded.data() + i))
          .store_unaligned(out.data() + i);
    else
      attnkit::simd::exp<Arch>(batch::load_unaligned(padded.data() + i)).store_unaligned(out.data() + i);
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

TEST_CASE("vector exp: relative error below 3e-7 on [-87.3, 88]", "[exp]") {
  std::vector<float> x;
  for (double t = -87.3; t <= 88.0; t += 0.0137)
    x.push_back(static_cast<float>(t));
  for (float t : {0.0f, -0.0f, 1e-8f, -1e-8f, 0.5f * std::log(2.0f), -0.5f * std::log(2.0f), -87.3f, 88.0f})
    x.push_back(t);
  attnkit::test::for_each_arch([&](auto arch) {
    double const worst =
        worst_relative_error(x, vector_exp<decltype(arch)>(x), [](double t) { return std::exp(t); });
    INFO("worst relative error " << worst);
    CHECK(worst < 3e-7);
  });
}

TEST_CASE("vector exp: underflow gives exactly 0, NaN stays NaN", "[exp]") {
  float const inf = std::numeric_limits<float>::infinity();
  std::vector<float> const x{-87.4f, -100.0f, -1e4f, -inf, std::numeric_limits<float>::quiet_NaN()};
  attnkit::test::for_each_arch([&](auto arch) {
    auto const y = vector_exp<decltype(arch)>(x);
    for (std::size_t i = 0; i + 1 < x.size(); ++i)
      CHECK(y[i] == 0.0f);
    CHECK(std::isnan(y.back()));
  });
}

TEST_CASE("vector 2^y: relative error below 3e-7 on [-126, 127]", "[exp]") {
  std::vector<float> y;
  for (double t = -126.0; t <= 127.0; t += 0.0137)
    y.push_back(static_cast<float>(t));
  for (float t : {0.0f, -0.0f, 1e-8f, -1e-8f, 0.5f, -0.5f, 0.49999997f, -126.0f, 127.0f, 127.49f})
    y.push_back(t);
  attnkit::test::for_each_arch([&](auto arch) {
    double const worst =
        worst_relative_error(y, vector_exp<decltype(arch), true>(y), [](double t) { return std::exp2(t); });
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
    for (float const y : vector_exp<Arch, true>(low))
      CHECK(std::fabs(y - floor_value) / floor_value < 3e-7);
    for (float const y : vector_exp<Arch, true>(high))
      CHECK(y == inf);
    CHECK(std::isnan(vector_exp<Arch, true>({std::numeric_limits<float>::quiet_NaN()})[0]));
    // 1 / (1 + 2^y), the sigmoid and tanh weight it is built for, is exact at both ends.
    CHECK(1.0f / (1.0f + vector_exp<Arch, true>({inf})[0]) == 0.0f);
    CHECK(1.0f / (1.0f + vector_exp<Arch, true>({-inf})[0]) == 1.0f);
  });
}

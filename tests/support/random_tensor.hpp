#pragma once
// Owning test tensors with a chosen memory layout, filled from a fixed seed.

#include <attnkit/tensor_view.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace attnkit::test {

enum class layout { bhsd, bshd };

/// A [B, H, S, D] tensor stored as `layout` says, optionally with padding after each row of D so that
/// strides are not the packed ones.
struct tensor {
  std::int64_t b = 0, h = 0, s = 0, d = 0;
  layout mem = layout::bhsd;
  std::int64_t row_pad = 0;
  std::vector<float> data;

  tensor(std::int64_t b_, std::int64_t h_, std::int64_t s_, std::int64_t d_, layout mem_ = layout::bhsd,
         std::int64_t row_pad_ = 0)
      : b(b_), h(h_), s(s_), d(d_), mem(mem_), row_pad(row_pad_),
        data(static_cast<std::size_t>(b_ * h_ * s_ * (d_ + row_pad_)), 0.0f) {}

  attnkit::tensor_view<float> view() {
    std::int64_t const row = d + row_pad;
    if (mem == layout::bhsd)
      return {data.data(), {b, h, s, d}, {h * s * row, s * row, row, 1}};
    return {data.data(), {b, h, s, d}, {s * h * row, row, h * row, 1}};
  }
  attnkit::tensor_view<float const> cview() { return view(); }

  float& at(std::int64_t bi, std::int64_t hi, std::int64_t si, std::int64_t di) {
    return view()(bi, hi, si, di);
  }
};

/// Fills with N(0, sigma^2) values: entries "of order 1" as SEMANTICS.md's accuracy clause assumes.
inline void fill_normal(tensor& t, std::uint32_t seed, float sigma = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  auto v = t.view();
  for (std::int64_t bi = 0; bi < t.b; ++bi)
    for (std::int64_t hi = 0; hi < t.h; ++hi)
      for (std::int64_t si = 0; si < t.s; ++si)
        for (std::int64_t di = 0; di < t.d; ++di)
          v(bi, hi, si, di) = dist(gen);
}

/// Fills with small integers in [-range, range]: products and sums of these are exact in fp32.
inline void fill_integers(tensor& t, std::uint32_t seed, int range) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-range, range);
  auto v = t.view();
  for (std::int64_t bi = 0; bi < t.b; ++bi)
    for (std::int64_t hi = 0; hi < t.h; ++hi)
      for (std::int64_t si = 0; si < t.s; ++si)
        for (std::int64_t di = 0; di < t.d; ++di)
          v(bi, hi, si, di) = static_cast<float>(dist(gen));
}

} // namespace attnkit::test

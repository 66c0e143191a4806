// The decode kernel's products on every architecture against double-precision sums: the transposing
// horizontal add, scores of one row against keys in place, and O += P V for 1 to 4 rows.

#include "support/arch_sweep.hpp"

#include <attnkit/arch/row_products.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

namespace {

std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(n);
  for (float& e : x)
    e = normal(gen);
  return x;
}

/// fp32 sums of `terms` products of N(0, 1) numbers: within terms * 2^-24 * sum |products|.
double sum_tolerance(std::int64_t terms, double abs_sum) {
  return (static_cast<double>(terms) + 2) * 0x1p-24 * abs_sum;
}

} // namespace

TEST_CASE("row products: transpose_sums gives lane i the sum of row i", "[simd][decode]") {
  attnkit::test::for_each_arch([](auto arch) {
    using Arch = decltype(arch);
    using batch = attnkit::simd::float_batch<Arch>;
    constexpr std::size_t w = attnkit::simd::width<Arch>;
    batch rows[w];
    for (std::size_t i = 0; i < w; ++i) {
      alignas(64) float lanes[w];
      for (std::size_t j = 0; j < w; ++j)
        lanes[j] = static_cast<float>(100 * i + j); // sums are exact in fp32
      rows[i] = batch::load_aligned(lanes);
    }
    alignas(64) float sums[w];
    attnkit::simd::transpose_sums<Arch>(rows).store_aligned(sums);
    for (std::size_t i = 0; i < w; ++i)
      CHECK(sums[i] == static_cast<float>(100 * i * w + w * (w - 1) / 2));
  });
}

/// rows_scores<Arch, Rows> for Rows query rows against n keys of a strided cache, checked against double dot
/// products; past n, up to the next whole block of keys, the last key's score repeats, and nothing further
/// is written.
template <class Arch, std::size_t Rows> void check_rows_scores(std::int64_t dim, std::int64_t n) {
  std::int64_t const stride = dim + 3; // rows of a strided cache
  std::int64_t const written = (n + attnkit::simd::score_keys<Arch, Rows> - 1) /
                               attnkit::simd::score_keys<Arch, Rows> * attnkit::simd::score_keys<Arch, Rows>;
  auto const q = random_floats(static_cast<std::size_t>(Rows * dim), 1);
  auto const k = random_floats(static_cast<std::size_t>(n * stride), 2);
  std::vector<std::vector<float>> scores(Rows, std::vector<float>(static_cast<std::size_t>(n + 32), 7.0f));
  float const* q_rows[Rows];
  float* score_rows[Rows];
  for (std::size_t r = 0; r < Rows; ++r) {
    q_rows[r] = q.data() + static_cast<std::int64_t>(r) * dim;
    score_rows[r] = scores[r].data();
  }
  attnkit::simd::rows_scores<Arch, Rows>(q_rows, dim, k.data(), stride, n, score_rows);
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::int64_t j = 0; j < n + 32; ++j) {
      INFO("rows " << Rows << " D " << dim << " n " << n << " row " << r << " key " << j);
      float const got = scores[r][static_cast<std::size_t>(j)];
      if (j >= written) {
        CHECK(got == 7.0f);
        continue;
      }
      std::int64_t const key = std::min(j, n - 1);
      double want = 0.0, abs_sum = 0.0;
      for (std::int64_t d = 0; d < dim; ++d) {
        double const t = static_cast<double>(q_rows[r][d]) * k[static_cast<std::size_t>(key * stride + d)];
        want += t;
        abs_sum += std::fabs(t);
      }
      CHECK(std::fabs(got - want) <= sum_tolerance(dim, abs_sum));
    }
}

TEST_CASE("row products: rows_scores against double dot products", "[simd][decode]") {
  attnkit::test::for_each_arch([](auto arch) {
    using Arch = decltype(arch);
    for (std::int64_t dim : {1, 3, 16, 80, 128, 256})
      for (std::int64_t n : {1, 2, 5, 16, 17, 64}) {
        check_rows_scores<Arch, 1>(dim, n);
        check_rows_scores<Arch, 2>(dim, n);
        check_rows_scores<Arch, 4>(dim, n);
      }
  });
}

TEST_CASE("row products: rows_times_values against double sums", "[simd][decode]") {
  attnkit::test::for_each_arch([](auto arch) {
    using Arch = decltype(arch);
    auto check_rows = [](auto rows_tag, std::int64_t v_dim, std::int64_t n) {
      constexpr std::size_t rows = decltype(rows_tag)::value;
      std::int64_t const stride = v_dim + 5;
      auto const p = random_floats(rows * static_cast<std::size_t>(n), 3);
      auto const v = random_floats(static_cast<std::size_t>(n * stride), 4);
      auto out = random_floats(rows * static_cast<std::size_t>(v_dim), 5);
      auto const before = out;
      float const* weights[rows];
      float* outs[rows];
      for (std::size_t r = 0; r < rows; ++r) {
        weights[r] = p.data() + r * static_cast<std::size_t>(n);
        outs[r] = out.data() + r * static_cast<std::size_t>(v_dim);
      }
      attnkit::simd::rows_times_values<Arch, rows>(weights, v.data(), stride, n, v_dim, outs);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::int64_t d = 0; d < v_dim; ++d) {
          std::size_t const at = r * static_cast<std::size_t>(v_dim) + static_cast<std::size_t>(d);
          double want = before[at], abs_sum = std::fabs(want);
          for (std::int64_t j = 0; j < n; ++j) {
            double const t = static_cast<double>(weights[r][j]) * v[static_cast<std::size_t>(j * stride + d)];
            want += t;
            abs_sum += std::fabs(t);
          }
          INFO("rows " << rows << " Dv " << v_dim << " n " << n << " row " << r << " column " << d);
          CHECK(std::fabs(out[at] - want) <= sum_tolerance(n, abs_sum));
        }
    };
    for (std::int64_t v_dim : {1, 7, 16, 80, 128, 256})
      for (std::int64_t n : {1, 9, 64}) {
        // Every row count the decode kernel uses on this arch: 1 .. value_rows (4 on AVX-512, 2 elsewhere).
        check_rows(std::integral_constant<std::size_t, 1>{}, v_dim, n);
        check_rows(std::integral_constant<std::size_t, 2>{}, v_dim, n);
        if constexpr (attnkit::simd::value_rows<Arch> >= 4) {
          check_rows(std::integral_constant<std::size_t, 3>{}, v_dim, n);
          check_rows(std::integral_constant<std::size_t, 4>{}, v_dim, n);
        }
      }
  });
}

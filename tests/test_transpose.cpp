// The 8 x 8 in-register transpose that packs K^T on AVX: every element lands where the definition says,
// with strided rows in and a strided destination out.

#include "support/arch_sweep.hpp"

#include <attnkit/arch/transpose.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

TEST_CASE("transpose 8 x 8: dst[k][i] = rows[i][k] on every AVX arch the binary has", "[simd]") {
  bool ran = false;
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    if constexpr (attnkit::simd::has_transpose_8x8<Arch>) {
      constexpr std::int64_t row_stride = 13, dst_stride = 11;
      std::vector<float> source(8 * row_stride), dst(8 * dst_stride, -1.0f);
      for (std::size_t e = 0; e < source.size(); ++e)
        source[e] = static_cast<float>(e);
      float const* rows[8];
      for (std::int64_t i = 0; i < 8; ++i)
        rows[i] = source.data() + i * row_stride + 2; // not aligned, not from each row's start
      attnkit::simd::transpose_8x8<Arch>(rows, dst.data(), dst_stride);
      for (std::int64_t k = 0; k < 8; ++k)
        for (std::int64_t i = 0; i < dst_stride; ++i) {
          INFO("dst row " << k << " column " << i);
          CHECK(dst[static_cast<std::size_t>(k * dst_stride + i)] == (i < 8 ? rows[i][k] : -1.0f));
        }
      ran = true;
    }
  });
  using avx2 = xsimd::fma3<xsimd::avx2>;
  if constexpr (avx2::supported())
    if (attnkit::simd::is_usable<avx2>())
      CHECK(ran); // an AVX2 build on an AVX2 CPU must have run it
}

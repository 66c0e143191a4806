// Tile sizes come from the cache sizes of the CPU the program runs on (issue 9), not from constants.

#include <attnkit/kernels/cache_sizes.hpp>
#include <attnkit/kernels/tile_shape.hpp>

#include <catch2/catch.hpp>

#include <cstdint>

using attnkit::detail::choose_tile_shape;

TEST_CASE("cache sizes: sysfs text is parsed, the host's sizes are plausible", "[tiles]") {
  CHECK(attnkit::detail::parse_cache_size("32K") == 32 << 10);
  CHECK(attnkit::detail::parse_cache_size("512K\n") == 512 << 10);
  CHECK(attnkit::detail::parse_cache_size("32768K") == 32 << 20);
  CHECK(attnkit::detail::parse_cache_size("8M") == 8 << 20);
  CHECK(attnkit::detail::parse_cache_size("") == 0);
  CHECK(attnkit::detail::parse_cache_size("n/a") == 0);
  auto const& host = attnkit::detail::host_cache_sizes();
  INFO("L1 " << host.l1 << " L2 " << host.l2 << " L3 " << host.l3);
  CHECK(host.l1 >= (8 << 10));
  CHECK(host.l2 >= (128 << 10));
  CHECK(host.l3 >= (1 << 20));
}

TEST_CASE("tile shape: the key tile is the longest whose working set fits 3/4 of the L2", "[tiles]") {
  using arch = xsimd::default_arch;
  using blocking = attnkit::simd::register_blocking<arch>;
  auto const mr = static_cast<std::int64_t>(blocking::rows),
             nr = static_cast<std::int64_t>(blocking::columns);
  for (std::int64_t l2 : {256 << 10, 512 << 10, 1 << 20, 2 << 20})
    for (std::int64_t dim : {1, 16, 64, 100, 128, 256})
      for (std::int64_t q_len : {1, 5, 64, 4096}) {
        INFO("L2 " << l2 << " D " << dim << " Sq " << q_len);
        auto const t = choose_tile_shape<arch>(q_len, dim, dim, l2);
        CHECK(t.rows % mr == 0);
        CHECK(t.rows <= attnkit::detail::max_tile_rows);
        CHECK(t.rows >= std::min<std::int64_t>(q_len, attnkit::detail::max_tile_rows / mr * mr));
        CHECK(t.cols % nr == 0);
        CHECK(t.cols % 16 == 0); // K packing writes groups of up to 16 keys
        CHECK(t.v_cols % nr == 0);
        CHECK(t.v_cols >= dim);
        auto const bytes = [&](std::int64_t cols) {
          return 4 * (t.rows * (dim + cols + t.v_cols) + cols * (dim + t.v_cols));
        };
        CHECK((t.cols == 64 || bytes(t.cols) <= l2 * 3 / 4));     // fits, or is the smallest tile
        CHECK((t.cols == 256 || bytes(2 * t.cols) > l2 * 3 / 4)); // and is the longest that fits
      }
}

TEST_CASE("tile shape: a 512 KiB L2 (Zen 3) and a 1 MiB L2 (Zen 4/5) at D = 128", "[tiles]") {
  // The same on every arch: query blocks of 60 (6-row register blocks) or 64 rows (8-row ones).
  using arch = xsimd::default_arch;
  CHECK(choose_tile_shape<arch>(4096, 128, 128, 512 << 10).cols == 256);
  CHECK(choose_tile_shape<arch>(4096, 256, 256, 512 << 10).cols == 64);
  CHECK(choose_tile_shape<arch>(4096, 64, 64, 512 << 10).cols == 256);
  CHECK(choose_tile_shape<arch>(4096, 128, 128, 1 << 20).cols == 256);
}

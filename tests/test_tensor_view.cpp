// Strided views: layouts, conversions.

#include <attnkit/tensor_view.hpp>

#include <catch2/catch.hpp>

#include <vector>

TEST_CASE("tensor_view: bhsd is packed row-major", "[tensor_view]") {
  std::vector<float> buf(2 * 3 * 4 * 5);
  auto const t = attnkit::bhsd(buf.data(), 2, 3, 4, 5);
  CHECK(t.stride(0) == 60);
  CHECK(t.stride(1) == 20);
  CHECK(t.stride(2) == 5);
  CHECK(t.stride(3) == 1);
  CHECK(&t(1, 2, 3, 4) == buf.data() + 60 + 40 + 15 + 4);
  CHECK(t.size() == 120);
}

TEST_CASE("tensor_view: bshd indexes [B, H, S, D] over [B, S, H, D] memory", "[tensor_view]") {
  std::vector<float> buf(2 * 4 * 3 * 5);
  auto const t = attnkit::bshd(buf.data(), 2, 4, 3, 5); // B = 2, S = 4, H = 3, D = 5
  CHECK(t.extent(1) == 3);
  CHECK(t.extent(2) == 4);
  // element (b=1, h=2, s=3, d=4) lives at ((1 * 4 + 3) * 3 + 2) * 5 + 4
  CHECK(&t(1, 2, 3, 4) == buf.data() + ((1 * 4 + 3) * 3 + 2) * 5 + 4);
}

TEST_CASE("tensor_view: a mutable view converts to a read-only one", "[tensor_view]") {
  std::vector<float> buf(8);
  attnkit::tensor_view<float> const m = attnkit::bhsd(buf.data(), 1, 1, 2, 4);
  attnkit::tensor_view<float const> const c = m;
  CHECK(c.data() == buf.data());
  CHECK(c.strides() == m.strides());
  STATIC_REQUIRE_FALSE(std::is_convertible_v<attnkit::tensor_view<float const>, attnkit::tensor_view<float>>);
}

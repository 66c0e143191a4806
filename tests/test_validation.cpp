// Bad input raises std::invalid_argument naming the argument and the values.

#include "support/random_tensor.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <limits>
#include <optional>
#include <stdexcept>
#include <vector>

using attnkit::tensor_view;
using Catch::Matchers::Contains;

namespace {

struct buffers {
  std::vector<float> q, k, v, o, lse;
  buffers() : q(2 * 4 * 8 * 16), k(2 * 2 * 10 * 16), v(2 * 2 * 10 * 12), o(2 * 4 * 8 * 12), lse(2 * 4 * 8) {}
  tensor_view<float const> qv() const { return attnkit::bhsd(q.data(), 2, 4, 8, 16); }
  tensor_view<float const> kv() const { return attnkit::bhsd(k.data(), 2, 2, 10, 16); }
  tensor_view<float const> vv() const { return attnkit::bhsd(v.data(), 2, 2, 10, 12); }
  tensor_view<float> ov() { return attnkit::bhsd(o.data(), 2, 4, 8, 12); }
  tensor_view<float, 3> lv() { return attnkit::bhs(lse.data(), 2, 4, 8); }
};

attnkit::attention<attnkit::softmax, attnkit::causal> const attn{};

} // namespace

TEST_CASE("validation: a good call passes", "[validation]") {
  buffers b;
  CHECK_NOTHROW(attn(b.qv(), b.kv(), b.vv(), b.ov(), b.lv()));
}

TEST_CASE("validation: mismatched shapes name the argument and both values", "[validation]") {
  buffers b;
  CHECK_THROWS_WITH(attn(b.qv(), attnkit::bhsd(b.k.data(), 1, 2, 10, 16), b.vv(), b.ov()),
                    Contains("k.extent(0) (batch) = 1") && Contains("q.extent(0) (batch) = 2"));
  CHECK_THROWS_WITH(attn(b.qv(), b.kv(), attnkit::bhsd(b.v.data(), 2, 2, 9, 12), b.ov()),
                    Contains("v.extent(2) (seq) = 9") && Contains("k.extent(2) (seq) = 10"));
  CHECK_THROWS_WITH(attn(b.qv(), attnkit::bhsd(b.k.data(), 2, 2, 10, 15), b.vv(), b.ov()),
                    Contains("k.extent(3) (dim) = 15") && Contains("q.extent(3) (dim) = 16"));
  CHECK_THROWS_WITH(attn(b.qv(), b.kv(), b.vv(), attnkit::bhsd(b.o.data(), 2, 4, 8, 11)),
                    Contains("o.extent(3) (dim) = 11") && Contains("v.extent(3) (dim) = 12"));
  CHECK_THROWS_WITH(attn(b.qv(), b.kv(), b.vv(), attnkit::bhsd(b.o.data(), 2, 4, 7, 12)),
                    Contains("o.extent(2) (seq) = 7"));
  CHECK_THROWS_WITH(attn(b.qv(), b.kv(), b.vv(), b.ov(), attnkit::bhs(b.lse.data(), 2, 4, 9)),
                    Contains("lse.extent(2) (seq) = 9"));
  CHECK_THROWS_AS(attn(b.qv(), b.kv(), b.vv(), attnkit::bhsd(b.o.data(), 2, 3, 8, 12)),
                  std::invalid_argument);
}

TEST_CASE("validation: head counts must divide", "[validation]") {
  buffers b;
  std::vector<float> k3(2 * 3 * 10 * 16), v3(2 * 3 * 10 * 12);
  CHECK_THROWS_WITH(
      attn(b.qv(), attnkit::bhsd(k3.data(), 2, 3, 10, 16), attnkit::bhsd(v3.data(), 2, 3, 10, 12), b.ov()),
      Contains("q.extent(1) = 4") && Contains("k.extent(1) = 3") && Contains("not a multiple"));
  CHECK_THROWS_WITH(
      attn(b.qv(), attnkit::bhsd(b.k.data(), 2, 0, 10, 16), attnkit::bhsd(b.v.data(), 2, 0, 10, 12), b.ov()),
      Contains("k.extent(1) (heads) must be >= 1, got 0"));
}

TEST_CASE("validation: zero or negative sizes where not allowed", "[validation]") {
  buffers b;
  CHECK_THROWS_WITH(
      attn(attnkit::bhsd(b.q.data(), 2, 4, 8, 0), attnkit::bhsd(b.k.data(), 2, 2, 10, 0), b.vv(), b.ov()),
      Contains("q.extent(3) (dim) must be >= 1, got 0"));
  CHECK_THROWS_WITH(attn(attnkit::bhsd(b.q.data(), 2, 4, -8, 16), b.kv(), b.vv(), b.ov()),
                    Contains("q.extent(2) must be >= 0, got -8"));
  CHECK_THROWS_WITH(attn(b.qv(), b.kv(), b.vv(), b.ov(), attnkit::run_options{.threads = -1}),
                    Contains("run_options.threads must be >= 0, got -1"));
}

TEST_CASE("validation: null data and negative strides", "[validation]") {
  buffers b;
  CHECK_THROWS_WITH(attn(attnkit::bhsd<float const>(nullptr, 2, 4, 8, 16), b.kv(), b.vv(), b.ov()),
                    Contains("q has 1024 elements but a null data pointer"));
  CHECK_THROWS_WITH(attn(b.qv(), b.kv(), b.vv(), b.ov(), attnkit::bhs<float>(nullptr, 2, 4, 8)),
                    Contains("lse has a null data pointer"));
  tensor_view<float const> const reversed(b.q.data() + 15, {2, 4, 8, 16}, {512, 128, 16, -1});
  CHECK_THROWS_WITH(attn(reversed, b.kv(), b.vv(), b.ov()), Contains("q.stride(3) must be >= 0, got -1"));
}

TEST_CASE("validation: outputs must not alias inputs or themselves", "[validation]") {
  buffers b;
  std::vector<float> shared(4096);
  auto const q_in_shared = attnkit::bhsd<float const>(shared.data(), 2, 4, 8, 16);
  CHECK_THROWS_WITH(attn(q_in_shared, b.kv(), b.vv(), attnkit::bhsd(shared.data() + 100, 2, 4, 8, 12)),
                    Contains("o overlaps q"));
  CHECK_THROWS_WITH(attn(b.qv(), b.kv(), b.vv(), b.ov(), attnkit::bhs(b.o.data() + 5, 2, 4, 8)),
                    Contains("lse overlaps o"));
  tensor_view<float> const broadcast_out(b.o.data(), {2, 4, 8, 12}, {0, 96, 12, 1});
  CHECK_THROWS_WITH(attn(b.qv(), b.kv(), b.vv(), broadcast_out),
                    Contains("o has strides that map several elements"));
  // Inputs may alias each other (self-attention with q = k = v).
  std::vector<float> qkv(2 * 4 * 8 * 16);
  auto const x = attnkit::bhsd<float const>(qkv.data(), 2, 4, 8, 16);
  std::vector<float> out(2 * 4 * 8 * 16);
  CHECK_NOTHROW(attn(x, x, x, attnkit::bhsd(out.data(), 2, 4, 8, 16)));
}

TEST_CASE("validation: a non-finite scale is rejected", "[validation]") {
  buffers b;
  float const bad = GENERATE(std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity());
  attnkit::attention<attnkit::softmax> const scaled{{.scale = bad}};
  CHECK_THROWS_WITH(scaled(b.qv(), b.kv(), b.vv(), b.ov()),
                    Contains("attention_options.scale must be finite"));
}

TEST_CASE("options: the scale is a float or none, as with std::optional", "[validation]") {
  attnkit::attention_options const none{}, cleared{.scale = std::nullopt}, given{.scale = 0.25f};
  CHECK_FALSE(none.scale);
  CHECK_FALSE(cleared.scale.has_value());
  CHECK_THROWS_AS(none.scale.value(), std::bad_optional_access);
  CHECK(none.scale.value_or(3.0f) == 3.0f);
  REQUIRE(given.scale);
  CHECK(*given.scale == 0.25f);
  CHECK(given.scale.value() == 0.25f);
  CHECK(given.scale.value_or(3.0f) == 0.25f);
  // Code that kept the scale in a std::optional<float> still compiles.
  std::optional<float> const held = 0.5f, empty;
  attnkit::attention_options const from_held{.scale = held}, from_empty{.scale = empty};
  CHECK(*from_held.scale == 0.5f);
  CHECK_FALSE(from_empty.scale);
  // Unset means 1 / sqrt(Dqk).
  CHECK(attnkit::attention<attnkit::softmax>{none}.scale_for(16) == 0.25f);
  CHECK(attnkit::attention<attnkit::softmax>{given}.scale_for(64) == 0.25f);
}

TEST_CASE("validation: extents whose size overflows 64 bits", "[validation]") {
  buffers b;
  std::int64_t const huge = std::int64_t{1} << 40;
  CHECK_THROWS_WITH(attn(attnkit::bhsd(b.q.data(), huge, huge, 8, 16), b.kv(), b.vv(), b.ov()),
                    Contains("q has extents and strides whose element count or extent in memory overflows"));
  attnkit::tensor_view<float const> const far(b.k.data(), {2, 2, 10, 16}, {0, 0, std::int64_t{1} << 62, 1});
  CHECK_THROWS_WITH(attn(b.qv(), far, b.vv(), b.ov()), Contains("k has extents and strides"));
}

// Degenerate but valid input: huge logits, rows with nothing visible, NaN rows, empty sizes.

#include "support/arch_sweep.hpp"
#include "support/compare.hpp"
#include "support/random_tensor.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using attnkit::test::tensor;

namespace {
using causal_attention = attnkit::attention<attnkit::softmax, attnkit::causal>;
using full_attention = attnkit::attention<attnkit::softmax>;
constexpr float neg_inf = -std::numeric_limits<float>::infinity();
} // namespace

TEST_CASE("edge: scores up to |1e4| neither overflow nor lose accuracy", "[edge]") {
  // Integer q, k with |entries| <= 40 / sqrt(D / 16) and a power-of-two scale: every score is an exact
  // fp32 integer, so the fp64 tolerance applies unchanged (SEMANTICS.md, "Edge cases"). Every third key
  // copies a query row, which puts scores near +1e4 next to ordinary ones.
  std::int64_t const dim = GENERATE(16, 64);
  int const range = dim == 16 ? 40 : 20;
  tensor q(1, 2, 70, dim), k(1, 2, 150, dim), v(1, 2, 150, 8), o(1, 2, 70, 8);
  attnkit::test::fill_integers(q, 1, range);
  attnkit::test::fill_integers(k, 2, range);
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 150; j += 3)
      for (int d = 0; d < dim; ++d)
        k.at(0, h, j, d) = q.at(0, h, (j / 3) % 70, d);
  attnkit::test::fill_normal(v, 3);
  std::vector<float> lse_buf(2 * 70);
  auto const lse = attnkit::bhs(lse_buf.data(), 1, 2, 70);
  causal_attention const attn{{.scale = 1.0f}};
  auto const ref = attnkit::reference::attention(attn, q.cview(), k.cview(), v.cview());
  double max_lse = 0;
  for (double l : ref.lse)
    max_lse = std::max(max_lse, std::fabs(l));
  INFO("largest |LSE| " << max_lse);
  CHECK(max_lse > 5000.0); // the case really has huge logits
  attnkit::test::for_each_arch([&](auto arch) {
    attn.run_on<decltype(arch)>(q.cview(), k.cview(), v.cview(), o.view(), lse);
    attnkit::test::check_against_reference(ref, v.cview(), o.view(), lse);
  });
}

TEST_CASE("edge: rows with no visible key give 0 and LSE = -inf", "[edge]") {
  SECTION("Sk = 0") {
    tensor q(2, 2, 9, 4), k(2, 1, 0, 4), v(2, 1, 0, 3), o(2, 2, 9, 3);
    attnkit::test::fill_normal(q, 5);
    std::fill(o.data.begin(), o.data.end(), 7.0f);
    std::vector<float> lse_buf(2 * 2 * 9, 7.0f);
    full_attention{}(q.cview(), k.cview(), v.cview(), o.view(), attnkit::bhs(lse_buf.data(), 2, 2, 9));
    for (float x : o.data)
      CHECK(x == 0.0f);
    for (float l : lse_buf)
      CHECK(l == neg_inf);
  }
  SECTION("top-left causal with Sq > Sk hides nothing, bottom-right hides the first Sq - Sk rows") {
    // Bottom-right with Sq = 70 > Sk = 20: p(i) = i - 50, so rows 0..49 see no key.
    tensor q(1, 1, 70, 16), k(1, 1, 20, 16), v(1, 1, 20, 16), o(1, 1, 70, 16);
    attnkit::test::fill_normal(q, 6);
    attnkit::test::fill_normal(k, 7);
    attnkit::test::fill_normal(v, 8);
    v.at(0, 0, 19, 3) =
        std::numeric_limits<float>::quiet_NaN(); // hidden from row 49 and before; must not leak
    std::vector<float> lse_buf(70);
    auto const lse = attnkit::bhs(lse_buf.data(), 1, 1, 70);
    attnkit::test::for_each_arch([&](auto arch) {
      causal_attention{}.run_on<decltype(arch)>(q.cview(), k.cview(), v.cview(), o.view(), lse);
      for (int i = 0; i < 50; ++i) {
        CHECK(lse_buf[static_cast<std::size_t>(i)] == neg_inf);
        for (int d = 0; d < 16; ++d)
          CHECK(o.at(0, 0, i, d) == 0.0f);
      }
      for (int i = 50; i < 70; ++i) {
        CHECK(std::isfinite(lse_buf[static_cast<std::size_t>(i)]));
        CHECK(std::isnan(o.at(0, 0, i, 3)) == (i == 69)); // only row 69 sees key 19
        CHECK(std::isfinite(o.at(0, 0, i, 2)));
      }
    });
  }
}

TEST_CASE("edge: a NaN in one query row stays in that row", "[edge]") {
  tensor q(1, 1, 100, 16), k(1, 1, 300, 16), v(1, 1, 300, 16), o(1, 1, 100, 16);
  attnkit::test::fill_normal(q, 9);
  attnkit::test::fill_normal(k, 10);
  attnkit::test::fill_normal(v, 11);
  int const bad_row = GENERATE(0, 37, 99);
  q.at(0, 0, bad_row, 5) = std::numeric_limits<float>::quiet_NaN();
  causal_attention const attn{};
  auto const ref = attnkit::reference::attention(attn, q.cview(), k.cview(), v.cview());
  attnkit::test::for_each_arch([&](auto arch) {
    attn.run_on<decltype(arch)>(q.cview(), k.cview(), v.cview(), o.view(), {});
    for (int i = 0; i < 100; ++i)
      for (int d = 0; d < 16; ++d) {
        if (i == bad_row) {
          CHECK(std::isnan(o.at(0, 0, i, d)));
        } else {
          CHECK(std::fabs(o.at(0, 0, i, d) - ref.o(0, 0, i, d)) <= 1e-4 * 5);
        }
      }
  });
}

TEST_CASE("edge: a NaN key poisons exactly the rows that see it", "[edge]") {
  // Key 150 is NaN: under bottom-right causal with Sq = Sk = 200, rows 150.. see it, rows before do not.
  tensor q(1, 1, 200, 16), k(1, 1, 200, 16), v(1, 1, 200, 16), o(1, 1, 200, 16);
  attnkit::test::fill_normal(q, 12);
  attnkit::test::fill_normal(k, 13);
  attnkit::test::fill_normal(v, 14);
  k.at(0, 0, 150, 2) = std::numeric_limits<float>::quiet_NaN();
  attnkit::test::for_each_arch([&](auto arch) {
    causal_attention{}.run_on<decltype(arch)>(q.cview(), k.cview(), v.cview(), o.view(), {});
    for (int i = 0; i < 200; ++i)
      CHECK(std::isnan(o.at(0, 0, i, 0)) == (i >= 150));
    attnkit::attention<attnkit::sigmoid, attnkit::causal>{}.run_on<decltype(arch)>(q.cview(), k.cview(),
                                                                                   v.cview(), o.view(), {});
    for (int i = 0; i < 200; ++i)
      CHECK(std::isnan(o.at(0, 0, i, 0)) == (i >= 150)); // sigmoid: a NaN score gives a NaN weight
  });
}

namespace {
/// V holds a NaN at key `bad`: checks that exactly the rows that see that key (by the reference's rule)
/// get a NaN output, whichever way the mask hides keys (its hide_row hook or the per-key fallback).
template <class Attention> void check_nan_value_reaches_only_its_rows(Attention const& attn, int bad) {
  constexpr int len = 200;
  tensor q(1, 1, len, 16), k(1, 1, len, 16), v(1, 1, len, 8), o(1, 1, len, 8);
  attnkit::test::fill_normal(q, 15);
  attnkit::test::fill_normal(k, 16);
  attnkit::test::fill_normal(v, 17);
  v.at(0, 0, bad, 3) = std::numeric_limits<float>::quiet_NaN();
  attnkit::test::for_each_arch([&](auto arch) {
    attn.template run_on<decltype(arch)>(q.cview(), k.cview(), v.cview(), o.view(), {});
    for (int i = 0; i < len; ++i) {
      attnkit::reference::pair_coords const c{0, 0, 1, i, i, bad, len, len};
      INFO("row " << i);
      CHECK(std::isnan(o.at(0, 0, i, 3)) == attnkit::reference::visible(attn.mask(), c));
      CHECK(std::isfinite(o.at(0, 0, i, 2)));
    }
  });
}
} // namespace

TEST_CASE("edge: a NaN value reaches exactly the rows that see its key, under every kind of mask", "[edge]") {
  using attnkit::sliding_window;
  check_nan_value_reaches_only_its_rows(
      attnkit::attention<attnkit::softmax, sliding_window>{{}, {}, sliding_window(40, 3, 2)}, 120);
  check_nan_value_reaches_only_its_rows(
      attnkit::attention<attnkit::softmax, attnkit::sink_window>{{}, {}, attnkit::sink_window::causal(2, 30)},
      1);
  check_nan_value_reaches_only_its_rows(
      attnkit::attention<attnkit::softmax, attnkit::visible_if_any<sliding_window, attnkit::neighbourhood>>{
          {}, {}, {sliding_window(5, 0), attnkit::neighbourhood(21)}},
      90);
  // Sigmoid weighs each key on its own: a hidden key's weight is exactly 0 and must not reach its NaN value.
  check_nan_value_reaches_only_its_rows(
      attnkit::attention<attnkit::sigmoid, attnkit::sink_window>{{}, {}, attnkit::sink_window::causal(2, 30)},
      1);
  check_nan_value_reaches_only_its_rows(attnkit::attention<attnkit::sigmoid, attnkit::causal>{}, 120);
}

TEST_CASE("edge: B = 0, Sq = 0 and Sk = 0 are valid", "[edge]") {
  tensor q0(0, 2, 5, 4), k0(0, 2, 5, 4), v0(0, 2, 5, 4), o0(0, 2, 5, 4);
  CHECK_NOTHROW(full_attention{}(q0.cview(), k0.cview(), v0.cview(), o0.view()));
  tensor q1(1, 2, 0, 4), k1(1, 2, 5, 4), v1(1, 2, 5, 4), o1(1, 2, 0, 4);
  CHECK_NOTHROW(causal_attention{}(q1.cview(), k1.cview(), v1.cview(), o1.view()));
  // Null data is fine when a view has no elements.
  CHECK_NOTHROW(full_attention{}(
      attnkit::bhsd<float const>(nullptr, 1, 1, 0, 4), attnkit::bhsd<float const>(nullptr, 1, 1, 0, 4),
      attnkit::bhsd<float const>(nullptr, 1, 1, 0, 4), attnkit::bhsd<float>(nullptr, 1, 1, 0, 4)));
}

TEST_CASE("edge: one token attends to itself", "[edge]") {
  tensor q(1, 1, 1, 7), k(1, 1, 1, 7), v(1, 1, 1, 5), o(1, 1, 1, 5);
  attnkit::test::fill_normal(q, 15);
  attnkit::test::fill_normal(k, 16);
  attnkit::test::fill_normal(v, 17);
  causal_attention{}(q.cview(), k.cview(), v.cview(), o.view());
  for (int d = 0; d < 5; ++d)
    CHECK(o.at(0, 0, 0, d) == Approx(v.at(0, 0, 0, d)).epsilon(1e-6));
}

// The oracle checked on cases small enough to work out by hand.

#include "support/random_tensor.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using attnkit::test::tensor;

TEST_CASE("reference: zero queries average the values uniformly", "[reference]") {
  tensor q(1, 1, 2, 3), k(1, 1, 4, 3), v(1, 1, 4, 2);
  attnkit::test::fill_normal(k, 1);
  for (int j = 0; j < 4; ++j) {
    v.at(0, 0, j, 0) = static_cast<float>(j);
    v.at(0, 0, j, 1) = static_cast<float>(10 * j);
  }
  attnkit::attention<attnkit::softmax> attn{};
  auto const r = attnkit::reference::attention(attn, q.cview(), k.cview(), v.cview());
  for (int i = 0; i < 2; ++i) {
    CHECK(r.o(0, 0, i, 0) == Approx(1.5).epsilon(1e-15));
    CHECK(r.o(0, 0, i, 1) == Approx(15.0).epsilon(1e-15));
    CHECK(r.l(0, 0, i) == Approx(std::log(4.0)).epsilon(1e-15));
  }
}

TEST_CASE("reference: two keys give weights sigmoid(s1 - s2)", "[reference]") {
  // q = (1, 0), k0 = (2, 0), k1 = (0, 0), scale 1: s0 = 2, s1 = 0, w0 = 1 / (1 + e^-2).
  tensor q(1, 1, 1, 2), k(1, 1, 2, 2), v(1, 1, 2, 1);
  q.at(0, 0, 0, 0) = 1.0f;
  k.at(0, 0, 0, 0) = 2.0f;
  v.at(0, 0, 0, 0) = 3.0f;
  v.at(0, 0, 1, 0) = -1.0f;
  attnkit::attention<attnkit::softmax> attn{{.scale = 1.0f}};
  auto const r = attnkit::reference::attention(attn, q.cview(), k.cview(), v.cview());
  double const w0 = 1.0 / (1.0 + std::exp(-2.0));
  CHECK(r.o(0, 0, 0, 0) == Approx(3.0 * w0 - (1.0 - w0)).epsilon(1e-14));
  CHECK(r.l(0, 0, 0) == Approx(std::log(std::exp(2.0) + 1.0)).epsilon(1e-14));
}

TEST_CASE("reference: causal alignment picks p(i) = i + Sk - Sq unless top-left is named", "[reference]") {
  // Sq = 2, Sk = 4, all scores 0, v_j = j: bottom-right rows see keys {0..2} and {0..3}; top-left {0}, {0,
  // 1}.
  tensor q(1, 1, 2, 1), k(1, 1, 4, 1), v(1, 1, 4, 1);
  for (int j = 0; j < 4; ++j)
    v.at(0, 0, j, 0) = static_cast<float>(j);
  attnkit::attention<attnkit::softmax, attnkit::causal> bottom_right{};
  auto const br = attnkit::reference::attention(bottom_right, q.cview(), k.cview(), v.cview());
  CHECK(br.o(0, 0, 0, 0) == Approx(1.0));
  CHECK(br.o(0, 0, 1, 0) == Approx(1.5));
  attnkit::attention<attnkit::softmax, attnkit::causal> top_left{{.align = attnkit::alignment::top_left}};
  auto const tl = attnkit::reference::attention(top_left, q.cview(), k.cview(), v.cview());
  CHECK(tl.o(0, 0, 0, 0) == Approx(0.0));
  CHECK(tl.o(0, 0, 1, 0) == Approx(0.5));
  CHECK(tl.l(0, 0, 0) == Approx(0.0).margin(1e-15));
  CHECK(tl.l(0, 0, 1) == Approx(std::log(2.0)));
}

TEST_CASE("reference: a row with no visible key is 0 with LSE -inf", "[reference]") {
  tensor q(1, 1, 3, 2), k(1, 1, 0, 2), v(1, 1, 0, 2);
  attnkit::test::fill_normal(q, 3);
  attnkit::attention<attnkit::softmax, attnkit::causal> attn{};
  auto const r = attnkit::reference::attention(attn, q.cview(), k.cview(), v.cview());
  for (int i = 0; i < 3; ++i) {
    CHECK(r.o(0, 0, i, 0) == 0.0);
    CHECK(r.l(0, 0, i) == -std::numeric_limits<double>::infinity());
  }
}

TEST_CASE("reference: matches softmax(QK^T)V written out with explicit loops", "[reference]") {
  // GQA (4 query heads over 2 KV heads), Sq != Sk, Dv != D, causal.
  int const B = 2, Hq = 4, Hkv = 2, Sq = 5, Sk = 9, D = 3, Dv = 2;
  tensor q(B, Hq, Sq, D), k(B, Hkv, Sk, D), v(B, Hkv, Sk, Dv);
  attnkit::test::fill_normal(q, 11);
  attnkit::test::fill_normal(k, 12);
  attnkit::test::fill_normal(v, 13);
  attnkit::attention<attnkit::softmax, attnkit::causal> attn{{.scale = 0.5f}};
  auto const r = attnkit::reference::attention(attn, q.cview(), k.cview(), v.cview());
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Hq; ++h)
      for (int i = 0; i < Sq; ++i) {
        int const kvh = h / (Hq / Hkv);
        int const last = i + Sk - Sq; // bottom-right causal
        double s[Sk], denom = 0.0;
        for (int j = 0; j <= last; ++j) {
          s[j] = 0.0;
          for (int d = 0; d < D; ++d)
            s[j] += double(q.at(b, h, i, d)) * double(k.at(b, kvh, j, d));
          s[j] = std::exp(0.5 * s[j]);
          denom += s[j];
        }
        for (int d = 0; d < Dv; ++d) {
          double o = 0.0;
          for (int j = 0; j <= last; ++j)
            o += s[j] / denom * double(v.at(b, kvh, j, d));
          CHECK(r.o(b, h, i, d) == Approx(o).epsilon(1e-12));
        }
        CHECK(r.l(b, h, i) == Approx(std::log(denom)).epsilon(1e-12));
      }
}

// Linear attention against the fp64 reference (a direct sum over pairs): the chunked causal kernel, the
// associative non-causal form and the token-by-token recurrence, on odd sizes, both alignments, GQA, every
// architecture; decay; prefill in pieces then steps; edge cases; threads; bad parameters.

#include "support/linear_compare.hpp"
#include "support/size_grid.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/linear.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

using attnkit::test::case_shape;
using attnkit::test::tensor;
using Catch::Matchers::Contains;

namespace {

template <class F = attnkit::elu1>
using causal_linear = attnkit::attention<attnkit::linear<F>, attnkit::causal>;
template <class F = attnkit::elu1>
using full_linear = attnkit::attention<attnkit::linear<F>, attnkit::no_mask>;

/// Decays for `heads` query heads, from strong to none.
std::vector<float> some_decays(std::int64_t heads) {
  std::vector<float> d;
  for (std::int64_t h = 0; h < heads; ++h)
    d.push_back(std::vector<float>{0.5f, 0.9f, 0.99f, 1.0f}[static_cast<std::size_t>(h % 4)]);
  return d;
}

/// `make(Sq, Sk, options)`'s attention on the odd-size grid (size_grid.hpp), both alignments, GQA 4 / 2,
/// every architecture.
template <class MakeAttention> void check_linear_every_size(MakeAttention const& make, std::uint32_t seed) {
  attnkit::test::for_each_grid_case(
      [&](std::int64_t, std::int64_t, attnkit::attention_options o, case_shape const& s) {
        attnkit::test::check_linear_every_arch(make(o), s, seed);
      });
}

} // namespace

TEST_CASE("linear: causal chunked kernel against the fp64 reference", "[kernel][linear]") {
  SECTION("elu1, normalised, default chunk") {
    check_linear_every_size([](attnkit::attention_options o) { return causal_linear<>(o); }, 200);
  }
  SECTION("elu1, normalised, chunk 7 (divides none of the sizes) and decay") {
    check_linear_every_size(
        [](attnkit::attention_options o) {
          return causal_linear<>(o, attnkit::linear<>({.decay = some_decays(4), .chunk = 7}));
        },
        201);
  }
  SECTION("relu, unnormalised, chunk 100, decay") {
    check_linear_every_size(
        [](attnkit::attention_options o) {
          return causal_linear<attnkit::relu>(
              o, attnkit::linear<attnkit::relu>({.normalise = false, .decay = some_decays(4), .chunk = 100}));
        },
        202);
  }
  SECTION("identity, unnormalised, chunk 16") {
    check_linear_every_size(
        [](attnkit::attention_options o) {
          return causal_linear<attnkit::identity_map>(
              o, attnkit::linear<attnkit::identity_map>({.normalise = false, .chunk = 16}));
        },
        203);
  }
}

TEST_CASE("linear: non-causal associative form against the fp64 reference", "[kernel][linear]") {
  SECTION("elu1, normalised") {
    check_linear_every_size([](attnkit::attention_options o) { return full_linear<>(o); }, 210);
  }
  SECTION("relu, normalised, eps 1e-3") {
    check_linear_every_size(
        [](attnkit::attention_options o) {
          return full_linear<attnkit::relu>(o, attnkit::linear<attnkit::relu>({.eps = 1e-3f, .chunk = 33}));
        },
        211);
  }
  SECTION("identity, unnormalised") {
    check_linear_every_size(
        [](attnkit::attention_options o) {
          return full_linear<attnkit::identity_map>(
              o, attnkit::linear<attnkit::identity_map>({.normalise = false}));
        },
        212);
  }
}

namespace user {

/// A feature map defined outside the library that looks at the whole row: phi(x)_d = x_d^2 / (1 + |x|^2).
struct squared_share {
  template <class Arch> void map_row(float* row, std::int64_t n) const noexcept {
    float total = 1.0f;
    for (std::int64_t d = 0; d < n; ++d)
      total += row[d] * row[d];
    for (std::int64_t d = 0; d < n; ++d)
      row[d] = row[d] * row[d] / total;
  }
};

/// Its meaning for the fp64 reference, found by argument-dependent lookup.
inline void apply_feature_map(squared_share const&, std::vector<double>& row) {
  double total = 1.0;
  for (double x : row)
    total += x * x;
  for (double& x : row)
    x = x * x / total;
}

} // namespace user

TEST_CASE("linear: a user-defined feature map", "[kernel][linear][custom]") {
  using causal_user = causal_linear<user::squared_share>;
  using full_user = full_linear<user::squared_share>;
  for (std::int64_t n : {1, 63, 200}) {
    case_shape const s{
        .batch = 2, .q_heads = 3, .kv_heads = 1, .q_len = n, .key_len = n, .dim = 20, .v_dim = 33};
    INFO("N " << n);
    attnkit::test::check_linear_every_arch(
        causal_user({}, attnkit::linear<user::squared_share>({.decay = {0.8f, 0.95f, 1.0f}, .chunk = 24})), s,
        240);
    attnkit::test::check_linear_every_arch(full_user{}, s, 241);
  }
}

TEST_CASE("linear: strided [B, S, H, D] views with padded rows", "[kernel][linear]") {
  case_shape const s{.batch = 2,
                     .q_heads = 4,
                     .kv_heads = 1,
                     .q_len = 130,
                     .key_len = 170,
                     .dim = 48,
                     .v_dim = 40,
                     .mem = attnkit::test::layout::bshd,
                     .row_pad = 3};
  attnkit::test::check_linear_every_arch(causal_linear<>({}, attnkit::linear<>({.decay = some_decays(4)})), s,
                                         245);
  attnkit::test::check_linear_every_arch(full_linear<>{}, s, 246);
}

TEST_CASE("linear: decay 1 gives exactly the bits of no decay", "[kernel][linear][decay]") {
  attnkit::test::random_case c({.q_heads = 2, .q_len = 150, .key_len = 150, .dim = 32, .v_dim = 24}, 220);
  causal_linear<> const plain({}, attnkit::linear<>({.chunk = 32}));
  causal_linear<> const ones({}, attnkit::linear<>({.decay = {1.0f, 1.0f}, .chunk = 32}));
  attnkit::test::for_each_arch([&](auto arch) {
    using Arch = decltype(arch);
    tensor const a = attnkit::test::run_linear<Arch>(plain, c);
    tensor const b = attnkit::test::run_linear<Arch>(ones, c);
    CHECK(std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0);
  });
}

namespace {

/// Tokens [from, from + n) of a [B, H, S, D] view.
template <class T>
attnkit::tensor_view<T> tokens(attnkit::tensor_view<T> t, std::int64_t from, std::int64_t n) {
  return {t.pointer(0, 0, from, 0), {t.extent(0), t.extent(1), n, t.extent(3)}, t.strides()};
}

/// Prefill in pieces `pieces`, then one step per remaining token; returns the outputs of every token.
template <class Arch, class Attention>
tensor prefill_then_step(Attention const& attn, attnkit::test::random_case& c,
                         std::vector<std::int64_t> const& pieces, std::int64_t& position) {
  tensor o(c.s.batch, c.s.q_heads, c.s.q_len, c.s.v_dim);
  std::fill(o.data.begin(), o.data.end(), 123.0f);
  attnkit::linear_state state(c.s.batch, c.s.q_heads, c.s.dim, c.s.v_dim);
  std::int64_t t = 0;
  for (std::int64_t n : pieces) {
    attnkit::prefill<Arch>(attn, state, tokens(c.q.cview(), t, n), tokens(c.k.cview(), t, n),
                           tokens(c.v.cview(), t, n), tokens(o.view(), t, n));
    t += n;
  }
  for (; t < c.s.q_len; ++t)
    attnkit::step<Arch>(attn, state, tokens(c.q.cview(), t, 1), tokens(c.k.cview(), t, 1),
                        tokens(c.v.cview(), t, 1), tokens(o.view(), t, 1));
  position = state.position();
  return o;
}

} // namespace

TEST_CASE("linear: prefill in pieces then steps gives one causal call's outputs", "[linear][recurrent]") {
  attnkit::test::random_case c(
      {.batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = 150, .key_len = 150, .dim = 24, .v_dim = 40}, 230);
  auto check = [&](auto const& attn) {
    bool const normalised = attn.normaliser().normalised();
    auto const ref = attnkit::reference::linear_attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
    attnkit::test::for_each_arch([&](auto arch) {
      using Arch = decltype(arch);
      tensor whole = attnkit::test::run_linear<Arch>(attn, c);
      attnkit::test::check_linear(ref, normalised, c.v.cview(), whole.cview());
      for (auto const& pieces : {std::vector<std::int64_t>{37, 63}, std::vector<std::int64_t>{150},
                                 std::vector<std::int64_t>{}, std::vector<std::int64_t>{1, 0, 16, 64}}) {
        INFO("prefill pieces " << pieces.size() << ", then steps");
        std::int64_t position = 0;
        tensor split = prefill_then_step<Arch>(attn, c, pieces, position);
        CHECK(position == 150);
        attnkit::test::check_linear(ref, normalised, c.v.cview(), split.cview());
      }
    });
  };
  check(causal_linear<>({}, attnkit::linear<>({.decay = some_decays(4), .chunk = 16})));
  check(causal_linear<>{});
  check(causal_linear<attnkit::identity_map>(
      {}, attnkit::linear<attnkit::identity_map>({.normalise = false, .decay = some_decays(4)})));
}

TEST_CASE("linear: the functor continues a state, by step for one token and prefill for several",
          "[linear][recurrent]") {
  attnkit::test::random_case c(
      {.batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = 90, .key_len = 90, .dim = 24, .v_dim = 40}, 236);
  causal_linear<> const attn({}, attnkit::linear<>({.decay = some_decays(4), .chunk = 16}));
  std::int64_t position = 0;
  tensor const expected = prefill_then_step<xsimd::default_arch>(attn, c, {37, 20}, position);

  tensor o(c.s.batch, c.s.q_heads, c.s.q_len, c.s.v_dim);
  attnkit::linear_state state(c.s.batch, c.s.q_heads, c.s.dim, c.s.v_dim);
  auto call = [&](std::int64_t from, std::int64_t n) {
    attn(tokens(c.q.cview(), from, n), tokens(c.k.cview(), from, n), tokens(c.v.cview(), from, n),
         tokens(o.view(), from, n), state);
  };
  call(0, 37);
  call(37, 20);
  for (std::int64_t t = 57; t < 90; ++t)
    call(t, 1);
  CHECK(state.position() == 90);
  // The same code as prefill and step, so the same bits; and within tolerance of the fp64 reference.
  CHECK(std::memcmp(o.data.data(), expected.data.data(), o.data.size() * sizeof(float)) == 0);
  auto const ref = attnkit::reference::linear_attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
  attnkit::test::check_linear(ref, true, c.v.cview(), o.cview());

  CHECK_THROWS_WITH(attn(tokens(c.q.cview(), 0, 1), tokens(c.k.cview(), 0, 2), tokens(c.v.cview(), 0, 2),
                         tokens(o.view(), 0, 1), state),
                    Contains("appends Sq = Sk tokens"));
  CHECK(state.position() == 90);
}

TEST_CASE("linear: prefill's state is the sum of decayed phi(k)^T v", "[linear][recurrent]") {
  attnkit::test::random_case c({.q_heads = 2, .q_len = 90, .key_len = 90, .dim = 8, .v_dim = 5}, 235);
  causal_linear<> const attn({}, attnkit::linear<>({.decay = {0.9f, 1.0f}, .chunk = 32}));
  tensor o(1, 2, 90, 5);
  attnkit::linear_state const state = attnkit::prefill(attn, c.q.cview(), c.k.cview(), c.v.cview(), o.view());
  REQUIRE(state.position() == 90);
  for (std::int64_t h = 0; h < 2; ++h) {
    double const lambda = h == 0 ? 0.9 : 1.0;
    for (std::int64_t d = 0; d < 8; ++d) {
      double z = 0.0, z_abs = 0.0;
      std::vector<double> s(5, 0.0);
      for (std::int64_t j = 0; j < 90; ++j) {
        std::vector<double> row(8);
        for (std::int64_t e = 0; e < 8; ++e)
          row[static_cast<std::size_t>(e)] = c.k.at(0, 0, j, e);
        attnkit::reference::apply_feature_map(attnkit::elu1{}, row);
        double const w = std::pow(lambda, static_cast<double>(89 - j)) * row[static_cast<std::size_t>(d)];
        z += w;
        z_abs += std::fabs(w);
        for (std::int64_t e = 0; e < 5; ++e)
          s[static_cast<std::size_t>(e)] += w * c.v.at(0, 0, j, e);
      }
      CHECK(std::fabs(state.key_sum()(0, h, d) - z) <= 1e-5 * z_abs);
      for (std::int64_t e = 0; e < 5; ++e)
        CHECK(std::fabs(state.kv()(0, h, d, e) - s[static_cast<std::size_t>(e)]) <= 1e-5 * z_abs * 5.0);
    }
  }
}

TEST_CASE("linear: empty calls, rows that see nothing, NaN", "[linear][edge]") {
  causal_linear<> const zero_eps({}, attnkit::linear<>({.eps = 0.0f}));
  full_linear<> const full_zero_eps({}, attnkit::linear<>({.eps = 0.0f}));
  SECTION("Sk = 0 gives zero rows, Sq = 0 and B = 0 do nothing") {
    for (auto const& s : {case_shape{.q_len = 5, .key_len = 0}, case_shape{.q_len = 0, .key_len = 5},
                          case_shape{.batch = 0, .q_len = 5, .key_len = 5}}) {
      attnkit::test::random_case c(s, 250);
      attnkit::test::for_each_arch([&](auto arch) {
        using Arch = decltype(arch);
        for (tensor const& o : {attnkit::test::run_linear<Arch>(zero_eps, c),
                                attnkit::test::run_linear<Arch>(full_zero_eps, c)})
          for (float x : o.data)
            CHECK(x == 0.0f);
      });
    }
  }
  SECTION("bottom-right with Sq > Sk: the first Sq - Sk rows see nothing and give 0, also with eps = 0") {
    attnkit::test::random_case c({.q_heads = 2, .q_len = 100, .key_len = 30, .dim = 16, .v_dim = 16}, 251);
    auto const ref = attnkit::reference::linear_attention(zero_eps, c.q.cview(), c.k.cview(), c.v.cview());
    attnkit::test::for_each_arch([&](auto arch) {
      tensor o = attnkit::test::run_linear<decltype(arch)>(zero_eps, c);
      for (std::int64_t h = 0; h < 2; ++h)
        for (std::int64_t i = 0; i < 70; ++i)
          for (std::int64_t d = 0; d < 16; ++d)
            CHECK(o.data[static_cast<std::size_t>(((h * 100) + i) * 16 + d)] == 0.0f);
      attnkit::test::check_linear(ref, true, c.v.cview(), o.cview());
    });
  }
  SECTION("a NaN value reaches only the rows that see its key") {
    attnkit::test::random_case c({.q_len = 100, .key_len = 100, .dim = 16, .v_dim = 8}, 252);
    c.v.at(0, 0, 40, 3) = std::numeric_limits<float>::quiet_NaN();
    causal_linear<> const attn({}, attnkit::linear<>({.decay = {0.9f}, .chunk = 16}));
    attnkit::test::for_each_arch([&](auto arch) {
      tensor const o = attnkit::test::run_linear<decltype(arch)>(attn, c);
      for (std::int64_t i = 0; i < 100; ++i)
        for (std::int64_t d = 0; d < 8; ++d) {
          float const x = o.data[static_cast<std::size_t>(i * 8 + d)];
          INFO("row " << i << " dim " << d);
          CHECK(std::isnan(x) == (i >= 40 && d == 3));
        }
    });
  }
}

TEST_CASE("linear: bitwise identical for every thread count", "[linear][threads]") {
  tensor q(2, 4, 300, 64), k(2, 2, 333, 64), v(2, 2, 333, 48);
  attnkit::test::fill_normal(q, 21);
  attnkit::test::fill_normal(k, 22);
  attnkit::test::fill_normal(v, 23);
  auto run = [&](auto const& attn, int threads) {
    tensor o(2, 4, 300, 48);
    attn(q.cview(), k.cview(), v.cview(), o.view(), {.threads = threads});
    return o.data;
  };
  causal_linear<> const chunked({}, attnkit::linear<>({.decay = some_decays(4), .chunk = 48}));
  full_linear<attnkit::relu> const full{};
  auto const one = run(chunked, 1), one_full = run(full, 1);
  for (int threads : {0, 2, 3, 8, 1000}) {
    INFO("threads " << threads);
    CHECK(std::memcmp(one.data(), run(chunked, threads).data(), one.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(one_full.data(), run(full, threads).data(), one_full.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("linear: accuracy over 65536 keys", "[linear][long]") {
  // Sq = Sk = 65536 through the chunked kernel; the reference only for the last 64 rows, which are the call
  // with those 64 queries, bottom-right aligned, against every key (the kernel runs that one too: the
  // prefix of 65472 keys goes into the state first).
  std::int64_t const n = 65536, tail = 64;
  attnkit::test::random_case c({.q_len = n, .key_len = n, .dim = 64, .v_dim = 64}, 260);
  auto const last_q = tokens(c.q.cview(), n - tail, tail);
  auto check = [&](auto const& attn) {
    bool const normalised = attn.normaliser().normalised();
    tensor o(1, 1, n, 64);
    attn(c.q.cview(), c.k.cview(), c.v.cview(), o.view());
    tensor last(1, 1, tail, 64);
    attn(last_q, c.k.cview(), c.v.cview(), last.view());
    auto const ref = attnkit::reference::linear_attention(attn, last_q, c.k.cview(), c.v.cview());
    attnkit::test::check_linear(ref, normalised, c.v.cview(), tokens(o.cview(), n - tail, tail));
    attnkit::test::check_linear(ref, normalised, c.v.cview(), last.cview());
  };
  check(causal_linear<>{});
  check(causal_linear<>({}, attnkit::linear<>({.decay = {0.999f}})));
  check(causal_linear<>({}, attnkit::linear<>({.normalise = false})));
}

TEST_CASE("linear: bad parameters are rejected, naming them", "[validation][linear]") {
  using attnkit::linear;
  float const nan = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(linear<>({.eps = -1.0f}), Contains("attnkit::linear") && Contains("eps = -1"));
  CHECK_THROWS_AS(linear<>({.eps = nan}), std::invalid_argument);
  CHECK_THROWS_AS(linear<>({.eps = std::numeric_limits<float>::infinity()}), std::invalid_argument);
  CHECK_THROWS_WITH(linear<>({.decay = {0.5f, 1.5f}}), Contains("decay[1] = 1.5") && Contains("(0, 1]"));
  CHECK_THROWS_WITH(linear<>({.decay = {0.0f}}), Contains("decay[0] = 0"));
  CHECK_THROWS_AS(linear<>({.decay = {-0.5f}}), std::invalid_argument);
  CHECK_THROWS_AS(linear<>({.decay = {nan}}), std::invalid_argument);
  CHECK_THROWS_WITH(linear<>({.chunk = 0}), Contains("chunk = 0") && Contains(">= 1"));
  CHECK_THROWS_WITH(linear<>({.chunk = -3}), Contains("chunk = -3"));
  CHECK_THROWS_WITH(linear<>({.chunk = 4097}), Contains("chunk = 4097") && Contains("<= 4096"));
  CHECK_NOTHROW(linear<>({.eps = 0.0f, .decay = {1.0f, 1e-6f}, .chunk = 1}));

  attnkit::test::random_case c({.q_heads = 4, .kv_heads = 2, .q_len = 6, .key_len = 6, .dim = 8, .v_dim = 8},
                               270);
  tensor o(1, 4, 6, 8);
  causal_linear<> const three({}, linear<>({.decay = {0.5f, 0.5f, 0.5f}}));
  CHECK_THROWS_WITH(three(c.q.cview(), c.k.cview(), c.v.cview(), o.view()),
                    Contains("decay has 3 values") && Contains("Hq = 4"));
  full_linear<> const non_causal({}, linear<>({.decay = {0.5f, 0.5f, 0.5f, 0.5f}}));
  CHECK_THROWS_WITH(non_causal(c.q.cview(), c.k.cview(), c.v.cview(), o.view()),
                    Contains("decay") && Contains("causal"));
  std::vector<float> lse(24);
  CHECK_THROWS_WITH(causal_linear<>{}.run_on<xsimd::default_arch>(
                        c.q.cview(), c.k.cview(), c.v.cview(), o.view(), attnkit::bhs(lse.data(), 1, 4, 6)),
                    Contains("no log-sum-exp"));

  causal_linear<> const attn{};
  attnkit::linear_state state(1, 4, 8, 8);
  CHECK_THROWS_WITH(attnkit::prefill(attn, state, c.q.cview(), tokens(c.k.cview(), 0, 5),
                                     tokens(c.v.cview(), 0, 5), o.view()),
                    Contains("Sq = Sk"));
  attnkit::linear_state wrong(1, 2, 8, 8);
  CHECK_THROWS_WITH(attnkit::prefill(attn, wrong, c.q.cview(), c.k.cview(), c.v.cview(), o.view()),
                    Contains("state.q_heads() = 2"));
  CHECK_THROWS_WITH(attnkit::step(attn, state, c.q.cview(), c.k.cview(), c.v.cview(), o.view()),
                    Contains("step takes one token"));
  CHECK_THROWS_WITH(attnkit::linear_state(-1, 1, 8, 8), Contains("batch = -1"));
  CHECK_THROWS_WITH(attnkit::linear_state(1, 1, 0, 8), Contains("qk_dim = 0"));
  CHECK(state.position() == 0);
}

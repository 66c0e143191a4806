// Sigmoid attention against the fp64 reference: with masks and modifiers on the core's odd sizes, a given
// bias, rows that see nothing, huge logits, and bad parameters.

#include "support/random_layout.hpp"
#include "support/size_grid.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

using Catch::Matchers::Contains;

TEST_CASE("sigmoid: kernel against the fp64 reference, default and given bias", "[kernel][sigmoid]") {
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attnkit::attention_options o) {
        return attnkit::attention<attnkit::sigmoid, attnkit::causal>(o);
      },
      90);
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attnkit::attention_options o) {
        return attnkit::attention<attnkit::sigmoid>(o, attnkit::sigmoid(-2.5f));
      },
      91);
}

TEST_CASE("sigmoid: with every kind of mask and modifier", "[kernel][sigmoid][mask][modifier]") {
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attnkit::attention_options o) {
        return attnkit::attention<attnkit::sigmoid, attnkit::sink_window, attnkit::alibi, attnkit::softcap>(
            o, {}, attnkit::sink_window::causal(3, 40), attnkit::alibi{}, attnkit::softcap(8.0f));
      },
      92);
  attnkit::test::check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        attnkit::block_grid const grid{.q_len = q_len, .key_len = key_len, .q_block = 16, .key_block = 32};
        return attnkit::attention<attnkit::sigmoid, attnkit::block_sparse<attnkit::causal>>(
            o, {}, attnkit::block_sparse<attnkit::causal>(attnkit::test::random_layout(grid, 0.5, 0.5, 93)));
      },
      93);
}

TEST_CASE("sigmoid: a row that sees nothing is 0; huge logits stay finite", "[kernel][sigmoid][edge]") {
  // Top-left causal with Sq > Sk: no row is empty; bottom-right with Sq > Sk: the first rows are.
  attnkit::attention<attnkit::sigmoid, attnkit::causal> const attn;
  attnkit::test::random_case c({.q_len = 20, .key_len = 5, .dim = 16, .v_dim = 16}, 94);
  attnkit::test::tensor o(1, 1, 20, 16);
  attn(c.q.cview(), c.k.cview(), c.v.cview(), o.view());
  for (std::int64_t i = 0; i < 15; ++i)
    for (std::int64_t d = 0; d < 16; ++d)
      CHECK(o.view()(0, 0, i, d) == 0.0f);

  // Integer q and k with a power-of-two scale: scores of +-1e4 are exact in fp32 (SEMANTICS.md).
  attnkit::test::tensor q(1, 1, 4, 16), k(1, 1, 6, 16), v(1, 1, 6, 16), out(1, 1, 4, 16);
  for (std::size_t t = 0; t < q.data.size(); ++t)
    q.data[t] = t % 2 == 0 ? 25.0f : -25.0f;
  for (std::size_t t = 0; t < k.data.size(); ++t)
    k.data[t] = (t / 16) % 2 == 0 ? 25.0f : -25.0f; // keys alternate: scores +1e4 and -1e4
  attnkit::test::fill_normal(v, 95);
  attnkit::attention<attnkit::sigmoid> const big({.scale = 1.0f});
  big(q.cview(), k.cview(), v.cview(), out.view());
  auto const ref = attnkit::reference::attention(big, q.cview(), k.cview(), v.cview());
  attnkit::test::check_against_reference(ref, v.cview(), out.view());
}

TEST_CASE("sigmoid: bad parameters and an LSE request are rejected", "[validation][sigmoid]") {
  CHECK_THROWS_WITH(attnkit::sigmoid(std::numeric_limits<float>::infinity()),
                    Contains("sigmoid") && Contains("bias = inf") && Contains("finite"));
  CHECK_THROWS_AS(attnkit::sigmoid(std::numeric_limits<float>::quiet_NaN()), std::invalid_argument);
  attnkit::attention<attnkit::sigmoid> const attn;
  attnkit::test::random_case c({.q_len = 4, .key_len = 4}, 96);
  attnkit::test::tensor o(1, 1, 4, 16);
  std::vector<float> lse(4);
  CHECK_THROWS_WITH(attn.run_on<xsimd::default_arch>(c.q.cview(), c.k.cview(), c.v.cview(), o.view(),
                                                     attnkit::bhs(lse.data(), 1, 1, 4)),
                    Contains("no log-sum-exp"));
}

// Softmax with learned sinks and softmax1 against the fp64 reference: with masks and modifiers on the core's
// odd sizes, rows that see nothing, sinks far above and below the scores, and bad parameters.

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

namespace {

float const minus_inf = -std::numeric_limits<float>::infinity();

/// One logit per head of the grid's Hq = 4: below, near and above typical row maxima, and no sink.
attnkit::softmax_sinks grid_sinks() {
  return attnkit::softmax_sinks({-1.5f, 0.5f, 6.0f, minus_inf});
}

} // namespace

TEST_CASE("softmax_sinks: kernel against the fp64 reference, per head and softmax1", "[kernel][sinks]") {
  // Sk = 257 spans several key tiles: a sink added per tile instead of once per row would fail here.
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attnkit::attention_options o) {
        return attnkit::attention<attnkit::softmax_sinks, attnkit::causal>(o, grid_sinks());
      },
      110);
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attnkit::attention_options o) {
        return attnkit::attention<attnkit::softmax1>(o);
      },
      111);
}

TEST_CASE("softmax_sinks: with every kind of mask and modifier", "[kernel][sinks][mask][modifier]") {
  // The gpt-oss pattern: learned sinks with a sliding window.
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attnkit::attention_options o) {
        return attnkit::attention<attnkit::softmax_sinks, attnkit::sliding_window, attnkit::alibi,
                                  attnkit::softcap>(o, grid_sinks(), attnkit::sliding_window::causal(40),
                                                    attnkit::alibi{}, attnkit::softcap(8.0f));
      },
      112);
  attnkit::test::check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        attnkit::block_grid const grid{.q_len = q_len, .key_len = key_len, .q_block = 16, .key_block = 32};
        return attnkit::attention<attnkit::softmax_sinks, attnkit::block_sparse<attnkit::causal>,
                                  attnkit::key_bias>(
            o, attnkit::softmax_sinks::uniform(1.0f),
            attnkit::block_sparse<attnkit::causal>(attnkit::test::random_layout(grid, 0.5, 0.5, 113)),
            attnkit::key_bias::first_key({2.0f}));
      },
      113);
}

TEST_CASE("softmax_sinks: a row that sees nothing gives 0 and LSE = sigma", "[kernel][sinks][edge]") {
  // Bottom-right causal with Sq > Sk: the first Sq - Sk rows see no key.
  attnkit::attention<attnkit::softmax_sinks, attnkit::causal> const attn({}, attnkit::softmax_sinks({2.5f}));
  attnkit::test::random_case c({.q_len = 20, .key_len = 5, .dim = 16, .v_dim = 16}, 114);
  attnkit::test::tensor o(1, 1, 20, 16);
  std::vector<float> lse(20);
  attn(c.q.cview(), c.k.cview(), c.v.cview(), o.view(), attnkit::bhs(lse.data(), 1, 1, 20));
  for (std::int64_t i = 0; i < 15; ++i) {
    CHECK(lse[static_cast<std::size_t>(i)] == 2.5f);
    for (std::int64_t d = 0; d < 16; ++d)
      CHECK(o.view()(0, 0, i, d) == 0.0f);
  }
  // With no sink either (-inf), such a row is plain softmax's: 0 and LSE = -inf.
  attnkit::attention<attnkit::softmax_sinks, attnkit::causal> const none({},
                                                                         attnkit::softmax_sinks({minus_inf}));
  none(c.q.cview(), c.k.cview(), c.v.cview(), o.view(), attnkit::bhs(lse.data(), 1, 1, 20));
  CHECK(lse[0] == minus_inf);
  CHECK(o.view()(0, 0, 0, 0) == 0.0f);
  CHECK(std::isfinite(lse[19]));
}

TEST_CASE("softmax_sinks: sinks and scores far apart stay finite", "[kernel][sinks][edge]") {
  // Integer q and k with a power-of-two scale: scores of +-1e4 are exact in fp32 (SEMANTICS.md).
  attnkit::test::tensor q(1, 2, 4, 16), k(1, 1, 6, 16), v(1, 1, 6, 16), out(1, 2, 4, 16);
  for (std::size_t t = 0; t < q.data.size(); ++t)
    q.data[t] = t % 2 == 0 ? 25.0f : -25.0f;
  for (std::size_t t = 0; t < k.data.size(); ++t)
    k.data[t] = (t / 16) % 2 == 0 ? 25.0f : -25.0f; // keys alternate: scores +1e4 and -1e4
  attnkit::test::fill_normal(v, 115);
  // Head 0: the sink dwarfs every score (weights ~0, LSE = sigma); head 1: the scores dwarf the sink.
  attnkit::attention<attnkit::softmax_sinks> const attn({.scale = 1.0f},
                                                        attnkit::softmax_sinks({2.0e4f, -2.0e4f}));
  std::vector<float> lse(8);
  attn(q.cview(), k.cview(), v.cview(), out.view(), attnkit::bhs(lse.data(), 1, 2, 4));
  auto const ref = attnkit::reference::attention(attn, q.cview(), k.cview(), v.cview());
  attnkit::test::check_against_reference(ref, v.cview(), out.view(), attnkit::bhs(lse.data(), 1, 2, 4));
  CHECK(lse[0] == 2.0e4f);
}

TEST_CASE("softmax_sinks: bad parameters are rejected", "[validation][sinks]") {
  CHECK_THROWS_WITH(attnkit::softmax_sinks({0.0f, std::numeric_limits<float>::quiet_NaN()}),
                    Contains("softmax_sinks") && Contains("logits[1] = nan") && Contains("finite or -inf"));
  CHECK_THROWS_WITH(attnkit::softmax_sinks::uniform(std::numeric_limits<float>::infinity()),
                    Contains("logit = inf"));
  CHECK_THROWS_WITH(attnkit::softmax_sinks(std::vector<float>{}), Contains("logits is empty"));
  attnkit::attention<attnkit::softmax_sinks> const attn({}, attnkit::softmax_sinks({0.0f, 1.0f, 2.0f}));
  attnkit::test::random_case c({.q_heads = 4, .kv_heads = 2, .q_len = 4, .key_len = 4}, 116);
  attnkit::test::tensor o(1, 4, 4, 16);
  CHECK_THROWS_WITH(attn(c.q.cview(), c.k.cview(), c.v.cview(), o.view()),
                    Contains("softmax_sinks") && Contains("3 sink logits") && Contains("Hq = 4"));
}

// The MoBA router against its fp64 reference (choices equal up to near-ties the fp32 scores cannot
// resolve), its tie and edge rules, bad arguments, and routed attention against the fp64 reference.

#include "support/arch_sweep.hpp"
#include "support/random_tensor.hpp"
#include "support/run_case.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/moba_router.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using attnkit::moba_options;
using attnkit::tile_kind;
using attnkit::test::tensor;
using Catch::Matchers::Contains;

namespace {

/// "" when the router's layout makes the reference's choices, except that a block may stand in for another
/// whose fp64 score is within both scores' fp32 rounding bound; otherwise the first difference.
std::string routing_errors(attnkit::block_layout const& layout, attnkit::reference::moba_routes const& ref,
                           moba_options const& o, std::int64_t batch, std::int64_t dim) {
  double const unit = static_cast<double>(dim + 2) * 0x1p-24; // fp32 mean rounding + a D-term dot product
  std::ostringstream err;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < ref.heads; ++h)
      for (std::int64_t i = 0; i < ref.q_len; ++i) {
        auto const got = layout.key_blocks(b, h, i);
        auto const kinds = layout.kinds(b, h, i);
        auto const& want = ref.chosen[ref.index(b, h, i)];
        auto const& score = ref.scores[ref.index(b, h, i)];
        auto const& magnitude = ref.magnitudes[ref.index(b, h, i)];
        err << "b " << b << " h " << h << " i " << i << ": ";
        if (got.size() != want.size()) {
          err << got.size() << " blocks chosen, reference chose " << want.size();
          return err.str();
        }
        for (std::size_t e = 0; e < got.size(); ++e) {
          bool const own =
              o.causal && e + 1 == got.size() && want.back() == got[e] && kinds[e] == tile_kind::partial;
          if (!own && kinds[e] != tile_kind::full) {
            err << "block " << got[e] << " is partial but is not the query's own block";
            return err.str();
          }
          if (std::find(want.begin(), want.end(), got[e]) != want.end())
            continue;
          // A stand-in: some block the reference chose instead must score within the rounding bound.
          auto const x = static_cast<std::size_t>(got[e]);
          bool const near_tie = std::any_of(want.begin(), want.end(), [&](std::int64_t c) {
            auto const y = static_cast<std::size_t>(c);
            return std::find(got.begin(), got.end(), c) == got.end() &&
                   std::abs(score[x] - score[y]) <= unit * (magnitude[x] + magnitude[y]);
          });
          if (!near_tie) {
            err << "chose block " << got[e] << " (score " << score[x] << ") that the reference did not";
            return err.str();
          }
        }
        err.str("");
      }
  return "";
}

} // namespace

TEST_CASE("moba: router against the fp64 reference", "[moba][routing]") {
  std::int64_t const key_block = GENERATE(1, 16, 64);
  std::int64_t const top_k = GENERATE(1, 2, 3, 100);
  bool const causal = GENERATE(true, false);
  for (auto [q_len, key_len] :
       {std::pair<std::int64_t, std::int64_t>{1, 1}, {7, 63}, {64, 65}, {200, 130}, {30, 700}})
    for (auto align : {attnkit::alignment::bottom_right, attnkit::alignment::top_left}) {
      moba_options const o{.key_block = key_block, .top_k = top_k, .causal = causal, .align = align};
      tensor q(2, 4, q_len, 48), k(2, 2, key_len, 48);
      attnkit::test::fill_normal(q, 80);
      attnkit::test::fill_normal(k, 81);
      auto const ref = attnkit::reference::moba_route(q.cview(), k.cview(), o);
      INFO("Sq " << q_len << " Sk " << key_len << " Bk " << key_block << " top_k " << top_k << " causal "
                 << causal << (align == attnkit::alignment::top_left ? " top-left" : " bottom-right"));
      attnkit::test::for_each_arch([&](auto arch) {
        auto const layout = attnkit::moba_route_on<decltype(arch)>(q.cview(), k.cview(), o);
        CHECK(layout.grid().q_block == 1);
        CHECK(layout.grid().key_block == key_block);
        CHECK(routing_errors(layout, ref, o, 2, 48) == "");
      });
    }
}

TEST_CASE("moba: ties go to the lower block, the own block counts in k", "[moba][routing]") {
  // Every key equal: every block scores the same.
  tensor q(1, 1, 100, 8), k(1, 1, 100, 8);
  attnkit::test::fill_normal(q, 82);
  std::fill(k.data.begin(), k.data.end(), 0.5f);
  auto const layout = attnkit::moba_route(q.cview(), k.cview(), {.key_block = 10, .top_k = 3});
  for (std::int64_t i = 0; i < 100; ++i) {
    auto const got = layout.key_blocks(0, 0, i);
    std::vector<std::int32_t> want;
    for (std::int32_t c = 0; c < std::min<std::int32_t>(2, static_cast<std::int32_t>(i / 10)); ++c)
      want.push_back(c);
    want.push_back(static_cast<std::int32_t>(i / 10));
    CHECK(std::vector<std::int32_t>(got.begin(), got.end()) == want);
    CHECK(layout.kinds(0, 0, i).back() == tile_kind::partial);
  }
  // Without causal masking, the k lowest blocks.
  auto const all = attnkit::moba_route(q.cview(), k.cview(), {.key_block = 10, .top_k = 3, .causal = false});
  for (std::int64_t i = 0; i < 100; ++i)
    CHECK(std::vector<std::int32_t>(all.key_blocks(0, 0, i).begin(), all.key_blocks(0, 0, i).end()) ==
          std::vector<std::int32_t>{0, 1, 2});
}

TEST_CASE("moba: queries outside the keys, empty inputs", "[moba][routing][edge]") {
  tensor q(1, 2, 50, 8), k(1, 1, 20, 8);
  attnkit::test::fill_normal(q, 83);
  attnkit::test::fill_normal(k, 84);
  // Bottom-right with Sq > Sk: the first 30 queries sit before key 0 and see nothing.
  auto const early = attnkit::moba_route(q.cview(), k.cview(), {.key_block = 8, .top_k = 2});
  for (std::int64_t i = 0; i < 30; ++i)
    CHECK(early.key_blocks(1, 1, i).empty());
  CHECK(early.key_blocks(0, 1, 30).size() == 1);
  // Top-left with Sq > Sk: queries past the last key choose the top k of all blocks.
  auto const late = attnkit::moba_route(q.cview(), k.cview(),
                                        {.key_block = 8, .top_k = 2, .align = attnkit::alignment::top_left});
  CHECK(late.key_blocks(0, 0, 40).size() == 2);
  tensor none(1, 1, 0, 8);
  CHECK(attnkit::moba_route(q.cview(), none.cview(), {}).listed_blocks() == 0);
  CHECK(attnkit::moba_route(none.cview(), k.cview(), {}).listed_blocks() == 0);
}

TEST_CASE("moba: routing does not depend on the thread count", "[moba][routing][threads]") {
  tensor q(1, 4, 300, 64), k(1, 2, 700, 64);
  attnkit::test::fill_normal(q, 85);
  attnkit::test::fill_normal(k, 86);
  auto lists = [&](int threads) {
    auto const layout = attnkit::moba_route(q.cview(), k.cview(), {.key_block = 32}, {.threads = threads});
    std::vector<std::int32_t> all;
    for (std::int64_t h = 0; h < 4; ++h)
      for (std::int64_t i = 0; i < 300; ++i)
        all.insert(all.end(), layout.key_blocks(0, h, i).begin(), layout.key_blocks(0, h, i).end());
    return all;
  };
  auto const one = lists(1);
  for (int threads : {2, 3, 0})
    CHECK(lists(threads) == one);
}

TEST_CASE("moba: bad arguments are rejected with the argument named", "[moba][validation]") {
  tensor q(1, 4, 10, 16), k(1, 2, 10, 16), k3(1, 3, 10, 16), k_dim(1, 2, 10, 8), k_batch(2, 2, 10, 16);
  CHECK_THROWS_WITH(attnkit::moba_route(q.cview(), k.cview(), {.top_k = 0}),
                    Contains("moba_route") && Contains("top_k = 0 must be >= 1"));
  CHECK_THROWS_WITH(attnkit::moba_route(q.cview(), k.cview(), {.key_block = 0}), Contains("key_block = 0"));
  CHECK_THROWS_WITH(attnkit::moba_route(q.cview(), k3.cview(), {}),
                    Contains("q heads = 4") && Contains("k heads = 3"));
  CHECK_THROWS_WITH(attnkit::moba_route(q.cview(), k_dim.cview(), {}),
                    Contains("head dim 16") && Contains("8"));
  CHECK_THROWS_WITH(attnkit::moba_route(q.cview(), k_batch.cview(), {}),
                    Contains("batch 1") && Contains("batch 2"));
  auto null_k = attnkit::bhsd(static_cast<float const*>(nullptr), 1, 2, 10, 16);
  CHECK_THROWS_WITH(attnkit::moba_route(q.cview(), null_k, {}), Contains("k has a null data pointer"));
}

TEST_CASE("moba: routed attention against the fp64 reference", "[moba][kernel]") {
  bool const causal = GENERATE(true, false);
  for (auto [q_len, key_len] : {std::pair<std::int64_t, std::int64_t>{257, 257}, {65, 300}, {1, 130}}) {
    attnkit::test::random_case c(
        {.batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = q_len, .key_len = key_len, .dim = 64, .v_dim = 32},
        87);
    moba_options const o{.key_block = 32, .top_k = 3, .causal = causal};
    auto const layout = attnkit::moba_route(c.q.cview(), c.k.cview(), o);
    INFO("Sq " << q_len << " Sk " << key_len << " causal " << causal);
    if (causal) {
      attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>> const attn(
          {}, {}, attnkit::block_sparse<attnkit::causal>(layout));
      auto const ref = attnkit::reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
      attnkit::test::for_each_arch([&](auto arch) { c.run_and_check<decltype(arch)>(attn, ref); });
    } else {
      attnkit::attention<attnkit::softmax, attnkit::block_sparse<>> const attn(
          {}, {}, attnkit::block_sparse<>(layout));
      auto const ref = attnkit::reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
      attnkit::test::for_each_arch([&](auto arch) { c.run_and_check<decltype(arch)>(attn, ref); });
    }
  }
}

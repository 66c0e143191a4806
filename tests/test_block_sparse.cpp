// Block-sparse layouts and the block_sparse mask: hooks against the reference rule, the kernel against the
// fp64 reference on the core's odd sizes, layouts built from block matrices and from masks, bad layouts.

#include "support/mask_checks.hpp"
#include "support/random_layout.hpp"
#include "support/size_grid.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

using attnkit::block_grid;
using attnkit::block_layout;
using attnkit::tile_kind;
using attnkit::test::random_layout;
using Catch::Matchers::Contains;

namespace {

/// A random layout for each problem size, on blocks of q_block x key_block.
template <class Inner>
auto random_block_sparse(std::int64_t q_block, std::int64_t key_block, double density, Inner inner,
                         std::int64_t batch = 1, std::int64_t heads = 1) {
  return [=](std::int64_t q_len, std::int64_t key_len) {
    block_grid const grid{batch, heads, q_len, key_len, q_block, key_block};
    auto const seed = static_cast<std::uint32_t>(q_len * 31 + key_len + q_block);
    return attnkit::block_sparse<Inner>(random_layout(grid, density, 0.5, seed), inner);
  };
}

/// Visible pairs of (batch, head) under a mask, by the reference rule.
template <class Mask>
std::vector<bool> reference_pairs(Mask const& mask, std::int64_t batch, std::int64_t head,
                                  std::int64_t q_heads, std::int64_t q_len, std::int64_t key_len,
                                  std::int64_t offset) {
  std::vector<bool> shown;
  for (std::int64_t i = 0; i < q_len; ++i)
    for (std::int64_t j = 0; j < key_len; ++j)
      shown.push_back(attnkit::reference::visible(
          mask, attnkit::reference::pair_coords{batch, head, q_heads, i, i + offset, j, q_len, key_len}));
  return shown;
}

} // namespace

// Partial tiles are masked a row at a time, not pair by pair.
static_assert(attnkit::hides_rows<attnkit::block_sparse<attnkit::causal>>);

TEST_CASE("block sparse: hooks agree with the reference rule", "[mask][hooks][block_sparse]") {
  auto const [q_block, key_block] =
      GENERATE(table<std::int64_t, std::int64_t>({{1, 1}, {3, 5}, {16, 4}, {64, 64}}));
  double const density = GENERATE(0.0, 0.3, 1.0);
  INFO("blocks " << q_block << " x " << key_block << " density " << density);
  attnkit::test::check_mask_hooks_small(random_block_sparse(q_block, key_block, density, attnkit::no_mask{}));
  attnkit::test::check_mask_hooks_small(random_block_sparse(q_block, key_block, density, attnkit::causal{}));
  attnkit::test::check_mask_hooks_large(random_block_sparse(q_block, key_block, density, attnkit::causal{}));
  // Per-batch layouts: the hooks read the row of their batch entry.
  attnkit::test::check_mask_hooks_small(
      random_block_sparse(q_block, key_block, density, attnkit::no_mask{}, 2, 1), 1);
}

TEST_CASE("block sparse: a listed block aligned with the kernel's blocks is a full tile",
          "[mask][block_sparse]") {
  // Without an inner mask, partial and full entries both make whole listed blocks full: no per-pair test.
  block_grid const grid{1, 1, 256, 512, 64, 64};
  auto const layout = random_layout(grid, 0.5, 0.5, 3);
  attnkit::block_sparse<> const mask(layout);
  for (std::int64_t qb = 0; qb < grid.q_blocks(); ++qb) {
    attnkit::query_block const rows{
        .row_begin = qb * 64, .row_end = qb * 64 + 64, .q_len = 256, .key_len = 512};
    for (std::int32_t kb : layout.key_blocks(0, 0, qb))
      CHECK(mask.classify(rows, {kb * 64, kb * 64 + 64}) == tile_kind::full);
  }
}

TEST_CASE("block sparse: kernel against the fp64 reference", "[kernel][mask][block_sparse]") {
  auto const [q_block_gen, key_block_gen] =
      GENERATE(table<std::int64_t, std::int64_t>({{16, 32}, {64, 64}, {128, 64}, {128, 128}}));
  // Copies: clang 14 cannot capture structured bindings in a lambda.
  std::int64_t const q_block = q_block_gen, key_block = key_block_gen;
  INFO("blocks " << q_block << " x " << key_block);
  // Per batch entry and head, every entry partial under causal.
  attnkit::test::check_every_size(
      [&](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        auto const make = random_block_sparse(q_block, key_block, 0.4, attnkit::causal{}, 2, 4);
        return attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>>(
            o, {}, make(q_len, key_len));
      },
      70);
  // One layout for every batch entry and head, no inner mask.
  attnkit::test::check_every_size(
      [&](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        auto const make = random_block_sparse(q_block, key_block, 0.3, attnkit::no_mask{});
        return attnkit::attention<attnkit::softmax, attnkit::block_sparse<>>(o, {}, make(q_len, key_len));
      },
      71);
}

TEST_CASE("block sparse: with score modifiers", "[kernel][mask][block_sparse][modifier]") {
  block_grid const grid{1, 4, 200, 300, 64, 32};
  attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>, attnkit::alibi,
                     attnkit::softcap> const attn({}, {},
                                                  attnkit::block_sparse<attnkit::causal>(
                                                      random_layout(grid, 0.5, 0.3, 9)),
                                                  attnkit::alibi{}, attnkit::softcap(20.0f));
  attnkit::test::check_random_case_every_arch(
      attn, {.batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = 200, .key_len = 300, .dim = 64, .v_dim = 64},
      72);
}

TEST_CASE("block sparse: an empty layout gives zero rows and LSE = -inf", "[kernel][mask][block_sparse]") {
  block_grid const grid{1, 1, 70, 90, 64, 64};
  block_layout const nothing(grid, std::vector<std::int64_t>(grid.lists() + 1, 0), {}, {});
  attnkit::attention<attnkit::softmax, attnkit::block_sparse<>> const attn({}, {},
                                                                           attnkit::block_sparse<>(nothing));
  attnkit::test::random_case c({.q_len = 70, .key_len = 90}, 73);
  attnkit::test::tensor o(1, 1, 70, 16, attnkit::test::layout::bhsd, 0);
  std::vector<float> lse(70, 123.0f);
  attn(c.q.cview(), c.k.cview(), c.v.cview(), o.view(), attnkit::bhs(lse.data(), 1, 1, 70));
  for (std::int64_t i = 0; i < 70; ++i) {
    CHECK(lse[static_cast<std::size_t>(i)] == -std::numeric_limits<float>::infinity());
    for (std::int64_t d = 0; d < 16; ++d)
      CHECK(o.view()(0, 0, i, d) == 0.0f);
  }
}

TEST_CASE("block layout: from block matrices", "[mask][block_sparse]") {
  block_grid const grid{1, 2, 130, 100, 64, 40}; // 3 query blocks x 3 key blocks, 2 heads
  std::vector<tile_kind> const kinds{tile_kind::full,  tile_kind::empty,   tile_kind::partial, // head 0
                                     tile_kind::empty, tile_kind::empty,   tile_kind::empty,   //
                                     tile_kind::empty, tile_kind::partial, tile_kind::full,    //
                                     tile_kind::full,  tile_kind::full,    tile_kind::full,    // head 1
                                     tile_kind::empty, tile_kind::full,    tile_kind::empty,   //
                                     tile_kind::empty, tile_kind::empty,   tile_kind::partial};
  block_layout const layout = block_layout::from_block_matrix(grid, kinds);
  CHECK(layout.listed_blocks() == 9);
  for (std::int64_t h = 0; h < 2; ++h)
    for (std::int64_t qb = 0; qb < 3; ++qb)
      for (std::int64_t kb = 0; kb < 3; ++kb)
        CHECK(layout.kind(0, h, qb, kb) == kinds[static_cast<std::size_t>((h * 3 + qb) * 3 + kb)]);
  CHECK(layout.kind(5, 1, 1, 1) == tile_kind::full); // batch is shared: any entry reads row 0

  std::vector<std::uint8_t> visible(18, 0);
  visible[4] = visible[17] = 1;
  block_layout const from_bools = block_layout::from_block_matrix(grid, visible);
  CHECK(from_bools.listed_blocks() == 2);
  CHECK(from_bools.kind(0, 0, 1, 1) == tile_kind::partial);
  CHECK(from_bools.kind(0, 1, 2, 2) == tile_kind::partial);
  CHECK(block_layout::from_block_matrix(grid, visible, tile_kind::full).kind(0, 0, 1, 1) == tile_kind::full);
}

TEST_CASE("block layout: from a mask, exact kinds, same attention as the mask", "[mask][block_sparse]") {
  auto check = [](auto const& mask, std::int64_t q_len, std::int64_t key_len, std::int64_t q_block,
                  std::int64_t key_block, attnkit::alignment align) {
    block_grid const grid{1, 1, q_len, key_len, q_block, key_block};
    block_layout const layout = attnkit::block_layout_from_mask(mask, grid, align);
    std::int64_t const offset = align == attnkit::alignment::bottom_right ? key_len - q_len : 0;
    auto const truth = reference_pairs(mask, 0, 0, 1, q_len, key_len, offset);
    for (std::int64_t qb = 0; qb < grid.q_blocks(); ++qb)
      for (std::int64_t kb = 0; kb < grid.key_blocks(); ++kb) {
        std::int64_t shown = 0, pairs = 0;
        for (std::int64_t i = qb * q_block; i < std::min(q_len, (qb + 1) * q_block); ++i)
          for (std::int64_t j = kb * key_block; j < std::min(key_len, (kb + 1) * key_block); ++j, ++pairs)
            shown += truth[static_cast<std::size_t>(i * key_len + j)] ? 1 : 0;
        tile_kind const want = shown == 0       ? tile_kind::empty
                               : shown == pairs ? tile_kind::full
                                                : tile_kind::partial;
        INFO("query block " << qb << " key block " << kb);
        REQUIRE(layout.kind(0, 0, qb, kb) == want);
      }
    // With the mask inside partial blocks, the layout shows exactly what the mask shows.
    attnkit::block_sparse<std::decay_t<decltype(mask)>> const sparse(layout, mask);
    CHECK(reference_pairs(sparse, 0, 0, 1, q_len, key_len, offset) == truth);

    if (align != attnkit::alignment::bottom_right)
      return; // the visibility check above covers both alignments; one kernel run per mask keeps this quick
    attnkit::attention<attnkit::softmax, std::decay_t<decltype(sparse)>> const attn({.align = align}, {},
                                                                                    sparse);
    attnkit::test::check_random_case_every_arch(
        attn,
        {.batch = 1, .q_heads = 2, .kv_heads = 1, .q_len = q_len, .key_len = key_len, .dim = 32, .v_dim = 16},
        74);
  };
  for (auto align : {attnkit::alignment::bottom_right, attnkit::alignment::top_left}) {
    check(attnkit::causal{}, 200, 300, 64, 64, align);
    check(attnkit::causal{}, 65, 65, 16, 32, align);
    check(attnkit::sliding_window::causal(50), 257, 257, 64, 32, align);
    check(attnkit::sink_window::causal(4, 30), 150, 150, 32, 32, align);
    check(attnkit::document(attnkit::document::segments_from_lengths({40, 3, 100, 57})), 200, 200, 64, 64,
          align);
  }
}

TEST_CASE("block layout: bad layouts are rejected with the argument named", "[validation][block_sparse]") {
  block_grid const grid{1, 1, 100, 100, 64, 64}; // 2 x 2 blocks
  auto make = [&](block_grid g, std::vector<std::int64_t> offsets, std::vector<std::int32_t> blocks) {
    std::vector<tile_kind> const kinds(blocks.size(), tile_kind::full);
    return block_layout(g, std::move(offsets), std::move(blocks), kinds);
  };
  CHECK_NOTHROW(make(grid, {0, 2, 3}, {0, 1, 1}));
  block_grid zero_q = grid, zero_k = grid, no_heads = grid, negative = grid;
  zero_q.q_block = 0;
  zero_k.key_block = 0;
  no_heads.heads = 0;
  negative.key_len = -1;
  CHECK_THROWS_WITH(make(zero_q, {0}, {}), Contains("block_layout") && Contains("grid.q_block = 0"));
  CHECK_THROWS_WITH(make(zero_k, {0, 0, 0}, {}), Contains("grid.key_block = 0"));
  CHECK_THROWS_WITH(make(no_heads, {0}, {}), Contains("grid.heads = 0"));
  CHECK_THROWS_WITH(make(negative, {0, 0, 0}, {}), Contains("grid.key_len = -1"));
  CHECK_THROWS_WITH(make(grid, {0, 2, 3}, {0, 2, 1}),
                    Contains("key_blocks[1] = 2") && Contains("outside [0, key_blocks = 2)"));
  CHECK_THROWS_WITH(make(grid, {0, 1, 2}, {-1, 0}), Contains("key_blocks[0] = -1"));
  CHECK_THROWS_WITH(make(grid, {0, 2, 2}, {1, 0}),
                    Contains("key_blocks[1] = 0") && Contains("strictly increasing"));
  CHECK_THROWS_WITH(make(grid, {0, 2, 2}, {1, 1}), Contains("strictly increasing"));
  CHECK_THROWS_WITH(make(grid, {0, 2}, {0, 1}), Contains("offsets has 2 entries") && Contains("3"));
  CHECK_THROWS_WITH(make(grid, {0, 3, 2}, {0, 1}), Contains("offsets[2] = 2 is less than offsets[1] = 3"));
  CHECK_THROWS_WITH(make(grid, {0, 1, 1}, {0, 1}), Contains("end at key_blocks.size() = 2"));
  CHECK_THROWS_WITH(block_layout(grid, {0, 1, 1}, {0}, {}), Contains("kinds has 0 entries"));
  CHECK_THROWS_WITH(block_layout(grid, {0, 1, 1}, {0}, {tile_kind::empty}), Contains("kinds[0] is empty"));
  CHECK_THROWS_WITH(block_layout::from_block_matrix(grid, std::vector<std::uint8_t>(3, 1)),
                    Contains("block matrix has 3 entries") && Contains("4"));
  CHECK_THROWS_WITH(attnkit::block_layout_from_mask(attnkit::causal{}, zero_k),
                    Contains("grid.key_block = 0"));
}

TEST_CASE("block layout: a layout must fit the call", "[validation][block_sparse]") {
  std::vector<float> q(4 * 8 * 16), k(2 * 10 * 16), v(2 * 10 * 16), o(4 * 8 * 16);
  auto run = [&](block_grid const& grid) {
    attnkit::attention<attnkit::softmax, attnkit::block_sparse<>> const attn(
        {}, {}, attnkit::block_sparse<>(random_layout(grid, 0.5, 0.5, 1)));
    attn(attnkit::bhsd(q.data(), 1, 4, 8, 16), attnkit::bhsd(k.data(), 1, 2, 10, 16),
         attnkit::bhsd(v.data(), 1, 2, 10, 16), attnkit::bhsd(o.data(), 1, 4, 8, 16));
  };
  CHECK_NOTHROW(run({1, 4, 8, 10, 4, 4}));
  CHECK_NOTHROW(run({1, 1, 8, 10, 64, 64}));
  CHECK_THROWS_AS(run({1, 4, 9, 10, 4, 4}), std::invalid_argument);
  CHECK_THROWS_WITH(run({1, 4, 9, 10, 4, 4}), Contains("Sq = 9, Sk = 10") && Contains("Sq = 8"));
  CHECK_THROWS_WITH(run({1, 2, 8, 10, 4, 4}), Contains("grid.heads = 2 must be 1 or Hq = 4"));
  CHECK_THROWS_WITH(run({3, 1, 8, 10, 4, 4}), Contains("grid.batch = 3 must be 1 or B = 1"));
}

TEST_CASE("block sparse: a NaN value reaches only the rows that see its key",
          "[kernel][mask][block_sparse][edge]") {
  // One list per query (as MoBA's router makes): most rows of a kernel block skip most partial tiles.
  block_grid const grid{1, 1, 130, 300, 1, 32};
  attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>> const attn(
      {}, {}, attnkit::block_sparse<attnkit::causal>(random_layout(grid, 0.2, 0.5, 11)));
  attnkit::test::random_case c({.q_len = 130, .key_len = 300, .dim = 32, .v_dim = 16}, 75);
  c.v.view()(0, 0, 200, 3) = std::numeric_limits<float>::quiet_NaN();
  auto const ref = attnkit::reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
  double largest = 0; // over the finite values
  for (float x : c.v.data)
    largest = std::isnan(x) ? largest : std::max(largest, static_cast<double>(std::fabs(x)));
  attnkit::test::for_each_arch([&](auto arch) {
    attnkit::test::tensor o(1, 1, 130, 16);
    attn.template run_on<decltype(arch)>(c.q.cview(), c.k.cview(), c.v.cview(), o.view(), {});
    int tainted = 0;
    for (std::int64_t i = 0; i < 130; ++i)
      for (std::int64_t d = 0; d < 16; ++d) {
        double const want = ref.o(0, 0, i, d), got = o.view()(0, 0, i, d);
        if (std::isnan(want)) {
          tainted += d == 3;
          CHECK(std::isnan(got));
        } else {
          INFO("row " << i << " column " << d);
          CHECK(std::fabs(got - want) <= attnkit::test::output_tolerance(largest));
        }
      }
    CHECK(tainted > 0); // the layout lets some rows see key 200
    CHECK(tainted < 130);
  });
}

// The decode kernel (Sq <= 16) against the fp64 reference: cache lengths around the chunk and split
// sizes, query-head groups of 1, 4 and 8, every normaliser, mask and modifier, any split size, and
// results that never depend on the thread count.

#include "support/random_layout.hpp"
#include "support/run_case.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

using attnkit::test::case_shape;
using Catch::Matchers::Contains;

TEST_CASE("decode: every cache length, query count and group size", "[kernel][decode]") {
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  std::int64_t const dims[] = {16, 80, 128};
  int pick = 0;
  for (std::int64_t key_len : {1, 2, 63, 64, 65, 1000, 4097})
    for (std::int64_t q_len : {1, 2, 5, 16})
      for (std::int64_t group : {1, 4, 8}) {
        std::int64_t const dim = dims[pick++ % 3];
        case_shape const s{.batch = 2,
                           .q_heads = group,
                           .kv_heads = 1,
                           .q_len = q_len,
                           .key_len = key_len,
                           .dim = dim,
                           .v_dim = dims[pick % 3]};
        INFO("Sk " << key_len << " Sq " << q_len << " G " << group << " D " << dim);
        attnkit::test::check_random_case_every_arch(attn, s, 1200, {.decode_split_keys = 1024});
      }
}

TEST_CASE("decode: a long cache, split across threads", "[kernel][decode]") {
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  for (std::int64_t q_len : {1, 2}) {
    case_shape const s{.q_heads = 4, .kv_heads = 1, .q_len = q_len, .key_len = 70000, .dim = 64, .v_dim = 64};
    INFO("Sq " << q_len);
    attnkit::test::check_random_case_every_arch(attn, s, 1201);
  }
}

TEST_CASE("decode: every normaliser with masks and modifiers", "[kernel][decode][mask][modifier]") {
  for (std::int64_t q_len : {1, 3, 16})
    for (std::int64_t key_len : {65, 1000, 4097})
      for (auto align : {attnkit::alignment::bottom_right, attnkit::alignment::top_left}) {
        case_shape const s{.batch = 2, .q_heads = 8, .kv_heads = 2, .q_len = q_len, .key_len = key_len};
        attnkit::attention_options const o{.align = align};
        attnkit::run_options const small_splits{.decode_split_keys = 64};
        INFO("Sq " << q_len << " Sk " << key_len
                   << (align == attnkit::alignment::top_left ? " top-left" : ""));
        attnkit::test::check_random_case_every_arch(
            attnkit::attention<attnkit::sigmoid, attnkit::sink_window, attnkit::alibi>(
                o, {}, attnkit::sink_window::causal(4, 100), {}),
            s, 1202, small_splits);
        std::vector<float> sinks{-1.0f, 0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
        attnkit::test::check_random_case_every_arch(
            attnkit::attention<attnkit::softmax_sinks, attnkit::sliding_window, attnkit::softcap>(
                o, attnkit::softmax_sinks(sinks), attnkit::sliding_window::causal(300),
                attnkit::softcap(5.0f)),
            s, 1203, small_splits);
        attnkit::block_grid const grid{
            .heads = 8, .q_len = q_len, .key_len = key_len, .q_block = 1, .key_block = 64};
        attnkit::test::check_random_case_every_arch(
            attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>, attnkit::key_bias>(
                o, {},
                attnkit::block_sparse<attnkit::causal>(attnkit::test::random_layout(grid, 0.3, 0.5, 1204)),
                attnkit::key_bias::first_key({1.5f})),
            s, 1204, small_splits);
        std::vector<std::int32_t> q_ids(static_cast<std::size_t>(q_len), 3),
            k_ids(static_cast<std::size_t>(key_len));
        for (std::size_t j = 0; j < k_ids.size(); ++j)
          k_ids[j] =
              static_cast<std::int32_t>(j * 4 / k_ids.size()); // four documents, the queries in the last
        using documents = attnkit::visible_if_all<attnkit::document, attnkit::causal>;
        attnkit::test::check_random_case_every_arch(
            attnkit::attention<attnkit::softmax, documents>(o, {},
                                                            documents(attnkit::document(q_ids, k_ids), {})),
            s, 1205, small_splits);
      }
}

TEST_CASE("decode: split sizes change results within rounding, thread counts not at all",
          "[kernel][decode][threads]") {
  // Learned sinks over many splits: the sink must join the denominator once, after the merge.
  attnkit::attention<attnkit::softmax_sinks, attnkit::sliding_window> const attn(
      {}, attnkit::softmax_sinks({0.5f, 2.0f, -1.0f, 3.0f}), attnkit::sliding_window::causal(3000));
  case_shape const s{
      .batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = 3, .key_len = 5000, .dim = 64, .v_dim = 48};
  attnkit::test::random_case c(s, 1206);
  auto const ref = attnkit::reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
  for (std::int64_t split : {0, 1, 64, 100, 640, 2048, 1 << 20}) {
    INFO("decode_split_keys " << split);
    c.run_and_check<xsimd::default_arch>(attn, ref, {.decode_split_keys = split});
  }
  auto run = [&](int threads) {
    attnkit::test::tensor o(2, 4, 3, 48);
    std::vector<float> lse(2 * 4 * 3);
    attn(c.q.cview(), c.k.cview(), c.v.cview(), o.view(), attnkit::bhs(lse.data(), 2, 4, 3),
         {.threads = threads, .decode_split_keys = 128});
    o.data.insert(o.data.end(), lse.begin(), lse.end());
    return o.data;
  };
  auto const one = run(1);
  for (int threads : {0, 2, 3, 8, 1000}) {
    INFO("threads " << threads);
    CHECK(std::memcmp(one.data(), run(threads).data(), one.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("decode: rows that see nothing, and non-finite values of hidden keys", "[kernel][decode][edge]") {
  // Bottom-right causal with Sq = 16 > Sk = 5: the first 11 rows see no key.
  attnkit::attention<attnkit::softmax, attnkit::causal> const causal;
  attnkit::test::random_case c({.q_len = 16, .key_len = 5, .dim = 16, .v_dim = 16}, 1207);
  attnkit::test::tensor o(1, 1, 16, 16);
  std::vector<float> lse(16);
  causal(c.q.cview(), c.k.cview(), c.v.cview(), o.view(), attnkit::bhs(lse.data(), 1, 1, 16));
  for (std::int64_t i = 0; i < 11; ++i) {
    CHECK(lse[static_cast<std::size_t>(i)] == -std::numeric_limits<float>::infinity());
    CHECK(o.view()(0, 0, i, 0) == 0.0f);
  }

  // A window hides keys 0..899 of 1000; key 3's values are NaN and key 950's are Inf.
  attnkit::attention<attnkit::softmax, attnkit::sliding_window> const window(
      {}, {}, attnkit::sliding_window::causal(100));
  attnkit::test::random_case w({.q_len = 2, .key_len = 1000, .dim = 16, .v_dim = 16}, 1208);
  for (std::int64_t d = 0; d < 16; ++d)
    w.v.view()(0, 0, 3, d) = std::numeric_limits<float>::quiet_NaN();
  attnkit::test::tensor out(1, 1, 2, 16);
  window(w.q.cview(), w.k.cview(), w.v.cview(), out.view(), {.decode_split_keys = 64});
  auto const ref = attnkit::reference::attention(window, w.q.cview(), w.k.cview(), w.v.cview());
  attnkit::test::check_against_reference(ref, w.v.cview(), out.view());
  w.v.view()(0, 0, 950, 0) = std::numeric_limits<float>::infinity(); // visible to both rows
  window(w.q.cview(), w.k.cview(), w.v.cview(), out.view(), {.decode_split_keys = 64});
  CHECK(!std::isfinite(out.view()(0, 0, 1, 0)));
  CHECK(std::isfinite(out.view()(0, 0, 1, 1)));
}

TEST_CASE("decode: a cache with no keys writes 0 and LSE = -inf into every row, whatever O's strides",
          "[kernel][decode][edge]") {
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  for (std::int64_t const q_len : {1, 3}) {
    INFO("Sq " << q_len);
    std::int64_t const heads = 8, dim = 16;
    attnkit::test::tensor q(1, heads, q_len, dim);
    auto const empty = attnkit::bhsd<float const>(nullptr, 1, 2, 0, dim); // Hkv = 2, Sk = 0
    std::vector<float> lse(static_cast<std::size_t>(heads * q_len), 0.0f);

    attnkit::test::tensor o(1, heads, q_len, dim);
    std::fill(o.data.begin(), o.data.end(), nan);
    attn(q.cview(), empty, empty, o.view(), attnkit::bhs(lse.data(), 1, heads, q_len));
    for (float const x : o.data)
      CHECK(x == 0.0f);
    for (float const x : lse)
      CHECK(x == -std::numeric_limits<float>::infinity());

    // O's elements two floats apart: the ones between are not written.
    std::vector<float> spaced(static_cast<std::size_t>(heads * q_len * dim * 2), nan);
    attnkit::tensor_view<float> const strided(spaced.data(), {1, heads, q_len, dim},
                                              {heads * q_len * dim * 2, q_len * dim * 2, dim * 2, 2});
    attn(q.cview(), empty, empty, strided);
    for (std::size_t i = 0; i < spaced.size(); ++i)
      CHECK((i % 2 == 0 ? spaced[i] == 0.0f : std::isnan(spaced[i])));
  }
}

TEST_CASE("decode: a negative split size is rejected", "[validation][decode]") {
  attnkit::attention<> const attn;
  attnkit::test::random_case c({.q_len = 1, .key_len = 8}, 1209);
  attnkit::test::tensor o(1, 1, 1, 16);
  CHECK_THROWS_WITH(attn(c.q.cview(), c.k.cview(), c.v.cview(), o.view(), {.decode_split_keys = -5}),
                    Contains("run_options.decode_split_keys") && Contains("-5"));
}

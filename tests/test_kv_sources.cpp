// K/V sources (issue 7): the owning contiguous cache, the paged cache and the streaming sink-aware cache,
// each read in place by the decode and prefill kernels, against the fp64 reference over the same keys.

#include "support/kv_sources.hpp"
#include "support/linear_compare.hpp"
#include "support/random_layout.hpp"
#include "support/run_case.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/reference_attention.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

using attnkit::test::case_shape;
using attnkit::test::check_source;
using attnkit::test::paged_copy;
using attnkit::test::random_case;
using Catch::Matchers::Contains;

namespace {

/// Keys [0, n) of a [B, H, S, D] view.
attnkit::tensor_view<float const> first_keys(attnkit::tensor_view<float const> t, std::int64_t n) {
  return {t.data(), {t.extent(0), t.extent(1), n, t.extent(3)}, t.strides()};
}
/// Keys [from, from + n) of a [B, H, S, D] view.
attnkit::tensor_view<float const> key_slice(attnkit::tensor_view<float const> t, std::int64_t from,
                                            std::int64_t n) {
  return {t.pointer(0, 0, from, 0), {t.extent(0), t.extent(1), n, t.extent(3)}, t.strides()};
}

/// The same call over shuffled pages of `page_size`, on every architecture.
template <class Attention>
void check_paged(Attention const& attn, case_shape const& s, std::int64_t page_size, std::uint32_t seed,
                 attnkit::run_options run = {}) {
  random_case c(s, seed);
  paged_copy const paged(c.k.cview(), c.v.cview(), page_size, seed);
  auto const ref = attnkit::reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview());
  attnkit::test::for_each_arch(
      [&](auto arch) { check_source<decltype(arch)>(attn, c.q.cview(), paged.kv, c.v.cview(), ref, run); });
}

} // namespace

TEST_CASE("paged cache: every cache length, query count and group size", "[kv][paged]") {
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  std::int64_t const page_sizes[] = {16, 7, 64, 1};
  int pick = 0;
  for (std::int64_t key_len : {1, 2, 63, 64, 65, 1000, 4097})
    for (std::int64_t q_len : {1, 2, 5, 16, 40}) // 40: the prefill kernel packs from the pages
      for (std::int64_t group : {1, 4, 8}) {
        std::int64_t const page_size = page_sizes[pick++ % 4];
        case_shape const s{.batch = 2,
                           .q_heads = group,
                           .kv_heads = 1,
                           .q_len = q_len,
                           .key_len = key_len,
                           .dim = 48,
                           .v_dim = 40};
        INFO("Sk " << key_len << " Sq " << q_len << " G " << group << " page " << page_size);
        check_paged(attn, s, page_size, 1300, {.decode_split_keys = 1024});
      }
}

TEST_CASE("paged cache: a long cache split across threads", "[kv][paged]") {
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  for (std::int64_t q_len : {1, 2}) {
    case_shape const s{.q_heads = 4, .kv_heads = 1, .q_len = q_len, .key_len = 70000, .dim = 64, .v_dim = 64};
    INFO("Sq " << q_len);
    random_case c(s, 1301);
    paged_copy const paged(c.k.cview(), c.v.cview(), 16, 1301);
    check_source<xsimd::default_arch>(
        attn, c.q.cview(), paged.kv, c.v.cview(),
        attnkit::reference::attention(attn, c.q.cview(), c.k.cview(), c.v.cview()));
  }
}

TEST_CASE("paged cache: every normaliser with masks and modifiers", "[kv][paged][mask][modifier]") {
  for (std::int64_t q_len : {1, 3, 40})
    for (std::int64_t key_len : {65, 1000}) {
      case_shape const s{.batch = 2, .q_heads = 8, .kv_heads = 2, .q_len = q_len, .key_len = key_len};
      attnkit::run_options const small_splits{.decode_split_keys = 64};
      INFO("Sq " << q_len << " Sk " << key_len);
      check_paged(attnkit::attention<attnkit::sigmoid, attnkit::sink_window, attnkit::alibi>(
                      {}, {}, attnkit::sink_window::causal(4, 100), {}),
                  s, 16, 1302, small_splits);
      check_paged(attnkit::attention<attnkit::softmax_sinks, attnkit::sliding_window, attnkit::softcap>(
                      {}, attnkit::softmax_sinks({-1.0f, 0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}),
                      attnkit::sliding_window::causal(300), attnkit::softcap(5.0f)),
                  s, 7, 1303, small_splits);
      attnkit::block_grid const grid{
          .heads = 8, .q_len = q_len, .key_len = key_len, .q_block = 1, .key_block = 64};
      check_paged(
          attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>, attnkit::key_bias>(
              {}, {},
              attnkit::block_sparse<attnkit::causal>(attnkit::test::random_layout(grid, 0.3, 0.5, 1304)),
              attnkit::key_bias::first_key({1.5f})),
          s, 16, 1304, small_splits);
      attnkit::attention<attnkit::linear<attnkit::elu1>, attnkit::causal> const linear;
      random_case c(s, 1305);
      paged_copy const paged(c.k.cview(), c.v.cview(), 16, 1305);
      auto const ref = attnkit::reference::linear_attention(linear, c.q.cview(), c.k.cview(), c.v.cview());
      attnkit::test::tensor o(s.batch, s.q_heads, s.q_len, s.v_dim);
      linear(c.q.cview(), paged.kv, o.view());
      attnkit::test::check_linear(ref, true, c.v.cview(), o.cview());
    }
}

TEST_CASE("paged cache: results never depend on the thread count", "[kv][paged][threads]") {
  attnkit::attention<attnkit::softmax_sinks, attnkit::causal> const attn(
      {}, attnkit::softmax_sinks::uniform(1.0f));
  random_case c(
      {.batch = 2, .q_heads = 8, .kv_heads = 2, .q_len = 2, .key_len = 5000, .dim = 64, .v_dim = 64}, 1306);
  paged_copy const paged(c.k.cview(), c.v.cview(), 16, 1306);
  auto run = [&](int threads) {
    attnkit::test::tensor o(2, 8, 2, 64);
    attn(c.q.cview(), paged.kv, o.view(), {.threads = threads, .decode_split_keys = 256});
    return o.data;
  };
  auto const one = run(1);
  for (int threads : {2, 3, 8}) {
    INFO("threads " << threads);
    CHECK(std::memcmp(one.data(), run(threads).data(), one.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("kv_cache: appended in pieces, read in place", "[kv][cache]") {
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  case_shape const s{
      .batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = 1, .key_len = 3000, .dim = 64, .v_dim = 32};
  random_case c(s, 1310);
  attnkit::kv_cache cache(2, 2, 4096, 64, 32);
  std::int64_t filled = 0;
  for (std::int64_t piece : {1, 63, 936, 2000}) {
    cache.append(key_slice(c.k.cview(), filled, piece), key_slice(c.v.cview(), filled, piece));
    filled += piece;
    REQUIRE(cache.key_len() == filled);
    // The last query position of the prefix attends to the whole prefix.
    attnkit::test::tensor q(2, 4, 1, 64);
    q.data = c.q.data;
    auto const k = first_keys(c.k.cview(), filled), v = first_keys(c.v.cview(), filled);
    INFO("after " << filled << " tokens");
    auto const ref = attnkit::reference::attention(attn, q.cview(), k, v);
    attnkit::test::for_each_arch(
        [&](auto arch) { check_source<decltype(arch)>(attn, q.cview(), cache, v, ref); });
  }
  cache.clear();
  CHECK(cache.key_len() == 0);
}

TEST_CASE("cache storage: zeroed, huge-page aligned when large, deep copies, empty after a move",
          "[kv][cache]") {
  for (std::size_t count : {std::size_t{1}, std::size_t{1000}, (std::size_t{2} << 20) / sizeof(float) + 3}) {
    attnkit::detail::cache_storage storage(count);
    INFO("floats " << count);
    REQUIRE(storage.size() == count);
    bool zero = true;
    for (std::size_t i = 0; i < count; ++i)
      zero = zero && storage.data()[i] == 0.0f;
    CHECK(zero);
    auto const address = reinterpret_cast<std::uintptr_t>(storage.data());
    CHECK(address % (count * sizeof(float) >= attnkit::detail::cache_storage::huge_page
                         ? attnkit::detail::cache_storage::huge_page
                         : 64) ==
          0);

    storage.data()[count - 1] = 5.0f;
    attnkit::detail::cache_storage copy(storage);
    CHECK(copy.size() == count);
    CHECK(copy.data()[count - 1] == 5.0f);
    copy.data()[0] = 7.0f;
    CHECK(storage.data()[0] == (count == 1 ? 5.0f : 0.0f)); // the copy has its own memory

    attnkit::detail::cache_storage moved(std::move(copy));
    CHECK(moved.size() == count);
    CHECK(moved.data()[0] == 7.0f);
    CHECK(copy.size() == 0); // NOLINT(bugprone-use-after-move): a moved-from storage is empty
    CHECK(copy.data() == nullptr);
  }
  CHECK(attnkit::detail::cache_storage(0).data() == nullptr);
}

TEST_CASE("kv_cache: bad sizes and overflowing appends are rejected", "[kv][cache][validation]") {
  CHECK_THROWS_WITH(attnkit::kv_cache(1, 0, 16, 8, 8),
                    Contains("attnkit::kv_cache: kv_heads must be >= 1, got 0"));
  CHECK_THROWS_WITH(attnkit::kv_cache(1, 1, 0, 8, 8), Contains("capacity must be >= 1, got 0"));
  attnkit::kv_cache cache(1, 2, 10, 8, 4);
  attnkit::test::tensor k(1, 2, 6, 8), v(1, 2, 6, 4), wrong(1, 3, 6, 8);
  cache.append(k.cview(), v.cview());
  CHECK_THROWS_WITH(cache.append(k.cview(), v.cview()),
                    Contains("appending 6 tokens to 6 exceeds the capacity of 10"));
  CHECK(cache.key_len() == 6);
  CHECK_THROWS_WITH(cache.append(wrong.cview(), v.cview()),
                    Contains("k.extent(1) (heads) = 3 does not match the cache's kv_heads = 2"));
  attnkit::test::tensor q(2, 2, 1, 8), o(2, 2, 1, 4);
  attnkit::attention<> const attn;
  CHECK_THROWS_WITH(attn(q.cview(), cache, o.view()),
                    Contains("kv.batch() = 1 does not match q.extent(0) (batch) = 2"));
}

TEST_CASE("paged cache: shared pages, copy on write, release in any order", "[kv][paged]") {
  attnkit::page_pool pool(8, 4, 2, 8, 8);
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
  random_case c({.q_heads = 2, .kv_heads = 2, .q_len = 1, .key_len = 14, .dim = 8, .v_dim = 8}, 1320);
  auto const prompt_k = key_slice(c.k.cview(), 0, 6), prompt_v = key_slice(c.v.cview(), 0, 6);
  random_case other({.q_heads = 2, .kv_heads = 2, .q_len = 1, .key_len = 14, .dim = 8, .v_dim = 8}, 1321);

  auto check = [&](attnkit::paged_sequence const& seq, attnkit::tensor_view<float const> k,
                   attnkit::tensor_view<float const> v) {
    REQUIRE(seq.size() == k.extent(2));
    auto const ref = attnkit::reference::attention(attn, c.q.cview(), k, v);
    check_source<xsimd::default_arch>(attn, c.q.cview(), attnkit::paged_kv(seq), v, ref);
  };

  auto a = std::make_unique<attnkit::paged_sequence>(pool);
  a->append(prompt_k, prompt_v); // pages 0 (full) and 1 (half)
  CHECK(pool.free_pages() == 6);
  attnkit::paged_sequence b = a->fork();
  CHECK(pool.free_pages() == 6);
  CHECK(pool.references(b.block_table()[1]) == 2);

  // a continues with the history's tokens, b with another's: b's half page is copied first.
  a->append(key_slice(c.k.cview(), 6, 8), key_slice(c.v.cview(), 6, 8));
  attnkit::test::tensor bk(1, 2, 14, 8), bv(1, 2, 14, 8); // b's history: the prompt, then other's keys
  for (std::int64_t h = 0; h < 2; ++h)
    for (std::int64_t j = 0; j < 14; ++j)
      for (std::int64_t d = 0; d < 8; ++d) {
        bk.view()(0, h, j, d) = j < 6 ? c.k.view()(0, h, j, d) : other.k.view()(0, h, j, d);
        bv.view()(0, h, j, d) = j < 6 ? c.v.view()(0, h, j, d) : other.v.view()(0, h, j, d);
      }
  b.append(key_slice(bk.cview(), 6, 8), key_slice(bv.cview(), 6, 8));
  CHECK(b.block_table()[0] == a->block_table()[0]); // the full page stays shared
  CHECK(b.block_table()[1] != a->block_table()[1]); // the half page was copied on write
  check(*a, c.k.cview(), c.v.cview());
  check(b, bk.cview(), bv.cview());

  a.reset(); // released before its fork: b keeps the shared page
  CHECK(pool.references(b.block_table()[0]) == 1);
  check(b, bk.cview(), bv.cview());
  std::int64_t const held = static_cast<std::int64_t>(b.block_table().size());
  CHECK(pool.free_pages() == 8 - held);
  b = attnkit::paged_sequence(pool);
  CHECK(pool.free_pages() == 8);
}

TEST_CASE("paged cache: bad pools, tables and lengths are rejected", "[kv][paged][validation]") {
  CHECK_THROWS_WITH(attnkit::page_pool(4, 0, 1, 8, 8),
                    Contains("attnkit::page_pool: page_size must be >= 1, got 0"));
  CHECK_THROWS_WITH(attnkit::page_pool(0, 16, 1, 8, 8), Contains("pages must be >= 1, got 0"));
  attnkit::page_pool pool(4, 16, 1, 8, 8);
  std::int32_t const used = pool.allocate();
  std::vector<std::int32_t> table{used, 7};
  attnkit::tensor_view<std::int32_t const, 2> const view(table.data(), {1, 2});
  CHECK_THROWS_WITH(attnkit::paged_kv(pool, view, 20),
                    Contains("attnkit::paged_kv: block_tables(0, 1) = 7 is outside the pool of 4 pages"));
  table[1] = used + 1;
  CHECK_THROWS_WITH(attnkit::paged_kv(pool, view, 20), Contains("block_tables(0, 1) = 1 is a free page"));
  CHECK_THROWS_WITH(attnkit::paged_kv(pool, view, 33),
                    Contains("key_len = 33 tokens need 3 pages of 16 but block_tables.extent(1) = 2"));
  CHECK_THROWS_WITH(attnkit::paged_kv(pool, view, -1), Contains("key_len must be >= 0, got -1"));
  CHECK_NOTHROW(attnkit::paged_kv(pool, view, 16)); // the second entry is past the sequence: not read
  CHECK_THROWS_WITH(pool.release(2), Contains("release: page 2 is free"));
  CHECK_THROWS_WITH(pool.retain(-1), Contains("retain: page -1 is outside the pool of 4 pages"));
  for (int i = 0; i < 3; ++i)
    pool.allocate();
  CHECK_THROWS_WITH(pool.allocate(), Contains("all 4 pages are in use"));
  attnkit::paged_sequence seq(pool);
  attnkit::test::tensor k(1, 1, 1, 8), v(1, 1, 1, 8);
  CHECK_THROWS_WITH(seq.append(k.cview(), v.cview()), Contains("all 4 pages are in use"));
}

TEST_CASE("streaming cache: generation far past the window equals sinks + window over the history",
          "[kv][streaming]") {
  constexpr std::int64_t sinks = 4, window = 200, total = 3000;
  case_shape const s{.q_heads = 8, .kv_heads = 2, .q_len = total, .key_len = total, .dim = 32, .v_dim = 24};
  random_case c(s, 1330);
  attnkit::streaming_kv_cache cache(1, 2, sinks, window, 32, 24);
  std::size_t const bytes = cache.storage_bytes();
  auto const mask = attnkit::sink_window::causal(sinks, window);
  attnkit::attention<attnkit::softmax, attnkit::causal> const plain;
  attnkit::attention<attnkit::softmax, attnkit::sink_window> const reference_plain({}, {}, mask);
  attnkit::attention<attnkit::softmax_sinks, attnkit::causal, attnkit::alibi> const sinks_alibi(
      {}, attnkit::softmax_sinks::uniform(0.5f), {}, {});
  attnkit::attention<attnkit::softmax_sinks, attnkit::sink_window, attnkit::alibi> const
      reference_sinks_alibi({}, attnkit::softmax_sinks::uniform(0.5f), mask, {});

  std::int64_t filled = 0;
  // 230 and 250: the window starts within a 64-key chunk of the sinks, so a chunk has a gap.
  for (std::int64_t piece : {1, 2, 227, 20, 50, 1, 97, 1500, 1, 1, 1100}) { // ends at 3000
    cache.append(key_slice(c.k.cview(), filled, piece), key_slice(c.v.cview(), filled, piece));
    filled += piece;
    CHECK(cache.storage_bytes() == bytes);
    CHECK(cache.key_len() == filled);
    // The query of the newest token, over the cache and, as the reference, over the whole history.
    attnkit::tensor_view<float const> const q = key_slice(c.q.cview(), filled - 1, 1);
    auto const k = first_keys(c.k.cview(), filled), v = first_keys(c.v.cview(), filled);
    INFO("after " << filled << " tokens");
    auto const ref = attnkit::reference::attention(reference_plain, q, k, v);
    auto const ref_alibi = attnkit::reference::attention(reference_sinks_alibi, q, k, v);
    attnkit::test::for_each_arch([&](auto arch) {
      check_source<decltype(arch)>(plain, q, cache, v, ref, {.decode_split_keys = 64});
      check_source<decltype(arch)>(sinks_alibi, q, cache, v, ref_alibi);
    });
  }
}

TEST_CASE("streaming cache: several queries see the keys held, at their true positions", "[kv][streaming]") {
  constexpr std::int64_t sinks = 3, window = 100;
  // 130: the sinks and the window share a chunk, with a gap between them; 1000: far apart.
  auto const total = GENERATE(as<std::int64_t>{}, 130, 1000);
  case_shape const s{.q_heads = 4, .kv_heads = 1, .q_len = 40, .key_len = total, .dim = 16, .v_dim = 16};
  random_case c(s, 1340);
  attnkit::streaming_kv_cache cache(1, 1, sinks, window, 16, 16);
  cache.append(c.k.cview(), c.v.cview());
  // The keys held, as a document mask: the kept positions form document 1, the dropped ones document 0.
  std::vector<std::int32_t> key_ids(static_cast<std::size_t>(total), 0);
  for (std::int64_t j = 0; j < total; ++j)
    key_ids[static_cast<std::size_t>(j)] = j < sinks || j >= total - window ? 1 : 0;
  using held_and_causal = attnkit::visible_if_all<attnkit::document, attnkit::causal>;
  for (std::int64_t q_len : {1, 5, 16, 40}) { // 40: the prefill kernel, which skips what is not held
    attnkit::tensor_view<float const> const q = key_slice(c.q.cview(), 0, q_len);
    std::vector<std::int32_t> const query_ids(static_cast<std::size_t>(q_len), 1);
    attnkit::attention<attnkit::softmax, held_and_causal> const reference_attn(
        {}, {}, held_and_causal(attnkit::document(query_ids, key_ids), {}));
    auto const ref = attnkit::reference::attention(reference_attn, q, c.k.cview(), c.v.cview());
    attnkit::attention<attnkit::softmax, attnkit::causal> const attn;
    INFO("Sq " << q_len << " Sk " << total);
    attnkit::test::for_each_arch([&](auto arch) {
      check_source<decltype(arch)>(attn, q, cache, c.v.cview(), ref, {.decode_split_keys = 64});
    });
  }
}

TEST_CASE("streaming cache: bad sizes are rejected", "[kv][streaming][validation]") {
  CHECK_THROWS_WITH(attnkit::streaming_kv_cache(1, 1, -1, 8, 8, 8),
                    Contains("attnkit::streaming_kv_cache: sinks must be >= 0, got -1"));
  CHECK_THROWS_WITH(attnkit::streaming_kv_cache(1, 1, 4, 0, 8, 8), Contains("window must be >= 1, got 0"));
  attnkit::streaming_kv_cache cache(1, 2, 4, 8, 8, 8);
  attnkit::test::tensor k(1, 2, 3, 8), v(1, 2, 3, 6);
  CHECK_THROWS_WITH(cache.append(k.cview(), v.cview()),
                    Contains("v.extent(3) (dim) = 6 does not match the cache's v_dim = 8"));
}

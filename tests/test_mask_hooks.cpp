// Every mask's kernel hooks against the reference's visibility rule: runs of keys never leave out a
// visible key, and `classify` never calls a range empty that has a visible pair, or full that has a
// hidden one (exhaustive on small shapes, randomised on larger ones, tile sizes varied).

#include "support/mask_checks.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

using attnkit::test::check_mask_hooks_large;
using attnkit::test::check_mask_hooks_small;

namespace {

/// The same mask whatever the sizes.
template <class Mask> auto always(Mask m) {
  return [m](std::int64_t, std::int64_t) { return m; };
}

/// Segment ids for `n` tokens in segments of random lengths 1..max_len (sorted), or shuffled ids.
std::vector<std::int32_t> random_segments(std::int64_t n, int max_len, bool sorted, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> len(1, max_len);
  std::vector<std::int32_t> ids;
  for (std::int32_t s = 0; static_cast<std::int64_t>(ids.size()) < n; ++s)
    ids.insert(ids.end(), static_cast<std::size_t>(len(gen)), s);
  ids.resize(static_cast<std::size_t>(n));
  if (!sorted)
    for (auto& id : ids)
      id = static_cast<std::int32_t>(gen() % 3);
  return ids;
}

} // namespace

TEST_CASE("mask hooks: every library mask but the union hides a row at once", "[mask][hooks]") {
  // visible_if_any goes through hide_keys' per-key fallback; the checks below cover both paths.
  static_assert(attnkit::hides_rows<attnkit::no_mask> && attnkit::hides_rows<attnkit::causal> &&
                attnkit::hides_rows<attnkit::sliding_window> && attnkit::hides_rows<attnkit::neighbourhood> &&
                attnkit::hides_rows<attnkit::sink_window> && attnkit::hides_rows<attnkit::document> &&
                attnkit::hides_rows<attnkit::visible_if_all<attnkit::document, attnkit::causal>> &&
                !attnkit::hides_rows<attnkit::visible_if_any<attnkit::causal, attnkit::sliding_window>>);
  SUCCEED();
}

TEST_CASE("mask hooks: causal and no mask", "[mask][hooks]") {
  check_mask_hooks_small(always(attnkit::causal{}));
  check_mask_hooks_small(always(attnkit::no_mask{}));
  check_mask_hooks_large(always(attnkit::causal{}));
}

TEST_CASE("mask hooks: sliding window", "[mask][hooks]") {
  auto const [left, right, dilation] = GENERATE(table<std::int64_t, std::int64_t, std::int64_t>(
      {{0, 0, 1}, {3, 0, 1}, {0, 2, 1}, {4, 4, 1}, {6, 0, 3}, {7, 5, 2}, {100, 0, 1}}));
  INFO("left " << left << " right " << right << " dilation " << dilation);
  attnkit::sliding_window const w(left, right, dilation);
  check_mask_hooks_small(always(w));
  check_mask_hooks_large(always(w));
}

TEST_CASE("mask hooks: the causal window of W keys", "[mask][hooks]") {
  std::int64_t const window = GENERATE(1, 2, 17, 64, 129);
  check_mask_hooks_small(always(attnkit::sliding_window::causal(window)));
  check_mask_hooks_large(always(attnkit::sliding_window::causal(window)));
}

TEST_CASE("mask hooks: neighbourhood", "[mask][hooks]") {
  std::int64_t const window = GENERATE(1, 3, 7, 39, 41, 201);
  INFO("window " << window);
  check_mask_hooks_small(always(attnkit::neighbourhood(window)));
  check_mask_hooks_large(always(attnkit::neighbourhood(window)));
}

TEST_CASE("mask hooks: sinks + window", "[mask][hooks]") {
  std::int64_t const sinks = GENERATE(0, 1, 4, 20);
  std::int64_t const window = GENERATE(1, 8, 100);
  bool const is_causal = GENERATE(true, false);
  std::int64_t const dilation = GENERATE(1, 3);
  INFO("sinks " << sinks << " window " << window << " causal " << is_causal << " dilation " << dilation);
  attnkit::sink_window const m(sinks, attnkit::sliding_window(window - 1, is_causal ? 0 : 3, dilation),
                               is_causal);
  check_mask_hooks_small(always(m));
  check_mask_hooks_large(always(m));
}

TEST_CASE("mask hooks: document, sorted and unsorted ids, shared and per batch entry", "[mask][hooks]") {
  bool const sorted = GENERATE(true, false);
  int const max_len = GENERATE(1, 5, 60);
  INFO("sorted " << sorted << " max segment length " << max_len);
  auto const make = [&](std::int64_t q_len, std::int64_t key_len) {
    return attnkit::document(random_segments(q_len, max_len, sorted, 7),
                             random_segments(key_len, max_len, sorted, 8));
  };
  check_mask_hooks_small(make);
  check_mask_hooks_large(make);
  auto const per_batch = [&](std::int64_t q_len, std::int64_t key_len) {
    auto q = random_segments(q_len, max_len, sorted, 1), k = random_segments(key_len, max_len, sorted, 2);
    auto const q2 = random_segments(q_len, max_len, sorted, 3),
               k2 = random_segments(key_len, max_len, sorted, 4);
    q.insert(q.end(), q2.begin(), q2.end());
    k.insert(k.end(), k2.begin(), k2.end());
    return attnkit::document(2, q, k);
  };
  check_mask_hooks_small(per_batch, 1);
}

TEST_CASE("mask hooks: intersections and unions", "[mask][hooks]") {
  using doc_causal = attnkit::visible_if_all<attnkit::document, attnkit::causal>;
  check_mask_hooks_small([](std::int64_t q_len, std::int64_t key_len) {
    return doc_causal(
        attnkit::document(random_segments(q_len, 6, true, 9), random_segments(key_len, 6, true, 9)),
        attnkit::causal{});
  });
  using two_windows = attnkit::visible_if_any<attnkit::sliding_window, attnkit::sliding_window>;
  two_windows const far_apart(attnkit::sliding_window(2, 0), attnkit::sliding_window(0, 0, 1));
  check_mask_hooks_small(always(two_windows(attnkit::sliding_window(20, 0), attnkit::sliding_window(1, 1))));
  check_mask_hooks_small(always(far_apart));
  using sinks_or_window =
      attnkit::visible_if_all<attnkit::visible_if_any<attnkit::sink_window, attnkit::neighbourhood>,
                              attnkit::causal>;
  sinks_or_window const nested(
      attnkit::visible_if_any<attnkit::sink_window, attnkit::neighbourhood>(
          attnkit::sink_window(3, attnkit::sliding_window(0, 0), false), attnkit::neighbourhood(9)),
      attnkit::causal{});
  check_mask_hooks_small(always(nested));
  check_mask_hooks_large(always(nested));
  // One mask's run ends exactly where the other's next run begins: the intersection must go on from there.
  using sinks_in_document = attnkit::visible_if_all<attnkit::sink_window, attnkit::document>;
  check_mask_hooks_small([](std::int64_t q_len, std::int64_t key_len) {
    std::vector<std::int32_t> keys(static_cast<std::size_t>(key_len), 1);
    for (std::size_t j = 0; j < std::min<std::size_t>(5, keys.size()); ++j)
      keys[j] = 0;
    return sinks_in_document(
        attnkit::sink_window(5, attnkit::sliding_window(0, 0), false),
        attnkit::document(std::vector<std::int32_t>(static_cast<std::size_t>(q_len), 1), keys));
  });
  using window_not_dilated = attnkit::visible_if_all<attnkit::sliding_window, attnkit::sliding_window>;
  check_mask_hooks_small(
      always(window_not_dilated(attnkit::sliding_window(30, 0, 1), attnkit::sliding_window(12, 12, 3))));
  check_mask_hooks_large(
      always(window_not_dilated(attnkit::sliding_window(30, 0, 1), attnkit::sliding_window(12, 12, 3))));
}

// Every mask in the fused kernel against the fp64 reference: the core's odd sizes for Sq and Sk (so
// Sq != Sk and every remainder), both alignments, GQA, two batch entries, every architecture.

#include "support/size_grid.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <vector>

namespace {

/// The same mask whatever the sizes.
template <class Mask> auto with_mask(Mask mask) {
  return [mask](std::int64_t, std::int64_t, attnkit::attention_options o) {
    return attnkit::attention<attnkit::softmax, Mask>(o, {}, mask);
  };
}

/// Sorted segment ids: segments of `length` tokens, the first one `shift` shorter.
std::vector<std::int32_t> segments(std::int64_t n, std::int64_t length, std::int64_t shift) {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (std::int64_t t = 0; t < n; ++t)
    ids[static_cast<std::size_t>(t)] = static_cast<std::int32_t>((t + shift) / length);
  return ids;
}

} // namespace

TEST_CASE("masks: causal sliding window of W keys", "[kernel][mask][window]") {
  std::int64_t const window = GENERATE(1, 16, 100);
  INFO("W " << window);
  attnkit::test::check_every_size(with_mask(attnkit::sliding_window::causal(window)), 10);
}

TEST_CASE("masks: two-sided and dilated sliding windows", "[kernel][mask][window]") {
  attnkit::test::check_every_size(with_mask(attnkit::sliding_window(40, 20)), 11);
  attnkit::test::check_every_size(with_mask(attnkit::sliding_window(60, 0, 3)), 12);
  attnkit::test::check_every_size(with_mask(attnkit::sliding_window(5, 70, 2)), 13);
}

TEST_CASE("masks: neighbourhood", "[kernel][mask][neighbourhood]") {
  std::int64_t const window = GENERATE(1, 31, 129);
  INFO("W " << window);
  attnkit::test::check_every_size(with_mask(attnkit::neighbourhood(window)), 20);
}

TEST_CASE("masks: sinks + window", "[kernel][mask][sinks]") {
  attnkit::test::check_every_size(with_mask(attnkit::sink_window::causal(4, 64)), 30);
  attnkit::test::check_every_size(with_mask(attnkit::sink_window::causal(70, 9)), 31);
  attnkit::test::check_every_size(with_mask(attnkit::sink_window(4, attnkit::sliding_window(10, 10), false)),
                                  32);
}

TEST_CASE("masks: document, shared and per batch entry, sorted and not", "[kernel][mask][document]") {
  attnkit::test::check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        return attnkit::attention<attnkit::softmax, attnkit::document>(
            o, {}, attnkit::document(segments(q_len, 50, 3), segments(key_len, 50, 3)));
      },
      40);
  attnkit::test::check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        auto q = segments(q_len, 20, 0), k = segments(key_len, 20, 0);
        auto const q2 = segments(q_len, 70, 10), k2 = segments(key_len, 70, 10);
        q.insert(q.end(), q2.begin(), q2.end());
        k.insert(k.end(), k2.begin(), k2.end());
        return attnkit::attention<attnkit::softmax, attnkit::document>(o, {}, attnkit::document(2, q, k));
      },
      41);
  attnkit::test::check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        auto q = segments(q_len, 1, 0), k = segments(key_len, 1, 0);
        for (auto& id : q)
          id %= 3;
        for (auto& id : k)
          id = (id * 7) % 3;
        return attnkit::attention<attnkit::softmax, attnkit::document>(o, {}, attnkit::document(q, k));
      },
      42);
}

TEST_CASE("masks: intersections and unions", "[kernel][mask][combinators]") {
  using doc_causal = attnkit::visible_if_all<attnkit::document, attnkit::causal>;
  attnkit::test::check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        return attnkit::attention<attnkit::softmax, doc_causal>(
            o, {}, doc_causal(attnkit::document(segments(q_len, 40, 5), segments(key_len, 40, 5)), {}));
      },
      50);
  using window_or_window = attnkit::visible_if_any<attnkit::sliding_window, attnkit::sliding_window>;
  attnkit::test::check_every_size(
      with_mask(window_or_window(attnkit::sliding_window::causal(8), attnkit::sliding_window(0, 30, 10))),
      51);
}

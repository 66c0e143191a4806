// Every mask in the fused kernel against the fp64 reference: the core's odd sizes for Sq and Sk (so
// Sq != Sk and every remainder), both alignments, GQA, two batch entries, every architecture.

#include "support/run_case.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <vector>

using attnkit::alignment;
using attnkit::test::case_shape;

namespace {

constexpr std::array<std::int64_t, 6> odd_sizes{1, 7, 63, 64, 65, 257};
constexpr std::array<std::int64_t, 4> dims{16, 64, 80, 128};

/// Runs `make(Sq, Sk, options)`'s attention on every (Sq, Sk) of odd_sizes, both alignments, every arch.
template <class MakeAttention> void check_every_size(MakeAttention const& make, std::uint32_t seed) {
  for (std::int64_t q_len : odd_sizes)
    for (std::int64_t key_len : odd_sizes)
      for (alignment align : {alignment::bottom_right, alignment::top_left}) {
        auto const pick = static_cast<std::size_t>(q_len * 7 + key_len);
        case_shape const s{.batch = 2,
                           .q_heads = 4,
                           .kv_heads = 2,
                           .q_len = q_len,
                           .key_len = key_len,
                           .dim = dims[pick % dims.size()],
                           .v_dim = dims[(pick + 1) % dims.size()]};
        INFO("Sq " << q_len << " Sk " << key_len << " D " << s.dim << " Dv " << s.v_dim
                   << (align == alignment::top_left ? " top-left" : " bottom-right"));
        auto const attn = make(q_len, key_len, attnkit::attention_options{.align = align});
        attnkit::test::check_random_case_every_arch(attn, s, seed);
      }
}

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
  check_every_size(with_mask(attnkit::sliding_window::causal(window)), 10);
}

TEST_CASE("masks: two-sided and dilated sliding windows", "[kernel][mask][window]") {
  check_every_size(with_mask(attnkit::sliding_window(40, 20)), 11);
  check_every_size(with_mask(attnkit::sliding_window(60, 0, 3)), 12);
  check_every_size(with_mask(attnkit::sliding_window(5, 70, 2)), 13);
}

TEST_CASE("masks: neighbourhood", "[kernel][mask][neighbourhood]") {
  std::int64_t const window = GENERATE(1, 31, 129);
  INFO("W " << window);
  check_every_size(with_mask(attnkit::neighbourhood(window)), 20);
}

TEST_CASE("masks: sinks + window", "[kernel][mask][sinks]") {
  check_every_size(with_mask(attnkit::sink_window::causal(4, 64)), 30);
  check_every_size(with_mask(attnkit::sink_window::causal(70, 9)), 31);
  check_every_size(with_mask(attnkit::sink_window(4, attnkit::sliding_window(10, 10), false)), 32);
}

TEST_CASE("masks: document, shared and per batch entry, sorted and not", "[kernel][mask][document]") {
  check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        return attnkit::attention<attnkit::softmax, attnkit::document>(
            o, {}, attnkit::document(segments(q_len, 50, 3), segments(key_len, 50, 3)));
      },
      40);
  check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        auto q = segments(q_len, 20, 0), k = segments(key_len, 20, 0);
        auto const q2 = segments(q_len, 70, 10), k2 = segments(key_len, 70, 10);
        q.insert(q.end(), q2.begin(), q2.end());
        k.insert(k.end(), k2.begin(), k2.end());
        return attnkit::attention<attnkit::softmax, attnkit::document>(o, {}, attnkit::document(2, q, k));
      },
      41);
  check_every_size(
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
  check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attnkit::attention_options o) {
        return attnkit::attention<attnkit::softmax, doc_causal>(
            o, {}, doc_causal(attnkit::document(segments(q_len, 40, 5), segments(key_len, 40, 5)), {}));
      },
      50);
  using window_or_window = attnkit::visible_if_any<attnkit::sliding_window, attnkit::sliding_window>;
  check_every_size(
      with_mask(window_or_window(attnkit::sliding_window::causal(8), attnkit::sliding_window(0, 30, 10))),
      51);
}

// Score modifiers in the fused kernel against the fp64 reference, alone, stacked (order matters) and with
// masks, on the core's size grid and every architecture.

#include "support/random_tensor.hpp"
#include "support/size_grid.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

using attnkit::attention;
using attnkit::attention_options;

namespace {

/// A [1, Hq, Sq, Sk] table (broadcast over the batch) of N(0, 1) values; rebuilt for each size.
struct bias_table {
  attnkit::test::tensor t;
  bias_table(std::int64_t q_heads, std::int64_t q_len, std::int64_t key_len) : t(1, q_heads, q_len, key_len) {
    attnkit::test::fill_normal(t, 77);
  }
};

} // namespace

TEST_CASE("modifiers: ALiBi, default and given slopes", "[kernel][modifier][alibi]") {
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attention_options o) {
        return attention<attnkit::softmax, attnkit::causal, attnkit::alibi>(o, {}, {}, {});
      },
      60);
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attention_options o) {
        return attention<attnkit::softmax, attnkit::no_mask, attnkit::alibi>(
            o, {}, {}, attnkit::alibi({0.5f, 0.0f, 0.03f, 2.0f}));
      },
      61);
}

TEST_CASE("modifiers: softcap", "[kernel][modifier][softcap]") {
  float const cap = GENERATE(0.5f, 5.0f, 50.0f);
  INFO("cap " << cap);
  attnkit::test::check_every_size(
      [cap](std::int64_t, std::int64_t, attention_options o) {
        return attention<attnkit::softmax, attnkit::causal, attnkit::softcap>(o, {}, {},
                                                                              attnkit::softcap(cap));
      },
      70);
}

TEST_CASE("modifiers: additive bias tensor, broadcast over batch", "[kernel][modifier][bias]") {
  std::vector<bias_table> tables; // kept alive: the modifier holds a view
  attnkit::test::check_every_size(
      [&](std::int64_t q_len, std::int64_t key_len, attention_options o) {
        tables.emplace_back(4, q_len, key_len);
        return attention<attnkit::softmax, attnkit::no_mask, attnkit::additive_bias>(
            o, {}, {}, attnkit::additive_bias(tables.back().t.cview()));
      },
      80);
}

TEST_CASE("modifiers: additive bias broadcast by extent 1 and by stride 0", "[kernel][modifier][bias]") {
  // A per-key bias {B, 1, 1, Sk} (here a padding mask: -inf on the last 5 keys of batch entry 1) and a
  // per-head bias {1, Hq, 1, 1} whose head dimension is a stride-0 view of one value per head.
  attnkit::test::tensor per_key(2, 1, 1, 90);
  attnkit::test::fill_normal(per_key, 81);
  for (std::int64_t j = 85; j < 90; ++j)
    per_key.at(1, 0, 0, j) = -std::numeric_limits<float>::infinity();
  std::vector<float> per_head{0.5f, -1.0f, 2.0f, 0.0f};
  attnkit::tensor_view<float const> const head_view(per_head.data(), {1, 4, 40, 90}, {0, 1, 0, 0});
  // And a per-query bias {1, 1, Sq, 1} in a packed array (key stride 1, extent 1): it shifts only the LSE.
  attnkit::test::tensor per_query(1, 1, 40, 1);
  attnkit::test::fill_normal(per_query, 83);
  using three_biases = attention<attnkit::softmax, attnkit::causal, attnkit::additive_bias,
                                 attnkit::additive_bias, attnkit::additive_bias>;
  three_biases const attn({}, {}, {}, attnkit::additive_bias(per_key.cview()),
                          attnkit::additive_bias(head_view), attnkit::additive_bias(per_query.cview()));
  attnkit::test::case_shape const s{.batch = 2, .q_heads = 4, .kv_heads = 2, .q_len = 40, .key_len = 90};
  attnkit::test::check_random_case_every_arch(attn, s, 82);
}

TEST_CASE("modifiers: per-key bias on the leading keys (ZeroTuning)", "[kernel][modifier][key_bias]") {
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attention_options o) {
        return attention<attnkit::softmax, attnkit::causal, attnkit::key_bias>(
            o, {}, {}, attnkit::key_bias::first_key({std::log(2.0f), std::log(0.5f), 0.0f, std::log(8.0f)}));
      },
      90);
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attention_options o) {
        std::vector<float> table(70);
        for (std::size_t j = 0; j < table.size(); ++j)
          table[j] = std::sin(static_cast<float>(j));
        return attention<attnkit::softmax, attnkit::no_mask, attnkit::key_bias>(
            o, {}, {}, attnkit::key_bias(1, 70, table));
      },
      91);
}

TEST_CASE("modifiers: stacked in either order, with masks", "[kernel][modifier][combinations]") {
  // softcap then ALiBi differs from ALiBi then softcap; each must match its own reference.
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attention_options o) {
        return attention<attnkit::softmax, attnkit::sliding_window, attnkit::softcap, attnkit::alibi>(
            o, {}, attnkit::sliding_window::causal(50), attnkit::softcap(3.0f), {});
      },
      100);
  attnkit::test::check_every_size(
      [](std::int64_t, std::int64_t, attention_options o) {
        return attention<attnkit::softmax, attnkit::sink_window, attnkit::alibi, attnkit::softcap>(
            o, {}, attnkit::sink_window::causal(4, 30), {}, attnkit::softcap(3.0f));
      },
      101);
  attnkit::test::check_every_size(
      [](std::int64_t q_len, std::int64_t key_len, attention_options o) {
        std::vector<std::int32_t> qs(static_cast<std::size_t>(q_len)), ks(static_cast<std::size_t>(key_len));
        for (std::size_t i = 0; i < qs.size(); ++i)
          qs[i] = static_cast<std::int32_t>(i / 30);
        for (std::size_t j = 0; j < ks.size(); ++j)
          ks[j] = static_cast<std::int32_t>(j / 30);
        return attention<attnkit::softmax, attnkit::document, attnkit::key_bias, attnkit::alibi>(
            o, {}, attnkit::document(qs, ks), attnkit::key_bias::first_key({1.0f}), {});
      },
      102);
}

// Bad policy parameters are rejected with std::invalid_argument naming the policy, the parameter and the
// value: at construction when wrong on their own, at the call when they do not fit its sizes.

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

using Catch::Matchers::Contains;

namespace {

/// q [1, 4, 8, 16], k/v [1, 2, 10, 16], o [1, 4, 8, 16].
struct call_buffers {
  std::vector<float> q = std::vector<float>(4 * 8 * 16), k = std::vector<float>(2 * 10 * 16),
                     v = std::vector<float>(2 * 10 * 16), o = std::vector<float>(4 * 8 * 16);
  template <class Attention> void run(Attention const& attn) {
    attn(attnkit::bhsd(q.data(), 1, 4, 8, 16), attnkit::bhsd(k.data(), 1, 2, 10, 16),
         attnkit::bhsd(v.data(), 1, 2, 10, 16), attnkit::bhsd(o.data(), 1, 4, 8, 16));
  }
};

} // namespace

TEST_CASE("policy validation: windows", "[validation][policy]") {
  CHECK_THROWS_WITH(attnkit::sliding_window::causal(0), Contains("sliding_window") && Contains("window = 0"));
  CHECK_THROWS_WITH(attnkit::sliding_window::causal(-3), Contains("window = -3"));
  CHECK_THROWS_WITH(attnkit::sliding_window(4, 0, 0), Contains("dilation = 0") && Contains(">= 1"));
  CHECK_THROWS_WITH(attnkit::sliding_window::causal(8, -1), Contains("dilation = -1"));
  CHECK_THROWS_WITH(attnkit::sliding_window(-1, 0), Contains("left = -1"));
  CHECK_THROWS_WITH(attnkit::sliding_window(0, -2), Contains("right = -2"));
  CHECK_THROWS_WITH(attnkit::neighbourhood(4),
                    Contains("neighbourhood") && Contains("window = 4") && Contains("odd"));
  CHECK_THROWS_WITH(attnkit::neighbourhood(0), Contains("window = 0"));
  CHECK_THROWS_WITH(attnkit::sink_window::causal(-1, 8), Contains("sink_window") && Contains("sinks = -1"));
  CHECK_THROWS_WITH(attnkit::sink_window::causal(4, 0), Contains("window = 0"));
  CHECK_NOTHROW(attnkit::sliding_window(std::numeric_limits<std::int64_t>::max(), 0)); // unbounded
}

TEST_CASE("policy validation: document segment ids must fit the call", "[validation][policy]") {
  call_buffers b;
  std::vector<std::int32_t> const q_ids(8, 0), k_ids(10, 0);
  using doc_attention = attnkit::attention<attnkit::softmax, attnkit::document>;
  CHECK_NOTHROW(b.run(doc_attention({}, {}, attnkit::document(q_ids, k_ids))));
  CHECK_THROWS_WITH(b.run(doc_attention({}, {}, attnkit::document(std::vector<std::int32_t>(7), k_ids))),
                    Contains("document") && Contains("query_segments has 7") && Contains("Sq = 8"));
  CHECK_THROWS_WITH(b.run(doc_attention({}, {}, attnkit::document(q_ids, std::vector<std::int32_t>(11)))),
                    Contains("key_segments has 11") && Contains("Sk = 10"));
  CHECK_THROWS_WITH(b.run(doc_attention({}, {}, attnkit::document(q_ids))), Contains("Sk = 10"));
  CHECK_THROWS_WITH(
      b.run(doc_attention(
          {}, {}, attnkit::document(3, std::vector<std::int32_t>(24), std::vector<std::int32_t>(30)))),
      Contains("batch = 3") && Contains("batch = 1"));
  CHECK_THROWS_WITH(attnkit::document(2, std::vector<std::int32_t>(7), std::vector<std::int32_t>(8)),
                    Contains("query_segments has 7 ids") && Contains("batch = 2"));
  CHECK_THROWS_WITH(attnkit::document(0, {}, {}), Contains("batch = 0"));
  CHECK_THROWS_WITH(attnkit::document::segments_from_lengths({3, -1}), Contains("lengths[1] = -1"));
  CHECK(attnkit::document::segments_from_lengths({2, 0, 1}) == std::vector<std::int32_t>{0, 0, 2});
  // Masks inside a combinator are validated too.
  using doc_causal =
      attnkit::attention<attnkit::softmax, attnkit::visible_if_all<attnkit::causal, attnkit::document>>;
  CHECK_THROWS_WITH(
      b.run(doc_causal(
          {}, {},
          doc_causal::mask_type(attnkit::causal{}, attnkit::document(q_ids, std::vector<std::int32_t>(3))))),
      Contains("key_segments has 3"));
}

TEST_CASE("policy validation: modifiers", "[validation][policy]") {
  call_buffers b;
  float const nan = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(attnkit::softcap(0.0f), Contains("softcap") && Contains("cap = 0"));
  CHECK_THROWS_WITH(attnkit::softcap(-1.0f), Contains("cap = -1"));
  CHECK_THROWS_AS(attnkit::softcap(nan), std::invalid_argument);
  CHECK_THROWS_AS(attnkit::softcap(std::numeric_limits<float>::infinity()), std::invalid_argument);
  CHECK_THROWS_WITH(attnkit::alibi({1.0f, nan}), Contains("alibi") && Contains("slopes[1]"));

  using alibi_attention = attnkit::attention<attnkit::softmax, attnkit::causal, attnkit::alibi>;
  CHECK_NOTHROW(b.run(alibi_attention({}, {}, {}, attnkit::alibi({1, 2, 3, 4}))));
  CHECK_THROWS_WITH(b.run(alibi_attention({}, {}, {}, attnkit::alibi({1, 2, 3}))),
                    Contains("3 slopes") && Contains("Hq = 4"));

  using key_bias_attention = attnkit::attention<attnkit::softmax, attnkit::causal, attnkit::key_bias>;
  CHECK_NOTHROW(b.run(key_bias_attention({}, {}, {}, attnkit::key_bias::first_key({1.0f}))));
  CHECK_THROWS_WITH(b.run(key_bias_attention({}, {}, {}, attnkit::key_bias::first_key({1.0f, 2.0f}))),
                    Contains("key_bias") && Contains("2 head rows") && Contains("Hq = 4"));
  CHECK_THROWS_WITH(attnkit::key_bias(1, 2, {1.0f}), Contains("values has 1 entries"));
  CHECK_THROWS_WITH(attnkit::key_bias(0, 2, {}), Contains("heads = 0"));
  CHECK_THROWS_WITH(attnkit::key_bias::first_key({nan}), Contains("values[0] is NaN"));

  using bias_attention = attnkit::attention<attnkit::softmax, attnkit::no_mask, attnkit::additive_bias>;
  std::vector<float> table(4 * 8 * 10);
  CHECK_NOTHROW(
      b.run(bias_attention({}, {}, {}, attnkit::additive_bias(attnkit::bhsd(table.data(), 1, 4, 8, 10)))));
  CHECK_NOTHROW(
      b.run(bias_attention({}, {}, {}, attnkit::additive_bias(attnkit::bhsd(table.data(), 1, 1, 8, 10)))));
  CHECK_THROWS_WITH(
      b.run(bias_attention({}, {}, {}, attnkit::additive_bias(attnkit::bhsd(table.data(), 1, 4, 8, 9)))),
      Contains("additive_bias") && Contains("bias.extent(3) = 9") && Contains("Sk = 10"));
  CHECK_THROWS_WITH(
      b.run(bias_attention({}, {}, {}, attnkit::additive_bias(attnkit::bhsd(table.data(), 2, 4, 8, 10)))),
      Contains("bias.extent(0) = 2") && Contains("B = 1"));
  CHECK_THROWS_WITH(
      b.run(bias_attention({}, {}, {},
                           attnkit::additive_bias(attnkit::bhsd<float const>(nullptr, 1, 4, 8, 10)))),
      Contains("null data"));
  CHECK_THROWS_WITH(b.run(bias_attention({}, {}, {},
                                         attnkit::additive_bias(attnkit::tensor_view<float const>(
                                             table.data(), {1, 4, 8, 10}, {0, 80, 10, -1})))),
                    Contains("bias.stride(3) = -1"));
}

// Results are bitwise identical for every thread count.

#include "support/random_layout.hpp"
#include "support/random_tensor.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

using attnkit::test::tensor;

namespace {

/// Every mask and modifier, so that each combination is checked for thread-count invariance.
using windowed = attnkit::attention<attnkit::softmax, attnkit::sink_window, attnkit::softcap, attnkit::alibi>;
using documents =
    attnkit::attention<attnkit::softmax, attnkit::visible_if_all<attnkit::document, attnkit::causal>,
                       attnkit::key_bias>;
using neighbours =
    attnkit::attention<attnkit::softmax,
                       attnkit::visible_if_any<attnkit::neighbourhood, attnkit::sliding_window>>;
using sigmoid_window = attnkit::attention<attnkit::sigmoid, attnkit::sliding_window, attnkit::alibi>;
using sinks_window = attnkit::attention<attnkit::softmax_sinks, attnkit::sliding_window>;
using sparse =
    attnkit::attention<attnkit::softmax, attnkit::block_sparse<attnkit::causal>, attnkit::additive_bias>;

/// A [1, 1, 1, Sk] bias for the sparse case, alive for the whole test run.
attnkit::tensor_view<float const> key_padding_bias() {
  static std::vector<float> const bias(333, 0.5f);
  return attnkit::bhsd(bias.data(), 1, 1, 1, 333);
}

template <class Attention> Attention make_attention() {
  if constexpr (std::is_same_v<Attention, windowed>) {
    return windowed({}, {}, attnkit::sink_window::causal(3, 40), attnkit::softcap(4.0f), {});
  } else if constexpr (std::is_same_v<Attention, documents>) {
    using mask = attnkit::visible_if_all<attnkit::document, attnkit::causal>;
    std::vector<std::int32_t> q_ids(300), k_ids(333);
    for (std::size_t i = 0; i < q_ids.size(); ++i)
      q_ids[i] = static_cast<std::int32_t>((i + 33) / 70);
    for (std::size_t j = 0; j < k_ids.size(); ++j)
      k_ids[j] = static_cast<std::int32_t>(j / 70);
    return documents({}, {}, mask(attnkit::document(q_ids, k_ids), {}), attnkit::key_bias::first_key({1.0f}));
  } else if constexpr (std::is_same_v<Attention, neighbours>) {
    return neighbours({}, {}, {attnkit::neighbourhood(31), attnkit::sliding_window(0, 0, 1)});
  } else if constexpr (std::is_same_v<Attention, sigmoid_window>) {
    return sigmoid_window({}, {}, attnkit::sliding_window(70, 5), {});
  } else if constexpr (std::is_same_v<Attention, sinks_window>) {
    return sinks_window({}, attnkit::softmax_sinks({0.0f, 2.0f, -1.0f, 5.0f}),
                        attnkit::sliding_window::causal(90));
  } else if constexpr (std::is_same_v<Attention, sparse>) {
    attnkit::block_grid const grid{
        .batch = 2, .heads = 4, .q_len = 300, .key_len = 333, .q_block = 32, .key_block = 64};
    return sparse({}, {},
                  attnkit::block_sparse<attnkit::causal>(attnkit::test::random_layout(grid, 0.4, 0.5, 5)),
                  attnkit::additive_bias(key_padding_bias()));
  } else {
    return Attention{};
  }
}

} // namespace

TEMPLATE_TEST_CASE("threads: output and LSE do not depend on the thread count", "[threads]",
                   attnkit::attention<attnkit::softmax>,
                   (attnkit::attention<attnkit::softmax, attnkit::causal>), windowed, documents, neighbours,
                   sigmoid_window, sinks_window, sparse) {
  TestType const attn = make_attention<TestType>();
  tensor q(2, 4, 300, 64), k(2, 2, 333, 64), v(2, 2, 333, 48);
  attnkit::test::fill_normal(q, 21);
  attnkit::test::fill_normal(k, 22);
  attnkit::test::fill_normal(v, 23);
  auto run = [&](int threads) {
    tensor o(2, 4, 300, 48);
    std::vector<float> lse(2 * 4 * 300);
    if constexpr (TestType::normaliser_type::has_lse)
      attn(q.cview(), k.cview(), v.cview(), o.view(), attnkit::bhs(lse.data(), 2, 4, 300),
           {.threads = threads});
    else
      attn(q.cview(), k.cview(), v.cview(), o.view(), {.threads = threads});
    o.data.insert(o.data.end(), lse.begin(), lse.end());
    return o.data;
  };
  auto const one = run(1);
  for (int threads : {0, 2, 3, 8, 1000}) { // 0: OpenMP default; 1000: more than the work items
    auto const many = run(threads);
    INFO("threads " << threads);
    CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
  }
}

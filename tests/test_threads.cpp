// Results are bitwise identical for every thread count.

#include "support/random_tensor.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

using attnkit::test::tensor;

TEMPLATE_TEST_CASE("threads: output and LSE do not depend on the thread count", "[threads]", attnkit::no_mask,
                   attnkit::causal) {
  attnkit::attention<attnkit::softmax, TestType> const attn{};
  tensor q(2, 4, 300, 64), k(2, 2, 333, 64), v(2, 2, 333, 48);
  attnkit::test::fill_normal(q, 21);
  attnkit::test::fill_normal(k, 22);
  attnkit::test::fill_normal(v, 23);
  auto run = [&](int threads) {
    tensor o(2, 4, 300, 48);
    std::vector<float> lse(2 * 4 * 300);
    attn(q.cview(), k.cview(), v.cview(), o.view(), attnkit::bhs(lse.data(), 2, 4, 300),
         {.threads = threads});
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

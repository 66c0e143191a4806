// One functor called from several threads at once: each call has its own workspace and gives the same
// bits as a call made alone.

#include "support/random_tensor.hpp"

#include <attnkit/attnkit.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <thread>
#include <vector>

using attnkit::test::tensor;

TEST_CASE("concurrency: simultaneous calls on one functor agree with a lone call", "[threads][concurrency]") {
  attnkit::attention<attnkit::softmax, attnkit::causal> const attn{};
  // Different key lengths per caller, so the per-thread workspaces differ in size too.
  std::vector<std::int64_t> const key_lens{130, 257, 64, 1000};
  std::vector<tensor> qs, ks, vs;
  for (std::size_t c = 0; c < key_lens.size(); ++c) {
    qs.emplace_back(1, 4, 100, 32);
    ks.emplace_back(1, 2, key_lens[c], 32);
    vs.emplace_back(1, 2, key_lens[c], 32);
    attnkit::test::fill_normal(qs.back(), static_cast<std::uint32_t>(30 + c));
    attnkit::test::fill_normal(ks.back(), static_cast<std::uint32_t>(40 + c));
    attnkit::test::fill_normal(vs.back(), static_cast<std::uint32_t>(50 + c));
  }
  auto run = [&](std::size_t c, tensor& o) {
    attn(qs[c].cview(), ks[c].cview(), vs[c].cview(), o.view(), {.threads = 1});
  };

  std::vector<tensor> alone, together;
  for (std::size_t c = 0; c < key_lens.size(); ++c) {
    alone.emplace_back(1, 4, 100, 32);
    together.emplace_back(1, 4, 100, 32);
    run(c, alone.back());
  }
  std::vector<std::thread> callers;
  for (std::size_t c = 0; c < key_lens.size(); ++c)
    callers.emplace_back([&, c] {
      for (int repeat = 0; repeat < 3; ++repeat)
        run(c, together[c]);
    });
  for (auto& t : callers)
    t.join();
  for (std::size_t c = 0; c < key_lens.size(); ++c)
    CHECK(std::memcmp(alone[c].data.data(), together[c].data.data(), alone[c].data.size() * sizeof(float)) ==
          0);
}

// The compositions against their fp64 reference: differential attention (balanced and grouped heads, GQA,
// causal and unmasked, lambda per head or shared) and agent attention (one or two functors, one to many
// agents, GQA); the promises their documentation makes; bad arguments.

#include "support/random_tensor.hpp"
#include "support/tolerance.hpp"

#include <attnkit/attnkit.hpp>
#include <attnkit/reference/compositions.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

using attnkit::test::tensor;
using Catch::Matchers::Contains;

namespace {

using full_attention = attnkit::attention<attnkit::softmax>;
using causal_attention = attnkit::attention<attnkit::softmax, attnkit::causal>;

double max_abs(tensor& t) {
  double m = 0.0;
  for (float x : t.data)
    m = std::max(m, std::fabs(static_cast<double>(x)));
  return m;
}

/// Every element of o within `tolerance(h)` of the reference; reports the first failure.
template <class Tolerance>
void check_output(attnkit::reference::result const& ref, tensor& o, Tolerance&& tolerance) {
  for (std::int64_t b = 0; b < o.b; ++b)
    for (std::int64_t h = 0; h < o.h; ++h)
      for (std::int64_t i = 0; i < o.s; ++i)
        for (std::int64_t d = 0; d < o.d; ++d) {
          double const got = o.at(b, h, i, d), want = ref.o(b, h, i, d), tol = tolerance(h);
          if (!(std::fabs(got - want) <= tol)) {
            std::ostringstream where;
            where << "o(" << b << ", " << h << ", " << i << ", " << d << ") = " << got << ", reference "
                  << want << ", tolerance " << tol;
            FAIL_CHECK(where.str());
            return;
          }
        }
  SUCCEED();
}

/// Inputs of a differential call: Hs signal heads, Hn noise heads, Hkv K/V heads.
struct differential_case {
  tensor q_signal, k_signal, q_noise, k_noise, v, o;
  differential_case(std::int64_t signal_heads, std::int64_t noise_heads, std::int64_t kv_heads,
                    std::int64_t q_len, std::int64_t key_len, std::uint32_t seed)
      : q_signal(2, signal_heads, q_len, 16), k_signal(2, kv_heads, key_len, 16),
        q_noise(2, noise_heads, q_len, 16), k_noise(2, kv_heads, key_len, 16), v(2, kv_heads, key_len, 24),
        o(2, signal_heads, q_len, 24) {
    attnkit::test::fill_normal(q_signal, seed);
    attnkit::test::fill_normal(k_signal, seed + 1);
    attnkit::test::fill_normal(q_noise, seed + 2);
    attnkit::test::fill_normal(k_noise, seed + 3);
    attnkit::test::fill_normal(v, seed + 4);
  }

  template <class Attention>
  void run(Attention const& attn, std::span<float const> lambda, attnkit::run_options run = {}) {
    attnkit::differential_attention(attn, q_signal.cview(), k_signal.cview(), q_noise.cview(),
                                    k_noise.cview(), v.cview(), lambda, o.view(), run);
  }
  template <class Attention>
  attnkit::reference::result reference(Attention const& attn, std::span<float const> lambda) {
    return attnkit::reference::differential_attention(attn, q_signal.cview(), k_signal.cview(),
                                                      q_noise.cview(), k_noise.cview(), v.cview(), lambda);
  }
};

} // namespace

// Each map is within output_tolerance(max|v|) of its reference, so o1 - lambda o2 is within (1 + |lambda|)
// times that; the fp32 multiply and subtract add 2^-23 (1 + |lambda|) max|v|, far below it.
TEST_CASE("differential attention: kernel against the fp64 reference", "[composition][differential]") {
  auto const [signal_heads, noise_heads, kv_heads] = GENERATE(table<std::int64_t, std::int64_t, std::int64_t>(
      {{4, 4, 4}, {4, 4, 2}, {3, 1, 1}, {6, 2, 2}, {8, 2, 1}}));
  auto const [q_len, key_len] = GENERATE(table<std::int64_t, std::int64_t>({{37, 70}, {70, 37}, {1, 129}}));
  INFO("Hs " << signal_heads << " Hn " << noise_heads << " Hkv " << kv_heads << " Sq " << q_len << " Sk "
             << key_len);
  differential_case c(signal_heads, noise_heads, kv_heads, q_len, key_len, 4100);
  std::vector<float> lambda(static_cast<std::size_t>(signal_heads));
  for (std::size_t h = 0; h < lambda.size(); ++h)
    lambda[h] = 0.8f - 0.35f * static_cast<float>(h); // positive, zero-crossing and negative weights
  double const base = attnkit::test::output_tolerance(max_abs(c.v));
  auto const tolerance = [&](std::int64_t h) {
    return (1.0 + std::fabs(lambda[static_cast<std::size_t>(h)])) * base;
  };

  SECTION("causal, one lambda per signal head") {
    causal_attention const attn;
    c.run(attn, lambda);
    check_output(c.reference(attn, lambda), c.o, tolerance);
  }
  SECTION("unmasked, top-left causal, one lambda for all heads") {
    std::vector<float> const shared{0.6f};
    auto const shared_tolerance = [&](std::int64_t) { return 1.6 * base; };
    full_attention const full;
    c.run(full, shared);
    check_output(c.reference(full, shared), c.o, shared_tolerance);
    causal_attention const top_left{{.align = attnkit::alignment::top_left}};
    c.run(top_left, shared);
    check_output(c.reference(top_left, shared), c.o, shared_tolerance);
  }
}

TEST_CASE("differential attention: lambda 0 is the signal map, identical maps cancel exactly",
          "[composition][differential]") {
  differential_case c(6, 2, 2, 45, 80, 4200);
  causal_attention const attn;
  tensor plain(2, 6, 45, 24);
  attn(c.q_signal.cview(), c.k_signal.cview(), c.v.cview(), plain.view());
  std::vector<float> const zero{0.0f}, one{1.0f};
  c.run(attn, zero);
  CHECK(std::memcmp(c.o.data.data(), plain.data.data(), plain.data.size() * sizeof(float)) == 0);

  differential_case same(4, 4, 2, 45, 80, 4300);
  same.q_noise.data = same.q_signal.data;
  same.k_noise.data = same.k_signal.data;
  same.run(attn, one);
  for (float x : same.o.data)
    REQUIRE(x == 0.0f);
}

TEST_CASE("differential attention: results do not depend on the thread count",
          "[composition][differential][threads]") {
  differential_case c(8, 2, 2, 130, 130, 4400);
  std::vector<float> const lambda{0.5f};
  causal_attention const attn;
  c.run(attn, lambda, {.threads = 1});
  std::vector<float> const serial = c.o.data;
  c.run(attn, lambda, {.threads = 2});
  CHECK(std::memcmp(serial.data(), c.o.data.data(), serial.size() * sizeof(float)) == 0);
}

TEST_CASE("differential attention: bad arguments name themselves",
          "[composition][differential][validation]") {
  causal_attention const attn;
  std::vector<float> const lambda{0.5f};
  auto call = [&](differential_case& c, std::span<float const> l) { c.run(attn, l); };

  differential_case uneven(6, 4, 2, 8, 8, 1);
  CHECK_THROWS_WITH(call(uneven, lambda), Contains("attnkit::differential_attention") &&
                                              Contains("q_noise.extent(1) (noise heads) = 4") &&
                                              Contains("divide q_signal.extent(1) (signal heads) = 6"));
  differential_case kv_uneven(6, 3, 2, 8, 8, 1);
  CHECK_THROWS_WITH(call(kv_uneven, lambda), Contains("k_noise.extent(1) (K/V heads) = 2"));

  differential_case c(4, 2, 2, 8, 8, 1);
  std::vector<float> const three{0.1f, 0.2f, 0.3f};
  CHECK_THROWS_WITH(call(c, three), Contains("lambda has 3 values") && Contains("q_signal.extent(1) = 4"));
  std::vector<float> const not_finite{0.1f, 0.2f, std::nanf(""), 0.3f};
  CHECK_THROWS_WITH(call(c, not_finite), Contains("lambda[2] must be finite"));

  tensor short_noise(2, 2, 7, 16);
  CHECK_THROWS_WITH(attnkit::differential_attention(attn, c.q_signal.cview(), c.k_signal.cview(),
                                                    short_noise.cview(), c.k_noise.cview(), c.v.cview(),
                                                    lambda, c.o.view()),
                    Contains("q_noise.extent(2) (seq) = 7") && Contains("q_signal.extent(2) (seq) = 8"));
  tensor wide_keys(2, 2, 8, 17);
  CHECK_THROWS_WITH(attnkit::differential_attention(attn, c.q_signal.cview(), c.k_signal.cview(),
                                                    c.q_noise.cview(), wide_keys.cview(), c.v.cview(), lambda,
                                                    c.o.view()),
                    Contains("k_noise.extent(3) = 17"));
  // o written over q_noise: the signal map would overwrite what the noise map reads.
  tensor shared(2, 4, 8, 24);
  attnkit::tensor_view<float> const o_over_noise{shared.data.data(), {2, 4, 8, 24}};
  attnkit::tensor_view<float const> const noise_in_o{shared.data.data(), {2, 2, 8, 16}};
  CHECK_THROWS_WITH(attnkit::differential_attention(attn, c.q_signal.cview(), c.k_signal.cview(), noise_in_o,
                                                    c.k_noise.cview(), c.v.cview(), lambda, o_over_noise),
                    Contains("o overlaps q_noise"));
}

// Agent values are convex combinations of v (softmax weights), each within output_tolerance(max|v|) of the
// reference; the broadcast averages those errors (convex again) and adds its own, at most
// output_tolerance(max|v_agent|) <= output_tolerance(max|v|): twice the single-call bound.
TEST_CASE("agent attention: kernel against the fp64 reference", "[composition][agent]") {
  auto const n_agents = GENERATE(std::int64_t{1}, std::int64_t{7}, std::int64_t{49});
  auto const [q_heads, kv_heads] = GENERATE(table<std::int64_t, std::int64_t>({{2, 2}, {4, 2}, {3, 1}}));
  INFO("agents " << n_agents << " Hq " << q_heads << " Hkv " << kv_heads);
  std::int64_t const q_len = 65, key_len = 130;
  tensor q(2, q_heads, q_len, 16), agents(2, q_heads, n_agents, 16), k(2, kv_heads, key_len, 16),
      v(2, kv_heads, key_len, 24), o(2, q_heads, q_len, 24);
  attnkit::test::fill_normal(q, 4500);
  attnkit::test::fill_normal(agents, 4501);
  attnkit::test::fill_normal(k, 4502);
  attnkit::test::fill_normal(v, 4503);
  double const tol = 2.0 * attnkit::test::output_tolerance(max_abs(v));
  auto const tolerance = [&](std::int64_t) { return tol; };

  SECTION("one functor for both steps") {
    full_attention const attn;
    attnkit::agent_attention(attn, q.cview(), agents.cview(), k.cview(), v.cview(), o.view());
    check_output(
        attnkit::reference::agent_attention(attn, attn, q.cview(), agents.cview(), k.cview(), v.cview()), o,
        tolerance);
  }
  SECTION("two functors: a sharper aggregation, an ALiBi-biased broadcast") {
    full_attention const aggregate{{.scale = 0.4f}};
    attnkit::attention<attnkit::softmax, attnkit::no_mask, attnkit::alibi> const broadcast;
    attnkit::agent_attention(aggregate, broadcast, q.cview(), agents.cview(), k.cview(), v.cview(), o.view());
    check_output(attnkit::reference::agent_attention(aggregate, broadcast, q.cview(), agents.cview(),
                                                     k.cview(), v.cview()),
                 o, tolerance);
  }
}

TEST_CASE("agent attention: one agent hands every query the same values", "[composition][agent]") {
  tensor q(1, 2, 20, 8), agent(1, 2, 1, 8), k(1, 2, 33, 8), v(1, 2, 33, 8), o(1, 2, 20, 8),
      direct(1, 2, 1, 8);
  attnkit::test::fill_normal(q, 4600);
  attnkit::test::fill_normal(agent, 4601);
  attnkit::test::fill_normal(k, 4602);
  attnkit::test::fill_normal(v, 4603);
  full_attention const attn;
  attnkit::agent_attention(attn, q.cview(), agent.cview(), k.cview(), v.cview(), o.view());
  attn(agent.cview(), k.cview(), v.cview(), direct.view());
  // Softmax over one key is exactly 1 (exp(0) / exp(0)), so each output row is the agent's values.
  for (std::int64_t h = 0; h < 2; ++h)
    for (std::int64_t i = 0; i < 20; ++i)
      for (std::int64_t d = 0; d < 8; ++d)
        REQUIRE(o.at(0, h, i, d) == direct.at(0, h, 0, d));
}

TEST_CASE("agent attention: bad arguments name themselves", "[composition][agent][validation]") {
  full_attention const attn;
  tensor q(1, 4, 10, 16), k(1, 2, 12, 16), v(1, 2, 12, 24), o(1, 4, 10, 24);
  tensor wrong_heads(1, 2, 5, 16), wrong_dim(1, 4, 5, 8), none(1, 4, 0, 16);
  auto call = [&](tensor& agents) {
    attnkit::agent_attention(attn, q.cview(), agents.cview(), k.cview(), v.cview(), o.view());
  };
  CHECK_THROWS_WITH(call(wrong_heads), Contains("attnkit::agent_attention") &&
                                           Contains("agents.extent(1) (heads) = 2") &&
                                           Contains("q.extent(1) (heads) = 4"));
  CHECK_THROWS_WITH(call(wrong_dim), Contains("agents.extent(3) (dim) = 8"));
  CHECK_THROWS_WITH(call(none), Contains("agents.extent(2) (agent tokens) must be >= 1, got 0"));
  std::vector<float> big(1 * 4 * 10 * 24);
  attnkit::tensor_view<float> const o_big{big.data(), {1, 4, 10, 24}};
  attnkit::tensor_view<float const> const agents_in_o{big.data(), {1, 4, 5, 16}};
  CHECK_THROWS_WITH(attnkit::agent_attention(attn, q.cview(), agents_in_o, k.cview(), v.cview(), o_big),
                    Contains("o overlaps agents"));
}

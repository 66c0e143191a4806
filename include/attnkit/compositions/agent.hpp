#pragma once
/// \file
/// Agent attention ("Agent Attention: On the Integration of Softmax and Linear Attention", Han et al.,
/// ECCV 2024): a small set of n agent tokens first gathers the values (agent aggregation), then hands them
/// to every query (agent broadcast):
///
///     v_agent = aggregate(agents, k, v)        agents as queries: [B, Hq, n, Dv]
///     o       = broadcast(q, agents, v_agent)  agents as keys
///
/// Both steps are ordinary attention calls, so the cost is O(N n D) instead of O(N^2 D). The paper uses
/// softmax without a mask in both steps and pools the queries to get the agents; its agent bias is an
/// additive_bias modifier on either functor. The two functors may differ (policies, scale).

#include "attnkit/options.hpp"
#include "attnkit/tensor_view.hpp"
#include "attnkit/validate.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace attnkit {

/// o = broadcast(q, agents, aggregate(agents, k, v)).
///   q [B, Hq, Sq, D], agents [B, Hq, n, D] (one set per query head), k [B, Hkv, Sk, D], v [B, Hkv, Sk, Dv],
///   o [B, Hq, Sq, Dv]. `aggregate` and `broadcast` are attnkit::attention functors.
/// Allocates the [B, Hq, n, Dv] agent values. Throws std::invalid_argument naming the argument on a bad
/// shape, stride or pointer (the aggregation's checks name agents as "q", the broadcast's name it "k").
template <class Aggregate, class Broadcast>
void agent_attention(Aggregate const& aggregate, Broadcast const& broadcast, tensor_view<float const> q,
                     tensor_view<float const> agents, tensor_view<float const> k, tensor_view<float const> v,
                     tensor_view<float> o, run_options run = {}) {
  constexpr char const* where = "attnkit::agent_attention";
  detail::check_view(q, "q", where);
  detail::check_view(agents, "agents", where);
  detail::check_view(k, "k", where);
  detail::check_view(v, "v", where);
  detail::check_output(o, "o", where);
  for (std::size_t d : {0u, 1u, 3u})
    detail::check_equal(agents.extent(d), q.extent(d), detail::dim_label("agents", d),
                        detail::dim_label("q", d), where);
  if (agents.extent(2) <= 0)
    detail::fail("agents.extent(2) (agent tokens) must be >= 1, got " + std::to_string(agents.extent(2)),
                 where);
  detail::check_disjoint(o, "o", q, "q", where);
  detail::check_disjoint(o, "o", agents, "agents", where);
  detail::check_disjoint(o, "o", k, "k", where);
  detail::check_disjoint(o, "o", v, "v", where);

  std::int64_t const batch = agents.extent(0), heads = agents.extent(1), n_agents = agents.extent(2);
  std::vector<float> agent_values(static_cast<std::size_t>(batch * heads * n_agents * v.extent(3)));
  auto const values = bhsd(agent_values.data(), batch, heads, n_agents, v.extent(3));
  aggregate(agents, k, v, values, run);
  broadcast(q, agents, tensor_view<float const>(values), o, run);
}

/// Agent attention with one functor for both steps (the paper's form: softmax, no mask, 1 / sqrt(D)).
template <class Attention>
void agent_attention(Attention const& attn, tensor_view<float const> q, tensor_view<float const> agents,
                     tensor_view<float const> k, tensor_view<float const> v, tensor_view<float> o,
                     run_options run = {}) {
  agent_attention(attn, attn, q, agents, k, v, o, run);
}

} // namespace attnkit

#pragma once
/// \file
/// The oracle for the compositions (compositions/differential.hpp, compositions/agent.hpp), in double:
/// built from reference::attention, with no fp32 intermediate.

#include "attnkit/reference/reference_attention.hpp"
#include "attnkit/tensor_view.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace attnkit::reference {

/// What differential_attention computes, in double. The result has no LSE (`lse` is empty).
template <class Attention>
result differential_attention(Attention const& attn, tensor_view<float const> q_signal,
                              tensor_view<float const> k_signal, tensor_view<float const> q_noise,
                              tensor_view<float const> k_noise, tensor_view<float const> v,
                              std::span<float const> lambda) {
  result r = attention(attn, q_signal, k_signal, v);
  result const noise = attention(attn, q_noise, k_noise, v);
  std::int64_t const group = r.heads / noise.heads;
  for (std::int64_t b = 0; b < r.batch; ++b)
    for (std::int64_t h = 0; h < r.heads; ++h) {
      double const weight = lambda[lambda.size() == 1 ? 0 : static_cast<std::size_t>(h)];
      for (std::int64_t i = 0; i < r.q_len; ++i)
        for (std::int64_t d = 0; d < r.v_dim; ++d)
          r.o(b, h, i, d) -= weight * noise.o(b, h / group, i, d);
    }
  r.lse.clear();
  return r;
}

/// What agent_attention computes, in double. The broadcast's weights come from a reference call whose
/// values are the identity (its output row i is weight row i), so the agent values never pass through
/// float. The result has no LSE (`lse` is empty).
template <class Aggregate, class Broadcast>
result agent_attention(Aggregate const& aggregate, Broadcast const& broadcast, tensor_view<float const> q,
                       tensor_view<float const> agents, tensor_view<float const> k,
                       tensor_view<float const> v) {
  std::int64_t const batch = q.extent(0), heads = q.extent(1), q_len = q.extent(2), n = agents.extent(2);
  result const gathered = attention(aggregate, agents, k, v); // [B, Hq, n, Dv]
  std::vector<float> identity(static_cast<std::size_t>(batch * heads * n * n), 0.0f);
  for (std::int64_t bh = 0; bh < batch * heads; ++bh)
    for (std::int64_t a = 0; a < n; ++a)
      identity[static_cast<std::size_t>((bh * n + a) * n + a)] = 1.0f;
  result const weights = attention(broadcast, q, agents, bhsd(identity.data(), batch, heads, n, n));

  std::int64_t const v_dim = gathered.v_dim;
  result r{batch,
           heads,
           q_len,
           v_dim,
           std::vector<double>(static_cast<std::size_t>(batch * heads * q_len * v_dim)),
           {},
           {}};
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t i = 0; i < q_len; ++i)
        for (std::int64_t a = 0; a < n; ++a) {
          double const w = weights.o(b, h, i, a);
          for (std::int64_t d = 0; d < v_dim; ++d)
            r.o(b, h, i, d) += w * gathered.o(b, h, a, d);
        }
  return r;
}

} // namespace attnkit::reference

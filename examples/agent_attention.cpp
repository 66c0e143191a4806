// Agent attention ("Agent Attention: On the Integration of Softmax and Linear Attention", Han et al.,
// ECCV 2024): n agent tokens, pooled from the queries, first gather the values (agent aggregation), then
// pass them on to every query (agent broadcast). Two softmax attentions of N x n instead of one of N x N:
//     v_agent = softmax(A K^T / sqrt(d)) V,   o = softmax(Q A^T / sqrt(d)) v_agent
// Here: a 32 x 32 feature map (N = 1024 tokens), 4 heads, 64 agents pooled from 4 x 4 patches of Q, as
// the paper does for vision. Its agent bias would be an attnkit::additive_bias on either functor.
#include <attnkit/attnkit.hpp>

#include <cstdio>
#include <random>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const side = 32, tokens = side * side, heads = 4, dim = 32, pool = 4, agents_side = side / pool;
  int const n_agents = agents_side * agents_side;
  std::mt19937 gen(11);
  std::normal_distribution<float> normal;
  std::vector<float> q(std::size_t(heads) * tokens * dim), k(q.size()), v(q.size()), o(q.size());
  for (auto* t : {&q, &k, &v})
    for (float& e : *t)
      e = normal(gen);

  // Agents: the mean of each head's queries over every 4 x 4 patch of the map, [1, heads, 64, dim].
  std::vector<float> agents(std::size_t(heads) * n_agents * dim, 0.0f);
  for (int h = 0; h < heads; ++h)
    for (int t = 0; t < tokens; ++t) {
      int const a = (t / side / pool) * agents_side + (t % side) / pool;
      for (int d = 0; d < dim; ++d)
        agents[(std::size_t(h) * n_agents + a) * dim + d] +=
            q[(std::size_t(h) * tokens + t) * dim + d] / float(pool * pool);
    }

  attnkit::attention<attnkit::softmax> const attn; // unmasked, scale 1 / sqrt(dim), for both steps
  auto const view = [&](std::vector<float>& x, int seq) {
    return attnkit::bhsd(x.data(), 1, heads, seq, dim);
  };
  attnkit::agent_attention(attn, view(q, tokens), view(agents, n_agents), view(k, tokens), view(v, tokens),
                           view(o, tokens));

  // The same two steps as plain calls: the composition is exactly these, with the buffer managed for you.
  std::vector<float> agent_values(agents.size()), spelled_out(o.size());
  attn(view(agents, n_agents), view(k, tokens), view(v, tokens), view(agent_values, n_agents));
  attn(view(q, tokens), view(agents, n_agents), view(agent_values, n_agents), view(spelled_out, tokens));
  int wrong = 0;
  for (std::size_t i = 0; i < o.size(); ++i)
    wrong += o[i] != spelled_out[i];
  std::printf("%d tokens, %d agents: score work %d x %d per head instead of %d x %d; %d outputs differ\n",
              tokens, n_agents, 2 * tokens, n_agents, tokens, tokens, wrong);
  return wrong != 0;
}

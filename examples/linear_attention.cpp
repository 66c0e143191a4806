// Linear attention ("Transformers are RNNs", Katharopoulos et al. 2020): the softmax weight exp(q.k) is
// replaced by phi(q).phi(k) with phi(x) = elu(x) + 1, so o_i = phi(q_i) S_i / (phi(q_i).z_i + eps) with
// S_i = sum_{j <= i} phi(k_j)^T v_j and z_i = sum_{j <= i} phi(k_j): a state of D x Dv per head instead of a
// KV cache that grows with the sequence. The causal call uses Lightning Attention-2's chunks (quadratic
// inside a chunk of 64 tokens, the state across chunks); an optional per-head decay lambda weighs key j by
// lambda^(i - j), as in RetNet and Lightning Attention.
//
// This program runs one causal call over 96 tokens, then the same tokens again as a prompt of 64 tokens
// (prefill returns the state) continued token by token, and checks that both give the same outputs. A decode
// loop calls the functor with the state, as a softmax decoder calls it with its KV cache: one token runs the
// recurrence (step, O(D Dv) per head), several run the chunked kernel (prefill).
#include <attnkit/attnkit.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  attnkit::print_isa_report();
  int const heads = 2, seq = 96, prompt = 64, dim = 32;
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(std::size_t(heads) * seq * dim), k(q.size()), v(q.size());
  for (auto* t : {&q, &k, &v})
    for (float& x : *t)
      x = normal(gen);
  auto view = [&](std::vector<float>& t, int first,
                  int count) { // tokens [first, first + count) of [1, H, S, D]
    return attnkit::tensor_view<float>(t.data() + std::size_t(first) * dim, {1, heads, count, dim},
                                       {heads * seq * dim, seq * dim, dim, 1});
  };

  // Causal linear attention with elu + 1, a decay of 0.95 on head 0 and none on head 1.
  attnkit::attention<attnkit::linear<attnkit::elu1>, attnkit::causal> const attn(
      {}, attnkit::linear<attnkit::elu1>({.decay = {0.95f, 1.0f}}));

  // ---- One call over the whole sequence ----
  std::vector<float> whole(q.size());
  attn(view(q, 0, seq), view(k, 0, seq), view(v, 0, seq), view(whole, 0, seq));

  // ---- The prompt, then one token at a time ----
  std::vector<float> pieces(q.size());
  attnkit::linear_state state = attnkit::prefill(attn, view(q, 0, prompt), view(k, 0, prompt),
                                                 view(v, 0, prompt), view(pieces, 0, prompt));
  for (int t = prompt; t < seq; ++t) // the decode loop: attnkit::step for each token
    attn(view(q, t, 1), view(k, t, 1), view(v, t, 1), view(pieces, t, 1), state);

  // Both are fp32 sums of the same terms in different orders: they agree to rounding (outputs are weighted
  // means of values of order 1).
  float worst = 0.0f;
  for (std::size_t i = 0; i < whole.size(); ++i)
    worst = std::fmax(worst, std::fabs(whole[i] - pieces[i]));
  std::printf("state after %lld tokens; token %d, head 0: one call %.6f, prefill + steps %.6f\n",
              static_cast<long long>(state.position()), seq - 1, whole[std::size_t(seq - 1) * dim],
              pieces[std::size_t(seq - 1) * dim]);
  std::printf("largest difference over all outputs: %.2e\n", static_cast<double>(worst));
  return worst <= 1e-4f ? 0 : 1;
}
